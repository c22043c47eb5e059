"""A turn whose streams the bus broke ends at once, saying why.

The bus reports the tokens a subscription missed (its queue overflowed at ``[bus] hwm``) as a
``gap`` event on that subscription. When a turn's own subscription misses tokens of the turn's
own streams, what it collects is incomplete, and the result it waits for may have been
dropped with them: waiting would last until the turn's timeout. `fail_on_gaps` wraps the
callback a turn calls with each of its deliveries so that such a gap raises `TurnError` there
and then. `StallWatch` does the same for a stream that falls silent: its end was lost.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from bus.protocol import Event, Subtask, SubtaskResult, Token
from bus.streams import StreamId
from bus.tokenbus import DEFAULT_HWM, Delivery
from cortex.errors import TurnError

OnDelivery = Callable[[Delivery], None]
STALL_S = 30.0
"""Silence after which a step that was streaming is taken to have lost its end on the bus
(regions stream every token as it is decoded, many a second)."""


def dropped(detail: str, hwm: int) -> TurnError:
    """The error of a turn whose stream the bus broke (`detail` says where)."""
    return TurnError(
        f"the bus dropped part of this turn's stream ({detail}), so the answer would be "
        f"incomplete; [bus] hwm = {hwm} is too small for this traffic: raise it (the default "
        f"is {DEFAULT_HWM})"
    )


def fail_on_gaps(on_delivery: OnDelivery | None, hwm: int) -> OnDelivery:
    """`on_delivery` (if any), after raising `TurnError` on a gap in the turn's streams.

    The turn is known by the messages it passes on (only its own); a gap that arrives before
    any of them can only be the turn's.

    Args:
        on_delivery: The caller's callback.
        hwm: The bus's high-water mark, for the message.
    """
    turns: set[str] = set()

    def deliver(delivery: Delivery) -> None:
        message = delivery.message
        if isinstance(message, Subtask | SubtaskResult):
            turns.add(message.turn_id)
        elif isinstance(message, Token) and (turn := StreamId.turn_of(message.stream_id)):
            turns.add(turn)
        elif isinstance(message, Event) and message.code == "gap":
            turn = StreamId.turn_of(str(message.data.get("stream_id", "")))
            if not turns or turn in turns:
                raise dropped(message.detail, hwm)
        if on_delivery is not None:
            on_delivery(delivery)

    return deliver


class StallWatch:
    """When each of a turn's streams last spoke; a stream that spoke and then fell silent for
    `STALL_S` lost its end (its last tokens or its result) on the bus."""

    def __init__(self, hwm: int) -> None:
        self.hwm = hwm
        self._last: dict[str, float] = {}

    def heard(self, step_id: str) -> None:
        """A token (or, for the plan, a step) of `step_id` arrived now."""
        self._last[step_id] = time.monotonic()

    def forget(self, step_id: str) -> None:
        """`step_id` starts again (a retry): it is timed from its own first token."""
        self._last.pop(step_id, None)

    def check(self, step_ids: Iterable[str]) -> None:
        """Raises `TurnError` when one of `step_ids` streamed and then fell silent."""
        now = time.monotonic()
        for step_id in step_ids:
            last = self._last.get(step_id)
            if last is not None and now - last > STALL_S:
                raise dropped(f"subtask {step_id} fell silent for {STALL_S:.0f} s", self.hwm)
