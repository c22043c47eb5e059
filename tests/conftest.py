"""Fixtures shared by the whole suite: one local Ray cluster, one bus proxy, a tiny model.

Tests declare their cost with the markers registered in pyproject.toml; collection fails when a
test uses a costly fixture or folder without its marker, so `make test-fast` stays fast.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import ray

from bus.proxy import start_proxy, stop_proxy
from bus.zmq_bus import BusEndpoints
from modules.models import save_tiny_llama

TEST_NAMESPACE = "cortex-tests"

MARKER_OF_FIXTURE = {"ray_cluster": "ray"}
"""Fixtures that start something costly (directly or through another fixture), and the marker
every test using them must carry."""

MARKER_OF_FOLDER = {"models": "model", "ray": "ray"}
"""Folders of tests/ whose every test shares one cost, and the marker that declares it."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Fails collection when a test uses a costly fixture or folder without its marker."""
    missing = [
        f"{item.nodeid}: {why}; mark it @pytest.mark.{marker}"
        for item in items
        for marker, why in costs(item).items()
        if item.get_closest_marker(marker) is None
    ]
    if missing:
        raise pytest.UsageError("tests without the marker of their cost:\n" + "\n".join(missing))


def costs(item: pytest.Item) -> dict[str, str]:
    """The markers a test must carry, by its fixtures and its folder, each with why."""
    fixtures = getattr(item, "fixturenames", ())
    needed = {m: f"uses {f}" for f, m in MARKER_OF_FIXTURE.items() if f in fixtures}
    folder = item.path.relative_to(Path(__file__).parent).parts[0]
    if folder in MARKER_OF_FOLDER:
        needed.setdefault(MARKER_OF_FOLDER[folder], f"is in tests/{folder}")
    return needed


@pytest.fixture(scope="session", autouse=True)
def driver_records() -> Iterator[Path]:
    """A records folder for the drivers the tests start (`cortex.runtime.drivers`), so that
    `cortex status` in a test sees those alone and yours never see theirs."""
    with tempfile.TemporaryDirectory(prefix="xdg") as folder:
        kept = os.environ.get("XDG_RUNTIME_DIR")
        os.environ["XDG_RUNTIME_DIR"] = folder
        yield Path(folder)
        if kept is None:
            del os.environ["XDG_RUNTIME_DIR"]
        else:
            os.environ["XDG_RUNTIME_DIR"] = kept


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[None]:
    """A local Ray cluster with two CPUs and four logical GPUs, shared by every Ray test.

    It runs the dashboard on loopback (with Ray's token authentication), and reports metrics
    every second instead of every ten so monitoring tests need not wait.
    """
    ray.init(
        num_cpus=2,
        num_gpus=4,
        include_dashboard=True,
        dashboard_host="127.0.0.1",
        namespace=TEST_NAMESPACE,
        logging_level="ERROR",
        log_to_driver=False,
        _system_config={"metrics_report_interval_ms": 1000},
    )
    yield
    ray.shutdown()


@pytest.fixture(scope="session")
def proxy_endpoints(ray_cluster: None) -> Iterator[BusEndpoints]:
    """The endpoints of a bus proxy running in its Ray actor."""
    endpoints = start_proxy(namespace=TEST_NAMESPACE)
    yield endpoints
    stop_proxy(namespace=TEST_NAMESPACE)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight 2-layer Llama with SmolLM2's tokenizer and chat template (plumbing only)."""
    return save_tiny_llama(tmp_path_factory.mktemp("tiny-llama"), max_positions=256)


@pytest.fixture(scope="session")
def tiny_long_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny Llama with a 4,096-token context, for answers long enough to watch decode."""
    return save_tiny_llama(tmp_path_factory.mktemp("tiny-llama-long"), max_positions=4096)


def tiny_config(model_dir: Path, **regions: dict[str, Any]) -> dict[str, Any]:
    """Configuration data for a brain on the tiny model, in a namespace of its own."""
    generation = {"max_new_tokens": 8, "end_at_sentence": False}  # plumbing: exact budgets
    tables: dict[str, Any] = {
        "planning": {"model": str(model_dir), "generation": {"max_new_tokens": 24}},
        "language": {"model": str(model_dir), "replicas": 2, "generation": generation},
    }
    tables.update(regions)
    return {
        "runtime": {"namespace": f"test-{uuid.uuid4().hex[:8]}", "turn_timeout_s": 120},
        "regions": {name: table for name, table in tables.items() if table is not None},
    }


TWO_PARTS = "Describe tea and describe coffee."
"""A request the planner splits into two parts, one for each language replica."""


def long_answers_config(model_dir: Path, max_new_tokens: int) -> dict[str, Any]:
    """A planner that loads no model and two language replicas decoding long answers on the
    tiny model, on CPU slots: a `TWO_PARTS` request keeps both delegates decoding a while."""
    data = tiny_config(
        model_dir,
        planning={"kind": "planning", "class": "tests.tui.scripted:ScriptedPlanner"},
        language={
            "model": str(model_dir),
            "replicas": 2,
            "generation": {"max_new_tokens": max_new_tokens, "end_at_sentence": False},
        },
    )
    data["runtime"]["device"] = "cpu"
    return data
