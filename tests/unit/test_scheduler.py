"""The turn scheduler: idle replicas first, queue when busy, dependencies before dependents."""

from __future__ import annotations

from bus.protocol import Subtask, SubtaskResult
from cortex.turns.scheduler import Scheduler


def step(subtask_id: str, *depends_on: str, region: str = "language") -> Subtask:
    return Subtask(
        turn_id="t",
        subtask_id=subtask_id,
        region=region,
        instruction=f"do {subtask_id}",
        depends_on=depends_on,
    )


def result(subtask_id: str, text: str = "", ok: bool = True) -> SubtaskResult:
    return SubtaskResult(
        turn_id="t",
        subtask_id=subtask_id,
        stream_id=f"t/{subtask_id}",
        region="language",
        replica="x",
        device="cpu",
        ok=ok,
        text=text,
        error=None if ok else "boom",
        started=0.0,
        finished=1.0,
    )


def test_subtasks_go_to_idle_replicas_and_queue_when_all_are_busy() -> None:
    scheduler = Scheduler({"language": {"language-0": 1, "language-1": 1}})
    for subtask_id in "123":
        scheduler.add(step(subtask_id))
    started = scheduler.ready()
    assert [(replica, s.subtask_id) for replica, s in started] == [
        ("language-0", "1"),
        ("language-1", "2"),
    ]
    assert scheduler.ready() == []  # 3 waits: both replicas are busy
    scheduler.finish(result("2"))
    assert [(replica, s.subtask_id) for replica, s in scheduler.ready()] == [("language-1", "3")]


def test_subtasks_go_to_the_least_loaded_replica_until_every_slot_is_taken() -> None:
    scheduler = Scheduler({"language": {"language-0": 2, "language-1": 2}})
    for subtask_id in "12345":
        scheduler.add(step(subtask_id))
    started = [(replica, s.subtask_id) for replica, s in scheduler.ready()]
    assert started == [
        ("language-0", "1"),
        ("language-1", "2"),
        ("language-0", "3"),
        ("language-1", "4"),
    ]
    assert scheduler.ready() == []  # 5 waits: all four slots are taken
    scheduler.finish(result("4"))
    assert [(replica, s.subtask_id) for replica, s in scheduler.ready()] == [("language-1", "5")]


def test_a_dead_replica_takes_nothing_until_it_is_back() -> None:
    scheduler = Scheduler({"language": {"language-0": 4, "language-1": 4}})
    scheduler.lose("language-0")
    scheduler.add(step("1"))
    assert [replica for replica, _ in scheduler.ready()] == ["language-1"]
    scheduler.restore("language-0")
    scheduler.add(step("2"))
    assert [replica for replica, _ in scheduler.ready()] == ["language-0"]


def test_dependents_wait_and_read_what_they_depend_on_as_an_earlier_exchange() -> None:
    scheduler = Scheduler({"language": {"a": 1, "b": 1}})
    scheduler.add(step("1"))
    scheduler.add(step("2", "1"))
    assert [s.subtask_id for _, s in scheduler.ready()] == ["1"]
    scheduler.finish(result("1", "tea has less caffeine"))
    ((replica, subtask),) = scheduler.ready()
    assert subtask.subtask_id == "2" and subtask.inputs == {}
    assert subtask.earlier == (("do 1", "tea has less caffeine"),)


def test_another_kinds_output_is_a_note() -> None:
    scheduler = Scheduler({"language": {"a": 1}, "vision": {"v": 1}})
    scheduler.add(step("see", region="vision"))
    scheduler.add(step("1", "see"))
    scheduler.ready()
    scheduler.finish(result("see", "a tabby cat"))
    ((_, subtask),) = scheduler.ready()
    assert subtask.inputs == {"see": "a tabby cat"} and subtask.earlier == ()


def test_failed_dependency_is_passed_on_as_what_it_answered() -> None:
    scheduler = Scheduler({"language": {"a": 1}})
    scheduler.add(step("1"))
    scheduler.add(step("2", "1"))
    scheduler.ready()
    scheduler.finish(result("1", ok=False))
    ((_, subtask),) = scheduler.ready()
    assert "failed: boom" in subtask.earlier[0][1]
    scheduler.finish(result("2"))
    assert scheduler.done


def test_a_kind_without_replicas_never_starts() -> None:
    scheduler = Scheduler({"language": {"a": 1}})
    scheduler.add(step("1", region="vision"))
    assert scheduler.ready() == []
    assert not scheduler.done


def test_a_dead_replicas_step_is_retried_once_as_a_new_stream_then_given_up() -> None:
    scheduler = Scheduler({"language": {"language-0": 1, "language-1": 1}})
    scheduler.add(step("1"))
    scheduler.add(step("2"))
    assert [r for r, _ in scheduler.ready()] == ["language-0", "language-1"]
    retried, given_up = scheduler.lose("language-0")
    assert [s.stream_id for s in retried] == ["t/1/retry-1"] and given_up == []
    assert scheduler.ready() == []  # language-0 is down, language-1 busy
    assert scheduler.finish(result("2"))  # language-1 is free again and takes the retry
    ((replica, retry),) = scheduler.ready()
    assert (replica, retry.attempt) == ("language-1", 1)
    assert not scheduler.finish(result("1"))  # a late result of the dead attempt is stale
    scheduler.restore("language-0")
    retried, given_up = scheduler.lose("language-1")  # the retry's replica dies as well
    assert retried == [] and [s.subtask_id for s in given_up] == ["1"]
    assert "1" not in scheduler.running and not scheduler.done
