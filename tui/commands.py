"""Slash commands typed in the prompt: parsing and checking, without any widget.

`parse()` turns ``/image photo.png`` into a `Command`, or raises `CommandError` with a
message for the user. Media files are checked by their first bytes, not their names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

COMMANDS = {
    "/image": ("PATH", "attach an image (PNG, JPEG, WebP) to your next question"),
    "/audio": ("PATH", "attach a recording (WAV, FLAC, OGG) to your next question"),
    "/speak": ("on|off", "speak each answer aloud"),
    "/clear": ("", "clear the conversation on screen and start fresh context"),
    "/save": ("[PATH]", "export the transcript as Markdown"),
    "/help": ("", "show keys and commands"),
    "/quit": ("", "shut every region down and leave"),
}
_SIGNATURES = {
    "image": (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"RIFF"),
    "audio": (b"RIFF", b"fLaC", b"OggS"),
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
    if name in ("/image", "/audio"):
        return Command(name, str(check_media(argument, name[1:])))
    if name == "/speak" and argument not in ("on", "off"):
        raise CommandError("use /speak on or /speak off")
    return Command(name, argument)


def check_media(argument: str, kind: str) -> Path:
    """Checks that a media path names a readable file of the right kind.

    Raises:
        CommandError: No path, no such file, unreadable, or not an image/recording.
    """
    if not argument:
        raise CommandError(f"/{kind} needs a path, e.g. /{kind} ~/photo.png")
    path = Path(argument).expanduser()
    if not path.is_file():
        raise CommandError(f"no file at {path}")
    try:
        with path.open("rb") as file:
            head = file.read(16)
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror}") from None
    if not head.startswith(_SIGNATURES[kind]) or (
        head.startswith(b"RIFF") and head[8:12] != (b"WEBP" if kind == "image" else b"WAVE")
    ):
        wanted = "PNG, JPEG or WebP image" if kind == "image" else "WAV, FLAC or OGG recording"
        raise CommandError(f"{path} is not a {wanted}")
    return path


def help_lines() -> list[str]:
    """One line per command, for the help screen."""
    return [f"{name} {arg}".strip().ljust(16) + text for name, (arg, text) in COMMANDS.items()]
