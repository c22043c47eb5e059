"""Whether other programs used the devices while an experiment measured them.

On CPU devices a mode's figures hold only if its cores were free: another program that
shares them slows every mode it overlaps, and a concurrent mode most (it needs every core at
once). `CoreWatch` reads how busy the machine's cores were (`psutil.cpu_times`) and how
much of that the experiment's own processes did (the driver and everything below it: Ray,
the regions), so the rest is other programs' work, in cores. It is read once before the
modes run, with nothing decoding, and then over each mode's timed runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import psutil

BEFORE_S = 1.0
"""How long the machine is watched before the first mode starts."""
BUSY_CORES = 0.25
"""Other programs' work, in cores, above which a mode's figures come with a warning."""


@dataclass(frozen=True)
class Reading:
    """CPU seconds spent so far: by the whole machine, and by each of our processes."""

    at: float
    machine_s: float
    ours_s: dict[int, float]


class CoreWatch:
    """Measures other programs' use of the cores between two readings.

    Args:
        root: The process whose tree is the experiment (the driver: this process).
    """

    def __init__(self, root: int | None = None) -> None:
        self.root = psutil.Process(root)

    def read(self) -> Reading:
        times = psutil.cpu_times()
        idle = times.idle + getattr(times, "iowait", 0.0)
        ours: dict[int, float] = {}
        for process in [self.root, *self.root.children(recursive=True)]:
            try:
                used = process.cpu_times()
            except psutil.Error:  # ended meanwhile: its time is lost, not another program's
                continue
            ours[process.pid] = used.user + used.system
        return Reading(time.monotonic(), sum(times) - idle, ours)

    def other_cores(self, start: Reading, end: Reading) -> float:
        """Cores' worth of work that other programs did between the readings."""
        ours = sum(used - start.ours_s.get(pid, 0.0) for pid, used in end.ours_s.items())
        wall = end.at - start.at
        return max(0.0, (end.machine_s - start.machine_s - ours) / wall) if wall > 0 else 0.0

    def before(self, seconds: float = BEFORE_S) -> float:
        """Other programs' use of the cores now, watched for `seconds` with nothing of the
        experiment at work."""
        start = self.read()
        time.sleep(seconds)
        return self.other_cores(start, self.read())


def busy_warning(mode: str, other: float, before: float, cores: int) -> str | None:
    """A warning when other programs used the cores during `mode`; None when they were free."""
    if other < BUSY_CORES:
        return None
    return (
        f"warning: during {mode}, other programs used {other:.2f} of the {cores} cores "
        f"({before:.2f} in the second before the first mode): its figures understate these "
        "devices; run it again on an idle machine"
    )
