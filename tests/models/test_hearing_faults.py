"""Recordings as users send them, heard by the speech region on its embedded Whisper.

Each kind of fault from the field: noise, hum and music heard as words; quiet speech; stereo
wired opposite in phase; NaN samples; M4A/AAC; a sentence across the 30 s mark; a WAV cut
short. Every recording is made here, with eSpeak NG and numpy.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile

from cortex.bench.speech import word_errors, words
from modules.media.audio import SPEECH_RATE, resample, write_wav
from modules.media.tts import Espeak
from modules.models import resolve
from modules.region import RegionSettings
from modules.speech import NO_SPEECH, SpeechRegion
from tests.helpers import cortex_cli, region_output
from tests.unit.test_recordings import write_m4a

pytestmark = pytest.mark.model

SENTENCE = "Please turn on the kitchen lights and tell me the weather forecast for tomorrow."
FILLERS = (
    "I would like a cup of tea with milk and sugar.",
    "My favourite colour is green and I like to read books.",
    "The train to the city leaves at half past seven every morning.",
    "She bought fresh bread, cheese and apples at the market.",
)
SETTINGS = RegionSettings(name="speech", kind="speech", model="embedded:whisper-tiny.en")


@pytest.fixture(scope="module")
def speech() -> SpeechRegion:
    region = SpeechRegion(SETTINGS)
    region.setup()
    return region


def spoken(text: str, rate: int = SPEECH_RATE) -> np.ndarray:
    """`text` spoken by eSpeak, float samples at `rate` peaking at 0.5, [N].

    eSpeak keeps one engine per process, taken over by the latest `Espeak` (a region's voice
    too), so each sentence gets its own.
    """
    espeak = Espeak("en-us")
    samples = resample(espeak.synthesize(text).astype(np.float32) / 32768, espeak.rate, rate)
    return samples * (0.5 / np.abs(samples).max())


def hear(region: SpeechRegion, path: Path) -> tuple[str, dict]:
    pieces, data = region_output(region, instruction="", audio_path=str(path))
    heard = "".join(pieces)
    assert heard == data["text"]  # the stream and the result agree
    return heard, data


def errors(said: str, heard: str) -> int:
    return word_errors(words(said), words(heard))


def errors_within(said: str, heard: str) -> int:
    """Word errors of `said` against the as many words of `heard` from its first word on."""
    expected, got = words(said), words(heard)
    start = got.index(expected[0]) if expected[0] in got else 0
    return word_errors(expected, got[start : start + len(expected)])


def write(path: Path, frames: np.ndarray, rate: int, subtype: str = "PCM_16") -> Path:
    soundfile.write(path, frames.astype(np.float32), rate, subtype=subtype)
    return path


def seconds(rate: int, length: float) -> np.ndarray:
    return np.arange(int(rate * length)) / rate


def near_silence_with_dc(rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """A cheap USB microphone in a silent room: 8 s of a 5 % offset and faint noise."""
    return 0.05 + rng.normal(0, 3e-4, 8 * 16000), 16000


def room_hiss(rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """10 s of quiet, mostly low-frequency noise at 48 kHz, about -50 dBFS."""
    from scipy.signal import lfilter

    hiss = lfilter([1.0], [1.0, -0.9], rng.normal(0, 1, 10 * 48000))
    return hiss * (10 ** (-50 / 20) / np.sqrt(np.mean(hiss**2))), 48000


def chords(rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """12 s of synthetic triads, one a second, in 44.1 kHz stereo."""
    t = seconds(44100, 12)
    triads = ((261.63, 329.63, 392.0), (220.0, 261.63, 329.63), (174.61, 220.0, 261.63))
    mono = sum(
        np.where(np.floor(t) % 3 == i, np.sin(2 * np.pi * f * t), 0.0)
        for i, triad in enumerate(triads)
        for f in triad
    )
    mono = 0.2 * mono / np.abs(mono).max()
    return np.stack([mono, 0.8 * mono], axis=1), 44100


def plucked_melody(rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """12 s of plucked notes with harmonics, four a second, at 22.05 kHz."""
    t = seconds(22050, 12)
    note = np.floor(t * 4)
    pitch = np.array([262, 294, 330, 349, 392, 440, 494, 523])[note.astype(int) % 8]
    envelope = np.exp(-8 * (t - note / 4))
    melody = sum(envelope * np.sin(2 * np.pi * pitch * h * t) / h for h in (1, 2, 3))
    return 0.3 * melody / np.abs(melody).max(), 22050


def mains_hum(rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """10 s of 50 Hz hum on a large offset, with faint noise."""
    t = seconds(16000, 10)
    return 0.3 + 0.02 * np.sin(2 * np.pi * 50 * t) + rng.normal(0, 1e-3, t.size), 16000


def loud_noise(rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """10 s of white noise at -20 dBFS."""
    return rng.normal(0, 0.1, 10 * 16000), 16000


def clicks_and_tone(rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """10 s of a 1 kHz tone with a click every half second, 24-bit."""
    t = seconds(16000, 10)
    signal = 0.1 * np.sin(2 * np.pi * 1000 * t)
    signal[::8000] = 0.9
    return signal, 16000


@pytest.mark.parametrize(
    "make",
    [
        near_silence_with_dc,
        room_hiss,
        chords,
        plucked_melody,
        mains_hum,
        loud_noise,
        clicks_and_tone,
    ],
)
def test_sounds_that_are_not_speech_give_no_words(
    speech: SpeechRegion, tmp_path: Path, make
) -> None:
    frames, rate = make(np.random.default_rng(0))
    heard, data = hear(speech, write(tmp_path / f"{make.__name__}.wav", frames, rate))
    assert heard == "" and data == {"text": "", "no_speech": True, "note": NO_SPEECH}


@pytest.mark.parametrize("level_db", [-46, -55, -62])
def test_quiet_speech_is_heard(speech: SpeechRegion, tmp_path: Path, level_db: int) -> None:
    voice = spoken(SENTENCE)
    active = voice[np.abs(voice) > 0.005]
    quiet = voice * (10 ** (level_db / 20) / np.sqrt(np.mean(active**2)))
    pause = np.zeros(SPEECH_RATE // 2)
    floor = np.random.default_rng(0).normal(0, 10 ** (-85 / 20), quiet.size + 2 * pause.size)
    recording = np.concatenate([pause, quiet, pause]) + floor
    heard, data = hear(speech, write(tmp_path / "quiet.wav", recording, SPEECH_RATE))
    print(f"{level_db} dBFS: {heard}")
    assert not data["no_speech"] and errors(SENTENCE, heard) <= 3


@pytest.mark.parametrize("channels", [2, 3])
def test_channels_opposite_in_phase_are_heard(
    speech: SpeechRegion, tmp_path: Path, channels: int
) -> None:
    voice = spoken(SENTENCE, 44100)
    frames = np.stack([voice * (-1) ** c for c in range(channels)], axis=1)
    heard, data = hear(speech, write(tmp_path / "wired.wav", frames, 44100))
    assert errors(SENTENCE, heard) <= 2
    assert any("opposite in phase" in note for note in data["notes"])


@pytest.mark.e2e
def test_cortex_hear_hears_channels_opposite_in_phase(tmp_path: Path) -> None:
    voice = spoken(SENTENCE)
    wired = write(tmp_path / "wired.wav", np.stack([voice, -voice], axis=1), SPEECH_RATE)
    completed = cortex_cli("hear", "--json", str(wired), timeout=300)
    assert completed.returncode == 0, completed.stderr
    assert errors(SENTENCE, json.loads(completed.stdout)["text"]) <= 2


@pytest.mark.parametrize(("bad", "channels"), [(np.nan, 1), (np.inf, 1), (np.nan, 2)])
def test_nan_or_infinite_samples_leave_the_rest_heard_and_are_named(
    speech: SpeechRegion, tmp_path: Path, bad: float, channels: int
) -> None:
    frames = np.stack([spoken(SENTENCE)] * channels, axis=1)
    frames[[500, 9000, 9001, 20000], 0] = bad
    heard, data = hear(speech, write(tmp_path / "float.wav", frames, SPEECH_RATE, "FLOAT"))
    assert "!!" not in heard and errors(SENTENCE, heard) <= 2
    assert any("4 of" in note and "NaN or infinite" in note for note in data["notes"])


@pytest.mark.parametrize(("rate", "channels"), [(44100, 1), (48000, 2)])
def test_m4a_aac_from_a_phone_is_heard(
    speech: SpeechRegion, tmp_path: Path, rate: int, channels: int
) -> None:
    voice = spoken(SENTENCE, rate)
    path = write_m4a(tmp_path / "phone.m4a", np.stack([voice] * channels, axis=1), rate)
    heard, _ = hear(speech, path)
    assert errors(SENTENCE, heard) <= 2


def around_thirty_seconds(pause_s: float) -> np.ndarray:
    """Filler sentences with `pause_s` between them, `SENTENCE` centred on the 30 s mark,
    then one more filler: 16 kHz samples [N], silence first to make up the time."""
    gap = np.zeros(int(pause_s * SPEECH_RATE), np.float32)
    target = spoken(SENTENCE)
    start = 30 * SPEECH_RATE - len(target) // 2
    parts: list[np.ndarray] = []
    for index in range(100):
        filler = spoken(FILLERS[index % len(FILLERS)])
        if sum(map(len, parts)) + len(filler) + len(gap) > start:
            break
        parts += [filler, gap]
    lead = np.zeros(start - sum(map(len, parts)), np.float32)
    return np.concatenate([lead, *parts, target, gap, spoken(FILLERS[0])])


@pytest.mark.parametrize("pause_s", [0.0, 0.3, 3.0])
def test_a_sentence_across_the_thirty_second_mark_keeps_its_words(
    speech: SpeechRegion, tmp_path: Path, pause_s: float
) -> None:
    audio = around_thirty_seconds(pause_s)
    heard, _ = hear(speech, write_wav(tmp_path / "long.wav", audio, SPEECH_RATE))
    assert errors_within(SENTENCE, heard) <= 2, heard
    assert {"milk", "sugar", "green", "morning"} <= set(words(heard))


def test_the_transformers_engine_hears_across_thirty_seconds_and_not_music(
    tmp_path: Path,
) -> None:
    """A transformers Whisper folder (here the embedded model converted) streams token by token,
    in windows cut in pauses, and the voice-activity detector keeps music from it."""
    region = SpeechRegion(replace(SETTINGS, model=resolve(SETTINGS.model)))
    region.setup()
    audio = around_thirty_seconds(0.3)
    pieces, data = region_output(
        region, instruction="", audio_path=str(write_wav(tmp_path / "long.wav", audio, 16000))
    )
    heard = "".join(pieces)
    assert len(pieces) > 20 and heard == data["text"]
    assert errors_within(SENTENCE, heard) <= 2, heard
    frames, rate = chords(np.random.default_rng(0))
    heard, data = hear(region, write(tmp_path / "chords.wav", frames, rate))
    assert heard == "" and data["no_speech"]


@pytest.mark.parametrize("subtype", ["PCM_16", "FLOAT"])
def test_a_wav_cut_short_is_heard_with_a_warning(
    speech: SpeechRegion, tmp_path: Path, subtype: str
) -> None:
    whole = write(
        tmp_path / "whole.wav",
        np.concatenate([spoken(SENTENCE), spoken(FILLERS[0])]),
        SPEECH_RATE,
        subtype,
    )
    data = whole.read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) // 2])
    _, complete = hear(speech, whole)
    assert "notes" not in complete
    heard, result = hear(speech, cut)
    assert {"kitchen", "lights"} <= set(words(heard))
    assert len(result["notes"]) == 1 and "cut short" in result["notes"][0]
