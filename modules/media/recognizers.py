"""Whisper speech recognisers: CTranslate2 through faster-whisper, or transformers.

Both take 16 kHz mono samples [N] and windows of at most 30 s that hold speech, cut in
pauses (`modules.media.vad.windows`), and yield passages (the text token ids of one stretch of
speech) as they are decoded; they know nothing of regions. A CTranslate2 Whisper (the
embedded tiny.en, or a folder holding a ``model.bin``) runs on faster-whisper, the engine it
was made for, greedy, leaving out segments Whisper itself judges empty (no-speech
probability over 0.6 with mean log-probability under -1). Any other spec (a Hugging Face
id, a transformers folder) loads in transformers and streams token by token.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from modules.generation import stream_generate
from modules.media.audio import SPEECH_RATE
from modules.media.vad import Span
from modules.models import EMBEDDED_PREFIX, embedded, load_speech_recognizer

CT2_MODEL_FILE = "model.bin"
log = logging.getLogger("cortex.speech")


class Recognizer(Protocol):
    """Turns windows of speech into text token ids."""

    tokenizer: Any
    """Decodes token ids: ``decode(ids, skip_special_tokens=True) -> str``."""

    def passages(self, samples: np.ndarray, windows: list[Span]) -> Iterator[Iterable[int]]:
        """The text token ids of each stretch of speech, in order."""
        ...


class FasterWhisper:
    """A CTranslate2 Whisper model folder on faster-whisper.

    Args:
        folder: Holds ``model.bin``, ``config.json`` and ``tokenizer.json``.
        device: CUDA when given one and CTranslate2 sees a GPU, else the CPU.
        threads: CPU threads for CTranslate2.
    """

    def __init__(self, folder: Path, device: torch.device, threads: int) -> None:
        self.model = _whisper_model(folder, device, threads)
        self.tokenizer = self.model.hf_tokenizer
        self._text_end = self.tokenizer.token_to_id("<|endoftext|>")

    def passages(self, samples: np.ndarray, windows: list[Span]) -> Iterator[list[int]]:
        rate = self.model.feature_extractor.sampling_rate
        clips = [edge / rate for window in windows for edge in (window.start, window.end)]
        # Greedy without fallback to sampling: the spans hold speech (the VAD said so), and
        # speech that repeats itself is not a decoding failure to resample. Each window is
        # heard without the previous one's text as a prompt, which can make tiny.en repeat
        # that text instead of hearing the new words.
        segments, _ = self.model.transcribe(
            samples,
            beam_size=1,
            temperature=0.0,
            condition_on_previous_text=False,
            clip_timestamps=clips,
        )
        for segment in segments:
            yield [token for token in segment.tokens if token < self._text_end]


def _whisper_model(folder: Path, device: torch.device, threads: int) -> Any:
    """A faster-whisper `WhisperModel` on the GPU when given one and CTranslate2 can use it
    (CUDA's libraries load at the first decode, so one second of silence is decoded here),
    else on the CPU in float32."""
    import ctranslate2
    from faster_whisper import WhisperModel

    if device.type == "cuda" and ctranslate2.get_cuda_device_count() > 0:
        try:
            model = WhisperModel(str(folder), device="cuda", device_index=device.index or 0)
            list(model.transcribe(np.zeros(SPEECH_RATE, np.float32), beam_size=1)[0])
            return model
        except (RuntimeError, OSError) as error:
            log.warning("CTranslate2 cannot use the GPU (%s); Whisper runs on the CPU", error)
    return WhisperModel(str(folder), device="cpu", compute_type="float32", cpu_threads=threads)


class TransformersWhisper:
    """A transformers Whisper-style model, by Hugging Face id or folder.

    Args:
        spec: What `modules.models.load_speech_recognizer` takes.
        device: Where the model runs.
    """

    def __init__(self, spec: str, device: torch.device) -> None:
        self.processor, model = load_speech_recognizer(spec)
        self.model = model.to(device)
        self.tokenizer = self.processor.tokenizer
        self._special = set(self.tokenizer.all_special_ids)

    def passages(self, samples: np.ndarray, windows: list[Span]) -> Iterator[Iterator[int]]:
        for window in windows:
            features = self.processor(
                samples[window.start : window.end], sampling_rate=SPEECH_RATE, return_tensors="pt"
            )
            yield stream_generate(
                self.model,
                self._special,
                input_features=features.input_features.to(self.model.device),
            )


def recognizer(spec: str, device: torch.device, threads: int) -> Recognizer:
    """The recogniser for a model spec: faster-whisper for a CTranslate2 Whisper, else
    transformers.

    Raises:
        ModelNotFoundError: The spec names nothing that can be loaded.
    """
    if spec.startswith(EMBEDDED_PREFIX) and embedded(spec).source == "ct2-whisper":
        return FasterWhisper(embedded(spec).folder(), device, threads)
    folder = Path(spec).expanduser()
    if (folder / CT2_MODEL_FILE).is_file():
        return FasterWhisper(folder, device, threads)
    return TransformersWhisper(spec, device)
