"""Where a recording holds speech: Silero VAD (shipped inside faster-whisper), and windows of it.

The detector judges speech, not loudness, so it wants a level-normalised recording
(`modules.media.conditioning.normalise_level`). For an engine that hears 30 s at a time, the spans
become windows of at most 30 s cut only in pauses, so no sentence is cut at a fixed mark.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WINDOW_SECONDS = 30.0
"""Whisper hears at most this much at once."""
_FRAME = 512
"""Samples per Silero VAD decision (32 ms at 16 kHz)."""


@dataclass(frozen=True)
class Span:
    """Samples [start, end) of a recording."""

    start: int
    end: int


def speech_spans(samples: np.ndarray, rate: int) -> list[Span]:
    """Spans of speech in 16 kHz samples [N], padded.

    faster-whisper's defaults for its own VAD filter: threshold 0.5, pauses of 2 s separate
    spans, 0.4 s of padding.
    """
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    return [
        Span(part["start"], part["end"])
        for part in get_speech_timestamps(samples, VadOptions(), sampling_rate=rate)
    ]


def windows(samples: np.ndarray, spans: list[Span], rate: int) -> list[Span]:
    """Spans as windows of at most `WINDOW_SECONDS`: a longer span cut at its deepest pauses
    (`cut_at_pauses`), then consecutive spans joined while the join fits in a window."""
    limit = int(WINDOW_SECONDS * rate)
    pieces: list[Span] = []
    for span in spans:
        long = span.end - span.start > limit
        pieces += cut_at_pauses(samples, span, limit) if long else [span]
    joined: list[Span] = []
    for span in pieces:
        if joined and span.end - joined[-1].start <= limit:
            joined[-1] = Span(joined[-1].start, span.end)
        else:
            joined.append(span)
    return joined


def cut_at_pauses(samples: np.ndarray, span: Span, limit: int) -> list[Span]:
    """`span` cut into pieces of at most `limit` samples, each cut where the detector is
    surest of silence (speech probability averaged over 0.16 s) in the last third of a piece.
    """
    from faster_whisper.vad import get_vad_model

    audio = samples[span.start : span.end]
    probability = get_vad_model()(np.pad(audio, (0, -len(audio) % _FRAME)))  # [frames]
    smooth = np.convolve(probability, np.ones(5) / 5, mode="same")
    longest = limit // _FRAME
    cuts, start = [0], 0
    while len(audio) - start * _FRAME > limit:
        low = start + longest * 2 // 3
        start = low + int(np.argmin(smooth[low : start + longest]))
        cuts.append(start)
    edges = [span.start + cut * _FRAME for cut in cuts] + [span.end]
    return [Span(a, b) for a, b in zip(edges, edges[1:], strict=False)]
