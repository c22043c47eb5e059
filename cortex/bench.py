"""Benchmarks of whole regions: `python -m cortex.bench regions|soak|slow-subscriber|speech`.

`regions` prints, in one run, the embedded language model's decode rate:
1. bare transformers `generate` on one thread (the reference);
2. one language region through its Ray actor and the token bus, on one CPU slot;
3. two language regions decoding at once, each on its own slot (aggregate).
Each figure counts new tokens over the wall time from request to last token, prefill included.
`soak` and `slow-subscriber` are in `cortex.soak`; `speech` is in `cortex.speech_bench`.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from typing import Any

import torch

from cortex import speech_bench
from cortex.config import load_config
from cortex.runtime import Cortex
from cortex.soak import slow_subscribers, soak
from modules.models import load_causal_lm

MODEL = "embedded:smollm2-135m-instruct"
INSTRUCTION = "Write a long story about a dragon who learns to bake bread."


def bare_rate(tokens: int) -> float:
    """Tokens per second of `generate` on one thread, greedy, exactly `tokens` new tokens."""
    torch.set_num_threads(1)
    tokenizer, model = load_causal_lm(MODEL)
    ids = tokenizer.apply_chat_template(
        [{"role": "user", "content": INSTRUCTION}], add_generation_prompt=True, return_tensors="pt"
    )["input_ids"]
    model.generate(ids, max_new_tokens=4, do_sample=False)  # warm-up
    start = time.perf_counter()
    model.generate(ids, max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False)
    return tokens / (time.perf_counter() - start)


def region_rates(brain: Cortex, instances: list[str]) -> tuple[list[int], float]:
    """Streams the instruction on each instance at once; returns tokens each, and wall seconds."""
    counts = [0] * len(instances)

    def run(index: int) -> None:
        counts[index] = sum(1 for _ in brain.stream(instances[index], INSTRUCTION))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(instances))]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counts, time.perf_counter() - start


def measure(tokens: int) -> dict[str, Any]:
    config = load_config()
    language = config.regions["language"].model_copy(
        update={
            "generation": config.regions["language"].generation.model_copy(
                update={"max_new_tokens": tokens}
            )
        }
    )
    config = config.model_copy(
        update={
            "regions": {**config.regions, "language": language},
            "runtime": config.runtime.model_copy(
                update={"device": "cpu", "namespace": "cortex-bench"}
            ),
        }
    )
    bare = bare_rate(tokens)
    with Cortex(config, progress=lambda event: print(event.message, file=sys.stderr)) as brain:
        region_rates(brain, ["language-0"])  # warm-up
        (one,), one_s = region_rates(brain, ["language-0"])
        both, both_s = region_rates(brain, ["language-0", "language-1"])
    one_rate, two_rate = one / one_s, sum(both) / both_s
    return {
        "bare_tok_s": round(bare, 2),
        "one_region_tok_s": round(one_rate, 2),
        "one_region_vs_bare": round(one_rate / bare, 3),
        "two_regions_tok_s": round(two_rate, 2),
        "two_regions_vs_one": round(two_rate / one_rate, 3),
        "tokens_per_request": tokens,
        "two_regions_tokens": both,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cortex.bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "which", choices=["regions", "soak", "slow-subscriber", "speech"], help="what to measure"
    )
    parser.add_argument("--tokens", type=int, default=64, help="new tokens per request (64)")
    parser.add_argument("--turns", type=int, default=200, help="turns of the soak (200)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.which == "speech":
        figures = speech_bench.measure()
        print(json.dumps(figures) if args.json else speech_bench.report(figures))
        return 0
    if args.which == "soak":
        figures = soak(args.turns, progress=not args.json)
    elif args.which == "slow-subscriber":
        figures = slow_subscribers(args.tokens)
    else:
        figures = measure(args.tokens)
    if args.json:
        print(json.dumps(figures))
        return 0
    if args.which != "regions":
        _print_reliability(args.which, figures)
        return 0
    print(f"{MODEL}, {args.tokens} new tokens per request, greedy, CPU")
    print(f"bare transformers generate, 1 thread   {figures['bare_tok_s']:7.2f} tok/s")
    print(
        f"one region via actor + bus, 1 slot     {figures['one_region_tok_s']:7.2f} tok/s"
        f"  ({figures['one_region_vs_bare']:.0%} of bare)"
    )
    print(
        f"two regions at once, 1 slot each       {figures['two_regions_tok_s']:7.2f} tok/s"
        f"  ({figures['two_regions_vs_one']:.2f}x one region)"
    )
    return 0


def _print_reliability(which: str, figures: dict[str, Any]) -> None:
    if which == "slow-subscriber":
        print(
            f"{MODEL}, {figures['tokens_per_request']} new tokens, one language region\n"
            f"alone                                  {figures['alone_tok_s']:7.2f} tok/s\n"
            f"with {figures['sleepers']} subscribers sleeping {figures['nap_s'] * 1000:.0f} ms "
            f"a read {figures['with_sleepers_tok_s']:7.2f} tok/s ({figures['ratio']:.0%})"
        )
        return
    print(
        f"{figures['turns']} turns on tiny models: {figures['turns_per_minute']} turns/min "
        f"({figures['turns_with_a_plan_of_several_steps']} planned in several steps)"
    )
    print(f"{'process':<12}{'RSS MiB start':>15}{'end':>10}{'growth':>9}")
    for name, start in figures["rss_mb_start"].items():
        growth = figures["rss_growth"].get(name)
        shown = "-" if growth is None else f"{growth:+.1%}"
        print(f"{name:<12}{start:>15.1f}{figures['rss_mb_end'][name]:>10.1f}{shown:>9}")
    print(f"actors left after shutdown: {len(figures['leaked_actors'])}")


if __name__ == "__main__":
    sys.exit(main())
