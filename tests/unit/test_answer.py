"""A turn's answer: every part, in plan order, streamed; a failed part named as missing."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from bus.protocol import Subtask, Token
from bus.topics import as_topic
from cortex.config import parse_config
from cortex.errors import TurnError
from cortex.runtime.inprocess import InProcessCortex
from cortex.turns.answer import Answer, sentences
from modules.engines import Piece
from tests.tui.scripted import (
    ScriptedLanguage,
    expected_answer,
    scripted_answer,
    scripted_config,
    words,
)


def test_parts_stream_in_plan_order_and_a_later_part_waits_for_the_ones_before() -> None:
    shown: list[str] = []
    answer = Answer(shown.append)
    for step in ("1", "2", "3"):
        answer.add_part(step, f"Part {step}.")
    answer.text_of("2", "Second, ")  # decodes first, but waits for part 1
    answer.text_of("1", " First")
    assert shown == ["First"]
    answer.text_of("2", "still second.")
    answer.finish("2")
    answer.text_of("1", " done.")
    answer.finish("1")  # part 2 appears whole; part 3 is next, live
    answer.text_of("3", "Third.")
    answer.finish("3")
    assert answer.done
    assert answer.text == "First done.\n\nSecond, still second.\n\nThird."
    assert "".join(shown) == answer.text


def test_a_failed_part_is_named_as_missing_in_its_place() -> None:
    answer = Answer(lambda text: None)
    answer.add_part("1", "Name a river.")
    answer.add_part("2", "Name a mountain?")
    answer.text_of("1", "The Rhine.")
    answer.finish("2", "language-1 died while retrying it")
    answer.finish("1")
    assert answer.text == (
        "The Rhine.\n\n(The part “Name a mountain” is missing: language-1 died while retrying it.)"
    )


class FailingOnMountains(ScriptedLanguage):
    """Answers like `ScriptedLanguage`, but fails any instruction about mountains."""

    def handle(self, subtask: Subtask) -> Iterator[Piece]:
        if "mountain" in subtask.instruction:
            yield from words("Mountains are")
            raise RuntimeError("the model ran out of memory")
        yield from super().handle(subtask)


def brain(tmp_path: Path, language: str = "ScriptedLanguage") -> InProcessCortex:
    config = scripted_config()
    if language != "ScriptedLanguage":
        config["regions"]["language"]["class"] = f"tests.unit.test_answer:{language}"
    return InProcessCortex(parse_config(config), session_log=tmp_path / "session.jsonl")


def test_a_turn_answers_every_part_in_order_and_streams_it(tmp_path: Path) -> None:
    question = "Name three rivers, describe a desert and explain what a glacier is."
    streamed: list[str] = []

    def on_delivery(delivery) -> None:
        topic = as_topic(delivery.topic)
        if topic.turn is not None and topic.channel == "out":
            assert isinstance(delivery.message, Token)
            streamed.append(delivery.message.text)

    with brain(tmp_path) as cortex:
        record = cortex.ask(question, on_delivery=on_delivery)
    assert [step.instruction for step in record.plan] == [
        "Name three rivers.",
        "Describe a desert.",
        "Explain what a glacier is.",
    ]
    assert record.answer == expected_answer(question)
    assert "".join(streamed).strip() == record.answer
    assert record.first_token_s is not None and 0 < record.first_token_s < record.wall_s
    delegates = [s for s in record.streams if s.region == "language"]
    assert {s.replica for s in delegates} == {"language-0", "language-1"}


def test_a_one_part_question_goes_to_one_delegate_directly(tmp_path: Path) -> None:
    with brain(tmp_path) as cortex:
        record = cortex.ask("What is the capital of France?")
    assert [(s.region, s.instruction) for s in record.plan] == [
        ("language", "What is the capital of France?")
    ]
    assert record.answer == expected_answer("What is the capital of France?")


def test_a_part_whose_delegate_failed_is_named_as_missing(tmp_path: Path) -> None:
    with brain(tmp_path, "FailingOnMountains") as cortex:
        record = cortex.ask("Name two rivers in Europe and two mountains in Asia.")
        first, second = record.answer.split("\n\n")
        assert first == expected_answer("Name two rivers in Europe.")
        assert second.startswith("(The part “Name two mountains in Asia” is missing: RuntimeError")
        assert any("failed" in note for note in record.notes)
        with pytest.raises(TurnError, match="every subtask failed"):
            cortex.ask("Name a mountain.")


OPENING = "In twilight's hallow tapestry,"


class SameOpening(ScriptedLanguage):
    """Opens every poem on the same line, as a small model decoding greedily does, unless
    told that an earlier part of the answer says it already."""

    def handle(self, subtask: Subtask) -> Iterator[Piece]:
        topic = subtask.instruction.rstrip(".").split(" about ")[-1]
        opening = f"Of {topic} I sing," if OPENING in subtask.avoid else OPENING
        yield from words(f"{opening}\nand {topic} sings back to me.")


def test_a_part_that_repeats_an_earlier_one_is_decoded_again_before_it_shows(
    tmp_path: Path,
) -> None:
    streamed: list[str] = []

    def on_delivery(delivery) -> None:
        topic = as_topic(delivery.topic)
        if topic.turn is not None and topic.channel == "out":
            streamed.append(delivery.message.text)

    with brain(tmp_path, "SameOpening") as cortex:
        record = cortex.ask(
            "Write a short poem about the sea, one about the moon and one about the forest.",
            on_delivery=on_delivery,
        )
    sea, moon, forest = record.answer.split("\n\n")
    assert sea.startswith(OPENING)
    assert moon.startswith("Of the moon I sing,") and forest.startswith("Of the forest I sing,")
    assert len(sentences(record.answer)) == len(set(sentences(record.answer)))
    assert "".join(streamed).strip() == record.answer  # nothing shown was taken back
    assert sum("asked again" in note for note in record.notes) == 2


class EchoesTheLastAnswer(ScriptedLanguage):
    """Answers a follow-up with the answer before it, as a small model copies the chat before
    a question, unless told not to repeat it; keeps every subtask it was given."""

    given: list[Subtask] = []

    def handle(self, subtask: Subtask) -> Iterator[Piece]:
        self.given.append(subtask)
        last = subtask.earlier[-1][1] if subtask.earlier else ""
        echo = last and last not in subtask.avoid
        yield from words(last if echo else scripted_answer(subtask.instruction))


def test_a_follow_up_reads_the_conversation_and_does_not_repeat_its_last_answer(
    tmp_path: Path,
) -> None:
    with brain(tmp_path, "EchoesTheLastAnswer") as cortex:
        first = cortex.ask("Name two rivers in Africa.")
        history = [(first.question, first.answer)]
        second = cortex.ask("And two rivers in South America?", history=history)
    assert second.answer == expected_answer("And two rivers in South America?")
    assert EchoesTheLastAnswer.given[-1].earlier == tuple(history)


class ListsTwo(ScriptedLanguage):
    def handle(self, subtask: Subtask) -> Generator[Piece, None, dict]:
        yield from words("1. Apples\n2. Pears")
        return {"notes": ["listed 2 of the 5 items asked for: the model stopped"]}


def test_a_part_that_falls_short_of_what_was_asked_says_so_in_the_notes(tmp_path: Path) -> None:
    with brain(tmp_path, "ListsTwo") as cortex:
        record = cortex.ask("List five fruits.")
    assert record.notes == ["part 1 listed 2 of the 5 items asked for: the model stopped"]
