"""Cortex commands as processes: two drivers share one `ray start` cluster, SIGTERM stops a
turn as Ctrl-C does, a killed driver leaves nothing behind, and `--json` stdout is one JSON
document whatever Ray prints (a region killed mid-turn makes Ray print on the driver)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.faults.drivers import Driver, json_document, ray_head, steady_config, survivors

pytestmark = [pytest.mark.ray, pytest.mark.e2e]

QUESTION = "Compare tea and coffee."
NATIVE_DUMP = ("*** SIGTERM received", "Traceback", "logging.cc")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with ray_head(tmp_path_factory.mktemp("ray")) as address:
        yield address


def decoding(config: Path, *options: str) -> Driver:
    """`cortex ask --json --trace` with `config`, once its delegates stream words."""
    driver = Driver("ask", "--json", "--trace", "--config", str(config), *options, QUESTION)
    driver.wait_for(" w20'")
    return driver


def status(address: str, *options: str) -> dict:
    driver = Driver("status", "--json", "--address", address, *options)
    code, out = driver.finish()
    assert code == 0, driver.stderr
    return json_document(out)


def test_two_drivers_share_a_cluster_and_sigterm_stops_the_first_cleanly(
    cluster: str, tmp_path: Path
) -> None:
    long_turn = steady_config(tmp_path / "long.toml", "shared", words=4000)
    first = decoding(long_turn, "--address", cluster)
    short_turn = steady_config(tmp_path / "short.toml", "shared", words=5)
    second = Driver("ask", "--json", "--config", str(short_turn), "--address", cluster, QUESTION)
    code, out = second.finish()
    assert code == 0, second.stderr
    assert json_document(out)["answer"]
    taken = "another Cortex runs in Ray namespace 'shared'; this one runs in 'shared-2'"
    assert taken in second.stderr, second.stderr

    running = status(cluster, "--config", str(long_turn))  # the first one, still decoding
    assert running["namespace"] == "shared" and running["also_running"] == []
    regions = {r["name"]: r for r in running["regions"]}
    assert set(regions) == {"planning", "language-0", "language-1"}
    assert any(r["state"] == "decoding" for r in regions.values())
    workers = [psutil.Process(r["pid"]) for r in regions.values()]

    first.process.send_signal(signal.SIGTERM)
    code, out = first.finish(timeout_s=120)
    assert code == 143, first.stderr[-2000:]
    assert json_document(out) == {
        "error": "terminated (SIGTERM); everything this command started is stopped"
    }
    assert not any(dump in first.stderr for dump in NATIVE_DUMP), first.stderr[-2000:]
    assert survivors(workers, within_s=15) == []
    gone = Driver("status", "--json", "--address", cluster, "--namespace", "shared")
    code, out = gone.finish()  # the first driver's bus proxy ended with it
    assert code == 1 and "no bus proxy in Ray namespace 'shared'" in json_document(out)["error"]


def test_a_killed_driver_on_a_cluster_leaves_no_region_behind(cluster: str, tmp_path: Path) -> None:
    config = steady_config(tmp_path / "long.toml", "killed", words=4000)
    driver = decoding(config, "--address", cluster)
    workers = [
        psutil.Process(r["pid"]) for r in status(cluster, "--namespace", "killed")["regions"]
    ]
    assert len(workers) == 3
    os.kill(driver.pid, signal.SIGKILL)
    driver.finish()
    assert survivors(workers, within_s=20) == []


def test_json_stdout_stays_one_document_when_a_region_is_killed_mid_turn(
    cluster: str, tmp_path: Path
) -> None:
    config = steady_config(tmp_path / "turn.toml", "victim", words=300)
    driver = decoding(config, "--address", cluster)
    regions = status(cluster, "--namespace", "victim")["regions"]
    victim = next(
        r for r in regions if r["name"].startswith("language") and r["state"] == "decoding"
    )
    os.kill(victim["pid"], signal.SIGKILL)
    code, out = driver.finish()
    record = json_document(out)  # whatever Ray printed about the dead worker went to stderr
    assert code == 0, driver.stderr[-2000:]
    assert any(s["id"].endswith("/retry-1") for s in record["streams"]), record


def test_sigterm_mid_turn_stops_a_local_cortex_and_everything_it_started(tmp_path: Path) -> None:
    config = steady_config(tmp_path / "long.toml", "local-term", words=4000)
    driver = decoding(config)
    started = driver.processes()
    assert len(started) > 4  # Ray's own processes and the three regions
    driver.process.send_signal(signal.SIGTERM)
    code, out = driver.finish(timeout_s=120)
    assert code == 143 and "error" in json_document(out)
    assert "cortex: terminated (SIGTERM)" in driver.stderr
    assert not any(dump in driver.stderr for dump in NATIVE_DUMP), driver.stderr[-2000:]
    assert survivors(started, within_s=10) == []


def test_sigkill_of_a_local_cortex_leaves_nothing_after_a_few_seconds(tmp_path: Path) -> None:
    config = steady_config(tmp_path / "long.toml", "local-kill", words=4000)
    driver = decoding(config)
    started = driver.processes()
    os.kill(driver.pid, signal.SIGKILL)
    driver.finish()
    assert survivors(started, within_s=10) == []


def test_a_bus_too_small_for_the_turn_ends_it_at_once_not_at_its_timeout(tmp_path: Path) -> None:
    config = steady_config(tmp_path / "hwm.toml", "tiny-hwm", words=200, timeout_s=600)
    config.write_text(config.read_text() + "[bus]\nhwm = 1\n")  # subscribers drop, gaps reported
    driver = Driver("ask", "--json", "--config", str(config), QUESTION)
    code, out = driver.finish(timeout_s=400)
    document = json_document(out)
    if code == 0:  # no token of the turn's own streams happened to be dropped
        assert document["answer"]
    else:
        assert "dropped part of this turn's stream" in document["error"], driver.stderr[-2000:]
        assert "hwm = 1" in document["error"] and "took longer" not in document["error"]


@pytest.mark.parametrize("moment", ["starting Ray", "1 of 3 regions ready"])
def test_sigterm_during_start_up_stops_cleanly_too(tmp_path: Path, moment: str) -> None:
    config = steady_config(tmp_path / "long.toml", "early-term", words=4000)
    driver = Driver("ask", "--json", "--config", str(config), QUESTION)
    driver.wait_for(moment)
    driver.process.send_signal(signal.SIGTERM)
    started = {}
    stopped = False
    while not stopped:  # what it starts while it stops counts too
        with contextlib.suppress(psutil.NoSuchProcess):
            started |= {p.pid: p for p in driver.processes()}
        with contextlib.suppress(subprocess.TimeoutExpired):
            stopped = driver.process.wait(timeout=0.2) is not None
    code, out = driver.finish(timeout_s=120)
    assert code == 143, driver.stderr[-2000:]
    assert "terminated (SIGTERM)" in json_document(out)["error"]
    assert not any(dump in driver.stderr for dump in NATIVE_DUMP), driver.stderr[-2000:]
    assert survivors(list(started.values()), within_s=10) == []
