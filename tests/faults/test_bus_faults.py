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

from bus import Event, Token, encode
from bus.proxy import PROXY_ACTOR_NAME, start_proxy, stop_proxy
from bus.security import BusKeys
from bus.zmq_bus import ZmqTokenBus


@pytest.fixture()
def namespace(ray_cluster: None):
    name = f"faults-{uuid.uuid4().hex[:8]}"
    yield name
    stop_proxy(name)


def publish_stream(bus: ZmqTokenBus, stop: threading.Event, rate: float = 200) -> None:
    seq = 0
    while not stop.is_set():
        bus.publish("stream.tokens", Token(stream_id="s", seq=seq, token_id=seq, text="x"))
        seq += 1
        time.sleep(1 / rate)


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

    def outsider(kind: int, keys: BusKeys | None) -> zmq.Socket:
        socket = context.socket(kind)
        socket.setsockopt(zmq.LINGER, 0)
        if keys is not None:  # knows the server's public key, but not the cluster's client key
            socket.curve_serverkey = endpoints.keys.server_public
            socket.curve_publickey, socket.curve_secretkey = keys.client_public, keys.client_secret
        outsiders.append(socket)
        return socket

    try:
        with ZmqTokenBus(endpoints) as insider:
            inbox = insider.subscribe("secret.*")
            stranger_keys = BusKeys.generate()
            readers = [outsider(zmq.SUB, None), outsider(zmq.SUB, stranger_keys)]
            for reader in readers:
                reader.setsockopt(zmq.SUBSCRIBE, b"")
                reader.connect(endpoints.subscribe_to)
            writers = [outsider(zmq.PUB, None), outsider(zmq.PUB, stranger_keys)]
            for writer in writers:
                writer.connect(endpoints.publish_to)
            time.sleep(0.5)  # give the outsiders every chance to finish a handshake
            forged = encode(Token(stream_id="forged", seq=0, token_id=1, text="intruder"))
            for index in range(50):
                for writer in writers:
                    writer.send_multipart([b"secret.x", forged])
                insider.publish(
                    "secret.x", Token(stream_id="real", seq=index, token_id=1, text="ok")
                )
                time.sleep(0.01)
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
