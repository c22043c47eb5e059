"""The `TokenBus` interface that every transport implements, and what subscribers share.

A subscription turns raw frames ``[topic, payload]`` into `Delivery` records. Problems are
reported in-band, in order, as `Event` messages: a gap in a token stream (code ``gap``), a
token that arrives out of order (``reordered``) and a frame that cannot be decoded
(``malformed``) each become an `Event` delivery and a count in `SubscriptionStats`, so
nothing is lost silently and no bad frame ever raises out of `recv()`.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from bus.codec import DEFAULT_MAX_FRAME_BYTES, decode, encode
from bus.errors import BusClosedError, BusDecodeError, TopicError
from bus.protocol import BusMessage, Event, EventCode, JsonScalar, Message, Token
from bus.resource import Resource
from bus.topics import Pattern, Topic, as_pattern, as_topic, is_reserved
from bus.traffic import BusTraffic

log = logging.getLogger("cortex.bus")

DEFAULT_HWM = 100_000
"""High-water mark, in messages, of every socket queue: past it ZeroMQ drops (and gaps show)."""

MAX_TRACKED_STREAMS = 10_000
MAX_CACHED_TOPICS = 4096
_TOPIC_BYTES_RE = re.compile(rb"[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*")


class Delivery(NamedTuple):
    """One message as a subscriber received it."""

    topic: str
    message: Message
    received: float
    """Subscriber's Unix time at receipt."""
    payload: bytes
    """The frame's payload exactly as it travelled (what the recorder writes)."""


@dataclass
class SubscriptionStats:
    """Counters of one subscription."""

    received: int = 0
    malformed: int = 0
    gaps: int = 0
    missing: int = 0
    """Tokens known to be lost: the sum of all gap sizes."""
    reordered: int = 0
    skipped: int = 0
    """Tokens a display passed over to catch up (see `Subscription.take_latest`)."""


class StreamTracker:
    """Follows each token stream's `seq` on each topic and tells when one arrives out of line.

    A stream may travel on several topics at once (a turn's answer is on its region's output
    and on the turn's); each copy is followed on its own.
    """

    def __init__(self, max_streams: int = MAX_TRACKED_STREAMS) -> None:
        self._next_seq: dict[tuple[str, str], int] = {}
        self._max_streams = max_streams

    def observe(self, topic: str, token: Token) -> int:
        """Records a token received on `topic`; returns how far its seq is from the expected.

        0 means in order, a positive number is how many tokens went missing before this
        one, a negative number means it arrived late (a duplicate or reordered token).
        """
        key = (topic, token.stream_id)
        expected = self._next_seq.pop(key, 0)
        if not token.final:
            self._next_seq[key] = max(expected, token.seq + 1)
            if len(self._next_seq) > self._max_streams:
                del self._next_seq[next(iter(self._next_seq))]
        return token.seq - expected


class Subscription(Resource, ABC):
    """A live subscription to one or more topic patterns. Use it from one thread at a time."""

    def __init__(self, patterns: Sequence[Pattern], bus: TokenBus) -> None:
        self.patterns = tuple(patterns)
        self.stats = SubscriptionStats()
        self._max_frame_bytes = bus.max_frame_bytes
        self._traffic = bus.traffic
        self._tracker = StreamTracker()
        self._ready: deque[Delivery] = deque()
        self._wanted: dict[bytes, str | None] = {}
        self._closed = False
        self._source = "subscription[" + ",".join(p.text for p in self.patterns) + "]"

    @abstractmethod
    def _receive_frames(self, timeout: float | None) -> list[bytes] | None:
        """Returns the next raw frame list, or None if none came within `timeout` seconds."""

    @abstractmethod
    def _release(self) -> None:
        """Frees the transport's resources."""

    def recv(self, timeout: float | None = None) -> Delivery | None:
        """Returns the next delivery, or None if nothing arrived within `timeout` seconds.

        `timeout=None` waits until something arrives; `0` only takes what is already here.

        Raises:
            BusClosedError: The subscription was closed.
        """
        if self._ready:
            return self._ready.popleft()
        if self._closed:
            raise BusClosedError(f"{self._source} is closed")
        start = time.monotonic()
        remaining = timeout
        while (frames := self._receive_frames(remaining)) is not None:
            delivery = self._accept(frames)
            if self._ready:  # events to report come before the delivery that caused them
                if delivery is not None:
                    self._ready.append(delivery)
                return self._ready.popleft()
            if delivery is not None:
                return delivery
            if timeout is not None:
                remaining = max(0.0, timeout - (time.monotonic() - start))
        return None

    def take_latest(self, keep_tokens: int) -> list[Delivery]:
        """Everything that has arrived, for a display that fell behind: every message that is
        not a token, each stream's final token, and only the newest `keep_tokens` other tokens.
        The tokens passed over are counted in `stats.skipped`; never use this where a result
        depends on every token.
        """
        backlog = []
        while (delivery := self.recv(timeout=0)) is not None:
            backlog.append(delivery)
        passable = [
            index
            for index, delivery in enumerate(backlog)
            if isinstance(delivery.message, Token) and not delivery.message.final
        ]
        skipped = set(passable[: max(0, len(passable) - keep_tokens)])
        self.stats.skipped += len(skipped)
        return [delivery for index, delivery in enumerate(backlog) if index not in skipped]

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Stops receiving; further `recv()` calls raise `BusClosedError`."""
        if not self._closed:
            self._closed = True
            self._release()

    def _accept(self, frames: list[bytes]) -> Delivery | None:
        """The delivery a frame list makes, or None (skipped, or reported as malformed)."""
        received = time.time()
        if len(frames) != 2:
            self._report_malformed("?", f"expected 2 frames [topic, payload], got {len(frames)}")
            return None
        topic_bytes, payload = frames
        topic = self._wanted.get(topic_bytes, "")
        if topic == "":
            if not _TOPIC_BYTES_RE.fullmatch(topic_bytes):
                self._report_malformed(
                    "?", f"topic frame {topic_bytes[:40]!r} is not a valid topic"
                )
                return None
            topic = self._remember(topic_bytes)
        if topic is None:
            return None
        try:
            message = decode(payload, self._max_frame_bytes)
        except BusDecodeError as error:
            self._report_malformed(topic, str(error), reason=error.reason)
            return None
        if isinstance(message, Token) and (offset := self._tracker.observe(topic, message)):
            self._report_order(topic, message, offset)
        self.stats.received += 1
        self._traffic.count_delivered(topic, received - message.ts)
        return Delivery(topic, message, received, payload)

    def _remember(self, topic_bytes: bytes) -> str | None:
        """Caches whether a valid topic is delivered here: its name, or None to skip it."""
        name = topic_bytes.decode()
        wanted = not is_reserved(name) and any(p.matches(name) for p in self.patterns)
        if len(self._wanted) >= MAX_CACHED_TOPICS:
            self._wanted.clear()
        self._wanted[topic_bytes] = name if wanted else None
        return self._wanted[topic_bytes]

    def _report_order(self, topic: str, token: Token, offset: int) -> None:
        if offset > 0:
            self.stats.gaps += 1
            self.stats.missing += offset
            self._report(
                topic,
                "gap",
                f"stream {token.stream_id}: {offset} token(s) missing before seq {token.seq}",
                stream_id=token.stream_id,
                missing=offset,
                seq=token.seq,
            )
        elif offset < 0:
            self.stats.reordered += 1
            self._report(
                topic,
                "reordered",
                f"stream {token.stream_id}: seq {token.seq} arrived after seq "
                f"{token.seq - offset - 1}",
                stream_id=token.stream_id,
                seq=token.seq,
            )

    def _report_malformed(self, topic: str, detail: str, reason: str = "framing") -> None:
        self.stats.malformed += 1
        count = self.stats.malformed
        if count <= 10 or count % 1000 == 0:
            log.warning(
                "%s skipped malformed frame #%d on %s: %s", self._source, count, topic, detail
            )
        self._report(topic, "malformed", detail, reason=reason, count=count)

    def _report(self, topic: str, code: EventCode, detail: str, **data: JsonScalar) -> None:
        self._traffic.count_problem(code)
        event = Event(level="warning", code=code, source=self._source, detail=detail, data=data)
        self._ready.append(Delivery(topic, event, event.ts, encode(event)))


class TokenBus(Resource, ABC):
    """Publish/subscribe for bus messages. Implementations: in-process and ZeroMQ."""

    def __init__(self, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> None:
        self.max_frame_bytes = max_frame_bytes
        self.traffic = BusTraffic()
        self._subscriptions: list[Subscription] = []
        self._subscribing = threading.Lock()
        self._closed = False

    @abstractmethod
    def publish_frames(self, frames: Sequence[bytes]) -> None:
        """Sends raw frames exactly as given, unchecked (for relaying logs and fault tests)."""

    @abstractmethod
    def _open_subscription(self, patterns: tuple[Pattern, ...]) -> Subscription:
        """Creates a subscription that is live when it returns."""

    def _release(self) -> None:  # noqa: B027 - transports without resources need nothing here
        """Frees the transport's resources after every subscription is closed."""

    def publish(self, topic: Topic | str, message: BusMessage) -> None:
        """Publishes one message on a topic.

        Raises:
            TopicError: The topic is malformed or reserved for the bus.
            BusEncodeError: The message is over the frame size limit.
            BusClosedError: The bus was closed.
        """
        self._check_open()
        checked = as_topic(topic)
        if is_reserved(checked.name):
            raise TopicError(f"topic {checked.name!r} is reserved for the bus itself")
        self.publish_frames([checked.wire, encode(message, self.max_frame_bytes)])
        self.traffic.count_published(checked.name)

    def subscribe(self, *patterns: Pattern | Topic | str) -> Subscription:
        """Subscribes to topic patterns; returns once the subscription is live.

        Every message published after this returns, on a matching topic, is delivered.

        Raises:
            TopicError: A pattern is malformed, or none was given.
            BusConnectError: The subscription did not become live in time.
        """
        self._check_open()
        if not patterns:
            raise TopicError("subscribe() needs at least one pattern, e.g. 'region.*' or '*'")
        subscription = self._open_subscription(tuple(as_pattern(p) for p in patterns))
        with self._subscribing:  # several threads subscribe; closed ones are let go
            self._subscriptions = [s for s in self._subscriptions if not s.closed]
            self._subscriptions.append(subscription)
        return subscription

    def close(self) -> None:
        """Closes every subscription made through this bus, then the bus itself."""
        if self._closed:
            return
        self._closed = True
        for subscription in self._subscriptions:
            subscription.close()
        self._release()

    def _check_open(self) -> None:
        if self._closed:
            raise BusClosedError("the token bus is closed")
