"""The speech region: hears (Whisper, speech to text) and speaks (eSpeak NG, text to speech).

A subtask with an `audio_path` is transcribed: the recording is read as 16 kHz mono (see
`modules.media.audio`), brought to a level, and a voice-activity detector finds its speech (see
`modules.media.vad`); Whisper hears only that, in windows of at most 30 s cut in pauses (see
`modules.media.recognizers`), and its tokens stream as each passage is decoded. A recording without
speech (silence, hiss, music) gives an empty transcript and says no speech was found, rather
than a hallucinated sentence; what was off in the file (cut short, NaN samples, channels
opposite in phase) is in `notes`.
The voice is eSpeak NG, or a transformers text-to-speech model (option ``voice``).
A subtask with a `speak_stream` makes the region follow that topic's token stream
(a turn's answer) and speak each sentence the moment it is complete, while the rest is still
being decoded; when the stream ends it writes the WAV and publishes a ``spoken`` Event. Any
other subtask is spoken, sentence by sentence, into a WAV file (`output_path`, or a temporary
file), and each sentence streams as it is spoken.
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bus.protocol import Event, Subtask, Token
from bus.tokenbus import Delivery
from modules.engines import Piece, TextAssembler
from modules.errors import BadRequestError
from modules.media.audio import read_recording, write_wav
from modules.media.conditioning import normalise_level
from modules.media.recognizers import Recognizer, recognizer
from modules.media.tts import Espeak, TransformersVoice, voice
from modules.media.vad import speech_spans, windows
from modules.region import Region

log = logging.getLogger("cortex.speech")
NO_SPEECH = "No speech was found in the recording."
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"\w")


def sentences(text: str) -> list[str]:
    """Splits text at sentence ends."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


@dataclass
class Following:
    """A token stream being spoken as it arrives."""

    turn_id: str
    target: str
    pending: str = ""
    audio: list[np.ndarray] = field(default_factory=list)


class SpeechRegion(Region):
    """Transcribes recordings and speaks text."""

    kind = "speech"
    description = "Read text aloud, speak it, or transcribe recorded audio."
    watches = ("turn.*",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recognizer: Recognizer | None = None
        self.voice: Espeak | TransformersVoice | None = None
        self.following: dict[str, Following] = {}

    def setup(self) -> None:
        if self.device.type == "cpu":
            torch.set_num_threads(self.settings.placement.threads)
        self.recognizer = recognizer(
            self.settings.model, self.device, self.settings.placement.threads
        )
        self.voice = voice(self.settings.options.get("voice", "espeak:en-us"), self.device)

    def handle(self, subtask: Subtask) -> Generator[Piece, None, dict[str, Any]]:
        if subtask.audio_path:
            return (yield from self.transcribe(subtask.audio_path))
        if subtask.speak_stream:
            if not subtask.output_path:
                raise BadRequestError("say where to write the speech: set output_path")
            self.following[subtask.speak_stream] = Following(subtask.turn_id, subtask.output_path)
            return {"following": subtask.speak_stream}
        text = " ".join(subtask.inputs.values()) or subtask.instruction
        target = subtask.output_path or str(
            Path(tempfile.gettempdir())
            / "cortex-speech"
            / f"{subtask.turn_id}-{subtask.subtask_id}.wav"
        )
        return (yield from self.speak(text, target))

    def transcribe(self, path: str) -> Generator[Piece, None, dict[str, Any]]:
        """Streams the transcript of a recording, passage by passage, token by token.

        Returns:
            ``text``, ``no_speech``, ``note`` (when no speech was found) and ``notes`` (what
            was off in the file, when anything was).

        Raises:
            BadRequestError: The file cannot be read (see `modules.media.audio.read_recording`).
        """
        assert self.recognizer is not None, "SpeechRegion.setup() was not called"
        recording = read_recording(path)
        for note in recording.notes:
            log.warning("%s: %s", path, note)
        samples = normalise_level(recording.samples)
        spoken = windows(samples, speech_spans(samples, recording.rate), recording.rate)
        heard: list[str] = []
        for passage in self.recognizer.passages(samples, spoken) if spoken else ():
            words = yield from self._words(passage, first=not heard)
            if words:
                heard.append(words)
        result: dict[str, Any] = {"text": " ".join(heard), "no_speech": not heard}
        if not heard:
            result["note"] = NO_SPEECH
        if recording.notes:
            result["notes"] = list(recording.notes)
        return result

    def _words(self, token_ids: Iterable[int], first: bool) -> Generator[Piece, None, str]:
        """Streams one passage's pieces once it holds a word; returns its text, or "" if it
        held none (a lone "." heard in music is not speech)."""
        assert self.recognizer is not None
        assembler = TextAssembler(self.recognizer.tokenizer)
        held: list[Piece] = []
        for token_id in token_ids:
            text = assembler.add(token_id)
            if text and assembler.emitted == text:  # the passage's first characters
                text = ("" if first else " ") + text.lstrip()
            held.append(Piece(token_id, text))
            if _WORD.search(assembler.emitted):
                yield from held
                held.clear()
        return assembler.emitted.strip() if _WORD.search(assembler.emitted) else ""

    def observe(self, delivery: Delivery) -> Iterator[Event]:
        """Speaks a followed stream's sentences as they complete; reports the file at its end."""
        follow = self.following.get(delivery.topic)
        token = delivery.message
        if follow is None or not isinstance(token, Token) or self.voice is None:
            return
        follow.pending += token.text
        *complete, follow.pending = _SENTENCE_END.split(follow.pending)
        if token.final:
            complete.append(follow.pending)
        for sentence in (s.strip() for s in complete):
            if sentence:
                follow.audio.append(self.voice.synthesize(sentence))
        if token.final:
            del self.following[delivery.topic]
            samples = np.concatenate(follow.audio) if follow.audio else np.zeros(0, np.int16)
            path = write_wav(follow.target, samples, self.voice.rate)
            seconds = round(len(samples) / self.voice.rate, 2)
            yield Event(
                code="spoken",
                source=self.name,
                detail=f"spoke {seconds:.1f} s of {delivery.topic} to {path}",
                data={"turn_id": follow.turn_id, "wav": str(path), "seconds": seconds},
            )

    def speak(self, text: str, target: str) -> Generator[Piece, None, dict[str, Any]]:
        """Speaks text into a WAV file, streaming each sentence as it is synthesised."""
        assert self.voice is not None, "SpeechRegion.setup() was not called"
        parts = sentences(text)
        if not parts:
            raise BadRequestError("there is nothing to say; give some text")
        audio = []
        for index, sentence in enumerate(parts):
            audio.append(self.voice.synthesize(sentence))
            yield Piece(index, sentence + (" " if index < len(parts) - 1 else ""))
        samples = np.concatenate(audio)
        path = write_wav(target, samples, self.voice.rate)
        return {"wav": str(path), "seconds": round(len(samples) / self.voice.rate, 2)}
