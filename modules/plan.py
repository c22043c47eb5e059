"""Plans: parse a planner's numbered lines as they stream, and repair what the model got wrong.

The planner is asked for lines like ``2. [language] Compare their taste. (after 1)``.
`PlanParser` turns streamed text into raw steps the moment each line is complete, and tells
when the plan is over (a blank or non-step line after the steps). `PlanBuilder` validates each
raw step into a `PlanStep`: it renumbers steps, routes untagged or unknown-region steps, drops
empty and duplicate steps, and drops dependencies on unknown or later steps (so no cycle can
form). Every repair is returned as a sentence for the caller to report.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, model_validator

_STEP_RE = re.compile(
    r"^\s*(?P<number>\d{1,3})\s*[.):]\s*"
    r"(?:\[(?P<tag>[^\]]*)\]\s*)?"
    r"(?P<instruction>.*?)\s*"
    r"(?:\((?:after|depends on|needs)\s*(?P<after>[^)]*)\)\s*)?[.]?\s*$",
    re.IGNORECASE,
)
_NUMBER_RE = re.compile(r"\d{1,3}")
_INLINE_STEP_RE = re.compile(r"\s+(?=\d{1,2}[.)]\s)")


class PlanStep(BaseModel):
    """One validated subtask of a plan."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    region: str = Field(min_length=1)
    instruction: str = Field(min_length=1)
    depends_on: tuple[str, ...] = ()


class Plan(BaseModel):
    """A validated plan: unique ids, each depending only on earlier steps."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    steps: tuple[PlanStep, ...] = ()

    @model_validator(mode="after")
    def _acyclic(self) -> Plan:
        seen: set[str] = set()
        for step in self.steps:
            if step.id in seen:
                raise ValueError(f"step id {step.id!r} appears twice")
            if unknown := set(step.depends_on) - seen:
                raise ValueError(f"step {step.id} depends on {sorted(unknown)}, not earlier steps")
            seen.add(step.id)
        return self


@dataclass(frozen=True)
class RawStep:
    """A plan line as the model wrote it."""

    number: int
    tag: str | None
    instruction: str
    after: tuple[int, ...]


def parse_line(line: str) -> RawStep | None:
    """Parses one numbered plan line; None if the line is not a step."""
    match = _STEP_RE.match(line)
    if match is None:
        return None
    tag = (match["tag"] or "").strip().lower() or None
    after = tuple(int(n) for n in _NUMBER_RE.findall(match["after"] or ""))
    return RawStep(
        int(match["number"]), tag, match["instruction"].strip().rstrip(".").strip(), after
    )


class PlanParser:
    """Collects streamed plan text and returns each step as soon as its line is complete."""

    def __init__(self) -> None:
        self._line = ""
        self.steps_seen = 0
        self.finished = False

    def feed(self, text: str) -> list[RawStep]:
        """Adds decoded text; returns the steps whose lines it completed."""
        steps: list[RawStep] = []
        self._line += text
        while "\n" in self._line and not self.finished:
            line, self._line = self._line.split("\n", 1)
            steps.extend(self._complete(line))
        return steps

    def finish(self) -> list[RawStep]:
        """Ends the stream; returns a last step left without a newline."""
        if self.finished:
            return []
        steps = self._complete(self._line)
        self.finished = True
        return steps

    def _complete(self, line: str) -> list[RawStep]:
        parts = [p for p in _INLINE_STEP_RE.split(line.strip()) if p]
        steps = [step for part in parts if (step := parse_line(part)) is not None]
        if not steps and self.steps_seen:
            self.finished = True  # a blank or prose line after the list ends the plan
        self.steps_seen += len(steps)
        return steps


class PlanBuilder:
    """Validates raw steps into a `Plan` one by one, repairing what it can.

    Args:
        kinds: The region kinds that can take a subtask.
        route: Picks a kind for an instruction (the embedding router).
        max_steps: Steps past this many are dropped.
        ignore: Instructions never to accept (the prompt's own examples, when a small model
            copies them).
    """

    def __init__(
        self,
        kinds: set[str],
        route: Callable[[str], str],
        max_steps: int = 4,
        ignore: set[str] | None = None,
    ) -> None:
        self.kinds = kinds
        self.route = route
        self.max_steps = max_steps
        self.ignore = {_normal(text) for text in ignore or set()}
        self.steps: list[PlanStep] = []
        self._ids_by_number: dict[int, str] = {}

    @property
    def full(self) -> bool:
        return len(self.steps) >= self.max_steps

    def plan(self) -> Plan:
        return Plan(steps=tuple(self.steps))

    def add(self, raw: RawStep) -> tuple[PlanStep | None, list[str]]:
        """Validates one raw step; returns the accepted step (or None) and the repairs made."""
        instruction = raw.instruction.strip(" -*")
        if not instruction:
            return None, [f"dropped step {raw.number}: it has no instruction"]
        if self.full:
            return None, [f"dropped step {raw.number}: the plan already has {self.max_steps} steps"]
        if _normal(instruction) in self.ignore:
            return None, [f"dropped step {raw.number}: it copies the prompt's example"]
        if any(_normal(instruction) == _normal(s.instruction) for s in self.steps):
            return None, [f"dropped step {raw.number}: it repeats an earlier step"]
        repairs: list[str] = []
        region = self._region(raw, instruction, repairs)
        depends_on = self._dependencies(raw, repairs)
        step = PlanStep(
            id=str(len(self.steps) + 1),
            region=region,
            instruction=instruction,
            depends_on=depends_on,
        )
        self._ids_by_number.setdefault(raw.number, step.id)
        self.steps.append(step)
        return step, repairs

    def _region(self, raw: RawStep, instruction: str, repairs: list[str]) -> str:
        if raw.tag in self.kinds:
            return raw.tag
        region = self.route(instruction)
        reason = "had no region tag" if raw.tag is None else f"named unknown region {raw.tag!r}"
        repairs.append(f"step {raw.number} {reason}; routed to {region}")
        return region

    def _dependencies(self, raw: RawStep, repairs: list[str]) -> tuple[str, ...]:
        kept: list[str] = []
        for number in raw.after:
            if number in self._ids_by_number and number != raw.number:
                kept.append(self._ids_by_number[number])
            else:
                repairs.append(
                    f"step {raw.number}: dropped its dependency on step {number}, "
                    "which is not an earlier step"
                )
        return tuple(dict.fromkeys(kept))


def _normal(text: str) -> str:
    return " ".join(text.lower().split()).rstrip(".")
