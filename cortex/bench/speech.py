"""How well the speech region hears: `python -m cortex.bench speech [--json]`.

Twelve sentences are spoken by eSpeak NG in six voices at 150-210 words a minute, written as WAV
files (22.05 kHz, as `cortex say` writes them), and heard back twice on the same packaged weights
(embedded Whisper tiny.en, CTranslate2): by Cortex's speech region (reading, level, voice
activity, windows) and by plain faster-whisper (`WhisperModel.transcribe`, greedy). It prints
both word error rates and Cortex's real-time factor (seconds of transcription per second of
audio, file reading included, on `THREADS` CPU threads).
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from modules.media.audio import write_wav
from modules.media.tts import Espeak
from modules.models import embedded
from modules.region import Placement, RegionSettings
from modules.speech import SpeechRegion

MODEL = "embedded:whisper-tiny.en"
SPOKEN = (
    ("A gentle breeze moved the leaves of the old oak tree.", "en-us", 175),
    ("Please turn on the kitchen lights and tell me the weather forecast.", "en-us+f3", 150),
    ("I would like a cup of tea with milk and sugar.", "en+m3", 200),
    ("My favourite colour is green and I like to read books.", "en-gb-scotland", 175),
    ("The train to the city leaves at half past seven every morning.", "en-us+klatt", 150),
    ("Remind me to call my sister when I get home tonight.", "en-029", 175),
    ("The children played football in the park until it got dark.", "en-us", 210),
    ("She bought fresh bread, cheese and apples at the market.", "en-us+f3", 175),
    ("How many people live in the largest city of the country?", "en+m3", 150),
    ("The doctor said I should drink more water and sleep early.", "en-gb-scotland", 200),
    ("Our meeting has been moved to Thursday afternoon at three.", "en-us+klatt", 175),
    ("He opened the window because the room was far too warm.", "en-029", 150),
)
"""(sentence, eSpeak voice, words per minute)."""
THREADS = 1
"""CPU threads of each transcriber."""


def words(text: str) -> list[str]:
    """Lower-case words without punctuation; British spellings of `SPOKEN` as American."""
    return re.sub(r"[^a-z0-9' ]", " ", text.lower().replace("colour", "color")).split()


def word_errors(reference: list[str], heard: list[str]) -> int:
    """Levenshtein distance over words: substitutions, insertions and deletions."""
    row = list(range(len(heard) + 1))
    for i, ref in enumerate(reference, start=1):
        previous, row[0] = row[0], i
        for j, hyp in enumerate(heard, start=1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ref != hyp))
    return row[-1]


def speak_all(folder: Path) -> list[Path]:
    """Writes each of `SPOKEN` as a WAV file in `folder`."""
    paths = []
    for index, (sentence, voice, pace) in enumerate(SPOKEN):
        engine = Espeak(voice, pace)  # eSpeak keeps one voice per process: set it per sentence
        spoken = engine.synthesize(sentence)
        paths.append(write_wav(folder / f"{index:02d}.wav", spoken, engine.rate))
    return paths


def cortex_transcripts(paths: list[Path], threads: int) -> tuple[list[str], float]:
    """The speech region's transcripts, and the seconds spent transcribing them."""
    region = SpeechRegion(
        RegionSettings(
            name="speech", kind="speech", model=MODEL, placement=Placement(threads=threads)
        )
    )
    region.setup()
    texts, start = [], time.perf_counter()
    for path in paths:
        run = region.transcribe(str(path))
        try:
            while True:
                next(run)
        except StopIteration as done:
            texts.append(done.value["text"])
    return texts, time.perf_counter() - start


def reference_transcripts(paths: list[Path], threads: int) -> list[str]:
    """Plain faster-whisper on the same packaged model: greedy, everything else its default."""
    from faster_whisper import WhisperModel

    model = WhisperModel(str(embedded(MODEL).folder()), device="cpu", cpu_threads=threads)
    texts = []
    for path in paths:
        segments, _ = model.transcribe(str(path), beam_size=1)
        texts.append(" ".join(segment.text.strip() for segment in segments))
    return texts


def error_rate(texts: list[str]) -> float:
    """Word errors over reference words, across all of `SPOKEN`."""
    errors = sum(
        word_errors(words(sentence), words(text))
        for (sentence, _, _), text in zip(SPOKEN, texts, strict=True)
    )
    return errors / sum(len(words(sentence)) for sentence, _, _ in SPOKEN)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The speech bench has no options of its own."""


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Both word error rates, Cortex's real-time factor, and every transcript."""
    import soundfile

    with tempfile.TemporaryDirectory(prefix="cortex-speech-bench-") as folder:
        paths = speak_all(Path(folder))
        audio_s = sum(soundfile.info(str(path)).duration for path in paths)
        reference = reference_transcripts(paths, THREADS)
        heard, seconds = cortex_transcripts(paths, THREADS)
    cortex_wer, reference_wer = error_rate(heard), error_rate(reference)
    return {
        "model": MODEL,
        "sentences": len(SPOKEN),
        "audio_s": round(audio_s, 2),
        "threads": THREADS,
        "cortex_wer": round(cortex_wer, 4),
        "faster_whisper_wer": round(reference_wer, 4),
        "wer_gap": round(cortex_wer - reference_wer, 4),
        "cortex_rtf": round(seconds / audio_s, 4),
        "transcripts": [
            {"said": sentence, "voice": voice, "wpm": pace, "cortex": ours, "faster_whisper": ref}
            for (sentence, voice, pace), ours, ref in zip(SPOKEN, heard, reference, strict=True)
        ],
    }


def report(figures: dict[str, Any]) -> str:
    """The figures as a few lines of text."""
    lines = [
        f"{figures['model']}: {figures['sentences']} eSpeak sentences, "
        f"{figures['audio_s']:.1f} s of audio, {figures['threads']} CPU thread(s)",
    ]
    for row in figures["transcripts"]:
        lines.append(f"  said ({row['voice']}, {row['wpm']} wpm): {row['said']}")
        lines.append(f"    cortex:         {row['cortex']}")
        lines.append(f"    faster-whisper: {row['faster_whisper']}")
    lines += [
        f"word error rate, Cortex              {figures['cortex_wer']:.3f}",
        f"word error rate, plain faster-whisper {figures['faster_whisper_wer']:.3f}"
        f"  (Cortex {figures['wer_gap']:+.3f})",
        f"Cortex real-time factor              {figures['cortex_rtf']:.3f}",
    ]
    return "\n".join(lines)
