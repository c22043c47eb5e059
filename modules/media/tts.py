"""Text to speech: eSpeak NG through ctypes (the embedded default), or a transformers model.

eSpeak's library and voice data come from the `espeakng-loader` package. It keeps one global
state per process, so one `Espeak` serves a process and a lock serialises its calls.
`TransformersVoice` runs a text-to-waveform model (VITS, e.g. MMS-TTS) named by a Hugging Face
id or folder. Both give int16 samples at their `rate`.
"""

from __future__ import annotations

import ctypes
import threading
from pathlib import Path

import numpy as np
import torch

from modules.errors import ModelNotFoundError
from modules.models import load_text_to_speech

_SYNCHRONOUS = 2
_UTF8 = 1
_RATE = 1
_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class Espeak:
    """One eSpeak NG engine.

    Args:
        voice: An eSpeak voice name, e.g. ``en-us`` or ``en-us+f3``.
        words_per_minute: Speaking rate; eSpeak's default is 175.

    Raises:
        ModelNotFoundError: No eSpeak NG library was found, or the voice is unknown.
    """

    def __init__(self, voice: str = "en-us", words_per_minute: int = 175) -> None:
        try:
            import espeakng_loader
        except ImportError:
            raise ModelNotFoundError(
                "eSpeak NG is missing: pip install --no-deps espeakng-loader"
            ) from None
        self._lib = ctypes.CDLL(espeakng_loader.get_library_path())
        data = Path(espeakng_loader.get_data_path()).parent
        self._lib.espeak_Initialize.restype = ctypes.c_int
        self.rate = self._lib.espeak_Initialize(_SYNCHRONOUS, 0, str(data).encode(), 0)
        if self.rate <= 0:
            raise ModelNotFoundError(f"eSpeak NG could not start with its data in {data}")
        self._chunks: list[np.ndarray] = []
        self._callback = _CALLBACK(self._collect)  # kept alive as long as the engine
        self._lib.espeak_SetSynthCallback(self._callback)
        if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise ModelNotFoundError(f"eSpeak NG has no voice {voice!r}")
        self._lib.espeak_SetParameter(_RATE, words_per_minute, 0)
        self._lock = threading.Lock()

    def synthesize(self, text: str) -> np.ndarray:
        """The speech for `text` as int16 samples at `self.rate`, [N]."""
        encoded = text.encode() + b"\0"
        with self._lock:
            self._chunks = []
            self._lib.espeak_Synth(
                encoded, ctypes.c_size_t(len(encoded)), 0, 0, 0, _UTF8, None, None
            )
            self._lib.espeak_Synchronize()
            chunks, self._chunks = self._chunks, []
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)

    def _collect(self, samples: ctypes.Array, count: int, events: int) -> int:
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(samples, shape=(count,)).copy())
        return 0


ESPEAK_PREFIX = "espeak:"


class TransformersVoice:
    """A transformers text-to-waveform model as a voice.

    Args:
        spec: A model spec (Hugging Face id or folder) of a text-to-waveform model.
        device: Where the model runs.
    """

    def __init__(self, spec: str, device: torch.device | str = "cpu") -> None:
        self.tokenizer, model = load_text_to_speech(spec)
        self.model = model.to(device)
        self.rate = int(self.model.config.sampling_rate)

    @torch.inference_mode()
    def synthesize(self, text: str) -> np.ndarray:
        inputs = self.tokenizer(text, return_tensors="pt").to(self.model.device)
        waveform = self.model(**inputs).waveform[0].float().cpu().numpy()  # [N]
        return (np.clip(waveform, -1.0, 1.0) * 32767).astype(np.int16)


def voice(spec: str, device: torch.device | str = "cpu") -> Espeak | TransformersVoice:
    """The voice a spec names: ``espeak:VOICE`` or a transformers model id/folder."""
    if spec.startswith(ESPEAK_PREFIX):
        return Espeak(spec.removeprefix(ESPEAK_PREFIX) or "en-us")
    return TransformersVoice(spec, device)
