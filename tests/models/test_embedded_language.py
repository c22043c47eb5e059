"""The embedded SmolLM2 end to end: `cortex ask` with the default configuration."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bus import InProcessBus, Subtask, SubtaskResult
from bus.topics import region_inbox, region_out
from cortex.runtime.inprocess import InProcessCortex
from modules.engines import SamplingSettings, create_engine
from modules.host import RegionHost
from modules.language import SYSTEM_PROMPT
from modules.region import RegionSettings
from modules.shaping import may_end_here
from tests.helpers import FOUR_CHATS, cortex_cli

pytestmark = pytest.mark.model


@pytest.mark.parametrize("engine", ["llama.cpp", "transformers"])
def test_embedded_model_answers_a_simple_question_greedily(engine: str) -> None:
    model = create_engine(engine, "embedded:smollm2-135m-instruct", context_length=512).start()
    chat = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": "What is the capital of France?"},
    ]
    answer = "".join(p.text for p in model.generate(chat, SamplingSettings(max_new_tokens=16)))
    model.close()
    assert "Paris" in answer


def test_transformers_batches_four_greedy_streams_as_each_alone() -> None:
    """Four streams in one padded batch (rows of different lengths: the padding is masked,
    each row at its own position) give the embedded model's solo text."""
    model = create_engine("transformers", "embedded:smollm2-135m-instruct", context_length=512)
    model.start()
    greedy = SamplingSettings(max_new_tokens=40, repetition_penalty=1.0, no_repeat_ngram=0)
    solo = ["".join(p.text for p in model.generate(chat, greedy)) for chat in FOUR_CHATS]
    streams = [model.submit(chat, greedy) for chat in FOUR_CHATS]
    together = ["".join(p.text for p in stream) for stream in streams]
    model.close()
    assert together == solo


@pytest.mark.e2e
def test_cortex_ask_plans_and_decodes_concurrently(tmp_path: Path) -> None:
    session = tmp_path / "session.jsonl"
    completed = cortex_cli(
        "ask",
        "--json",
        "--session",
        str(session),
        "Name two rivers in Europe and two mountains in Asia.",
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr
    record = json.loads(completed.stdout)
    print(json.dumps(record, indent=1))
    assert [step["instruction"] for step in record["plan"]] == [
        "Name two rivers in Europe.",
        "Name two mountains in Asia.",
    ]
    assert record["answer"].count("\n\n") >= 1 and record["first_token_s"] > 0
    assert record["answer"].strip()
    assert {"id", "region", "instruction", "depends_on"} <= set(record["plan"][0])
    delegates = [s for s in record["streams"] if s["region"] == "language"]
    assert len(delegates) >= 2
    overlapping = [
        (a["replica"], b["replica"])
        for i, a in enumerate(delegates)
        for b in delegates[i + 1 :]
        if max(a["start"], b["start"]) < min(a["end"], b["end"])
    ]
    assert overlapping, "two delegate streams should decode at the same time"
    assert json.loads(session.read_text().splitlines()[-1])["answer"] == record["answer"]


def answer_of(instruction: str, max_new_tokens: int) -> SubtaskResult:
    """One subtask's result from a language region running the embedded model."""
    with InProcessBus() as bus:
        settings = RegionSettings(
            name="language-0",
            kind="language",
            model="embedded:smollm2-135m-instruct",
            sampling=SamplingSettings(max_new_tokens=max_new_tokens),
        )
        host = RegionHost("modules.language:LanguageRegion", settings, bus=bus)
        host.setup()
        out = bus.subscribe(region_out("language-0"))
        bus.publish(
            region_inbox("language-0"),
            Subtask(turn_id="t", subtask_id="1", region="language", instruction=instruction),
        )
        while not isinstance(result := out.recv(timeout=60).message, SubtaskResult):
            pass
        host.stop()
    return result


def test_a_long_answer_ends_at_a_sentence_within_its_budget() -> None:
    result = answer_of("Write a long story about a lighthouse keeper and his cat.", 40)
    assert result.ok and 20 <= result.tokens < 40, result
    assert may_end_here(result.text), result.text


def test_a_question_about_one_thing_is_answered_from_its_start() -> None:
    """Asked alone, the embedded model answers this in Spanish about El Salvador; started
    with the thing asked about, it names the capital."""
    result = answer_of("What is the capital of Spain?", 24)
    assert result.ok and result.text.startswith("The capital of Spain is Madrid"), result.text


def test_a_list_request_is_answered_as_a_list_under_its_heading() -> None:
    result = answer_of("Give three tips for sleeping better.", 96)
    assert result.ok and result.text.startswith("Three tips for sleeping better:\n1."), result.text
    assert "\n2." in result.text and "\n3." in result.text, result.text


def test_a_list_has_the_number_of_items_asked_for() -> None:
    """Within its own budget of 96 tokens the embedded model listed 5 of these 7 tips."""
    result = answer_of("Give me seven tips for sleeping better.", 96)
    items = [line for line in result.text.splitlines() if re.match(r"\d+\. ", line)]
    assert result.ok and len(items) == 7, result.text
    assert result.data["notes"] == []


def test_a_follow_up_names_new_things_instead_of_repeating_the_last_answer() -> None:
    """Given the exchange before it as notes, the embedded model answered this follow-up with
    the last answer again, word for word ("The Nile is a renowned river in Africa...")."""
    with InProcessCortex(only={"planning", "language"}) as brain:
        first = brain.ask("Name two rivers in Africa.")
        second = brain.ask(
            "And two rivers in South America?", history=[(first.question, first.answer)]
        )
    assert "Nile" in first.answer
    assert "Nile" not in second.answer and "Amazon" in second.answer, second.answer
