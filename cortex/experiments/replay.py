"""`cortex replay`: the timeline of a recorded bus log, one lane per device.

Every `Cortex` session records its bus traffic next to its session log (``.bus``); each
`SubtaskResult` in it says which replica worked on which device from when to when.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bus.protocol import SubtaskResult
from bus.recorder import read_log
from cortex.errors import CortexError
from cortex.experiments.measures import Span
from cortex.experiments.timeline import Block, draw_timeline


def replay_block(log: str | Path) -> Block:
    """The spans of every subtask recorded in a bus log, on lanes named by device.

    Raises:
        CortexError: The file is missing or holds no finished subtask.
    """
    path = Path(log).expanduser()
    if not path.is_file():
        raise CortexError(f"no bus log at {path}")
    lanes: list[str] = []
    spans: list[Span] = []
    for delivery in read_log(path):
        result = delivery.message
        if not isinstance(result, SubtaskResult) or not delivery.topic.startswith("region."):
            continue
        lane = f"{result.device} ({result.replica})"
        if lane not in lanes:
            lanes.append(lane)
        label = f"{result.turn_id}/{result.subtask_id}"
        spans.append(
            Span(
                lanes.index(lane),
                result.replica,
                label,
                result.started,
                result.finished,
                result.tokens,
            )
        )
    if not spans:
        raise CortexError(f"{path} holds no finished subtask to draw")
    order = sorted(range(len(lanes)), key=lambda i: lanes[i])
    spans = [replace(s, device=order.index(s.device)) for s in spans]
    lanes = sorted(lanes)
    start, end = min(s.start for s in spans), max(s.end for s in spans)
    return Block(path.name, lanes, spans, start, end)


def replay(log: str | Path, out: str | Path | None = None) -> Path:
    """Draws a bus log's timeline into `out` (default: the log's name with ``.png``)."""
    block = replay_block(log)
    return draw_timeline([block], out or Path(log).expanduser().with_suffix(".png"))
