"""A turn's answer: the delegates' parts, streamed in plan order as they decode.

Nothing rewrites the parts (as Skeleton-of-Thought streams its points): the part at the head
of the plan streams live; a later part that decodes meanwhile is held, and appears whole the
moment every part before it is done, then goes on live. Parts are separated by a blank line;
a part whose delegate failed is named in its place as missing. What the client asked of the
answer as a whole holds over all its parts: a token cap (``max_tokens``) and stop strings
end it early (`ended` says why); with tools, each part is read as a tool choice, then words
or a call's arguments (`modules.tools`), and the calls are collected. `AnswerPublisher` puts
the answer's text on the bus as the stream ``<turn>/answer``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bus.protocol import Decoding, Token
from bus.streams import StreamId
from bus.tokenbus import Delivery, TokenBus
from bus.topics import turn_out
from modules.engines import Piece, StopMatcher
from modules.tools import ToolCallReader

SEPARATOR = "\n\n"
SENTENCE_ENDS = ".!?\n"
SENTENCE = re.compile(rf"[^{re.escape(SENTENCE_ENDS)}]+[{re.escape(SENTENCE_ENDS)}]?")
ANSWER_ID = "answer"
"""The step of the answer's own stream, ``<turn>/answer``."""
MIN_SENTENCE_WORDS = 4
"""Shorter sentences ("Yes.", "1. Towel") may well repeat in a right answer."""


def sentences(text: str, complete: bool = False) -> list[str]:
    """The sentences and lines of `text` of `MIN_SENTENCE_WORDS` words or more, lowercased,
    with white space collapsed; with `complete`, only those already ended."""
    found = []
    for match in SENTENCE.finditer(text):
        words = match.group().rstrip(SENTENCE_ENDS).lower().split()
        ended = match.group()[-1] in SENTENCE_ENDS
        if len(words) >= MIN_SENTENCE_WORDS and (ended or not complete):
            found.append(" ".join(words))
    return found


@dataclass
class _Part:
    instruction: str
    heading: str = ""
    text: list[str] = field(default_factory=list)
    done: bool = False
    opened: bool = False
    """Whether its opening has been shown."""
    reader: ToolCallReader | None = None
    """With tools: splits the part's stream into words and a call."""

    @property
    def opening(self) -> str:
        """What the part shows before its delegate's text: its heading, if it has one."""
        return f"**{self.heading}**\n" if self.heading else ""

    @property
    def started(self) -> bool:
        """Whether the delegate's text has more than white space."""
        return bool("".join(self.text).strip())


class Answer:
    """Assembles parts into one stream of text.

    Args:
        emit: Called with each piece of answer text, in answer order, as it becomes shown.
        options: What the client asked: ``max_tokens`` and ``stop`` hold over the whole
            answer; ``tools`` make each part a possible call.
    """

    def __init__(self, emit: Callable[[str], None], options: Decoding | None = None) -> None:
        self._emit = emit
        self.options = options = options or Decoding()
        self.ended: str | None = None
        """``length`` or ``stop`` once the client's cap or a stop string ended the answer."""
        self._left = options.max_tokens
        self._stops = StopMatcher(options.stop)
        self._parts: dict[str, _Part] = {}
        self._order: list[str] = []
        self._head = 0
        """Index in `_order` of the part streaming live."""
        self._shown: list[str] = []

    def add_part(self, step_id: str, instruction: str, heading: str = "") -> None:
        """Declares a part, in plan order; a part with a heading (a point of a skeleton
        answer) shows it above its text."""
        part = _Part(instruction, heading)
        if self.options.tools and self.options.tool_choice != "none":
            part.reader = ToolCallReader()
        self._parts[step_id] = part
        self._order.append(step_id)

    def has_part(self, step_id: str) -> bool:
        return step_id in self._parts

    @property
    def has_parts(self) -> bool:
        return bool(self._parts)

    def text_of(self, step_id: str, text: str) -> None:
        """Adds a decoded token's text to a part; shown at once if the part is at the head."""
        part = self._parts[step_id]
        if part.reader is not None:
            text = part.reader.feed(text)
        if not part.started:
            text = text.lstrip()  # a part opens on its first word, after the separator
        if not text:
            return
        part.text.append(text)
        if self._order[self._head] == step_id:
            self._open(part)
            self._show(text, counted=True)

    def finish(self, step_id: str, error: str | None = None) -> None:
        """Ends a part (with the reason it failed, if it did); moves the head on."""
        part = self._parts[step_id]
        if error is not None:
            label = (part.heading or part.instruction).rstrip(".?!")
            part.text = [f"(The part “{label}” is missing: {error}.)"]
            if self._order[self._head] == step_id:
                self._open(part)
                self._show(part.text[0])
        part.done = True
        self._advance()

    def echo(self, step_id: str) -> str | None:
        """A finished sentence of a part not shown yet that a part before it already says."""
        index = self._order.index(step_id)
        if index <= self._head:
            return None
        earlier = {
            sentence
            for before in self._order[:index]
            for sentence in sentences("".join(self._parts[before].text), complete=True)
        }
        own = sentences("".join(self._parts[step_id].text), complete=True)
        return next((sentence for sentence in own if sentence in earlier), None)

    def restart(self, step_id: str) -> str:
        """Drops a part not shown yet, to be decoded again; returns what the parts before
        it say so far (for it not to repeat)."""
        index = self._order.index(step_id)
        assert index > self._head, "a part already shown is never rewritten"
        part = self._parts[step_id]
        part.text, part.done = [], False
        return SEPARATOR.join("".join(self._parts[b].text) for b in self._order[:index])

    @property
    def held(self) -> list[str]:
        """The parts not shown yet, in plan order."""
        return self._order[self._head + 1 :]

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
            if head.text:
                self._open(head)
            for text in head.text:
                self._show(text, counted=True)

    def _open(self, part: _Part) -> None:
        """Shows the separator and the heading before a part's first text."""
        if part.opened:
            return
        part.opened = True
        if self._shown:
            self._show(SEPARATOR)
        self._show(part.opening)

    @property
    def calls(self) -> list[tuple[str, str]]:
        """The parts' tool calls so far, in plan order: (name, arguments as JSON text)."""
        readers = [self._parts[step].reader for step in self._order]
        return [(r.call, r.arguments) for r in readers if r is not None and r.call is not None]

    def close(self) -> None:
        """Shows what stop matching still holds, once the answer is over."""
        for piece in [] if self._stops.stopped else self._stops.flush():
            self._out(piece.text)

    def _show(self, text: str, counted: bool = False) -> None:
        """Shows text, unless the answer has ended; a `counted` token spends the cap."""
        if not text or self.ended:
            return
        if counted and self._left is not None:
            if self._left == 0:
                self.ended = "length"
                return
            self._left -= 1
        for piece in self._stops.feed(Piece(0, text)):
            self._out(piece.text)
        if self._stops.stopped:
            self.ended = "stop"

    def _out(self, text: str) -> None:
        if not self._shown:
            text = text.lstrip()
        if text:
            self._shown.append(text)
            self._emit(text)


class AnswerPublisher:
    """Publishes the answer's text on ``turn.<id>.out``, and shows each piece to `notify` at
    once (the turn's own subscription may end before the bus brings it back).

    Args:
        bus: The turn's bus.
        turn_id: The turn.
        notify: Called with each piece as a `Delivery`.
    """

    def __init__(self, bus: TokenBus, turn_id: str, notify: Callable[[Delivery], None]) -> None:
        self.bus = bus
        self.turn_id = turn_id
        self.notify = notify
        self.started = time.time()
        self.first_token_s: float | None = None
        """Seconds from `started` to the answer's first text."""
        self._seq = 0

    def __call__(self, text: str, final: bool = False) -> None:
        if self.first_token_s is None and text:
            self.first_token_s = round(time.time() - self.started, 3)
        topic = turn_out(self.turn_id)
        token = Token(
            stream_id=str(StreamId(self.turn_id, ANSWER_ID)),
            seq=self._seq,
            token_id=Token.END_MARKER_ID if final else 0,
            text=text,
            final=final,
        )
        self.bus.publish(topic, token)
        self.notify(Delivery(topic.name, token, time.time(), b""))
        self._seq += 1
