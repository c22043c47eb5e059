"""The planning region, the manager: finds the parts of a request and plans who does each.

For a ``plan`` subtask it finds the request's parts and the context they share
(`modules.manager.splitter`: the rules, the planner's model, or both); a single open-ended
request may become a skeleton of points (`modules.manager.skeleton`), each expanded by its
own delegate. Then the plan: when the turn allows only one region kind, `plan_schema`
admits one plan and it is published at once; otherwise the planner's model decodes it
under that schema (guided decoding), choosing each step's region. Each step goes out as a
`Subtask` on ``turn.<id>.plan``, with the shared context (the request's own, such as a
client's system message, then what the split found) and the steps it works on, and decodes
as the request asks (its `Decoding`). The
planner writes no answer itself: the turn streams the delegates' parts
(`cortex.turns.answer`).
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any

from bus.protocol import Subtask
from bus.topics import turn_plan
from modules.engines import Guide, Piece
from modules.errors import BadRequestError
from modules.language import LanguageRegion
from modules.manager.languages import language_of
from modules.manager.parts import Split
from modules.manager.plan import Plan, allowed_kinds, fixed_plan, plan_from_json, plan_schema
from modules.manager.skeleton import (
    MAX_POINTS,
    MIN_POINTS,
    expansion,
    points_of,
    skeleton_prompt,
    skeleton_schema,
    wants_skeleton,
)
from modules.manager.splitter import Splitter

PLAN_PROMPT = (
    "You are a planner. The user's request has been split into parts. For each part, in "
    "order, choose the helper that should do it. The helpers:\n{helpers}\nAnswer in JSON."
)
PLAN_TOKENS = 512
SKELETON_TOKENS = 384


@dataclass(frozen=True)
class Steps:
    """What the plan's steps carry besides their instructions."""

    instructions: tuple[str, ...]
    context: str = ""
    depends_on: tuple[tuple[int, ...], ...] = ()
    headings: tuple[str, ...] = ()


class PlanningRegion(LanguageRegion):
    """The manager region: plans with a language model under a schema.

    Options (in `RegionSettings.options`): ``delegates`` maps each kind that can take subtasks
    to its description; ``max_steps`` caps a plan's length; ``splitter`` (rules, model or
    auto) and ``trust_model`` say who finds the parts; ``skeleton`` lets a single
    open-ended request be answered as a skeleton of points.
    """

    kind = "planning"
    description = "Organise a request into several subtasks and schedule them as a plan."
    hands_off_kv = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        options = self.settings.options
        self.delegates: dict[str, str] = dict(options.get("delegates") or {"language": ""})
        """Each kind that takes subtasks, with its description (what the planner reads)."""
        self.max_steps = int(options.get("max_steps", 8))
        self.splitter = Splitter(
            str(options.get("splitter", "rules")),
            self._decode_json,
            self.max_steps,
            bool(options.get("trust_model", False)),
        )
        self.skeleton = bool(options.get("skeleton", False))

    def handle(self, subtask: Subtask) -> Generator[Piece, None, dict[str, Any] | None]:
        if subtask.mode == "plan":
            return (yield from self.plan(subtask))
        return (yield from super().handle(subtask))

    def plan(self, request: Subtask) -> Generator[Piece, None, dict[str, Any]]:
        """Plans `request.instruction` and publishes its steps; yields what the model decoded
        (a split, a skeleton, the regions) where it had a choice to make. Returns the steps
        again, as the plan's result data (``steps``: the subtasks), so a turn that lost one
        on the bus still has it.

        Raises:
            BadRequestError: The request is empty.
        """
        if not request.instruction.strip():
            raise BadRequestError("the request is empty; ask a question")
        shown = request.image_path is not None  # every part reads the picture's description
        found: Split = yield from self.splitter.split(request.instruction, shown)
        steps = Steps(found.parts, " ".join(found.context), found.depends_on)
        media = request.image_path is not None or request.audio_path is not None
        if self.skeleton and not media and len(found.parts) == 1:
            steps = yield from self._skeleton(found, steps)
        kinds = allowed_kinds(
            set(self.delegates),
            request.instruction,
            image=request.image_path is not None,
            audio=request.audio_path is not None,
            speak=request.output_path is not None,
        )
        parts = list(steps.instructions)
        if len(kinds) == 1:
            return self._publish(request, fixed_plan(parts, kinds[0], steps.depends_on), steps)
        text: list[str] = []
        guide = Guide(plan_schema(parts, kinds, steps.depends_on))
        for piece in self.generate(self._plan_chat(parts, kinds), PLAN_TOKENS, guide):
            text.append(piece.text)
            yield piece
        return self._publish(request, plan_from_json("".join(text)), steps)

    def _skeleton(self, found: Split, steps: Steps) -> Generator[Piece, None, Steps]:
        """The steps of a skeleton answer when the request wants one and the model writes
        enough distinct points; else `steps` as they are."""
        part = found.parts[0]
        if not wants_skeleton(part, language_of(part)):
            return steps
        text = []
        chat = skeleton_prompt(found.instruction(0))
        schema = skeleton_schema(min(MAX_POINTS, self.max_steps))
        for piece in self._decode_json(chat, schema, SKELETON_TOKENS):
            text.append(piece.text)
            yield piece
        points = points_of(json.loads("".join(text)))
        if len(points) < MIN_POINTS:
            return steps
        request = found.instruction(0)
        return Steps(
            tuple(expansion(request, points, i) for i in range(len(points))),
            headings=tuple(points),
        )

    def _decode_json(
        self, chat: list[dict[str, str]], schema: dict[str, Any], budget: int
    ) -> Iterator[Piece]:
        """The planner's model decoding `chat` under a JSON schema."""
        return self.generate(chat, budget, Guide(schema))

    def _plan_chat(self, parts: list[str], kinds: list[str]) -> list[dict[str, str]]:
        helpers = "\n".join(f"- {kind}: {self.delegates.get(kind, '')}" for kind in kinds)
        listed = "\n".join(f"{i}. {part}" for i, part in enumerate(parts, start=1))
        return [
            {"role": "system", "content": PLAN_PROMPT.format(helpers=helpers)},
            {"role": "user", "content": f"Parts of the request:\n{listed}"},
        ]

    def _publish(self, request: Subtask, plan: Plan, steps: Steps) -> dict[str, Any]:
        """Publishes each step as a subtask on ``turn.<id>.plan``; returns them as data. A
        one-step plan's step carries the request's notes, earlier exchanges (the
        conversation so far) and the text it must not repeat."""
        assert self.bus is not None, "the host sets the bus before setup()"
        one = len(plan.steps) == 1
        headings = steps.headings or ("",) * len(plan.steps)
        context = "\n\n".join(text for text in (request.context, steps.context) if text)
        subtasks = [
            Subtask(
                turn_id=request.turn_id,
                subtask_id=step.id,
                region=step.region,
                instruction=step.instruction,
                context=context,
                decoding=request.decoding,
                depends_on=step.depends_on,
                inputs=request.inputs if one else {},
                earlier=request.earlier if one else (),
                avoid=request.avoid if one else "",
                parts=len(plan.steps),
                heading=heading,
            )
            for step, heading in zip(plan.steps, headings, strict=True)
        ]
        for subtask in subtasks:
            self.bus.publish(turn_plan(request.turn_id), subtask)
        return {"steps": [subtask.model_dump(mode="json") for subtask in subtasks]}
