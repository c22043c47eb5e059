"""Sentences that only name a new thing for the part before, completed from its frame.

"And of China?", "What about a guinea pig?", "¿Y la de Chile?", "Lunch?", "same for
acetone", "is it legal in the UK too": each takes the frame of the part before (its
prepositions, the kind a "what N" question asks for, a yes-no question's subject or
object, a quoted word, a name). A fragment no frame fits joins the part before (`MERGE`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from modules.manager.clauses import finish, strip_joining
from modules.manager.completion import bare_superlative
from modules.manager.languages import ENGLISH, Language
from modules.manager.slots import in_frame
from modules.manager.topics import one_named, possessive_named
from modules.manager.words import (
    AUXILIARIES,
    CLAUSE_OPENERS,
    COPULAS,
    DETERMINERS,
    FRAGMENT_OPENINGS,
    ORDINALS,
    PERSONAL,
    PREPOSITIONS,
    QUESTION_WORDS,
    RELATIVE_WORDS,
    superlative,
    words_of,
)

COMPARING = frozenset({"vs", "versus", "compared", "than"})
"""Words of a follow-up that compares things itself ("what about rust compared to go")."""
MERGE = object()
"""A fragment no frame of the part before fits: it joins that part."""


def completed_fragment(previous: str, text: str, language: Language) -> object | None:
    """A sentence that only names a new thing for the part before ("And of China?", "What
    about a guinea pig?", "¿Y la de Chile?", "Lunch?"), completed from it; `MERGE` for a
    fragment no frame fits ("When?"); None for a sentence that is not a fragment."""
    end = text.rstrip()[-1:] if text.rstrip()[-1:] in "?.!？" else ""
    body = strip_joining(text.rstrip("?.!？ ").lstrip("¿¡"), language)
    lowered = body.lower()
    openings = (*FRAGMENT_OPENINGS, *(f"{about} " for about in language.about))
    opening = next((o for o in openings if lowered.startswith(o)), None)
    if opening is not None:
        body = body[len(opening) :]
    words = words_of(body)
    if not words:
        return None
    options = re.search(r"\w \bor\b \w", body) and words[0] in DETERMINERS  # "the red one or"
    options = options and words_of(previous)[:1] in (["which"], ["what"])
    if short_question(body) or options:
        return MERGE  # "When?"; "which one is better? the red one or the blue one"
    best = superlative(words[0]) and words[1:2] != [] and words[1] not in PREPOSITIONS
    if language is ENGLISH and opening is None and best and not bare_superlative(words):
        return None  # "what is sourdough? best flour?": a thing for it (`bridged`), not a new X
    swapped = _swapped(previous, words[0], superlative) if language is ENGLISH else None
    ordinal = words[-2:-1] if words[-1:] == ["one"] and len(words) <= 3 else []
    if language is ENGLISH and ordinal and ordinal[0] in ORDINALS:  # "and the third one?"
        swapped = _swapped(previous, ordinal[0], ORDINALS.__contains__)
        if swapped is not None:
            return finish(swapped.rstrip("?.!？ "), end or previous.rstrip()[-1:])
    if swapped and bare_superlative(words) and len(words) == 1:  # "largest X in Y? smallest?"
        return finish(swapped.rstrip("?.!？ "), end or previous.rstrip()[-1:])
    if swapped and words[1:2] != [] and words[1] in PREPOSITIONS:  # "... in asia? tallest in X"
        previous, body, words = swapped, body.split(None, 1)[1], words[1:]
    number = r"\d+(?:[.,]\d+)?" + ("%" if body.strip().endswith("%") else r"\b")
    if re.fullmatch(number, body.strip()):  # "convert 72 F to C. and 100?"; "and 20%?"
        if len(re.findall(rf"\b{number}", previous)) != 1:
            return MERGE  # "15% of 80? and 120?": which number it replaces is unsaid
        said = re.sub(rf"\b{number}", body.strip(), previous.rstrip("?.!？ "), count=1)
        return finish(said, end or previous.rstrip()[-1:])
    opens = words_of(previous)[:1]  # "what age can babies have X. also Y?"
    asked = previous.rstrip().endswith(("?", "？")) or (
        opens != [] and opens[0] in QUESTION_WORDS | AUXILIARIES
    )
    quoted = re.fullmatch(r"""['"‘“][^'"‘’“”]+['"’”]""", body.strip()) is not None  # "'dog'?"
    bare = (_bare_thing(words, language) or quoted) and asked
    amounts = (["how", "many"], ["how", "much"])  # "How many calories in X? How much protein?"
    said = words_of(previous)
    counted = len(words) == 3 and words[:2] in amounts and said[:2] in amounts
    counted = counted and said[3:4] != [] and said[3] in PREPOSITIONS  # "calories [in] X"
    if opening is None and not (_fragment_like(words, language) or bare or counted):
        return None
    clause = any(w.endswith("ing") or w in PERSONAL | COMPARING for w in words[1:])  # "their"
    either = re.search(r"\w \bor\b \w", previous) is not None  # "paris or london for X"
    either = either or bool(language.together & set(words_of(previous)))  # "between A and B"
    placed = words[0] in PREPOSITIONS  # "what about for getting a job": in for's place
    if language is ENGLISH and opening and not placed and (either or clause and len(words) > 2):
        return MERGE  # which of the frame's things it takes, or what it asks, is unsaid
    opens = PREPOSITIONS | DETERMINERS | language.prepositions | language.of | language.back
    if opening is None and words[0] in opens:
        body = body[:1].lower() + body[1:]  # "In a chicken breast?" reads on from the frame
    frame = previous.rstrip("?.!？ ")
    route = re.fullmatch(r"(?:from )?(\S+(?: \S+)?) to (\S+(?: \S+)?)", body.strip(), re.I)
    trip = re.search(r"\bfrom \S+(?: \S+)? to \S+(?: \S+)?$", frame, re.I)
    if language is ENGLISH and route and trip:  # "nyc to la? same question for chicago to miami"
        completed = f"{frame[: trip.start()]}from {route.group(1)} to {route.group(2)}"
        return finish(completed, end or previous.rstrip()[-1:])
    body = possessive_named(body, frame)  # "what about its capital?": Malta's capital
    body = one_named(frame, body)  # "a fantasy one" after "a good sci-fi book"
    main, joint, subordinate = _main_clause(frame)
    completed = in_frame(main, body, language) if subordinate else None
    if completed is not None and completed != main:
        completed = f"{completed}{joint}{subordinate}"  # "... in Tokyo when it is noon in Paris"
    else:
        completed = in_frame(frame, body, language)
    if completed is None or completed == frame:
        return MERGE
    completed = re.sub(r"\b((?:\w+ ){1,3}\w+) \1\b", r"\1", completed)  # "in the uk in the uk"
    return finish(completed, end or previous.rstrip()[-1:])


def _swapped(previous: str, word: str, kind: Callable[[str], bool]) -> str | None:
    """The part before with `word` in place of its own word of `kind` ("largest" ->
    "smallest", "second" -> "third"); None when either is of no such kind."""
    tokens = previous.split()
    at = next((i for i, t in enumerate(tokens) if kind("".join(words_of(t)))), None)
    return (
        None if at is None or not kind(word) else " ".join([*tokens[:at], word, *tokens[at + 1 :]])
    )


def _main_clause(frame: str) -> tuple[str, str, str]:
    """(main clause, what joins them, subordinate clause) of a frame with a clause that says
    when or on what condition ("What time is it in New York | when it is noon in Paris"); a
    fragment names a new thing for the main clause. ("frame", "", "") without one."""
    tokens = frame.split()
    for i in range(2, len(tokens)):
        if (words_of(tokens[i]) or [""])[0] in CLAUSE_OPENERS:
            joint = ", " if tokens[i - 1].endswith(",") else " "
            return " ".join(tokens[:i]).rstrip(","), joint, " ".join(tokens[i:])
    return frame, "", ""


def _bare_thing(words: list[str], language: Language) -> bool:
    """A sentence of one to three words that names a thing and asks nothing ("Lunch?",
    "Spain?"): no question word, auxiliary or pronoun."""
    others = QUESTION_WORDS | AUXILIARIES | COPULAS | language.question_words | language.pronouns
    latin = all(re.match(r"[a-zà-ÿ0-9]", w) for w in words)  # not a CJK sentence
    named = words[1:] if words[0] in DETERMINERS | language.determiners else words
    size = 3 if named[1:2] and named[1] in language.of else 2  # "grão de bico"
    return latin and 1 <= len(named) <= size and not any(w in others for w in words)


def _fragment_like(words: list[str], language: Language) -> bool:
    """Whether a sentence is a fragment: it opens with a preposition, an article or a
    pronoun that names the thing again, and asks nothing of its own."""
    opens = words[0] in PREPOSITIONS | DETERMINERS | language.of | language.back | (
        language.prepositions
    )
    asking = (QUESTION_WORDS - RELATIVE_WORDS) | AUXILIARIES  # "something for my mom [who] loves"
    english = language is ENGLISH and any(w in asking for w in words[1:])
    own = any(w in language.question_words for w in words[1:4])  # "et à partir de quand ..."
    own = own or bool(set(words[1:]) & COPULAS)  # "¿y en el rugby es igual?": a verb of its own
    return opens and not english and not (language is not ENGLISH and own)


def short_question(text: str) -> bool:
    """ "In what year?", "Why?": too short to stand alone."""
    words = words_of(text)
    if words[:1] and words[0] in PREPOSITIONS:  # "In what year?"
        return 1 < len(words) < 4 and words[1] in QUESTION_WORDS
    return 0 < len(words) < 3 and words[0] in QUESTION_WORDS  # "Why?", "When exactly?"
