"""Where a recording holds speech: Silero VAD (shipped inside faster-whisper), and windows of it.

The detector judges speech, not loudness, so it wants a level-normalised recording
(`modules.conditioning.normalise_level`). Its spans become windows of at most 30 s, Whisper's
input, cut only in the pauses between spans, so no sentence is cut at a fixed mark.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WINDOW_SECONDS = 30.0
"""Whisper hears at most this much at once."""


@dataclass(frozen=True)
class Span:
    """Samples [start, end) of a recording."""

    start: int
    end: int


def speech_spans(samples: np.ndarray, rate: int) -> list[Span]:
    """Spans of speech in 16 kHz samples [N], each padded and at most `WINDOW_SECONDS` long.

    faster-whisper's defaults for its own VAD filter (threshold 0.5, pauses of 2 s separate
    spans, 0.4 s of padding); a span that would outgrow a window is split at its last pause
    of 0.1 s or more.
    """
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(max_speech_duration_s=WINDOW_SECONDS)
    return [
        Span(part["start"], part["end"])
        for part in get_speech_timestamps(samples, options, sampling_rate=rate)
    ]


def windows(spans: list[Span], rate: int) -> list[Span]:
    """Consecutive spans joined while the join lasts at most `WINDOW_SECONDS`."""
    limit = int(WINDOW_SECONDS * rate)
    joined: list[Span] = []
    for span in spans:
        if joined and span.end - joined[-1].start <= limit:
            joined[-1] = Span(joined[-1].start, span.end)
        else:
            joined.append(span)
    return joined
