"""`Background`: a daemon thread that runs a loop until it is stopped."""

from __future__ import annotations

import threading
from typing import Self


class Background:
    """Runs `_run` on a daemon thread from `start()`; `_run` ends once `_stop` is set."""

    thread_name = "background"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Asks the loop to end and waits for it (10 s at most)."""
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        raise NotImplementedError
