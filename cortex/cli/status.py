"""`cortex status`: what a running Cortex is doing."""

from __future__ import annotations

import argparse
from typing import Any

from cortex.cli.console import JsonOutput
from cortex.cli.options import say, typed_text
from cortex.config import load_config


def add_parser(commands: Any) -> None:
    status = commands.add_parser(
        "status",
        help="show a running Cortex: devices, regions, bus",
        description="Attach to the running Ray cluster and show every region's device, state, "
        "tokens per second and busy fraction, the bus's rate and latency, and the dashboard.",
    )
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.add_argument("--config", metavar="PATH", help="the cortex.toml Cortex was started with")
    status.add_argument(
        "--namespace",
        type=typed_text,
        help="the Ray namespace of the regions (default: the configuration's)",
    )
    status.add_argument(
        "--address",
        metavar="HOST:PORT",
        type=typed_text,
        help="the Ray cluster (default: the one on this machine)",
    )
    status.set_defaults(run=run)


def run(args: argparse.Namespace, output: JsonOutput) -> int:
    from cortex.runtime.status import (  # imports Ray
        attach,
        collect_status,
        format_status,
        running_cortexes,
    )

    base = load_config(args.config).runtime.namespace
    dashboard = attach(args.address, args.namespace or base)
    running = [args.namespace] if args.namespace else running_cortexes(base) or [base]
    status = collect_status(running[0], dashboard) | {"also_running": running[1:]}
    if not status["regions"]:
        say(f"no Cortex regions run in Ray namespace {running[0]!r}")
    if args.json:
        output.emit(status)
    else:
        print(format_status(status))
    return 0
