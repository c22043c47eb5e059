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

from modules.manager.languages import ENGLISH, Language
from modules.manager.words import (
    YES_NO,
    words_of,
)

MIN_POINTS = 3
MAX_POINTS = 5
POINT_CHARS = 60
"""The longest point heading: a few words, as Skeleton-of-Thought's skeletons are."""
POINT_PATTERN = rf'^[^0-9 \t\n.,;:!?*#\-\[\]{{}}()"\\][^\n\[\]{{}}"\\]{{1,{POINT_CHARS - 1}}}$'
"""A heading opens with a letter (not a number, a bullet or a bracket) and holds no JSON
brackets: words, whatever the model."""
OPEN_ENDED = (
    r"\b(?:explain|describe|discuss|outline|overview|essay|article|blog post|guide|"
    r"tell me about|tips|advice|advise|ideas|suggestions|recommend|recommendations|ways to|"
    r"strategies|benefits|advantages|disadvantages|pros and cons|arguments|reasons|factors|"
    r"causes|consequences|effects|impact|history of|compare|contrast|packing list|checklist|"
    r"how (?:do|does|did|can|should|would) (?:i|we|you|one|they|it|[a-z]+s?) "
    r"(?!\w+ (?:\d|a number))|what makes|what happens|what should i know|what do i need to "
    r"know|my rights|my options|relationship between|plan for|plan that|plan a|prepare for|"
    r"get started|beginner's guide|how to|best practices|things to consider|what to consider|"
    r"way to think about|explanation)\b"
)
"""Words of a request whose answer has several sides: an explanation, advice, an essay, a
list of recommendations, a comparison."""
OPEN_ENDED_ABROAD = (
    "explica", "explíca", "descri", "ventajas", "desventajas", "consejos", "háblame",
    "explique", "décris", "avantages", "inconvénients", "conseils", "parle-moi",
    "erklär", "beschreib", "vorteile", "nachteile", "vor- und nachteile", "tipps",
    "spiega", "descrivi", "vantaggi", "svantaggi", "consigli", "descreva",
    "vantagens", "desvantagens", "dicas", "leg uit", "uitleg", "beschrijf", "voordelen",
)  # fmt: skip
"""The same, in the other languages of `modules.manager.words.LANGUAGES`."""
FOCUSED = (
    r"\b(?:briefly|brief|in (?:one|a|two|three|a few) (?:sentence|sentences|word|words|line|"
    r"lines)|one sentence|one-liner|one liner|short answer|quick(?:ly)?|tl;?dr|summar(?:y|ise|"
    r"ize)|like i'?m (?:five|5)|eli5|translate|how do (?:you|u|i) (?:say|spell|pronounce)|"
    r"spell|traduce|traduis|übersetz|traduci|traduza|code|function|script|query|sql|regex|"
    r"python|javascript|bash|java|program|snippet|git|command|terminal|shell|convert|"
    r"calculate|compute|solve|derive|step by step|step-by-step|equation|formula|haiku|"
    r"limerick|poem|joke|riddle|slogan|tagline|title|name for|rules of|"
    r"recommend (?:me )?(?:a|an|one) )\b"
)
"""Words of a request that wants one focused answer whatever else it says: brevity, code,
a calculation, a translation, a short creative piece."""
DETAILED = (
    r"\b(?:in detail|in depth|in-depth|detailed|thorough|comprehensive|complete guide|essay|"
    r"all of it)\b"
)
"""Words of a request that asks for a long answer, about code or a choice too ("explain in
detail how python's garbage collection works")."""
BRIEF = r"\b(?:briefly|brief|one sentence|one-liner|short answer|quick(?:ly)?|tl;?dr|translate)\b"
"""Words that keep even a detailed request to one focused answer."""
CHOICE = r"\b(?:difference between|differences between|versus|vs\.?|better to)\b|\bor\b.*\?$"
"""Words of a question between two things: a focused answer, unless asked to explain."""
REQUEST_LEAD = re.compile(r"^(?:(?:can|could|would|will) you |please |i need |i want )+")
ARITHMETIC = re.compile(r"\d\s*[-+*/x×÷%^]\s*\d|\d+\s*%|\bper cent\b")


def wants_skeleton(request: str, language: Language = ENGLISH) -> bool:
    """Whether one request is best answered as a skeleton of points expanded at once."""
    text = " ".join(request.lower().split())
    words = words_of(text)
    if words and re.search(DETAILED, text) and not re.search(BRIEF, text):
        return True  # "a thorough explanation of how transistors work"
    if not words or re.search(FOCUSED, text) or ARITHMETIC.search(text):
        return False
    if language is not ENGLISH or any(cue in text for cue in OPEN_ENDED_ABROAD):
        return any(cue in text for cue in OPEN_ENDED_ABROAD)
    asked = words_of(REQUEST_LEAD.sub("", text))
    if not asked or asked[0] in YES_NO:
        return False
    explained = re.match(r"(?:explain|describe|discuss|compare)\b", " ".join(asked))
    if re.search(CHOICE, text) and not explained:
        return False
    return re.search(OPEN_ENDED, text) is not None


def skeleton_schema(points: int = MAX_POINTS) -> dict[str, Any]:
    """The JSON schema of a skeleton: 3 to `points` distinct, short headings."""
    return {
        "type": "object",
        "properties": {
            "points": {
                "type": "array",
                "items": {"type": "string", "pattern": POINT_PATTERN},
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
        text = re.sub(r"^(?:\d+[.)]\s*)+", "", " ".join(str(point).split())).strip(" -*.:")
        key = tuple(words_of(text))  # "1. Start slow" and "2. Start slow" are one point
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
        f'Write only point {index + 1}, "{points[index]}", in one or two sentences.'
    )
