"""`cortex run` (an experiment's modes, measured) and `cortex replay` (a session's timeline)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cortex.cli.console import JsonOutput
from cortex.cli.options import add_runtime_options, configured, say
from cortex.errors import InputPathError


def add_parsers(commands: Any) -> None:
    experiment = commands.add_parser(
        "run",
        help="run an experiment: sequential, pipeline, batched, concurrent, disaggregated or "
        "speculative modes, side by side",
        description="Run an experiment file's modes on the Ray cluster, print a summary, and "
        "write results.json, results.csv and timeline.png. The experiment names the model, the "
        "regions and the modes; --config's runtime and bus settings apply to every mode.",
    )
    experiment.add_argument("experiment", help="an experiment file (see experiments/*.toml)")
    experiment.add_argument(
        "--out", metavar="DIR", help="where to write results (default: runs/NAME)"
    )
    experiment.add_argument("--json", action="store_true", help="print the results as JSON")
    add_runtime_options(experiment, session=False)  # each mode logs its session into --out
    experiment.set_defaults(run=run)

    replay = commands.add_parser(
        "replay",
        help="draw the timeline of a recorded session",
        description="Draw one lane per device, busy spans coloured by region, from a session's "
        "bus log (the .bus file beside its session log).",
    )
    replay.add_argument("log", help="a bus log (SESSION.bus)")
    replay.add_argument("--out", metavar="PNG", help="the picture (default: LOG with .png)")
    replay.set_defaults(run=run_replay)


def run(args: argparse.Namespace, output: JsonOutput) -> int:
    from cortex.experiments import load_experiment, run  # imports Ray

    spec = load_experiment(args.experiment)
    config = configured(args)
    out = Path(args.out) if args.out else Path("runs") / spec.name
    results = run(spec, out, config=config, address=args.address)
    if args.json:
        output.emit(results.to_json())
    else:
        print(results.table())
        say(f"results in {out}/ (results.json, results.csv, timeline.png)")
    return 0


def run_replay(args: argparse.Namespace, output: JsonOutput) -> int:
    from cortex.experiments.replay import replay

    if not Path(args.log).is_file():
        raise InputPathError(f"no bus log at {args.log}; give a session's .bus file")
    print(f"wrote {replay(args.log, args.out)}")
    return 0
