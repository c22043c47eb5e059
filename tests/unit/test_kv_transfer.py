"""A KV state over the bus: whole and checked when nothing goes wrong, a named `TransferError`
when a chunk is corrupt, missing, out of order or the whole is truncated, and never more
chunks in flight than the receiver's window."""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Iterator

import pytest

from bus.handoff import KvHolder, KvIdentity, KvState, TransferError, fetch_state
from bus.inprocess import InProcessBus
from bus.protocol import BusMessage, KvAck, KvChunk, KvHeader, KvRequest
from bus.topics import Pattern, Topic, kv_requests, kv_transfer

IDENTITY = KvIdentity("llama.cpp", "a model", "weights", "weights")
CHUNK = 4096
Fault = Callable[[BusMessage], list[BusMessage]]


class FaultyBus(InProcessBus):
    """An in-process bus whose KV chunks and headers pass through `fault` first."""

    def __init__(self, fault: Fault | None = None) -> None:
        super().__init__(max_frame_bytes=CHUNK + 4096)  # 4 KiB chunks
        self.fault = fault

    def publish(self, topic: Topic | str, message: BusMessage) -> None:
        changed = self.fault(message) if self.fault and isinstance(message, KvChunk) else None
        for each in [message] if changed is None else changed:
            super().publish(topic, each)


def state(size: int = 5 * CHUNK + 100) -> KvState:
    return KvState(IDENTITY, (1, 2, 3), os.urandom(size), "llama.cpp sequence state v3", 1.5)


@pytest.fixture()
def bus() -> Iterator[FaultyBus]:
    with FaultyBus() as bus:
        yield bus


def transfer(bus: FaultyBus, fault: Fault | None = None) -> KvState:
    bus.fault = fault
    holder = KvHolder(bus, "language-0")
    holder.hold("shared", sent := state())
    try:
        got = fetch_state(bus, "language-0", "shared", "language-1", 5, chunk_timeout_s=1)
    finally:
        holder.close()
    assert got.state == sent
    return got.state


def test_a_state_arrives_whole_with_its_identity_and_prefill_time(bus: FaultyBus) -> None:
    got = transfer(bus)
    assert got.identity == IDENTITY and got.prefill_s == 1.5 and len(got.data) == 5 * CHUNK + 100


def corrupt(message: BusMessage) -> list[BusMessage]:
    assert isinstance(message, KvChunk)
    if message.seq == 2:
        return [message.model_copy(update={"data": b"x" + message.data[1:]})]
    return [message]


def missing(message: BusMessage) -> list[BusMessage]:
    assert isinstance(message, KvChunk)
    return [] if message.seq == 1 else [message]


def swapped() -> Fault:
    """Chunk 1 held back and sent after chunk 2."""
    held: list[BusMessage] = []

    def swap(message: BusMessage) -> list[BusMessage]:
        assert isinstance(message, KvChunk)
        if message.seq == 1:
            held.append(message)
            return []
        return [message, *held] if message.seq == 2 else [message]

    return swap


def truncated(message: BusMessage) -> list[BusMessage]:
    assert isinstance(message, KvChunk)
    if message.seq == 5:  # the last chunk, cut short but with a matching CRC
        return [message.model_copy(update={"data": b"", "crc32": zlib.crc32(b"")})]
    return [message]


def resealed(message: BusMessage) -> list[BusMessage]:
    """A chunk changed on the way, with a CRC recomputed to match: only the whole's SHA-256
    can tell."""
    assert isinstance(message, KvChunk)
    if message.seq == 0:
        data = bytes([message.data[0] ^ 1]) + message.data[1:]
        return [message.model_copy(update={"data": data, "crc32": zlib.crc32(data)})]
    return [message]


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        (corrupt, "chunk 2 of 6 failed its CRC-32"),
        (missing, "chunk 2 of 6 came when chunk 1 was due"),
        (swapped(), "chunk 2 of 6 came when chunk 1 was due"),
        (truncated, f"the KV state is {5 * CHUNK} bytes, not {5 * CHUNK + 100}"),
        (resealed, "failed its SHA-256 checksum"),
    ],
)
def test_a_broken_transfer_is_named_and_the_holder_told_to_stop(
    bus: FaultyBus, fault: Fault, said: str
) -> None:
    acks = bus.subscribe(kv_requests("language-0"))
    with pytest.raises(TransferError, match=said):
        transfer(bus, fault)
    aborts = []
    while (delivery := acks.recv(timeout=0)) is not None:
        if isinstance(delivery.message, KvAck) and delivery.message.abort:
            aborts.append(delivery.message.abort)
    assert len(aborts) == 1 and said in aborts[0]


def test_a_state_nobody_holds_is_refused_at_once_or_when_its_wait_ends(bus: FaultyBus) -> None:
    holder = KvHolder(bus, "language-0")
    holder.fail("lost", "language-0 could not prefill it: out of memory")
    with pytest.raises(TransferError, match="out of memory"):
        fetch_state(bus, "language-0", "lost", "language-1", wait_s=5)
    # the holder refuses as the wait ends, when the fetcher gives up too: either says so
    with pytest.raises(TransferError, match="(sent|held) no KV state 'never'"):
        fetch_state(bus, "language-0", "never", "language-1", wait_s=0.3)
    with pytest.raises(TransferError, match="sent no KV state"):  # no holder at all
        fetch_state(bus, "language-9", "shared", "language-1", wait_s=0.3)
    holder.close()


def test_the_holder_sends_no_more_than_the_window_ahead_of_the_acks(bus: FaultyBus) -> None:
    holder = KvHolder(bus, "language-0")
    holder.hold("shared", state())
    chunks = bus.subscribe(kv_transfer("t1"))
    request = KvRequest(handoff_id="shared", transfer_id="t1", receiver="r", window=2, wait_s=5)
    bus.publish(kv_requests("language-0"), request)

    def arrived(count: int) -> list[BusMessage]:
        got = []
        while len(got) < count and (delivery := chunks.recv(timeout=2)) is not None:
            got.append(delivery.message)
        return got

    first = arrived(3)  # the header and two chunks
    assert isinstance(first[0], KvHeader) and first[0].chunks == 6
    assert [m.seq for m in first[1:] if isinstance(m, KvChunk)] == [0, 1]  # then it waits
    assert chunks.recv(timeout=0.3) is None
    bus.publish(kv_requests("language-0"), KvAck(transfer_id="t1", received=1))
    assert [m.seq for m in arrived(1) if isinstance(m, KvChunk)] == [2]
    holder.close()


def test_bulk_topics_reach_only_who_asks_for_them_by_name() -> None:
    assert not Pattern("*").matches("kv.t1")
    assert Pattern("kv.t1").matches("kv.t1") and Pattern("*").matches("region.language-0.kv")


def test_a_holder_keeps_states_up_to_its_byte_budget_the_newest_always(bus: FaultyBus) -> None:
    holder = KvHolder(bus, "language-0", keep_bytes=3 * CHUNK)
    for name in ("a", "b", "c"):
        holder.hold(name, state(2 * CHUNK))
    assert holder.get("a") is None and holder.get("b") is None and holder.get("c") is not None
    holder.hold("big", state(5 * CHUNK))
    assert holder.get("c") is None and holder.get("big") is not None
    holder.close()
