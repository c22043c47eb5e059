"""Hostile bytes: over 10,000 random and mutated frames into the live proxy, and as many into a
region's inbox. Nothing crashes, every frame that is not a message is counted as malformed,
and every frame that is one is delivered."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bus import BusDecodeError, Event, Subtask, SubtaskResult, Token, decode, encode
from bus.topics import region_inbox, region_out
from bus.zmq_bus import BusEndpoints, ZmqTokenBus
from modules.host import RegionHost
from modules.region import RegionSettings

pytestmark = pytest.mark.ray

BATCH = 100
EXAMPLES = 105  # x BATCH frames per test: over 10,000
SAMPLES = [
    encode(Token(stream_id="s", seq=3, token_id=42, text=" hello")),
    encode(Event(code="remark", source="critic", detail="fine", data={"n": 1})),
    encode(Event(level="warning", code="gap", source="x", data={"missing": 2, "seq": 5})),
]
TOPIC_RE = re.compile(rb"[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*")
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],  # shrinking over live sockets takes too long
)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A real message with a byte flipped, a cut, or bytes spliced in."""
    payload = bytearray(draw(st.sampled_from(SAMPLES)))
    where = draw(st.integers(0, len(payload) - 1))
    how = draw(st.sampled_from(["flip", "cut", "splice"]))
    if how == "flip":
        payload[where] ^= draw(st.integers(1, 255))
    elif how == "cut":
        del payload[where:]
    else:
        payload[where:where] = draw(st.binary(min_size=1, max_size=8))
    return bytes(payload)


def frame_lists(topics: st.SearchStrategy[bytes]) -> st.SearchStrategy[list[bytes]]:
    payloads = st.one_of(st.binary(max_size=120), mutated(), st.sampled_from(SAMPLES))
    return st.one_of(
        st.tuples(topics, payloads).map(list),  # the usual [topic, payload], often broken
        st.tuples(topics).map(list),  # a topic alone
        st.tuples(topics, payloads, payloads).map(list),  # one frame too many
    )


def is_message(frames: list[bytes]) -> bool:
    """Whether a subscriber must deliver these frames (else count them as malformed)."""
    if len(frames) != 2 or not TOPIC_RE.fullmatch(frames[0]):
        return False
    try:
        decode(frames[1])
    except BusDecodeError:
        return False
    return True


def deliver_all(bus: ZmqTokenBus, subscription, batch: list[list[bytes]]) -> tuple[int, int]:
    """Publishes a batch; returns (messages delivered, frames counted malformed) for it."""
    stats = subscription.stats
    received, malformed = stats.received, stats.malformed
    for frames in batch:
        bus.publish_frames(frames)
    good = sum(map(is_message, batch))
    while stats.received - received < good or stats.malformed - malformed < len(batch) - good:
        if subscription.recv(timeout=10) is None:
            break
    return stats.received - received, stats.malformed - malformed


@pytest.fixture(scope="module")
def bus(proxy_endpoints: BusEndpoints) -> Iterator[ZmqTokenBus]:
    with ZmqTokenBus(proxy_endpoints) as connected:
        yield connected


def test_the_proxy_and_a_subscriber_survive_any_frames(bus: ZmqTokenBus) -> None:
    topics = st.one_of(
        st.just(b"fuzz.tokens"), st.binary(max_size=12).map(lambda tail: b"fuzz." + tail)
    )
    sent = []

    @FUZZ_SETTINGS
    @given(st.lists(frame_lists(topics), min_size=BATCH, max_size=BATCH))
    def survives(batch: list[list[bytes]]) -> None:
        with bus.subscribe("fuzz.*") as subscription:
            delivered, malformed = deliver_all(bus, subscription, batch)
            good = sum(map(is_message, batch))
            assert (delivered, malformed) == (good, len(batch) - good)
            bus.publish("fuzz.after", Token(stream_id="after", seq=0, token_id=1, text="ok"))
            after = subscription.recv(timeout=10)
            while after is not None and getattr(after.message, "stream_id", "") != "after":
                after = subscription.recv(timeout=10)  # the batch's last deliveries come first
        assert after is not None and after.message.stream_id == "after"  # it still forwards
        sent.append(len(batch))

    survives()
    assert sum(sent) >= 10_000


@pytest.fixture(scope="module")
def region(proxy_endpoints: BusEndpoints) -> Iterator[RegionHost]:
    settings_ = RegionSettings(name="fuzzed-0", kind="language", model="-")
    host = RegionHost("tests.tui.scripted:ScriptedLanguage", settings_, proxy_endpoints)
    host.setup()
    yield host
    host.stop()


def test_a_region_inbox_survives_any_frames(bus: ZmqTokenBus, region: RegionHost) -> None:
    inbox = region_inbox("fuzzed-0").wire
    topics = st.one_of(st.just(inbox), st.binary(min_size=1, max_size=6).map(lambda t: inbox + t))
    topics = topics.filter(lambda t: t == inbox or not TOPIC_RE.fullmatch(t))  # ours or broken
    sent = []

    @FUZZ_SETTINGS
    @given(st.lists(frame_lists(topics), min_size=BATCH, max_size=BATCH))
    def survives(batch: list[list[bytes]]) -> None:
        assert region.bus is not None
        before = region.bus.traffic.snapshot()
        for frames in batch:
            bus.publish_frames(frames)
        with bus.subscribe(region_out("fuzzed-0")) as out:  # the region still answers, after
            bus.publish(
                region_inbox("fuzzed-0"),
                Subtask(turn_id="t", subtask_id="ok", region="language", instruction="There?"),
            )
            result = out.recv(timeout=30)
            while result is not None and not isinstance(result.message, SubtaskResult):
                result = out.recv(timeout=30)
        assert result is not None and result.message.ok
        bad = len(batch) - sum(map(is_message, batch))
        assert region.bus.traffic.snapshot()["malformed"] - before["malformed"] == bad
        sent.append(len(batch))

    survives()
    assert sum(sent) >= 10_000
