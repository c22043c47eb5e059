"""The in-process bus: deterministic delivery, filtering, gaps, and bad frames reported in-band."""

from __future__ import annotations

import threading

import pytest

from bus import BusClosedError, Event, InProcessBus, Token
from bus.tokenbus import StreamTracker


def token(seq: int, stream: str = "s", final: bool = False) -> Token:
    return Token(stream_id=stream, seq=seq, token_id=seq, text=f" t{seq}", final=final)


def received(subscription) -> list:
    out = []
    while (delivery := subscription.recv(timeout=0)) is not None:
        out.append(delivery)
    return out


def test_drain_delivers_everything_in_order_to_every_subscriber() -> None:
    with InProcessBus() as bus:
        first, second = bus.subscribe("region.*"), bus.subscribe("region.a.out")
        for seq in range(5):
            bus.publish("region.a.out", token(seq))
        bus.publish("region.b.out", token(0, stream="other"))
        bus.drain()
        assert [d.message.seq for d in received(first) if d.topic == "region.a.out"] == list(
            range(5)
        )
        assert [d.topic for d in received(second)] == ["region.a.out"] * 5


def test_subscription_sees_only_what_was_published_after_it() -> None:
    with InProcessBus() as bus:
        bus.publish("turn.x.in", token(0, stream="before"))
        subscription = bus.subscribe("turn.*")
        bus.publish("turn.x.in", token(0, stream="after"))
        assert [d.message.stream_id for d in received(subscription)] == ["after"]


def test_gap_is_reported_in_band_and_counted() -> None:
    with InProcessBus() as bus:
        subscription = bus.subscribe("region.a.out")
        for seq in (0, 1, 4, 5):
            bus.publish("region.a.out", token(seq))
        kinds = [(d.message.kind, getattr(d.message, "seq", None)) for d in received(subscription)]
        assert kinds == [("token", 0), ("token", 1), ("event", None), ("token", 4), ("token", 5)]
        assert subscription.stats.gaps == 1
        assert subscription.stats.missing == 2


def test_reordered_token_is_reported() -> None:
    with InProcessBus() as bus:
        subscription = bus.subscribe("region.a.out")
        for seq in (0, 2, 1):
            bus.publish("region.a.out", token(seq))
        events = [d.message for d in received(subscription) if isinstance(d.message, Event)]
        assert [e.code for e in events] == ["gap", "reordered"]
        assert subscription.stats.reordered == 1


def test_malformed_frames_are_counted_and_skipped() -> None:
    with InProcessBus() as bus:
        subscription = bus.subscribe("region.*")
        bus.publish_frames([b"region.a.out", b"\xc1\xc1"])
        bus.publish_frames([b"region.a.out"])
        bus.publish_frames([b"region.a.out", b"x", b"y"])
        bus.publish_frames([b"region.A B", b"x"])
        bus.publish("region.a.out", token(0))
        deliveries = received(subscription)
        codes = [d.message.code for d in deliveries if isinstance(d.message, Event)]
        assert codes == ["malformed"] * 4
        assert deliveries[-1].message == token(0).model_copy(
            update={"ts": deliveries[-1].message.ts}
        )
        assert subscription.stats.malformed == 4


def test_recv_waits_for_a_publish_from_another_thread() -> None:
    with InProcessBus() as bus:
        subscription = bus.subscribe("turn.*")
        publisher = threading.Timer(0.05, lambda: bus.publish("turn.x.out", token(0)))
        publisher.start()
        delivery = subscription.recv(timeout=5)
        publisher.join()
        assert delivery is not None and delivery.message.seq == 0


def test_recv_times_out_with_none() -> None:
    with InProcessBus() as bus:
        assert bus.subscribe("turn.*").recv(timeout=0.01) is None


def test_closed_subscription_and_bus_refuse_use() -> None:
    bus = InProcessBus()
    subscription = bus.subscribe("turn.*")
    bus.close()
    with pytest.raises(BusClosedError):
        subscription.recv(timeout=0)
    with pytest.raises(BusClosedError):
        bus.publish("turn.x.in", token(0))


def test_tracker_forgets_finished_streams() -> None:
    tracker = StreamTracker(max_streams=2)
    assert tracker.observe("t", token(0, "a")) == 0
    assert tracker.observe("t", token(1, "a", final=True)) == 0
    assert tracker.observe("t", token(0, "a")) == 0  # a new stream may reuse a finished id
    for name in "bcd":
        tracker.observe("t", token(0, name))
    assert tracker.observe("t", token(5, "a")) == 5  # evicted: counted from the start again


def test_a_stream_on_two_topics_is_followed_on_each() -> None:
    with InProcessBus() as bus:
        both = bus.subscribe("region.*", "turn.*")
        for seq in range(3):
            for topic in ("region.planning.out", "turn.t1.out"):
                bus.publish(topic, token(seq, "t1/synthesis", final=seq == 2))
        kinds = [both.recv(timeout=0).message.kind for _ in range(6)]
        assert kinds == ["token"] * 6 and both.recv(timeout=0) is None
        assert both.stats.gaps == both.stats.reordered == 0
