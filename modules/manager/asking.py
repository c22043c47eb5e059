"""Whether a sentence asks or commands something, or only tells ("I'm planning a trip to
Lisbon." tells; "I need a packing list." and "I also need to know if ..." ask)."""

from __future__ import annotations

import re

from modules.manager.clauses import strip_joining
from modules.manager.languages import ENGLISH, Language
from modules.manager.words import (
    ASKED_AT_THE_END,
    AUXILIARIES,
    FOLLOWING,
    HAN_ASKING,
    HAN_QUESTION,
    HAN_REQUEST,
    HAN_THEN,
    KNOW_VERBS,
    NEED_ALONE,
    PREPOSITIONS,
    QUESTION_WORDS,
    REQUEST_NOUNS,
    REQUEST_OPENINGS,
    SUBJECT_PRONOUNS,
    VERBS,
    words_of,
)


def asks(sentence: str, language: Language = ENGLISH) -> bool:
    """Whether a sentence asks or commands something (a question, an instruction, a
    request), rather than telling something."""
    stripped = sentence.strip()
    if stripped.endswith(("?", "？", "؟")) or stripped.startswith("¿"):
        return True
    if any(w in stripped for w in HAN_ASKING) or stripped.startswith((*HAN_REQUEST, *HAN_THEN)):
        return True  # "例文を三つ作ってください。", "请举一个例子。", "帮我写...", "然后翻译成英文"
    if re.search(r"[\u3040-\u9fff]", stripped) and any(w in stripped for w in HAN_QUESTION):
        return True  # "怎么学好英语口语，", "另外信用卡逾期一天会影响征信吗"
    if stripped.endswith(("て、", "で、")):
        return True  # "...文章を書いて、" before "そのあと英語に訳してください"
    if language is ENGLISH and ASKED_AT_THE_END.search(stripped):
        return True  # "my starter smells like nail polish is that bad."
    words = words_of(strip_joining(stripped, language))
    if not words:
        return False
    if (
        len(words) > 2
        and words[0].endswith("ly")
        and words[1] in QUESTION_WORDS | AUXILIARIES | VERBS
    ):
        words = words[1:]  # "and roughly what would it cost per month", "quickly explain X"
    if words[:1] == ["i"] and words[1:2] in (["also"], ["really"], ["just"], ["still"]):
        words = ["i", *words[2:]]  # "I also need to know if ..."
    if words[:2] in (["if", "so"], ["if", "not"], ["if", "yes"]) and len(words) > 3:
        words = words[2:]  # "and if so what should i see": a question on the answer before
    first = words[0]
    if language is not ENGLISH:
        stems = language.imperatives
        return first in language.question_words or any(first.startswith(s) for s in stems)
    lowered = " ".join(words) + " "
    if lowered.startswith(tuple(f"{opening} " for opening in REQUEST_OPENINGS)):
        return _request_opening_asks(words)
    if first in QUESTION_WORDS and words[1:2] and words[1] in SUBJECT_PRONOUNS:
        return False  # "When I run pip install numpy I get an error."
    asked = any(
        w in QUESTION_WORDS and n in AUXILIARIES
        for w, n in zip(words[1:5], words[2:6], strict=False)
    )
    if first in PREPOSITIONS and (words[1:2] and words[1] in QUESTION_WORDS or asked):
        return True  # "In which country are the pyramids", "in windows 11 how do i ..."
    if first in VERBS | QUESTION_WORDS | REQUEST_NOUNS:
        return True
    if FOLLOWING.match(strip_joining(stripped, language)):
        return True  # "also balance this: H2 + O2 -> H2O"
    return first in AUXILIARIES and first != "am" and len(words) > 2


def _request_opening_asks(words: list[str]) -> bool:
    """ "I need a plan", "need a name for ..." and "I need to know" ask; "I need to move
    house" and "I want to start posting" tell."""
    needs = words[:2] in (["i", "need"], ["i", "want"]) or words[0] == "need"
    if needs or words[:3] == ["i", "would", "like"]:
        at = 1 if words[0] == "need" else 3 if words[1] == "would" else 2
        rest = words[at:]
        if not set(rest) - NEED_ALONE:
            return False  # "I need some advice.": the sentences after it ask
        if rest[:1] == ["help"] and rest[1:2] != [] and rest[1] in ("with", "w", "on"):
            return False  # "i need help w my resume": the questions after it say with what
        return bool(rest) and (rest[0] != "to" or (len(rest) > 1 and rest[1] in KNOW_VERBS))
    if words[:2] == ["i'd", "like"] or words[:2] == ["i'd", "love"]:
        rest = words[2:]
        return bool(rest) and (rest[0] != "to" or (len(rest) > 1 and rest[1] in KNOW_VERBS))
    return True
