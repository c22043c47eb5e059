"""The bus under faults: the proxy killed mid-stream, and sockets without the cluster's key."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid

import pytest
import ray
import zmq
from zmq.utils.monitor import recv_monitor_message

from bus import Event, Token, encode
from bus.proxy import PROXY_ACTOR_NAME, start_proxy, stop_proxy
from bus.security import BusKeys
from bus.zmq_bus import ZmqTokenBus

pytestmark = pytest.mark.ray

HANDSHAKE_EVENTS = (
    zmq.EVENT_HANDSHAKE_SUCCEEDED
    | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
    | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
    | zmq.EVENT_HANDSHAKE_FAILED_AUTH
)


@pytest.fixture()
def namespace(ray_cluster: None):
    name = f"faults-{uuid.uuid4().hex[:8]}"
    yield name
    stop_proxy(name)


def publish_stream(bus: ZmqTokenBus, stop: threading.Event, rate: float = 200) -> None:
    seq = 0
    while not stop.wait(1 / rate):
        bus.publish("stream.tokens", Token(stream_id="s", seq=seq, token_id=seq, text="x"))
        seq += 1


def restarted_pid(actor, old_pid: int, timeout_s: float = 60) -> int:
    """The actor's process id once Ray has restarted it (calls fail while it is down)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            pid = ray.get(actor.pid.remote(), timeout=10)
        except (ray.exceptions.ActorUnavailableError, ray.exceptions.RayActorError):
            continue
        if pid != old_pid:
            return pid
    raise AssertionError(f"the actor was not restarted within {timeout_s} s")


def test_a_killed_proxy_restarts_and_streams_resume_with_the_gap_reported(namespace) -> None:
    endpoints = start_proxy(namespace)
    proxy = ray.get_actor(PROXY_ACTOR_NAME, namespace=namespace)
    first_pid = ray.get(proxy.pid.remote())
    with ZmqTokenBus(endpoints) as publisher_bus, ZmqTokenBus(endpoints) as subscriber_bus:
        tokens = subscriber_bus.subscribe("stream.*")
        stop = threading.Event()
        publisher = threading.Thread(target=publish_stream, args=(publisher_bus, stop))
        publisher.start()
        try:
            before = [tokens.recv(timeout=5) for _ in range(20)]
            assert all(isinstance(d.message, Token) for d in before)
            os.kill(first_pid, signal.SIGKILL)
            assert restarted_pid(proxy, first_pid) != first_pid
            seen_gap, after = None, []
            deadline = time.monotonic() + 30
            while len(after) < 20 and time.monotonic() < deadline:
                delivery = tokens.recv(timeout=1)
                if delivery is None:
                    continue
                if isinstance(delivery.message, Event) and delivery.message.code == "gap":
                    seen_gap = delivery.message
                elif isinstance(delivery.message, Token) and seen_gap is not None:
                    after.append(delivery.message)
        finally:
            stop.set()
            publisher.join()
    assert seen_gap is not None and seen_gap.data["missing"] > 0
    assert len(after) == 20, "the stream did not resume through the restarted proxy"
    assert [t.seq for t in after] == list(range(after[0].seq, after[0].seq + 20))
    assert tokens.stats.gaps >= 1


def test_only_holders_of_the_cluster_key_can_subscribe_or_publish(namespace) -> None:
    endpoints = start_proxy(namespace, secure=True)
    assert endpoints.keys is not None
    context = zmq.Context()
    outsiders = []

    def outsider(kind: int, keys: BusKeys | None, endpoint: str) -> zmq.Socket:
        """A socket from outside the cluster, once the proxy has refused its handshake."""
        socket = context.socket(kind)
        socket.setsockopt(zmq.LINGER, 0)
        outsiders.append(socket)
        if keys is not None:  # knows the server's public key, but not the cluster's client key
            socket.curve_serverkey = endpoints.keys.server_public
            socket.curve_publickey, socket.curve_secretkey = keys.client_public, keys.client_secret
        if kind == zmq.SUB:
            socket.setsockopt(zmq.SUBSCRIBE, b"")
        monitor = socket.get_monitor_socket(HANDSHAKE_EVENTS)
        socket.connect(endpoint)
        assert monitor.poll(10_000), "the outsider's handshake never ended"
        event = recv_monitor_message(monitor)["event"]
        socket.disable_monitor()
        monitor.close()
        assert event != zmq.EVENT_HANDSHAKE_SUCCEEDED, "an outsider was let in"
        return socket

    try:
        with ZmqTokenBus(endpoints) as insider:
            inbox = insider.subscribe("secret.*")
            stranger_keys = BusKeys.generate()
            readers = [
                outsider(zmq.SUB, keys, endpoints.subscribe_to) for keys in (None, stranger_keys)
            ]
            writers = [
                outsider(zmq.PUB, keys, endpoints.publish_to) for keys in (None, stranger_keys)
            ]
            forged = encode(Token(stream_id="forged", seq=0, token_id=1, text="intruder"))
            for index in range(50):
                for writer in writers:
                    writer.send_multipart([b"secret.x", forged])
                insider.publish(
                    "secret.x", Token(stream_id="real", seq=index, token_id=1, text="ok")
                )
            received = []
            while (delivery := inbox.recv(timeout=1)) is not None:
                received.append(delivery.message)
            for reader in readers:
                assert reader.poll(500) == 0, "an outsider read bus traffic"
        assert [m.stream_id for m in received] == ["real"] * 50  # nothing forged got in
        proxy = ray.get_actor(PROXY_ACTOR_NAME, namespace=namespace)
        assert ray.get(proxy.refused.remote()) >= 2  # the stranger's two handshakes
    finally:
        for socket in outsiders:
            socket.close()
        context.term()
