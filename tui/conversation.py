"""The conversation pane: the user's messages and the answers, streamed as Markdown."""

from __future__ import annotations

from rich.markup import escape
from textual.containers import VerticalScroll
from textual.widgets import Markdown, Static


class UserMessage(Static):
    """What the user asked, with a note in grey (what goes with it, when it runs)."""

    def __init__(self, text: str, note: str = "", attached: str = "", entry: int = 0) -> None:
        super().__init__()
        self.text, self.note, self.attached = text, note, attached
        self.entry = entry
        """Its place in the conversation's transcript."""
        self.show()

    def show(self, text: str | None = None, note: str | None = None) -> None:
        """Shows the question again, with `text` and `note` where given."""
        self.text = self.text if text is None else text
        self.note = self.note if note is None else note
        said = " ".join(part for part in (self.attached, self.note) if part)
        grey = f"  [dim]{escape(said)}[/dim]" if said else ""
        self.update(f"[b]You[/b]  {escape(self.text)}{grey}")


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

    async def add_question(self, text: str, note: str = "", attached: str = "") -> UserMessage:
        """Shows a question; `attached` names what goes with it (in the transcript too)."""
        message = UserMessage(text, note, attached, entry=len(self.transcript))
        self.transcript.append(("user", _said(text, attached)))
        await self.mount(message)
        self.scroll_end(animate=False)
        return message

    def reword_question(self, message: UserMessage, text: str) -> None:
        """Shows what a question turned out to be (a recording's transcript), on screen and
        in the transcript."""
        message.show(text)
        if message.entry < len(self.transcript):
            self.transcript[message.entry] = ("user", _said(text, message.attached))

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


def _said(text: str, attached: str) -> str:
    """A question as the transcript keeps it: its words, and what went with it."""
    return text + (f" _({attached})_" if attached else "")
