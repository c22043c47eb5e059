"""Messages: every kind round-trips through the codec; the schema rejects what it must."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bus import Event, Subtask, SubtaskResult, Token, UserTurn, decode, encode
from bus.protocol import SCHEMA_VERSION

EXAMPLES = [
    UserTurn(turn_id="t1", text="Compare tea and coffee.", image_path="/tmp/cup.png"),
    Subtask(
        turn_id="t1",
        subtask_id="2",
        region="language",
        instruction="Compare their taste.",
        depends_on=("1",),
        inputs={"1": "Coffee has more caffeine."},
        max_new_tokens=64,
    ),
    Token(stream_id="t1/2", seq=7, token_id=1234, text=" bitter", final=True),
    SubtaskResult(
        turn_id="t1",
        subtask_id="2",
        stream_id="t1/2",
        region="language",
        replica="language-1",
        device="cpu:1",
        ok=True,
        text="Coffee is more bitter.",
        tokens=5,
        started=1.0,
        finished=2.5,
    ),
    Event(level="warning", code="gap", source="test", detail="2 missing", data={"missing": 2}),
]


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda m: m.kind)
def test_every_kind_round_trips(message) -> None:
    decoded = decode(encode(message))
    assert type(decoded) is type(message)
    assert decoded == message


def test_messages_are_frozen() -> None:
    token = Token(stream_id="s", seq=0, token_id=1, text="a")
    with pytest.raises(ValidationError):
        token.seq = 5  # type: ignore[misc]


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError, match="extra"):
        Token(stream_id="s", seq=0, token_id=1, text="a", colour="red")  # type: ignore[call-arg]


def test_negative_seq_is_rejected() -> None:
    with pytest.raises(ValidationError):
        Token(stream_id="s", seq=-1, token_id=1, text="a")


def test_every_message_carries_schema_version_and_timestamp() -> None:
    for message in EXAMPLES:
        assert message.schema_version == SCHEMA_VERSION
        assert message.ts > 1.6e9


def test_an_unknown_event_code_is_refused() -> None:
    with pytest.raises(ValidationError, match="code"):
        Event(code="gpa", source="test")  # type: ignore[arg-type]


@pytest.mark.parametrize("field", ["turn_id", "subtask_id"])
def test_ids_that_would_break_the_stream_id_layout_are_refused(field: str) -> None:
    fields = {"turn_id": "t1", "subtask_id": "2", "region": "language", "instruction": "x"}
    with pytest.raises(ValidationError, match=field):
        Subtask(**{**fields, field: "a/b"})
