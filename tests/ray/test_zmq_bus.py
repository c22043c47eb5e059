"""The ZeroMQ bus across Ray actor processes, through the proxy actor."""

from __future__ import annotations

import uuid

import pytest
import ray

from bus import BusConnectError, Event, Token, ZmqTokenBus
from bus.bench import TOPIC, BusSubscriber, Publisher
from bus.proxy import find_proxy
from bus.zmq_bus import BusEndpoints
from tests.conftest import TEST_NAMESPACE

pytestmark = pytest.mark.ray

actor = ray.remote(num_cpus=0)


@pytest.fixture(scope="module")
def processes(proxy_endpoints: BusEndpoints):
    """Three subscriber processes and one publisher process on the bus."""
    subscribers = [actor(BusSubscriber).remote(proxy_endpoints) for _ in range(3)]
    publisher = actor(Publisher).remote(proxy_endpoints)
    ray.get([s.ready.remote() for s in subscribers], timeout=60)  # subscriptions are live
    yield subscribers, publisher
    for handle in [*subscribers, publisher]:
        ray.kill(handle)


def test_any_process_finds_the_proxy_by_name(proxy_endpoints: BusEndpoints) -> None:
    assert find_proxy(TEST_NAMESPACE) == proxy_endpoints
    assert proxy_endpoints.publish_to.startswith("tcp://127.0.0.1:")
    assert proxy_endpoints.subscribe_to.startswith("tcp://127.0.0.1:")


def test_missing_proxy_gets_a_clear_error(ray_cluster: None) -> None:
    with pytest.raises(BusConnectError, match="no bus proxy"):
        find_proxy("no-such-namespace")


def test_fan_out_in_order_to_every_subscriber_process(processes) -> None:
    subscribers, publisher = processes
    stream = uuid.uuid4().hex
    reports = [s.collect.remote(stream, 2000, 60) for s in subscribers]
    ray.get(publisher.publish.remote(stream, 2000, None), timeout=60)
    received = ray.get(reports, timeout=90)
    stats = ray.get([s.stats.remote() for s in subscribers], timeout=30)
    for report, counters in zip(received, stats, strict=True):
        assert (report.received, report.reordered) == (2000, 0), counters


def test_gap_is_detected_when_a_frame_is_dropped(proxy_endpoints: BusEndpoints) -> None:
    with ZmqTokenBus(proxy_endpoints) as bus:
        subscription = bus.subscribe("region.gap.out")
        for seq in (0, 1, 3):  # seq 2 dropped on purpose
            bus.publish("region.gap.out", Token(stream_id="g", seq=seq, token_id=seq, text="x"))
        deliveries = [subscription.recv(timeout=10) for _ in range(4)]
        assert [d.message.kind for d in deliveries] == ["token", "token", "event", "token"]
        gap = deliveries[2].message
        assert isinstance(gap, Event) and gap.code == "gap" and gap.data["missing"] == 1
        assert subscription.stats.gaps == 1


def test_late_joiner_gets_the_first_message_after_subscribe(
    proxy_endpoints: BusEndpoints, processes
) -> None:
    """subscribe() returns only when live: a publish from another process right after it arrives."""
    _, publisher = processes
    with ZmqTokenBus(proxy_endpoints) as bus:
        for attempt in range(20):
            stream = f"late-{attempt}"
            subscription = bus.subscribe(TOPIC)
            ray.get(publisher.publish.remote(stream, 1, None), timeout=30)
            delivery = subscription.recv(timeout=10)
            assert delivery is not None and delivery.message.stream_id == stream
            subscription.close()


def test_malformed_frames_in_the_live_proxy_leave_every_subscriber_running(
    proxy_endpoints: BusEndpoints, processes
) -> None:
    subscribers, publisher = processes
    before = ray.get([s.stats.remote() for s in subscribers], timeout=30)
    topic = TOPIC.encode()
    garbage = [
        [topic, b"\xc1not msgpack"],
        [topic, b"\x93\x01\x02\x03"],
        [topic, b"\x81\xa4kind\xa6pickle"],
        [topic],
        [topic, b"a", b"b"],
        [topic + b".\xff", b"x"],
    ]
    with ZmqTokenBus(proxy_endpoints) as injector:
        for frames in garbage:
            injector.publish_frames(frames)
        stream = uuid.uuid4().hex
        reports = [s.collect.remote(stream, 50, 30) for s in subscribers]
        ray.get(publisher.publish.remote(stream, 50, None), timeout=30)
        assert [r.received for r in ray.get(reports, timeout=60)] == [50, 50, 50]
    after = ray.get([s.stats.remote() for s in subscribers], timeout=30)
    for old, new in zip(before, after, strict=True):
        assert new["malformed"] - old["malformed"] == len(garbage)


def test_oversized_frame_disconnects_only_its_publisher(
    proxy_endpoints: BusEndpoints, processes
) -> None:
    subscribers, publisher = processes
    before = ray.get([s.stats.remote() for s in subscribers], timeout=30)
    with ZmqTokenBus(proxy_endpoints) as hostile:
        hostile.publish_frames([TOPIC.encode(), b"\x00" * (2 << 20)])
    stream = uuid.uuid4().hex
    reports = [s.collect.remote(stream, 20, 30) for s in subscribers]
    ray.get(publisher.publish.remote(stream, 20, None), timeout=30)
    assert [r.received for r in ray.get(reports, timeout=60)] == [20, 20, 20]
    after = ray.get([s.stats.remote() for s in subscribers], timeout=30)
    assert [a["malformed"] for a in after] == [b["malformed"] for b in before]  # never forwarded


def test_connecting_to_a_dead_endpoint_fails_clearly() -> None:
    dead = BusEndpoints("tcp://127.0.0.1:9", "tcp://127.0.0.1:9")
    with pytest.raises(BusConnectError, match="no answer from the bus proxy"):
        ZmqTokenBus(dead, connect_timeout=0.3)
