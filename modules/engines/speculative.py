"""Speculative decoding in a step engine: draft tokens in, a verified run of them out.

A request may come with a `Proposer`, the source of draft tokens that continue its output
(a draft region on another device: `modules.speculation`). Once its prompt is in, each step
takes the draft tokens there are, up to a window, and verifies them in one forward pass of the
target (`StepEngine.verify`): the target keeps the longest prefix it agrees with and adds its
own next token, so a step yields one token or more, never fewer, and the text is the target's
(greedy: exactly; with temperature, in distribution: `sampling.speculative_pick`). A step does
not wait for a full window: the draft drafts on while the target verifies, and an idle target
gains nothing by waiting. The window follows the acceptance rate the proposer measured. The
engine knows nothing of where the draft tokens come from, and decodes alone whenever none
are there.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from modules.engines.sampling import SamplingSettings

MIN_WINDOW = 1
MAX_WINDOW = 12
"""A window longer than this rarely pays: a long run is seldom accepted whole, and the
target's step grows with every token it verifies."""
FIRST_ACCEPTANCE = 0.75
"""The acceptance rate assumed before any is measured (a window of 4)."""
MEMORY = 0.9
"""How much of the measured acceptance rate each verification keeps: recent steps count
most, so the window follows a stream's easy and hard stretches."""


class Window:
    """How many draft tokens a step verifies: the expected length of an accepted run at the
    measured acceptance rate a, 1 / (1 - a), between `MIN_WINDOW` and `MAX_WINDOW`.

    Each verification is a run of Bernoulli trials: proposed tokens accepted one after
    another, up to the first rejected one (which is a trial too) or the window's end.
    """

    def __init__(self) -> None:
        self._accepted = FIRST_ACCEPTANCE
        self._trials = 1.0

    @property
    def acceptance(self) -> float:
        """The decayed share of proposed tokens the target accepted."""
        return self._accepted / self._trials

    @property
    def size(self) -> int:
        expected_run = 1 / max(1e-6, 1 - self.acceptance)
        return max(MIN_WINDOW, min(MAX_WINDOW, round(expected_run)))

    def update(self, proposed: int, accepted: int) -> None:
        """Counts one verification of `proposed` tokens of which the first `accepted` held."""
        if proposed:
            trials = min(proposed, accepted + 1)
            self._accepted = MEMORY * self._accepted + accepted
            self._trials = MEMORY * self._trials + trials


@dataclass
class SpeculationFigures:
    """How speculation went for one request: what `cortex status`, the stream record, the
    metrics and experiments report."""

    draft: str = ""
    """Who proposed: the draft region's instance name."""
    proposed: int = 0
    """Draft tokens the target verified."""
    accepted: int = 0
    """Of those, the ones the target kept."""
    verifications: int = 0
    """Target steps that verified at least one draft token."""
    alone: int = 0
    """Target steps with no draft token to verify (the draft lagged, ended or fell back)."""
    window: int = 0
    """The window the next step would verify."""
    fallback: str = ""
    """Why the request stopped speculating and decoded alone; empty while it speculates."""
    tokens: int = 0
    """Tokens the speculating steps yielded (all after the first, which the prompt gives)."""
    decode_s: float = 0.0
    """Seconds from the start of the first speculating step to the end of the last, waits
    for the draft included."""

    @property
    def tokens_per_s(self) -> float | None:
        return round(self.tokens / self.decode_s, 2) if self.decode_s > 0 else None

    @property
    def acceptance_rate(self) -> float | None:
        return round(self.accepted / self.proposed, 4) if self.proposed else None

    @property
    def tokens_per_step(self) -> float | None:
        """Tokens each target step yielded: 1 when alone, more when drafts held."""
        steps = self.verifications + self.alone
        return round((self.accepted + steps) / steps, 3) if steps else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "draft": self.draft,
            "proposed": self.proposed,
            "accepted": self.accepted,
            "acceptance_rate": self.acceptance_rate,
            "verifications": self.verifications,
            "alone": self.alone,
            "tokens_per_step": self.tokens_per_step,
            "window": self.window,
            "fallback": self.fallback,
            "tokens_per_s": self.tokens_per_s,
        }


class Proposer(ABC):
    """Draft tokens for one request's output, and the figures of how they fared.

    The engine calls `begin` when the request starts running, then before each step
    `proposals`, after it `settle` with the output as it now stands, and `close` when the
    request ends. A proposer that can no longer propose sets `figures.fallback`; the request
    then decodes alone.
    """

    def __init__(self, draft: str) -> None:
        self.figures = SpeculationFigures(draft=draft)
        self.window = Window()
        self.figures.window = self.window.size
        self._first_step: float | None = None

    @abstractmethod
    def begin(self, prompt: list[int], sampling: SamplingSettings, history: list[int]) -> None:
        """Starts drafting after `prompt`, under the request's repetition rules, with
        `history` counted as already generated (see `sampling.avoided_ids`)."""

    @abstractmethod
    def proposals(self, generated: list[int], count: int, wait_s: float) -> list[int]:
        """Up to `count` draft tokens that continue `generated` (the output so far), those
        there now; when there are none, waits up to `wait_s` seconds for the first."""

    @abstractmethod
    def settle(self, generated: list[int]) -> None:
        """The output after a step; drafting that strayed from it is corrected."""

    @abstractmethod
    def close(self) -> None:
        """The request ended: drafting for it stops."""

    def record(self, proposed: int, accepted: int, began: float) -> None:
        """Counts one target step that verified `proposed` tokens and kept `accepted`, begun
        (waiting for proposals included) at `began` (`time.monotonic()`)."""
        figures = self.figures
        if self._first_step is None:
            self._first_step = began
        figures.tokens += accepted + 1
        figures.decode_s = time.monotonic() - self._first_step
        if proposed:
            figures.verifications += 1
            figures.proposed += proposed
            figures.accepted += accepted
            self.window.update(proposed, accepted)
            figures.window = self.window.size
        else:
            figures.alone += 1
