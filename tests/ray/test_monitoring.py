"""Monitoring on a live cluster: `cortex status` during a turn, the dashboard's actors API with
Ray's token, and Cortex's metrics on Ray's Prometheus endpoint."""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ray.util.state import get_log

from cortex.cli import main
from cortex.config import parse_config
from cortex.runtime.cortex import Cortex
from cortex.runtime.metrics import EXPORT_INTERVAL_S, METRIC_NAMES, prometheus_name
from cortex.runtime.status import scrape_metrics
from modules.region import core_list
from tests.conftest import TWO_PARTS, long_answers_config

pytestmark = pytest.mark.ray

LONG_ANSWER_TOKENS = 3000
"""Enough tokens that both delegates of the scripted plan are still decoding when looked at."""


@pytest.fixture(scope="module")
def brain(ray_cluster: None, tiny_long_model_dir: Path) -> Iterator[Cortex]:
    """A canned two-step planner and two language replicas on the tiny model."""
    data = long_answers_config(tiny_long_model_dir, LONG_ANSWER_TOKENS)
    with Cortex(parse_config(data)) as running:
        yield running


def cluster_token() -> str:
    """Ray's authentication token, found where Ray itself looks for it."""
    token = os.environ.get("RAY_AUTH_TOKEN")
    if token:
        return token
    return (
        Path(os.environ.get("RAY_AUTH_TOKEN_PATH", "~/.ray/auth_token"))
        .expanduser()
        .read_text()
        .strip()
    )


def dashboard_get(url: str, token: str | None) -> dict:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_status_shows_two_regions_decoding_during_a_turn(brain: Cortex, capsys) -> None:
    namespace = brain.config.runtime.namespace
    turn = threading.Thread(target=brain.ask, args=(TWO_PARTS,), daemon=True)
    turn.start()
    decoding: list[dict] = []
    try:
        while turn.is_alive() and len(decoding) < 2:
            assert main(["status", "--json", "--namespace", namespace]) == 0
            status = json.loads(capsys.readouterr().out)
            decoding = [
                r
                for r in status["regions"]
                if r["state"] == "decoding" and r["busy_fraction"] > 0 and r["tokens_per_s"] > 0
            ]
    finally:
        turn.join(timeout=300)
    assert len(decoding) >= 2, status
    assert {r["name"] for r in status["regions"]} == {"planning", "language-0", "language-1"}
    for region in status["regions"]:
        assert {"name", "region", "replica", "device", "state", "pid", "tokens_per_s"} <= set(
            region
        )
    assert status["bus"]["msgs_per_s"] > 0 and status["bus"]["p99_ms"] >= status["bus"]["p50_ms"]
    assert status["bus"]["gaps"] == 0 and status["bus"]["malformed"] == 0
    assert status["dashboard"].startswith("http://127.0.0.1:")
    engines = {r["name"]: r["engine"] for r in status["regions"]}
    assert engines["language-0"].startswith("transformers (auto: a transformers model")
    deadline = time.monotonic() + 30  # the driver exports its turn figures every second
    while status["turns"]["last_first_token_s"] is None and time.monotonic() < deadline:
        assert main(["status", "--json", "--namespace", namespace]) == 0
        status = json.loads(capsys.readouterr().out)
    assert status["turns"]["answered"] >= 1 and status["turns"]["last_first_token_s"] > 0


def test_dashboard_lists_every_region_by_name_with_the_token(brain: Cortex) -> None:
    dashboard = brain.dashboard_url
    assert dashboard is not None
    with pytest.raises(urllib.error.HTTPError, match="401"):
        dashboard_get(f"{dashboard}/logical/actors", token=None)
    actors = dashboard_get(f"{dashboard}/logical/actors", cluster_token())["data"]["actors"]
    ours = {a["name"]: a for a in actors.values() if a["state"] == "ALIVE"}
    for name in ("planning", "language-0", "language-1"):
        assert name in ours, sorted(ours)
    device = f"cpu:{core_list(os.sched_getaffinity(0))}"  # an unpinned CPU slot: every core
    assert (
        ours["language-1"]["reprName"]
        == f"Region(language-1: language replica 1 on {device}, idle)"
    )
    actor = ours["language-1"]["actorId"]  # on this cluster, whatever else runs here:
    log = "".join(get_log(address=brain.ray_address, actor_id=actor, suffix="err", tail=1000))
    assert f"[language-1] cortex.region.language-1: ready on {device}" in log, log[-2000:]


def tokens_by_replica() -> dict[str, float]:
    """The token counters on the metrics endpoint, summed per replica tag."""
    counts: dict[str, float] = {}
    for sample in scrape_metrics():
        if sample.name == prometheus_name("cortex_tokens"):
            replica = sample.labels["replica"]
            counts[replica] = counts.get(replica, 0) + sample.value
    return counts


def settled(read: Callable[[], dict[str, float]]) -> dict[str, float]:
    """Reads until two readings a metrics export apart agree (earlier turns' counts are in)."""
    last = read()
    while True:
        time.sleep(EXPORT_INTERVAL_S + 1.5)  # Cortex's export, then Ray's 1 s report (conftest)
        current = read()
        if current == last:
            return current
        last = current


def test_metrics_endpoint_counts_each_regions_tokens(brain: Cortex) -> None:
    """The counters grow by exactly what the turn decoded on each replica (other tests' dead
    actors may have left series with the same tags; their values stay put)."""
    before = settled(tokens_by_replica)
    record = brain.ask(TWO_PARTS)
    decoded: dict[str, int] = {}
    for stream in record.streams:
        decoded[stream.replica] = decoded.get(stream.replica, 0) + stream.tokens
    assert set(decoded) == {"planning", "language-0", "language-1"}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        after = tokens_by_replica()
        grown = {r: after.get(r, 0) - before.get(r, 0) for r in decoded}
        if grown == decoded:
            break
    assert grown == decoded
    names = {s.name for s in scrape_metrics()}
    problems = {"cortex_subtasks_failed", "cortex_bus_gaps", "cortex_bus_malformed"}
    drafts = {"cortex_draft_acceptance_rate", "cortex_draft_window", "cortex_speculative_speedup"}
    for metric, kind in METRIC_NAMES.items():
        if metric in problems | drafts:  # a counter appears once it first counts, a draft's
            continue  # gauges once a target with a draft reports them; this turn had neither
        assert prometheus_name(metric) + ("_bucket" if kind == "histogram" else "") in names


def test_status_of_a_namespace_without_cortex_says_so(brain: Cortex, capsys) -> None:
    assert main(["status", "--namespace", "nobody-here"]) == 1
    assert "no Cortex of yours matches; running: pid " in capsys.readouterr().err
