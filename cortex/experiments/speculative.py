"""The speculative mode's own parts: its draft region, the draft's busy spans, its figures.

In ``speculative`` mode the language region decodes each request as in ``sequential`` mode,
on device 0, paired with a draft region on device 1 that decodes ahead and proposes tokens
(`modules.draft`, `modules.speculation`). The draft works outside any subtask, so its spans
come from its proposals: each epoch of drafting is busy from when the draft began it to its
last proposal.
"""

from __future__ import annotations

from typing import Any

from bus.protocol import Proposal, SubtaskResult
from cortex.experiments.measures import RunRecord, Span
from cortex.experiments.spec import ExperimentSpec

DRAFT = "language-draft"
"""The draft region's name in speculative mode."""


def draft_table(spec: ExperimentSpec, generation: dict[str, Any], batch: int) -> dict[str, Any]:
    """The ``[regions.language-draft]`` table: the spec's draft model and engine."""
    return {
        "kind": "language",
        "model": spec.draft_model,
        "engine": spec.draft_engine,
        "max_concurrent": batch,
        "batch_invariant": False,  # it resumes after each correction from its cached prefix
        "generation": generation,
    }


class DraftSpans:
    """The draft's busy spans, from the proposals it sent during one request."""

    def __init__(self, device: int) -> None:
        self.device = device
        self._epochs: dict[tuple[str, int], list[float]] = {}
        """(stream, epoch) -> [start, end]."""

    def take(self, proposal: Proposal, received: float) -> None:
        key = (proposal.stream_id, proposal.epoch)
        span = self._epochs.setdefault(key, [proposal.started, received])
        span[1] = max(span[1], received)

    def spans(self, label: str) -> list[Span]:
        """The draft's busy spans; they carry no tokens (the output's are the target's)."""
        return [Span(self.device, DRAFT, label, start, end) for start, end in self._epochs.values()]


def count_speculation(record: RunRecord, results: list[SubtaskResult]) -> None:
    """Adds one request's draft figures to its run's: tokens proposed and accepted, the
    acceptance rate, and the streams that fell back to decoding alone."""
    extra = record.extra
    for result in results:
        figures = result.data.get("speculation")
        if not isinstance(figures, dict):
            continue
        extra["draft_proposed"] = extra.get("draft_proposed", 0) + int(str(figures["proposed"]))
        extra["draft_accepted"] = extra.get("draft_accepted", 0) + int(str(figures["accepted"]))
        extra["fallbacks"] = extra.get("fallbacks", 0) + bool(figures["fallback"])
    proposed, accepted = extra.get("draft_proposed", 0), extra.get("draft_accepted", 0)
    extra["acceptance_rate"] = round(accepted / proposed, 4) if proposed else None


def compare(modes: dict[str, dict[str, Any]], runs: dict[str, list[RunRecord]]) -> None:
    """Adds to ``modes.speculative`` its `speedup` over the target alone (``sequential``)
    and whether every run decoded the same text as it (`identical_text`)."""
    if "speculative" not in modes or "sequential" not in modes:
        return
    alone = modes["sequential"]["tokens_per_s"]
    speculative = modes["speculative"]
    speculative["speedup"] = round(speculative["tokens_per_s"] / alone, 3) if alone else None
    reference = runs["sequential"][0].outputs
    speculative["identical_text"] = all(
        run.outputs == reference for run in runs["speculative"] + runs["sequential"]
    )
