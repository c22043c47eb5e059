"""The session log: one JSON line per finished turn, flushed and fsynced as it is written.

Logs live in ``$CORTEX_DATA_DIR/sessions``, else ``$XDG_DATA_HOME/cortex/sessions``, else
``~/.local/share/cortex/sessions``.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from cortex.outputs import writable_file

log = logging.getLogger("cortex.turns.sessions")


def data_dir() -> Path:
    if explicit := os.environ.get("CORTEX_DATA_DIR"):
        return Path(explicit)
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "cortex"


def new_session_path(command: str = "") -> Path:
    """A fresh log path named by the command that keeps it, if given, and the start time:
    ``chat-20261129-061502-3fa2.jsonl``, ``20261129-061502-3fa2.jsonl``."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    named = f"{command}-" if command else ""
    return data_dir() / "sessions" / f"{named}{stamp}-{uuid.uuid4().hex[:4]}.jsonl"


def past_sessions(command: str | None = None) -> list[Path]:
    """The session logs kept so far, the last written first: those of `command` (named so by
    `new_session_path`), or every one."""
    logs = (data_dir() / "sessions").glob(f"{command}-*.jsonl" if command else "*.jsonl")
    return sorted(logs, key=lambda path: path.stat().st_mtime, reverse=True)


class SessionLog:
    """Appends records to a JSON-lines file, each durable once `append` returns."""

    def __init__(self, path: str | Path | None = None) -> None:
        self._writing = threading.Lock()
        if path is None:
            self.path = new_session_path()
            self.path.parent.mkdir(parents=True, exist_ok=True)
        else:
            self.path = writable_file(path, "the session log", "session.jsonl")

    def append(self, record: dict[str, Any]) -> None:
        """Appends one record; safe from several threads at once."""
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._writing:
            if self._ends_torn():  # a crash cut the last line: start on a line of our own
                line = "\n" + line
            with self.path.open("a", encoding="utf-8") as file:
                file.write(line)
                file.flush()
                os.fsync(file.fileno())

    def _ends_torn(self) -> bool:
        if not self.path.exists() or self.path.stat().st_size == 0:
            return False
        with self.path.open("rb") as file:
            file.seek(-1, os.SEEK_END)
            return file.read(1) != b"\n"

    def records(self) -> list[dict[str, Any]]:
        """Every complete record; a torn line (a crash mid-write) is skipped with a warning."""
        if not self.path.exists():
            return []
        records = []
        for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                log.warning(
                    "%s: line %d is incomplete (the program stopped while writing it); skipped",
                    self.path,
                    number,
                )
        return records
