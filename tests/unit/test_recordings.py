"""Reading recordings as people make them: NaN samples, DC offsets, opposite phases, quiet
levels, M4A/AAC, files cut short; and the voice-activity windows. No Whisper here."""

from __future__ import annotations

import builtins
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from modules.errors import BadRequestError
from modules.media.audio import SPEECH_RATE, read_audio, read_recording, write_wav
from modules.media.conditioning import finite_samples, mix_channels, normalise_level
from modules.media.tts import Espeak
from modules.media.vad import WINDOW_SECONDS, Span, speech_spans, windows

RATE = SPEECH_RATE


@pytest.fixture(scope="module")
def voice() -> np.ndarray:
    """A spoken sentence, 16 kHz float samples peaking near 0.5, [N]."""
    from modules.media.audio import resample

    engine = Espeak("en-us")
    spoken = engine.synthesize("Please turn on the kitchen lights and tell me the weather.")
    samples = resample(spoken.astype(np.float32) / 32768, engine.rate, RATE)
    return samples * (0.5 / np.abs(samples).max())


def rms_db(samples: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(samples)))))


def test_nan_and_infinite_samples_are_named_and_cleared() -> None:
    frames = np.full((16000, 2), 0.1, dtype=np.float32)
    frames[800, 0], frames[900, 1], frames[1000, 0] = np.nan, np.inf, -np.inf
    cleared, note = finite_samples(frames, RATE)
    assert np.isfinite(cleared).all() and cleared[800, 0] == 0 and cleared[801, 0] == 0.1
    assert note is not None and "3 of 32000 samples were NaN or infinite" in note
    assert "0.05 s" in note  # the first bad sample, at frame 800
    assert finite_samples(np.ones((10, 1), np.float32), RATE) == (pytest.approx(1.0), None)


def test_a_recording_of_nothing_but_nan_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nan.wav"
    soundfile.write(path, np.full(8000, np.nan, np.float32), RATE, subtype="FLOAT")
    with pytest.raises(BadRequestError, match="NaN or infinite"):
        read_audio(str(path))


def test_a_float_wav_with_nan_reads_as_finite_samples_with_a_note(
    voice: np.ndarray, tmp_path: Path
) -> None:
    spoiled = voice.copy()
    spoiled[[100, 2000, 2001]] = np.nan
    path = tmp_path / "nan.wav"
    soundfile.write(path, spoiled, RATE, subtype="FLOAT")
    recording = read_recording(str(path))
    assert np.isfinite(recording.samples).all()
    assert any("3 of" in note and "NaN" in note for note in recording.notes)


@pytest.mark.parametrize("channels", [2, 4])
def test_channels_opposite_in_phase_do_not_cancel(voice: np.ndarray, channels: int) -> None:
    frames = np.stack([voice * (-1) ** c for c in range(channels)], axis=1)
    mixed, note = mix_channels(frames)
    assert rms_db(mixed) == pytest.approx(rms_db(voice), abs=0.1)
    assert note is not None and "opposite in phase" in note


def test_channels_in_phase_or_unrelated_mix_plainly(voice: np.ndarray) -> None:
    noise = np.random.default_rng(0).normal(0, 0.05, voice.size).astype(np.float32)
    for other in (voice * 0.5, noise, np.zeros_like(voice)):
        mixed, note = mix_channels(np.stack([voice, other], axis=1))
        assert note is None
        expected = (voice + other) / 2
        np.testing.assert_allclose(mixed, expected - expected.mean(), atol=1e-6)


def test_each_channel_loses_its_dc_offset_before_mixing(voice: np.ndarray) -> None:
    mixed, _ = mix_channels(np.stack([voice + 0.3, -voice - 0.1], axis=1))
    assert abs(float(mixed.mean())) < 1e-6
    assert rms_db(mixed) == pytest.approx(rms_db(voice - voice.mean()), abs=0.1)


def test_stereo_file_wired_opposite_in_phase_reads_as_the_voice(
    voice: np.ndarray, tmp_path: Path
) -> None:
    path = tmp_path / "wired.wav"
    soundfile.write(path, np.stack([voice, -voice], axis=1), 44100 // 2, subtype="PCM_16")
    recording = read_recording(str(path))
    assert rms_db(recording.samples) > rms_db(voice) - 1
    assert any("opposite in phase" in note for note in recording.notes)


@pytest.mark.parametrize("level_db", [-46, -55, -60, 0])
def test_quiet_and_loud_speech_is_brought_to_one_level(voice: np.ndarray, level_db: int) -> None:
    scaled = voice * 10 ** (level_db / 20) / np.abs(voice).max()
    level = normalise_level(scaled)
    assert np.percentile(np.abs(level), 99.9) == pytest.approx(0.5, rel=0.01)


def test_level_ignores_spikes_and_leaves_digital_silence_silent(voice: np.ndarray) -> None:
    spiked = voice * 0.01
    spiked[::5000] = 1.0  # a few clicks at full scale
    assert np.percentile(np.abs(normalise_level(spiked)), 99) > 0.2
    assert not normalise_level(np.zeros(1000, np.float32)).any()
    capped = normalise_level(np.full(100, 1e-7, np.float32))
    assert np.abs(capped).max() == pytest.approx(1e-4)  # +60 dB at most


@pytest.mark.parametrize(("fmt", "ext"), [("WAV", "wav"), ("MP3", "mp3"), ("FLAC", "flac")])
def test_a_file_cut_short_is_read_as_far_as_it_goes_with_a_note(
    voice: np.ndarray, tmp_path: Path, fmt: str, ext: str
) -> None:
    whole = tmp_path / f"whole.{ext}"
    soundfile.write(whole, np.concatenate([voice, voice]), RATE, format=fmt)
    data = whole.read_bytes()
    cut = tmp_path / f"cut.{ext}"
    cut.write_bytes(data[: len(data) // 2])
    assert read_recording(str(whole)).notes == ()
    recording = read_recording(str(cut))
    assert 0.3 * len(voice) < len(recording.samples) < 1.5 * len(voice)
    assert len(recording.notes) == 1 and "cut short" in recording.notes[0]


def test_a_wav_header_written_before_its_length_was_known_is_not_cut_short(
    voice: np.ndarray, tmp_path: Path
) -> None:
    path = write_wav(tmp_path / "streamed.wav", voice, RATE)
    data = bytearray(path.read_bytes())
    data[40:44] = b"\xff\xff\xff\xff"  # the data chunk's size, as a live recorder leaves it
    path.write_bytes(bytes(data))
    recording = read_recording(str(path))
    assert recording.notes == () and len(recording.samples) == len(voice)


def write_m4a(path: Path, frames: np.ndarray, rate: int) -> Path:
    """Encodes float frames [N, C] as AAC in an MP4 container, as phones record."""
    import av

    layout = "mono" if frames.shape[1] == 1 else "stereo"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=rate, layout=layout)
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(frames.T, dtype=np.float32), format="fltp", layout=layout
        )
        frame.sample_rate = rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return path


@pytest.mark.parametrize(("rate", "channels"), [(44100, 1), (48000, 2), (16000, 2)])
def test_m4a_aac_is_read_through_pyav(
    voice: np.ndarray, tmp_path: Path, rate: int, channels: int
) -> None:
    from modules.media.audio import resample

    source = resample(voice, RATE, rate)
    path = write_m4a(tmp_path / "phone.m4a", np.stack([source] * channels, axis=1), rate)
    recording = read_recording(str(path))
    assert abs(len(recording.samples) - len(voice)) < 0.2 * RATE  # AAC's priming and padding
    assert rms_db(recording.samples) == pytest.approx(rms_db(voice), abs=1.5)


def test_without_pyav_an_m4a_gets_a_message_naming_it(
    voice: np.ndarray, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_m4a(tmp_path / "phone.m4a", voice[:, None], RATE)
    real_import = builtins.__import__

    def no_av(name: str, *args, **kwargs):
        if name == "av":
            raise ImportError("No module named 'av'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "av", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_av)
    with pytest.raises(BadRequestError, match="pip install av"):
        read_audio(str(path))


def test_speech_spans_find_speech_and_not_noise(voice: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    pause = np.zeros(2 * RATE, np.float32)
    spans = speech_spans(np.concatenate([pause, voice, pause]), RATE)
    assert len(spans) == 1 and spans[0].start < 2 * RATE < spans[0].end
    hiss = normalise_level(rng.normal(0, 1, 5 * RATE).astype(np.float32))
    t = np.arange(5 * RATE) / RATE
    chord = sum(np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0)).astype(np.float32)
    assert speech_spans(hiss, RATE) == [] and speech_spans(chord / 6, RATE) == []


def test_windows_join_spans_up_to_thirty_seconds_and_never_cut_one() -> None:
    second = RATE
    spans = [Span(s * second, (s + 4) * second) for s in range(0, 80, 6)]  # 4 s of every 6 s
    joined = windows(np.zeros(90 * second, np.float32), spans, RATE)
    assert all(w.end - w.start <= WINDOW_SECONDS * RATE for w in joined)
    edges = {edge for w in joined for edge in (w.start, w.end)}
    assert edges <= {edge for s in spans for edge in (s.start, s.end)}  # cut only in pauses
    assert joined[0] == Span(0, 28 * second) and joined[-1].end == spans[-1].end
    assert windows(np.zeros(0, np.float32), [], RATE) == []


def test_a_span_longer_than_a_window_is_cut_in_its_pauses(voice: np.ndarray) -> None:
    pause = np.zeros(RATE // 4, np.float32)  # 0.25 s between sentences, too short to end a span
    talk = np.concatenate([np.concatenate([voice, pause])] * 16)  # about 48 s
    spans = speech_spans(talk, RATE)
    assert len(spans) == 1 and spans[0].end - spans[0].start > 40 * RATE
    cut = windows(talk, spans, RATE)
    assert len(cut) == 2 and all(w.end - w.start <= WINDOW_SECONDS * RATE for w in cut)
    assert cut[0].end == cut[1].start
    sentence = len(voice) + len(pause)
    assert cut[0].end % sentence >= len(voice) - RATE // 20  # in a pause, not in a sentence
