"""One conversation turn: ask the planner, dispatch its subtasks, collect the answer.

The driver side of a turn. It publishes the user's text, sends the planning region a
``plan`` subtask, and dispatches each planned `Subtask` to an idle replica of its region the
moment it arrives and its dependencies are done; subtasks queue while every replica of their
kind is busy. When the plan and every subtask are done, the planner synthesises the answer
(a one-step plan's result is the answer itself). `TurnRecord` is what `cortex ask --json`
prints.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from bus.protocol import Event, Subtask, SubtaskResult, Token, UserTurn
from bus.tokenbus import Delivery, TokenBus
from bus.topics import region_inbox, region_out, turn_in, turn_out, turn_plan
from cortex.errors import TurnError

log = logging.getLogger("cortex.turns")

HISTORY_TURNS = 2
PLAN_ID = "plan"
SEE_ID = "see"
HEAR_ID = "hear"
SPEAK_ID = "speak"
MEDIA_IDS = (SEE_ID, HEAR_ID)
SYNTHESIS_ID = "synthesis"
REGION_EVENTS = ("region_died", "region_lost", "region_restarted")
"""What the supervisor (`cortex.supervisor`) says of region processes."""


class PlanEntry(BaseModel):
    id: str
    region: str
    instruction: str
    depends_on: list[str]


class StreamRecord(BaseModel):
    """One decoded stream: who decoded it, where, when (Unix seconds) and how many tokens."""

    id: str
    region: str
    replica: str
    device: str
    start: float
    end: float
    tokens: int


class TurnRecord(BaseModel):
    """Everything a turn produced."""

    turn_id: str
    question: str
    answer: str
    plan: list[PlanEntry]
    streams: list[StreamRecord]
    wall_s: float
    notes: list[str] = []
    """Repairs of the plan and failures of subtasks, in the order they happened."""
    spoken: dict[str, str | float] = {}
    """Where the answer was spoken to (``wav``) and for how long (``seconds``), if it was."""


MAX_RETRIES = 1
"""How many times a subtask is run again after the region doing it died."""


@dataclass
class Scheduler:
    """Assigns subtasks to replicas in plan order, once their dependencies are done: each to
    the least-loaded replica of its kind with a free slot; a subtask waits only while every
    replica of its kind is full."""

    replicas: dict[str, dict[str, int]]
    """Instance names by region kind, each with how many subtasks it decodes at once."""
    steps: dict[str, Subtask] = field(default_factory=dict)
    results: dict[str, SubtaskResult] = field(default_factory=dict)
    running: dict[str, str] = field(default_factory=dict)
    """Subtask id -> the replica working on it."""
    down: set[str] = field(default_factory=set)
    """Replicas whose process died, until Ray has restarted them."""

    def add(self, step: Subtask) -> None:
        self.steps[step.subtask_id] = step

    def finish(self, result: SubtaskResult) -> bool:
        """Records a result; False if it is stale (from an attempt since retried)."""
        step = self.steps.get(result.subtask_id)
        if step is not None and result.stream_id not in (step.stream_id, "-"):
            return False
        self.results[result.subtask_id] = result
        self.running.pop(result.subtask_id, None)
        return True

    def lose(self, replica: str) -> tuple[list[Subtask], list[Subtask]]:
        """A replica's process died: the steps it held are retried once, on whichever
        replica of their kind is free first. Returns (retried, given up: already retried)."""
        self.down.add(replica)
        retried, given_up = [], []
        for step_id, holder in list(self.running.items()):
            if holder != replica:
                continue
            del self.running[step_id]
            step = self.steps[step_id]
            if step.attempt >= MAX_RETRIES:
                given_up.append(step)
                continue
            self.steps[step_id] = step.model_copy(update={"attempt": step.attempt + 1})
            retried.append(self.steps[step_id])
        return retried, given_up

    def restore(self, replica: str) -> None:
        """A replica is back after a restart: it may take steps again."""
        self.down.discard(replica)

    @property
    def done(self) -> bool:
        return len(self.results) == len(self.steps)

    def load(self, replica: str) -> int:
        """Subtasks of this turn running on a replica now."""
        return sum(1 for holder in self.running.values() if holder == replica)

    def _free_replica(self, kind: str) -> str | None:
        """The least-loaded live replica of a kind with a free slot (the first on a tie)."""
        free = [
            (self.load(name), index, name)
            for index, (name, slots) in enumerate(self.replicas.get(kind, {}).items())
            if name not in self.down and self.load(name) < slots
        ]
        return min(free)[2] if free else None

    def ready(self) -> list[tuple[str, Subtask]]:
        """Takes every step that can start now: (replica, subtask with its inputs filled)."""
        started = []
        for step_id, step in self.steps.items():
            if step_id in self.running or step_id in self.results:
                continue
            if not all(dep in self.results for dep in step.depends_on):
                continue
            replica = self._free_replica(step.region)
            if replica is None:
                continue
            self.running[step_id] = replica
            inputs = {dep: _result_text(self.results[dep]) for dep in step.depends_on}
            started.append((replica, step.model_copy(update={"inputs": inputs})))
        return started


class Turn:
    """Runs one turn over the bus.

    Args:
        bus: A connected token bus.
        planner: The planning region's instance name.
        replicas: Delegate instance names by region kind, each with its free slots.
        question: The user's text.
        timeout_s: How long the whole turn may take.
        on_delivery: Called with every message of this turn as it arrives.
        history: Earlier (question, answer) pairs of the conversation, oldest first; the last
            few are given to the planner and the synthesis as notes.
        image_path: An image for the turn: the vision region looks at it at once, in parallel
            with planning, and every planned subtask gets its description as a note.
        audio_path: A recording for the turn: the speech region transcribes it at once, and
            the transcript becomes the request (or joins the typed question) for the planner.
        speak_to: A WAV file: the speech region speaks the answer into it, sentence by
            sentence while the answer is still being decoded.
    """

    def __init__(
        self,
        bus: TokenBus,
        planner: str,
        replicas: dict[str, dict[str, int]],
        question: str,
        timeout_s: float = 600.0,
        on_delivery: Callable[[Delivery], None] | None = None,
        history: list[tuple[str, str]] | None = None,
        image_path: str | None = None,
        audio_path: str | None = None,
        speak_to: str | None = None,
    ) -> None:
        self.bus = bus
        self.image_path = image_path
        self.audio_path = audio_path
        self.speak_to = speak_to
        self._spoken = speak_to is None
        self._answer_streamed = False
        self.planner = planner
        self.question = question
        self.timeout_s = timeout_s
        self.on_delivery = on_delivery
        self.turn_id = uuid.uuid4().hex[:12]
        self.context = {
            f"earlier {i}": f"Earlier the user asked: {q} You answered: {a}"
            for i, (q, a) in enumerate((history or [])[-HISTORY_TURNS:], start=1)
        }
        self.scheduler = Scheduler({k: v for k, v in replicas.items() if k != "planning"})
        self.notes: list[str] = []
        self.spoken: dict = {}
        """The speech region's report of the spoken answer: wav path and seconds."""
        self._streams: list[StreamRecord] = []
        self._plan_done = False
        self._answer: str | None = None

    def run(self) -> TurnRecord:
        """Runs the turn to its answer.

        Raises:
            TurnError: Planning failed, every subtask failed, or the turn timed out.
        """
        started = time.time()
        topics = [turn_plan(self.turn_id), turn_out(self.turn_id)] + [
            region_out(name) for names in self.scheduler.replicas.values() for name in names
        ]
        with self.bus.subscribe(*topics, region_out(self.planner)) as subscription:
            self.bus.publish(
                turn_in(self.turn_id),
                UserTurn(turn_id=self.turn_id, text=self.question, image_path=self.image_path),
            )
            if self.image_path:
                self._look_at_image()
            if self.speak_to:
                self._follow_answer()
            if self.audio_path:
                self._listen()
            else:
                self._ask_planner()
            deadline = time.monotonic() + self.timeout_s
            while self._answer is None or not self._spoken:
                if time.monotonic() > deadline:
                    raise TurnError(f"the turn took longer than {self.timeout_s:.0f} s")
                delivery = subscription.recv(timeout=0.5)
                if delivery is not None:
                    self._on(delivery)
        return TurnRecord(
            turn_id=self.turn_id,
            question=self.question,
            answer=self._answer,
            plan=[
                PlanEntry(
                    id=s.subtask_id,
                    region=s.region,
                    instruction=s.instruction,
                    depends_on=list(s.depends_on),
                )
                for s in self.scheduler.steps.values()
            ],
            streams=self._streams,
            wall_s=round(time.time() - started, 3),
            notes=self.notes,
            spoken=self.spoken,
        )

    def _subtask(self, subtask_id: str, region: str, instruction: str, **fields: Any) -> Subtask:
        """A subtask of this turn."""
        return Subtask(
            turn_id=self.turn_id,
            subtask_id=subtask_id,
            region=region,
            instruction=instruction,
            **fields,
        )

    def _ask_planner(self) -> None:
        self._send(
            self.planner,
            self._subtask(
                PLAN_ID,
                "planning",
                self.question,
                mode="plan",
                inputs=self.context,
                image_path=self.image_path,
            ),
        )

    def _listen(self) -> None:
        """Starts the speech region on the turn's recording; planning waits for its words."""
        self._start_media(
            HEAR_ID, "speech", "Transcribe the recording.", audio_path=self.audio_path
        )

    def _look_at_image(self) -> None:
        """Starts the vision region on the turn's image before the plan exists."""
        self._start_media(SEE_ID, "vision", "Describe the picture.", image_path=self.image_path)

    def _start_media(
        self, step_id: str, region: str, instruction: str, **media: str | None
    ) -> None:
        self.scheduler.add(self._subtask(step_id, region, instruction, **media))
        self._dispatch()

    def _heard(self, result: SubtaskResult) -> None:
        transcript = str(result.data.get("text", "")).strip() if result.ok else ""
        if not transcript and not self.question:
            reason = result.error if not result.ok else result.data.get("note", "no speech")
            raise TurnError(f"the recording gave no question: {reason}")
        if not transcript:
            self.notes.append(f"the recording gave no words ({result.error or 'no speech'})")
        self.question = " ".join(part for part in (self.question, transcript) if part)
        self._ask_planner()

    def _speaker(self) -> str:
        speakers = self.scheduler.replicas.get("speech")
        if not speakers:
            raise TurnError("speaking the answer needs a speech region; none runs")
        return next(iter(speakers))

    def _follow_answer(self) -> None:
        """Has the speech region speak the answer's stream as it is decoded."""
        self._send(
            self._speaker(),
            self._subtask(
                SPEAK_ID,
                "speech",
                "",
                speak_stream=turn_out(self.turn_id).name,
                output_path=self.speak_to,
            ),
        )

    def _with_media(self, step: Subtask) -> Subtask:
        """A planned step of a turn with an image reads the image's description."""
        if not self.image_path:
            return step
        return step.model_copy(update={"depends_on": (SEE_ID, *step.depends_on)})

    def _on(self, delivery: Delivery) -> None:
        message = delivery.message
        if delivery.topic == turn_out(self.turn_id).name and isinstance(message, Token):
            self._answer_streamed = True
        if isinstance(message, Subtask) and message.turn_id == self.turn_id:
            self._notify(delivery)
            self.scheduler.add(self._with_media(message))
            self._dispatch()
        elif isinstance(message, SubtaskResult) and message.turn_id == self.turn_id:
            self._notify(delivery)
            self._on_result(message)
        elif isinstance(message, Token) and message.stream_id.startswith(self.turn_id + "/"):
            self._notify(delivery)
        elif isinstance(message, Event) and message.data.get("turn_id") in (self.turn_id, None):
            if message.code in ("plan_repair", "subtask_failed"):
                self.notes.append(f"{message.source}: {message.detail}")
            if message.code in REGION_EVENTS:
                self._on_region_event(message)
            if message.code == "spoken":
                self.spoken = message.data
                self._spoken = True
            self._notify(delivery)

    def _on_region_event(self, event: Event) -> None:
        """A region's process died (retry what it held) or came back (give it work again)."""
        replica = event.source
        if event.code == "region_restarted":
            self.scheduler.restore(replica)
            self._dispatch()
            return
        if replica == self.planner and self._answer is None:
            raise TurnError(f"the planning region's process died ({event.detail}); ask again")
        retried, given_up = self.scheduler.lose(replica)
        for step in retried:
            self.notes.append(f"{replica} died during subtask {step.subtask_id}; retrying it")
        for step in given_up:
            self._on_result(
                _failed(step, step.stream_id, replica, f"{replica} died while retrying it")
            )
        self._dispatch()

    def _on_result(self, result: SubtaskResult) -> None:
        if result.subtask_id in self.scheduler.steps and not self.scheduler.finish(result):
            return  # a result of an attempt that was retried meanwhile
        self._streams.append(
            StreamRecord(
                id=result.stream_id,
                region=result.region,
                replica=result.replica,
                device=result.device,
                start=result.started,
                end=result.finished,
                tokens=result.tokens,
            )
        )
        if result.subtask_id == SPEAK_ID:
            if not result.ok:
                raise TurnError(f"speaking the answer failed: {result.error}")
            if result.data.get("wav"):  # the answer did not stream: it was spoken whole
                self.spoken, self._spoken = result.data, True
            return
        if result.subtask_id == PLAN_ID:
            if not result.ok:
                raise TurnError(f"planning failed: {result.error}")
            self._plan_done = True
        elif result.subtask_id == SYNTHESIS_ID:
            if not result.ok:
                raise TurnError(f"writing the answer failed: {result.error}")
            self._answer = result.text.strip()
        else:
            if not result.ok:
                self.notes.append(f"subtask {result.subtask_id} failed: {result.error}")
            if result.subtask_id == HEAR_ID:
                self._heard(result)
            self._dispatch()
        if self._plan_done and self.scheduler.done and self._answer is None:
            self._conclude()

    def _conclude(self) -> None:
        results = list(self.scheduler.results.values())
        if not any(r.ok for r in results):
            reasons = "; ".join(f"{r.subtask_id}: {r.error}" for r in results) or "no subtasks"
            raise TurnError(f"every subtask failed ({reasons})")
        planned = [r for r in results if r.subtask_id not in MEDIA_IDS]
        if len(planned) == 1 and planned[0].ok:
            self._answer = planned[0].text.strip()
            if not self._answer_streamed and self.speak_to:
                self._speak_whole_answer()
            return
        self._send(
            self.planner,
            self._subtask(
                SYNTHESIS_ID,
                "planning",
                self.question,
                mode="synthesise",
                inputs=self.context | {r.subtask_id: _result_text(r) for r in results},
                publish_to=(turn_out(self.turn_id).name,),
            ),
        )

    def _speak_whole_answer(self) -> None:
        self._send(
            self._speaker(),
            self._subtask(SPEAK_ID, "speech", self._answer or "", output_path=self.speak_to),
        )

    def _dispatch(self) -> None:
        for replica, subtask in self.scheduler.ready():
            self._send(replica, subtask)
        for step in self.scheduler.steps.values():
            if (
                step.region not in self.scheduler.replicas
                and step.subtask_id not in self.scheduler.results
            ):
                self._fail_unplaceable(step)

    def _fail_unplaceable(self, step: Subtask) -> None:
        self.scheduler.finish(
            _failed(step, "-", "-", f"no region of kind {step.region!r} is running")
        )
        self.notes.append(f"subtask {step.subtask_id}: no region of kind {step.region!r}")

    def _send(self, instance: str, subtask: Subtask) -> None:
        self.bus.publish(region_inbox(instance), subtask)

    def _notify(self, delivery: Delivery) -> None:
        if self.on_delivery is not None:
            self.on_delivery(delivery)


def _failed(step: Subtask, stream_id: str, replica: str, error: str) -> SubtaskResult:
    """The result of a step that could not run, or not to its end."""
    now = time.time()
    return SubtaskResult(
        turn_id=step.turn_id,
        subtask_id=step.subtask_id,
        stream_id=stream_id,
        region=step.region,
        replica=replica,
        device="-",
        ok=False,
        text="",
        error=error,
        started=now,
        finished=now,
    )


def _result_text(result: SubtaskResult) -> str:
    return result.text if result.ok else f"(this part failed: {result.error})"
