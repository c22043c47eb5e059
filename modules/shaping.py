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
LIST_ITEM = re.compile(r"\s*(?:\d+[.)]|[-*•+])\s")
MIN_LIST_ITEMS = 3
"""A list whose request names no number may end after this many items."""
TAIL_CHARS = 1024
"""How much of an answer's end is read to tell where it may end (its list items)."""


class AnswerShaper:
    """Says which decoded pieces of an answer to show now, and when the answer is done.

    Feed it every piece of the stream in order. Trailing white space is held until more text
    follows it. Past the wrap-up point (`WRAP_UP_SHARE` of the budget, times `share`) text is
    shown only as each sentence or line completes, and the answer is `done` at the first
    point where it may end (`may_end_here`: a list only after `items` finished items). If the
    budget runs out first, `finish` drops the unfinished sentence or line.

    Args:
        max_new_tokens: The answer's token budget.
        share: Brings the wrap-up point forward for one part of a longer answer.
        items: Finished items a list needs before it may end.
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
        items: int = MIN_LIST_ITEMS,
        wraps_up: bool = True,
        start: str = "",
        keep_cut: bool = False,
    ) -> None:
        self.wraps_up = wraps_up
        self.keep_cut = keep_cut
        self.wrap_up = max_new_tokens * WRAP_UP_SHARE * share if wraps_up else math.inf
        """Tokens after which the answer ends where it may."""
        self.items = items
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
        *opening, last = token_ids
        return [*(Piece(token, "") for token in opening), Piece(last, self.start)]

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
        if body and (not past_wrap_up or line_ended or sentence_ended or not self._worded):
            shown = body
            del self._held[: len(body)]
        if past_wrap_up and may_end_here(self._tail, self.items):
            self.done = True
        return shown

    def finish(self, reason: FinishReason | None) -> list[Piece]:
        """The held pieces to show once the stream ended before `done`: all but trailing white
        space, unless the budget ran out inside a sentence or line begun past wrap-up."""
        if reason == "length" and self._punctuated and self.wraps_up and not self.keep_cut:
            return []
        return _without_trailing_space(self._held)


def ends_a_sentence(text: str) -> bool:
    """Whether `text`, but for white space after it, ends with a full sentence."""
    return bool(SENTENCE_END.search(text.rstrip().rsplit("\n", 1)[-1]))


def may_end_here(text: str, items: int = MIN_LIST_ITEMS) -> bool:
    """Whether an answer that ends with `text` may stop here: after a sentence of prose, after
    a paragraph or stanza (a blank line), or inside a list after a finished item once it
    has `items` of them."""
    lines = [line for line in text.split("\n") if line.strip()]
    if not lines:
        return False
    if LIST_ITEM.match(lines[-1]):
        listed = sum(bool(LIST_ITEM.match(line)) for line in lines)
        return text.endswith("\n") and listed >= items
    return text.rstrip(" \t").endswith("\n\n") or (
        not text.endswith("\n") and bool(SENTENCE_END.search(lines[-1]))
    )


def _without_trailing_space(pieces: list[Piece]) -> list[Piece]:
    """The pieces but those at the end whose text is only white space."""
    end = len(pieces)
    while end and pieces[end - 1].text.isspace():
        end -= 1
    return pieces[:end]
