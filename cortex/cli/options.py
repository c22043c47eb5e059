"""What every command shares: the runtime options, text and paths as typed, progress lines."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cortex.config import CortexConfig, load_config
from cortex.runtime.brain import StartupEvent
from tui.commands import CommandError, pasted_path


def add_runtime_options(command: argparse.ArgumentParser) -> None:
    """The options of every command that starts regions."""
    command.add_argument(
        "--config", metavar="PATH", help="a cortex.toml (default: the shipped one)"
    )
    command.add_argument(
        "--address",
        metavar="HOST:PORT",
        type=typed_text,
        help="attach to a running Ray cluster instead of a local one",
    )
    command.add_argument(
        "--device",
        choices=["auto", "gpu", "cpu"],
        help="override the configuration's device policy",
    )
    command.add_argument("--session", metavar="PATH", help="append turns to this session log")
    command.add_argument(
        "--dashboard",
        action="store_true",
        help="start Ray's dashboard with the local cluster (on runtime.dashboard_host)",
    )


def typed_text(value: str) -> str:
    """Command-line text as Unicode that can travel: the bytes of it the locale could not
    decode (Python keeps them as surrogate escapes) are read as UTF-8, and any that are not
    UTF-8 either (a Latin-1 terminal's ``é``) become U+FFFD."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def media_path(value: str) -> str:
    """A media path as given or pasted: quoted, backslash-escaped or a ``file://`` URL. It
    travels to its region on the bus, so its name must be UTF-8."""
    try:
        path = str(pasted_path(value))
    except CommandError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if path != typed_text(path):
        raise argparse.ArgumentTypeError(
            f"{typed_text(path)}: the file's name is not UTF-8; rename the file"
        )
    return path


def configured(args: argparse.Namespace) -> CortexConfig:
    """The configuration the command's options name, with their overrides."""
    config = load_config(args.config)
    overrides: dict[str, Any] = {"device": args.device} if args.device else {}
    if args.dashboard:
        overrides["dashboard"] = True
    if overrides:
        config = config.model_copy(update={"runtime": config.runtime.model_copy(update=overrides)})
    return config


def say(line: str) -> None:
    """A line for the person at the terminal, on stderr (stdout carries the answer)."""
    print(line, file=sys.stderr, flush=True)


def progress(event: StartupEvent) -> None:
    """Start-up progress, one line a step."""
    if event.state != "loading":
        say(event.message)
