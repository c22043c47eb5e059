"""The terminal conversation: watch every region think at once.

`CortexApp` talks to a `cortex.runtime.brain.Brain` (made by the factory it is given, in a worker
thread, so the screen appears at once) and subscribes to the whole bus. Every bus message
becomes a Textual message on the app's loop: the plan fills in as the planner writes it,
each region's pane streams its tokens, and the answer streams into the conversation.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, Input

from bus.protocol import Event, Proposal, Subtask, SubtaskResult, Token, UserTurn
from bus.streams import StreamId
from bus.topics import as_topic
from cortex.turns.sessions import SessionLog, data_dir
from tui.commands import CommandError, parse
from tui.conversation import AnswerMessage, ConversationView
from tui.messages import (
    BrainFailed,
    BrainReady,
    BrainStopped,
    BusDelivery,
    StartupProgress,
    TurnFailed,
    TurnFinished,
)
from tui.plan import PlanView
from tui.prompt import QuestionInput
from tui.regions import RegionPanes
from tui.screens import HelpScreen, SessionPicker, session_summary
from tui.status import StatusBar

_POLL_S = 0.2
SCREEN_BACKLOG = 2000
"""Bus messages the screen may have queued; past that it passes over old tokens to catch up
(a turn's own subscription still gets every token: the screen only shows them)."""
_CATCH_UP_S = 0.05


class CortexApp(App[None]):
    """The `cortex chat` app.

    Args:
        brain_factory: Makes the (not yet started) brain; called in a worker thread.
        resume: True to pick a past session on start, or the path of one to continue.
    """

    TITLE = "Cortex"
    CSS_PATH = Path(__file__).with_name("cortex.tcss")
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("f1", "help", "Help"),
        Binding("f2", "toggle_regions", "Regions"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def __init__(self, brain_factory: Callable[[], Any], resume: bool | Path = False) -> None:
        super().__init__()
        self.brain_factory = brain_factory
        self.brain: Any = None
        self.resume = resume
        self.ready = False
        self.region_kinds: set[str] = set()
        self.history: list[tuple[str, str]] = []
        self.pending: deque[tuple[str, dict[str, str], AnswerMessage]] = deque()
        self.attachments: dict[str, str] = {}
        """Media for the next question: ``image`` and ``audio`` paths."""
        self.speak = False
        self.answer: AnswerMessage | None = None
        self.turn_running = False
        self.current_turn = ""
        self.session_path: Path | None = resume if isinstance(resume, Path) else None
        self._handled = 0
        """Bus messages the screen has handled in this session (the pump counts `_posted`)."""
        self._posted = 0
        self._messages_this_second = 0
        self._tokens_this_second = 0
        self._stopping = threading.Event()
        self._started = threading.Event()
        self._quitting = False
        self._stopped = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield ConversationView(id="conversation")
                yield QuestionInput(placeholder="Ask something, or type /help", id="prompt")
            with Vertical(id="right"):
                yield PlanView(id="plan")
                yield RegionPanes(id="regions")
        yield StatusBar()
        yield Footer()

    async def on_mount(self) -> None:
        self.query_one(PlanView).border_title = "Plan"
        self.query_one(Input).focus()
        self.sub_title = "starting…"
        self.set_interval(1.0, self._tick)
        if self.session_path is not None:
            await self._load_history(self.session_path)
        elif self.resume:
            sessions = sorted((data_dir() / "sessions").glob("*.jsonl"), reverse=True)
            self.push_screen(SessionPicker(sessions), self._on_session_picked)
        self._start_brain()

    # -- start-up and shut-down, in worker threads ---------------------------------------------

    @work(thread=True, group="brain")
    def _start_brain(self) -> None:
        try:
            brain = self.brain_factory()
            brain.progress = lambda event: self.post_message(StartupProgress(event))
            self.brain = brain
            if self.session_path is not None:
                brain.session = SessionLog(self.session_path)
            brain.start()
            subscription = brain.subscribe("*")
            self.post_message(BrainReady(brain.regions(), brain.dashboard_url))
        except Exception as error:  # noqa: BLE001 - shown to the user, who may quit
            self.post_message(BrainFailed(f"{type(error).__name__}: {error}"))
            return
        finally:
            self._started.set()
        if self._stopping.is_set():  # the app closed while the regions were loading
            brain.shutdown()
            return
        with subscription:
            while not self._stopping.is_set():
                delivery = subscription.recv(timeout=_POLL_S)
                if delivery is None:
                    continue
                self._post(delivery)
                while self._posted - self._handled > SCREEN_BACKLOG:  # the screen is behind
                    if self._stopping.wait(_CATCH_UP_S):
                        return
                for later in subscription.take_latest(SCREEN_BACKLOG):  # old tokens passed over
                    self._post(later)

    def _post(self, delivery: Any) -> None:
        self._posted += 1
        self.post_message(BusDelivery(delivery))

    @work(thread=True, group="shutdown")
    def _shut_down(self) -> None:
        self._started.wait()
        self._stopping.set()
        if self.brain is not None:
            try:
                self.brain.shutdown()
            except Exception as error:  # noqa: BLE001 - leaving anyway; say what went wrong
                self.log.error(f"shutdown: {error}")
        self.post_message(BrainStopped())

    def on_startup_progress(self, message: StartupProgress) -> None:
        event = message.event
        if event.region is None:
            self.sub_title = event.message
            return
        pane = self.query_one(RegionPanes).pane(event.region)
        pane.set_state(event.state if event.state != "ready" else "idle", event.device)

    async def on_brain_ready(self, message: BrainReady) -> None:
        self.ready = True
        self.region_kinds = {r["kind"] for r in message.regions}
        panes = self.query_one(RegionPanes)
        for region in message.regions:
            panes.pane(region["name"]).set_state("idle", region["device"])
        self.query_one(StatusBar).show_dashboard(message.dashboard_url)
        self.sub_title = f"{len(message.regions)} regions ready"
        self._tick()
        await self._next_turn()

    def on_brain_failed(self, message: BrainFailed) -> None:
        self.sub_title = "failed to start"
        for pane in self.query_one(RegionPanes).panes():
            if pane.state == "loading":
                pane.set_state("failed")
        self.notify(message.error, title="Cortex could not start", severity="error", timeout=30)

    def on_brain_stopped(self, message: BrainStopped) -> None:
        self._stopped = True
        self.exit()

    def on_unmount(self) -> None:
        """However the app ends, stop pumping the bus and shut the regions down."""
        self._stopping.set()
        if not self._stopped and self.brain is not None and self._started.is_set():
            self.brain.shutdown()

    async def action_quit(self) -> None:
        if self._quitting:
            return
        self._quitting = True
        self.notify("Shutting the regions down…", timeout=30)
        self._shut_down()

    # -- questions and turns -------------------------------------------------------------------

    @on(Input.Submitted, "#prompt")
    async def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        event.input.clear()
        if not text and "audio" not in self.attachments:
            return
        if text.startswith("/"):
            await self._command(text)
            return
        media, self.attachments = self.attachments, {}
        notes = [f"with {Path(path).name}" for path in media.values()]
        if not self.ready:
            notes.append("(runs when the regions are ready)")
        conversation = self.query_one(ConversationView)
        await conversation.add_question(text or "(the recording)", " ".join(notes))
        self.pending.append((text, media, await conversation.start_answer()))
        await self._next_turn()

    async def _next_turn(self) -> None:
        if not self.ready or self.turn_running or not self.pending:
            return
        question, media, self.answer = self.pending.popleft()
        self.turn_running = True
        self.query_one(PlanView).reset()
        speak_to = None
        if self.speak:
            speak_to = self.brain.session.path.with_name(
                f"{self.brain.session.path.stem}-{len(self.history) + 1}.wav"
            )
        self._run_turn(question, list(self.history), media, speak_to)

    @work(thread=True, group="turn")
    def _run_turn(
        self,
        question: str,
        history: list[tuple[str, str]],
        media: dict[str, str],
        speak_to: Path | None,
    ) -> None:
        try:
            record = self.brain.ask(
                question,
                history=history,
                image=media.get("image"),
                audio=media.get("audio"),
                speak_to=speak_to,
            )
        except Exception as error:  # noqa: BLE001 - any failure of a turn is shown, not fatal
            self.post_message(TurnFailed(str(error)))
            return
        self.post_message(TurnFinished(record))

    async def on_turn_finished(self, message: TurnFinished) -> None:
        record = message.record
        if self.answer is not None:
            await self.answer.finish(record.answer)
        self.query_one(ConversationView).record_answer(record.answer)
        self.history.append((record.question, record.answer))
        for note in record.notes:
            self.notify(note, title="plan repaired", severity="warning", timeout=4)
        if record.spoken:
            self.notify(f"spoke the answer to {record.spoken['wav']}", title="speech")
        await self._turn_over()

    async def on_turn_failed(self, message: TurnFailed) -> None:
        if self.answer is not None:
            await self.answer.fail(message.error)
        self.notify(message.error, title="The turn failed", severity="error", timeout=10)
        await self._turn_over()

    async def _turn_over(self) -> None:
        # current_turn stays: the bus pump may still bring this turn's last results.
        self.turn_running, self.answer = False, None
        await self._next_turn()

    # -- bus traffic -------------------------------------------------------------------------

    async def on_bus_delivery(self, message: BusDelivery) -> None:
        delivery = message.delivery
        self._handled += 1
        self._messages_this_second += 1
        topic, payload = as_topic(delivery.topic), delivery.message
        this_turn = topic.turn is not None and topic.turn == self.current_turn
        if topic.region is not None and topic.channel == "out":
            self._on_region_output(topic.region, payload)
        elif isinstance(payload, Proposal) and payload.token_ids and topic.region is not None:
            self.query_one(RegionPanes).pane(payload.draft).drafted(
                len(payload.token_ids), topic.region
            )
        elif isinstance(payload, UserTurn):
            self.current_turn = payload.turn_id
        elif this_turn and isinstance(payload, Subtask):
            self.query_one(PlanView).add_step(
                payload.subtask_id, payload.region, payload.instruction
            )
        elif (
            this_turn
            and isinstance(payload, Token)
            and topic.channel == "out"
            and self.answer is not None
        ):
            await self.answer.add(payload.text)

    def _on_region_output(self, name: str, payload: Any) -> None:
        pane = self.query_one(RegionPanes).pane(name)
        plan = self.query_one(PlanView)
        if isinstance(payload, Token) and payload.token_id != Token.END_MARKER_ID:
            stream = StreamId.parse(payload.stream_id)
            step = stream.step if stream is not None else payload.stream_id
            if pane.state != "decoding":
                pane.begin(plan.instructions.get(step) or step)
            if stream is not None and stream.turn == self.current_turn:
                plan.mark_running(step, name)
            pane.add_token(payload.text, payload.stream_id)
            self._tokens_this_second += 1
        elif isinstance(payload, SubtaskResult):
            elapsed, figures = payload.finished - payload.started, payload.data.get("speculation")
            pane.end(payload.stream_id, payload.ok, payload.tokens, elapsed, figures)
            if payload.turn_id == self.current_turn:
                plan.mark_running(payload.subtask_id, name)
                plan.mark_done(payload.subtask_id, payload.ok, payload.finished - payload.started)
        elif isinstance(payload, Event) and payload.code == "subtask_failed":
            self.notify(payload.detail, title=f"{name} failed a subtask", severity="warning")
        elif isinstance(payload, Event) and payload.code == "remark":
            self.notify(payload.detail, title=name, timeout=6)
        elif isinstance(payload, Event) and payload.code in ("region_died", "region_lost"):
            self.notify(payload.detail, title=f"{name} stopped", severity="error", timeout=10)
        elif isinstance(payload, Event) and payload.code == "region_restarted":
            self.notify(payload.detail, title=f"{name} restarted", timeout=6)

    def _tick(self) -> None:
        if not self.is_running:  # the app is closing and removing its widgets
            return
        panes = self.query_one(RegionPanes).panes()
        busy = sum(pane.state == "decoding" for pane in panes)
        self.query_one(StatusBar).refresh_figures(
            self._messages_this_second, self._tokens_this_second, busy, len(panes)
        )
        self._messages_this_second = self._tokens_this_second = 0

    # -- commands and keys ---------------------------------------------------------------------

    async def _command(self, text: str) -> None:
        try:
            command = parse(text)
        except CommandError as error:
            self.notify(str(error), title="Command", severity="error")
            return
        if command.name == "/help":
            self.action_help()
        elif command.name == "/quit":
            await self.action_quit()
        elif command.name == "/clear":
            await self.query_one(ConversationView).clear()
            self.query_one(PlanView).reset()
            self.history.clear()
        elif command.name == "/save":
            self.action_save(command.argument)
        else:
            self._media_command(command.name, command.argument)

    def _media_command(self, name: str, argument: str) -> None:
        needed = {"/image": "vision", "/audio": "speech", "/speak": "speech"}[name]
        if needed not in self.region_kinds:
            self.notify(
                f"{name} needs a {needed} region, and none runs in this configuration",
                title="Command",
                severity="error",
            )
            return
        if name == "/speak":
            self.speak = argument == "on"
            self.notify(f"answers are {'spoken to WAV files' if self.speak else 'not spoken'}")
            return
        self.attachments[name[1:]] = argument
        self.notify(f"{Path(argument).name} goes with your next question", title=name)

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_toggle_regions(self) -> None:
        self.query_one("#right").toggle_class("hidden")

    def action_save(self, path: str = "") -> None:
        target = Path(path).expanduser() if path else self._default_transcript_path()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(self.query_one(ConversationView).markdown(), encoding="utf-8")
        except OSError as error:
            self.notify(f"cannot write {target}: {error.strerror}", title="Save", severity="error")
            return
        self.notify(f"saved the transcript to {target}", title="Save")

    def _default_transcript_path(self) -> Path:
        if self.brain is not None:
            return self.brain.session.path.with_suffix(".md")
        return data_dir() / "sessions" / f"transcript-{time.strftime('%Y%m%d-%H%M%S')}.md"

    # -- sessions ----------------------------------------------------------------------------

    async def _on_session_picked(self, path: Path | None) -> None:
        if path is None:
            return
        self.session_path = path
        if self.brain is not None:
            self.brain.session = SessionLog(path)
        await self._load_history(path)

    async def _load_history(self, path: Path) -> None:
        conversation = self.query_one(ConversationView)
        for record in SessionLog(path).records():
            question, answer = str(record.get("question", "")), str(record.get("answer", ""))
            await conversation.add_question(question)
            await (await conversation.start_answer()).finish(answer)
            conversation.record_answer(answer)
            self.history.append((question, answer))
        first, turns = session_summary(path)
        self.notify(f"continuing {path.name}: {turns} turns", title="Session")
