"""Plans: the steps of a turn, and the JSON schema that constrains the planner's output.

A plan is a list of steps ``{region, instruction, depends_on}``. The planner decodes it under
`plan_schema`, so its output always parses into a valid `Plan`, whatever the model: each
step's instruction is one part of the user's request in the user's words (a constant of the
schema, see `modules.manager.parts`), its region one of the kinds the turn allows, its
dependencies those the split found. The model chooses only what the schema leaves open.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

SPEECH_REQUEST = re.compile(
    r"\b(read|say|speak|recite)\b[^.?!]*\b(aloud|out loud)\b|\b(speak|say) (it|this|that)\b|"
    r"\b(listen to|transcribe)\b",
    re.IGNORECASE,
)
PLAN_LINE = re.compile(r"^\s*\d{1,2}[.)]\s*\[\w+\].*$", re.MULTILINE)
"""A numbered, region-tagged line ("1. [speech] ...") typed into a request: a plan written by
the user, which is text to the planner, never a reason to allow a region."""


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

    steps: tuple[PlanStep, ...] = Field(min_length=1)

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


def allowed_kinds(
    delegates: set[str], request: str, *, image: bool, audio: bool, speak: bool
) -> list[str]:
    """The region kinds a step of this turn may name, language first.

    The turn itself looks at an attached image, transcribes an attached recording and speaks
    the answer with ``--speak``, in parallel with the plan; so a plan step may go to speech
    only when the request asks to read something aloud and the answer is not spoken anyway
    (a request inside a plan the user typed does not count), and never to vision. Every other
    kind that takes subtasks (your own regions) may always be named.
    """
    kinds = ["language"] if "language" in delegates else []
    kinds += sorted(delegates - {"language", "vision", "speech"})
    asks_to_speak = bool(SPEECH_REQUEST.search(PLAN_LINE.sub("", request)))
    if "speech" in delegates and asks_to_speak and not speak:
        kinds.append("speech")
    return kinds or sorted(delegates)


def plan_schema(
    parts: list[str], kinds: list[str], depends_on: tuple[tuple[int, ...], ...] = ()
) -> dict[str, Any]:
    """The JSON schema of every plan the planner may write for these parts.

    Step i's instruction is part i, verbatim; its region is one of `kinds`; the steps it
    depends on are those the split found (`depends_on`, by index: step ids count from 1).
    """
    needs = _step_ids(depends_on, len(parts))
    items = [
        {
            "type": "object",
            "properties": {  # the instruction first: the model reads it before the region
                "instruction": {"const": part},
                "region": {"enum": kinds},
                "depends_on": {"const": list(need)},
            },
            "required": ["instruction", "region", "depends_on"],
            "additionalProperties": False,
        }
        for part, need in zip(parts, needs, strict=True)
    ]
    return {
        "type": "object",
        "properties": {
            "steps": {
                "type": "array",
                "prefixItems": items,
                "items": False,
                "minItems": len(items),
                "maxItems": len(items),
            }
        },
        "required": ["steps"],
        "additionalProperties": False,
    }


def plan_from_json(text: str) -> Plan:
    """The plan the planner wrote under `plan_schema`, with step ids 1, 2, ...

    Raises:
        pydantic.ValidationError: The text is not a plan (only if decoding was cut short).
    """
    raw = _RawPlan.model_validate_json(text)
    return Plan(
        steps=tuple(
            PlanStep(
                id=str(index),
                region=step.region,
                instruction=step.instruction,
                depends_on=tuple(step.depends_on),
            )
            for index, step in enumerate(raw.steps, start=1)
        )
    )


def fixed_plan(parts: list[str], region: str, depends_on: tuple[tuple[int, ...], ...] = ()) -> Plan:
    """The one plan `plan_schema` admits when a single region kind is allowed."""
    needs = _step_ids(depends_on, len(parts))
    return Plan(
        steps=tuple(
            PlanStep(id=str(index), region=region, instruction=part, depends_on=need)
            for index, (part, need) in enumerate(zip(parts, needs, strict=True), start=1)
        )
    )


def _step_ids(depends_on: tuple[tuple[int, ...], ...], count: int) -> list[tuple[str, ...]]:
    """Each step's dependencies as step ids ("1", "2", ...), from part indexes."""
    given = list(depends_on) + [()] * (count - len(depends_on))
    return [tuple(str(i + 1) for i in need) for need in given[:count]]


class _RawStep(BaseModel):
    region: str
    instruction: str
    depends_on: list[str]


class _RawPlan(BaseModel):
    steps: list[_RawStep]
