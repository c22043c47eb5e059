"""Which replicas hand each other their prefill: the first part of a request with a long shared
start exports it and the others import it; a long prompt is prefilled on an idle replica
faster at prefill when the measured speeds and the transfer predict it pays; a replica kept
for prefill takes no steps."""

from __future__ import annotations

from bus.protocol import Subtask
from cortex.config import HandoffConfig
from cortex.turns.handoff import Handoff, ReplicaSpeeds, predict
from cortex.turns.scheduler import Scheduler

LONG = "word " * 2000  # about 2,500 tokens by the 4-characters estimate
SLOW_PREFILL = ReplicaSpeeds(50.0, 30.0, 23040)
FAST_PREFILL = ReplicaSpeeds(500.0, 20.0, 23040)


def step(step_id: str, context: str = LONG, parts: int = 3, **fields: object) -> Subtask:
    return Subtask(
        turn_id="t",
        subtask_id=step_id,
        region="language",
        instruction=f"Part {step_id}.",
        context=context,
        parts=parts,
        **fields,  # type: ignore[arg-type]
    )


def scheduler(speeds: dict[str, ReplicaSpeeds], **config: object) -> Scheduler:
    replicas = {"language": dict.fromkeys(speeds, 4)}
    return Scheduler(replicas, Handoff(HandoffConfig(**config), speeds))  # type: ignore[arg-type]


def test_the_first_part_exports_the_shared_start_and_the_others_import_it() -> None:
    plan = scheduler({"language-0": SLOW_PREFILL, "language-1": SLOW_PREFILL}, disaggregate="off")
    for step_id in "123":
        plan.add(step(step_id))
    started = plan.ready()
    assert [replica for replica, _ in started] == ["language-0", "language-1", "language-0"]
    first, *others = (subtask for _, subtask in started)
    assert first.kv_export and not first.kv_import
    assert all(s.kv_import == first.kv_export and s.kv_source == "language-0" for s in others)


def test_short_or_unshared_or_single_parts_prefill_alone() -> None:
    plan = scheduler({"language-0": SLOW_PREFILL}, disaggregate="off")
    plan.add(step("1", context="I am in Kyoto."))  # a short start: not worth a handoff
    plan.add(step("2", context=LONG, parts=1))  # one part: nothing shares its start
    plan.add(step("3", context=""))
    assert not any(s.kv_export or s.kv_import for _, s in plan.ready())


def test_a_long_prompt_is_prefilled_where_the_speeds_predict_it_is_faster() -> None:
    speeds = {"language-0": SLOW_PREFILL, "language-1": FAST_PREFILL}
    plan = scheduler(speeds)
    plan.add(step("1", parts=1))
    (prefiller, prefill), (decoder, decode) = plan.ready()
    assert (prefiller, decoder) == ("language-1", "language-0")
    assert prefill.mode == "prefill" and prefill.subtask_id == "1-prefill"
    assert decode.kv_import == prefill.kv_export and decode.kv_source == "language-1"
    assert "prefill on language-1 and hand over" in plan.notes[0]
    guess = predict(2520, FAST_PREFILL, SLOW_PREFILL, 500.0)
    assert guess.split_s < guess.local_s


def test_no_handoff_where_the_replica_decoding_is_the_faster_at_prefill() -> None:
    plan = scheduler({"language-0": FAST_PREFILL, "language-1": SLOW_PREFILL})
    plan.add(step("1", parts=1))
    assert [(r, s.mode) for r, s in plan.ready()] == [("language-0", "answer")]
    assert plan.notes == []


def test_a_replica_kept_for_prefill_takes_no_steps_but_prefills() -> None:
    prefill_only = ReplicaSpeeds(500.0, 20.0, 23040, role="prefill")
    plan = scheduler({"language-0": prefill_only, "language-1": SLOW_PREFILL})
    plan.add(step("1", context="", parts=1))
    plan.add(step("2", parts=1))
    started = plan.ready()
    assert ("language-1", "1") in [(r, s.subtask_id) for r, s in started]
    assert ("language-0", "2-prefill") in [(r, s.subtask_id) for r, s in started]
    assert "language-0" not in plan.running.values()


def test_a_part_whose_exporter_died_exports_the_start_again() -> None:
    plan = scheduler({"language-0": SLOW_PREFILL, "language-1": SLOW_PREFILL}, disaggregate="off")
    plan.add(step("1"))
    plan.add(step("2"))
    plan.ready()
    retried, _ = plan.lose("language-0")
    (replica, again), *_ = plan.ready()
    assert replica == "language-1" and again.kv_export and not again.kv_import
    assert retried[0].subtask_id == "1"
