"""How a `cortex` command meets its process: a clean stdout for JSON, and SIGTERM as Ctrl-C.

With ``--json`` a command's stdout carries one JSON document and nothing else, whatever Ray
(its "(raylet) A worker died..." lines), a library or a native thread prints meanwhile:
file descriptor 1 and `sys.stdout` point at stderr while the command runs, and
`JsonOutput.emit` writes the document to the real stdout. SIGTERM raises `Terminated` in the
main thread, so a command shuts down exactly as on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType, TracebackType
from typing import Any, TextIO

from cortex.errors import Terminated


class JsonOutput:
    """Keeps stdout for one JSON document while on (a no-op wrapper around print when off).

    Args:
        on: Whether the command was given ``--json``.
    """

    def __init__(self, on: bool) -> None:
        self.on = on
        self.emitted = False
        self._stdout: TextIO | None = None
        self._stdout_fd = -1
        self._document_fd = -1

    def __enter__(self) -> JsonOutput:
        if not self.on:
            return self
        sys.stdout.flush()
        self._stdout, sys.stdout = sys.stdout, sys.stderr
        with contextlib.suppress(OSError):
            self._stdout_fd = os.dup(1)
            os.dup2(2, 1)  # native writes and child processes too
        with contextlib.suppress(AttributeError, OSError, ValueError):  # a capture object
            if self._stdout.fileno() == 1:
                self._document_fd = self._stdout_fd
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._stdout is None:
            return
        sys.stdout.flush()
        if self._stdout_fd >= 0:
            os.dup2(self._stdout_fd, 1)
            os.close(self._stdout_fd)
            self._stdout_fd = self._document_fd = -1
        sys.stdout, self._stdout = self._stdout, None

    def emit(self, document: Any) -> None:
        """Writes the command's JSON document to the real stdout."""
        text = json.dumps(document, indent=2) + "\n"
        self.emitted = True
        if self._document_fd >= 0:
            data = text.encode()
            while data:
                data = data[os.write(self._document_fd, data) :]
        elif self._stdout is not None:
            self._stdout.write(text)
            self._stdout.flush()
        else:
            print(text, end="", flush=True)

    def fail(self, message: str) -> None:
        """Says why the command failed: one line on stderr and, with ``--json``, a document
        ``{"error": ...}`` unless the command already printed its own."""
        print(f"cortex: {message}", file=sys.stderr, flush=True)
        if self.on and not self.emitted:
            self.emit({"error": message})


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While it lasts, SIGTERM raises `Terminated` in the main thread (once: the shutdown it
    starts runs to its end). Elsewhere than in the main thread it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(number: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
