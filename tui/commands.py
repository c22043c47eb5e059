"""Slash commands typed in the prompt: parsing and checking, without any widget.

`parse()` turns ``/image photo.png`` into a `Command`, or raises `CommandError` with a
message for the user. Paths are read as terminals paste them (`pasted_path`); media files
are read as their regions will read them, so a file they refuse is refused at once.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from modules.errors import BadRequestError
from modules.media.audio import read_audio
from modules.media.images import load_image

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
    if name in ("/image", "/audio"):
        return Command(name, str(check_media(argument, name[1:])))
    if name == "/speak" and argument not in ("on", "off"):
        raise CommandError("use /speak on or /speak off")
    return Command(name, argument)


def check_media(argument: str, kind: str) -> Path:
    """Checks that a media path names a file its region can read, by reading it as the
    region will (`modules.media.images.load_image`, `modules.media.audio.read_audio`).

    Raises:
        CommandError: No path, no such file, unreadable, or not an image/recording.
    """
    path = pasted_path(argument)
    if path == Path():
        raise CommandError(f"/{kind} needs a path, e.g. /{kind} ~/photo.png")
    if not path.is_file():
        raise CommandError(f"no file at {path}")
    try:
        (load_image if kind == "image" else read_audio)(str(path))
    except BadRequestError as error:
        raise CommandError(str(error)) from None
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror}") from None
    return path


def pasted_path(text: str) -> Path:
    """A path as a terminal pastes or drops it: bare, in '...' or "...", with backslash-escaped
    spaces, or a ``file://`` URL (percent-encoded). A bare path that names a file is taken as
    it is, even where it holds quotes or backslashes.

    Raises:
        CommandError: A ``file://`` URL of another host.
    """
    text = text.strip()
    bare = Path(text).expanduser()
    if not text or bare.exists():
        return bare
    try:
        words = shlex.split(text)
    except ValueError:  # an unmatched quote: the text is a bare path after all
        words = [text]
    if len(words) == 1:
        text = words[0]
    if text.lower().startswith("file:"):
        url = urlsplit(text)
        if url.netloc not in ("", "localhost"):
            raise CommandError(f"{text} is a file on another computer ({url.netloc})")
        text = unquote(url.path)
    return Path(text).expanduser()


def help_lines() -> list[str]:
    """One line per command, for the help screen."""
    return [f"{name} {arg}".strip().ljust(16) + text for name, (arg, text) in COMMANDS.items()]
