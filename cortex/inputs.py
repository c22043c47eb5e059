"""Files Cortex reads, as typed, pasted or dropped, checked before anything starts.

A picture or a recording is read here as its region will read it, so a missing file, a file
that is not an image, or a recording no decoder reads is one line at once, not an error that
comes after Ray and the models have started. `cortex.outputs` does the same for what Cortex
writes.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from cortex.errors import InputPathError

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
