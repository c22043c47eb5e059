"""A KV handoff: one region instance holds prefilled KV states, another fetches one.

The receiver subscribes to ``kv.<transfer id>`` and asks the holder for a state by its
handoff id (`KvRequest` on ``region.<holder>.kv``). The holder answers, once it has the state
(its prefill may still run), with a `KvHeader` (what the state is, its size, its SHA-256),
then its bytes as `KvChunk`s, each with a CRC-32. The receiver acknowledges every chunk; the
holder keeps at most `window` chunks unacknowledged, so a slow receiver slows the sender
instead of filling the bus's queues (ZeroMQ drops past its high-water mark). A chunk that
is missing, out of order, corrupt or late, or a whole that is truncated or fails its
checksum, ends the transfer with a `TransferError` saying which: the receiver then prefills
itself (slower, never wrong) and aborts the transfer so the holder stops sending.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field

from bus.errors import BusError
from bus.protocol import KvAck, KvChunk, KvHeader, KvRequest
from bus.tokenbus import Subscription, TokenBus
from bus.topics import kv_requests, kv_transfer

log = logging.getLogger("cortex.bus.handoff")

FRAME_MARGIN = 4096
"""Bytes of a frame left for a chunk's other fields."""
DEFAULT_WINDOW = 4
"""Chunks a holder sends ahead of the receiver's acknowledgements."""
HELD_BYTES = 512 << 20
"""What a holder keeps of KV states, the oldest dropped first (the newest is always kept)."""
CHUNK_TIMEOUT_S = 10.0
"""How long a receiver waits for the next chunk once the header came."""
STALE_TRANSFER_S = 30.0
"""A transfer whose receiver has not acknowledged anything for this long is dropped."""
_POLL_S = 0.05


class TransferError(BusError):
    """A KV state did not arrive whole; the message says what went wrong."""


@dataclass(frozen=True)
class KvIdentity:
    """Which weights computed a KV state, and in which engine's layout."""

    engine: str
    model: str
    """A readable name: the model and its weight format."""
    weights: str
    """A fingerprint of these weights."""
    lineage: str
    """The fingerprint of the weights these were converted from (their own when original)."""

    def refusal(self, other: KvIdentity) -> str:
        """Why a state made by `other` cannot be imported here ("" when it can): another
        engine's layout, or another model (a format of the same model is welcome)."""
        if other.engine != self.engine:
            return f"the KV state is in {other.engine}'s layout; this replica runs {self.engine}"
        if other.lineage != self.lineage:
            return f"the KV state was computed by {other.model}, another model than {self.model}"
        return ""


@dataclass(frozen=True)
class KvState:
    """The KV cache of a prefilled token sequence, as an engine exports it."""

    identity: KvIdentity
    tokens: tuple[int, ...]
    data: bytes = field(repr=False)
    layout: str
    """How the engine reads `data` back (its state format and version, or tensor shapes)."""
    prefill_s: float = 0.0
    """How long the prefill that computed it took."""
    export_s: float = 0.0
    """How long the engine took to copy it out of its cache."""

    @property
    def bytes_per_token(self) -> float:
        return len(self.data) / max(1, len(self.tokens))


@dataclass
class _Transfer:
    request: KvRequest
    state: KvState
    chunk_bytes: int
    sent: int = 0
    acked: int = 0
    heard: float = field(default_factory=time.monotonic)

    @property
    def chunks(self) -> int:
        return max(1, -(-len(self.state.data) // self.chunk_bytes))


class KvHolder:
    """Holds a region instance's exported KV states and sends them to whoever asks.

    Args:
        bus: A connected bus.
        name: The region instance; requests come on ``region.<name>.kv``.
        keep_bytes: What the held states may weigh together, the oldest dropped first.
    """

    def __init__(self, bus: TokenBus, name: str, keep_bytes: int = HELD_BYTES) -> None:
        self.bus = bus
        self.name = name
        self.keep_bytes = keep_bytes
        self.chunk_bytes = bus.max_frame_bytes - FRAME_MARGIN
        self.sent_bytes = 0
        self._states: OrderedDict[str, KvState] = OrderedDict()
        self._failed: dict[str, str] = {}
        self._lock = threading.Lock()
        self._waiting: list[KvRequest] = []
        self._transfers: dict[str, _Transfer] = {}
        self._stop = threading.Event()
        self._requests = bus.subscribe(kv_requests(name))
        self._thread = threading.Thread(target=self._serve, name=f"kv-{name}", daemon=True)
        self._thread.start()

    def hold(self, handoff_id: str, state: KvState) -> None:
        """Keeps a state under its handoff id; requests waiting for it are answered."""
        with self._lock:
            self._states[handoff_id] = state
            self._states.move_to_end(handoff_id)
            while len(self._states) > 1 and self.held_bytes > self.keep_bytes:
                self._states.popitem(last=False)

    @property
    def held_bytes(self) -> int:
        return sum(len(state.data) for state in self._states.values())

    def fail(self, handoff_id: str, reason: str) -> None:
        """The state under this id will not come: its receivers hear why at once."""
        with self._lock:
            self._failed[handoff_id] = reason

    def get(self, handoff_id: str) -> KvState | None:
        """A state held here (a receiver on this instance needs no transfer)."""
        with self._lock:
            return self._states.get(handoff_id)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._requests.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                delivery = self._requests.recv(timeout=_POLL_S)
            except BusError:
                return  # the bus closed under us
            if delivery is not None:
                message = delivery.message
                if isinstance(message, KvRequest):
                    self._waiting.append(message)
                elif isinstance(message, KvAck):
                    self._on_ack(message)
            self._answer_waiting()
            for transfer in list(self._transfers.values()):
                self._send(transfer)

    def _answer_waiting(self) -> None:
        still = []
        now = time.time()
        for request in self._waiting:
            with self._lock:
                state = self._states.get(request.handoff_id)
                failed = self._failed.get(request.handoff_id)
            if state is not None:
                self._start(request, state)
            elif failed is not None:
                self._refuse(request, failed)
            elif now - request.ts > request.wait_s:
                self._refuse(request, f"{self.name} held no KV state {request.handoff_id!r}")
            else:
                still.append(request)
        self._waiting = still

    def _start(self, request: KvRequest, state: KvState) -> None:
        transfer = _Transfer(request, state, self.chunk_bytes)
        identity = state.identity
        header = KvHeader(
            transfer_id=request.transfer_id,
            source=self.name,
            ok=True,
            engine=identity.engine,
            model=identity.model,
            weights=identity.weights,
            lineage=identity.lineage,
            layout=state.layout,
            tokens=state.tokens,
            total_bytes=len(state.data),
            chunks=transfer.chunks,
            sha256=hashlib.sha256(state.data).hexdigest(),
            prefill_s=state.prefill_s,
        )
        self.bus.publish(kv_transfer(request.transfer_id), header)
        self._transfers[request.transfer_id] = transfer

    def _refuse(self, request: KvRequest, reason: str) -> None:
        header = KvHeader(transfer_id=request.transfer_id, source=self.name, ok=False, error=reason)
        self.bus.publish(kv_transfer(request.transfer_id), header)

    def _on_ack(self, ack: KvAck) -> None:
        transfer = self._transfers.get(ack.transfer_id)
        if transfer is None:
            return
        if ack.abort:
            log.info("%s: transfer %s aborted: %s", self.name, ack.transfer_id, ack.abort)
            del self._transfers[ack.transfer_id]
            return
        transfer.acked = max(transfer.acked, ack.received)
        transfer.heard = time.monotonic()
        if transfer.acked >= transfer.chunks:
            del self._transfers[ack.transfer_id]

    def _send(self, transfer: _Transfer) -> None:
        """Sends the chunks the window allows."""
        if time.monotonic() - transfer.heard > STALE_TRANSFER_S:
            del self._transfers[transfer.request.transfer_id]
            return
        topic = kv_transfer(transfer.request.transfer_id)
        data = transfer.state.data
        while transfer.sent < min(transfer.chunks, transfer.acked + transfer.request.window):
            start = transfer.sent * transfer.chunk_bytes
            piece = data[start : start + transfer.chunk_bytes]
            chunk = KvChunk(
                transfer_id=transfer.request.transfer_id,
                seq=transfer.sent,
                crc32=zlib.crc32(piece),
                data=piece,
            )
            self.bus.publish(topic, chunk)
            self.sent_bytes += len(piece)
            transfer.sent += 1


@dataclass
class Fetched:
    """A KV state that arrived whole, and how long each part of its journey took."""

    state: KvState
    source: str
    wait_s: float
    """From the request to the header: the holder's prefill, if it was still running."""
    transfer_s: float
    """From the header to the last chunk."""


def fetch_state(
    bus: TokenBus,
    holder: str,
    handoff_id: str,
    receiver: str,
    wait_s: float,
    window: int = DEFAULT_WINDOW,
    chunk_timeout_s: float = CHUNK_TIMEOUT_S,
) -> Fetched:
    """Fetches the KV state `holder` keeps under `handoff_id`.

    Args:
        wait_s: How long to wait for the header (the holder may still be prefilling).

    Raises:
        TransferError: It did not arrive whole (the message says what went wrong).
    """
    transfer_id = uuid.uuid4().hex
    asked = time.monotonic()
    with bus.subscribe(kv_transfer(transfer_id)) as chunks:
        request = KvRequest(
            handoff_id=handoff_id,
            transfer_id=transfer_id,
            receiver=receiver,
            window=window,
            wait_s=wait_s,
        )
        bus.publish(kv_requests(holder), request)
        try:
            header = _header(chunks, holder, handoff_id, wait_s)
            headed = time.monotonic()
            data = _chunks(bus, chunks, holder, header, chunk_timeout_s)
        except TransferError as error:
            abort = KvAck(transfer_id=transfer_id, received=0, abort=str(error))
            bus.publish(kv_requests(holder), abort)
            raise
    identity = KvIdentity(header.engine, header.model, header.weights, header.lineage)
    state = KvState(identity, header.tokens, data, header.layout, header.prefill_s)
    return Fetched(state, header.source, headed - asked, time.monotonic() - headed)


def _header(chunks: Subscription, holder: str, handoff_id: str, wait_s: float) -> KvHeader:
    deadline = time.monotonic() + wait_s
    while (left := deadline - time.monotonic()) > 0:
        delivery = chunks.recv(timeout=left)
        if delivery is None:
            break
        message = delivery.message
        if isinstance(message, KvHeader):
            if not message.ok:
                raise TransferError(message.error)
            return message
        if isinstance(message, KvChunk):
            raise TransferError(f"chunk {message.seq} came before the KV state's header")
    raise TransferError(f"{holder} sent no KV state {handoff_id!r} within {wait_s:g} s")


def _chunks(
    bus: TokenBus, chunks: Subscription, holder: str, header: KvHeader, timeout_s: float
) -> bytes:
    """The state's bytes, chunk by chunk, each acknowledged; checked whole at the end."""
    data = bytearray()
    expected = 0
    while expected < header.chunks:
        delivery = chunks.recv(timeout=timeout_s)
        if delivery is None:
            raise TransferError(
                f"chunk {expected} of {header.chunks} did not come within {timeout_s:g} s"
            )
        chunk = delivery.message
        if not isinstance(chunk, KvChunk):
            continue  # an event about the subscription; the checks below catch any loss
        if chunk.seq != expected:
            raise TransferError(
                f"chunk {chunk.seq} of {header.chunks} came when chunk {expected} was due "
                "(a chunk was lost or reordered)"
            )
        if zlib.crc32(chunk.data) != chunk.crc32:
            raise TransferError(f"chunk {chunk.seq} of {header.chunks} failed its CRC-32")
        data += chunk.data
        expected += 1
        bus.publish(kv_requests(holder), KvAck(transfer_id=header.transfer_id, received=expected))
    if len(data) != header.total_bytes:
        raise TransferError(f"the KV state is {len(data)} bytes, not {header.total_bytes}")
    if hashlib.sha256(data).hexdigest() != header.sha256:
        raise TransferError("the KV state failed its SHA-256 checksum")
    return bytes(data)
