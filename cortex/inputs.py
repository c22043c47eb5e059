"""Files Cortex reads, as typed, pasted or dropped, checked before anything starts.

A picture or a recording is read here as its region will read it, so a missing file, a file
that is not an image, or a recording no decoder reads is one line at once, not an error that
comes after Ray and the models have started; a configuration or experiment file is read as
editors save it (`read_toml`). `cortex.outputs` does the same for what Cortex writes.
"""

from __future__ import annotations

import codecs
import shlex
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from cortex.errors import ConfigError, InputPathError, MissingFileError

MediaKind = Literal["image", "audio"]


def pasted_path(text: str) -> Path:
    """A path as a terminal pastes or drops it: bare, in '...' or "...", with backslash-escaped
    spaces, or a ``file://`` URL (percent-encoded). A bare path that names a file is taken as
    it is, even where it holds quotes or backslashes.

    Raises:
        InputPathError: A ``file://`` URL of another host.
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
            raise InputPathError(f"{text} is a file on another computer ({url.netloc})")
        text = unquote(url.path)
    return Path(text).expanduser()


def readable_media(path: Path, kind: MediaKind) -> Path:
    """Checks that `path` is a picture (or a recording) its region can read, by reading it as
    the region will (`modules.media.images.load_image`, `modules.media.audio.read_audio`).

    Raises:
        InputPathError: No such file, unreadable, or not an image (recording) Cortex reads.
    """
    from modules.errors import BadRequestError
    from modules.media.audio import read_audio
    from modules.media.images import load_image

    if path.is_dir():
        raise InputPathError(f"{path} is a folder; give a file")
    if not path.is_file():
        raise InputPathError(f"no file at {path}")
    try:
        (load_image if kind == "image" else read_audio)(str(path))
    except BadRequestError as error:
        raise InputPathError(str(error)) from None
    except OSError as error:
        raise InputPathError(f"cannot read {path}: {error.strerror}") from None
    return path


def read_toml(path: str | Path, what: str) -> dict[str, Any]:
    """Reads a TOML file as editors save it: UTF-8, with or without a byte-order mark.

    Args:
        path: The file.
        what: What the file is, for messages ("configuration file").

    Raises:
        ConfigError: The file is missing or unreadable, not UTF-8 (UTF-16 and UTF-32 are
            named, with the fix), or not TOML.
    """
    path = Path(path).expanduser()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise MissingFileError(f"no {what} at {path}") from None
    except OSError as error:
        raise MissingFileError(f"cannot read {path}: {error.strerror}") from None
    wide = _wide_encoding(raw)
    if wide:
        raise ConfigError(f"{path} is saved as {wide}; save it as UTF-8 (TOML files are UTF-8)")
    raw = raw.removeprefix(codecs.BOM_UTF8)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ConfigError(
            f"{path} is not UTF-8 (byte 0x{raw[error.start]:02X} on line {line}); save it as UTF-8"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None


_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32 (little-endian)"),
    (codecs.BOM_UTF32_BE, "UTF-32 (big-endian)"),
    (codecs.BOM_UTF16_LE, "UTF-16 (little-endian)"),
    (codecs.BOM_UTF16_BE, "UTF-16 (big-endian)"),
)


def _wide_encoding(raw: bytes) -> str:
    """UTF-16 or UTF-32 by its byte-order mark, or without one by where the zero bytes of
    mostly-ASCII text fall (UTF-8 TOML has none); "" for anything else."""
    for bom, name in _WIDE_BOMS:
        if raw.startswith(bom):
            return name
    head = raw[:512]
    even, odd = head[0::2], head[1::2]
    zeros_even = even.count(0) > len(even) / 3
    zeros_odd = odd.count(0) > len(odd) / 3
    if zeros_even and zeros_odd:
        return "UTF-32"
    if zeros_odd:
        return "UTF-16 (little-endian)"
    return "UTF-16 (big-endian)" if zeros_even else ""
