"""How a language region starts an answer for its model, and how many items a list needs.

A small model answers in English and to the point, and lists with short items, when its
answer is started for it ("What is the capital of Spain?" continues "The capital of Spain
is"); each rule is an opening (`Opening`) that the region's settings may leave out, so each
can be measured without the other (figures in docs/benchmarks.md).
"""

from __future__ import annotations

import re
from typing import Literal

Opening = Literal["one_thing", "list"]
"""A rule by which a language region starts an answer for its model (`answer_start`)."""
OPENINGS: tuple[Opening, ...] = ("one_thing", "list")
NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
ASKED_NUMBER = re.compile(
    rf"\b(\d{{1,2}}|{'|'.join(NUMBER_WORDS)})\s+(?!(?:minutes?|hours?|days?|years?|times)\b)"
    r"(?:[a-z]+\s+)?[a-z]+s\b",
    re.IGNORECASE,
)
"""A number of things asked for: "three tips", "4 Greek gods" (not "in 30 minutes")."""
ASKED_THING = re.compile(
    r"(?:what|who|which|where)(?:\s+(is|are|was|were)\s+|'s\s+)((?:the|a|an)\s+[^,;:\"?]+|[\w-]+)\?",
    re.IGNORECASE,
)
"""A question that asks what one thing is: "What is the capital of Spain?", "Who was the
first person on the moon?", "What's a mortgage?"."""
NOT_ONE_THING = re.compile(r"\b(?:and|or|not|I|me|my|we|us|our|you|your|it|its|this|that)\b", re.I)
"""Words that make the thing asked about two things, the user, or something said before."""
LIST_ASKED = re.compile(
    r"(?:give|write|make|list|create|prepare|draft|suggest|provide|share|compile|name)"
    r"(?:\s+(?:me|us))?(?:\s+(?:a|an|the))?\s+"
    r"((?:(?:\S+\s+){0,2}(?:list|checklist|to-do list|tips|ideas|steps|ways|reasons|suggestions)"
    rf"|(?:\d{{1,2}}|{'|'.join(NUMBER_WORDS[1:])})\s+(?:[a-z-]+\s+)?[a-z-]+s)\b"
    r"[^.!?]*)[.!]?",
    re.IGNORECASE,
)
"""An instruction to write one list ("Give me a packing list for a ski trip.", "Give three
tips for saving money.", "Name two rivers in Africa."); group 1 is the list, as its
heading."""


def items_asked_for(instruction: str) -> int | None:
    """How many items a list answering `instruction` needs: the number it names ("three
    tips", "5 ideas"), else None (a list may end after `MIN_LIST_ITEMS`)."""
    found = ASKED_NUMBER.search(instruction)
    if found is None:
        return None
    word = found.group(1).lower()
    return int(word) if word.isdigit() else NUMBER_WORDS.index(word) + 1


def answer_start(instruction: str, openings: tuple[Opening, ...] = OPENINGS) -> str:
    """How the answer begins, for two kinds of instruction (each an opening rule that
    `openings` may leave out); "" for anything else:
    - ``one_thing``, a question about one thing: the thing, and the verb ("What is the
      capital of Spain?" -> "The capital of Spain is");
    - ``list``, a request for one list: the list's heading in the request's words, and its
      first number ("Give me a packing list for a ski trip." -> "Packing list for a ski
      trip:\n1.").

    Started this way, a small model answers in English and to the point, and lists with
    short items (figures in docs/benchmarks.md).
    """
    text = " ".join(instruction.split())
    listed = LIST_ASKED.fullmatch(text) if "list" in openings else None
    if listed and not re.search(r",|\band\b", text):
        heading = listed.group(1)
        return f"{heading[:1].upper()}{heading[1:]}:\n1."
    asked = ASKED_THING.fullmatch(text) if "one_thing" in openings else None
    if asked is None or NOT_ONE_THING.search(asked.group(2)):
        return ""
    thing = asked.group(2)
    return f"{thing[:1].upper()}{thing[1:]} {(asked.group(1) or 'is').lower()}"
