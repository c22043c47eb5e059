"""The terminal conversation: watch every region think at once.

`CortexApp` talks to a `cortex.runtime.brain.Brain` (made by the factory it is given, in a worker
thread, so the screen appears at once) and subscribes to the whole bus. Every bus message
becomes a Textual message on the app's loop: the plan fills in as the planner writes it,
each region's pane streams its tokens, and the answer streams into the conversation.
Two parts of it live apart: what it makes of bus messages (`tui.feed`), and its commands,
keys and sessions (`tui.actions`).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Input

from cortex.errors import CortexError
from cortex.turns.sessions import SessionLog, past_sessions
from modules.errors import message_of
from tui.actions import UserActions
from tui.conversation import AnswerMessage, ConversationView, UserMessage
from tui.feed import BusFeed
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
from tui.screens import SessionPicker
from tui.status import StatusBar

_POLL_S = 0.2
WAITING = "(runs when the regions are ready)"
SCREEN_BACKLOG = 2000
"""Bus messages the screen may have queued; past that it passes over old tokens to catch up
(a turn's own subscription still gets every token: the screen only shows them)."""
_CATCH_UP_S = 0.05


@dataclass(frozen=True)
class Asked:
    """A question on its way: its text, the media with it, where its answer and it show."""

    text: str
    media: dict[str, str]
    answer: AnswerMessage
    shown: UserMessage


class CortexApp(UserActions, BusFeed, App[None]):
    """The `cortex chat` app.

    Args:
        brain_factory: Makes the (not yet started) brain; called in a worker thread.
        resume: True to pick a past session on start, or the path of one to continue.
        listed: Which command's sessions the picker lists (`past_sessions`); None: all.
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

    def __init__(
        self,
        brain_factory: Callable[[], Any],
        resume: bool | Path = False,
        listed: str | None = None,
    ) -> None:
        super().__init__()
        self.brain_factory = brain_factory
        self.brain: Any = None
        self.resume = resume
        self.listed = listed
        self.ready = False
        self.region_kinds: set[str] = set()
        self.history: list[tuple[str, str]] = []
        self.pending: deque[Asked] = deque()
        self.attachments: dict[str, str] = {}
        """Media for the next question: ``image`` and ``audio`` paths."""
        self.speak = False
        self.answer: AnswerMessage | None = None
        self.asking: Asked | None = None
        """The question whose turn runs now."""
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

    @property
    def main(self) -> Screen[None]:
        """The conversation's screen, under whatever screen is on top of it (help, the session
        picker): bus traffic and start-up keep updating it meanwhile."""
        return self.screen_stack[0]

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
        self.main.query_one(PlanView).border_title = "Plan"
        self.main.query_one(Input).focus()
        self.sub_title = "starting…"
        self.set_interval(1.0, self._tick)
        if self.session_path is not None:
            await self._load_history(self.session_path)
        elif self.resume:
            sessions = past_sessions(self.listed)
            self.push_screen(SessionPicker(sessions, self.listed), self._on_session_picked)
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
            self.post_message(BrainReady(brain.regions(), brain.dashboard_url, brain.ray_address))
        except Exception as error:  # noqa: BLE001 - shown to the user, who may quit
            said = str(error) if isinstance(error, CortexError) else message_of(error)
            self.post_message(BrainFailed(said))
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
        pane = self.main.query_one(RegionPanes).pane(event.region)
        pane.set_state(event.state if event.state != "ready" else "idle", event.device)

    async def on_brain_ready(self, message: BrainReady) -> None:
        self.ready = True
        self.region_kinds = {r["kind"] for r in message.regions}
        panes = self.main.query_one(RegionPanes)
        for region in message.regions:
            pane = panes.pane(region["name"])
            pane.set_state("idle", region["device"])
            pane.set_speeds(region["prefill_tokens_per_s"], region["decode_tokens_per_s"])
        self.main.query_one(StatusBar).show_dashboard(message.dashboard_url)
        self.main.query_one(StatusBar).show_cortex(message.ray_address)
        self.sub_title = f"{len(message.regions)} regions ready"
        self._tick()
        await self._next_turn()

    def on_brain_failed(self, message: BrainFailed) -> None:
        self.sub_title = "failed to start"
        for pane in self.main.query_one(RegionPanes).panes():
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
        self._show_attachments()
        attached = " ".join(f"with {Path(path).name}" for path in media.values())
        waits = "" if self.ready else WAITING
        conversation = self.main.query_one(ConversationView)
        shown = await conversation.add_question(text or "(the recording)", waits, attached)
        self.pending.append(Asked(text, media, await conversation.start_answer(), shown))
        await self._next_turn()

    async def _next_turn(self) -> None:
        if not self.ready or self.turn_running or not self.pending:
            return
        self.asking = self.pending.popleft()
        question, media, self.answer = self.asking.text, self.asking.media, self.asking.answer
        self.asking.shown.show(note="")  # it runs now
        self.turn_running = True
        self.main.query_one(PlanView).reset()
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
        if self.asking is not None and record.question != self.asking.shown.text:
            conversation = self.main.query_one(ConversationView)
            conversation.reword_question(self.asking.shown, record.question)
        if self.answer is not None:
            await self.answer.finish(record.answer)
        self.main.query_one(ConversationView).record_answer(record.answer)
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
        self.turn_running, self.answer, self.asking = False, None, None
        await self._next_turn()
