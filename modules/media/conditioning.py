"""Makes a recording fit to be heard: finite samples, no DC offset, channels that add up, a level.

Each step works on what microphones and cables really produce: a few NaN or infinite samples,
a constant offset, a stereo pair wired opposite in phase (whose plain mix is silence), speech
recorded 50 dB below full scale. A step that changes what the recording says returns a note.
"""

from __future__ import annotations

import numpy as np

from modules.errors import BadRequestError

OPPOSITE_PHASE = -0.5
"""Channels correlated below this are taken as one signal wired in reverse polarity."""
TARGET_PEAK = 0.5
"""`normalise_level` brings the loud end of a recording (see `LOUD_PERCENTILE`) to this."""
LOUD_PERCENTILE = 99.9
"""Percentile of |sample| taken as the peak: a few clicks or spikes do not set the gain."""
MAX_GAIN = 1000.0
"""At most +60 dB: below a 16-bit step there is nothing left to bring up."""


def finite_samples(frames: np.ndarray, rate: int) -> tuple[np.ndarray, str | None]:
    """Frames [N, C] with NaN and infinite samples set to 0, and a note naming them.

    Raises:
        BadRequestError: Every sample is NaN or infinite.
    """
    bad = ~np.isfinite(frames)
    count = int(bad.sum())
    if count == 0:
        return frames, None
    if count == bad.size:
        raise BadRequestError("every sample of the recording is NaN or infinite; nothing to hear")
    first = int(np.argmax(bad.any(axis=1))) / rate
    note = (
        f"{count} of {bad.size} samples were NaN or infinite (the first at {first:.2f} s); "
        "they were heard as silence"
    )
    return np.where(bad, 0.0, frames).astype(np.float32), note


def mix_channels(frames: np.ndarray) -> tuple[np.ndarray, str | None]:
    """One channel [N] from frames [N, C], each channel's DC offset removed first.

    A channel whose correlation with the loudest channel is below `OPPOSITE_PHASE` is inverted
    before the channels are averaged, so a pair wired opposite in phase does not cancel out.
    """
    centred = (frames - frames.mean(axis=0, keepdims=True, dtype=np.float64)).astype(np.float32)
    if centred.shape[1] == 1:
        return centred[:, 0], None
    power = np.sum(np.square(centred, dtype=np.float64), axis=0)
    loudest = centred[:, int(np.argmax(power))]
    norms = np.sqrt(power * power.max())
    correlation = np.divide(
        loudest @ centred.astype(np.float64), norms, out=np.zeros_like(norms), where=norms > 0
    )
    inverted = correlation < OPPOSITE_PHASE
    signs = np.where(inverted, -1.0, 1.0).astype(np.float32)
    note = None
    if inverted.any():
        note = (
            f"channel(s) {', '.join(str(i + 1) for i in np.flatnonzero(inverted))} were opposite "
            "in phase to the loudest and were inverted before mixing"
        )
    return (centred * signs).mean(axis=1).astype(np.float32), note


def normalise_level(samples: np.ndarray) -> np.ndarray:
    """Samples [N] scaled so their loud end sits at `TARGET_PEAK`, gain at most `MAX_GAIN`.

    Quiet speech is brought up to where a voice-activity detector and Whisper expect it;
    isolated spikes above the level are clipped to [-1, 1].
    """
    if samples.size == 0:
        return samples
    peak = float(np.percentile(np.abs(samples), LOUD_PERCENTILE))
    gain = min(TARGET_PEAK / peak, MAX_GAIN) if peak > 0 else 1.0
    return np.clip(samples * gain, -1.0, 1.0).astype(np.float32)
