"""Timeline pictures: one lane per device, busy spans coloured by who worked, idle left blank.

Drawn with Pillow, one block per mode (or per replayed session) on a shared time axis, so
the modes' wall times compare at a glance.
"""

from __future__ import annotations

import colorsys
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


PALETTE = {
    "planning": (0.08, 0.50),  # orange
    "language": (0.58, 0.42),  # blue
    "vision": (0.33, 0.38),  # green
    "speech": (0.83, 0.45),  # purple
    "stage": (0.0, 0.45),  # red
}
"""Hue and lightness of each region kind (and of pipeline stages): far apart on the colour
wheel, so that two kinds never look alike. Other kinds take the hues between them."""
SPARE_HUES = (0.47, 0.17, 0.71, 0.93, 0.25, 0.40)


def colour(worker: str, kinds: tuple[str, ...] = ()) -> tuple[int, int, int]:
    """A colour per worker: each region kind its own hue (`PALETTE`; kinds outside it take
    `SPARE_HUES` in the order of `kinds`), each replica of a kind a lighter shade of it. A
    region named with a dash, such as ``language-draft``, is a kind of its own."""
    region, _, replica = worker.partition("-")
    if replica and not replica.isdigit():
        region, replica = worker, ""
    if region in PALETTE:
        hue, lightness = PALETTE[region]
    else:
        others = [kind for kind in kinds if kind not in PALETTE]
        index = others.index(region) if region in others else 0
        hue, lightness = SPARE_HUES[index % len(SPARE_HUES)], 0.45
    shade = (int(replica) if replica.isdigit() else 0) % 3
    red, green, blue = colorsys.hls_to_rgb(hue, lightness + 0.13 * shade, 0.75)
    return int(red * 255), int(green * 255), int(blue * 255)


def draw_timeline(blocks: list[Block], path: str | Path) -> Path:
    """Draws `blocks` into a PNG at `path` and returns the path."""
    longest = max((b.end - b.start for b in blocks if not b.zoomed), default=1.0) or 1.0
    workers = sorted({s.worker for b in blocks for s in b.spans})
    kinds = tuple(dict.fromkeys(worker.partition("-")[0] for worker in workers))
    legend_h = LANE_H * (1 + len(workers) // 6)
    height = MARGIN * 2 + legend_h + sum(TITLE_H + LANE_H * len(b.lanes) + AXIS_H for b in blocks)
    image = Image.new("RGB", (WIDTH, height), "white")
    pen = ImageDraw.Draw(image)
    top = MARGIN
    for block in blocks:
        span = (block.end - block.start) if block.zoomed else longest
        top = _draw_block(pen, block, top, (WIDTH - LABEL_W - 2 * MARGIN) / span, span, kinds)
    _draw_legend(pen, workers, top, kinds)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def _draw_block(
    pen: ImageDraw.ImageDraw,
    block: Block,
    top: int,
    scale: float,
    longest: float,
    kinds: tuple[str, ...],
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
            box = [x0, y + 3, max(x1, x0 + 1), y + LANE_H - 3]
            pen.rectangle(box, fill=colour(span.worker, kinds))
    top += LANE_H * len(block.lanes)
    for second in _ticks(longest):
        x = left + second * scale
        pen.line([x, top, x, top + 4], fill="gray")
        pen.text((x + 2, top + 4), f"{second:g} s", fill="gray")
    return top + AXIS_H


def _draw_legend(
    pen: ImageDraw.ImageDraw, workers: list[str], top: int, kinds: tuple[str, ...]
) -> None:
    for index, worker in enumerate(workers):
        x = MARGIN + (index % 6) * 190
        y = top + (index // 6) * LANE_H + 4
        pen.rectangle([x, y, x + 14, y + 14], fill=colour(worker, kinds))
        pen.text((x + 20, y + 2), worker, fill="black")


def _ticks(longest: float) -> list[float]:
    step = next(s for s in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300) if longest / s <= 12)
    return [round(i * step, 3) for i in range(int(longest / step) + 1)]
