"""Plans: parsing streamed lines, and repairing what a small model gets wrong."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from modules.plan import Plan, PlanBuilder, PlanParser, PlanStep, RawStep, parse_line


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("1. [language] Describe tea.", RawStep(1, "language", "Describe tea", ())),
        ("2) Compare prices (after 1)", RawStep(2, None, "Compare prices", (1,))),
        ("3. [Vision] Look (after 1, 2)", RawStep(3, "vision", "Look", (1, 2))),
        ("4: [speech] Say it aloud. (depends on 3)", RawStep(4, "speech", "Say it aloud", (3,))),
    ],
)
def test_parse_line(line: str, expected: RawStep) -> None:
    assert parse_line(line) == expected


@pytest.mark.parametrize("line", ["", "Here is the plan:", "- a bullet", "Step one"])
def test_non_steps(line: str) -> None:
    assert parse_line(line) is None


def test_parser_returns_each_step_when_its_line_completes() -> None:
    parser = PlanParser()
    assert parser.feed("1. [language] Desc") == []
    assert parser.feed("ribe tea.\n2. [lang") == [RawStep(1, "language", "Describe tea", ())]
    assert parser.feed("uage] Describe coffee.") == []
    assert parser.finish() == [RawStep(2, "language", "Describe coffee", ())]


def test_blank_line_after_the_steps_ends_the_plan() -> None:
    parser = PlanParser()
    steps = parser.feed("Plan:\n1. A.\n2. B.\n\nThis is prose. 3. Not a step.\n")
    assert [s.number for s in steps] == [1, 2]
    assert parser.finished
    assert parser.feed("4. more\n") == []


def test_steps_written_on_one_line_are_split() -> None:
    parser = PlanParser()
    steps = parser.feed("1. Boil water. 2. Add tea. 3. Wait.\n")
    assert [(s.number, s.instruction) for s in steps] == [
        (1, "Boil water"),
        (2, "Add tea"),
        (3, "Wait"),
    ]


def builder(**options) -> PlanBuilder:
    return PlanBuilder({"language", "vision"}, route=lambda text: "language", **options)


def test_unknown_and_missing_tags_are_routed() -> None:
    plan = builder()
    step, repairs = plan.add(RawStep(1, "poetry", "Write a haiku", ()))
    assert step == PlanStep(id="1", region="language", instruction="Write a haiku")
    assert "unknown region 'poetry'" in repairs[0]
    step, repairs = plan.add(RawStep(2, None, "Summarise", ()))
    assert step is not None and step.region == "language" and "no region tag" in repairs[0]


def test_known_tags_are_kept() -> None:
    step, repairs = builder().add(RawStep(1, "vision", "Describe the photo", ()))
    assert step is not None and step.region == "vision" and repairs == []


def test_dependencies_on_later_or_unknown_steps_are_dropped() -> None:
    plan = builder()
    plan.add(RawStep(1, "language", "A", (2,)))  # forward reference: would make a cycle
    step, repairs = plan.add(RawStep(2, "language", "B", (1, 2, 9)))
    assert plan.steps[0].depends_on == ()
    assert step is not None and step.depends_on == ("1",)
    assert len(repairs) == 2
    Plan(steps=tuple(plan.steps))  # validates: acyclic


def test_steps_are_renumbered_and_dependencies_follow() -> None:
    plan = builder()
    plan.add(RawStep(5, "language", "A", ()))
    step, _ = plan.add(RawStep(7, "language", "B", (5,)))
    assert step is not None and (step.id, step.depends_on) == ("2", ("1",))


def test_empty_duplicate_copied_and_excess_steps_are_dropped() -> None:
    plan = builder(max_steps=2, ignore={"Describe the size of cats and dogs."})
    assert plan.add(RawStep(1, "language", "Describe the size of cats and dogs", ()))[0] is None
    assert plan.add(RawStep(1, "language", "   ", ()))[0] is None
    assert plan.add(RawStep(1, "language", "Explain tea", ()))[0] is not None
    step, repairs = plan.add(RawStep(2, "language", "explain  TEA.", ()))
    assert step is None and "repeats" in repairs[0]
    assert plan.add(RawStep(3, "language", "Explain coffee", ()))[0] is not None
    step, repairs = plan.add(RawStep(4, "language", "Explain milk", ()))
    assert step is None and "already has 2 steps" in repairs[0]


def test_plan_model_rejects_cycles_and_duplicate_ids() -> None:
    with pytest.raises(ValidationError, match="not earlier steps"):
        Plan(
            steps=(
                PlanStep(id="1", region="language", instruction="a", depends_on=("2",)),
                PlanStep(id="2", region="language", instruction="b", depends_on=("1",)),
            )
        )
    with pytest.raises(ValidationError, match="twice"):
        Plan(
            steps=(
                PlanStep(id="1", region="l", instruction="a"),
                PlanStep(id="1", region="l", instruction="b"),
            )
        )
