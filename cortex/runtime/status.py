"""`cortex status`: the cluster's devices, every region's state and speed, the bus's health.

`collect_status` runs in a process attached to the Ray cluster: the driver itself, which
serves it to `cortex status` (`cortex.runtime.drivers`), or `cortex status --address`, which
attaches with Ray's own token (authentication stays on). It lists the named actors in the
Cortex's namespace and asks each region actor for its live status, while it listens to the
bus for half a second (its rate and one-way latency) and reads the totals of gaps and
malformed frames from Ray's metrics endpoint on every node. It also names every server of
the Cortex that listens beyond loopback.
"""

from __future__ import annotations

import re
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import ray

from bus.errors import BusConnectError
from bus.proxy import PROXY_ACTOR_NAME, find_proxy
from bus.traffic import latency_percentiles
from bus.zmq_bus import BusEndpoints, ZmqTokenBus
from cortex.errors import CortexError
from cortex.runtime.cluster import (
    ClusterAddress,
    cluster_address,
    connect_ray,
    cortex_namespaces,
    is_loopback,
)
from cortex.runtime.metrics import prometheus_name

SAMPLE_S = 0.5
"""How long `cortex status` listens to the bus (while it asks the regions)."""
ANSWER_S = 5.0
"""How long a region has to say what it is doing."""
WITH_STATUS = "to see the Cortex running on this machine"
"""What `cortex status` does without an address (the end of its advice)."""
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
    context = connect_ray(target, namespace, WITH_STATUS)
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

    Raises:
        CortexError: No bus proxy runs in `namespace`.
    """
    try:
        endpoints = find_proxy(namespace)
    except BusConnectError as error:
        raise CortexError(str(error)) from None
    with ThreadPoolExecutor(2) as pool:
        listened = pool.submit(_bus, endpoints, sample_s)
        scraped = pool.submit(scrape_metrics)
        regions = _regions(namespace)
        samples = scraped.result()
        bus = listened.result() | _problems(samples)
    return {
        "namespace": namespace,
        "devices": _devices(),
        "regions": regions,
        "bus": bus,
        "turns": _turns(samples),
        "dashboard": dashboard,
        "beyond_loopback": beyond_loopback(endpoints, dashboard),
    }


def beyond_loopback(endpoints: BusEndpoints, dashboard: str | None) -> list[str]:
    """What of this Cortex listens beyond loopback, each with what guards it: Ray's servers
    on a node whose address is not loopback (they bind all interfaces there), the bus proxy,
    the dashboard."""
    found = [
        f"Ray on {node['NodeManagerAddress']} (GCS, raylet, workers: Ray's token; its "
        "metrics port: nothing)"
        for node in ray.nodes()
        if node.get("Alive") and not is_loopback(node["NodeManagerAddress"])
    ]
    bus_host = urlsplit(endpoints.publish_to).hostname or ""
    if not is_loopback(bus_host):
        guard = "CurveZMQ" if endpoints.keys is not None else "nothing"
        found.append(f"the bus proxy on {bus_host} ({guard})")
    dashboard_host = urlsplit(dashboard).hostname if dashboard else None
    if dashboard_host is not None and not is_loopback(dashboard_host):
        found.append(f"the dashboard on {dashboard_host} (Ray's token)")
    return found


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
    pending = {ray.get_actor(name, namespace=namespace).info.remote(): name for name in names}
    ray.wait(list(pending), num_returns=len(pending), timeout=ANSWER_S)
    return [_region(name, reference) for reference, name in pending.items()]


def _region(name: str, reference: Any) -> dict[str, Any]:
    """One region's line of the status, from its answer to ``info()``."""
    try:
        info = ray.get(reference, timeout=0)
    except ray.exceptions.GetTimeoutError:
        return {"name": name, "state": "unreachable", "error": f"no answer in {ANSWER_S:g} s"}
    except (ray.exceptions.RayError, AttributeError) as error:
        return {"name": name, "state": "unreachable", "error": str(error)[:200]}
    keys = ("device", "state", "pid", "tokens_per_s", "busy_fraction", "tokens", "idle_s")
    more = ("queue_depth", "engine", "running", "max_concurrent", "role")
    pairing = ("speculation", "drafting")
    speeds = ("prefill_tokens_per_s", "decode_tokens_per_s", "speeds_probe", "kv_bytes_per_token")
    return {
        "name": name,
        "region": info["kind"],
        "replica": info["replica"],
        **{key: info.get(key) for key in (*keys, *more, *pairing, *speeds)},
    }


def _bus(endpoints: BusEndpoints, sample_s: float) -> dict[str, Any]:
    """The bus's rate and latency as a subscriber to every topic sees them for `sample_s`."""
    latencies_ms = []
    with ZmqTokenBus(endpoints) as bus:
        everything = bus.subscribe("*")
        deadline = time.monotonic() + sample_s
        while (left := deadline - time.monotonic()) > 0:
            delivery = everything.recv(timeout=left)
            if delivery is not None:
                latencies_ms.append((delivery.received - delivery.message.ts) * 1000)
    percentiles = latency_percentiles(latencies_ms)
    p50, p99 = (round(ms, 3) for ms in percentiles) if percentiles else (None, None)
    return {"msgs_per_s": round(len(latencies_ms) / sample_s, 1), "p50_ms": p50, "p99_ms": p99}


def _problems(samples: list[MetricSample]) -> dict[str, int]:
    """The bus's gaps and malformed frames so far, from the metrics."""
    return {
        "gaps": int(metric_total(samples, "cortex_bus_gaps")),
        "malformed": int(metric_total(samples, "cortex_bus_malformed")),
    }
