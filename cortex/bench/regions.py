"""`python -m cortex.bench regions`: what each engine decodes, bare and as a region.

In one run, for each engine installed (llama.cpp on the embedded GGUF; transformers on the
same weights dequantised, which is also the old hand-written decode loop's path):
1. bare: the engine's own API, no Cortex, one thread, greedy;
2. one region through its Ray actor and the token bus, on one CPU slot (core 0, one thread);
3. that region with 1, 2, 4 and 8 subtasks at once: aggregate and per-stream tok/s.
Then the default configuration's start-up: seconds until every region is loaded (warm cache),
and the first answer token of a one-part question, from sending it.
Each rate counts new tokens over the wall time from request to last token, prefill included.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import threading
import time
from typing import Any

from bus.protocol import Token
from bus.tokenbus import Delivery
from bus.topics import as_topic
from cortex.config import CortexConfig, load_config
from cortex.runtime.cortex import Cortex

MODEL = "embedded:smollm2-135m-instruct"
INSTRUCTION = "Write a long story about a dragon who learns to bake bread."
CONCURRENCY = (1, 2, 4, 8)
ONE_PART_QUESTION = "What is the capital of France?"


def installed_engines() -> list[str]:
    """The engines this machine can run the embedded model on."""
    engines = ["transformers"]
    if importlib.util.find_spec("llama_cpp") is not None:
        engines.insert(0, "llama.cpp")
    return engines


def bare_rate(engine: str, tokens: int) -> float:
    """Tokens per second of the engine's own generate, one thread, greedy."""
    if engine == "llama.cpp":
        return _bare_llama_cpp(tokens)
    return _bare_transformers(tokens)


def _bare_llama_cpp(tokens: int) -> float:
    from llama_cpp import Llama

    from modules.models import gguf_path

    llama = Llama(str(gguf_path(MODEL)), n_ctx=2048, n_threads=1, verbose=False)
    prompt = llama.tokenize(
        f"<|im_start|>user\n{INSTRUCTION}<|im_end|>\n<|im_start|>assistant\n".encode(),
        special=True,
    )
    start = time.perf_counter()
    for count, _ in enumerate(llama.generate(prompt, temp=0.0), start=1):
        if count == tokens:
            break
    return tokens / (time.perf_counter() - start)


def _bare_transformers(tokens: int) -> float:
    import torch

    from modules.models import load_causal_lm

    torch.set_num_threads(1)
    tokenizer, model = load_causal_lm(MODEL)
    ids = tokenizer.apply_chat_template(
        [{"role": "user", "content": INSTRUCTION}], add_generation_prompt=True, return_tensors="pt"
    )["input_ids"]
    model.generate(ids, max_new_tokens=4, do_sample=False)  # warm-up
    start = time.perf_counter()
    model.generate(ids, max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False)
    return tokens / (time.perf_counter() - start)


def one_region_config(engine: str, tokens: int) -> CortexConfig:
    """The default configuration with one language instance on `engine`, 8 slots."""
    config = load_config()
    language = config.regions["language"].model_copy(
        update={
            "replicas": 1,
            "engine": engine,
            "max_concurrent": max(CONCURRENCY),
            "generation": config.regions["language"].generation.model_copy(
                update={"max_new_tokens": tokens, "end_at_sentence": False}
            ),
        }
    )
    return config.model_copy(
        update={
            "regions": {**config.regions, "language": language},
            "runtime": config.runtime.model_copy(update={"device": "cpu"}),
        }
    )


def streams_at_once(brain: Cortex, instance: str, count: int) -> tuple[list[int], list[float]]:
    """Streams the instruction `count` times at once; tokens and seconds of each stream."""
    tokens, seconds = [0] * count, [0.0] * count

    def run(index: int) -> None:
        start = time.perf_counter()
        tokens[index] = sum(1 for _ in brain.stream(instance, INSTRUCTION))
        seconds[index] = time.perf_counter() - start

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tokens, seconds


def region_figures(engine: str, tokens: int) -> dict[str, Any]:
    """One engine: bare rate, one region's rate, and its rates at each concurrency."""
    bare = bare_rate(engine, tokens)
    config = one_region_config(engine, tokens)
    with Cortex(config, only={"language"}, devices={"language": 0}, progress=_quiet) as brain:
        streams_at_once(brain, "language", 1)  # warm-up
        concurrent = {}
        for count in CONCURRENCY:
            counts, seconds = streams_at_once(brain, "language", count)
            concurrent[count] = {
                "aggregate_tok_s": round(sum(counts) / max(seconds), 2),
                "per_stream_tok_s": round(
                    sum(c / s for c, s in zip(counts, seconds, strict=True)) / count, 2
                ),
                "tokens": counts,
            }
    one = concurrent[1]["aggregate_tok_s"]
    return {
        "bare_tok_s": round(bare, 2),
        "one_region_tok_s": one,
        "one_region_vs_bare": round(one / bare, 3),
        "concurrent": concurrent,
        "aggregate_4_vs_1": round(concurrent[4]["aggregate_tok_s"] / one, 2),
    }


def startup_figures() -> dict[str, float]:
    """The default configuration: seconds until ready, and to a one-part answer's first token."""
    started = time.perf_counter()
    with Cortex(progress=_quiet) as brain:
        ready_s = time.perf_counter() - started
        first: list[float] = []

        def on_delivery(delivery: Delivery) -> None:
            topic, message = as_topic(delivery.topic), delivery.message
            answer = topic.turn is not None and topic.channel == "out"
            if not first and answer and isinstance(message, Token) and message.text:
                first.append(time.perf_counter())

        sent = time.perf_counter()
        record = brain.ask(ONE_PART_QUESTION, on_delivery=on_delivery)
    return {
        "ready_s": round(ready_s, 2),
        "first_token_s": round(first[0] - sent, 3) if first else float("nan"),
        "answer": record.answer,
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`--tokens`: new tokens per request."""
    parser.add_argument("--tokens", type=int, default=64, help="new tokens per request (64)")


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Every figure of the module docstring, as one JSON-ready dict."""
    figures: dict[str, Any] = {"model": MODEL, "tokens_per_request": args.tokens, "engines": {}}
    for engine in installed_engines():
        print(f"measuring {engine}...", file=sys.stderr)
        figures["engines"][engine] = region_figures(engine, args.tokens)
    print("measuring start-up and first token...", file=sys.stderr)
    figures["startup"] = startup_figures()
    return figures


def report(figures: dict[str, Any]) -> str:
    """The figures as a table for people."""
    lines = [f"{figures['model']}, {figures['tokens_per_request']} new tokens per request, CPU"]
    for engine, f in figures["engines"].items():
        lines.append(f"\n{engine}")
        lines.append(f"  bare engine API, 1 thread           {f['bare_tok_s']:8.2f} tok/s")
        lines.append(
            f"  one region via actor + bus, 1 slot  {f['one_region_tok_s']:8.2f} tok/s"
            f"  ({f['one_region_vs_bare']:.0%} of bare)"
        )
        for count, c in f["concurrent"].items():
            lines.append(
                f"  {count} subtasks at once on 1 slot       {c['aggregate_tok_s']:8.2f} tok/s "
                f"aggregate, {c['per_stream_tok_s']:6.2f} per stream"
            )
        lines.append(f"  aggregate at 4 vs at 1              {f['aggregate_4_vs_1']:8.2f}x")
    engines = figures["engines"]
    if {"llama.cpp", "transformers"} <= set(engines):
        ratio = engines["llama.cpp"]["bare_tok_s"] / engines["transformers"]["bare_tok_s"]
        lines.append(f"\nllama.cpp vs the transformers loop on the same GGUF: {ratio:.2f}x")
    startup = figures["startup"]
    lines.append(
        f"\ndefault configuration: ready in {startup['ready_s']:.2f} s (warm cache); first "
        f"answer token of {ONE_PART_QUESTION!r} {startup['first_token_s']:.3f} s after sending"
    )
    return "\n".join(lines)


def _quiet(event: Any) -> None:
    """Start-up progress goes to stderr, so --json output stays one object."""
    print(event.message, file=sys.stderr)
