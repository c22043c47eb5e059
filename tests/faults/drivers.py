"""Cortex commands as processes for the fault tests: configurations of scripted regions, a
`ray start --head` cluster owned by the test, and drivers that are watched, signalled and
checked for what they leave behind."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).parents[2]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "RAY_USAGE_STATS_ENABLED": "0"}


def steady_config(path: Path, namespace: str, words: int, timeout_s: int = 300) -> Path:
    """A cortex.toml: the scripted planner (two steps) and two replicas that stream `words`
    words each at a steady pace."""
    path.write_text(
        f'[runtime]\nnamespace = "{namespace}"\nturn_timeout_s = {timeout_s}\ndevice = "cpu"\n'
        '[regions.planning]\nkind = "planning"\nclass = "tests.tui.scripted:ScriptedPlanner"\n'
        '[regions.language]\nkind = "language"\nclass = "tests.faults.steady:SteadyLanguage"\n'
        f"replicas = 2\n[regions.language.generation]\nmax_new_tokens = {words}\n"
    )
    return path


class Driver:
    """A `cortex ARGS...` process; stderr is read as it comes, so a test can wait for a line."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cortex.cli", *args],
            cwd=REPO,
            env=env or ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.err_lines: list[str] = []
        self._new_line = threading.Condition()
        self._reader = threading.Thread(target=self._read_err, daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_for(self, text: str, timeout_s: float = 300) -> None:
        """Waits until a line of stderr holds `text`."""
        deadline = time.monotonic() + timeout_s
        with self._new_line:
            while not any(text in line for line in self.err_lines):
                left = deadline - time.monotonic()
                if left <= 0 or not self._reader.is_alive():
                    raise AssertionError(f"no {text!r} on stderr; it says:\n{self.stderr[-3000:]}")
                self._new_line.wait(timeout=left)

    def finish(self, timeout_s: float = 300) -> tuple[int, str]:
        """Waits for the exit; returns (exit status, stdout)."""
        self.process.wait(timeout=timeout_s)  # stdout is one JSON document: no pipe fills up
        assert self.process.stdout is not None
        out = self.process.stdout.read()
        self._reader.join(timeout=10)
        return self.process.returncode, out

    def processes(self) -> list[psutil.Process]:
        """The driver's process and every process below it now."""
        me = psutil.Process(self.pid)
        return [me, *me.children(recursive=True)]

    @property
    def stderr(self) -> str:
        return "".join(self.err_lines)

    def _read_err(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._new_line:
                self.err_lines.append(line)
                self._new_line.notify_all()
        with self._new_line:  # the stream ended: waiters look once more, then give up
            self._new_line.notify_all()


def json_document(stdout: str) -> dict[str, Any]:
    """The one JSON document a `--json` command printed (fails on anything else)."""
    return json.loads(stdout)


def survivors(processes: list[psutil.Process], within_s: float) -> list[str]:
    """Which of `processes` still run after `within_s` seconds (zombies count as gone)."""
    psutil.wait_procs([p for p in processes if _running(p)], timeout=within_s)
    return [f"{p.pid} {' '.join(p.cmdline())[:80]}" for p in processes if _running(p)]


def _running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def ray_head(temp_dir: Path) -> Iterator[str]:
    """A `ray start --head --block` cluster on free ports and its own temp folder, owned by
    this test: stopped at the end by signalling the processes it started, never `ray stop`
    (which would stop every cluster on the machine)."""
    port = free_port()
    head = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("ray")),
            "start",
            "--head",
            "--block",
            f"--port={port}",
            f"--temp-dir={temp_dir}",
            "--node-ip-address=127.0.0.1",
            "--num-cpus=2",
            "--include-dashboard=false",
            f"--ray-client-server-port={free_port()}",
            f"--dashboard-agent-listen-port={free_port()}",
        ],
        cwd=REPO,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        _wait_until_started(head)
        yield f"127.0.0.1:{port}"
    finally:
        started = [psutil.Process(head.pid), *psutil.Process(head.pid).children(recursive=True)]
        head.send_signal(signal.SIGTERM)  # `ray start --block` stops what it started
        with contextlib.suppress(subprocess.TimeoutExpired):
            head.wait(timeout=30)
        for process in started:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()


def _wait_until_started(head: subprocess.Popen[str]) -> None:
    """Reads `ray start`'s output until it says the head node is up (it exits if it fails)."""
    assert head.stdout is not None
    for line in head.stdout:
        if "Ray runtime started" in line:
            return
    raise AssertionError("ray start --head exited before the head node was up")
