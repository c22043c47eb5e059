"""A ``cancel`` on a region's inbox stops its turn's subtasks, running or waiting; text
regions report their prompt's length and a prompt over the context by its kind."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

from bus import InProcessBus, Subtask, SubtaskResult, Token
from bus.tokenbus import Subscription
from bus.topics import region_inbox, region_out
from cortex.turns.turn import cancel_work
from modules.engines import Piece
from modules.host import RegionHost
from modules.region import Region, RegionSettings
from tests.helpers import hosted_results


class Endless(Region):
    """Decodes one piece every 10 ms, forever."""

    kind = "language"

    def handle(self, subtask: Subtask) -> Iterator[Piece]:
        index = 0
        while True:
            time.sleep(0.01)
            yield Piece(index, " word")
            index += 1


def results_until(out: Subscription, count: int) -> list[SubtaskResult]:
    results: list[SubtaskResult] = []
    deadline = time.monotonic() + 30
    while len(results) < count and time.monotonic() < deadline:
        delivery = out.recv(timeout=1)
        if delivery is not None and isinstance(delivery.message, SubtaskResult):
            results.append(delivery.message)
    return results


def test_cancel_stops_the_running_and_the_waiting_subtasks_of_a_turn() -> None:
    settings = RegionSettings(name="endless", kind="language", model="-")
    with InProcessBus() as bus:
        host = RegionHost("tests.unit.test_cancel:Endless", settings, bus=bus)
        host.setup()  # one slot: the second subtask waits behind the first
        out = bus.subscribe(region_out("endless"))
        for step in ("1", "2"):
            subtask = Subtask(turn_id="t", subtask_id=step, region="language", instruction="go")
            bus.publish(region_inbox("endless"), subtask)
        first = out.recv(timeout=10)
        assert first is not None and isinstance(first.message, Token)
        cancel_work(bus, "t", ["endless"])  # taken at once, though the only slot is busy
        results = results_until(out, 2)
        status = host.info()
        host.stop()
    assert [(r.subtask_id, r.ok, r.error) for r in results] == [
        ("1", False, "cancelled"),
        ("2", False, "cancelled"),
    ]
    assert results[0].tokens > 0 and results[1].tokens == 0
    assert status["subtasks_cancelled"] == 2 and status["state"] == "idle"
    assert status["subtasks_failed"] == 0


def test_a_cancel_naming_a_stream_stops_only_that_stream() -> None:
    settings = RegionSettings(name="endless", kind="language", model="-", max_concurrent=2)
    subtasks = [
        Subtask(turn_id="t", subtask_id=step, region="language", instruction="go")
        for step in ("1", "2")
    ]
    with InProcessBus() as bus:
        host = RegionHost("tests.unit.test_cancel:EndlessTogether", settings, bus=bus)
        host.setup()
        out = bus.subscribe(region_out("endless"))
        for subtask in subtasks:
            bus.publish(region_inbox("endless"), subtask)
        first = out.recv(timeout=10)
        assert first is not None and isinstance(first.message, Token)
        cancel_work(bus, "t", ["endless"], stream_id=subtasks[0].stream_id)
        cancelled = results_until(out, 1)
        still_running = host.info()["running"]
        cancel_work(bus, "t", ["endless"])
        rest = results_until(out, 1)
        host.stop()
    assert [(r.subtask_id, r.error) for r in cancelled] == [("1", "cancelled")]
    assert still_running == 1 and [r.subtask_id for r in rest] == ["2"]


class EndlessTogether(Endless):
    """`Endless`, several subtasks at once."""

    concurrent = True


def test_text_regions_report_the_prompt_and_a_prompt_over_the_context(
    tiny_model_dir: Path,
) -> None:
    settings = RegionSettings(
        name="language",
        kind="language",
        model=str(tiny_model_dir),
        engine="transformers",
        context_length=64,
    )
    answered, refused = hosted_results(
        "modules.language:LanguageRegion",
        settings,
        [{"instruction": "Say hello.", "max_new_tokens": 2}, {"instruction": "tea " * 100}],
    )
    assert answered.ok and isinstance(answered.data["prompt_tokens"], int)
    assert answered.data["prompt_tokens"] > 5
    assert not refused.ok and refused.data == {"error_kind": "ContextLengthError"}
    assert refused.error is not None and "reads at most 64" in refused.error


class Waiting(Region):
    """Waits for its engine (an event nobody sets) before any piece; `interrupt` ends it."""

    kind = "language"

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.stopped = threading.Event()

    def handle(self, subtask: Subtask) -> Iterator[Piece]:
        self.stopped.wait(timeout=60)
        yield from ()

    def interrupt(self, stream_id: str) -> None:
        self.stopped.set()


def test_a_cancel_reaches_a_subtask_still_waiting_for_its_engine() -> None:
    settings = RegionSettings(name="waiting", kind="language", model="-")
    with InProcessBus() as bus:
        host = RegionHost("tests.unit.test_cancel:Waiting", settings, bus=bus)
        host.setup()
        out = bus.subscribe(region_out("waiting"))
        subtask = Subtask(turn_id="q", subtask_id="1", region="language", instruction="go")
        bus.publish(region_inbox("waiting"), subtask)
        deadline = time.monotonic() + 10
        while not host.info()["running"] and time.monotonic() < deadline:
            out.recv(timeout=0.05)  # until the slot has taken it
        asked = time.monotonic()
        cancel_work(bus, "q", ["waiting"])
        results = results_until(out, 1)
        host.stop()
    assert [(r.ok, r.error) for r in results] == [(False, "cancelled")]
    assert time.monotonic() - asked < 5  # not the 60 s its engine would have kept it
