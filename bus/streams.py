"""Stream ids: the one place their layout is built and parsed.

A turn's token stream is named ``<turn>/<step>``, and ``<turn>/<step>/retry-<n>`` when a step
is run again after its region died. Any other non-empty text is a valid stream id too (a
pipeline run's, a test's); it simply belongs to no turn, and `StreamId.parse` says so with
None instead of raising.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LAYOUT = re.compile(r"(?P<turn>[^/]+)/(?P<step>[^/]+)(?:/retry-(?P<attempt>[1-9][0-9]*))?")


@dataclass(frozen=True)
class StreamId:
    """A turn's stream: which turn, which step of it, and which attempt (0 the first).

    Raises:
        ValueError: A part is empty or holds a '/', or the attempt is negative.
    """

    turn: str
    step: str
    attempt: int = 0

    def __post_init__(self) -> None:
        for part, value in (("turn", self.turn), ("step", self.step)):
            if not value or "/" in value:
                raise ValueError(f"a stream id's {part} must be non-empty, without '/': {value!r}")
        if self.attempt < 0:
            raise ValueError(f"a stream id's attempt counts from 0, got {self.attempt}")

    @classmethod
    def parse(cls, text: str) -> StreamId | None:
        """The parts of a turn's stream id, or None for a stream that belongs to no turn."""
        match = _LAYOUT.fullmatch(text)
        if match is None:
            return None
        return cls(match["turn"], match["step"], int(match["attempt"] or 0))

    @classmethod
    def turn_of(cls, text: str) -> str | None:
        """The turn a stream id belongs to, if any."""
        parsed = cls.parse(text)
        return parsed.turn if parsed is not None else None

    def __str__(self) -> str:
        stream = f"{self.turn}/{self.step}"
        return f"{stream}/retry-{self.attempt}" if self.attempt else stream
