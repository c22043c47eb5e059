"""A two-node Ray cluster on this machine, a turn across both, and the worker node killed.

Run as ``python -m tests.ray.two_nodes MODEL_DIR OUT.json`` (`test_two_nodes` does): a Ray
cluster of its own (`ray.cluster_utils.Cluster`: a head and a worker node, each declaring a
custom resource), so it runs in a process of its own, apart from the suite's shared cluster.
The planner and ``language-0`` are placed on the head, ``language-1`` on the worker (the
regions' ``node`` setting); the bus runs in cluster mode (node address, CurveZMQ). First a
two-part question about a pasted article: one delegate prefills the article and the other,
on the other node, imports its KV state. Then a two-part turn starts; once both delegates
decode, the worker node is killed. What happened is
written to OUT.json: where each region ran, the bus's endpoints, the turn's record and time,
and ``cortex status --json`` once Ray counts the worker dead; then a node with the worker's
resource joins, and Ray restarts ``language-1`` there.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import ray
from ray._private.authentication.authentication_token_setup import (
    maybe_enable_token_auth_if_token_available,
)
from ray.cluster_utils import Cluster

from bus.protocol import Event, SubtaskResult
from bus.tokenbus import Subscription
from bus.topics import region_out
from cortex.config import parse_config
from cortex.runtime.cortex import Cortex
from cortex.turns.records import TurnRecord

HEAD, WORKER = "head-node", "worker-node"
QUESTION = "Describe tea. Describe coffee."
ARTICLE = (
    "Maria Lopez opened a small bakery in Porto in 2019 with her brother Tiago Lopez. It sells "
    "bread, pastries and coffee to the students of the university nearby. "
) * 12
SHARED = f"Here is an article: {ARTICLE}\n\nSummarise it. List the people it names."


def config(model_dir: str, namespace: str) -> dict[str, Any]:
    return {
        "runtime": {"namespace": namespace, "turn_timeout_s": 120, "device": "cpu"},
        "regions": {
            "planning": {
                "kind": "planning",
                "class": "tests.tui.scripted:ScriptedPlanner",
                "node": HEAD,
            },
            "language": {
                "model": model_dir,
                "replicas": 2,
                "node": [HEAD, WORKER],
                "generation": {"max_new_tokens": 1500},
            },
        },
    }


def actor_nodes() -> dict[str, str]:
    """Each live named actor of the cluster (this drill's alone), with its node's id."""
    table = ray._private.state.state.actor_table(None)
    return {
        entry["Name"]: entry["Address"]["NodeID"]
        for entry in table.values()
        if entry["Name"] and entry["State"] == "ALIVE"
    }


def wait_until_both_decode(brain: Cortex, timeout_s: float = 120) -> dict[str, int]:
    """Tokens each language replica decoded in this turn once both are decoding it."""
    names = ("language-0", "language-1")
    before = {r["name"]: r["tokens"] for r in brain.regions() if r["name"] in names}
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        regions = {r["name"]: r for r in brain.regions()}
        tokens = {n: regions[n]["tokens"] - before[n] for n in names}
        decoding = all(regions[n]["state"] == "decoding" for n in tokens)
        if decoding and min(tokens.values()) > 20:
            return tokens
    raise TimeoutError("the two delegates did not decode at once")


def wait_until_dead(node_id: str, since: float, timeout_s: float = 120) -> float:
    """Seconds from `since` until Ray marks the node dead (it misses its heartbeats)."""
    while time.monotonic() < since + timeout_s:
        if not any(n["NodeID"] == node_id and n["Alive"] for n in ray.nodes()):
            return round(time.monotonic() - since, 2)
        time.sleep(0.5)
    raise TimeoutError(f"Ray still counts node {node_id} alive")


def wait_until_back(
    brain: Cortex, name: str, restarts: Subscription, timeout_s: float = 180
) -> dict[str, Any]:
    """The region's status once Ray has restarted it on a node that has its resource: the
    supervisor says so with a ``region_restarted`` event on the region's output topic."""
    deadline = time.monotonic() + timeout_s
    with restarts:
        while (delivery := restarts.recv(timeout=max(0, deadline - time.monotonic()))) is not None:
            message = delivery.message
            if isinstance(message, Event) and message.code == "region_restarted":
                actor = ray.get_actor(name, namespace=brain.namespace)
                return dict(ray.get(actor.info.remote(), timeout=10))
    raise TimeoutError(f"{name} was not restarted within {timeout_s} s")


def status(address: str, namespace: str) -> dict[str, Any]:
    shown = subprocess.run(
        [sys.executable, "-m", "cortex.cli", "status", "--json"]
        + ["--address", address, "--namespace", namespace],
        capture_output=True,
        text=True,
        timeout=120,
    )
    try:
        return json.loads(shown.stdout) | {"exit": shown.returncode}
    except json.JSONDecodeError:
        return {"exit": shown.returncode, "stdout": shown.stdout, "stderr": shown.stderr[-2000:]}


def handoff_across_nodes(brain: Cortex) -> dict[str, Any]:
    """The shared-article question: what each delegate exported, imported, or noted."""
    parts: dict[str, dict[str, Any]] = {}

    def collect(delivery: Any) -> None:
        message = delivery.message
        if isinstance(message, SubtaskResult) and message.region == "language":
            parts[message.subtask_id] = {"replica": message.replica, **message.data}

    record = brain.ask(SHARED, on_delivery=collect)
    return {"parts": parts, "notes": record.notes}


def drill(model_dir: str) -> dict[str, Any]:
    maybe_enable_token_auth_if_token_available(warn_if_disabled=False)  # as `ray start` does
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 2, "resources": {HEAD: 1}})
    worker = cluster.add_node(num_cpus=1, resources={WORKER: 1})
    namespace = f"two-nodes-{uuid.uuid4().hex[:6]}"
    found: dict[str, Any] = {"head": cluster.head_node.node_id, "worker": worker.node_id}
    try:
        with Cortex(parse_config(config(model_dir, namespace)), address=cluster.address) as brain:
            assert brain.bus is not None
            endpoints = brain.bus.endpoints  # type: ignore[attr-defined]
            found["bus"] = {"publish_to": endpoints.publish_to, "curve": endpoints.keys is not None}
            found["placed"] = actor_nodes()
            found["pids"] = {r["name"]: r["pid"] for r in brain.regions()}
            found["handoff"] = handoff_across_nodes(brain)
            records: list[TurnRecord] = []
            turn = threading.Thread(target=lambda: records.append(brain.ask(QUESTION)))
            started = time.monotonic()
            turn.start()
            found["tokens_at_kill"] = wait_until_both_decode(brain)
            cluster.remove_node(worker, allow_graceful=False)
            killed = time.monotonic()
            turn.join(timeout=180)
            found["turn_ended_s"] = round(time.monotonic() - killed, 2)
            found["turn_wall_s"] = round(time.monotonic() - started, 2)
            found["record"] = (
                records[0].model_dump(include={"notes", "streams"})
                | {"answer_chars": len(records[0].answer)}
                if records
                else None
            )
            found["worker_marked_dead_s"] = wait_until_dead(worker.node_id, killed)
            found["status"] = status(cluster.address, namespace)
            restarts = brain.subscribe(region_out("language-1"))  # before the node is back
            again = cluster.add_node(num_cpus=1, resources={WORKER: 1})  # the node comes back
            found["back"] = wait_until_back(brain, "language-1", restarts)
            found["back_on"] = actor_nodes()["language-1"] == again.node_id
    finally:
        ray.shutdown()
        cluster.shutdown()
    return found


if __name__ == "__main__":
    model, out = sys.argv[1], Path(sys.argv[2])
    out.write_text(json.dumps(drill(model), indent=1))
