"""The planning region, the manager: plans a request, routes its subtasks, writes the answer.

For a ``plan`` subtask it decodes a numbered plan and publishes each step as a `Subtask` on
``turn.<id>.plan`` the moment the step's line is complete, while the rest is still decoding.
A request that reads like one question skips planning and goes to one delegate directly; so
does a plan that comes out with a single step. A request with an image is always planned:
the plan decodes while the vision region looks at the picture. For a ``synthesise`` subtask it
streams the final answer built from the subtasks' results.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bus.protocol import Event, Subtask
from bus.topics import region_out, turn_out, turn_plan
from modules.errors import BadRequestError
from modules.generation import Piece
from modules.language import LanguageRegion, with_notes
from modules.plan import PlanBuilder, PlanParser, PlanStep
from modules.routing import Router

PLAN_EXAMPLES = (
    (
        "Compare cats and dogs on size, food and cost.",
        (
            "1. [language] Describe the size of cats and dogs.",
            "2. [language] Describe the food of cats and dogs.",
            "3. [language] Describe the cost of cats and dogs.",
        ),
    ),
    (
        "Describe this photo and read the description aloud.",
        (
            "1. [vision] Describe the photo.",
            "2. [speech] Read the description aloud. (after 1)",
        ),
    ),
)
PLAN_TOKENS = 96
TURN_MEDIA_KINDS = {"vision"}
SYNTHESIS_PROMPT = "Use the notes to answer the request in a few clear sentences."


class PlanningRegion(LanguageRegion):
    """The manager region: plans, routes and synthesises with a language model.

    Options (in `RegionSettings.options`): ``delegates`` maps each kind that can take subtasks
    to its description; ``router_model`` is the sentence encoder's spec; ``max_steps`` caps a
    plan's length.
    """

    kind = "planning"
    description = "Organise a request into several subtasks and schedule them as a plan."

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        options = self.settings.options
        self.delegates: dict[str, str] = dict(options.get("delegates") or {})
        self.max_steps = int(options.get("max_steps", 4))
        self.router = Router(
            options.get("router_model", "embedded:all-minilm-l6-v2"), self.delegates, self.device
        )

    def setup(self) -> None:
        super().setup()
        self.router.setup()

    def handle(self, subtask: Subtask) -> Iterator[Piece]:
        if subtask.mode == "plan":
            yield from self.plan(subtask)
        elif subtask.mode == "synthesise":
            yield from self.generate(
                [
                    {"role": "system", "content": SYNTHESIS_PROMPT},
                    {"role": "user", "content": with_notes(subtask.instruction, subtask.inputs)},
                ],
                subtask.max_new_tokens,
            )
        else:
            yield from super().handle(subtask)

    def plan(self, request: Subtask) -> Iterator[Piece]:
        """Decodes a plan for `request.instruction`, publishing each step as it completes."""
        if not request.instruction.strip():
            raise BadRequestError("the request is empty; ask a question")
        kinds = self._usable_kinds()
        if not request.image_path and self.router.is_simple(request.instruction):
            self._answer_directly(request, kinds)
            return
        parser = PlanParser()
        builder = PlanBuilder(
            kinds,
            lambda instruction: self.router.route(instruction, kinds),
            self.max_steps,
            ignore={line.split("] ", 1)[1] for _, lines in PLAN_EXAMPLES for line in lines},
        )
        first: PlanStep | None = None
        for piece in self.generate(_plan_messages(request.instruction), PLAN_TOKENS):
            yield piece
            for raw in parser.feed(piece.text):
                first = self._take(request, builder, builder.add(raw), first)
            if parser.finished or builder.full:
                break
        for raw in parser.finish():
            first = self._take(request, builder, builder.add(raw), first)
        if len(builder.steps) <= 1:
            self._answer_directly(request, kinds)

    def _take(
        self,
        request: Subtask,
        builder: PlanBuilder,
        added: tuple[PlanStep | None, list[str]],
        first: PlanStep | None,
    ) -> PlanStep | None:
        """Reports repairs and publishes an accepted step. The first step waits for a second,
        since a one-step plan is answered directly instead."""
        step, repairs = added
        for repair in repairs:
            self._report(request.turn_id, repair)
        if step is None:
            return first
        if len(builder.steps) == 1:
            return step
        if len(builder.steps) == 2 and first is not None:
            self._publish_step(request, first)
        self._publish_step(request, step)
        return first

    def _publish_step(self, request: Subtask, step: PlanStep) -> None:
        assert self.bus is not None, "the host sets the bus before setup()"
        self.bus.publish(
            turn_plan(request.turn_id),
            Subtask(
                turn_id=request.turn_id,
                subtask_id=step.id,
                region=step.region,
                instruction=step.instruction,
                depends_on=step.depends_on,
            ),
        )

    def _usable_kinds(self) -> set[str]:
        """The kinds a planned step may go to. The turn itself runs vision on an attached
        image, in parallel with planning, and every step reads its description."""
        kinds = {k for k in self.delegates if k not in TURN_MEDIA_KINDS}
        return kinds or set(self.delegates)

    def _answer_directly(self, request: Subtask, kinds: set[str]) -> None:
        assert self.bus is not None, "the host sets the bus before setup()"
        self.bus.publish(
            turn_plan(request.turn_id),
            Subtask(
                turn_id=request.turn_id,
                subtask_id="1",
                region=self.router.route(request.instruction, kinds),
                instruction=request.instruction,
                inputs=request.inputs,
                publish_to=(turn_out(request.turn_id).name,),
            ),
        )

    def _report(self, turn_id: str, repair: str) -> None:
        assert self.bus is not None, "the host sets the bus before setup()"
        self.bus.publish(
            region_out(self.name),
            Event(
                level="warning",
                code="plan_repair",
                source=self.name,
                detail=repair,
                data={"turn_id": turn_id},
            ),
        )


def _plan_messages(request: str) -> list[dict[str, str]]:
    examples = "\n".join(
        f"Request: {question}\n" + "\n".join(lines) for question, lines in PLAN_EXAMPLES
    )
    system = (
        "You are a planner. Split the request into short subtasks for helpers, one per line. "
        "Tag each line with the helper: [language] answers and writes, [vision] looks at the "
        "attached image, [speech] reads text aloud. Example:\n" + examples
    )
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": f"Request: {request}"},
    ]
