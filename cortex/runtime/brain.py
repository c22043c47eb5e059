"""`Brain`: what every Cortex runtime offers — ask, stream one region, subscribe, shut down.

Two runtimes implement it: `cortex.runtime.cortex.Cortex` (regions as Ray actors, the ZeroMQ bus;
what users run) and `cortex.runtime.inprocess.InProcessCortex` (regions as threads on the in-process
bus; for tests and quick experiments without Ray). Both run turns with the same `Turn`.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bus.protocol import Decoding, Subtask, SubtaskResult, Token
from bus.resource import Resource
from bus.streams import StreamId
from bus.tokenbus import Delivery, Subscription, TokenBus
from bus.topics import Pattern, Topic, region_inbox, region_out
from cortex.config import CortexConfig, load_config
from cortex.errors import CortexError, TurnCancelled, TurnError
from cortex.outputs import writable_file
from cortex.runtime.placement import Instance, replicas_by_kind
from cortex.turns.gaps import fail_on_gaps
from cortex.turns.records import TurnRecord
from cortex.turns.sessions import SessionLog
from cortex.turns.turn import Turn, cancel_work
from modules.errors import BadRequestError, ContextLengthError

log = logging.getLogger("cortex")


@dataclass(frozen=True)
class StartupEvent:
    """One step of start-up, for progress displays."""

    message: str
    region: str | None = None
    """The region instance it concerns, if any."""
    state: str = ""
    """For a region: ``loading``, ``ready`` or ``failed``."""
    device: str = ""
    load_s: float = 0.0


Progress = Callable[[StartupEvent], None]


def region_ready(name: str, device: str, load_s: float, ready: int, total: int) -> StartupEvent:
    """The start-up step at which one region instance is ready: what its own load took, and
    how many of all are ready ("planning ready on cpu:0-1, its model loaded in 8.8 s; 2 of
    6 regions ready")."""
    return StartupEvent(
        f"{name} ready on {device}, its model loaded in {load_s:.1f} s; "
        f"{ready} of {total} regions ready",
        name,
        "ready",
        device,
        load_s,
    )


@dataclass
class TurnFigures:
    """What the turns of a brain came to so far, for metrics and `cortex status`."""

    answered: int = 0
    last_first_token_s: float | None = None
    """Seconds from the last turn's question to its first answer token."""


def log_progress(event: StartupEvent) -> None:
    log.info(event.message)


class Brain(Resource):
    """A running set of regions on a bus, and the turns asked of them.

    Args:
        config: A `CortexConfig`, a path to a ``cortex.toml``, or None for the default.
        session_log: Where to append each turn; None picks a fresh file
            (`cortex.turns.sessions`).
        progress: Called at each step of start-up.
        only: Start only these regions (``[regions.NAME]`` names); None starts them all.
    """

    def __init__(
        self,
        config: CortexConfig | str | Path | None = None,
        *,
        session_log: str | Path | None = None,
        progress: Progress | None = None,
        only: set[str] | None = None,
    ) -> None:
        self.config = config if isinstance(config, CortexConfig) else load_config(config)
        if only is not None and (unknown := only - set(self.config.regions)):
            raise CortexError(f"no region named {', '.join(sorted(unknown))} in the configuration")
        self.only = only
        self.session = SessionLog(session_log)
        self.progress = progress or log_progress
        self.instances: list[Instance] = []
        self.bus: TokenBus | None = None
        self.dashboard_url: str | None = None
        self.ray_address: str | None = None
        """The Ray cluster the regions run on (its GCS, ``HOST:PORT``), once started."""
        self.turn_figures = TurnFigures()

    def start(self) -> Brain:
        """Starts the bus and every region; returns once all have loaded."""
        raise NotImplementedError

    def shutdown(self) -> None:
        """Stops every region and the bus."""
        raise NotImplementedError

    def regions(self) -> list[dict[str, Any]]:
        """Each region instance's status: name, kind, device, state, tokens, tokens per second."""
        raise NotImplementedError

    def open(self) -> Brain:
        return self.start()

    def close(self) -> None:
        self.shutdown()

    def ask(
        self,
        question: str,
        on_delivery: Callable[[Delivery], None] | None = None,
        history: list[tuple[str, str]] | None = None,
        image: str | Path | None = None,
        audio: str | Path | None = None,
        speak_to: str | Path | None = None,
        cancel: threading.Event | None = None,
        options: Decoding | None = None,
        context: str = "",
    ) -> TurnRecord:
        """Runs one turn and returns its record (answer, plan, streams, wall time).

        Several threads may ask at once; each question is a turn of its own.

        `on_delivery` sees every message of the turn as it arrives: plan steps, tokens (the
        final answer's on ``turn.<id>.out``), results and events. `history` holds earlier
        (question, answer) pairs the answer may build on. `image` is a picture for the vision
        region to look at, in parallel with planning; `audio` a recording whose transcript
        becomes the question (or joins it); `speak_to` a WAV file the answer is spoken into,
        sentence by sentence while it decodes. Setting `cancel` (from any thread) stops the turn
        and its regions' work on it. `options`: what a client asked of the decoding (sampling,
        a token cap and stop strings over the whole answer, a JSON schema, tools); `context`:
        text every part reads before its instruction (a client's system message).

        Raises:
            BadRequestError: The question is empty (and no recording is given), or media is
                given but its region does not run or the file is missing.
            ContextLengthError: The question is too long for a region's context.
            TurnCancelled: `cancel` was set before the turn ended.
            OutputPathError: `speak_to` cannot be written (a folder, say).
            TurnError: No answer could be produced (the message says why).
        """
        self._check_turn_input(question, image, audio, speak_to)
        turn = Turn(
            self._running_bus(),
            self.config.planner,
            replicas_by_kind(self.instances),
            question.strip(),
            timeout_s=self.config.runtime.turn_timeout_s,
            on_delivery=fail_on_gaps(on_delivery, self.config.bus.hwm),
            bus_hwm=self.config.bus.hwm,
            history=history,
            image_path=_absolute(image),
            audio_path=_absolute(audio),
            speak_to=_absolute(speak_to),
            cancel=cancel,
            options=options or Decoding(),
            context=context,
        )
        record = turn.run()
        self.turn_figures.answered += 1
        self.turn_figures.last_first_token_s = record.first_token_s
        attached = [Path(path).name for path in (image, audio) if path is not None]
        self.session.append({"type": "turn", **record.model_dump(), "attached": attached})
        return record

    def _check_turn_input(
        self,
        question: str,
        image: str | Path | None,
        audio: str | Path | None,
        speak_to: str | Path | None,
    ) -> None:
        """Refuses a turn's input before any region works on it (see `ask`'s errors)."""
        if not question.strip() and audio is None:
            raise BadRequestError("the question is empty; ask something")
        if image is not None:
            self._check_media(Path(image).expanduser(), "vision")
        if audio is not None:
            self._check_media(Path(audio).expanduser(), "speech")
        if speak_to is not None and not any(i.settings.kind == "speech" for i in self.instances):
            raise BadRequestError("no speech region runs in this configuration to speak with")
        if speak_to is not None:
            writable_file(speak_to, "the file to speak into", "answer.wav")

    def stream(
        self,
        instance: str,
        instruction: str,
        max_new_tokens: int | None = None,
        cancel: threading.Event | None = None,
        **fields: Any,
    ) -> Generator[Token, None, SubtaskResult]:
        """Sends one instruction straight to a region instance and yields its tokens
        (at most `max_new_tokens`, else the region's own limit); returns its result (token
        counts in `tokens` and ``data["prompt_tokens"]``). Closing the generator early, or
        setting `cancel`, tells the region to stop (queued or decoding). `fields` set more of
        the `Subtask`: ``decoding``, ``system``, ``earlier``, ``context``.

        Raises:
            CortexError: No such instance runs.
            ContextLengthError: The instruction is too long for the region's context.
            TurnCancelled: `cancel` was set.
            TurnError: The region failed the instruction.
        """
        return (
            yield from self._exchange(
                instance, instruction, cancel, max_new_tokens=max_new_tokens, **fields
            )
        )

    def request(self, instance: str, instruction: str = "", **media: str) -> SubtaskResult:
        """Sends one subtask straight to a region instance and returns its result.

        `media` sets the subtask's `image_path`, `audio_path` or `output_path`.

        Raises:
            CortexError: No such instance runs.
            TurnError: The region failed the subtask (the message says why).
        """
        exchange = self._exchange(instance, instruction, None, **media)
        while True:
            try:
                next(exchange)
            except StopIteration as finished:
                return finished.value

    def _exchange(
        self, instance: str, instruction: str, cancel: threading.Event | None, **fields: Any
    ) -> Generator[Token, None, SubtaskResult]:
        names = [i.name for i in self.instances]
        if instance not in names:
            raise CortexError(f"no region instance {instance!r}; running: {', '.join(names)}")
        bus = self._running_bus()
        turn_id = uuid.uuid4().hex[:12]
        subtask = Subtask(
            turn_id=turn_id, subtask_id="1", region=instance, instruction=instruction, **fields
        )
        with bus.subscribe(region_out(instance)) as subscription:
            bus.publish(region_inbox(instance), subtask)
            try:
                return (
                    yield from _tokens_until_result(
                        subscription, turn_id, self.config.runtime.turn_timeout_s, cancel
                    )
                )
            except (GeneratorExit, TurnCancelled):  # the region stops, queued or decoding
                cancel_work(bus, turn_id, [instance])
                raise

    def subscribe(self, *patterns: Pattern | Topic | str) -> Subscription:
        """A live subscription to any bus topics (see `bus.topics` for the pattern syntax)."""
        return self._running_bus().subscribe(*patterns)

    def _check_media(self, path: Path, kind: str) -> None:
        if not any(i.settings.kind == kind for i in self.instances):
            raise BadRequestError(f"no {kind} region runs in this configuration")
        if not path.is_file():
            raise BadRequestError(f"no file at {path}")

    def _running_bus(self) -> TokenBus:
        if self.bus is None:
            raise CortexError("Cortex is not started; use `with Cortex() as brain:` or start()")
        return self.bus


def _absolute(path: str | Path | None) -> str | None:
    return str(Path(path).expanduser().resolve()) if path is not None else None


def _tokens_until_result(
    subscription: Subscription, turn_id: str, timeout_s: float, cancel: threading.Event | None
) -> Generator[Token, None, SubtaskResult]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cancel is not None and cancel.is_set():
            raise TurnCancelled(f"the request {turn_id} was cancelled")
        delivery = subscription.recv(timeout=0.5)
        if delivery is None:
            continue
        message = delivery.message
        if isinstance(message, Token) and StreamId.turn_of(message.stream_id) == turn_id:
            if message.token_id != Token.END_MARKER_ID:
                yield message
        elif isinstance(message, SubtaskResult) and message.turn_id == turn_id:
            if message.data.get("error_kind") == ContextLengthError.__name__:
                raise ContextLengthError(message.error or "the instruction is too long")
            if not message.ok:
                raise TurnError(message.error or "the region failed")
            return message
    raise TurnError(f"no result within {timeout_s:.0f} s")
