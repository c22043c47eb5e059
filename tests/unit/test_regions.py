"""Region hosts on the in-process bus: streaming, results, bad input, planning and routing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bus import Event, InProcessBus, Subtask, SubtaskResult, Token
from bus.topics import region_inbox, region_out, turn_plan
from modules.errors import RegionError
from modules.generation import Piece, SamplingSettings
from modules.host import RegionHost, import_region
from modules.planning import PlanningRegion
from modules.region import RegionSettings
from modules.routing import Router

DELEGATES = {
    "language": "Answer questions, explain, compare, summarise and write text.",
    "vision": "Describe a picture, photo or image: what it shows.",
    "speech": "Read text aloud, speak it, or transcribe recorded audio.",
}
SCRIPTED_PLAN = (
    "1. [language] Describe the caffeine in tea and coffee.\n"
    "2. [language] Describe their taste.\n"
    "3. [poetry] Compare their price. (after 4)\n"
    "\nThat is the plan."
)


class ScriptedPlanner(PlanningRegion):
    """The real planner, with its language model replaced by a fixed text, one word a token."""

    def generate(self, messages, max_new_tokens=None) -> Iterator[Piece]:
        for index, word in enumerate(SCRIPTED_PLAN.split(" ")):
            yield Piece(index, word if index == 0 else " " + word)

    def setup(self) -> None:
        self.router.setup()


def host(bus: InProcessBus, class_path: str, name: str, model: str, **options) -> RegionHost:
    settings = RegionSettings(
        name=name,
        kind=name.split("-")[0],
        model=model,
        sampling=SamplingSettings(max_new_tokens=6),
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
def bus() -> Iterator[InProcessBus]:
    with InProcessBus() as in_process:
        yield in_process


@pytest.fixture()
def language(bus: InProcessBus, tiny_model_dir: Path) -> Iterator[RegionHost]:
    region_host = host(bus, "modules.language:LanguageRegion", "language-0", str(tiny_model_dir))
    yield region_host
    region_host.stop()


def test_language_region_streams_tokens_then_its_result(bus, language) -> None:
    out = bus.subscribe(region_out("language-0"))
    bus.publish(
        region_inbox("language-0"),
        Subtask(turn_id="t", subtask_id="1", region="language", instruction="Name a colour."),
    )
    deliveries = collect_until_result(out)
    tokens = [d.message for d in deliveries if isinstance(d.message, Token)]
    result = deliveries[-1].message
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


@pytest.fixture(scope="module")
def router() -> Router:
    routing = Router(
        "embedded:all-minilm-l6-v2",
        DELEGATES | {"planning": "Organise and schedule several tasks into a plan."},
    )
    routing.setup()
    return routing


@pytest.mark.parametrize(
    ("instruction", "kind"),
    [
        ("describe this picture", "vision"),
        ("read this aloud", "speech"),
        ("organize my week", "planning"),
        ("who wrote Hamlet?", "language"),
    ],
)
def test_routing_by_meaning(router: Router, instruction: str, kind: str) -> None:
    assert router.route(instruction) == kind


def test_simple_questions_skip_planning(router: Router) -> None:
    assert router.is_simple("What is the capital of France?")
    assert not router.is_simple("Compare tea and coffee on caffeine, taste and price.")


def test_plan_steps_are_dispatched_before_the_plan_ends_and_repaired(bus, tiny_model_dir) -> None:
    planner = host(
        bus,
        "tests.unit.test_regions:ScriptedPlanner",
        "planning",
        str(tiny_model_dir),
        delegates=DELEGATES,
    )
    watch = bus.subscribe(turn_plan("t"), region_out("planning"))
    bus.publish(
        region_inbox("planning"),
        Subtask(
            turn_id="t",
            subtask_id="plan",
            region="planning",
            mode="plan",
            instruction="Compare tea and coffee on caffeine, taste and price.",
        ),
    )
    deliveries = collect_until_result(watch)
    planner.stop()
    order = [type(d.message).__name__ for d in deliveries]
    last_token = max(
        i
        for i, d in enumerate(deliveries)
        if isinstance(d.message, Token) and d.message.token_id != Token.END_MARKER_ID
    )
    first_step = order.index("Subtask")
    assert first_step < last_token, "step 1 should reach the bus while the plan still decodes"
    steps = [d.message for d in deliveries if isinstance(d.message, Subtask)]
    assert [(s.subtask_id, s.region, s.depends_on) for s in steps] == [
        ("1", "language", ()),
        ("2", "language", ()),
        ("3", "language", ()),
    ]
    repairs = [
        d.message.detail
        for d in deliveries
        if isinstance(d.message, Event) and d.message.code == "plan_repair"
    ]
    assert any("unknown region 'poetry'" in r for r in repairs)
    assert any("dependency on step 4" in r for r in repairs)


def test_simple_request_is_answered_directly(bus, tiny_model_dir) -> None:
    planner = host(
        bus,
        "tests.unit.test_regions:ScriptedPlanner",
        "planning",
        str(tiny_model_dir),
        delegates=DELEGATES,
    )
    watch = bus.subscribe(turn_plan("t"))
    bus.publish(
        region_inbox("planning"),
        Subtask(
            turn_id="t",
            subtask_id="plan",
            region="planning",
            mode="plan",
            instruction="What is the capital of France?",
        ),
    )
    step = watch.recv(timeout=60)
    planner.stop()
    assert step is not None
    assert step.message.instruction == "What is the capital of France?"
    assert step.message.publish_to == ("turn.t.out",)
