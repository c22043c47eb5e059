"""Cortex's metrics in Ray's metrics system, exported from every region actor and the driver.

A `MetricsReporter` thread copies a region host's status and a bus connection's traffic into
`ray.util.metrics` once a second; Ray serves them in Prometheus format on each node's metrics
export port, with a ``ray_`` prefix (and ``_total`` after a counter's name). Every region
metric is tagged ``region`` (its kind) and ``replica`` (its instance name); every bus metric
is tagged ``process`` (the region instance, or ``driver``), and the counts also ``topic``
(a topic family such as ``turn.*.out``). `METRIC_NAMES` is what `monitoring/` may chart.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

from ray.util import metrics

from bus.traffic import BusTraffic
from cortex.runtime.background import Background
from modules.host import RegionHost

log = logging.getLogger("cortex.runtime.metrics")

EXPORT_INTERVAL_S = 1.0
STEP_BOUNDARIES_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]
LATENCY_BOUNDARIES_S = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1.0]

METRIC_NAMES = {
    "cortex_turns": "counter",
    "cortex_first_token_seconds": "gauge",
    "cortex_tokens": "counter",
    "cortex_tokens_per_second": "gauge",
    "cortex_decode_step_seconds": "histogram",
    "cortex_busy_fraction": "gauge",
    "cortex_subtasks_started": "counter",
    "cortex_subtasks_done": "counter",
    "cortex_subtasks_failed": "counter",
    "cortex_queue_depth": "gauge",
    "cortex_model_load_seconds": "gauge",
    "cortex_prefill_tokens_per_second": "gauge",
    "cortex_decode_tokens_per_second": "gauge",
    "cortex_draft_acceptance_rate": "gauge",
    "cortex_draft_window": "gauge",
    "cortex_speculative_speedup": "gauge",
    "cortex_bus_published": "counter",
    "cortex_bus_delivered": "counter",
    "cortex_bus_latency_seconds": "histogram",
    "cortex_bus_gaps": "counter",
    "cortex_bus_malformed": "counter",
}
"""Every metric Cortex exports, by the name given to Ray, with its type."""


def prometheus_name(name: str) -> str:
    """The series on Ray's metrics endpoint: ``cortex_tokens`` -> ``ray_cortex_tokens_total``."""
    return f"ray_{name}" + ("_total" if METRIC_NAMES[name] == "counter" else "")


def add_growth(
    counter: metrics.Counter, total: int, exported: int, tags: dict[str, str] | None = None
) -> None:
    """Adds to a Ray counter what a running total grew by since it was last exported."""
    if total > exported:
        counter.inc(total - exported, tags=tags)


class Exporter(Protocol):
    def export(self) -> None: ...


class RegionMetrics:
    """A region instance's decoding figures, from its host's status and activity."""

    def __init__(self, host: RegionHost) -> None:
        self.host = host
        status = host.status
        tags = {"region": status.kind, "replica": status.name}
        keys = tuple(tags)
        self.tokens = metrics.Counter("cortex_tokens", "Tokens decoded.", keys)
        self.rate = metrics.Gauge(
            "cortex_tokens_per_second", "Tokens decoded per second, last interval.", keys
        )
        self.step = metrics.Histogram(
            "cortex_decode_step_seconds", "Time of one decode step.", STEP_BOUNDARIES_S, keys
        )
        self.busy = metrics.Gauge(
            "cortex_busy_fraction", "Share of the last minute the model was computing.", keys
        )
        self.started = metrics.Counter("cortex_subtasks_started", "Subtasks begun.", keys)
        self.done = metrics.Counter("cortex_subtasks_done", "Subtasks finished well.", keys)
        self.failed = metrics.Counter("cortex_subtasks_failed", "Subtasks that failed.", keys)
        self.queue = metrics.Gauge("cortex_queue_depth", "Subtasks waiting.", keys)
        self.load = metrics.Gauge("cortex_model_load_seconds", "Time to load the model.", keys)
        self.prefill = metrics.Gauge(
            "cortex_prefill_tokens_per_second", "The device's measured prefill rate.", keys
        )
        self.decode = metrics.Gauge(
            "cortex_decode_tokens_per_second", "The device's measured decode rate.", keys
        )
        self.acceptance = metrics.Gauge(
            "cortex_draft_acceptance_rate", "Share of its draft's tokens a target kept.", keys
        )
        self.window = metrics.Gauge(
            "cortex_draft_window", "Draft tokens a target verifies per step, last stream.", keys
        )
        self.speedup = metrics.Gauge(
            "cortex_speculative_speedup", "A target's decode rate with its draft over alone.", keys
        )
        for metric in vars(self).values():
            if isinstance(metric, metrics.Metric):
                metric.set_default_tags(tags)
        self._counters = {
            "tokens": self.tokens,
            "subtasks_started": self.started,
            "subtasks_done": self.done,
            "subtasks_failed": self.failed,
        }
        self._exported = dict.fromkeys(self._counters, 0)
        self._last = time.perf_counter()

    def export(self) -> None:
        status = self.host.info()
        now = time.perf_counter()
        new_tokens = status["tokens"] - self._exported["tokens"]
        self.rate.set(new_tokens / max(now - self._last, 1e-9))
        self._last = now
        for key, counter in self._counters.items():
            add_growth(counter, status[key], self._exported[key])
            self._exported[key] = status[key]
        for step_s in self.host.activity.take_steps():
            self.step.observe(step_s)
        self.busy.set(status["busy_fraction"])
        self.queue.set(status["queue_depth"])
        self.load.set(status["load_s"])
        self.prefill.set(status["prefill_tokens_per_s"])
        self.decode.set(status["decode_tokens_per_s"])
        speculation = status.get("speculation") or {}
        for gauge, key in (
            (self.acceptance, "acceptance_rate"),
            (self.window, "window"),
            (self.speedup, "speedup"),
        ):
            if speculation.get(key) is not None:
                gauge.set(speculation[key])


class BusMetrics:
    """One process's bus traffic: messages by topic family, latency, gaps, malformed frames."""

    def __init__(self, traffic: BusTraffic, process: str) -> None:
        self.traffic = traffic
        tags = {"process": process}
        self.published = metrics.Counter(
            "cortex_bus_published", "Messages published.", ("process", "topic")
        )
        self.delivered = metrics.Counter(
            "cortex_bus_delivered", "Messages delivered.", ("process", "topic")
        )
        self.latency = metrics.Histogram(
            "cortex_bus_latency_seconds",
            "One-way latency, publisher's clock to receiver's.",
            LATENCY_BOUNDARIES_S,
            ("process",),
        )
        self.gaps = metrics.Counter("cortex_bus_gaps", "Token stream gaps detected.", ("process",))
        self.malformed = metrics.Counter(
            "cortex_bus_malformed", "Frames that could not be decoded.", ("process",)
        )
        for metric in (self.published, self.delivered, self.latency, self.gaps, self.malformed):
            metric.set_default_tags(tags)
        self._exported: dict[str, Any] = {
            "published": {},
            "delivered": {},
            "gaps": 0,
            "malformed": 0,
        }

    def export(self) -> None:
        counts = self.traffic.snapshot()
        for key, counter in (("published", self.published), ("delivered", self.delivered)):
            for topic, total in counts[key].items():
                add_growth(counter, total, self._exported[key].get(topic, 0), {"topic": topic})
        add_growth(self.gaps, counts["gaps"], self._exported["gaps"])
        add_growth(self.malformed, counts["malformed"], self._exported["malformed"])
        self._exported = counts
        for latency_s in self.traffic.take_latencies():
            self.latency.observe(max(latency_s, 0.0))


class TurnMetrics:
    """The driver's turns: how many were answered, and the last one's first answer token."""

    def __init__(self, brain: Any) -> None:
        self.brain = brain
        self.turns = metrics.Counter("cortex_turns", "Turns answered.")
        self.first_token = metrics.Gauge(
            "cortex_first_token_seconds", "The last turn's first answer token, from its question."
        )
        self._exported = 0

    def export(self) -> None:
        figures = self.brain.turn_figures
        add_growth(self.turns, figures.answered, self._exported)
        self._exported = figures.answered
        if figures.last_first_token_s is not None:
            self.first_token.set(figures.last_first_token_s)


class MetricsReporter(Background):
    """Exports every `exporters` entry once per `interval_s` on a daemon thread; once more
    when stopped, so the last figures are not lost."""

    thread_name = "metrics"

    def __init__(self, *exporters: Exporter, interval_s: float = EXPORT_INTERVAL_S) -> None:
        super().__init__()
        self.exporters = exporters
        self.interval_s = interval_s

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._export_all()
        self._export_all()

    def _export_all(self) -> None:
        for exporter in self.exporters:
            try:
                exporter.export()
            except Exception:  # noqa: BLE001 - monitoring must never stop a region
                log.exception("exporting metrics failed")
