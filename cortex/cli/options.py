"""What every command shares: the runtime options, text and paths as typed, progress lines.

Nothing heavy is imported here (each command imports Ray, torch or the configuration when it
runs), so `cortex --help` and `cortex status` start in a fraction of a second.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from cortex.errors import InputPathError
from cortex.inputs import MediaKind, pasted_path, readable_media

if TYPE_CHECKING:
    from cortex.config import CortexConfig
    from cortex.runtime.brain import StartupEvent


def add_runtime_options(command: argparse.ArgumentParser, session: bool = True) -> None:
    """The options of every command that starts regions (`session`: and keeps a session log)."""
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
    if session:
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


def image_path(value: str) -> str:
    """A picture's path as given or pasted (`media_path`), read as the vision region will."""
    return media_path(value, "image")


def audio_path(value: str) -> str:
    """A recording's path as given or pasted (`media_path`), read as the speech region will."""
    return media_path(value, "audio")


def media_path(value: str, kind: MediaKind) -> str:
    """A media path as given or pasted: quoted, backslash-escaped or a ``file://`` URL; the
    file must be one its region reads (`cortex.inputs`). It travels to its region on the bus,
    so its name must be UTF-8."""
    try:
        path = pasted_path(value)
        readable = typed_text(str(path))
        if str(path) != readable:
            raise InputPathError(f"{readable}: the file's name is not UTF-8; rename the file")
        return str(readable_media(path, kind))
    except InputPathError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def configured(args: argparse.Namespace) -> CortexConfig:
    """The configuration the command's options name, with their overrides. Region classes
    import from the current folder too, as under ``python -m`` (and on Ray's workers, which
    get the driver's folder), and each is imported now, and each hub model is checked to be
    cached or reachable: a wrong one is said before start-up.

    Raises:
        RegionError: A region's class cannot be imported or is not a `Region`, or its model
            is neither cached nor on a hub that answers (`ModelNotFoundError`).
    """
    from cortex.config import load_config
    from modules.host import import_region
    from modules.models import check_available

    config = load_config(args.config)
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    for region in config.regions.values():
        import_region(region.class_path())
        check_available(region.model)
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
