"""One conversation turn: ask the planner, dispatch its subtasks, stream the answer.

The driver side of a turn. It publishes the user's text, starts the media regions on what
the turn carries (vision on an image, speech on a recording) before any plan exists, and
sends the planning region a ``plan`` subtask. Each planned `Subtask` goes to a replica the
moment it arrives and its dependencies are done (`cortex.turns.scheduler`). The answer is
the delegates' parts in plan order, streamed on ``turn.<id>.out`` (`cortex.turns.answer`);
nothing rewrites them. A part not shown yet that repeats a sentence of a part before it is
decoded again, told what those parts say. A turn cancelled from another thread tells every
region it gave work to (a ``cancel`` `Event`) and ends. Its `state` says where it is:

    listening (a recording is transcribed) -> planning -> answering -> speaking -> done
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable

from bus.errors import BusError
from bus.protocol import Decoding, Event, Subtask, SubtaskResult, Token, UserTurn
from bus.streams import StreamId
from bus.tokenbus import DEFAULT_HWM, Delivery, Subscription, TokenBus
from bus.topics import region_inbox, region_out, turn_in, turn_out, turn_plan
from cortex.errors import TurnCancelled, TurnError
from cortex.turns.answer import ANSWER_ID, SENTENCE_ENDS, Answer, AnswerPublisher
from cortex.turns.gaps import StallWatch
from cortex.turns.media import SPEAK_ID, MediaSteps
from cortex.turns.records import PlanEntry, StreamRecord, TurnRecord, TurnState
from cortex.turns.scheduler import Scheduler, cancel_work, failed_result
from modules.errors import ContextLengthError

HISTORY_TURNS = 2
PLAN_ID = "plan"
SEE_ID = "see"
HEAR_ID = "hear"
MEDIA_IDS = (SEE_ID, HEAR_ID)
REGION_EVENTS = ("region_died", "region_lost", "region_restarted")
"""What the supervisor (`cortex.runtime.supervisor`) says of region processes."""


class Turn(MediaSteps):
    """Runs one turn over the bus.

    Args:
        bus: A connected token bus.
        planner: The planning region's instance name.
        replicas: Delegate instance names by region kind, each with its free slots.
        question: The user's text.
        timeout_s: How long the whole turn may take.
        on_delivery: Called with every message of this turn as it arrives (the answer's
            tokens on ``turn.<id>.out`` among them).
        history: Earlier (question, answer) pairs of the conversation, oldest first; the last
            `HISTORY_TURNS` are given to a one-step plan's delegate as the chat before the
            question, and it is told not to repeat the last answer (a follow-up such as "And
            two in South America?" asks for something new).
        image_path: An image for the turn: the vision region looks at it at once, in parallel
            with planning, and every planned subtask gets its description as a note.
        audio_path: A recording for the turn: the speech region transcribes it at once, and
            the transcript becomes the request (or joins the typed question) for the planner.
        speak_to: A WAV file: the speech region speaks the answer into it, sentence by
            sentence while the answer is still being decoded.
        cancel: Set from any thread to stop the turn (checked twice a second).
        bus_hwm: The bus's high-water mark, named when the turn's stream is found broken.
        options: What the client asked of the decoding; every part decodes with it, and its
            token cap and stop strings hold over the whole answer (`Answer`). A JSON schema
            makes the request one part, answered by one delegate, so the answer parses.
        context: Text every part reads before its instruction (a client's system message).
    """

    def __init__(
        self,
        bus: TokenBus,
        planner: str,
        replicas: dict[str, dict[str, int]],
        question: str,
        *,
        timeout_s: float = 600.0,
        on_delivery: Callable[[Delivery], None] | None = None,
        history: list[tuple[str, str]] | None = None,
        image_path: str | None = None,
        audio_path: str | None = None,
        speak_to: str | None = None,
        cancel: threading.Event | None = None,
        bus_hwm: int = DEFAULT_HWM,
        options: Decoding | None = None,
        context: str = "",
    ) -> None:
        self.bus = bus
        self.options = options or Decoding()
        self.shared_context = context
        self.cancel = cancel or threading.Event()
        self.planner = planner
        self.question = question
        self.timeout_s = timeout_s
        self._stalls = StallWatch(bus_hwm)  # when each running step (and the plan) last spoke
        self.on_delivery = on_delivery
        self.image_path = image_path
        self.audio_path = audio_path
        self.speak_to = speak_to
        self.turn_id = uuid.uuid4().hex[:12]
        self.history = tuple((history or [])[-HISTORY_TURNS:])
        self.scheduler = Scheduler({k: v for k, v in replicas.items() if k != "planning"})
        self.state = TurnState.LISTENING if audio_path else TurnState.PLANNING
        self.notes: list[str] = []
        self.spoken: dict[str, str | float] = {}
        """The speech region's report of the spoken answer: wav path and seconds."""
        self._publish = AnswerPublisher(bus, self.turn_id, self._notify)
        self.answer = Answer(self._publish, self.options)
        self._streams: list[StreamRecord] = []
        self._plan_done = False
        self._reasked: set[str] = set()
        """Parts decoded again for repeating an earlier part (once each)."""

    def run(self) -> TurnRecord:
        """Runs the turn to its answer.

        Raises:
            TurnError: Planning failed, every subtask failed, or the turn timed out.
            TurnCancelled: `cancel` was set; the turn's regions were told to stop its work.
            ContextLengthError: The request is too long for a region's context.
        """
        self._publish.started = time.time()
        topics = [turn_plan(self.turn_id), turn_out(self.turn_id), region_out(self.planner)]
        topics += [region_out(name) for name in self.scheduler.instances]
        with self.bus.subscribe(*topics) as subscription:
            self.bus.publish(
                turn_in(self.turn_id),
                UserTurn(turn_id=self.turn_id, text=self.question, image_path=self.image_path),
            )
            if self.image_path:
                self._start_media(
                    SEE_ID, "vision", "Describe the picture.", image_path=self.image_path
                )
            if self.speak_to:
                self._follow_answer()
            if self.audio_path:
                self._start_media(
                    HEAR_ID, "speech", "Transcribe the recording.", audio_path=self.audio_path
                )
            else:
                self._ask_planner()
            try:
                self._follow(subscription)
            except BaseException:  # cancelled, failed or interrupted: nothing is left to run
                with contextlib.suppress(BusError):  # the bus is closing with the program
                    cancel_work(self.bus, self.turn_id, [self.planner, *self.scheduler.instances])
                raise
        return self._record()

    def _follow(self, subscription: Subscription) -> None:
        """Handles the turn's messages until it is done."""
        deadline = time.monotonic() + self.timeout_s
        while self.state != TurnState.DONE:
            if self.cancel.is_set():
                raise TurnCancelled(f"turn {self.turn_id} was cancelled")
            if time.monotonic() > deadline:
                raise TurnError(f"the turn took longer than {self.timeout_s:.0f} s")
            delivery = subscription.recv(timeout=0.5)
            if delivery is not None:
                self._on(delivery)
            planning = [] if self._plan_done else [PLAN_ID]
            self._stalls.check([*self.scheduler.running, *planning])

    def _record(self) -> TurnRecord:
        return TurnRecord(
            turn_id=self.turn_id,
            question=self.question,
            answer=self.answer.text.strip(),
            plan=[PlanEntry.of(step) for step in self.scheduler.steps.values()],
            streams=self._streams,
            wall_s=round(time.time() - self._publish.started, 3),
            first_token_s=self._publish.first_token_s,
            notes=self.notes,
            spoken=self.spoken,
            finish_reason=self._finish_reason(),
            tool_calls=self.answer.calls,
        )

    def _finish_reason(self) -> str:
        """Why the answer ended: ``tool_calls``, ``length`` (a cap cut it) or ``stop``."""
        if self.answer.calls:
            return "tool_calls"
        cut = any(r.data.get("finish_reason") == "length" for r in self.scheduler.results.values())
        return self.answer.ended or ("length" if cut else "stop")

    def _subtask(self, subtask_id: str, region: str, instruction: str, **fields: object) -> Subtask:
        """A subtask of this turn."""
        return Subtask(
            turn_id=self.turn_id,
            subtask_id=subtask_id,
            region=region,
            instruction=instruction,
            **fields,  # type: ignore[arg-type]
        )

    def _ask_planner(self) -> None:
        self.state = TurnState.PLANNING
        if self.options.json_schema is not None:  # one part: the whole answer must parse
            self._plan_done = True
            step = self._subtask("1", "language", self.question, context=self.shared_context)
            self._on_step(step.model_copy(update={"decoding": self.options}))
            return
        self._send(
            self.planner,
            self._subtask(
                PLAN_ID,
                "planning",
                self.question,
                mode="plan",
                context=self.shared_context,
                decoding=self.options,
                earlier=self.history,
                avoid=self.history[-1][1] if self.history else "",
                image_path=self.image_path,
                audio_path=self.audio_path,
                output_path=self.speak_to,
            ),
        )

    def _on(self, delivery: Delivery) -> None:
        message = delivery.message
        if isinstance(message, Subtask) and message.turn_id == self.turn_id:
            self._notify(delivery)
            self._stalls.heard(PLAN_ID)
            self._on_step(message)
        elif isinstance(message, SubtaskResult) and message.turn_id == self.turn_id:
            self._notify(delivery)
            self._on_result(message)
        elif isinstance(message, Token):
            stream = StreamId.parse(message.stream_id)
            if stream is not None and stream.turn == self.turn_id and stream.step != ANSWER_ID:
                self._notify(delivery)  # the answer's own tokens were shown as they were made
                self._on_token(stream, message)
        elif isinstance(message, Event) and self._concerns(message):
            self._on_event(message)
            self._notify(delivery)

    def _concerns(self, event: Event) -> bool:
        """Whether an event is about this turn: it names the turn, or a stream of the turn
        (the bus reports a gap in any stream it carries, another turn's too: a turn that
        starts while another's tokens are on the way sees that stream from the middle), or
        no turn at all (a region that died)."""
        turn = event.data.get("turn_id") or StreamId.turn_of(str(event.data.get("stream_id", "")))
        return turn in (self.turn_id, None)

    def _on_step(self, step: Subtask) -> None:
        """A planned step: its part of the answer, then its subtask."""
        if self.answer.has_part(step.subtask_id):
            return  # seen on the plan's topic before it came again in the plan's result
        self.state = TurnState.ANSWERING
        self.answer.add_part(step.subtask_id, step.instruction, step.heading)
        if self.image_path:  # a planned step of a turn with an image reads its description
            step = step.model_copy(update={"depends_on": (SEE_ID, *step.depends_on)})
        self.scheduler.add(step)
        self._dispatch()

    def _on_token(self, stream: StreamId, token: Token) -> None:
        if stream.step == PLAN_ID:
            self._stalls.heard(PLAN_ID)
            if token.final and self.answer.has_parts:
                self._plan_done = True  # its steps came; a lost plan result is not needed
                self._maybe_conclude()
            return
        step = self.scheduler.steps.get(stream.step)
        current = step is not None and str(stream) == step.stream_id
        if current:
            self._stalls.heard(stream.step)
        if current and self.answer.has_part(stream.step) and token.text:
            self.answer.text_of(stream.step, token.text)
            if self.answer.ended:
                self._end_early()
                return
            if not any(end in token.text for end in SENTENCE_ENDS):
                return  # no sentence was finished: none can repeat another yet
            for held in self.answer.held:
                if held not in self._reasked and (echo := self.answer.echo(held)) is not None:
                    self._reask(held, echo)

    def _reask(self, step_id: str, echo: str) -> None:
        """Decodes a part not shown yet again, told what the parts before it say."""
        self._reasked.add(step_id)
        replica = self.scheduler.running.get(step_id)
        dropped = self.scheduler.reask(step_id, avoid=self.answer.restart(step_id))
        if replica is not None:
            cancel_work(self.bus, self.turn_id, [replica], stream_id=dropped.stream_id)
        self.notes.append(f"part {step_id} repeated an earlier part (“{echo}”); asked again")
        self._dispatch()

    def _on_event(self, event: Event) -> None:
        if event.code in ("plan_repair", "subtask_failed"):
            self.notes.append(f"{event.source}: {event.detail}")
        if event.code in REGION_EVENTS:
            self._on_region_event(event)
        if event.code == "spoken":
            self.spoken = dict(event.data)
            if self.state == TurnState.SPEAKING:
                self.state = TurnState.DONE

    def _on_region_event(self, event: Event) -> None:
        """A region's process died (retry what it held) or came back (give it work again)."""
        replica = event.source
        if event.code == "region_restarted":
            self.scheduler.restore(replica)
            self._dispatch()
            return
        if replica == self.planner and not self._plan_done:
            raise TurnError(f"the planning region's process died ({event.detail}); ask again")
        retried, given_up = self.scheduler.lose(replica)
        for step in retried:
            self.notes.append(f"{replica} died during subtask {step.subtask_id}; retrying it")
        for step in given_up:
            self._on_result(
                failed_result(step, step.stream_id, replica, f"{replica} died while retrying it")
            )
        self._dispatch()

    def _on_result(self, result: SubtaskResult) -> None:
        if result.data.get("error_kind") == ContextLengthError.__name__:
            raise ContextLengthError(result.error or "the request is too long")
        if result.subtask_id in self.scheduler.steps and not self.scheduler.finish(result):
            return  # a result of an attempt that was retried meanwhile
        self._streams.append(StreamRecord.of(result))
        if result.subtask_id == SPEAK_ID:
            self._on_spoken(result)
            return
        if result.subtask_id == PLAN_ID:
            if not result.ok:
                raise TurnError(f"planning failed: {result.error}")
            for step in result.data.get("steps", []):  # any the plan's topic dropped
                self._on_step(Subtask.model_validate(step))
            self._plan_done = True
        elif result.subtask_id == HEAR_ID:
            self._heard(result)
        elif self.answer.has_part(result.subtask_id):
            if not result.ok:
                self.notes.append(f"subtask {result.subtask_id} failed: {result.error}")
            notes = result.data.get("notes", [])
            self.notes += [f"part {result.subtask_id} {note}" for note in notes]
            self.answer.finish(result.subtask_id, None if result.ok else result.error)
        self._dispatch()
        self._maybe_conclude()

    def _maybe_conclude(self) -> None:
        if self._plan_done and self.scheduler.done and self.answer.done:
            self._conclude()

    def _end_early(self) -> None:
        """The client's token cap or a stop string ended the answer: nothing else runs."""
        cancel_work(self.bus, self.turn_id, self.scheduler.instances)
        self._plan_done = True
        self.answer.close()
        self._publish("", final=True)
        self.state = TurnState.DONE if not self.speak_to or self.spoken else TurnState.SPEAKING

    def _conclude(self) -> None:
        results = [r for r in self.scheduler.results.values() if r.subtask_id not in MEDIA_IDS]
        if not any(r.ok for r in results):
            reasons = "; ".join(f"{r.subtask_id}: {r.error}" for r in results) or "no subtasks"
            raise TurnError(f"every subtask failed ({reasons})")
        self.answer.close()
        self._publish("", final=True)
        done = not self.speak_to or self.spoken
        self.state = TurnState.DONE if done else TurnState.SPEAKING

    def _dispatch(self) -> None:
        for replica, subtask in self.scheduler.ready():
            self._stalls.forget(subtask.subtask_id)  # a retry: timed from its own
            self._send(replica, subtask)
        for step in list(self.scheduler.steps.values()):
            if (
                step.region not in self.scheduler.replicas
                and step.subtask_id not in self.scheduler.results
            ):
                error = f"no region of kind {step.region!r} is running"
                self.notes.append(f"subtask {step.subtask_id}: {error}")
                self._on_result(failed_result(step, "-", "-", error))

    def _send(self, instance: str, subtask: Subtask) -> None:
        self.bus.publish(region_inbox(instance), subtask)

    def _notify(self, delivery: Delivery) -> None:
        if self.on_delivery is not None:
            self.on_delivery(delivery)
