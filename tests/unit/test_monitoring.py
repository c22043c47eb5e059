"""Monitoring's arithmetic and files: busy spans, bus traffic counts, the metrics text format,
and the shipped Prometheus and Grafana configurations."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from bus import Event, InProcessBus, Token
from bus.traffic import MAX_FAMILIES, BusTraffic, latency_percentiles, topic_family
from cortex.cli.status import format_status
from cortex.runtime.metrics import METRIC_NAMES, prometheus_name
from cortex.runtime.status import MetricSample, metric_total, parse_metrics
from modules.activity import Activity, busy_fraction

MONITORING = Path(__file__).parents[2] / "monitoring"


def test_busy_fraction_counts_overlapping_spans_once() -> None:
    assert busy_fraction([(0, 2), (1, 3), (5, 6)], 0, 10) == pytest.approx(0.4)
    assert busy_fraction([(8, 12)], 0, 10) == pytest.approx(0.2)  # clipped to the window
    assert busy_fraction([(3, 4), (0, 1)], 0, 4) == pytest.approx(0.5)  # any order
    assert busy_fraction([], 0, 10) == 0.0
    assert busy_fraction([(0, 1)], 5, 5) == 0.0


def test_activity_merges_continuous_steps_and_forgets_old_ones() -> None:
    activity = Activity(window_s=10)
    activity.since = 0.0
    for step in range(5):  # five back-to-back 0.1 s steps are one span
        activity.record(1 + step * 0.1, 1.1 + step * 0.1)
    assert len(activity.spans) == 1 and activity.fraction(now=2.0) == pytest.approx(0.25)
    activity.record(30.0, 31.0)  # the first span is now older than the window
    assert list(activity.spans) == [(30.0, 31.0)]
    assert activity.fraction(now=35.0) == pytest.approx(0.1)
    assert activity.idle_s(now=35.0) == 4.0 and activity.idle_s(now=50.0) is None
    assert activity.take_steps() == pytest.approx([0.1] * 5 + [1.0])
    assert activity.take_steps() == []


def test_traffic_counts_by_topic_family_with_latency_and_problems() -> None:
    assert topic_family("turn.4f2a.out") == "turn.*.out"
    assert topic_family("region.language-0.out") == "region.language-0.out"
    with InProcessBus() as bus:
        everything = bus.subscribe("*")
        for turn in ("a1", "b2"):
            bus.publish(f"turn.{turn}.out", Token(stream_id=turn, seq=0, token_id=1, text="x"))
        bus.publish("turn.a1.out", Token(stream_id="a1", seq=3, token_id=1, text="y"))  # a gap
        bus.publish_frames([b"turn.a1.out", b"\xc1 not msgpack"])
        while everything.recv(timeout=0) is not None:
            pass
        counts = bus.traffic.snapshot()
    assert counts["published"] == {"turn.*.out": 3}
    assert counts["delivered"] == {"turn.*.out": 3}
    assert counts["gaps"] == 1 and counts["malformed"] == 1
    latencies = bus.traffic.take_latencies()
    assert len(latencies) == 3 and all(0 <= s < 5 for s in latencies)
    assert bus.traffic.take_latencies() == []


def test_traffic_keeps_the_number_of_series_bounded() -> None:
    traffic = BusTraffic()
    for index in range(MAX_FAMILIES + 10):
        traffic.count_published(f"custom.topic-{index}")
    assert len(traffic.published) == MAX_FAMILIES + 1
    assert traffic.published["other"] == 10


def test_prometheus_text_is_parsed_and_summed_by_label() -> None:
    text = """# HELP ray_cortex_tokens_total Tokens decoded.
# TYPE ray_cortex_tokens_total counter
ray_cortex_tokens_total{region="language",replica="language-0",note="a \\"quoted\\" b"} 12.0
ray_cortex_tokens_total{region="language",replica="language-1"} 30.0
ray_cortex_bus_gaps_total{process="driver"} 2
ray_node_cpu_count 2
"""
    samples = parse_metrics(text)
    assert samples[0] == MetricSample(
        "ray_cortex_tokens_total",
        {"region": "language", "replica": "language-0", "note": 'a \\"quoted\\" b'},
        12.0,
    )
    assert metric_total(samples, "cortex_tokens") == 42
    assert metric_total(samples, "cortex_tokens", replica="language-1") == 30
    assert metric_total(samples, "cortex_bus_gaps") == 2


def status_of_a_chat() -> dict[str, Any]:
    """What a `cortex chat` driver reports: three regions (one unreachable), another driver."""
    started = time.mktime((2026, 12, 7, 14, 2, 11, 0, 0, -1))
    driver = {
        "pid": 4242,
        "created": started,
        "command": "cortex chat",
        "ray_address": "127.0.0.1:46011",
        "namespace": "cortex",
        "local": True,
    }
    return {
        "driver": driver,
        "devices": {"nodes": 1, "cpus": 2.0, "gpus": 0.0},
        "dashboard": None,
        "regions": [
            {
                "name": "language-0",
                "region": "language",
                "replica": 0,
                "device": "cpu:0-1",
                "state": "decoding",
                "pid": 42,
                "tokens_per_s": 15.25,
                "busy_fraction": 0.8,
                "idle_s": None,
                "engine": "llama.cpp (auto: a GGUF model), 4 at once",
                "running": 2,
                "max_concurrent": 4,
            },
            {"name": "vision", "state": "unreachable", "error": "actor died"},
            {
                "name": "planning",
                "region": "planning",
                "replica": 0,
                "device": "cpu:0-1",
                "state": "idle",
                "pid": 41,
                "tokens_per_s": 30.0,
                "busy_fraction": 0.1,
                "idle_s": 3.2,
                "engine": "llama.cpp (auto: a GGUF model), 4 at once",
                "running": 0,
                "max_concurrent": 4,
            },
        ],
        "bus": {"msgs_per_s": 120.0, "p50_ms": 0.3, "p99_ms": 0.9, "gaps": 0, "malformed": 1},
        "turns": {"answered": 3, "last_first_token_s": 0.412},
        "beyond_loopback": ["the dashboard on 0.0.0.0 (Ray's token)"],
        "also_running": [{**driver, "pid": 77, "command": "cortex serve"}],
    }


def test_status_prints_which_cortex_then_one_line_per_region() -> None:
    lines = format_status(status_of_a_chat()).splitlines()
    assert lines[0] == (
        "Cortex of `cortex chat` (pid 4242, since 14:02:11): Ray at 127.0.0.1:46011 (its own), "
        "namespace 'cortex'"
    )
    assert "dashboard: off" in lines[1]
    assert re.search(
        r"language-0 +language +cpu:0-1 +decoding +15\.2 +80% +42 +llama\.cpp 2/4", lines[3]
    )
    assert "unreachable: actor died" in lines[4]
    assert re.search(r"planning +planning +cpu:0-1 +idle 3s ", lines[5])
    assert (
        lines[6]
        == "bus: 120 msg/s, latency p50 0.3 ms, p99 0.9 ms; 0 gaps, 1 malformed frames so far"
    )
    assert lines[7] == (
        "turns: 3 answered; the last one's first answer token came 0.412 s after its question"
    )
    assert lines[8] == "warning: listening beyond loopback: the dashboard on 0.0.0.0 (Ray's token)"
    assert lines[9] == (
        "also running: `cortex serve` (pid 77, since 14:02:11), Ray at 127.0.0.1:46011 "
        "(`cortex status --pid 77`)"
    )


def test_grafana_dashboard_queries_only_metrics_cortex_exports() -> None:
    dashboard = json.loads((MONITORING / "grafana" / "cortex.json").read_text())
    exported = set()
    for name, kind in METRIC_NAMES.items():
        series = prometheus_name(name)
        exported |= (
            {series + "_bucket", series + "_sum", series + "_count"}
            if kind == "histogram"
            else {series}
        )
    titles = [panel["title"] for panel in dashboard["panels"]]
    assert len(titles) == len(set(titles)) >= 6
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            names = set(re.findall(r"\bray_[a-z_]+", target["expr"]))
            assert names and names <= exported, (panel["title"], names - exported)
    charted = {
        n
        for p in dashboard["panels"]
        for t in p["targets"]
        for n in re.findall(r"ray_cortex_[a-z_]+", t["expr"])
    }
    for wanted in (
        "tokens_total",
        "busy_fraction",
        "bus_latency_seconds_bucket",
        "subtasks_failed_total",
    ):
        assert f"ray_cortex_{wanted}" in charted


def test_prometheus_scrapes_the_nodes_ray_lists() -> None:
    config = (MONITORING / "prometheus.yml").read_text()
    assert "/tmp/ray/prom_metrics_service_discovery.json" in config
    assert "file_sd_configs" in config


def test_each_subscription_counts_the_malformed_frames_it_got() -> None:
    with InProcessBus() as bus:
        first, second = bus.subscribe("a.*"), bus.subscribe("a.*")
        bus.publish_frames([b"a.b", b"junk"])
        assert isinstance(first.recv(timeout=0).message, Event)
        assert isinstance(second.recv(timeout=0).message, Event)
        assert bus.traffic.snapshot()["malformed"] == 2


def test_latency_percentiles() -> None:
    assert latency_percentiles([]) is None
    assert latency_percentiles([0.4]) == (0.4, 0.4)
    p50, p99 = latency_percentiles([float(ms) for ms in range(1, 101)])
    assert p50 == pytest.approx(50.5) and 99 <= p99 <= 100
