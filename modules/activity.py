"""Busy spans: when a device actually worked, and the share of a time window it did.

A region host records one span per decode step (the time inside the region's `handle`
generator, which is where the model runs). `busy_fraction` measures any list of spans over a
window: the monitoring gauge uses the last minute, experiments use a whole run.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable

from bus.traffic import drain

Span = tuple[float, float]
"""(start, end) in seconds on one clock."""

MERGE_GAP_S = 0.002
"""Steps closer than this are stored as one span: a continuous decode stays one entry."""


def busy_fraction(spans: Iterable[Span], start: float, end: float) -> float:
    """The share of [start, end] covered by the union of `spans` (overlaps count once)."""
    if end <= start:
        return 0.0
    covered = 0.0
    reached = start
    for span_start, span_end in sorted(spans):
        span_start, span_end = max(span_start, reached), min(span_end, end)
        if span_end > span_start:
            covered += span_end - span_start
            reached = span_end
    return covered / (end - start)


class Activity:
    """The busy spans of one device over a sliding window, and its decode step times.

    Args:
        window_s: How far back `fraction()` looks.
    """

    def __init__(self, window_s: float = 60.0) -> None:
        self.window_s = window_s
        self.since = time.perf_counter()
        self.spans: deque[Span] = deque()
        self.steps_s: deque[float] = deque(maxlen=4096)
        """Step durations not yet taken by an exporter."""

    def record(self, start: float, end: float) -> None:
        """Adds one step that ran from `start` to `end` (`time.perf_counter()` seconds)."""
        self.steps_s.append(end - start)
        if self.spans and start - self.spans[-1][1] < MERGE_GAP_S:
            self.spans[-1] = (self.spans[-1][0], end)
        else:
            self.spans.append((start, end))
        while self.spans and self.spans[0][1] < end - self.window_s:
            self.spans.popleft()

    def fraction(self, now: float | None = None) -> float:
        """Share of the last `window_s` (or of the time since creation, if shorter) spent busy."""
        now = time.perf_counter() if now is None else now
        return busy_fraction(list(self.spans), max(self.since, now - self.window_s), now)

    def idle_s(self, now: float | None = None) -> float | None:
        """Seconds since the last step ended; None if none ended within `window_s`."""
        now = time.perf_counter() if now is None else now
        spans = list(self.spans)
        if not spans or now - spans[-1][1] > self.window_s:
            return None
        return round(max(0.0, now - spans[-1][1]), 1)

    def take_steps(self) -> list[float]:
        """Removes and returns the step durations recorded since the last call."""
        return drain(self.steps_s)
