"""Textual messages that carry bus traffic and brain events into the app's event loop.

Worker threads (start-up, the bus pump, turns) post these with `post_message`, which is
thread-safe; handlers run on the app's loop, so widgets are only touched there.
"""

from __future__ import annotations

from typing import Any

from textual.message import Message


class BusDelivery(Message):
    """One message the app's bus subscription received."""

    def __init__(self, delivery: Any) -> None:
        super().__init__()
        self.delivery = delivery


class StartupProgress(Message):
    """A step of the brain's start-up (a `cortex.runtime.brain.StartupEvent`)."""

    def __init__(self, event: Any) -> None:
        super().__init__()
        self.event = event


class BrainReady(Message):
    """Every region has loaded; turns can run."""

    def __init__(
        self, regions: list[dict[str, Any]], dashboard_url: str | None, ray_address: str | None
    ) -> None:
        super().__init__()
        self.regions = regions
        self.dashboard_url = dashboard_url
        self.ray_address = ray_address


class BrainFailed(Message):
    """Start-up failed; the message says why."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class TurnFinished(Message):
    """A turn produced its record (a `cortex.turns.turn.TurnRecord`)."""

    def __init__(self, record: Any) -> None:
        super().__init__()
        self.record = record


class TurnFailed(Message):
    """A turn produced no answer; the message says why."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class BrainStopped(Message):
    """The brain has shut down; the app may exit."""
