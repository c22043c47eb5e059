"""Fixtures shared by the whole suite: one local Ray cluster and one bus proxy per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import ray

from bus.proxy import start_proxy, stop_proxy
from bus.zmq_bus import BusEndpoints

TEST_NAMESPACE = "cortex-tests"


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[None]:
    """A local Ray cluster with two CPU slots, shared by every Ray test."""
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        namespace=TEST_NAMESPACE,
        logging_level="ERROR",
        log_to_driver=False,
    )
    yield
    ray.shutdown()


@pytest.fixture(scope="session")
def proxy_endpoints(ray_cluster: None) -> Iterator[BusEndpoints]:
    """The endpoints of a bus proxy running in its Ray actor."""
    endpoints = start_proxy(namespace=TEST_NAMESPACE)
    yield endpoints
    stop_proxy(namespace=TEST_NAMESPACE)
