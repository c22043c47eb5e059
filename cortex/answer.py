"""A turn's answer: the delegates' parts, streamed in plan order as they decode.

Nothing rewrites the parts (as Skeleton-of-Thought streams its points): the part at the head
of the plan streams live; a later part that decodes meanwhile is held, and appears whole the
moment every part before it is done, then goes on live. Parts are separated by a blank line;
a part whose delegate failed is named in its place as missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

SEPARATOR = "\n\n"


@dataclass
class _Part:
    instruction: str
    text: list[str] = field(default_factory=list)
    done: bool = False


class Answer:
    """Assembles parts into one stream of text.

    Args:
        emit: Called with each piece of answer text, in answer order, as it becomes shown.
    """

    def __init__(self, emit: Callable[[str], None]) -> None:
        self._emit = emit
        self._parts: dict[str, _Part] = {}
        self._order: list[str] = []
        self._head = 0
        """Index in `_order` of the part streaming live."""
        self._shown: list[str] = []

    def add_part(self, step_id: str, instruction: str) -> None:
        """Declares a part, in plan order."""
        self._parts[step_id] = _Part(instruction)
        self._order.append(step_id)

    def has_part(self, step_id: str) -> bool:
        return step_id in self._parts

    @property
    def has_parts(self) -> bool:
        return bool(self._parts)

    def text_of(self, step_id: str, text: str) -> None:
        """Adds decoded text to a part; shown at once if the part is at the head."""
        part = self._parts[step_id]
        if not "".join(part.text).strip():
            text = text.lstrip()  # a part opens on its first word, after the separator
        part.text.append(text)
        if self._order[self._head] == step_id:
            self._show(text)

    def finish(self, step_id: str, error: str | None = None) -> None:
        """Ends a part (with the reason it failed, if it did); moves the head on."""
        part = self._parts[step_id]
        if error is not None:
            label = part.instruction.rstrip(".?!")
            part.text = [f"(The part “{label}” is missing: {error}.)"]
            if self._order[self._head] == step_id:
                self._show(part.text[0])
        part.done = True
        self._advance()

    @property
    def done(self) -> bool:
        return bool(self._order) and all(part.done for part in self._parts.values())

    @property
    def text(self) -> str:
        """The whole answer shown so far."""
        return "".join(self._shown)

    def _advance(self) -> None:
        while self._head < len(self._order) and self._parts[self._order[self._head]].done:
            self._head += 1
            if self._head == len(self._order):
                return
            head = self._parts[self._order[self._head]]
            self._show(SEPARATOR)
            self._show("".join(head.text))

    def _show(self, text: str) -> None:
        if not text:
            return
        if not self._shown:
            text = text.lstrip()
        self._shown.append(text)
        self._emit(text)
