"""Audio files in and out: read any WAV/FLAC/OGG as 16 kHz mono, detect silence, write WAV.

Resampling uses a polyphase filter with the exact ratio of the two rates (divided by their
gcd); an approximate ratio makes Whisper hear things that were never said.
"""

from __future__ import annotations

import wave
from math import gcd
from pathlib import Path

import numpy as np

from modules.errors import BadRequestError

SPEECH_RATE = 16_000
SILENCE_RMS = 1e-3
"""Clips quieter than this (RMS of samples in [-1, 1]) hold no speech worth transcribing."""
MAX_SECONDS = 3600


def read_audio(path: str | None, rate: int = SPEECH_RATE) -> np.ndarray:
    """Reads an audio file as mono float32 samples at `rate`, [N].

    Raises:
        BadRequestError: No path, no file, an empty file, not a readable WAV/FLAC/OGG, or
            longer than an hour.
    """
    import soundfile

    if not path:
        raise BadRequestError("no recording was attached; give one with --audio PATH")
    file = Path(path).expanduser()
    if not file.is_file():
        raise BadRequestError(f"no audio file at {file}")
    if file.stat().st_size == 0:
        raise BadRequestError(f"{file} is empty (0 bytes)")
    try:
        info = soundfile.info(str(file))
        if info.duration > MAX_SECONDS:
            raise BadRequestError(
                f"{file} lasts {info.duration / 60:.0f} min; the limit is an hour"
            )
        samples, source_rate = soundfile.read(str(file), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, ValueError) as error:
        raise BadRequestError(
            f"{file} is not a readable WAV, FLAC or OGG recording ({error})"
        ) from None
    return resample(samples.mean(axis=1), source_rate, rate)


def resample(samples: np.ndarray, source_rate: int, rate: int) -> np.ndarray:
    """Polyphase resampling by the exact ratio `rate / source_rate`."""
    if source_rate == rate:
        return samples.astype(np.float32)
    from scipy.signal import resample_poly

    common = gcd(source_rate, rate)
    return resample_poly(samples, rate // common, source_rate // common).astype(np.float32)


def is_silent(samples: np.ndarray) -> bool:
    """Whether a clip holds nothing but silence (or near it)."""
    return samples.size == 0 or float(np.sqrt(np.mean(np.square(samples)))) < SILENCE_RMS


def write_wav(path: str | Path, samples: np.ndarray, rate: int) -> Path:
    """Writes 16-bit mono PCM; `samples` are int16, or floats in [-1, 1]."""
    if samples.dtype != np.int16:
        samples = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return target
