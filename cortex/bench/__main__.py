"""Benchmarks: `python -m cortex.bench regions|quality|soak|slow-subscriber|speech|serve`.

`regions` (each engine bare and as a region, 1-8 subtasks at once, start-up and first
token) is in `cortex.bench.regions`; `quality` (planned answers against one region's, on
two sets of requests) in `cortex.bench.quality`; `soak` and `slow-subscriber` are in
`cortex.bench.soak`; `speech` is in `cortex.bench.speech`; `serve` (`cortex serve` under 1,
4 and 16 openai clients at once) in `cortex.bench.serve`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cortex.bench import quality as quality_bench
from cortex.bench import regions as region_bench
from cortex.bench import serve as serve_bench
from cortex.bench import speech as speech_bench
from cortex.bench.soak import slow_subscribers, soak
from cortex.errors import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cortex.bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "which",
        choices=["regions", "quality", "soak", "slow-subscriber", "speech", "serve"],
        help="what to measure",
    )
    parser.add_argument("--tokens", type=int, default=64, help="new tokens per request (64)")
    parser.add_argument("--turns", type=int, default=200, help="turns of the soak (200)")
    parser.add_argument(
        "--model",
        choices=["tiny", "default"],
        action="append",
        help="serve: the models to serve (repeatable; default: both)",
    )
    parser.add_argument(
        "--sets",
        type=Path,
        metavar="FILE",
        help="quality: your own sets of requests, a TOML file (see cortex/quality_bench.py)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.sets is not None and args.which != "quality":
        parser.error("--sets is for the quality bench")
    if args.which == "serve":
        runs = [serve_bench.measure(model) for model in args.model or ["tiny", "default"]]
        print(json.dumps(runs) if args.json else serve_bench.report(runs))
        return 0
    if args.which == "quality":
        try:
            sets = quality_bench.SETS if args.sets is None else quality_bench.load_sets(args.sets)
        except ConfigError as error:
            parser.error(str(error))
        figures = quality_bench.measure(sets)
        print(json.dumps(figures) if args.json else quality_bench.report(figures))
        return 0
    if args.which == "speech":
        figures = speech_bench.measure()
        print(json.dumps(figures) if args.json else speech_bench.report(figures))
        return 0
    if args.which == "soak":
        figures = soak(args.turns, progress=not args.json)
    elif args.which == "slow-subscriber":
        figures = slow_subscribers(args.tokens)
    else:
        figures = region_bench.measure(args.tokens)
    if args.json:
        print(json.dumps(figures))
    elif args.which == "regions":
        print(region_bench.report(figures))
    else:
        _print_reliability(args.which, figures)
    return 0


def _print_reliability(which: str, figures: dict[str, Any]) -> None:
    if which == "slow-subscriber":
        print(
            f"{region_bench.MODEL}, {figures['tokens_per_request']} new tokens, one language "
            "region\n"
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
