"""Skeleton answers: a single open-ended request answered as points expanded at once.

Skeleton-of-Thought (Ning et al., 2024, arXiv:2307.15337): the planner writes a skeleton
of 3-5 short point headings, and each point is expanded by its own delegate at the same
time; the answer is the headed points in order. `wants_skeleton` is the router: open-ended
explanations, advice, essays and descriptions get a skeleton; short factual questions,
arithmetic, code, step-by-step reasoning, translations, short creative pieces and requests
to be brief go to one delegate whole. `skeleton_schema` bounds what the planner may write,
so that its output always parses, whatever the model; `expansion` is a point's
instruction.
"""

from __future__ import annotations

import re
from typing import Any

from modules.manager.words import ENGLISH, Language, vocabulary, words_of

MIN_POINTS = 3
MAX_POINTS = 5
POINT_CHARS = 60
"""The longest point heading: a few words, as Skeleton-of-Thought's skeletons are."""
OPEN_ENDED = (
    r"\b(?:explain|describe|discuss|outline|overview|essay|article|blog post|guide|"
    r"tell me about|tips|advice|advise|ways to|strategies|benefits|advantages|"
    r"disadvantages|pros and cons|causes|consequences|effects|impact|history of|"
    r"how (?:do|does|did|can|should|would) (?:i|we|you|one|they|it|[a-z]+s?) "
    r"(?!\w+ (?:\d|a number))|what makes|what happens|relationship between|plan for|"
    r"plan that|prepare for|get started|beginner's guide|how to)\b"
)
"""Words of a request whose answer has several sides: an explanation, advice, an essay."""
OPEN_ENDED_ABROAD = (
    "explica", "explíca", "descri", "ventajas", "desventajas", "consejos", "háblame",
    "explique", "décris", "avantages", "inconvénients", "conseils", "parle-moi",
    "erklär", "beschreib", "vorteile", "nachteile", "vor- und nachteile", "tipps",
    "spiega", "descrivi", "vantaggi", "svantaggi", "consigli", "explica", "descreva",
    "vantagens", "desvantagens", "dicas", "leg uit", "beschrijf", "voordelen",
)  # fmt: skip
"""The same, in the other languages of `modules.manager.words.LANGUAGES`."""
DIRECT = (
    r"\b(?:briefly|brief|in (?:one|a|two|three|a few) (?:sentence|sentences|word|words|line|"
    r"lines)|one sentence|one-liner|one liner|short answer|quick(?:ly)?|tl;?dr|summar(?:y|ise|"
    r"ize)|translate|how do (?:you|i) say|traduce|traduis|übersetz|traduci|traduza|code|"
    r"function|script|query|sql|regex|python|javascript|bash|java|program|snippet|git|"
    r"command|terminal|shell|convert|calculate|compute|solve|derive|"
    r"step by step|step-by-step|equation|formula|haiku|limerick|poem|joke|riddle|slogan|"
    r"tagline|title|name for|difference between|differences between|versus|vs\.?|better to|"
    r"or\b.*\?$)"
)
"""Words of a request that wants one focused answer: brevity, code, a calculation, a
translation, a short creative piece, a choice between two things."""
REQUEST_LEAD = re.compile(r"^(?:(?:can|could|would|will) you |please |i need |i want )+")
ARITHMETIC = re.compile(r"\d\s*[-+*/x×÷%^]\s*\d|\d+\s*%|\bper cent\b")
DEGREES = vocabulary("many much old long far tall big often")
YES_NO = vocabulary("is are was were do does did can could should would will am has have")


def wants_skeleton(request: str, language: Language = ENGLISH) -> bool:
    """Whether one request is best answered as a skeleton of points expanded at once."""
    text = " ".join(request.lower().split())
    words = words_of(text)
    if not words or re.search(DIRECT, text) or ARITHMETIC.search(text):
        return False
    if language is not ENGLISH:
        return any(cue in text for cue in OPEN_ENDED_ABROAD)
    asked = words_of(REQUEST_LEAD.sub("", text))
    if not asked or asked[0] in YES_NO or _short_factual(asked):
        return False
    return re.search(OPEN_ENDED, text) is not None


def _short_factual(words: list[str]) -> bool:
    """A question after one fact: who, when, where, which, how many/much/old/long/far, or
    "what is X" of a few words."""
    if words[0] in ("who", "when", "where", "which", "whose", "whom"):
        return True
    if words[0] == "how" and words[1:2] and words[1] in DEGREES:
        return True
    return words[0] == "what" and len(words) <= 6 and words[1:2] in (["is"], ["are"], ["was"])


def skeleton_schema(points: int = MAX_POINTS) -> dict[str, Any]:
    """The JSON schema of a skeleton: 3 to `points` distinct, short headings."""
    return {
        "type": "object",
        "properties": {
            "points": {
                "type": "array",
                "items": {"type": "string", "minLength": 2, "maxLength": POINT_CHARS},
                "minItems": MIN_POINTS,
                "maxItems": max(MIN_POINTS, points),
            }
        },
        "required": ["points"],
        "additionalProperties": False,
    }


def skeleton_prompt(request: str) -> list[dict[str, str]]:
    """The chat the planner writes a skeleton for."""
    return [
        {
            "role": "system",
            "content": (
                "You organise answers. Write the skeleton of an answer to the user's request: "
                f"{MIN_POINTS} to {MAX_POINTS} short points, each a few words, distinct, in the "
                "order the answer should take. Answer in JSON."
            ),
        },
        {"role": "user", "content": request},
    ]


def points_of(data: dict[str, Any]) -> list[str]:
    """The distinct, non-empty points of a skeleton the planner wrote, in order."""
    seen: set[tuple[str, ...]] = set()
    points = []
    for point in data.get("points", []):
        text = " ".join(str(point).split()).strip(" -*.:")
        key = tuple(words_of(text))
        if key and key not in seen:
            seen.add(key)
            points.append(text)
    return points


def expansion(request: str, points: list[str], index: int) -> str:
    """The instruction of point `index`: the request, the whole skeleton, and which point
    is this delegate's (Skeleton-of-Thought's point-expanding prompt)."""
    listed = "\n".join(f"{i}. {point}" for i, point in enumerate(points, start=1))
    return (
        f"{request}\n\nThe answer has these points:\n{listed}\n\n"
        f"Write only point {index + 1}, \"{points[index]}\", in one or two sentences."
    )

