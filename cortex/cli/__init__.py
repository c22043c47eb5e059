"""The `cortex` command line: one module per command, each adding its own subparser.

`ask`, `chat`, `see`/`hear`/`say`, `run`/`replay`, `serve` and `status`. Every command
checks its output paths before anything starts, prints errors as one line on stderr, and
keeps stdout one JSON document with ``--json`` (`cortex.cli.console`).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from importlib.metadata import version

from cortex.cli import ask, chat, experiment, media, serve, status
from cortex.cli.console import JsonOutput, sigterm_as_interrupt
from cortex.cli.options import typed_text
from cortex.errors import CortexError, InputPathError, Terminated
from cortex.outputs import writable_file, writable_folder


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cortex",
        description="Cortex: model regions on their own devices, talking in tokens over a bus.",
    )
    parser.add_argument("--version", action="version", version=f"cortex {version('cortex-bus')}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    ask.add_parser(commands)
    media.add_parsers(commands)
    chat.add_parser(commands)
    experiment.add_parsers(commands)
    serve.add_parser(commands)
    status.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    if argv is None and any(typed_text(arg) != arg for arg in sys.argv):
        # Ray records this process's command line (from /proc) as UTF-8, and a byte that is
        # not (a Latin-1 terminal's "é") would stop it: run again with the arguments as read.
        typed = [typed_text(arg) for arg in sys.argv[1:]]
        os.execv(sys.executable, [sys.executable, "-m", "cortex.cli", *typed])
    args = build_parser().parse_args(argv)
    output = JsonOutput(getattr(args, "json", False))
    with sigterm_as_interrupt(), output:
        try:
            _check_outputs(args)
            return int(args.run(args, output))
        except Exception as error:
            if not _said_to_users(error):
                raise
            output.fail(str(error))
            return 2 if isinstance(error, InputPathError) else 1  # a bad input file: usage
        except KeyboardInterrupt:
            output.fail("interrupted; everything this command started is stopped")
            return 130
        except Terminated:
            output.fail("terminated (SIGTERM); everything this command started is stopped")
            return 128 + signal.SIGTERM


def _said_to_users(error: Exception) -> bool:
    """Whether an error's message is written for the person at the terminal (Cortex's,
    a region's, the bus's) rather than a bug to show with its traceback."""
    from bus.errors import BusError  # the bus and the regions: only when something failed
    from modules.errors import RegionError

    return isinstance(error, (CortexError, RegionError, BusError))


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuses, before anything starts, the paths a command could not write its output to."""
    if getattr(args, "session", None):
        writable_file(args.session, "--session", "session.jsonl")
    if getattr(args, "speak", None):
        writable_file(args.speak, "--speak", "answer.wav")
    if getattr(args, "out", None):
        if args.command == "run":
            writable_folder(args.out, "--out")
        else:
            example = "speech.wav" if args.command == "say" else "timeline.png"
            writable_file(args.out, "--out", example)
