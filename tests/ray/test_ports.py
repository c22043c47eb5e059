"""A Cortex in local mode, as a command: every port it opens is on loopback (measured with
`ss`), and `cortex status` run beside it finds it, names it, and says nothing of Ray."""

from __future__ import annotations

import ipaddress
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator

import pytest

from tests.faults.drivers import ENV, REPO, Driver, free_port, steady_config

pytestmark = [pytest.mark.ray, pytest.mark.e2e]


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Driver, dict[str, str]]]:
    """`cortex serve` on scripted regions (no model), in local mode, with its own records."""
    config = steady_config(tmp_path_factory.mktemp("ports") / "cortex.toml", "cortex", 20)
    with tempfile.TemporaryDirectory(prefix="xdg") as runtime:
        env = {**ENV, "XDG_RUNTIME_DIR": runtime}
        env.pop("RAY_ADDRESS", None)
        driver = Driver("serve", "--config", str(config), "--port", str(free_port()), env=env)
        try:
            driver.wait_for("serving")
            yield driver, env
        finally:
            driver.process.send_signal(signal.SIGTERM)
            driver.finish()


def listening(pids: set[int]) -> list[tuple[str, str]]:
    """(process name, local address) of every TCP or UDP socket these processes listen on."""
    table = subprocess.run(["ss", "-ltunpH"], capture_output=True, text=True, check=True).stdout
    found = []
    for line in table.splitlines():
        columns = line.split()
        users = columns[-1]
        for pid in pids:
            if f"pid={pid}," in users:
                found.append((users.split('"')[1], columns[4]))
    return found


def host_of(address: str) -> str:
    host = address.rsplit(":", 1)[0].strip("[]")
    return host.removeprefix("::ffff:")


def test_in_local_mode_nothing_listens_beyond_loopback(serving) -> None:
    driver, _ = serving
    sockets = listening({process.pid for process in driver.processes()})
    names = {name for name, _ in sockets}
    assert {"gcs_server", "raylet"} <= names, sockets  # ss did see Ray's servers
    exposed = [(name, a) for name, a in sockets if not ipaddress.ip_address(host_of(a)).is_loopback]
    assert exposed == [], exposed


def test_status_beside_it_finds_it_and_says_nothing_of_ray(serving) -> None:
    driver, env = serving
    shown = subprocess.run(
        [sys.executable, "-m", "cortex.cli", "status"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode == 0, shown.stderr
    first = shown.stdout.splitlines()[0]
    assert first.startswith("Cortex of `cortex serve --config ") and f"pid {driver.pid}," in first
    assert "Ray at 127.0.0.1:" in first and "(its own)" in first
    assert "planning" in shown.stdout and "beyond loopback" not in shown.stdout
    assert shown.stderr == ""


def test_status_elsewhere_says_no_cortex_of_yours_runs(serving) -> None:
    _, env = serving
    with tempfile.TemporaryDirectory(prefix="xdg") as other_user:
        shown = subprocess.run(
            [sys.executable, "-m", "cortex.cli", "status"],
            cwd=REPO,
            env={**env, "XDG_RUNTIME_DIR": other_user},
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert shown.returncode == 1 and shown.stdout == ""
    assert shown.stderr.startswith("cortex: no Cortex of yours runs on this machine")
