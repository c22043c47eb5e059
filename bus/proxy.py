"""The bus proxy: one XSUB/XPUB forwarder, run in a named, detached Ray actor.

`BusProxy` is the plain class (bind, forward in a thread, stop). `start_proxy()` runs it as
the actor ``bus-proxy`` in a Ray namespace so that any process of the cluster finds its
endpoints with `find_proxy()`; `connect()` returns a `ZmqTokenBus` attached to it.
`claim_proxy()` starts one that belongs to the driver, in a namespace no one else uses.
Forwarding happens in libzmq's C proxy loop and never decodes a payload, so no frame can
crash it; subscribers validate what they receive. The XSUB side subscribes to everything,
so publishers send every message to the proxy and filtering happens at the XPUB side.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import threading
from typing import Any

import ray
import zmq
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from bus.codec import DEFAULT_MAX_FRAME_BYTES
from bus.errors import BusConnectError
from bus.security import BusKeys, ClusterGate
from bus.tokenbus import DEFAULT_HWM
from bus.zmq_bus import BusEndpoints, ZmqTokenBus

log = logging.getLogger("cortex.bus")

PROXY_ACTOR_NAME = "bus-proxy"
DEFAULT_NAMESPACE = "cortex"
LOOPBACK = "127.0.0.1"
_SUBSCRIBE_ALL = b"\x01"


class BusProxy:
    """Forwards every frame from publishers to the subscribers whose prefixes match.

    Args:
        host: IP address to bind; loopback unless the bus must reach other machines.
        hwm: High-water mark of each subscriber's queue, in messages: a subscriber that falls
            further behind loses messages, alone. What publishers send is queued up to
            `DEFAULT_HWM` at least.
        max_frame_bytes: A publisher that sends a larger frame is disconnected.
        ports: The (publish, subscribe) ports to bind; None picks free ones. A proxy that
            restarts on the same ports is found again by every client on its own.
        keys: CurveZMQ keys (cluster mode): only holders of the client key connect.
    """

    def __init__(
        self,
        host: str = LOOPBACK,
        hwm: int = DEFAULT_HWM,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        ports: tuple[int, int] | None = None,
        keys: BusKeys | None = None,
    ) -> None:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise ValueError(f"bus proxy host must be an IP address, got {host!r}") from None
        self.host = host
        self.hwm = hwm
        self.max_frame_bytes = max_frame_bytes
        self.ports = ports
        self.keys = keys
        self.gate: ClusterGate | None = None
        self._context: zmq.Context[zmq.Socket[bytes]] | None = None
        self._thread: threading.Thread | None = None
        self._endpoints: BusEndpoints | None = None

    def start(self) -> BusEndpoints:
        """Binds both sides and starts forwarding; returns the endpoints."""
        if self._endpoints is not None:
            return self._endpoints
        self._context = zmq.Context()
        frontend = self._context.socket(zmq.XSUB)
        frontend.setsockopt(zmq.RCVHWM, max(self.hwm, DEFAULT_HWM))
        frontend.setsockopt(zmq.MAXMSGSIZE, self.max_frame_bytes)
        backend = self._context.socket(zmq.XPUB)
        backend.setsockopt(zmq.SNDHWM, self.hwm)
        if self.keys is not None:
            self.gate = ClusterGate(self._context, self.keys)
            for socket in (frontend, backend):
                self.keys.secure_server(socket)
        control = self._context.socket(zmq.PAIR)
        control.bind("inproc://bus-proxy-control")
        address = f"tcp://{self.host}"
        publish_port, subscribe_port = (
            (
                _bind(frontend, address, self.ports[0]),
                _bind(backend, address, self.ports[1]),
            )
            if self.ports
            else (
                frontend.bind_to_random_port(address),
                backend.bind_to_random_port(address),
            )
        )
        frontend.send(_SUBSCRIBE_ALL)
        self._thread = threading.Thread(
            target=self._forward, args=(frontend, backend, control), name="bus-proxy", daemon=True
        )
        self._thread.start()
        self._endpoints = BusEndpoints(
            f"{address}:{publish_port}", f"{address}:{subscribe_port}", self.keys
        )
        log.info(
            "bus proxy forwarding %s -> %s%s",
            self._endpoints.publish_to,
            self._endpoints.subscribe_to,
            " (CurveZMQ)" if self.keys else "",
        )
        return self._endpoints

    def endpoints(self) -> BusEndpoints:
        """The endpoints of a started proxy."""
        if self._endpoints is None:
            raise BusConnectError("the bus proxy is not started")
        return self._endpoints

    def stop(self) -> None:
        """Stops forwarding and closes every socket."""
        if self._thread is None or self._context is None:
            return
        command = self._context.socket(zmq.PAIR)
        command.connect("inproc://bus-proxy-control")
        command.send(b"TERMINATE")
        self._thread.join(timeout=5)
        command.close(linger=0)
        if self.gate is not None:
            self.gate.stop()
        self._context.term()
        self._thread = self._context = self._endpoints = None

    @staticmethod
    def _forward(
        frontend: zmq.Socket[bytes], backend: zmq.Socket[bytes], control: zmq.Socket[bytes]
    ) -> None:
        try:
            zmq.proxy_steerable(frontend, backend, None, control)
        finally:
            for socket in (frontend, backend, control):
                socket.close(linger=0)


class ProxyService:
    """The proxy as a Ray actor: started on creation (and on each restart, on the same ports
    with the same keys), stopped by `stop()`."""

    def __init__(
        self,
        host: str,
        hwm: int,
        max_frame_bytes: int,
        ports: tuple[int, int] | None = None,
        keys: BusKeys | None = None,
    ) -> None:
        self._proxy = BusProxy(host, hwm, max_frame_bytes, ports, keys)
        self._proxy.start()

    def pid(self) -> int:
        return os.getpid()

    def refused(self) -> int:
        """CurveZMQ handshakes refused (sockets without the cluster's key)."""
        return self._proxy.gate.refused if self._proxy.gate is not None else 0

    def endpoints(self) -> BusEndpoints:
        return self._proxy.endpoints()

    def stop(self) -> None:
        self._proxy.stop()

    def __repr__(self) -> str:
        endpoints = self._proxy.endpoints()
        secure = ", CurveZMQ" if endpoints.keys else ""
        return f"BusProxy({endpoints.publish_to} -> {endpoints.subscribe_to}{secure})"


def start_proxy(
    namespace: str = DEFAULT_NAMESPACE,
    host: str = LOOPBACK,
    hwm: int = DEFAULT_HWM,
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
    secure: bool | None = None,
) -> BusEndpoints:
    """Starts the proxy actor in `namespace` (or finds the running one); returns its endpoints.

    Ray must be initialised. The actor is detached: it outlives the driver until `stop_proxy()`,
    and Ray restarts it if its process dies; it binds the same two ports again, and ZeroMQ
    clients reconnect by themselves. `secure` turns on CurveZMQ; by default it is on unless
    the proxy binds to loopback (cluster mode binds to the node's address).
    """
    actor = _create_proxy(namespace, host, hwm, max_frame_bytes, secure, detached=True)
    endpoints: BusEndpoints = ray.get(actor.endpoints.remote(), timeout=60)
    return endpoints


def claim_proxy(
    namespace: str,
    host: str = LOOPBACK,
    hwm: int = DEFAULT_HWM,
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
    secure: bool | None = None,
) -> tuple[Any, BusEndpoints] | None:
    """Starts a proxy actor that belongs to this driver in `namespace`, unless one runs there.

    Returns the actor's handle and its endpoints, or None when `namespace` already has a
    proxy (another driver's): the caller then tries another namespace. Unlike
    `start_proxy`'s, this actor ends with the driver, even a killed one, and as soon as the
    caller drops the handle; Ray restarts it meanwhile if its process dies.
    """
    try:
        actor = _create_proxy(namespace, host, hwm, max_frame_bytes, secure, detached=False)
    except ray.exceptions.ActorAlreadyExistsError:
        return None
    try:
        endpoints: BusEndpoints = ray.get(actor.endpoints.remote(), timeout=60)
    except ray.exceptions.RayError:  # two drivers claimed it at once, and the other won
        if _proxy_id(namespace) not in (None, actor._actor_id):
            return None
        raise
    return actor, endpoints


def _create_proxy(
    namespace: str,
    host: str,
    hwm: int,
    max_frame_bytes: int,
    secure: bool | None,
    detached: bool,
) -> Any:
    secure = host != LOOPBACK if secure is None else secure
    # The proxy binds the caller's address and ports, so it runs on the caller's node, and
    # the bus outlives every other node.
    here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
    return (
        ray.remote(ProxyService)
        .options(
            name=PROXY_ACTOR_NAME,
            namespace=namespace,
            lifetime="detached" if detached else None,
            get_if_exists=detached,
            num_cpus=0,
            max_restarts=-1,
            scheduling_strategy=here,
        )
        .remote(
            host,
            hwm,
            max_frame_bytes,
            (_free_port(host), _free_port(host)),
            BusKeys.generate() if secure else None,
        )
    )


def _proxy_id(namespace: str) -> Any:
    """The actor id of the proxy running in `namespace`, or None."""
    try:
        return ray.get_actor(PROXY_ACTOR_NAME, namespace=namespace)._actor_id
    except ValueError:
        return None


def find_proxy(namespace: str = DEFAULT_NAMESPACE) -> BusEndpoints:
    """The endpoints of the proxy running in `namespace`.

    Raises:
        BusConnectError: No proxy runs there.
    """
    try:
        actor: Any = ray.get_actor(PROXY_ACTOR_NAME, namespace=namespace)
    except ValueError:
        raise BusConnectError(
            f"no bus proxy in Ray namespace {namespace!r}; start Cortex first "
            "(or call bus.proxy.start_proxy())"
        ) from None
    endpoints: BusEndpoints = ray.get(actor.endpoints.remote(), timeout=60)
    return endpoints


def _free_port(host: str) -> int:
    """A TCP port free on `host` now (the proxy binds it right after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _bind(socket_: zmq.Socket[bytes], address: str, port: int) -> int:
    socket_.bind(f"{address}:{port}")
    return port


def stop_proxy(namespace: str = DEFAULT_NAMESPACE) -> None:
    """Stops and removes the proxy actor in `namespace`, if there is one."""
    try:
        actor = ray.get_actor(PROXY_ACTOR_NAME, namespace=namespace)
    except ValueError:
        return
    ray.get(actor.stop.remote(), timeout=30)
    ray.kill(actor)


def connect(namespace: str = DEFAULT_NAMESPACE, **options: float) -> ZmqTokenBus:
    """A `ZmqTokenBus` attached to the proxy running in `namespace` (see `ZmqTokenBus`)."""
    return ZmqTokenBus(find_proxy(namespace), **options)  # type: ignore[arg-type]
