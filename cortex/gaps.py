"""A turn whose streams the bus broke ends at once, saying why.

The bus reports the tokens a subscription missed (its queue overflowed at ``[bus] hwm``) as a
``gap`` event on that subscription. When a turn's own subscription misses tokens of the turn's
own streams, what it collects is incomplete, and the result it waits for may have been
dropped with them: waiting would last until the turn's timeout. `fail_on_gaps` wraps the
callback a turn calls with each of its deliveries so that such a gap raises `TurnError` there
and then.
"""

from __future__ import annotations

from collections.abc import Callable

from bus.protocol import Event, Subtask, SubtaskResult, Token
from bus.streams import StreamId
from bus.tokenbus import DEFAULT_HWM, Delivery
from cortex.errors import TurnError

OnDelivery = Callable[[Delivery], None]


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
