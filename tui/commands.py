"""Slash commands typed in the prompt: parsing and checking, without any widget.

`parse()` turns ``/image photo.png`` into a `Command`, or raises `CommandError` with a
message for the user. Paths are read as terminals paste them, and media files as their
regions will read them (`cortex.inputs`), so a file they refuse is refused at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cortex.errors import InputPathError
from cortex.inputs import MediaKind, pasted_path, readable_media

COMMANDS = {
    "/image": ("PATH", "attach a picture (PNG, JPEG, WebP, GIF, ...) to your next question"),
    "/audio": ("PATH", "attach a recording (WAV, FLAC, OGG, MP3, ...) to your next question"),
    "/speak": ("on|off", "speak each answer aloud"),
    "/clear": ("", "clear the conversation on screen and start fresh context"),
    "/save": ("[PATH]", "export the transcript as Markdown"),
    "/help": ("", "show keys and commands"),
    "/quit": ("", "shut every region down and leave"),
}


class CommandError(ValueError):
    """A command the app cannot carry out; the message tells the user what to do."""


@dataclass(frozen=True)
class Command:
    name: str
    argument: str = ""


def parse(text: str) -> Command:
    """Parses one slash command line.

    Raises:
        CommandError: Unknown command, or a missing or bad argument.
    """
    name, _, argument = text.strip().partition(" ")
    name, argument = name.lower(), argument.strip()
    if name not in COMMANDS:
        raise CommandError(f"unknown command {name}; type /help for the list")
    if name == "/image":
        return Command(name, str(check_media(argument, "image")))
    if name == "/audio":
        return Command(name, str(check_media(argument, "audio")))
    if name == "/speak" and argument not in ("on", "off"):
        raise CommandError("use /speak on or /speak off")
    return Command(name, argument)


def check_media(argument: str, kind: MediaKind) -> Path:
    """Checks that a media path names a file its region can read (`cortex.inputs`).

    Raises:
        CommandError: No path, no such file, unreadable, or not an image/recording.
    """
    try:
        path = pasted_path(argument)
        if path == Path():
            raise CommandError(f"/{kind} needs a path, e.g. /{kind} ~/photo.png")
        return readable_media(path, kind)
    except InputPathError as error:
        raise CommandError(str(error)) from None


def help_lines() -> list[str]:
    """One line per command, for the help screen."""
    return [f"{name} {arg}".strip().ljust(16) + text for name, (arg, text) in COMMANDS.items()]
