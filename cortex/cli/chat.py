"""`cortex chat`: the terminal conversation."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cortex.cli.console import JsonOutput
from cortex.cli.options import add_runtime_options, configured
from cortex.runtime.brain import Brain


def add_parser(commands: Any) -> None:
    chat = commands.add_parser(
        "chat",
        help="open the terminal conversation",
        description="Watch the plan form and every region stream while you talk to Cortex.",
    )
    chat.add_argument(
        "--resume",
        nargs="?",
        const=True,
        default=False,
        metavar="SESSION",
        help="continue a past session: pick one from a list, or give its log file",
    )
    add_runtime_options(chat)
    chat.set_defaults(run=run)


def run(args: argparse.Namespace, output: JsonOutput) -> int:
    from tui.app import CortexApp
    from tui.terminal import terminal_problem

    if problem := terminal_problem():
        print(f"cortex: {problem}", file=sys.stderr)
        return 2
    config = configured(args)
    resume: bool | Path = (
        Path(args.resume).expanduser() if isinstance(args.resume, str) else args.resume
    )
    if isinstance(resume, Path) and not resume.is_file():
        print(f"cortex: no session log at {resume}", file=sys.stderr)
        return 2

    def make_brain() -> Brain:
        from cortex.runtime.cortex import Cortex  # imports Ray and torch, off the screen's thread

        return Cortex(config, address=args.address, session_log=args.session)

    CortexApp(make_brain, resume=resume).run()
    return 0
