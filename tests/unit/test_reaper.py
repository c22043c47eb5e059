"""The reaper: it notes a driver's Ray processes while the driver lives and stops those still
running once the driver is gone, however it went; it leaves other processes alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from cortex.runtime.reaper import descendants, stop

pytestmark = pytest.mark.e2e

DRIVER = """
import subprocess, sys, time
from cortex.runtime.reaper import start_reaper
reaper = start_reaper()
sleeper = [sys.executable, "-c", "import time; time.sleep(120)"]
ray_like = subprocess.Popen([*sleeper, "ray::RegionActor"])  # Ray names its processes so
other = subprocess.Popen(sleeper)
print(reaper.process.pid, ray_like.pid, other.pid, flush=True)
time.sleep(120)
"""
SPAWNER = """
import subprocess, sys, time
sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
ray_like, other = subprocess.Popen([*sleeper, "raylet"]), subprocess.Popen(sleeper)
print(ray_like.pid, other.pid, flush=True)
time.sleep(60)
"""


def gone(pid: int, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


def test_a_killed_drivers_ray_processes_are_stopped_and_others_left() -> None:
    driver = subprocess.Popen(
        [sys.executable, "-c", DRIVER], stdout=subprocess.PIPE, text=True, cwd=os.getcwd()
    )
    assert driver.stdout is not None
    reaper, ray_like, other = map(int, driver.stdout.readline().split())
    time.sleep(1.5)  # the reaper notes the driver's processes every half second
    driver.send_signal(signal.SIGKILL)
    driver.wait(timeout=10)
    try:
        assert gone(ray_like, within_s=5) and gone(reaper, within_s=5)
        assert not gone(other, within_s=0.5)
    finally:
        os.kill(other, signal.SIGKILL)


def test_only_ray_processes_below_the_root_are_found_and_stopped() -> None:
    parent = subprocess.Popen([sys.executable, "-c", SPAWNER], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    ray_like, other = map(int, parent.stdout.readline().split())
    try:
        found = descendants(parent.pid)
        assert {pid for pid, _ in found} == {ray_like}
        assert stop(found) == 1
        assert gone(ray_like, within_s=3) and not gone(other, within_s=0.5)
    finally:
        parent.kill()
        parent.wait()
        os.kill(other, signal.SIGKILL)
