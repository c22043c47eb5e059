"""Topic names and subscription patterns.

A topic is dot-separated segments of lower-case letters, digits, '-' and '_', for example
``region.language-0.out`` or ``turn.4f2a.in``. A pattern is either a whole topic (matches
exactly that topic), a topic prefix ending in ``.*`` (matches every topic below it, by whole
segments: ``region.*`` matches ``region.language.out`` but not ``regional.x``), or ``*``
(everything). On ZeroMQ a pattern becomes a prefix subscription, so filtering happens at the
proxy; the exact match is applied again on receipt.
Topics under ``bus.`` are reserved for the bus itself. Topics under ``kv.`` carry bulk data
(a KV state's chunks, `bus.handoff`) to the one subscriber that asked for it by name: ``*``
does not match them, so a recorder or a screen never receives megabytes it did not ask for.
Cortex's own topics are ``region.<instance>.<channel>`` and ``turn.<id>.<channel>``; `Topic`
names their parts, and the functions at the end of this file build them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bus.errors import TopicError

MAX_TOPIC_LENGTH = 200
RESERVED_PREFIX = "bus."
BULK_PREFIX = "kv."
_SEGMENT = r"[a-z0-9][a-z0-9_-]*"
_TOPIC_RE = re.compile(rf"{_SEGMENT}(\.{_SEGMENT})*")


def _check_name(name: str, what: str) -> None:
    if not isinstance(name, str):
        raise TopicError(f"{what} must be a string, not {type(name).__name__}")
    if len(name) > MAX_TOPIC_LENGTH:
        raise TopicError(f"{what} {name[:40]!r}... is over {MAX_TOPIC_LENGTH} characters")
    if not _TOPIC_RE.fullmatch(name):
        raise TopicError(
            f"{what} {name!r} is malformed: use dot-separated segments of a-z, 0-9, '-' and '_',"
            " each starting with a letter or digit (e.g. 'region.language-0.out')"
        )


@dataclass(frozen=True)
class Topic:
    """A validated topic name."""

    name: str

    def __post_init__(self) -> None:
        _check_name(self.name, "topic")

    def __str__(self) -> str:
        return self.name

    @property
    def wire(self) -> bytes:
        """The topic frame as it travels on ZeroMQ."""
        return self.name.encode()

    @property
    def channel(self) -> str:
        """The last segment of a ``region.<name>.<channel>`` or ``turn.<id>.<channel>`` topic
        (``in``, ``out``, ``plan``), else empty."""
        return self._layout()[2]

    @property
    def region(self) -> str | None:
        """The region instance of a ``region.<name>.<channel>`` topic, else None."""
        scope, owner, _ = self._layout()
        return owner if scope == "region" else None

    @property
    def turn(self) -> str | None:
        """The turn id of a ``turn.<id>.<channel>`` topic, else None."""
        scope, owner, _ = self._layout()
        return owner if scope == "turn" else None

    def _layout(self) -> tuple[str, str, str]:
        """(scope, owner, channel) of a region's or a turn's topic; empty strings otherwise."""
        segments = self.name.split(".")
        if len(segments) != 3 or segments[0] not in ("region", "turn"):
            return "", "", ""
        return segments[0], segments[1], segments[2]


@dataclass(frozen=True)
class Pattern:
    """A validated subscription pattern: a topic, ``prefix.*`` or ``*``."""

    text: str

    def __post_init__(self) -> None:
        if self.text == "*":
            return
        base = self.text[:-2] if self.text.endswith(".*") else self.text
        _check_name(base, "pattern")

    def __str__(self) -> str:
        return self.text

    @property
    def is_prefix(self) -> bool:
        return self.text == "*" or self.text.endswith(".*")

    @property
    def wire_prefix(self) -> bytes:
        """The ZeroMQ subscription prefix that covers this pattern."""
        if self.text == "*":
            return b""
        return self.text[:-1].encode() if self.is_prefix else self.text.encode()

    def matches(self, topic: str) -> bool:
        """Whether `topic` falls under this pattern, by whole segments."""
        if self.text == "*":
            return not topic.startswith(BULK_PREFIX)
        if self.is_prefix:
            return topic.startswith(self.text[:-1])
        return topic == self.text


def as_topic(topic: Topic | str) -> Topic:
    """Validates a topic given as a string, passing a `Topic` through."""
    return topic if isinstance(topic, Topic) else _cached_topic(topic)


@lru_cache(maxsize=4096)
def _cached_topic(name: str) -> Topic:
    return Topic(name)


def as_pattern(pattern: Pattern | Topic | str) -> Pattern:
    """Validates a pattern given as a string or topic, passing a `Pattern` through."""
    if isinstance(pattern, Pattern):
        return pattern
    return Pattern(pattern.name if isinstance(pattern, Topic) else pattern)


def region_out(region: str) -> Topic:
    """Where a region instance streams its tokens and results: ``region.<name>.out``."""
    return Topic(f"region.{region}.out")


def region_inbox(region: str) -> Topic:
    """Where a region instance receives subtasks: ``region.<name>.in``."""
    return Topic(f"region.{region}.in")


def region_drafts(region: str) -> Topic:
    """Where a region instance receives speculative decoding's traffic: requests to draft
    (a draft region) and the tokens proposed to it (a target): ``region.<name>.draft``."""
    return Topic(f"region.{region}.draft")


def turn_in(turn_id: str) -> Topic:
    """Where a conversation turn's user input is published: ``turn.<id>.in``."""
    return Topic(f"turn.{turn_id}.in")


def turn_out(turn_id: str) -> Topic:
    """Where a turn's final answer streams: ``turn.<id>.out``."""
    return Topic(f"turn.{turn_id}.out")


def is_reserved(topic: str) -> bool:
    """Whether a topic belongs to the bus's own traffic (handshake probes)."""
    return topic.startswith(RESERVED_PREFIX)


def turn_plan(turn_id: str) -> Topic:
    """Where the planner publishes a turn's subtasks as their lines complete."""
    return Topic(f"turn.{turn_id}.plan")


def kv_requests(region: str) -> Topic:
    """Where a region instance hears requests for the KV states it holds, and the receivers'
    acknowledgements: ``region.<name>.kv``."""
    return Topic(f"region.{region}.kv")


def kv_transfer(transfer_id: str) -> Topic:
    """Where one KV state travels to the receiver that asked for it: ``kv.<transfer id>``."""
    return Topic(f"{BULK_PREFIX}{transfer_id}")
