"""Benchmarks: `python -m cortex.bench NAME [options]`; `NAME --help` lists a bench's options.

Only the named bench's module is imported; it adds its own options and measures (`Bench`).
A package one bench needs but the install lacks is one line naming the extra that brings it.
`--json` prints the figures as one line of JSON, the last one on stdout.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Any, Protocol, cast

BENCHES = {
    "regions": "each engine bare and as a region, 1-8 subtasks at once, start-up, first token",
    "quality": "planned answers against one region's: facts found, parts covered, wall time",
    "parts": "the manager's parts against the parts corpus: exact splits, context, skeletons",
    "soak": "many turns on tiny models: turns per minute, memory growth, actors left behind",
    "slow-subscriber": "a region's decode rate alone and beside subscribers that sleep",
    "speech": "the speech region's word error rate against plain faster-whisper",
    "serve": "`cortex serve` under 1, 4 and 16 openai clients at once, n=3, JSON output",
    "determinism": "the same greedy answer fresh, after a shared prefix, in a batch; the cost",
    "handoff": "KV handoff: bytes per token, export+transfer+import vs prefill, shared prefill",
}
"""Every bench by name, with what it measures; `cortex.bench.<name, - as _>` implements it."""

OPTIONAL_PACKAGES = {"openai": "dev"}
"""Packages a bench imports that only an extra of the distribution installs, and that extra."""

DISTRIBUTION = "cortex-bus"


class Bench(Protocol):
    """What a bench module defines, as module-level functions."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Adds the bench's own options to `parser` (`--json` is already there)."""

    def measure(self, args: argparse.Namespace) -> Any:
        """Runs the bench with the parsed options; its figures, ready for `json.dumps`."""

    def report(self, figures: Any) -> str:
        """The figures as text for people."""


def main(argv: list[str] | None = None) -> int:
    """Runs the bench named first in `argv` (default: the command line) with the rest."""
    argv = sys.argv[1:] if argv is None else argv
    chooser = _chooser()
    name = chooser.parse_args(argv[:1]).name  # the rest is the bench's to parse
    bench = _import(chooser, name)
    parser = argparse.ArgumentParser(
        prog=f"{chooser.prog} {name}",
        description=bench.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="print the figures as one line of JSON")
    bench.add_arguments(parser)
    args = parser.parse_args(argv[1:])
    figures = bench.measure(args)
    print(json.dumps(figures) if args.json else bench.report(figures))
    return 0


def _chooser() -> argparse.ArgumentParser:
    table = "\n".join(f"  {name:<17}{summary}" for name, summary in BENCHES.items())
    chooser = argparse.ArgumentParser(
        prog="python -m cortex.bench",
        usage="%(prog)s NAME [options]",
        description=__doc__.split("\n")[0],
        epilog=f"benches:\n{table}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    chooser.add_argument("name", metavar="NAME", choices=list(BENCHES), help="the bench to run")
    return chooser


def _import(chooser: argparse.ArgumentParser, name: str) -> Bench:
    """The bench's module; exits with one line when it needs a package the install lacks."""
    try:
        module = importlib.import_module(f"cortex.bench.{name.replace('-', '_')}")
    except ModuleNotFoundError as error:
        package = (error.name or "").partition(".")[0]
        if package not in OPTIONAL_PACKAGES:
            raise
        extra = OPTIONAL_PACKAGES[package]
        chooser.exit(
            2,
            f"cortex.bench {name} needs the {package} package: "
            f"pip install '{DISTRIBUTION}[{extra}]'\n",
        )
    return cast(Bench, module)


if __name__ == "__main__":
    sys.exit(main())
