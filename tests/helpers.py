"""Helpers shared by the tests: run a region alone, host one on the in-process bus, call the CLI."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from bus import InProcessBus, Subtask, SubtaskResult
from bus.topics import region_inbox, region_out
from modules.host import RegionHost
from modules.region import Region, RegionSettings

FOUR_CHATS = [
    [{"role": "user", "content": question}]
    for question in (
        "Describe the sea.",
        "Explain how bread is made, step by step, in detail.",
        "Name three planets.",
        "Write a poem about autumn leaves.",
    )
]
"""Four one-question chats of different lengths, for streams decoded at once."""


def region_output(region: Region, **fields: Any) -> tuple[list[str], dict[str, Any]]:
    """Runs one subtask on a set-up region: the text of each piece, and the returned data."""
    output = region.handle(Subtask(turn_id="t", subtask_id="1", region=region.kind, **fields))
    pieces = []
    while True:
        try:
            pieces.append(next(output).text)
        except StopIteration as finished:
            return pieces, finished.value


def hosted_results(
    class_path: str, settings: RegionSettings, subtasks: list[dict[str, Any]]
) -> list[SubtaskResult]:
    """Hosts a region on the in-process bus, sends it the subtasks, returns their results."""
    with InProcessBus() as bus:
        host = RegionHost(class_path, settings, bus=bus)
        host.setup()
        out = bus.subscribe(region_out(settings.name))
        for index, fields in enumerate(subtasks):
            subtask = Subtask(turn_id=f"t{index}", subtask_id="1", region=settings.kind, **fields)
            bus.publish(region_inbox(settings.name), subtask)
        results: list[SubtaskResult] = []
        while len(results) < len(subtasks):
            delivery = out.recv(timeout=60)
            assert delivery is not None, "no result within 60 s"
            if isinstance(delivery.message, SubtaskResult):
                results.append(delivery.message)
        host.stop()
    return results


def cortex_cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Runs `cortex ARGS...` in a fresh process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "cortex.cli", *args], capture_output=True, text=True, timeout=timeout
    )
