"""The planning region, the manager: splits a request into its parts and plans who does each.

For a ``plan`` subtask it finds the request's parts (`modules.manager.parts`; a request
with one part gets a one-step plan, answered directly by one delegate), then the plan: when
the turn allows only one region kind, `plan_schema` admits one plan and it is published at
once; otherwise the planner's model decodes it under that schema (guided decoding),
choosing each step's region. Each step goes out as a `Subtask` on ``turn.<id>.plan``. The
planner writes no answer itself: the turn streams the delegates' parts
(`cortex.turns.answer`).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from bus.protocol import Subtask
from bus.topics import turn_plan
from modules.engines import Guide, Piece
from modules.errors import BadRequestError
from modules.language import LanguageRegion
from modules.manager.parts import split
from modules.manager.plan import Plan, allowed_kinds, fixed_plan, plan_from_json, plan_schema

PLAN_PROMPT = (
    "You are a planner. The user's request has been split into parts. For each part, in "
    "order, choose the helper that should do it. The helpers:\n{helpers}\nAnswer in JSON."
)
PLAN_TOKENS = 512


class PlanningRegion(LanguageRegion):
    """The manager region: plans with a language model under a schema.

    Options (in `RegionSettings.options`): ``delegates`` maps each kind that can take subtasks
    to its description; ``max_steps`` caps a plan's length.
    """

    kind = "planning"
    description = "Organise a request into several subtasks and schedule them as a plan."

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        options = self.settings.options
        self.delegates: dict[str, str] = dict(options.get("delegates") or {"language": ""})
        """Each kind that takes subtasks, with its description (what the planner reads)."""
        self.max_steps = int(options.get("max_steps", 4))

    def handle(self, subtask: Subtask) -> Generator[Piece, None, dict[str, Any] | None]:
        if subtask.mode == "plan":
            return (yield from self.plan(subtask))
        return (yield from super().handle(subtask))

    def plan(self, request: Subtask) -> Generator[Piece, None, dict[str, Any]]:
        """Plans `request.instruction` and publishes its steps; yields the decoded plan text
        when the model had a choice to make. Returns the steps again, as the plan's result
        data (``steps``: the subtasks), so a turn that lost one on the bus still has it.

        Raises:
            BadRequestError: The request is empty.
        """
        if not request.instruction.strip():
            raise BadRequestError("the request is empty; ask a question")
        parts = list(split(request.instruction, self.max_steps).parts)
        kinds = allowed_kinds(
            set(self.delegates),
            request.instruction,
            image=request.image_path is not None,
            audio=request.audio_path is not None,
            speak=request.output_path is not None,
        )
        if len(kinds) == 1:
            return self._publish(request, fixed_plan(parts, kinds[0]))
        text: list[str] = []
        guide = Guide(plan_schema(parts, kinds))
        for piece in self.generate(self._plan_chat(parts, kinds), PLAN_TOKENS, guide):
            text.append(piece.text)
            yield piece
        return self._publish(request, plan_from_json("".join(text)))

    def _plan_chat(self, parts: list[str], kinds: list[str]) -> list[dict[str, str]]:
        helpers = "\n".join(f"- {kind}: {self.delegates.get(kind, '')}" for kind in kinds)
        listed = "\n".join(f"{i}. {part}" for i, part in enumerate(parts, start=1))
        return [
            {"role": "system", "content": PLAN_PROMPT.format(helpers=helpers)},
            {"role": "user", "content": f"Parts of the request:\n{listed}"},
        ]

    def _publish(self, request: Subtask, plan: Plan) -> dict[str, Any]:
        """Publishes each step as a subtask on ``turn.<id>.plan``; returns them as data."""
        assert self.bus is not None, "the host sets the bus before setup()"
        notes = request.inputs if len(plan.steps) == 1 else {}
        subtasks = [
            Subtask(
                turn_id=request.turn_id,
                subtask_id=step.id,
                region=step.region,
                instruction=step.instruction,
                depends_on=step.depends_on,
                inputs=notes,
                parts=len(plan.steps),
            )
            for step in plan.steps
        ]
        for subtask in subtasks:
            self.bus.publish(turn_plan(request.turn_id), subtask)
        return {"steps": [subtask.model_dump(mode="json") for subtask in subtasks]}
