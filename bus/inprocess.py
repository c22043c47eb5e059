"""An in-process `TokenBus` for unit tests and single-process tools.

Frames go through the same codec as on ZeroMQ, so a message that cannot travel fails here
too. Delivery is deterministic: `publish()` queues a frame, and `drain()` (or any `recv()`)
hands every queued frame, in order, to every subscription whose patterns cover it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Sequence

from bus.codec import DEFAULT_MAX_FRAME_BYTES
from bus.tokenbus import Subscription, TokenBus
from bus.topics import Pattern


class InProcessSubscription(Subscription):
    """A subscription fed by an `InProcessBus`."""

    def __init__(self, bus: InProcessBus, patterns: Sequence[Pattern]) -> None:
        super().__init__(patterns, bus)
        self._bus = bus
        self._inbox: deque[list[bytes]] = deque()
        self._prefixes = tuple(p.wire_prefix for p in patterns)

    def offer(self, frames: list[bytes]) -> None:
        """Queues frames whose topic frame starts with a subscribed prefix (as ZeroMQ does)."""
        if frames and frames[0].startswith(self._prefixes):
            self._inbox.append(frames)

    def _receive_frames(self, timeout: float | None) -> list[bytes] | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._bus.changed:
            while True:
                self._bus.drain()
                if self._inbox:
                    return self._inbox.popleft()
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._bus.changed.wait(remaining)

    def _release(self) -> None:
        self._bus.forget(self)


class InProcessBus(TokenBus):
    """A token bus inside one process; thread-safe."""

    def __init__(self, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> None:
        super().__init__(max_frame_bytes)
        self.changed = threading.Condition()
        self._queue: deque[list[bytes]] = deque()
        self._live: list[InProcessSubscription] = []

    def publish_frames(self, frames: Sequence[bytes]) -> None:
        self._check_open()
        with self.changed:
            self._queue.append([bytes(f) for f in frames])
            self.changed.notify_all()

    def drain(self) -> None:
        """Delivers every queued frame to the subscriptions that cover it."""
        with self.changed:
            while self._queue:
                frames = self._queue.popleft()
                for subscription in self._live:
                    subscription.offer(frames)

    def forget(self, subscription: InProcessSubscription) -> None:
        """Stops delivering to a closed subscription."""
        with self.changed:
            if subscription in self._live:
                self._live.remove(subscription)

    def _open_subscription(self, patterns: tuple[Pattern, ...]) -> InProcessSubscription:
        subscription = InProcessSubscription(self, patterns)
        with self.changed:
            self.drain()
            self._live.append(subscription)
        return subscription
