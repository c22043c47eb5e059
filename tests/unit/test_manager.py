"""The manager's seams: who splits (rules, model, auto), skeleton answers, and what a
delegate reads (the shared context, the answer it works on)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bus import InProcessBus, Subtask
from modules.engines import Piece, SamplingSettings
from modules.host import RegionHost
from modules.manager.parts import split
from modules.manager.skeleton import MAX_POINTS, MIN_POINTS, points_of
from modules.manager.splitter import LONG_REQUEST_WORDS, Splitter, split_from_json
from modules.prompts import answer_chat
from modules.region import RegionSettings
from tests.unit.test_plan import plan_for

PREAMBLE = "I'm going to Kyoto in November. What's the weather like? Which temples should I see?"


class FakeModel:
    """Guided decoding that writes a fixed JSON text, and counts its calls."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.text = json.dumps(data)
        self.calls = 0

    def __call__(
        self, chat: list[dict[str, str]], schema: dict[str, Any], budget: int
    ) -> Iterator[Piece]:
        self.calls += 1
        yield Piece(0, self.text)


def run(splitter: Splitter, request: str) -> Any:
    pieces = splitter.split(request)
    try:
        while True:
            next(pieces)
    except StopIteration as done:
        return done.value


def test_the_rules_splitter_never_asks_the_model() -> None:
    model = FakeModel({"context": [], "parts": [{"instruction": "x", "depends_on": []}]})
    found = run(Splitter("rules", model), PREAMBLE)
    assert model.calls == 0 and found == split(PREAMBLE)


def test_the_model_splitter_takes_the_models_parts() -> None:
    model = FakeModel(
        {
            "context": ["Going to Kyoto."],
            "parts": [
                {"instruction": "Weather in Kyoto in November?", "depends_on": []},
                {"instruction": "Temples to see?", "depends_on": [0, 1, 5]},
            ],
        }
    )
    found = run(Splitter("model", model), PREAMBLE)
    assert found.parts == ("Weather in Kyoto in November?", "Temples to see?")
    assert found.context == ("Going to Kyoto.",) and found.depends_on == ((), (0,))


def test_auto_asks_the_model_only_for_a_long_request_the_rules_keep_whole() -> None:
    model = FakeModel({"context": [], "parts": [{"instruction": "one", "depends_on": []}]})
    splitter = Splitter("auto", model)
    run(splitter, PREAMBLE)  # the rules found two parts: theirs stand
    assert model.calls == 0
    long_request = "Tell me what you think " + "of this long idea " * LONG_REQUEST_WORDS
    run(splitter, long_request)
    assert model.calls == 1
    run(Splitter("auto", model, trust_model=True), PREAMBLE)
    assert model.calls == 2


def test_a_split_the_context_cut_short_falls_back_to_the_rules() -> None:
    cut = FakeModel({"context": [], "parts": []})
    cut.text = cut.text[:-5]
    assert run(Splitter("model", cut), PREAMBLE) == split(PREAMBLE)
    with pytest.raises(ValueError):
        split_from_json('{"context": [], "parts": [{"instruction": " ", "depends_on": []}]}')


def planner_on(bus: InProcessBus, model: Path, **options: Any) -> RegionHost:
    settings = RegionSettings(
        name="planning",
        kind="planning",
        model=str(model),
        sampling=SamplingSettings(max_new_tokens=16, temperature=1.0),
        options={"delegates": {"language": ""}, "max_steps": 4, **options},
    )
    host = RegionHost("modules.planning:PlanningRegion", settings, bus=bus)
    host.setup()
    return host


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.slow
def test_the_model_splitters_schema_always_parses_on_a_random_model(
    bus: InProcessBus, tiny_long_model_dir: Path, seed: int
) -> None:
    host = planner_on(bus, tiny_long_model_dir, splitter="model")
    host.region.settings = replace(
        host.region.settings, sampling=SamplingSettings(temperature=1.0, seed=seed)
    )
    try:
        steps = plan_for(bus, f"m{seed}", PREAMBLE)
    finally:
        host.stop()
    assert 1 <= len(steps) <= 4 and all(s.instruction.strip() for s in steps)
    for index, step in enumerate(steps, start=1):
        assert all(int(dep) < index for dep in step.depends_on)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.slow
def test_a_skeleton_on_a_random_model_is_a_usable_plan(
    bus: InProcessBus, tiny_long_model_dir: Path, seed: int
) -> None:
    host = planner_on(bus, tiny_long_model_dir, skeleton=True)
    host.region.settings = replace(
        host.region.settings, sampling=SamplingSettings(temperature=1.0, seed=seed)
    )
    request = "Explain how bees make honey."
    try:
        steps = plan_for(bus, f"k{seed}", request)
    finally:
        host.stop()
    if len(steps) == 1:  # the points were not distinct enough: one delegate answers whole
        assert steps[0].instruction == request and not steps[0].heading
        return
    assert MIN_POINTS <= len(steps) <= MAX_POINTS
    for index, step in enumerate(steps, start=1):
        assert step.heading and request in step.instruction
        assert not step.heading[0].isdigit() and not set("[]{}\"") & set(step.heading)
        assert f"Write only point {index}, \"{step.heading}\"" in step.instruction
        assert step.parts == len(steps) and not step.depends_on


def test_the_planner_gives_every_part_the_shared_context_and_its_dependencies(
    bus: InProcessBus, tiny_model_dir: Path
) -> None:
    host = planner_on(bus, tiny_model_dir)
    try:
        steps = plan_for(bus, "c1", PREAMBLE)
        made = plan_for(bus, "c2", "Write a haiku about the sea, then give it a title.")
    finally:
        host.stop()
    assert [s.context for s in steps] == ["I'm going to Kyoto in November."] * 2
    assert [s.depends_on for s in steps] == [(), ()]
    assert [s.depends_on for s in made] == [(), ("1",)]


def test_a_delegate_reads_the_context_and_the_answer_it_works_on() -> None:
    subtask = Subtask(
        turn_id="t",
        subtask_id="2",
        region="language",
        instruction="give it a title.",
        context="For my niece.",
        earlier=(("Write a haiku about the sea.", "Waves fold into foam"),),
    )
    chat = answer_chat(subtask)
    assert [m["role"] for m in chat] == ["system", "user", "assistant", "user"]
    assert chat[2]["content"] == "Waves fold into foam"
    assert chat[3]["content"] == "For my niece.\n\ngive it a title."


def test_a_skeletons_points_are_distinct_whatever_numbers_they_carry() -> None:
    written = {"points": ["1. Start slow", "2. Start slow", "Rest days", "3) Good shoes", " "]}
    assert points_of(written) == ["Start slow", "Rest days", "Good shoes"]
