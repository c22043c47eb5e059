"""Nothing of a Cortex session outlives its driver, even a killed one.

A local Ray cluster is a tree of processes under the driver (the GCS, the raylet, agents,
one worker per region). Ray stops them on a clean shutdown, but after a SIGKILL some live on
for minutes. So a driver that starts its own cluster also starts a reaper: a small process in
a session of its own that notes the driver's descendants every half second and holds one end
of a pipe whose other end only the driver holds. When the pipe closes — the driver exited, in
any way — the reaper stops every noted process that still runs, then exits. Linux only (it
reads /proc); elsewhere no reaper starts.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

POLL_S = 0.5
GRACE_S = 1.0
"""How long a process has to exit after SIGTERM before it gets SIGKILL."""

Process = tuple[int, int]
"""A process as (pid, start time in clock ticks): a pid reused later is another process."""


class Reaper:
    """The driver's handle on its reaper process; `close()` on a clean shutdown."""

    def __init__(self, process: subprocess.Popen[bytes], pipe: int) -> None:
        self.process = process
        self._pipe = pipe

    def close(self, timeout_s: float = 10.0) -> None:
        """Closes the pipe, so the reaper stops what is left, and waits for it."""
        if self._pipe < 0:
            return
        os.close(self._pipe)
        self._pipe = -1
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_reaper() -> Reaper | None:
    """Starts the reaper of this process's descendants; None where /proc is not there."""
    if not Path("/proc/self/stat").exists():
        return None
    read, write = os.pipe()  # not inherited: only this process holds `write`
    process = subprocess.Popen(
        [sys.executable, "-m", "cortex.runtime.reaper", str(os.getpid())],
        stdin=read,
        stdout=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C or a hang-up of the terminal does not reach it
    )
    os.close(read)
    return Reaper(process, write)


def descendants(root: int) -> set[Process]:
    """Every Ray process below `root` now, with its start time."""
    children: dict[int, list[int]] = {}
    started: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            parent, start, _ = stat
            children.setdefault(parent, []).append(int(entry.name))
            started[int(entry.name)] = start
    found, stack = set(), list(children.get(root, []))
    while stack:
        pid = stack.pop()
        if _is_ray(pid):
            found.add((pid, started[pid]))
        stack += children.get(pid, [])
    return found


def stop(processes: set[Process]) -> int:
    """Stops the processes that still run (SIGTERM, then SIGKILL); returns how many ran."""
    alive = {p for p in processes if _running(p)}
    for pid, _ in alive:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_S
    while time.monotonic() < deadline and any(_running(p) for p in alive):
        time.sleep(0.05)
    for process in alive:
        if _running(process):
            _signal(process[0], signal.SIGKILL)
    return len(alive)


def watch(driver: int, pipe: int) -> None:
    """Notes the driver's descendants until `pipe` closes, then stops those still running."""
    noted: set[Process] = set()
    while True:
        noted |= descendants(driver)
        readable, _, _ = select.select([pipe], [], [], POLL_S)
        if readable and not os.read(pipe, 1):
            break
    stop(noted | descendants(driver))  # a driver that closed the pipe itself still has its tree


def _stat(pid: int) -> tuple[int, int, str] | None:
    """(parent pid, start time, state letter) of a process, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (command) "
    return int(fields[1]), int(fields[19]), fields[0]


def _is_ray(pid: int) -> bool:
    """Whether a process is one of Ray's (its binaries, scripts and workers name Ray)."""
    try:
        return b"ray" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _running(process: Process) -> bool:
    stat = _stat(process[0])
    return stat is not None and stat[1] == process[1] and stat[2] != "Z"


def _signal(pid: int, number: signal.Signals) -> None:
    with contextlib.suppress(OSError):  # gone meanwhile
        os.kill(pid, number)


if __name__ == "__main__":
    watch(int(sys.argv[1]), sys.stdin.fileno())
