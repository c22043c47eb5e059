"""Cortex on a local Ray cluster with tiny models: placement, turns, streams, your own regions."""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import pytest
import ray

from bus import Event, Token
from cortex.config import parse_config
from cortex.errors import CortexError
from cortex.runtime.cortex import Cortex
from cortex.turns.sessions import SessionLog
from modules.errors import BadRequestError
from modules.region import core_list
from tests.conftest import tiny_config

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def brain(ray_cluster: None, tiny_model_dir: Path, tmp_path_factory) -> Cortex:
    data = tiny_config(tiny_model_dir)
    data["runtime"]["device"] = "cpu"
    session = tmp_path_factory.mktemp("sessions") / "session.jsonl"
    with Cortex(parse_config(data), session_log=session) as running:
        yield running


def live_actors(namespace: str) -> list[str]:
    return [
        a["name"]
        for a in ray.util.list_named_actors(all_namespaces=True)
        if a["namespace"] == namespace
    ]


def test_four_regions_get_four_distinct_logical_gpus(
    ray_cluster: None, tiny_model_dir: Path
) -> None:
    data = tiny_config(tiny_model_dir, language={"model": str(tiny_model_dir), "replicas": 3})
    with Cortex(parse_config(data)) as placed:
        devices = {r["name"]: r["device"] for r in placed.regions()}
    assert sorted(devices) == ["language-0", "language-1", "language-2", "planning"]
    gpu_ids = [re.search(r"cuda:(\d+) granted, CUDA unavailable", d) for d in devices.values()]
    assert all(gpu_ids), devices  # a GPU from Ray, and the CPU fallback since CUDA is absent
    assert len({m.group(1) for m in gpu_ids}) == 4


def test_cpu_policy_places_regions_on_cpu_slots(brain: Cortex) -> None:
    assert {r["device"] for r in brain.regions()} == {f"cpu:{core_list(os.sched_getaffinity(0))}"}
    assert all(i.num_gpus == 0 for i in brain.instances)


def test_regions_are_named_actors_in_the_namespace(brain: Cortex) -> None:
    names = set(live_actors(brain.config.runtime.namespace))
    assert {"planning", "language-0", "language-1", "bus-proxy"} <= names


def test_ask_returns_the_full_record_and_logs_it(brain: Cortex) -> None:
    seen = []
    record = brain.ask(
        "Compare tea and coffee on caffeine, taste and price.", on_delivery=seen.append
    )
    assert record.plan, "a plan with at least one step"
    assert record.streams[0].id.endswith("/plan")
    decoded = Counter(
        d.message.stream_id
        for d in seen
        if isinstance(d.message, Token) and d.message.token_id != Token.END_MARKER_ID
    )
    assert [s.tokens for s in record.streams] == [decoded[s.id] for s in record.streams]
    assert all(s.tokens > 0 for s in record.streams[1:]), "every delegate decoded"
    assert all(s.end >= s.start for s in record.streams)
    assert {s.replica for s in record.streams} <= {"planning", "language-0", "language-1"}
    assert record.wall_s > 0
    assert any(d.topic.startswith("region.") for d in seen)
    logged = SessionLog(brain.session.path).records()[-1]
    assert logged["type"] == "turn" and logged["answer"] == record.answer


def test_stream_one_instruction_from_one_region(brain: Cortex) -> None:
    tokens = list(brain.stream("language-1", "Say hello."))
    assert [t.seq for t in tokens] == list(range(8))  # max_new_tokens = 8 in the tiny config
    with pytest.raises(CortexError, match="no region instance 'language-7'"):
        list(brain.stream("language-7", "Say hello."))


def test_empty_question_is_refused(brain: Cortex) -> None:
    with pytest.raises(BadRequestError, match="empty"):
        brain.ask("   ")


def test_your_own_region_watches_the_streams(ray_cluster: None, tiny_model_dir: Path) -> None:
    data = tiny_config(
        tiny_model_dir,
        language={"model": str(tiny_model_dir), "replicas": 1, "generation": {"max_new_tokens": 8}},
        critic={"class": "examples.critic:Critic"},
    )
    data["runtime"]["device"] = "cpu"
    with Cortex(parse_config(data)) as running:
        remarks = running.subscribe("region.critic.out")
        running.ask("What is the capital of France?")
        delivery = remarks.recv(timeout=30)
    assert delivery is not None and isinstance(delivery.message, Event)
    assert delivery.message.code == "remark"
    assert "language answered subtask 1 in" in delivery.message.detail


def test_shutdown_leaves_no_actor_behind(ray_cluster: None, tiny_model_dir: Path) -> None:
    data = tiny_config(tiny_model_dir)
    namespace = data["runtime"]["namespace"]
    with Cortex(parse_config(data)):
        assert len(live_actors(namespace)) == 4
    assert live_actors(namespace) == []
