"""Textual messages that carry bus traffic and brain events into the app's event loop.

Worker threads (start-up, the bus pump, turns) post these with `post_message`, which is
thread-safe; handlers run on the app's loop, so widgets are only touched there. Each is a
dataclass, as Textual's own messages are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message


@dataclass
class BusDelivery(Message):
    """One message the app's bus subscription received."""

    delivery: Any


@dataclass
class StartupProgress(Message):
    """A step of the brain's start-up (a `cortex.runtime.brain.StartupEvent`)."""

    event: Any


@dataclass
class BrainReady(Message):
    """Every region has loaded; turns can run."""

    regions: list[dict[str, Any]]
    dashboard_url: str | None
    ray_address: str | None


@dataclass
class BrainFailed(Message):
    """Start-up failed; the message says why."""

    error: str


@dataclass
class TurnFinished(Message):
    """A turn produced its record (a `cortex.turns.turn.TurnRecord`)."""

    record: Any


@dataclass
class TurnFailed(Message):
    """A turn produced no answer; the message says why."""

    error: str


class BrainStopped(Message):
    """The brain has shut down; the app may exit."""
