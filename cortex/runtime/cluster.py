"""Which Ray cluster Cortex attaches to, checked before Ray is asked.

The address comes from ``--address`` or, without it, from ``RAY_ADDRESS``; with neither,
Cortex starts a cluster of its own. Ray itself retries an address that does not answer for
minutes, so the address is parsed and its port probed here first: a wrong one is a
one-line error, within seconds, that names the address and where it came from.

Several Cortex drivers share a cluster each in a namespace of its own, taken in the order
`cortex_namespaces` gives.
"""

from __future__ import annotations

import contextlib
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
from ray._private import services
from ray._private.authentication.authentication_token_setup import (
    maybe_enable_token_auth_if_token_available,
)

from cortex.errors import ClusterAddressError

ENVIRONMENT = "RAY_ADDRESS"
PROBE_TIMEOUT_S = 3.0
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


def check_address(address: ClusterAddress, timeout_s: float = PROBE_TIMEOUT_S) -> None:
    """Checks that `address` is a Ray cluster's ``HOST:PORT`` and that its port answers.

    ``auto`` is the cluster started last on this machine, as Ray finds it (when Ray finds
    none, it says so at once).

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
            f"(`ray start --head`), or {_without(address)} to let Cortex start its own"
        ) from None


def connect_ray(address: ClusterAddress, namespace: str) -> Any:
    """Attaches this process to the running Ray cluster at `address` (checked first) with the
    cluster's token; returns Ray's context.

    Ray turns token mode on by itself only for a cluster it finds with ``auto``; given an
    explicit address it would connect without the token and be refused. So the same step is
    taken here: token mode, with the token found where Ray looks for it (``RAY_AUTH_TOKEN``,
    ``~/.ray/auth_token``), unless ``RAY_AUTH_MODE`` says otherwise.

    Raises:
        ClusterAddressError: The address is wrong, or no cluster answers there.
    """
    if address.value != "auto" or not ray.is_initialized():  # Ray reuses its own connection
        check_address(address)
    maybe_enable_token_auth_if_token_available(warn_if_disabled=False)
    try:
        with real_stderr(), kept_signal_handlers():
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
            f"Or {_without(address)} and Cortex starts its own"
        ) from None


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
