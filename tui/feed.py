"""What the chat screen makes of the bus: the plan, each region's pane, the answer's tokens.

`BusFeed` is part of `tui.app.CortexApp`: every bus message the app's pump posts arrives
here as a `BusDelivery`, and once a second the status bar shows how many came.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bus.protocol import Event, Proposal, Subtask, SubtaskResult, Token, UserTurn
from bus.streams import StreamId
from bus.topics import as_topic
from cortex.turns.turn import HEAR_ID
from tui.conversation import ConversationView
from tui.messages import BusDelivery
from tui.part import AppPart
from tui.plan import PlanView
from tui.regions import RegionPanes
from tui.status import StatusBar

if TYPE_CHECKING:
    from tui.app import Asked
    from tui.conversation import AnswerMessage


class BusFeed(AppPart):
    """The app's handling of bus messages: a part of `CortexApp`, whose state it shares."""

    current_turn: str
    answer: AnswerMessage | None
    asking: Asked | None
    _handled: int
    _messages_this_second: int
    _tokens_this_second: int

    async def on_bus_delivery(self, message: BusDelivery) -> None:
        delivery = message.delivery
        self._handled += 1
        self._messages_this_second += 1
        topic, payload = as_topic(delivery.topic), delivery.message
        this_turn = topic.turn is not None and topic.turn == self.current_turn
        if topic.region is not None and topic.channel == "out":
            self._on_region_output(topic.region, payload)
        elif isinstance(payload, Proposal) and payload.token_ids and topic.region is not None:
            self.main.query_one(RegionPanes).pane(payload.draft).drafted(
                len(payload.token_ids), topic.region
            )
        elif isinstance(payload, UserTurn):
            self.current_turn = payload.turn_id
        elif this_turn and isinstance(payload, Subtask):
            self.main.query_one(PlanView).add_step(
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
        pane = self.main.query_one(RegionPanes).pane(name)
        plan = self.main.query_one(PlanView)
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
            if payload.turn_id == self.current_turn and payload.subtask_id == HEAR_ID:
                self._heard(payload)
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

    def _heard(self, result: SubtaskResult) -> None:
        """Shows a recording's transcript as (part of) the question, the moment it is heard."""
        transcript = str(result.data.get("text", "")).strip() if result.ok else ""
        if self.asking is not None and transcript:
            question = " ".join(part for part in (self.asking.text, transcript) if part)
            self.main.query_one(ConversationView).reword_question(self.asking.shown, question)

    def _tick(self) -> None:
        if not self.is_running:  # the app is closing and removing its widgets
            return
        panes = self.main.query_one(RegionPanes).panes()
        busy = sum(pane.state == "decoding" for pane in panes)
        self.main.query_one(StatusBar).refresh_figures(
            self._messages_this_second, self._tokens_this_second, busy, len(panes)
        )
        self._messages_this_second = self._tokens_this_second = 0
