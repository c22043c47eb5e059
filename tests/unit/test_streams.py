"""Stream ids: one value type builds and parses ``<turn>/<step>[/retry-n]``; any other text is
a valid stream that belongs to no turn."""

from __future__ import annotations

import pytest

from bus import Subtask
from bus.streams import StreamId


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("4f2a/1", ("4f2a", "1", 0)),
        ("4f2a/plan", ("4f2a", "plan", 0)),
        ("t9/2/retry-1", ("t9", "2", 1)),
        ("t9/synthesis/retry-12", ("t9", "synthesis", 12)),
    ],
)
def test_a_turns_stream_id_names_its_parts(text: str, parts: tuple[str, str, int]) -> None:
    stream = StreamId.parse(text)
    assert stream is not None and (stream.turn, stream.step, stream.attempt) == parts
    assert str(stream) == text
    assert StreamId.turn_of(text) == parts[0]


@pytest.mark.parametrize(
    "text", ["s1", "after", "-", "a/b/c", "a/b/retry-0", "a/b/retry-x", "/1", "t/", "a//b", "a/b/"]
)
def test_any_other_stream_belongs_to_no_turn(text: str) -> None:
    assert StreamId.parse(text) is None
    assert StreamId.turn_of(text) is None


def test_a_subtask_names_its_stream_through_the_value_type() -> None:
    step = Subtask(turn_id="t1", subtask_id="2", region="language", instruction="x")
    assert step.stream_id == "t1/2"
    retried = step.model_copy(update={"attempt": 1})
    assert StreamId.parse(retried.stream_id) == StreamId("t1", "2", 1)


@pytest.mark.parametrize(
    ("turn", "step", "attempt"), [("", "1", 0), ("t", "", 0), ("a/b", "1", 0), ("t", "1", -1)]
)
def test_impossible_parts_are_refused(turn: str, step: str, attempt: int) -> None:
    with pytest.raises(ValueError, match="stream id"):
        StreamId(turn, step, attempt)
