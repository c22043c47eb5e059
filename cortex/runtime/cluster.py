"""Which Ray cluster Cortex attaches to, checked before Ray is asked.

The address comes from ``--address`` or, without it, from ``RAY_ADDRESS``; with neither,
Cortex starts a cluster of its own. Ray itself retries an address that does not answer for
minutes, so the address is parsed and its port probed here first: a wrong one is a
one-line error, within seconds, that names the address and where it came from.

Several Cortex drivers share a cluster each in a namespace of its own, taken in the order
`cortex_namespaces` gives.

A cluster Cortex starts for itself (local mode) is a node at 127.0.0.1, so that nothing of it
listens beyond loopback (`loopback_node`).
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import ray
from ray._private import ray_constants, services
from ray._private.authentication.authentication_token_setup import (
    maybe_enable_token_auth_if_token_available,
)

from cortex.errors import ClusterAddressError

ENVIRONMENT = "RAY_ADDRESS"
TOKEN_SETUP_LOGGER = "ray._private.authentication.authentication_token_setup"
"""Where Ray says, at every attach, that token authentication is on (Cortex keeps it on)."""
PROBE_TIMEOUT_S = 3.0
START_OWN = "to let Cortex start its own"
"""What a command that starts regions does without an address (the end of its advice)."""
MAX_CORTEXES = 64
"""How many Cortex drivers may share one Ray cluster, each in a namespace of its own."""


@dataclass(frozen=True)
class ClusterAddress:
    """A Ray cluster's address and where it was given (``--address`` or ``RAY_ADDRESS``)."""

    value: str
    source: str

    def __str__(self) -> str:
        return f"{self.value} (from {self.source})"


def cluster_address(option: str | None) -> ClusterAddress | None:
    """The address to attach to: `option` (``--address``), else ``RAY_ADDRESS``, else None
    (Cortex starts its own cluster)."""
    if option:
        return ClusterAddress(option, "--address")
    if os.environ.get(ENVIRONMENT):
        return ClusterAddress(os.environ[ENVIRONMENT], ENVIRONMENT)
    return None


def check_address(
    address: ClusterAddress, instead: str = START_OWN, timeout_s: float = PROBE_TIMEOUT_S
) -> None:
    """Checks that `address` is a Ray cluster's ``HOST:PORT`` and that its port answers.

    ``auto`` is the cluster started last on this machine, as Ray finds it (when Ray finds
    none, it says so at once). `instead` ends the advice of an error: what leaving the address
    out does for the command that gave it.

    Raises:
        ClusterAddressError: The address is malformed, a URL, or nothing listens there.
    """
    if address.value == "auto":
        try:
            found = services.get_ray_address_from_environment("auto", None)
        except ConnectionError:
            return
        address = ClusterAddress(found, f"{address.source}, the cluster started last here")
    host, port = _host_and_port(address)
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            pass
    except OSError as error:
        reason = "timed out" if isinstance(error, TimeoutError) else error.strerror or error
        raise ClusterAddressError(
            f"nothing answers at {address} ({reason}); start the cluster there "
            f"(`ray start --head`), or {_without(address)} {instead}"
        ) from None


def connect_ray(address: ClusterAddress, namespace: str, instead: str = START_OWN) -> Any:
    """Attaches this process to the running Ray cluster at `address` (checked first) with the
    cluster's token; returns Ray's context. `instead`: see `check_address`.

    Ray turns token mode on by itself only for a cluster it finds with ``auto``; given an
    explicit address it would connect without the token and be refused. So the same step is
    taken here, quietly: token mode, with the token found where Ray looks for it
    (``RAY_AUTH_TOKEN``, ``~/.ray/auth_token``), unless ``RAY_AUTH_MODE`` says otherwise. A
    cluster at a loopback address is a node at 127.0.0.1 (`loopback_node`), and this process
    joins it as one.

    Raises:
        ClusterAddressError: The address is wrong, or no cluster answers there.
    """
    if address.value != "auto" or not ray.is_initialized():  # Ray reuses its own connection
        check_address(address, instead)
    with quiet_logger(TOKEN_SETUP_LOGGER):
        maybe_enable_token_auth_if_token_available(warn_if_disabled=False)
    loopback = loopback_node() if _is_loopback(address) else contextlib.nullcontext()
    try:
        with real_stderr(), kept_signal_handlers(), loopback:
            return ray.init(
                address=address.value,
                namespace=namespace,
                ignore_reinit_error=True,
                logging_level=logging.ERROR,
                log_to_driver=False,
            )
    except ConnectionError as error:
        raise ClusterAddressError(
            f"cannot reach a Ray cluster at {address}: {error}; is it running (`ray status`)? "
            f"Or {_without(address)} {instead}"
        ) from None


def start_local_ray(namespace: str, dashboard: bool = False, dashboard_host: str = "") -> Any:
    """Starts a Ray cluster of this process's own, even where `ray start` runs one, as a node
    at 127.0.0.1 (`loopback_node`), with token authentication (Ray's default, said quietly);
    returns Ray's context."""
    with real_stderr(), kept_signal_handlers(), loopback_node(), quiet_logger(TOKEN_SETUP_LOGGER):
        return ray.init(
            address="local",
            namespace=namespace,
            logging_level=logging.ERROR,
            log_to_driver=False,
            include_dashboard=dashboard,
            dashboard_host=dashboard_host or "127.0.0.1",
        )


@contextlib.contextmanager
def loopback_node() -> Iterator[None]:
    """While Ray starts a node or joins one in this process, the node's address is 127.0.0.1.

    Ray binds every server of a node to its address when that address is 127.0.0.1 (the GCS,
    the raylet, each worker's gRPC server, the dashboard agent, the metrics exporter), and to
    all interfaces otherwise. On Linux it replaces a 127.0.0.1 given as the node's address
    (``_node_ip_address``) with the machine's own, unless ``ENABLE_RAY_CLUSTER`` is off: the
    switch (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER``) with which Ray keeps macOS and Windows
    clusters on loopback. A driver that joins such a node must take the same address, or Ray
    looks for the cluster at the machine's address and waits in vain. Read from Ray 2.60
    (`ray._private.services.get_node_ip_address`) and measured (`tests/ray/test_ports.py`).
    """
    kept = ray_constants.ENABLE_RAY_CLUSTER
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = kept


@contextlib.contextmanager
def quiet_logger(name: str) -> Iterator[None]:
    """Holds back a logger's warnings (Ray's that repeat what Cortex ensures)."""
    logger = logging.getLogger(name)
    kept = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(kept)


def is_loopback(host: str) -> bool:
    """Whether a host name or address is this machine's loopback (``localhost``, 127.x, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _is_loopback(address: ClusterAddress) -> bool:
    return address.value != "auto" and is_loopback(_host_and_port(address)[0])


def cortex_namespaces(base: str) -> list[str]:
    """The namespaces Cortex drivers configured with `base` run in, in the order they are
    taken: ``base``, ``base-2``, ``base-3``..."""
    return [base] + [f"{base}-{index}" for index in range(2, MAX_CORTEXES + 1)]


def _host_and_port(address: ClusterAddress) -> tuple[str, int]:
    scheme, found, rest = address.value.partition("://")
    if found and scheme in ("http", "https"):
        raise ClusterAddressError(
            f"{address} is a web address, such as the dashboard's; give the cluster's "
            "HOST:PORT instead (the head node's GCS port, 6379 unless `ray start` was told "
            "otherwise)"
        )
    if found and scheme != "ray":
        raise ClusterAddressError(f"{address} is not a Ray cluster's address; give HOST:PORT")
    host, colon, port = (rest if found else address.value).rpartition(":")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ClusterAddressError(
            f"{address} is not HOST:PORT (for example 127.0.0.1:6379), nor 'auto'"
        )
    return host.strip("[]"), int(port)


def _without(address: ClusterAddress) -> str:
    return "unset RAY_ADDRESS" if address.source == ENVIRONMENT else "leave out --address"


@contextlib.contextmanager
def real_stderr() -> Iterator[None]:
    """Ray enables faulthandler on `sys.stderr`, which must then be a real file; a terminal
    app replaces it with a capture object. Lend Ray the process's own stderr meanwhile."""
    try:
        usable = sys.stderr.fileno() >= 0
    except (AttributeError, OSError, ValueError):
        usable = False
    if usable:
        yield
        return
    replaced, sys.stderr = sys.stderr, sys.__stderr__
    try:
        yield
    finally:
        sys.stderr = replaced


@contextlib.contextmanager
def kept_signal_handlers() -> Iterator[None]:
    """Keeps this process's SIGTERM and SIGINT handlers across a call into Ray, which sets its
    own (a SIGTERM would otherwise end the driver without its shutdown). A SIGTERM during the
    call, which Ray's handler turns into ``SystemExit(15)``, goes to the kept handler."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    kept = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    except SystemExit as exit:
        handler = kept[signal.SIGTERM]
        if exit.code == signal.SIGTERM and callable(handler):
            handler(signal.SIGTERM, None)
        raise
    finally:
        for number, handler in kept.items():
            if handler is not None:
                signal.signal(number, handler)
