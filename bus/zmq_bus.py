"""The ZeroMQ `TokenBus`: PUB and SUB sockets connected to an XSUB/XPUB proxy.

Publishers connect a PUB socket to the proxy's `publish_to` endpoint; each subscription
connects its own SUB socket to `subscribe_to`. ZeroMQ drops messages for a subscription
that has not reached the proxy yet (the late-joiner problem), so connecting and subscribing
end with a handshake: the client publishes probe messages on a private ``bus.probe.<id>``
topic until one comes back on the new socket. The subscription messages travel on the same
pipe ahead of the probe's, so once a probe arrives every pattern is live at the proxy.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import zmq

from bus.codec import DEFAULT_MAX_FRAME_BYTES, encode
from bus.errors import BusConnectError
from bus.protocol import Event
from bus.security import BusKeys
from bus.tokenbus import DEFAULT_HWM, Subscription, TokenBus
from bus.topics import RESERVED_PREFIX, Pattern

PROBE_INTERVAL_MS = 2
DEFAULT_CONNECT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class BusEndpoints:
    """Where the proxy listens: publishers connect to `publish_to`, subscribers to
    `subscribe_to`; with `keys`, over CurveZMQ (cluster mode)."""

    publish_to: str
    subscribe_to: str
    keys: BusKeys | None = None


class ZmqSubscription(Subscription):
    """A subscription with its own SUB socket."""

    def __init__(self, bus: ZmqTokenBus, patterns: Sequence[Pattern]) -> None:
        super().__init__(patterns, bus)
        self._socket = bus.open_sub_socket()
        for pattern in patterns:
            self._socket.setsockopt(zmq.SUBSCRIBE, pattern.wire_prefix)
        self._early: deque[list[bytes]] = deque(bus.handshake(self._socket))
        self._wait_ms = -1

    def _receive_frames(self, timeout: float | None) -> list[bytes] | None:
        if self._early:
            return self._early.popleft()
        try:
            return self._socket.recv_multipart(zmq.NOBLOCK)
        except zmq.Again:
            pass
        # Nothing queued: give the core to a publisher that may be about to send, because
        # on few cores going to sleep and being woken per message costs more than decoding.
        os.sched_yield()
        wait_ms = -1 if timeout is None else int(timeout * 1000)
        if wait_ms != self._wait_ms:
            self._socket.setsockopt(zmq.RCVTIMEO, wait_ms)
            self._wait_ms = wait_ms
        try:
            return self._socket.recv_multipart()
        except zmq.Again:
            return None

    def _release(self) -> None:
        self._socket.close(linger=0)


class ZmqTokenBus(TokenBus):
    """A token bus client connected to a running proxy (see `bus.proxy`).

    Args:
        endpoints: The proxy's endpoints.
        hwm: High-water mark of each subscription's queue, in messages: past it a subscriber
            that falls behind loses messages (and reports the gaps in token streams).
            Publishing never drops below `DEFAULT_HWM`, so no subscriber loses what it keeps
            up with (a subtask, a result) to a small `hwm`.
        max_frame_bytes: Largest payload published or accepted.
        connect_timeout: Seconds to wait for the proxy to answer a handshake.

    Raises:
        BusConnectError: The proxy did not answer within `connect_timeout`.
    """

    def __init__(
        self,
        endpoints: BusEndpoints,
        *,
        hwm: int = DEFAULT_HWM,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_S,
    ) -> None:
        super().__init__(max_frame_bytes)
        self.endpoints = endpoints
        self.hwm = hwm
        self.connect_timeout = connect_timeout
        self._context = zmq.Context()
        self._publisher = self._context.socket(zmq.PUB)
        if endpoints.keys is not None:
            endpoints.keys.secure_client(self._publisher)
        self._publisher.setsockopt(zmq.SNDHWM, max(hwm, DEFAULT_HWM))
        self._publisher.setsockopt(zmq.LINGER, 2000)
        self._publisher.connect(endpoints.publish_to)
        self._publish_lock = threading.Lock()
        try:
            probe_socket = self.open_sub_socket()
            try:
                self.handshake(probe_socket)
            finally:
                probe_socket.close(linger=0)
        except BusConnectError:
            self._release()
            raise

    def publish_frames(self, frames: Sequence[bytes]) -> None:
        self._check_open()
        *head, last = frames
        with self._publish_lock:
            for frame in head:
                self._publisher.send(frame, zmq.SNDMORE)
            self._publisher.send(last)

    def open_sub_socket(self) -> zmq.Socket[bytes]:
        """A SUB socket connected to the proxy, with this bus's high-water mark."""
        socket = self._context.socket(zmq.SUB)
        if self.endpoints.keys is not None:
            self.endpoints.keys.secure_client(socket)
        socket.setsockopt(zmq.RCVHWM, self.hwm)
        socket.setsockopt(zmq.LINGER, 0)
        socket.connect(self.endpoints.subscribe_to)
        return socket

    def handshake(self, socket: zmq.Socket[bytes]) -> list[list[bytes]]:
        """Publishes probes until one arrives on `socket`; returns the other frames it got.

        Raises:
            BusConnectError: No probe came back within `connect_timeout`.
        """
        probe = f"{RESERVED_PREFIX}probe.{uuid.uuid4().hex}".encode()
        payload = encode(Event(code="probe", source="bus"))
        socket.setsockopt(zmq.SUBSCRIBE, probe)
        early: list[list[bytes]] = []
        deadline = time.monotonic() + self.connect_timeout
        while True:
            self.publish_frames([probe, payload])
            if socket.poll(PROBE_INTERVAL_MS) and self._collect_until(socket, probe, early):
                break
            if time.monotonic() > deadline:
                raise BusConnectError(
                    f"no answer from the bus proxy at {self.endpoints.publish_to} / "
                    f"{self.endpoints.subscribe_to} within {self.connect_timeout:.0f} s; "
                    "is it running (see `cortex status`)?"
                )
        socket.setsockopt(zmq.UNSUBSCRIBE, probe)
        return early

    def _open_subscription(self, patterns: tuple[Pattern, ...]) -> ZmqSubscription:
        return ZmqSubscription(self, patterns)

    def _release(self) -> None:
        self._publisher.close()
        self._context.term()

    @staticmethod
    def _collect_until(socket: zmq.Socket[bytes], probe: bytes, early: list[list[bytes]]) -> bool:
        """Reads what is waiting; keeps non-probe frames; True once the probe came back."""
        while True:
            try:
                frames = socket.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return False
            if frames[0] == probe:
                return True
            early.append(frames)
