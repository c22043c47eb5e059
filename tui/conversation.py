"""The conversation pane: the user's messages and the answers, streamed as Markdown."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets import Markdown, Static


class UserMessage(Static):
    """What the user asked."""


class AnswerMessage(Markdown):
    """An answer that grows token by token; Markdown is re-rendered as it grows."""

    def __init__(self) -> None:
        super().__init__("*thinking…*")
        self.text = ""

    async def add(self, text: str) -> None:
        self.text += text
        await self.update(self.text)

    async def finish(self, answer: str) -> None:
        """Shows the whole answer (a turn whose answer did not stream arrives this way)."""
        if answer.strip() and answer.strip() != self.text.strip():
            self.text = answer
            await self.update(answer)

    async def fail(self, error: str) -> None:
        self.add_class("failed")
        await self.update(f"**No answer:** {error}")


class ConversationView(VerticalScroll):
    """Questions and answers, oldest first; keeps the transcript for /save."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.transcript: list[tuple[str, str]] = []

    async def add_question(self, text: str, note: str = "") -> None:
        self.transcript.append(("user", text))
        await self.mount(
            UserMessage(f"[b]You[/b]  {text}" + (f"  [dim]{note}[/dim]" if note else ""))
        )
        self.scroll_end(animate=False)

    async def start_answer(self) -> AnswerMessage:
        answer = AnswerMessage()
        await self.mount(answer)
        self.scroll_end(animate=False)
        return answer

    def record_answer(self, text: str) -> None:
        self.transcript.append(("cortex", text))
        self.scroll_end(animate=False)

    async def clear(self) -> None:
        self.transcript.clear()
        await self.remove_children()

    def markdown(self) -> str:
        """The transcript as a Markdown document."""
        parts = ["# Cortex conversation\n"]
        for role, text in self.transcript:
            parts.append(f"**You:** {text}\n" if role == "user" else f"{text}\n")
        return "\n".join(parts)
