"""`cortex chat`: the terminal conversation."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cortex.cli.console import JsonOutput
from cortex.cli.options import add_runtime_options, configured
from cortex.turns.sessions import new_session_path

CHAT = "chat"
"""The name chat's session logs start with, so `--resume` lists them alone."""

if TYPE_CHECKING:
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
        help="continue a past session: pick one of chat's from a list, or give its log file",
    )
    chat.add_argument(
        "--all-sessions",
        action="store_true",
        help="with --resume, list the sessions of every command (ask, serve...), not chat's alone",
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

        session = args.session or new_session_path(CHAT)
        return Cortex(config, address=args.address, session_log=session)

    CortexApp(make_brain, resume=resume, listed=None if args.all_sessions else CHAT).run()
    return 0
