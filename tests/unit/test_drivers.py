"""Driver records and the status each driver serves: `cortex status` on this machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, replace
from pathlib import Path

import pytest

from cortex.cli import main
from cortex.runtime.drivers import DriverRecord, StatusServer, ask_driver, running_drivers
from tests.unit.status_driver import canned_status

REPO = Path(__file__).parents[2]
STAND_IN = "python -m tests.unit.status_driver"


@pytest.fixture(autouse=True)
def runtime_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A records folder of the test's own (short: a Unix socket's path has a limit)."""
    with tempfile.TemporaryDirectory(prefix="xdg") as folder:
        monkeypatch.setenv("XDG_RUNTIME_DIR", folder)
        monkeypatch.delenv("RAY_ADDRESS", raising=False)
        yield Path(folder) / "cortex"


@pytest.fixture()
def drivers() -> Iterator[list[subprocess.Popen[str]]]:
    """Stand-in drivers in processes of their own, started one after another."""
    started: list[subprocess.Popen[str]] = []
    for namespace in ("cortex", "cortex-2"):
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.unit.status_driver", namespace],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
        started.append(process)
    yield started
    for process in started:
        process.communicate(timeout=30)


def test_a_driver_records_itself_and_answers_for_its_status(runtime_dir: Path) -> None:
    record = DriverRecord.of_this_process("127.0.0.1:6379", "cortex", True)
    server = StatusServer(record, lambda: canned_status(record)).start()
    try:
        assert running_drivers() == [record]
        assert ask_driver(record)["driver"]["pid"] == os.getpid()
        assert runtime_dir.stat().st_mode & 0o777 == 0o700
        assert record.socket_path.stat().st_mode & 0o777 == 0o600
    finally:
        server.stop()
    assert running_drivers() == [] and not record.path.exists()


@pytest.mark.e2e
def test_the_record_of_a_driver_gone_is_removed_by_the_next_reader(runtime_dir: Path) -> None:
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    mine = DriverRecord.of_this_process("127.0.0.1:6379", "cortex", True)
    dead = replace(mine, pid=int(ended.stdout))
    reused = replace(mine, created=mine.created - 3600)  # this pid, another process's record
    for record in (dead, reused):
        record.path.write_text(json.dumps(asdict(record)))
        assert running_drivers() == [] and not record.path.exists()


@pytest.mark.e2e
def test_status_shows_the_cortex_started_last_and_lists_the_others(drivers, capsys) -> None:
    first, last = (process.pid for process in drivers)
    assert main(["status", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["driver"]["pid"] == last and shown["driver"]["namespace"] == "cortex-2"
    assert [other["pid"] for other in shown["also_running"]] == [first]
    assert main(["status", "--pid", str(first)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"Cortex of `{STAND_IN} cortex` (pid {first}, since ")
    assert f"also running: `{STAND_IN} cortex-2` (pid {last}, since" in out
    assert err == ""


@pytest.mark.e2e
def test_status_says_when_no_cortex_runs_or_none_matches(drivers, capsys) -> None:
    assert main(["status", "--pid", "1"]) == 1
    err = capsys.readouterr().err
    assert "no Cortex of yours matches; running: pid " in err and f"`{STAND_IN} cortex" in err
    for process in drivers:
        process.communicate(timeout=30)
    assert main(["status"]) == 1
    assert capsys.readouterr().err == (
        "cortex: no Cortex of yours runs on this machine; start one (`cortex chat`), or look "
        "at a Ray cluster's with `cortex status --address HOST:PORT`\n"
    )


def test_status_advice_fits_the_command(capsys) -> None:
    assert main(["status", "--address", "127.0.0.1:1"]) == 1
    err = capsys.readouterr().err
    assert "leave out --address to see the Cortex running on this machine" in err
    assert "start its own" not in err
