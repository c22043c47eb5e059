"""Two Ray nodes on this machine: regions placed on both by their `node` setting, a KV state
handed from one node to the other, a turn whose delegates decode on different nodes over the
CurveZMQ bus, the worker node killed mid-turn, and the lost region restarted when a node
with its resource joins. The drill runs
in a process of its own (`tests.ray.two_nodes`), since it starts a Ray cluster apart from the
suite's shared one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.ray, pytest.mark.e2e]


@pytest.fixture(scope="module")
def drill(tiny_long_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("two-nodes") / "drill.json"
    ran = subprocess.run(
        [sys.executable, "-m", "tests.ray.two_nodes", str(tiny_long_model_dir), str(out)],
        capture_output=True,
        text=True,
        timeout=420,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    return json.loads(out.read_text())


def test_regions_run_on_the_nodes_their_setting_names(drill: dict[str, Any]) -> None:
    head, worker = drill["head"], drill["worker"]
    assert drill["placed"] == {
        "bus-proxy": head,
        "planning": head,
        "language-0": head,
        "language-1": worker,
    }
    assert not drill["bus"]["publish_to"].startswith("tcp://127.")  # the node's address
    assert drill["bus"]["curve"]


def test_a_kv_state_prefilled_on_one_node_is_imported_on_the_other(drill: dict[str, Any]) -> None:
    parts = drill["handoff"]["parts"]
    assert len(parts) == 2 and {p["replica"] for p in parts.values()} == {
        "language-0",
        "language-1",
    }
    exporter = next(p for p in parts.values() if p.get("kv_exported_tokens"))
    importer = next(p for p in parts.values() if p.get("kv_source"))
    assert importer["kv_source"] == exporter["replica"] != importer["replica"]  # across nodes
    assert importer["kv_imported_tokens"] == exporter["kv_exported_tokens"] > 200
    assert importer["kv_bytes"] > 0 and not importer.get("kv_note")
    assert not [note for note in drill["handoff"]["notes"] if "KV" in note]


def test_the_turn_survives_the_worker_node_killed_mid_turn(drill: dict[str, Any]) -> None:
    assert min(drill["tokens_at_kill"].values()) > 20  # both delegates decoded at once
    record = drill["record"]
    assert record is not None, "the turn did not complete"
    assert drill["turn_ended_s"] < 60  # nothing hung on the lost node
    assert any(n.startswith("language-1 died during subtask") for n in record["notes"])
    retried = [s for s in record["streams"] if s["id"].endswith("/retry-1")]
    assert [s["replica"] for s in retried] == ["language-0"] and retried[0]["tokens"] > 0
    assert record["answer_chars"] > 0


def test_cortex_status_shows_the_lost_node_and_region(drill: dict[str, Any]) -> None:
    status = drill["status"]
    assert status["exit"] == 0, status
    assert status["devices"]["nodes"] == 1
    regions = {r["name"]: r for r in status["regions"]}
    assert regions["language-1"]["state"] == "unreachable"
    assert regions["language-0"]["state"] == "idle"


def test_the_lost_region_comes_back_when_its_node_does(drill: dict[str, Any]) -> None:
    back = drill["back"]
    assert back["name"] == "language-1" and back["state"] == "idle"
    assert back["pid"] != drill["pids"]["language-1"] and drill["back_on"]  # on the new node
