"""`python -m cortex.bench determinism`: the same greedy prompt, the same answer, and its cost.

The suite (`suite_prompts`): 20 greedy prompts, 12 of them over 1,500 tokens in three groups
that share a long article, 8 short. Each is answered three ways on one engine: fresh (after
an unrelated prompt), right after a prompt that shares its prefix (the slot's prompt cache
holds it), and among three others decoding at once. `run_suite` says which answers differ.
The bench runs the suite on llama.cpp (the embedded GGUF) and transformers (a tiny random
model, `--hf-model` for another), batch-invariant and not, and times four 1,500-token
requests at once in both modes: what the guarantee costs.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from modules.engines import Engine, Message, SamplingSettings, create_engine
from modules.models import save_tiny_llama

MODEL = "embedded:smollm2-135m-instruct"
GREEDY = SamplingSettings(max_new_tokens=12, repetition_penalty=1.0, no_repeat_ngram=0)
WORDS = (
    'the', 'river', 'city', 'train', 'mountain', 'north', 'bridge', 'old',
    'market', 'square', 'music', 'winter', 'station', 'journey', 'harbour', 'Oslo',
    'Vienna', 'ferry', 'night', 'morning', 'letter', 'garden', 'tower', 'museum',
    'road',
)
QUESTIONS = (
    "Where does the train go from Oslo?",
    "Summarise the text above in one sentence.",
    "Which words appear most often?",
    "Write a title for this text.",
)
SHORT = (
    "What is the capital of France?",
    "Name three rivers.",
    "Why is the sky blue?",
    "Say hello in Spanish.",
    "What is 12 times 12?",
    "Give me a word that rhymes with cat.",
    "Who wrote Hamlet?",
    "What colour is grass?",
)


def suite_prompts(article_words: int = 1500) -> list[list[Message]]:
    """The 20 chats: 3 articles x 4 questions (> 1,500 tokens each), then 8 short ones."""
    chats = []
    for group in range(3):
        pick = random.Random(group)
        article = " ".join(pick.choice(WORDS) for _ in range(article_words))
        chats += [[{"role": "user", "content": f"{article}\n\n{q}"}] for q in QUESTIONS]
    return chats + [[{"role": "user", "content": q}] for q in SHORT]


def _answer(engine: Engine, chat: list[Message]) -> str:
    return "".join(piece.text for piece in engine.submit(chat, GREEDY))


def _orders(count: int) -> Iterator[list[int]]:
    """Prompt orders: fresh (each after one of another group), after a sharing one."""
    groups = [list(range(g * 4, g * 4 + 4)) for g in range(3)]
    yield [i for column in zip(*groups, strict=True) for i in column] + list(range(12, count))
    yield [i for group in groups for i in (*group, group[0])] + list(range(12, count))


def run_suite(
    engine: Engine, chats: list[list[Message]], long_tokens: int = 1500
) -> dict[str, Any]:
    """Answers every chat fresh, after a prefix-sharing chat, and among three others.

    Returns:
        ``prompts``, ``long_prompts`` (over ``long_tokens`` tokens), ``differ`` (indexes of
        chats whose answers were not all the same) and ``answers`` (the fresh ones).
    """
    fresh_order, after_order = _orders(len(chats))
    fresh = {i: _answer(engine, chats[i]) for i in fresh_order}
    after: dict[int, set[str]] = {i: set() for i in range(len(chats))}
    for i in after_order:
        after[i].add(_answer(engine, chats[i]))
    together: dict[int, str] = {}
    for wave in range(0, 20, 4):  # each among three others: longs and shorts mixed
        members = [wave // 4 + 5 * k for k in range(4)]
        streams = [(i, engine.submit(chats[i], GREEDY)) for i in members]
        together |= {i: "".join(p.text for p in stream) for i, stream in streams}
    differ = [i for i in range(len(chats)) if after[i] | {together[i]} != {fresh[i]}]
    lengths = [len(engine.render(chat)) for chat in chats]
    return {
        "prompts": len(chats),
        "long_prompts": sum(n > long_tokens for n in lengths),
        "differ": differ,
        "answers": [fresh[i] for i in range(len(chats))],
    }


def concurrent_rate(engine: Engine, chats: list[list[Message]]) -> float:
    """Tokens per second of four long chats decoded at once (prefill included)."""
    settings = SamplingSettings(max_new_tokens=64, repetition_penalty=1.0, no_repeat_ngram=0)
    started = time.perf_counter()
    streams = [engine.submit(chat, settings) for chat in chats[:4]]
    tokens = sum(len(list(stream)) for stream in streams)
    return round(tokens / (time.perf_counter() - started), 2)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hf-model", help="transformers model (default: a tiny random Llama)")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads per engine")


def measure(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The suite and the four-at-once rate, per engine and mode."""
    chats = suite_prompts()
    figures = []
    with tempfile.TemporaryDirectory() as folder:
        hf_model = args.hf_model or str(save_tiny_llama(Path(folder), 4096, initializer_range=0.3))
        for name, model in (("llama.cpp", MODEL), ("transformers", hf_model)):
            for invariant in (True, False):
                engine = create_engine(
                    name, model, threads=args.threads, context_length=4096,
                    batch_invariant=invariant,
                ).start()  # fmt: skip
                try:
                    suite = run_suite(engine, chats)
                    rate = concurrent_rate(engine, chats)
                finally:
                    engine.close()
                suite.pop("answers")
                figures.append(
                    {"engine": name, "batch_invariant": invariant, **suite, "four_at_once": rate}
                )
    return figures


def report(figures: list[dict[str, Any]]) -> str:
    heading = f"{'engine':<13} {'invariant':>9} {'prompts':>7} {'differ':>6}"
    lines = [f"{heading} {'4 at once tok/s':>16}"]
    for run in figures:
        lines.append(
            f"{run['engine']:<13} {run['batch_invariant']!s:>9} {run['prompts']:>7} "
            f"{len(run['differ']):>6} {run['four_at_once']:>16}"
        )
    return "\n".join(lines)
