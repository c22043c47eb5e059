"""The chat's commands and keys (/image, /audio, /speak, /save, /clear; F1, F2, Ctrl+S) and
the past sessions it continues.

`UserActions` is part of `tui.app.CortexApp`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from cortex.turns.sessions import SessionLog, data_dir
from tui.commands import CommandError, parse
from tui.conversation import ConversationView
from tui.part import AppPart
from tui.plan import PlanView
from tui.prompt import QuestionInput
from tui.screens import HelpScreen, session_summary


class UserActions(AppPart):
    """The app's commands, keys and sessions: a part of `CortexApp`, whose state it shares."""

    brain: Any
    history: list[tuple[str, str]]
    region_kinds: set[str]
    attachments: dict[str, str]
    speak: bool
    session_path: Path | None

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
            await self.main.query_one(ConversationView).clear()
            self.main.query_one(PlanView).reset()
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
        self._show_attachments()
        self.notify(f"{Path(argument).name} goes with your next question", title=name)

    def _show_attachments(self) -> None:
        """Names the files attached to the next question on the question box's border."""
        names = ", ".join(Path(path).name for path in self.attachments.values())
        self.main.query_one(QuestionInput).border_title = f"with {names}" if names else None

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_toggle_regions(self) -> None:
        self.main.query_one("#right").toggle_class("hidden")

    def action_save(self, path: str = "") -> None:
        target = Path(path).expanduser() if path else self._default_transcript_path()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(self.main.query_one(ConversationView).markdown(), encoding="utf-8")
        except OSError as error:
            self.notify(f"cannot write {target}: {error.strerror}", title="Save", severity="error")
            return
        self.notify(f"saved the transcript to {target}", title="Save")

    def _default_transcript_path(self) -> Path:
        if self.brain is not None:
            return self.brain.session.path.with_suffix(".md")
        return data_dir() / "sessions" / f"transcript-{time.strftime('%Y%m%d-%H%M%S')}.md"

    async def _on_session_picked(self, path: Path | None) -> None:
        if path is None:
            return
        self.session_path = path
        if self.brain is not None:
            self.brain.session = SessionLog(path)
        await self._load_history(path)

    async def _load_history(self, path: Path) -> None:
        conversation = self.main.query_one(ConversationView)
        for record in SessionLog(path).records():
            question, answer = str(record.get("question", "")), str(record.get("answer", ""))
            attached = " ".join(f"with {name}" for name in record.get("attached", []))
            await conversation.add_question(question, attached=attached)
            await (await conversation.start_answer()).finish(answer)
            conversation.record_answer(answer)
            self.history.append((question, answer))
        first, turns = session_summary(path)
        self.notify(f"continuing {path.name}: {turns} turns", title="Session")
