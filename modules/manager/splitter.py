"""The splitter seam: who finds the parts of a request — the rules, the planner's model, or
the rules first and the model where it is trusted.

- ``rules``: `modules.manager.parts.split`: structure and word rules, deterministic, free,
  in the user's words.
- ``model``: the planning region's model writes the parts under `split_schema` (guided
  decoding): each part an instruction that can be answered alone, the context they share,
  and which parts work on another's answer. The schema bounds every string, so the output
  always parses, whatever the model; what it says is as good as the model.
- ``auto``: the rules answer first (as autogen's selector function does); the model decides
  when it is trusted (``trust_model``), or when the rules find one part in a long request.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Iterator
from typing import Any, Literal

from modules.engines import Piece
from modules.manager.parts import Split, split
from modules.manager.words import words_of

SplitterName = Literal["rules", "model", "auto"]
SPLITTERS: tuple[str, ...] = ("rules", "model", "auto")
LONG_REQUEST_WORDS = 60
"""A request this long that the rules find one part in may still ask several things (a
pasted email and the questions about it): ``auto`` asks the model."""
PART_CHARS = 200
CONTEXT_ITEMS = 2
CONTEXT_CHARS = 200
SPLIT_PROMPT = (
    "Split the user's request into the parts a helper can answer alone, in the user's own "
    "words. Sentences that ask nothing (background, a pasted text) go to context, never to "
    'parts. A part that needs another part\'s answer ("then translate it") lists that '
    "part's number (from 0) in depends_on. A request that asks one thing is one part. "
    "Answer in JSON."
)
Decode = Callable[[list[dict[str, str]], dict[str, Any], int], Iterator[Piece]]
"""The planner's guided decoding: (chat, JSON schema, token budget) -> decoded pieces."""


def split_schema(max_parts: int) -> dict[str, Any]:
    """The JSON schema of a split the model writes: at most `max_parts` parts and
    `CONTEXT_ITEMS` context sentences, every string bounded."""
    text = {"type": "string", "minLength": 1, "maxLength": PART_CHARS}
    part = {
        "type": "object",
        "properties": {
            "instruction": text,
            "depends_on": {
                "type": "array",
                "items": {"type": "integer", "minimum": 0, "maximum": max_parts - 1},
                "maxItems": max_parts - 1,
            },
        },
        "required": ["instruction", "depends_on"],
        "additionalProperties": False,
    }
    context = {"type": "string", "minLength": 1, "maxLength": CONTEXT_CHARS}
    return {
        "type": "object",
        "properties": {
            "context": {"type": "array", "items": context, "maxItems": CONTEXT_ITEMS},
            "parts": {"type": "array", "items": part, "minItems": 1, "maxItems": max_parts},
        },
        "required": ["context", "parts"],
        "additionalProperties": False,
    }


def split_budget(max_parts: int) -> int:
    """Tokens that always hold a split under `split_schema` (a token is at least one
    character; 16 characters of JSON around each string)."""
    return max_parts * (PART_CHARS + 32) + CONTEXT_ITEMS * (CONTEXT_CHARS + 16) + 32


def split_from_json(text: str) -> Split:
    """The split the model wrote: parts in order, each depending only on parts before it.

    Raises:
        ValueError: The text is not a split (only if decoding was cut short).
    """
    data = json.loads(text)
    parts = [" ".join(str(p["instruction"]).split()) for p in data["parts"]]
    keep = [i for i, part in enumerate(parts) if part]
    if not keep:
        raise ValueError("the split has no part with words")
    renumber = {old: new for new, old in enumerate(keep)}
    depends = tuple(
        tuple(sorted({renumber[d] for d in _deps(data["parts"][i]) if d in renumber and d < i}))
        for i in keep
    )
    context = tuple(" ".join(str(c).split()) for c in data["context"] if str(c).strip())
    return Split(tuple(parts[i] for i in keep), context, depends)


def _deps(part: dict[str, Any]) -> list[int]:
    return [d for d in part.get("depends_on", []) if isinstance(d, int)]


class Splitter:
    """Finds a request's parts by the configured way (`SPLITTERS`).

    Args:
        name: ``rules``, ``model`` or ``auto``.
        decode: The planner's guided decoding, for ``model`` and ``auto``.
        max_parts: The most parts a plan may have.
        trust_model: Under ``auto``, let the model split every request.
    """

    def __init__(
        self, name: str, decode: Decode | None, max_parts: int = 8, trust_model: bool = False
    ) -> None:
        if name not in SPLITTERS:
            raise ValueError(f"unknown splitter {name!r}; choose one of {', '.join(SPLITTERS)}")
        if name != "rules" and decode is None:
            raise ValueError(f"the {name} splitter needs the planner's model")
        self.name = name
        self.decode = decode
        self.max_parts = max_parts
        self.trust_model = trust_model

    def split(self, request: str, shown: bool = False) -> Generator[Piece, None, Split]:
        """Yields the model's pieces as it decodes (none for the rules); returns the split.
        `shown`: the delegates also read what the request is about (a picture)."""
        rules = split(request, self.max_parts, shown=shown)
        if not self._asks_model(request, rules):
            return rules
        assert self.decode is not None
        chat = [{"role": "system", "content": SPLIT_PROMPT}, {"role": "user", "content": request}]
        schema, budget = split_schema(self.max_parts), split_budget(self.max_parts)
        text = []
        for piece in self.decode(chat, schema, budget):
            text.append(piece.text)
            yield piece
        try:
            return split_from_json("".join(text))
        except (ValueError, KeyError, TypeError):  # cut short by the context: the rules' split
            return rules

    def _asks_model(self, request: str, rules: Split) -> bool:
        if self.name == "rules":
            return False
        if self.name == "model" or self.trust_model:
            return True
        return len(rules.parts) == 1 and len(words_of(request)) >= LONG_REQUEST_WORDS
