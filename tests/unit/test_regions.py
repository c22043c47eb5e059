"""Region hosts on the in-process bus: streaming, results, bad input, several at once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from bus import Event, InProcessBus, Subtask, SubtaskResult, Token
from bus.topics import region_inbox, region_out
from modules.engines import Piece, SamplingSettings
from modules.errors import RegionError
from modules.host import RegionHost, import_region
from modules.openings import answer_start, items_asked_for
from modules.region import RegionSettings
from modules.shaping import may_end_here


def host(bus: InProcessBus, class_path: str, name: str, model: str, **options) -> RegionHost:
    settings = RegionSettings(
        name=name,
        kind=name.split("-")[0],
        model=model,
        sampling=SamplingSettings(max_new_tokens=6),
        max_concurrent=4,
        options=options,
    )
    region_host = RegionHost(class_path, settings, bus=bus)
    region_host.setup()
    return region_host


def collect_until_result(subscription, turn_id: str = "t") -> list:
    deliveries = []
    while True:
        delivery = subscription.recv(timeout=60)
        assert delivery is not None, "no result within 60 s"
        deliveries.append(delivery)
        message = delivery.message
        if isinstance(message, SubtaskResult) and message.turn_id == turn_id:
            return deliveries


@pytest.fixture()
def language(bus: InProcessBus, tiny_model_dir: Path) -> Iterator[RegionHost]:
    region_host = host(bus, "modules.language:LanguageRegion", "language-0", str(tiny_model_dir))
    yield region_host
    region_host.stop()


def answer(bus: InProcessBus, instruction: str) -> tuple[list[Token], SubtaskResult]:
    """The tokens and the result of one subtask sent to ``language-0``."""
    out = bus.subscribe(region_out("language-0"))
    bus.publish(
        region_inbox("language-0"),
        Subtask(turn_id="t", subtask_id="1", region="language", instruction=instruction),
    )
    deliveries = collect_until_result(out)
    tokens = [d.message for d in deliveries if isinstance(d.message, Token)]
    return tokens, deliveries[-1].message


def test_language_region_streams_tokens_then_its_result(bus, language) -> None:
    tokens, result = answer(bus, "Name a colour.")
    assert [t.seq for t in tokens] == list(range(len(tokens)))
    assert tokens[-1].final and tokens[-1].token_id == Token.END_MARKER_ID
    assert all(not t.final for t in tokens[:-1])
    assert result.ok and result.tokens == len(tokens) - 1 == 6
    assert result.text == "".join(t.text for t in tokens)
    assert result.replica == "language-0" and result.device.startswith("cpu")
    info = language.info()
    assert info["tokens"] == 6 and info["subtasks_started"] == info["subtasks_done"] == 1
    assert 0 < info["busy_fraction"] <= 1 and info["state"] == "idle"


def test_bad_input_fails_the_subtask_not_the_region(bus, language) -> None:
    out = bus.subscribe(region_out("language-0"))
    bus.publish(
        region_inbox("language-0"),
        Subtask(turn_id="t", subtask_id="1", region="language", instruction="  "),
    )
    deliveries = collect_until_result(out)
    result = deliveries[-1].message
    assert not result.ok and "instruction is empty" in result.error
    assert language.info()["subtasks_failed"] == 1
    assert any(
        isinstance(d.message, Event) and d.message.code == "subtask_failed" for d in deliveries
    )
    long = "word " * 400  # the tiny model reads 256 tokens
    bus.publish(
        region_inbox("language-0"),
        Subtask(turn_id="u", subtask_id="1", region="language", instruction=long),
    )
    result = collect_until_result(out, "u")[-1].message
    assert not result.ok and "reads at most 256" in result.error
    bus.publish(
        region_inbox("language-0"),
        Subtask(turn_id="v", subtask_id="1", region="language", instruction="Hi there"),
    )
    assert collect_until_result(out, "v")[-1].message.ok  # still serving


def test_import_region_refuses_what_is_not_a_region() -> None:
    with pytest.raises(RegionError, match="package.module:Class"):
        import_region("modules.language")
    with pytest.raises(RegionError, match="cannot import"):
        import_region("modules.nowhere:Region")
    with pytest.raises(RegionError, match="not a subclass"):
        import_region("bus.protocol:Token")


def test_a_region_decodes_several_subtasks_at_once(bus, language) -> None:
    out = bus.subscribe(region_out("language-0"))
    for turn in "abcd":
        bus.publish(
            region_inbox("language-0"),
            Subtask(turn_id=turn, subtask_id="1", region="language", instruction=f"Say {turn}."),
        )
    finished: dict[str, float] = {}
    first_token: dict[str, float] = {}
    while len(finished) < 4:
        delivery = out.recv(timeout=60)
        assert delivery is not None, "no result within 60 s"
        message = delivery.message
        if isinstance(message, Token) and message.token_id != Token.END_MARKER_ID:
            first_token.setdefault(message.stream_id[0], delivery.received)
        elif isinstance(message, SubtaskResult):
            assert message.ok and message.tokens == 6
            finished[message.turn_id] = delivery.received
    # every stream started before any of them ended: they decoded together, not in turn
    assert max(first_token.values()) < min(finished.values())
    assert language.info()["max_concurrent"] == 4


@pytest.mark.parametrize(
    ("text", "may_end"),
    [
        ("Cats sleep a lot.", True),
        ("Is it far? ", True),
        ("He said “yes.”", True),
        ("富士山は高い。", True),
        ("First paragraph.\n\n", True),
        ("A line of verse\nand a stanza's end\n\n", True),
        ("Cats sleep a lot", False),
        ("A line of verse\n", False),
        ("Steps:\n1.", False),
        ("Tips:\n1. Sleep early.", False),
        ("- towel\n- sunscreen.\n\n", False),  # a list ends after three items at least
        ("- towel\n- sunscreen\n- hat\n", True),
        ("1. towel\n2. sunscreen\n3. hat", False),
        ("It costs 3.", False),
    ],
)
def test_an_answer_past_its_wrap_up_point_may_end_only_where_a_reader_would(
    text: str, may_end: bool
) -> None:
    assert may_end_here(text) is may_end


@pytest.mark.parametrize(
    ("instruction", "start"),
    [
        ("What is the capital of Spain?", "The capital of Spain is"),
        ("what's the tallest mountain in the world?", "The tallest mountain in the world is"),
        (
            "Who was the first person to walk on the moon?",
            "The first person to walk on the moon was",
        ),
        ("Where are the pyramids of Giza?", "The pyramids of Giza are"),
        ("What is photosynthesis?", "Photosynthesis is"),
        ("What is your name?", ""),
        ("What is the difference between a virus and a bacterium?", ""),
        ("What is it?", ""),
        ("What is 12 times 7?", ""),
        ("What is the capital of Italy, the capital of Germany and the capital of Spain?", ""),
        ("Name the capital of Spain.", ""),
        ("What is going on?", ""),
        ("Give me a packing list for a ski trip.", "Packing list for a ski trip:\n1."),
        ("Give three tips for saving money.", "Three tips for saving money:\n1."),
        ("List three ideas for a rainy day", "Three ideas for a rainy day:\n1."),
        ("List five fruits.", "Five fruits:\n1."),
        ("Name two rivers in Africa.", "Two rivers in Africa:\n1."),
        ("Name one planet.", ""),
        ("Give me a shopping list for a party and for a picnic.", ""),
        ("Explain what a to-do list is.", ""),
        ("Write a paragraph about the best ways to relax.", ""),
    ],
)
def test_a_question_about_one_thing_or_a_list_has_its_answers_start(
    instruction: str, start: str
) -> None:
    assert answer_start(instruction) == start


@pytest.mark.parametrize(
    ("instruction", "openings", "start"),
    [
        ("What is the capital of Spain?", ("list",), ""),
        ("Give three tips for saving money.", ("one_thing",), ""),
        ("Give three tips for saving money.", ("list",), "Three tips for saving money:\n1."),
        ("What is the capital of Spain?", (), ""),
    ],
)
def test_each_opening_rule_can_be_left_out(instruction: str, openings, start: str) -> None:
    assert answer_start(instruction, openings) == start


def test_an_answer_start_is_streamed_first_and_continued(bus, language) -> None:
    tokens, result = answer(bus, "What is a cat?")
    assert next(t.text for t in tokens if t.text) == "A cat is"  # before any decoded token
    assert result.ok and result.text.startswith("A cat is") and len(result.text) > len("A cat is")


def test_a_list_runs_to_the_number_of_items_asked_for() -> None:
    assert items_asked_for("Give five tips for saving money.") == 5
    assert items_asked_for("List 4 Greek gods") == 4
    assert items_asked_for("Write a packing list for a ski trip.") is None  # at least 3
    assert items_asked_for("Read for 30 minutes, then name two novels.") == 2
    four = "Ideas:\n1. a\n2. b\n3. c\n"
    assert not may_end_here(four, items=4) and may_end_here(four + "4. d\n", items=4)


class ScriptedEngine:
    """Stands in for an engine: each request decodes the next of `replies` (the last one
    again once they run out), then ends for `reason`; `requests` keeps the chats asked."""

    def __init__(self, words: list[str], reason: str, *more: list[str]) -> None:
        self.replies, self.reason = [words, *more], reason
        self.requests: list[list[dict]] = []

    def submit(self, messages, sampling, assist=None):
        words = self.replies[min(len(self.requests), len(self.replies) - 1)]
        self.requests.append(messages)
        engine = self

        class Stream:
            finish_reason = None
            prompt_tokens = 5
            prefill_s, imported_tokens, kv_note = 0.0, 0, ""

            def __iter__(self):
                yield from (Piece(i, word) for i, word in enumerate(words))
                self.finish_reason = engine.reason

            def cancel(self):
                pass

        return Stream()

    def tokenize(self, text: str) -> list[int]:
        return list(range(len(text.split()) or 1))

    def close(self) -> None:
        pass


@pytest.mark.parametrize(
    ("words", "reason", "shown"),
    [
        # past half the budget (4 of 8 tokens), the answer stops at the next sentence end
        (
            ["One", " two.", " Three", " four.", " Five", " six.", " Se", "ven."],
            "length",
            "One two. Three four.",
        ),
        # the budget runs out inside a sentence begun past that point: it is not shown
        (
            ["One", " two", " three.", " Four", " five", " six", " seven", " eight"],
            "length",
            "One two three.",
        ),
        # a list: the budget runs out inside an item begun past that point: it is not shown
        (["1. a", "\n", "2. b", "\n", "3. c", " d", " e", " f"], "length", "1. a\n2. b"),
        # the model ends it itself: nothing is held back
        (["One", " two", " three.", " Four", " five"], "stop", "One two three. Four five"),
        # white space at the end is not shown
        (["One", " two.", "\n", "\n"], "stop", "One two."),
    ],
)
def test_an_answer_ends_at_a_sentence_past_half_its_budget(
    bus, language, words: list[str], reason: str, shown: str
) -> None:
    language.region.engine.close()
    language.region.engine = ScriptedEngine(words, reason)
    pieces = list(language.region.generate([], max_new_tokens=8))
    assert "".join(p.text for p in pieces) == shown


def test_a_part_of_a_three_part_answer_wraps_up_sooner(bus, language) -> None:
    language.region.engine.close()
    language.region.engine = ScriptedEngine([" A."] * 12, "length")
    out = bus.subscribe(region_out("language-0"))
    lengths = {}
    for parts in (1, 3):
        bus.publish(
            region_inbox("language-0"),
            Subtask(
                turn_id=f"t{parts}",
                subtask_id="1",
                region="language",
                instruction="Write.",
                max_new_tokens=12,
                parts=parts,
            ),
        )
        lengths[parts] = collect_until_result(out, f"t{parts}")[-1].message.tokens
    assert lengths == {1: 6, 3: 3}  # half the budget; 5/12 of that for one of three


def test_end_at_sentence_off_decodes_the_whole_budget(bus, language) -> None:
    words = ["One", " two.", " Three", " four.", " Five", " six.", " Se", "ven"]
    language.region.engine.close()
    language.region.engine = ScriptedEngine(words, "length")
    language.region.settings = replace(language.region.settings, end_at_sentence=False)
    pieces = list(language.region.generate([], max_new_tokens=8))
    assert "".join(p.text for p in pieces) == "".join(words)


def test_a_list_the_model_ends_short_goes_on_from_the_next_number(bus, language) -> None:
    three = [" a", "\n", "2. b", "\n", "3. c"]  # after its start, "Five fruits:\n1."
    language.region.engine.close()
    language.region.engine = engine = ScriptedEngine(three, "stop", [" d", "\n"], [" e"])
    tokens, result = answer(bus, "List five fruits.")
    assert result.text == "Five fruits:\n1. a\n2. b\n3. c\n4. d\n5. e"
    written = "Five fruits:\n1." + "".join(three) + "\n4."
    assert engine.requests[1][-1] == {"role": "assistant", "content": written}
    assert result.data["notes"] == []


def test_a_list_still_short_says_why_in_its_result(bus, language) -> None:
    language.region.engine.close()
    language.region.engine = ScriptedEngine([" a", "\n", "2. b"], "stop", [])
    _, result = answer(bus, "List five fruits.")
    assert result.text == "Five fruits:\n1. a\n2. b"  # the "3." it went on from: not shown
    assert result.data["notes"] == ["listed 2 of the 5 items asked for: the model stopped"]


def test_an_answer_never_ends_on_a_line_announcing_what_follows(bus, language) -> None:
    # the model stops after the announcement; asked to go on, it writes nothing more
    words = ["It", " has", " parts.", " Here", " is", " how", " it", " works:"]
    language.region.engine.close()
    language.region.engine = ScriptedEngine(words, "stop", [""])
    pieces = list(language.region.generate([], max_new_tokens=8))
    assert "".join(p.text for p in pieces) == "It has parts."
