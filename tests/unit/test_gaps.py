"""A gap in a turn's own stream ends the turn at once with the reason, instead of the turn
waiting for its timeout; gaps in other turns' streams pass."""

from __future__ import annotations

import time

import pytest

from bus import Delivery, Event, SubtaskResult, Token
from bus.codec import encode
from bus.protocol import BusMessage
from cortex.config import parse_config
from cortex.errors import TurnError
from cortex.runtime.inprocess import InProcessCortex
from cortex.turns import gaps
from cortex.turns import turn as turns
from cortex.turns.gaps import fail_on_gaps
from tests.tui.scripted import scripted_config


def delivery(message: BusMessage, topic: str = "region.language-0.out") -> Delivery:
    return Delivery(topic, message, message.ts, encode(message))


def gap(stream_id: str) -> Delivery:
    detail = f"stream {stream_id}: 3 token(s) missing before seq 7"
    return delivery(
        Event(
            level="warning",
            code="gap",
            source="driver",
            detail=detail,
            data={"stream_id": stream_id},
        )
    )


def test_a_gap_in_the_turns_stream_raises_with_the_reason() -> None:
    seen: list[Delivery] = []
    deliver = fail_on_gaps(seen.append, hwm=1)
    deliver(delivery(Token(stream_id="t1/1", seq=0, token_id=1, text="a")))
    with pytest.raises(
        TurnError, match=r"dropped part of this turn's stream \(stream t1/1: 3 .*hwm = 1"
    ):
        deliver(gap("t1/1"))
    assert len(seen) == 1


@pytest.mark.parametrize("stream", ["t1/2/retry-1", "t1/synthesis"])
def test_any_stream_of_the_turn_counts(stream: str) -> None:
    deliver = fail_on_gaps(None, hwm=10)
    deliver(delivery(Token(stream_id="t1/plan", seq=0, token_id=1, text="a")))
    with pytest.raises(TurnError):
        deliver(gap(stream))


def test_a_gap_before_anything_else_is_the_turns() -> None:
    with pytest.raises(TurnError):
        fail_on_gaps(None, hwm=10)(gap("t9/1"))


@pytest.mark.parametrize("stream", ["t2/1", "s1"])
def test_gaps_in_other_streams_pass_to_the_caller(stream: str) -> None:
    seen: list[Delivery] = []
    deliver = fail_on_gaps(seen.append, hwm=10)
    deliver(delivery(Token(stream_id="t1/1", seq=0, token_id=1, text="a")))
    deliver(gap(stream))
    assert [d.message.code for d in seen[1:]] == ["gap"]


def test_a_turn_whose_stream_loses_tokens_ends_at_once(tmp_path) -> None:
    """On the in-process bus, tokens of the turn's stream go missing (a token far ahead of the
    stream is published into it): the turn ends then with the reason, not at its timeout."""
    config = parse_config(scripted_config())
    with InProcessCortex(config, session_log=tmp_path / "session.jsonl") as brain:
        assert brain.bus is not None
        bus = brain.bus

        def lose_tokens(delivery: Delivery) -> None:
            message = delivery.message
            if (
                isinstance(message, Token)
                and message.seq == 0
                and delivery.topic.startswith("region.")
            ):
                ahead = message.model_copy(update={"seq": 50})
                bus.publish(delivery.topic, ahead)

        started = time.monotonic()
        with pytest.raises(TurnError, match=r"dropped part of this turn's stream .* hwm"):
            brain.ask("Compare tea and coffee.", on_delivery=lose_tokens)
    assert time.monotonic() - started < config.runtime.turn_timeout_s / 2


@pytest.mark.parametrize("lost_stream", ["plan", "1"])
def test_a_turn_whose_stream_loses_its_end_ends_after_a_silence(
    tmp_path, monkeypatch: pytest.MonkeyPatch, lost_stream: str
) -> None:
    """The bus drops the end of the plan's stream or of a step's (the final token and the
    result: no later token shows a gap): the turn ends after `STALL_S` of silence, saying why."""
    monkeypatch.setattr(gaps, "STALL_S", 1.0)
    on = turns.Turn._on

    def losing_the_end(turn: turns.Turn, delivery: Delivery) -> None:
        message = delivery.message
        stream_id = str(getattr(message, "stream_id", ""))
        end = isinstance(message, SubtaskResult) or (isinstance(message, Token) and message.final)
        if not (end and stream_id.endswith(f"/{lost_stream}")):
            on(turn, delivery)

    monkeypatch.setattr(turns.Turn, "_on", losing_the_end)
    config = parse_config(scripted_config())
    with InProcessCortex(config, session_log=tmp_path / "session.jsonl") as brain:
        started = time.monotonic()
        with pytest.raises(TurnError, match=rf"subtask {lost_stream} fell silent for 1 s.*hwm"):
            brain.ask("Compare tea and coffee.")
    assert time.monotonic() - started < config.runtime.turn_timeout_s / 2
