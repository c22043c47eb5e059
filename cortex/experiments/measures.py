"""Figures from recorded spans: wall time, tokens per second, busy fractions, time to first token.

A `Span` is one stretch of work on one device: a subtask decoding on a region, or one
forward pass of a pipeline stage. Everything an experiment reports is computed from the
spans of a run and the times its requests started and first produced a token.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from modules.activity import busy_fraction


@dataclass(frozen=True)
class Span:
    """Work on one device from `start` to `end` (Unix seconds)."""

    device: int
    worker: str
    """Who did it: a region instance (``language-0``) or a pipeline stage (``stage-1``)."""
    label: str
    """What it was: a subtask id, or a stage's step."""
    start: float
    end: float
    tokens: int = 0
    """Tokens this work produced or carried through the device."""


@dataclass
class RunRecord:
    """One repetition of one mode: its spans and the per-request timings."""

    mode: str
    devices: int
    start: float
    end: float
    tokens: int
    """Tokens decoded (each counted once, whichever devices it passed through)."""
    spans: list[Span] = field(default_factory=list)
    ttft_s: list[float] = field(default_factory=list)
    """Per request: from its start to its first token."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Mode-specific figures (the pipeline's bytes and hop latency)."""
    outputs: dict[str, str] = field(default_factory=dict)
    """The text of each language subtask, by ``r<request>/<subtask>``."""

    def busy(self, device: int) -> float:
        """The share of the run's wall time that `device` worked."""
        spans = [(s.start, s.end) for s in self.spans if s.device == device]
        return busy_fraction(spans, self.start, self.end)

    def figures(self) -> dict[str, Any]:
        wall = self.end - self.start
        busy = [
            round(
                busy_fraction(
                    [(s.start, s.end) for s in self.spans if s.device == d], self.start, self.end
                ),
                4,
            )
            for d in range(self.devices)
        ]
        device_tokens = [
            round(sum(s.tokens for s in self.spans if s.device == d) / wall, 2)
            for d in range(self.devices)
        ]
        return {
            "wall_s": round(wall, 3),
            "tokens": self.tokens,
            "tokens_per_s": round(self.tokens / wall, 2),
            "device_tokens_per_s": device_tokens,
            "device_busy": busy,
            "ttft_s": round(statistics.fmean(self.ttft_s), 4) if self.ttft_s else None,
            **self.extra,
        }


def summarise(runs: list[RunRecord]) -> dict[str, Any]:
    """The mean of each figure over a mode's repetitions (lists element-wise)."""
    each = [run.figures() for run in runs]
    summary: dict[str, Any] = {}
    for key, first in each[0].items():
        values = [figures[key] for figures in each]
        if isinstance(first, list):
            summary[key] = [
                round(statistics.fmean(column), 4) for column in zip(*values, strict=True)
            ]
        elif isinstance(first, (int, float)) and not isinstance(first, bool):
            summary[key] = round(statistics.fmean(values), 4)
        else:
            summary[key] = first
    summary["repetitions"] = len(runs)
    return summary


def baseline_of(modes: dict[str, Any]) -> str | None:
    """The mode others are compared with: the pipeline when it ran, else the sequential mode."""
    return next((m for m in ("pipeline", "sequential") if m in modes), None)


def speedups(modes: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Each mode's tokens per second over the baseline's (`baseline_of`; empty without one)."""
    baseline = baseline_of(modes)
    if baseline is None:
        return {}
    base = modes[baseline]["tokens_per_s"]
    return {name: round(figures["tokens_per_s"] / base, 3) for name, figures in modes.items()}
