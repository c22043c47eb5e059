"""Audio files in and out: read a recording as 16 kHz mono with notes on what was off, write WAV.

WAV, FLAC, OGG and MP3 are read by libsndfile (`soundfile`); M4A/AAC and other containers
phones and browsers record in are read by FFmpeg through PyAV (`av`). Reading checks the file
against its own header (a WAV cut short says so in a note), clears NaN and infinite samples,
removes each channel's DC offset and mixes channels so that opposite phases do not cancel (see
`modules.media.conditioning`). Resampling uses a polyphase filter with the exact ratio of the two
rates (divided by their gcd); an approximate ratio makes Whisper hear things never said.
"""

from __future__ import annotations

import struct
import wave
from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np

from modules.errors import BadRequestError
from modules.media.conditioning import finite_samples, mix_channels
from modules.media.formats import RECORDING_FORMATS

SPEECH_RATE = 16_000
MAX_SECONDS = 3600
BLOCK_FRAMES = 16_384
"""Frames read at a time: damage in a file loses at most the block it falls in."""
PYAV_INSTALL = "pip install av"


@dataclass(frozen=True)
class Recording:
    """A recording as read: mono float32 samples at `rate` [N], and notes on what was off."""

    samples: np.ndarray
    rate: int
    notes: tuple[str, ...] = ()


def read_audio(path: str | None, rate: int = SPEECH_RATE) -> np.ndarray:
    """Reads an audio file as one channel of float32 samples at `rate`, [N]; what was off in
    the file is dropped (see `read_recording`).

    Raises:
        BadRequestError: See `read_recording`.
    """
    return read_recording(path, rate).samples


def read_recording(path: str | None, rate: int = SPEECH_RATE) -> Recording:
    """Reads an audio file as one channel of float32 samples at `rate`, with notes on what
    was off in it.

    Raises:
        BadRequestError: No path, no file, an empty file, not a readable recording (the
            message names PyAV when a format needs it and it is missing), longer than an
            hour, or every sample NaN or infinite.
    """
    if not path:
        raise BadRequestError("no recording was attached; give one with --audio PATH")
    file = Path(path).expanduser()
    if not file.is_file():
        raise BadRequestError(f"no audio file at {file}")
    if file.stat().st_size == 0:
        raise BadRequestError(f"{file} is empty (0 bytes)")
    frames, source_rate, notes = _decode(file)
    frames, bad = finite_samples(frames, source_rate)
    mono, mixed = mix_channels(frames)
    notes += [note for note in (bad, mixed) if note]
    return Recording(resample(mono, source_rate, rate), rate, tuple(notes))


def _decode(file: Path) -> tuple[np.ndarray, int, list[str]]:
    """Frames [N, C] float32, their rate, and notes: libsndfile first, then FFmpeg."""
    import soundfile

    try:
        info = soundfile.info(str(file))
    except (soundfile.LibsndfileError, RuntimeError, ValueError) as error:
        return _decode_with_ffmpeg(file, error)
    _check_length(file, info.duration)
    blocks, damage = _read_blocks(file)
    if not blocks:
        unread = f"is not a readable {RECORDING_FORMATS} recording ({damage})"
        reason = unread if damage else "holds no audio"
        raise BadRequestError(f"{file} {reason}")
    frames = np.concatenate(blocks)
    promised = max(info.frames, _promised_wav_frames(file) or 0)
    notes = []
    if damage is not None or len(frames) < promised:
        notes.append(
            f"the file is cut short: its header promises {promised / info.samplerate:.1f} s, "
            f"{len(frames) / info.samplerate:.1f} s could be read, and that much was heard"
            + (f" ({damage})" if damage else "")
        )
    return frames, info.samplerate, notes


def _read_blocks(file: Path) -> tuple[list[np.ndarray], str | None]:
    """Blocks of frames [n, C] up to the end or the first damage, and that damage, if any."""
    import soundfile

    blocks: list[np.ndarray] = []
    try:
        with soundfile.SoundFile(str(file)) as sound:
            while len(block := sound.read(BLOCK_FRAMES, "float32", always_2d=True)):
                blocks.append(block)
    except (soundfile.LibsndfileError, RuntimeError, ValueError) as error:
        return blocks, str(error).strip()
    return blocks, None


def _decode_with_ffmpeg(file: Path, first_error: Exception) -> tuple[np.ndarray, int, list[str]]:
    try:
        import av
    except ImportError:
        raise BadRequestError(
            f"{file} is not a WAV, FLAC, OGG or MP3 recording ({first_error}); M4A/AAC and "
            f"other formats are read with PyAV: {PYAV_INSTALL}"
        ) from None
    try:
        with av.open(str(file)) as container:
            if not container.streams.audio:
                raise BadRequestError(f"{file} holds no audio stream")
            stream = container.streams.audio[0]
            if container.duration is not None:
                _check_length(file, container.duration / av.time_base)
            planar = av.AudioResampler(format="fltp")
            chunks = [
                out.to_ndarray()  # [C, n]
                for frame in container.decode(stream)
                for out in planar.resample(frame)
            ]
            rate = stream.rate
    except (av.FFmpegError, ValueError) as error:
        raise BadRequestError(
            f"{file} is not a readable {RECORDING_FORMATS} recording ({error})"
        ) from None
    if not chunks:
        raise BadRequestError(f"{file} holds no audio samples")
    return np.concatenate(chunks, axis=1).T.astype(np.float32), rate, []


def _check_length(file: Path, seconds: float) -> None:
    if seconds > MAX_SECONDS:
        raise BadRequestError(f"{file} lasts {seconds / 60:.0f} min; the limit is an hour")


def _promised_wav_frames(file: Path) -> int | None:
    """The frame count a RIFF/WAVE header declares for its data chunk; None if not a WAV."""
    with file.open("rb") as handle:
        header = handle.read(12)
        if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
            return None
        block_align = 0
        while chunk := handle.read(8):
            if len(chunk) < 8:
                return None
            name, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if name == b"data":
                # 0 and 0xFFFFFFFF mark a header written before the length was known.
                unknown = size in (0, 0xFFFFFFFF) or block_align == 0
                return None if unknown else size // block_align
            body = handle.read(size + size % 2)
            if name == b"fmt " and len(body) >= 14:
                block_align = struct.unpack_from("<H", body, 12)[0]
    return None


def resample(samples: np.ndarray, source_rate: int, rate: int) -> np.ndarray:
    """Polyphase resampling by the exact ratio `rate / source_rate`."""
    if source_rate == rate:
        return samples.astype(np.float32)
    from scipy.signal import resample_poly

    common = gcd(source_rate, rate)
    return resample_poly(samples, rate // common, source_rate // common).astype(np.float32)


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
