"""`cortex status`: the cluster's devices, every region's state and speed, the bus's health.

It attaches to a running Ray cluster with Ray's own token (authentication stays on), lists
the named actors in Cortex's namespace, asks each region actor for its live status, listens
to the bus for a moment to measure its rate and one-way latency, and reads the totals of
gaps and malformed frames from Ray's metrics endpoint on every node.
"""

from __future__ import annotations

import re
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

import ray

from bus.errors import BusConnectError
from bus.proxy import PROXY_ACTOR_NAME, find_proxy
from bus.traffic import latency_percentiles
from bus.zmq_bus import ZmqTokenBus
from cortex.errors import CortexError
from cortex.runtime.cluster import ClusterAddress, cluster_address, connect_ray, cortex_namespaces
from cortex.runtime.metrics import prometheus_name

SAMPLE_S = 1.0
"""How long `cortex status` listens to the bus."""
_SAMPLE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)")
_LABEL_RE = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class MetricSample:
    """One line of Prometheus text: a series name, its labels and its value."""

    name: str
    labels: dict[str, str]
    value: float


def parse_metrics(text: str) -> list[MetricSample]:
    """The samples in Prometheus's text format (comments and blank lines skipped)."""
    samples = []
    for line in text.splitlines():
        match = _SAMPLE_RE.match(line)
        if match and not line.startswith("#"):
            name, labels, value = match.groups()
            samples.append(MetricSample(name, dict(_LABEL_RE.findall(labels or "")), float(value)))
    return samples


def scrape_metrics(timeout_s: float = 5.0) -> list[MetricSample]:
    """Every sample on the metrics export port of every live node of the attached cluster."""
    samples = []
    for node in ray.nodes():
        if not node.get("Alive") or not node.get("MetricsExportPort"):
            continue
        url = f"http://{node['NodeManagerAddress']}:{node['MetricsExportPort']}/metrics"
        try:
            with urllib.request.urlopen(url, timeout=timeout_s) as response:
                samples += parse_metrics(response.read().decode())
        except OSError:  # a node that died since Ray last saw it, or its agent is not up yet
            continue
    return samples


def metric_total(samples: list[MetricSample], metric: str, **labels: str) -> float:
    """The sum of a Cortex metric's samples whose labels include `labels`."""
    name = prometheus_name(metric)
    return sum(
        s.value
        for s in samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


def attach(address: str | None, namespace: str) -> str | None:
    """Connects this process to a running Ray cluster (unless it already is): at `address`,
    else ``RAY_ADDRESS``, else the one started last on this machine. Returns the dashboard's
    address, or None when the cluster runs without one.

    Raises:
        ClusterAddressError: No cluster answers at the address.
    """
    target = cluster_address(address) or ClusterAddress("auto", "the cluster on this machine")
    context = connect_ray(target, namespace)
    return f"http://{context.dashboard_url}" if context.dashboard_url else None


def running_cortexes(base: str) -> list[str]:
    """The namespaces of the Cortex drivers configured with namespace `base` that run on the
    attached cluster, first taken first (see `cortex.runtime.cluster.cortex_namespaces`)."""
    proxies = {
        actor["namespace"]
        for actor in ray.util.list_named_actors(all_namespaces=True)
        if actor["name"] == PROXY_ACTOR_NAME
    }
    return [namespace for namespace in cortex_namespaces(base) if namespace in proxies]


def collect_status(
    namespace: str, dashboard: str | None = None, sample_s: float = SAMPLE_S
) -> dict[str, Any]:
    """The status of the Cortex running in `namespace`, as `cortex status --json` prints it.

    Ray must be initialised (see `attach`).
    """
    bus = _bus(namespace, sample_s)
    return {
        "namespace": namespace,
        "devices": _devices(),
        "regions": _regions(namespace),
        "bus": bus,
        "turns": _turns(bus.pop("samples")),
        "dashboard": dashboard,
    }


def _engine(region: dict[str, Any]) -> str:
    """``llama.cpp 2/4``: the engine's name and subtasks running / at most at once."""
    if not region["engine"]:
        return "-"
    return f"{region['engine'].split()[0]} {region['running']}/{region['max_concurrent']}"


def _turns(samples: list[MetricSample]) -> dict[str, Any]:
    """Turns answered so far and the last one's first answer token, from the metrics."""
    first = [s.value for s in samples if s.name == prometheus_name("cortex_first_token_seconds")]
    return {
        "answered": int(metric_total(samples, "cortex_turns")),
        "last_first_token_s": round(first[-1], 3) if first else None,
    }


def _devices() -> dict[str, Any]:
    resources = ray.cluster_resources()
    return {
        "nodes": sum(1 for node in ray.nodes() if node.get("Alive")),
        "cpus": resources.get("CPU", 0),
        "gpus": resources.get("GPU", 0),
    }


def _regions(namespace: str) -> list[dict[str, Any]]:
    names = sorted(
        actor["name"]
        for actor in ray.util.list_named_actors(all_namespaces=True)
        if actor["namespace"] == namespace and actor["name"] != PROXY_ACTOR_NAME
    )
    handles = {name: ray.get_actor(name, namespace=namespace) for name in names}
    pending = {name: handle.info.remote() for name, handle in handles.items()}
    regions = []
    for name, reference in pending.items():
        try:
            info = ray.get(reference, timeout=10)
        except (ray.exceptions.RayError, AttributeError) as error:
            regions.append({"name": name, "state": "unreachable", "error": str(error)[:200]})
            continue
        regions.append(
            {
                "name": name,
                "region": info["kind"],
                "replica": info["replica"],
                "device": info["device"],
                "state": info["state"],
                "pid": info["pid"],
                "tokens_per_s": info["tokens_per_s"],
                "busy_fraction": info["busy_fraction"],
                "tokens": info["tokens"],
                "queue_depth": info["queue_depth"],
                "engine": info["engine"],
                "running": info["running"],
                "max_concurrent": info["max_concurrent"],
                "speculation": info.get("speculation"),
                "drafting": info.get("drafting"),
            }
        )
    return regions


def _pairing(region: dict[str, Any]) -> str:
    """A target's draft and how it fares, or what a draft region drafts; "" for others."""
    if drafting := region.get("drafting"):
        return f"; drafting: {drafting['streams']} stream(s), {drafting['proposed']} proposed"
    speculation = region.get("speculation")
    if not speculation:
        return ""
    line = f"; draft {speculation['draft']}"
    if (rate := speculation.get("acceptance_rate")) is not None:
        line += f": {rate:.0%} accepted, window {speculation['window']}"
    if speculation.get("speedup"):
        line += f", {speculation['speedup']:.2f}x alone"
    if speculation.get("fallbacks"):
        line += f", {speculation['fallbacks']} stream(s) fell back"
    return line


def _bus(namespace: str, sample_s: float) -> dict[str, Any]:
    """The bus's rate and latency as a subscriber to every topic sees them for `sample_s`."""
    try:
        endpoints = find_proxy(namespace)
    except BusConnectError as error:
        raise CortexError(str(error)) from None
    latencies_ms = []
    with ZmqTokenBus(endpoints) as bus:
        everything = bus.subscribe("*")
        deadline = time.monotonic() + sample_s
        while (left := deadline - time.monotonic()) > 0:
            delivery = everything.recv(timeout=left)
            if delivery is not None:
                latencies_ms.append((delivery.received - delivery.message.ts) * 1000)
    samples = scrape_metrics()
    percentiles = latency_percentiles(latencies_ms)
    p50, p99 = (round(ms, 3) for ms in percentiles) if percentiles else (None, None)
    return {
        "msgs_per_s": round(len(latencies_ms) / sample_s, 1),
        "p50_ms": p50,
        "p99_ms": p99,
        "gaps": int(metric_total(samples, "cortex_bus_gaps")),
        "malformed": int(metric_total(samples, "cortex_bus_malformed")),
        "samples": samples,
    }


def format_status(status: dict[str, Any]) -> str:
    """The status as a few lines for a terminal."""
    devices, bus = status["devices"], status["bus"]
    lines = [
        f"cluster: {devices['nodes']} node(s), {devices['cpus']:g} CPUs, {devices['gpus']:g} GPUs"
        f"; dashboard: {status['dashboard'] or 'off'}",
        f"{'REGION':<14}{'KIND':<10}{'DEVICE':<30}{'STATE':<12}{'TOK/S':>7}{'BUSY':>7}{'PID':>8}"
        f"  ENGINE",
    ]
    for r in status["regions"]:
        if r["state"] == "unreachable":
            lines.append(f"{r['name']:<14}{'':<10}{'':<30}unreachable: {r['error']}")
            continue
        lines.append(
            f"{r['name']:<14}{r['region']:<10}{r['device'][:29]:<30}{r['state']:<12}"
            f"{r['tokens_per_s']:>7.1f}{r['busy_fraction']:>7.0%}{r['pid']:>8}"
            f"  {_engine(r)}{_pairing(r)}"
        )
    latency = (
        f"latency p50 {bus['p50_ms']} ms, p99 {bus['p99_ms']} ms"
        if bus["p50_ms"] is not None
        else "no traffic"
    )
    lines.append(
        f"bus: {bus['msgs_per_s']:g} msg/s, {latency}; "
        f"{bus['gaps']} gaps, {bus['malformed']} malformed frames so far"
    )
    turns = status["turns"]
    if turns["answered"]:
        first = turns["last_first_token_s"]
        lines.append(
            f"turns: {turns['answered']} answered; the last one's first answer token came "
            + (f"{first:.3f} s after its question" if first is not None else "never")
        )
    if status.get("also_running"):
        lines.append(
            f"also running: {', '.join(status['also_running'])} "
            "(see one with `cortex status --namespace NAME`)"
        )
    return "\n".join(lines)
