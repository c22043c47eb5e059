"""Timeline pictures: one lane per device, busy spans coloured by who worked, idle left blank.

Drawn with Pillow, one block per mode (or per replayed session) on a shared time axis, so
the modes' wall times compare at a glance.
"""

from __future__ import annotations

import colorsys
import zlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from cortex.experiments.measures import Span

WIDTH = 1200
LANE_H = 26
LABEL_W = 170
MARGIN = 16
TITLE_H = 24
AXIS_H = 22


@dataclass(frozen=True)
class Block:
    """One timeline: a title, its lanes (devices), and the spans on them."""

    title: str
    lanes: list[str]
    spans: list[Span]
    start: float
    end: float
    zoomed: bool = False
    """Drawn on its own time scale (a close-up), not the one all other blocks share."""


def colour(worker: str) -> tuple[int, int, int]:
    """A stable colour per worker; replicas of one region share a hue family (a region
    named with a dash, such as ``language-draft``, has a hue of its own)."""
    region, _, replica = worker.rpartition("-")
    if not replica.isdigit():
        region, replica = worker, ""
    hue = (zlib.crc32(region.encode()) % 360) / 360
    lightness = 0.45 + 0.12 * ((int(replica) if replica.isdigit() else 0) % 3)
    red, green, blue = colorsys.hls_to_rgb(hue, lightness, 0.6)
    return int(red * 255), int(green * 255), int(blue * 255)


def draw_timeline(blocks: list[Block], path: str | Path) -> Path:
    """Draws `blocks` into a PNG at `path` and returns the path."""
    longest = max((b.end - b.start for b in blocks if not b.zoomed), default=1.0) or 1.0
    workers = sorted({s.worker for b in blocks for s in b.spans})
    legend_h = LANE_H * (1 + len(workers) // 6)
    height = MARGIN * 2 + legend_h + sum(TITLE_H + LANE_H * len(b.lanes) + AXIS_H for b in blocks)
    image = Image.new("RGB", (WIDTH, height), "white")
    pen = ImageDraw.Draw(image)
    top = MARGIN
    for block in blocks:
        span = (block.end - block.start) if block.zoomed else longest
        top = _draw_block(pen, block, top, (WIDTH - LABEL_W - 2 * MARGIN) / span, span)
    _draw_legend(pen, workers, top)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def _draw_block(
    pen: ImageDraw.ImageDraw, block: Block, top: int, scale: float, longest: float
) -> int:
    wall = block.end - block.start
    pen.text((MARGIN, top + 4), f"{block.title}  ({wall:.2f} s)", fill="black")
    top += TITLE_H
    left = MARGIN + LABEL_W
    for lane, name in enumerate(block.lanes):
        y = top + lane * LANE_H
        pen.text((MARGIN, y + 7), name, fill="black")
        pen.rectangle([left, y + 3, left + wall * scale, y + LANE_H - 3], fill=(238, 238, 238))
        for span in block.spans:
            if span.device != lane or span.end <= block.start or span.start >= block.end:
                continue
            x0 = left + (max(span.start, block.start) - block.start) * scale
            x1 = left + (min(span.end, block.end) - block.start) * scale
            pen.rectangle([x0, y + 3, max(x1, x0 + 1), y + LANE_H - 3], fill=colour(span.worker))
    top += LANE_H * len(block.lanes)
    for second in _ticks(longest):
        x = left + second * scale
        pen.line([x, top, x, top + 4], fill="gray")
        pen.text((x + 2, top + 4), f"{second:g} s", fill="gray")
    return top + AXIS_H


def _draw_legend(pen: ImageDraw.ImageDraw, workers: list[str], top: int) -> None:
    for index, worker in enumerate(workers):
        x = MARGIN + (index % 6) * 190
        y = top + (index // 6) * LANE_H + 4
        pen.rectangle([x, y, x + 14, y + 14], fill=colour(worker))
        pen.text((x + 20, y + 2), worker, fill="black")


def _ticks(longest: float) -> list[float]:
    step = next(s for s in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300) if longest / s <= 12)
    return [round(i * step, 3) for i in range(int(longest / step) + 1)]
