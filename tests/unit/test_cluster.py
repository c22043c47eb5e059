"""The cluster address: where it comes from, and a wrong one named in one line within seconds,
before Ray is asked (Ray itself retries for minutes)."""

from __future__ import annotations

import os
import signal
import socket
import sys
import time

import pytest

from cortex.cli.console import sigterm_as_interrupt
from cortex.errors import ClusterAddressError, Terminated
from cortex.runtime.cluster import (
    ClusterAddress,
    check_address,
    cluster_address,
    cortex_namespaces,
    kept_signal_handlers,
)
from cortex.runtime.status import running_cortexes


def dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again: nothing listens there


def test_the_option_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.1:6379")
    assert cluster_address("127.0.0.1:6380") == ClusterAddress("127.0.0.1:6380", "--address")
    assert cluster_address(None) == ClusterAddress("10.0.0.1:6379", "RAY_ADDRESS")
    monkeypatch.setenv("RAY_ADDRESS", "")
    assert cluster_address(None) is None


@pytest.mark.parametrize("source", ["--address", "RAY_ADDRESS"])
def test_nothing_listening_is_named_with_its_source_in_seconds(source: str) -> None:
    address = ClusterAddress(f"127.0.0.1:{dead_port()}", source)
    started = time.monotonic()
    with pytest.raises(ClusterAddressError) as refused:
        check_address(address)
    assert time.monotonic() - started < 5
    message = str(refused.value)
    assert f"nothing answers at {address.value} (from {source})" in message
    assert ("unset RAY_ADDRESS" if source == "RAY_ADDRESS" else "leave out --address") in message
    assert "\n" not in message


def test_an_unroutable_host_times_out_quickly() -> None:
    started = time.monotonic()
    with pytest.raises(ClusterAddressError, match="nothing answers at 192.0.2.1:6379"):
        check_address(ClusterAddress("192.0.2.1:6379", "--address"), timeout_s=1)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("http://127.0.0.1:8265", "is a web address, such as the dashboard's"),
        ("https://head:8265", "is a web address"),
        ("grpc://head:6379", "not a Ray cluster's address"),
        ("head", "is not HOST:PORT"),
        ("head:port", "is not HOST:PORT"),
        ("head:70000", "is not HOST:PORT"),
        (":6379", "is not HOST:PORT"),
    ],
)
def test_addresses_that_are_not_a_clusters_are_refused(value: str, expected: str) -> None:
    with pytest.raises(ClusterAddressError, match=expected) as refused:
        check_address(ClusterAddress(value, "RAY_ADDRESS"))
    assert f"{value} (from RAY_ADDRESS)" in str(refused.value)


def test_drivers_take_numbered_namespaces_in_order() -> None:
    assert cortex_namespaces("cortex")[:3] == ["cortex", "cortex-2", "cortex-3"]


def test_auto_is_probed_where_ray_would_go(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cluster file left by a cluster that is gone would make Ray retry for minutes."""
    stale = f"127.0.0.1:{dead_port()}"
    monkeypatch.setattr(
        "ray._private.services.get_ray_address_from_environment", lambda *args: stale
    )
    with pytest.raises(ClusterAddressError, match=rf"nothing answers at {stale} \(from --address"):
        check_address(ClusterAddress("auto", "--address"))


def test_auto_without_any_cluster_is_left_to_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    def none_found(*args: object) -> str:
        raise ConnectionError("Could not find any running Ray instance.")

    monkeypatch.setattr("ray._private.services.get_ray_address_from_environment", none_found)
    check_address(ClusterAddress("auto", "--address"))  # ray.init says so at once


def test_status_finds_the_running_cortexes_of_a_namespaces_family(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first driver may have stopped while the second (in ``cortex-2``) still runs."""
    actors = [
        {"namespace": "cortex-3", "name": "bus-proxy"},
        {"namespace": "cortex-2", "name": "bus-proxy"},
        {"namespace": "cortex-2", "name": "planning"},
        {"namespace": "cortex", "name": "planning"},  # a region without its bus: not a Cortex
        {"namespace": "cortexes", "name": "bus-proxy"},  # another family
    ]
    monkeypatch.setattr("ray.util.list_named_actors", lambda all_namespaces: actors)
    assert running_cortexes("cortex") == ["cortex-2", "cortex-3"]


def test_a_sigterm_while_ray_holds_the_handler_reaches_ours() -> None:
    """ray.init sets a SIGTERM handler of its own that exits with status 15."""
    before = signal.getsignal(signal.SIGTERM)  # Ray's, when a test before started it here
    with pytest.raises(Terminated), sigterm_as_interrupt(), kept_signal_handlers():
        signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(number))  # as Ray does
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # interrupted by the signal long before
    assert signal.getsignal(signal.SIGTERM) is before


def test_ray_handlers_are_replaced_by_the_kept_ones_afterwards() -> None:
    def ours(number: int, frame: object) -> None:
        raise AssertionError("not called")

    previous = signal.signal(signal.SIGTERM, ours)
    try:
        with kept_signal_handlers():
            signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(number))
        assert signal.getsignal(signal.SIGTERM) is ours
    finally:
        signal.signal(signal.SIGTERM, previous)
