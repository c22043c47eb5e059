"""The question box: one line to type in, and every line of a paste kept.

Textual's `Input` keeps only the first line of a paste; a question that followed a pasted
list would be lost. `QuestionInput` joins a paste's lines with spaces instead.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input


def joined_lines(text: str) -> str:
    """A paste's non-blank lines, stripped and joined by single spaces (any line ending)."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


class QuestionInput(Input):
    """An `Input` that takes a multi-line paste whole, its lines joined."""

    def _on_paste(self, event: events.Paste) -> None:
        event.prevent_default()  # Input's own handler would keep the first line only
        event.stop()
        text = joined_lines(event.text)
        if not text:
            return
        if self.selection.is_empty:
            self.insert_text_at_cursor(text)
        else:
            self.replace(text, *self.selection)
