"""Benchmark of the token bus: `python -m bus.bench [--json]`.

One publisher and three subscribers, each in its own Ray actor process, exchange `Token`
messages through the real ZeroMQ proxy actor. Two phases: paced (one-way latency at a fixed
rate) and flood (as fast as the publisher can go; the rate delivered to all three). In the
same run, raw ZeroMQ PUB/SUB sockets flood the same encoded payloads through the same proxy,
with the same processes: the bus's flood rate is printed as a fraction of theirs, which
holds still where the machine's load moves both. The paced and flood phases also run over a
baseline that sends each message as a Ray actor call per subscriber. Every loop is bounded
in count and time.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

import ray
import zmq

from bus.codec import decode, encode
from bus.protocol import Token
from bus.proxy import start_proxy, stop_proxy
from bus.tokenbus import DEFAULT_HWM, StreamTracker
from bus.traffic import latency_percentiles
from bus.zmq_bus import BusEndpoints, ZmqTokenBus

TOPIC = "bench.tokens"
RAW_TOPIC = b"raw.tokens"
RAW_PROBE = b"raw.probe"
SUBSCRIBERS = 3
NAMESPACE = "cortex-bench"


@dataclass
class PhaseReport:
    """What one subscriber saw of one stream."""

    received: int
    reordered: int
    latencies_ms: list[float]
    last_received: float


@dataclass
class Figures:
    """One transport's results, as printed and as `--json` keys."""

    p50_ms: float
    p99_ms: float
    flood_msgs_per_s: float
    lost: int
    reordered: int


def bench_token(stream_id: str, seq: int) -> Token:
    """A token like a region's: a short piece of text (the report prints its encoded size)."""
    return Token(stream_id=stream_id, seq=seq, token_id=seq % 49152, text=" word")


def paced_sleep(start: float, seq: int, rate: float | None) -> None:
    """Sleeps until message `seq` is due at `rate` messages per second (no wait if None)."""
    if rate:
        delay = start + seq / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)


class StreamLog:
    """Collects latencies and ordering of one stream on the bench's topic as tokens arrive."""

    def __init__(self) -> None:
        self.tracker = StreamTracker()
        self.latencies_ms: list[float] = []
        self.reordered = 0
        self.last_received = 0.0

    def add(self, token: Token, received: float) -> None:
        if self.tracker.observe(TOPIC, token) < 0:
            self.reordered += 1
        self.latencies_ms.append((received - token.ts) * 1000)
        self.last_received = received

    def report(self) -> PhaseReport:
        return PhaseReport(
            len(self.latencies_ms), self.reordered, self.latencies_ms, self.last_received
        )


class BusSubscriber:
    """A subscriber process on the ZeroMQ bus."""

    def __init__(self, endpoints: BusEndpoints) -> None:
        self._bus = ZmqTokenBus(endpoints)
        self._subscription = self._bus.subscribe(TOPIC)

    def ready(self) -> bool:
        """Answers once the subscription is live (actor creation itself does not wait)."""
        return True

    def collect(self, stream_id: str, count: int, timeout_s: float) -> PhaseReport:
        """Receives `count` tokens of a stream, noting each one's one-way latency."""
        log = StreamLog()
        deadline = time.monotonic() + timeout_s
        while len(log.latencies_ms) < count and time.monotonic() < deadline:
            delivery = self._subscription.recv(timeout=0.5)
            if delivery is None:
                continue
            token = delivery.message
            if isinstance(token, Token) and token.stream_id == stream_id:
                log.add(token, delivery.received)
        return log.report()

    def flood(self, count: int, timeout_s: float) -> PhaseReport:
        """Receives `count` tokens as fast as they come; order is checked by the subscription."""
        stats = self._subscription.stats
        first, reordered = stats.received, stats.reordered
        last_received = 0.0
        deadline = time.monotonic() + timeout_s
        while stats.received - first < count and time.monotonic() < deadline:
            delivery = self._subscription.recv(timeout=0.5)
            if delivery is not None:
                last_received = delivery.received
        return PhaseReport(stats.received - first, stats.reordered - reordered, [], last_received)

    def stats(self) -> dict[str, int]:
        """The subscription's counters (received, malformed, gaps, missing, reordered)."""
        return asdict(self._subscription.stats)


class RawSubscriber:
    """A subscriber process with a plain ZeroMQ SUB socket: frames counted, nothing decoded."""

    def __init__(self, endpoints: BusEndpoints) -> None:
        self._context = zmq.Context()
        self._socket = self._context.socket(zmq.SUB)
        self._socket.setsockopt(zmq.RCVHWM, DEFAULT_HWM)
        self._socket.connect(endpoints.subscribe_to)
        for topic in (RAW_TOPIC, RAW_PROBE):
            self._socket.setsockopt(zmq.SUBSCRIBE, topic)
        probe = self._context.socket(zmq.PUB)  # the subscription is live once a probe comes
        probe.connect(endpoints.publish_to)
        deadline = time.monotonic() + 30
        while not self._socket.poll(50) and time.monotonic() < deadline:
            probe.send_multipart([RAW_PROBE, b""])
        probe.close(linger=0)

    def ready(self) -> bool:
        return True

    def flood(self, count: int, timeout_s: float) -> PhaseReport:
        """Receives `count` frames on the raw topic as fast as they come."""
        received = 0
        self._socket.setsockopt(zmq.RCVTIMEO, 500)
        deadline = time.monotonic() + timeout_s
        while received < count and time.monotonic() < deadline:
            try:
                topic, _ = self._socket.recv_multipart()
            except zmq.Again:
                continue
            received += topic == RAW_TOPIC
        return PhaseReport(received, 0, [], time.time())


class RawPublisher:
    """A publisher process with a plain ZeroMQ PUB socket, sending payloads encoded before."""

    def __init__(self, endpoints: BusEndpoints, count: int) -> None:
        self._context = zmq.Context()
        self._socket = self._context.socket(zmq.PUB)
        self._socket.setsockopt(zmq.SNDHWM, DEFAULT_HWM)
        self._socket.connect(endpoints.publish_to)
        self._payloads = [encode(bench_token("flood", seq)) for seq in range(count)]

    def flood(self) -> float:
        started = time.time()
        for payload in self._payloads:
            self._socket.send_multipart([RAW_TOPIC, payload])
        return started


class CallSubscriber:
    """A subscriber process that receives each message as a Ray actor call (the baseline)."""

    def __init__(self) -> None:
        self._logs: dict[str, StreamLog] = {}

    def deliver(self, payload: bytes) -> None:
        received = time.time()
        token = decode(payload)
        assert isinstance(token, Token)
        self._logs.setdefault(token.stream_id, StreamLog()).add(token, received)

    def report(self, stream_id: str) -> PhaseReport:
        return self._logs.get(stream_id, StreamLog()).report()


class Publisher:
    """The publishing process: sends over the bus, or as actor calls for the baseline."""

    def __init__(self, endpoints: BusEndpoints) -> None:
        self._bus = ZmqTokenBus(endpoints)

    def publish(self, stream_id: str, count: int, rate: float | None) -> float:
        started, start = time.time(), time.perf_counter()
        publish = self._bus.publish
        for seq in range(count):
            if rate:
                paced_sleep(start, seq, rate)
            publish(TOPIC, bench_token(stream_id, seq))
        return started

    def call(self, subscribers: list[Any], stream_id: str, count: int, rate: float | None) -> float:
        started, start = time.time(), time.perf_counter()
        pending = []
        for seq in range(count):
            paced_sleep(start, seq, rate)
            payload = encode(bench_token(stream_id, seq))
            pending = [s.deliver.remote(payload) for s in subscribers]
        ray.get(pending, timeout=600)
        return started


def summarise(
    paced: list[PhaseReport],
    flood: list[PhaseReport],
    flood_start: float,
    paced_count: int,
    flood_count: int,
) -> Figures:
    """Merges the subscribers' reports of both phases into one transport's figures."""
    latencies = [ms for report in paced for ms in report.latencies_ms]
    p50, p99 = latency_percentiles(latencies) or (float("nan"), float("nan"))
    delivered = min(report.received for report in flood)
    flood_s = max(report.last_received for report in flood) - flood_start
    lost = sum(paced_count - r.received for r in paced) + sum(
        flood_count - r.received for r in flood
    )
    return Figures(
        p50_ms=round(p50, 3),
        p99_ms=round(p99, 3),
        flood_msgs_per_s=round(delivered / flood_s) if flood_s > 0 else 0.0,
        lost=lost,
        reordered=sum(r.reordered for r in paced + flood),
    )


def run_bus(endpoints: BusEndpoints, args: argparse.Namespace) -> Figures:
    actor: Any = ray.remote(num_cpus=0)
    subscribers = [actor(BusSubscriber).remote(endpoints) for _ in range(SUBSCRIBERS)]
    publisher = actor(Publisher).remote(endpoints)
    ray.get([s.ready.remote() for s in subscribers], timeout=60)
    limit = args.time_limit
    paced_refs = [s.collect.remote("paced", args.paced_count, limit) for s in subscribers]
    ray.get(publisher.publish.remote("paced", args.paced_count, args.rate), timeout=limit)
    paced = ray.get(paced_refs, timeout=limit + 10)
    flood_refs = [s.flood.remote(args.flood_count, limit) for s in subscribers]
    flood_start = ray.get(publisher.publish.remote("flood", args.flood_count, None), timeout=limit)
    flood = ray.get(flood_refs, timeout=limit + 10)
    for handle in [*subscribers, publisher]:
        ray.kill(handle)
    return summarise(paced, flood, flood_start, args.paced_count, args.flood_count)


def run_raw(endpoints: BusEndpoints, args: argparse.Namespace) -> Figures:
    """The flood over raw ZeroMQ sockets: same proxy, payloads and processes as the bus's."""
    actor: Any = ray.remote(num_cpus=0)
    subscribers = [actor(RawSubscriber).remote(endpoints) for _ in range(SUBSCRIBERS)]
    publisher = actor(RawPublisher).remote(endpoints, args.flood_count)
    ray.get([s.ready.remote() for s in subscribers], timeout=60)
    limit = args.time_limit
    flood_refs = [s.flood.remote(args.flood_count, limit) for s in subscribers]
    flood_start = ray.get(publisher.flood.remote(), timeout=limit)
    flood = ray.get(flood_refs, timeout=limit + 10)
    for handle in [*subscribers, publisher]:
        ray.kill(handle)
    return summarise([], flood, flood_start, 0, args.flood_count)


def run_baseline(endpoints: BusEndpoints, args: argparse.Namespace) -> Figures:
    actor: Any = ray.remote(num_cpus=0)
    subscribers = [actor(CallSubscriber).remote() for _ in range(SUBSCRIBERS)]
    publisher = actor(Publisher).remote(endpoints)
    limit = args.time_limit
    count = args.baseline_count
    ray.get(publisher.call.remote(subscribers, "paced", count, args.rate), timeout=limit)
    paced = ray.get([s.report.remote("paced") for s in subscribers], timeout=60)
    flood_start = ray.get(publisher.call.remote(subscribers, "flood", count, None), timeout=limit)
    flood = ray.get([s.report.remote("flood") for s in subscribers], timeout=60)
    for handle in [*subscribers, publisher]:
        ray.kill(handle)
    return summarise(paced, flood, flood_start, count, count)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bus.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--rate", type=float, default=1000.0, help="paced rate, msg/s (1000)")
    parser.add_argument("--paced-count", type=int, default=3000, help="paced messages (3000)")
    parser.add_argument("--flood-count", type=int, default=100_000, help="flood messages (100000)")
    parser.add_argument(
        "--baseline-count", type=int, default=2000, help="messages per baseline phase (2000)"
    )
    parser.add_argument(
        "--time-limit", type=float, default=120.0, help="seconds any one phase may take (120)"
    )
    return parser.parse_args(argv)


def print_table(
    bus: Figures, raw: Figures, baseline: Figures, ratio: float, args: argparse.Namespace
) -> None:
    size = len(encode(bench_token("flood", 0)))
    print(
        f"1 publisher -> {SUBSCRIBERS} subscribers, Ray actor processes, {size}-byte Token messages"
    )
    print(f"{'transport':<30}{'p50 ms':>9}{'p99 ms':>9}{'flood msg/s':>13}{'lost':>7}{'reord':>7}")
    rows = (
        ("the bus (ZeroMQ via proxy)", bus),
        ("raw ZeroMQ PUB/SUB, same proxy", raw),
        ("Ray actor call per message", baseline),
    )
    for name, f in rows:
        p50, p99 = ("-", "-") if f is raw else (f"{f.p50_ms:.3f}", f"{f.p99_ms:.3f}")
        print(
            f"{name:<30}{p50:>9}{p99:>9}{f.flood_msgs_per_s:>13,.0f}{f.lost:>7}"
            f"{'-' if f is raw else f.reordered:>7}"
        )
    print(
        f"latency paced at {args.rate:,.0f} msg/s; flood: bus and raw {args.flood_count:,} msgs, "
        f"baseline {args.baseline_count:,}"
    )
    print(
        f"the bus's flood rate is {of_raw(bus, raw):.2f} of raw ZeroMQ's in this run "
        f"(the codec, checks and ordering cost the rest); {ratio:.1f}x the baseline's"
    )


def of_raw(bus: Figures, raw: Figures) -> float:
    """The bus's flood rate as a fraction of raw ZeroMQ's, measured in the same run."""
    return bus.flood_msgs_per_s / raw.flood_msgs_per_s if raw.flood_msgs_per_s else 0.0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ray.init(
        include_dashboard=False,
        namespace=NAMESPACE,
        logging_level=logging.ERROR,
        log_to_driver=False,
    )
    try:
        endpoints = start_proxy(namespace=NAMESPACE)
        bus = run_bus(endpoints, args)
        raw = run_raw(endpoints, args)
        baseline = run_baseline(endpoints, args)
    finally:
        stop_proxy(namespace=NAMESPACE)
        ray.shutdown()
    ratio = bus.flood_msgs_per_s / baseline.flood_msgs_per_s if baseline.flood_msgs_per_s else 0.0
    if args.json:
        flood = {"flood_msgs_per_s": raw.flood_msgs_per_s, "lost": raw.lost}
        figures = {**asdict(bus), "raw": flood, "of_raw": round(of_raw(bus, raw), 3)}
        print(json.dumps(figures | {"baseline": asdict(baseline), "ratio": round(ratio, 1)}))
    else:
        print_table(bus, raw, baseline, ratio, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
