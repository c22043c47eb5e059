"""How a language region shows an answer as it decodes: whole sentences past the wrap-up point.

An engine streams exactly what the model writes, to every caller (a plan's JSON included); how
much of it a reader sees, and where an answer may end early, is the language region's choice
(its `end_at_sentence` setting), so `AnswerShaper` lives beside that region, not in an engine.
"""

from __future__ import annotations

import math
import re

from modules.engines import FinishReason, Piece

WRAP_UP_SHARE = 1 / 2
"""Once this share of an answer's token budget is spent, the answer ends where it may end
(`may_end_here`); text past that point is shown as each sentence or line completes, so the
budget can only cut a sentence that began before it."""
SENTENCE_END = re.compile(r"(?:[^\d\s][.!?…]|[。！？؟])[\"'”’)\]*]*[ \t]*$")
LIST_ITEM = re.compile(r"\s*(?:(\d+)([.)])|([-*•+]))\s")
ANNOUNCES = re.compile(r"[:：]\s*$")
"""A line that ends with a colon announces what follows ("Here's how it works:"): an answer
never ends on it."""
MIN_LIST_ITEMS = 3
"""A list whose request names no number may end after this many items."""
TAIL_CHARS = 1024
"""How much of an answer's end is read to tell where it may end (its list items)."""


class AnswerShaper:
    """Says which decoded pieces of an answer to show now, and when the answer is done.

    Feed it every piece of the stream in order. Trailing white space is held until more text
    follows it. Past the wrap-up point (`WRAP_UP_SHARE` of the budget, times `share`) text is
    shown only as each sentence or line completes (a line that announces what follows, only
    with what follows), and the answer is `done` at the first point where it may end
    (`may_end_here`: a list only after `items` finished items). If the budget runs out
    first, `finish` drops the unfinished sentence or line. Where the model stopped before the
    answer may end (a list short of the items asked for, a line announcing what follows),
    `resumption` says how to go on.

    Args:
        max_new_tokens: The answer's token budget.
        share: Brings the wrap-up point forward for one part of a longer answer.
        items: The number of items the request asks a list to have; None: a list may end
            after `MIN_LIST_ITEMS`.
        wraps_up: False shows every piece as it comes (but trailing white space) and never
            ends the answer early.
        start: The answer's start, already written (a continued assistant message).
        keep_cut: Where the budget cuts a sentence, show it cut (a client's hard token cap)
            instead of dropping it.
    """

    def __init__(
        self,
        max_new_tokens: int,
        share: float = 1.0,
        items: int | None = None,
        wraps_up: bool = True,
        start: str = "",
        keep_cut: bool = False,
    ) -> None:
        self.wraps_up = wraps_up
        self.keep_cut = keep_cut
        self.wrap_up = max_new_tokens * WRAP_UP_SHARE * share if wraps_up else math.inf
        """Tokens after which the answer ends where it may."""
        self.asked = items
        self.items = items or MIN_LIST_ITEMS
        self.start = start
        self.done = False
        """Whether the answer ends here: stop decoding it."""
        self._count = 0
        self._tail = start
        self._punctuated = False  # whether the answer is written in sentences or lines at all
        self._worded = False  # whether it has shown more than white space
        self._held: list[Piece] = []  # trailing white space; past wrap-up, the open sentence

    def opening(self, token_ids: list[int]) -> list[Piece]:
        """The answer's start, shown first: a piece per token of it (`token_ids`: `start`
        tokenized), the text on the last."""
        return written(self.start, token_ids)

    def feed(self, piece: Piece) -> list[Piece]:
        """Takes the next decoded piece; returns the pieces to show now, in order."""
        self._count += 1
        self._tail = (self._tail + piece.text)[-TAIL_CHARS:]
        self._held.append(piece)
        self._worded = self._worded or not piece.text.isspace()
        body = _without_trailing_space(self._held) if self._worded else list(self._held)
        line_ended = "\n" in "".join(p.text for p in self._held[len(body) :])
        sentence_ended = ends_a_sentence(self._tail)
        self._punctuated = self._punctuated or sentence_ended or (line_ended and self._worded)
        shown: list[Piece] = []
        past_wrap_up = self._count >= self.wrap_up
        complete = (line_ended or sentence_ended) and not ANNOUNCES.search(_text(body))
        if body and (not past_wrap_up or complete or not self._worded):
            shown = body
            del self._held[: len(body)]
        if past_wrap_up and may_end_here(self._tail, self.items):
            self.done = True
        return shown

    def finish(self, reason: FinishReason | None) -> list[Piece]:
        """The held pieces to show once the stream ended before `done`: all but trailing white
        space, unless the budget ran out inside a sentence or line begun past wrap-up; a line
        that announces what follows is dropped with nothing after it."""
        if reason == "length" and self._punctuated and self.wraps_up and not self.keep_cut:
            return []
        return _without_announcement(_without_trailing_space(self._held))

    def resumption(self) -> str:
        """Text to go on from where the model stopped, when the answer may not end there: the
        next item's number (or bullet) of a list short of the items asked for, a line break
        after a line announcing what follows; "" where the answer may end."""
        lines = [line for line in self._tail.split("\n") if line.strip()]
        if not lines or not self.wraps_up:
            return ""
        line_break = "" if self._tail.rstrip(" \t").endswith("\n") else "\n"
        item = LIST_ITEM.match(lines[-1])
        if item is not None and self.asked is not None and self.listed() < self.asked:
            number, closer, bullet = item.groups()
            return line_break + (f"{int(number) + 1}{closer}" if number else bullet)
        return "\n" if ANNOUNCES.search(lines[-1]) else ""

    def listed(self, last_finished: bool = True) -> int:
        """How many list items the answer's end holds; the last line counts only when
        `last_finished` (a budget that ran out cut it, and it is not shown)."""
        lines = self._tail.split("\n")
        if not last_finished and not self._tail.endswith("\n"):
            lines = lines[:-1]
        return sum(bool(LIST_ITEM.match(line)) for line in lines)

    def shortfall(self, reason: FinishReason | None, budget: int) -> list[str]:
        """A note when a list has fewer items than the request asked for, saying why."""
        listed = self.listed(last_finished=reason != "length")
        if self.asked is None or listed == 0 or listed >= self.asked:
            return []
        why = f"its token budget ({budget}) ran out" if reason == "length" else "the model stopped"
        return [f"listed {listed} of the {self.asked} items asked for: {why}"]


def written(text: str, token_ids: list[int]) -> list[Piece]:
    """Text Cortex writes into an answer, as pieces: one per token of it (`token_ids`: the
    text tokenized), the text on the last."""
    *before, last = token_ids
    return [*(Piece(token, "") for token in before), Piece(last, text)]


def ends_a_sentence(text: str) -> bool:
    """Whether `text`, but for white space after it, ends with a full sentence."""
    return bool(SENTENCE_END.search(text.rstrip().rsplit("\n", 1)[-1]))


def may_end_here(text: str, items: int = MIN_LIST_ITEMS) -> bool:
    """Whether an answer that ends with `text` may stop here: after a sentence of prose, after
    a paragraph or stanza (a blank line), or inside a list after a finished item once it
    has `items` of them; never after a line that announces what follows (`ANNOUNCES`)."""
    lines = [line for line in text.split("\n") if line.strip()]
    if not lines or ANNOUNCES.search(lines[-1]):
        return False
    if LIST_ITEM.match(lines[-1]):
        listed = sum(bool(LIST_ITEM.match(line)) for line in lines)
        return text.endswith("\n") and listed >= items
    return text.rstrip(" \t").endswith("\n\n") or (
        not text.endswith("\n") and bool(SENTENCE_END.search(lines[-1]))
    )


def _text(pieces: list[Piece]) -> str:
    return "".join(piece.text for piece in pieces)


def _without_announcement(pieces: list[Piece]) -> list[Piece]:
    """The pieces without a last line that announces what follows (nothing follows it)."""
    text = _text(pieces).rstrip()
    if not ANNOUNCES.search(text):
        return pieces
    line_start, length, kept = text.rfind("\n") + 1, 0, []
    for piece in pieces:
        length += len(piece.text)
        if length > line_start:
            break
        kept.append(piece)
    return _without_trailing_space(kept)


def _without_trailing_space(pieces: list[Piece]) -> list[Piece]:
    """The pieces but those at the end whose text is only white space."""
    end = len(pieces)
    while end and pieces[end - 1].text.isspace():
        end -= 1
    return pieces[:end]
