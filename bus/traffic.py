"""`BusTraffic`: what one process's bus connection sent and received, for monitoring.

Counts are kept per topic family, where a turn's id is folded out (``turn.4f2a.out`` counts
as ``turn.*.out``) so the number of series stays bounded however long a session runs.
One-way latency is the receiver's clock minus the message's ``ts``; the latest samples are
kept in a bounded buffer for an exporter to drain. Counting costs a dict update per message.
"""

from __future__ import annotations

import statistics
import threading
from collections import Counter, deque
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from bus.protocol import EventCode

MAX_FAMILIES = 256
"""Past this many topic families, further ones are counted as ``other``."""
LATENCY_SAMPLES = 4096


@lru_cache(maxsize=4096)
def topic_family(topic: str) -> str:
    """The topic with per-turn ids folded out: ``turn.<id>.out`` -> ``turn.*.out``."""
    head, _, rest = topic.partition(".")
    if head == "turn" and "." in rest:
        return "turn.*." + rest.partition(".")[2]
    return topic


def drain(samples: deque[float]) -> list[float]:
    """Empties a sample buffer that another thread may be appending to, oldest first."""
    taken = []
    while samples:  # popleft is atomic, so no lock is needed against the appending thread
        taken.append(samples.popleft())
    return taken


def latency_percentiles(samples: list[float]) -> tuple[float, float] | None:
    """The median and the 99th percentile of latency samples; None without samples."""
    if len(samples) < 2:
        return (samples[0], samples[0]) if samples else None
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49], cuts[98]


@dataclass
class BusTraffic:
    """Counters of one bus connection and its subscriptions, shared by their threads."""

    published: Counter[str] = field(default_factory=Counter)
    delivered: Counter[str] = field(default_factory=Counter)
    gaps: int = 0
    malformed: int = 0
    latencies_s: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_SAMPLES))
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count_published(self, topic: str) -> None:
        with self._lock:
            self.published[self._family(topic, self.published)] += 1

    def count_delivered(self, topic: str, latency_s: float) -> None:
        with self._lock:
            self.delivered[self._family(topic, self.delivered)] += 1
        self.latencies_s.append(latency_s)

    def count_problem(self, code: EventCode) -> None:
        """Counts a gap or a malformed frame that a subscription reported."""
        with self._lock:
            if code == "gap":
                self.gaps += 1
            elif code == "malformed":
                self.malformed += 1

    def take_latencies(self) -> list[float]:
        """Removes and returns the latency samples gathered since the last call."""
        return drain(self.latencies_s)

    def snapshot(self) -> dict[str, Any]:
        """Plain copies of every counter."""
        with self._lock:
            return {
                "published": dict(self.published),
                "delivered": dict(self.delivered),
                "gaps": self.gaps,
                "malformed": self.malformed,
            }

    @staticmethod
    def _family(topic: str, counts: Counter[str]) -> str:
        family = topic_family(topic)
        if family not in counts and len(counts) >= MAX_FAMILIES:
            return "other"
        return family
