"""Stop strings over a stream of pieces: nothing of a stop string is ever shown.

A piece whose text could still begin a stop string is held back until the text shows it does
not; once a stop string appears, the text is cut where it starts and decoding ends.
"""

from __future__ import annotations

from dataclasses import replace

from modules.engines.stream import Piece


class StopMatcher:
    """Holds back pieces while their text could still begin a stop string.

    `feed` returns the pieces safe to emit; once a stop string appears, the piece where it
    starts is cut there, everything after it is dropped, and `stopped` turns True.
    """

    def __init__(self, stops: tuple[str, ...]) -> None:
        self.stops = tuple(s for s in stops if s)
        self.stopped = False
        self._held: list[Piece] = []

    def feed(self, piece: Piece) -> list[Piece]:
        """Takes the next piece; returns the pieces now safe to emit, in order."""
        if not self.stops:
            return [piece]
        self._held.append(piece)
        text = "".join(p.text for p in self._held)
        found = [i for s in self.stops if (i := text.find(s)) != -1]
        if found:
            self.stopped = True
            return _cut(self._held, min(found))
        safe = len(text) - max(
            (k for s in self.stops for k in range(1, len(s)) if text.endswith(s[:k])), default=0
        )
        release: list[Piece] = []
        while self._held and len(self._held[0].text) <= safe:
            safe -= len(self._held[0].text)
            release.append(self._held.pop(0))
        return release

    def flush(self) -> list[Piece]:
        """The pieces still held when decoding ends for another reason."""
        held, self._held = self._held, []
        return held


def _cut(pieces: list[Piece], at: int) -> list[Piece]:
    """The pieces whose text lies before character `at`, the last one shortened."""
    kept: list[Piece] = []
    for piece in pieces:
        if at <= 0:
            break
        kept.append(replace(piece, text=piece.text[:at]))
        at -= len(piece.text)
    return kept
