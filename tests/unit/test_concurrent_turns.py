"""Turns side by side on one bus: a turn that starts while another's tokens are on the way
sees that stream from its middle, which its subscription reports as a gap; only a gap in
the turn's own streams ends it."""

from __future__ import annotations

import pytest

from bus import Event, InProcessBus
from bus.tokenbus import Delivery
from cortex.errors import TurnError
from cortex.turns.gaps import fail_on_gaps
from cortex.turns.turn import Turn


def gap(stream_id: str) -> Delivery:
    event = Event(code="gap", source="bus", detail="24 missing", data={"stream_id": stream_id})
    return Delivery("region.language-0.out", event, event.ts, b"")


def test_only_a_gap_in_the_turns_own_stream_ends_it() -> None:
    with InProcessBus() as bus:
        turn = Turn(
            bus,
            "planning",
            {"language": {"language-0": 1}},
            "Name three rivers.",
            on_delivery=fail_on_gaps(None, hwm=100),
        )
        turn._on(gap("another-turn/1"))  # seen from its middle: not this turn's concern
        with pytest.raises(TurnError, match="dropped part of this turn's stream"):
            turn._on(gap(f"{turn.turn_id}/1"))
