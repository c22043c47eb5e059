"""A language region that streams numbered words at a steady pace, as many as its
``max_new_tokens``, so a test can act on a process while its turn is surely mid-decode,
without model weights."""

from __future__ import annotations

import time
from collections.abc import Iterator

from bus.protocol import Subtask
from modules.region import Piece
from tests.tui.scripted import ScriptedLanguage

PAUSE_S = 0.05


class SteadyLanguage(ScriptedLanguage):
    """Streams ``w0 w1 ...``, one word per `PAUSE_S`."""

    def handle(self, subtask: Subtask) -> Iterator[Piece]:
        for index in range(self.settings.sampling.max_new_tokens):
            time.sleep(PAUSE_S)
            yield Piece(index, f" w{index}")
