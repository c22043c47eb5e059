"""Files and folders Cortex writes to, checked before any model loads.

A session log, a spoken answer or an experiment's results are written after minutes of
work; a path that cannot take them (a folder given for a file, a file standing where a
folder must be, no permission) is refused up front with a one-line error instead. Missing
folders on the way are made.
"""

from __future__ import annotations

import os
from pathlib import Path

from cortex.errors import OutputPathError


def writable_file(path: str | Path, what: str, example: str) -> Path:
    """Checks that a file can be written at `path` and makes its folder; returns the path.

    Args:
        path: Where the file goes.
        what: How the user gave it, for the message (``--speak``, ``the session log``).
        example: A file name to suggest when `path` is a folder (``answer.wav``).

    Raises:
        OutputPathError: `path` is a folder, lies below a file, or cannot be written.
    """
    target = Path(path).expanduser()
    if target.is_dir():
        raise OutputPathError(
            f"{what} {path} is a folder; give a file path, such as {target / example}"
        )
    _make_folder(target.parent, what, path)
    if target.exists() and not os.access(target, os.W_OK):
        raise OutputPathError(f"{what} {path} cannot be written (permission denied)")
    return target


def writable_folder(path: str | Path, what: str) -> Path:
    """Checks that files can be written into the folder `path` and makes it; returns it.

    Raises:
        OutputPathError: `path` is a file, lies below a file, or cannot be written.
    """
    target = Path(path).expanduser()
    if target.exists() and not target.is_dir():
        raise OutputPathError(f"{what} {path} is a file; give a folder")
    _make_folder(target, what, path)
    return target


def _make_folder(folder: Path, what: str, path: str | Path) -> None:
    existing = folder.absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise OutputPathError(f"{what} {path} lies below {existing}, which is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputPathError(f"{what} {path}: no permission to write in {existing}")
    folder.mkdir(parents=True, exist_ok=True)
