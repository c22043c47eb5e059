"""Whether the words after a comma or "and" go on with the clause before rather than start a
part: the next item of a list the clause opened ("covering A, B and C", "like the case
interview, the fit questions"), another aspect of one piece of writing ("an essay on how X
works and why Y matters"), or a question about what the clause shows ("check out this link
and tell me what you think")."""

from __future__ import annotations

import re

from modules.manager.languages import ENGLISH, Language
from modules.manager.words import (
    AUXILIARIES,
    LIST_OPENERS,
    LIST_VERBS,
    QUESTION_WORDS,
    REQUEST_LEAD,
    VERBS,
    words_of,
)

SHOWN = re.compile(
    r"\s*(?:(?:please|pls|can you|could you) )?(?:check out|look at|have a look at|take a look at|"
    r"read|review|see)\b",
    re.IGNORECASE,
)
"""An instruction that only shows something, for the clause after it to ask about ("check out
this link and tell me what you think", "review my code and tell me what's wrong")."""
WRITING = re.compile(
    r"\b(?:essay|explanation|article|guide|overview|report|blog post|breakdown|rundown|"
    r"walkthrough|speech|presentation|lesson)\b",
    re.IGNORECASE,
)
"""A piece of writing an instruction asks for, whose aspects the clauses after it name."""


def one_piece_of_writing(first: str, piece: list[str]) -> bool:
    """Whether an embedded question after "and" (`piece`, its words: "why starting early
    matters", "how I'd apply it") is one more aspect of what the first clause asks to be
    written or explained: of a piece of writing ("an essay-style explanation of how X
    works"), or after a thing explained ("Explain the theory behind X"); not after an
    explained question ("Explain what a p-value is and what a confidence interval is")."""
    if piece[0] not in QUESTION_WORDS or piece[1:2] != [] and piece[1] in AUXILIARIES:
        return False
    told = words_of(REQUEST_LEAD.sub("", first.lower()))
    told = told[1:] if told[1:2] in (["me"], ["us"]) else told
    explained = told[:1] != [] and told[0] in VERBS and told[1:2] != []
    return WRITING.search(first) is not None or explained and told[1] not in QUESTION_WORDS


def in_a_list(clause: str, piece: str, language: Language) -> bool:
    """Whether a piece goes on a list the clause opened ("covering A, B and C", "including
    A, B, and how C works"), which belongs to that clause's instruction."""
    words = words_of(piece)
    if (
        not words
        or words[0] in ("one", "another")
        or set(words) & LIST_OPENERS & set(words_of(clause))
    ):
        return False  # "a joke about X and a fun fact about Y": a thing of its own
    if language is not ENGLISH:  # "falando do ciclo da água, do carbono ..."
        own = words[0] in language.question_words or words[0].startswith(language.imperatives)
        return not own and opens_a_list(clause)
    asked = words[1:2] != [] and words[1] in AUXILIARIES  # "..., like X, and what should i do"
    if words[0] in VERBS | AUXILIARIES or words[0] in QUESTION_WORDS and asked:
        return False  # "..., including A, and give me a summary": an instruction of its own
    dashed = " — " in clause or " – " in clause  # "a lesson plan — objectives, a warm-up"
    said = words_of(REQUEST_LEAD.sub("", clause))
    asks = said[:1] != [] and said[0] in QUESTION_WORDS | AUXILIARIES
    told = not asks and bool(set(said) & LIST_VERBS)  # "I'd like you to cover A, B, and why C"
    return dashed or told or opens_a_list(clause)


WITH = frozenset({"with", "met", "avec", "mit"})
"""List openers that are also plain prepositions ("go with it"): a list needs a comma after."""


def opens_a_list(clause: str) -> bool:
    """Whether a clause opens a list ("covering A,", "with museums, food,") after its first
    two words."""
    opened = set(words_of(clause)[2:]) & LIST_OPENERS
    if opened - WITH:
        return True
    at = max((clause.lower().rfind(f" {w} ") for w in opened), default=-1)
    return at >= 0 and "," in clause[at:]


OWN_ASPECT = re.compile(
    r",\s*(?:its|his|her|their|sus?|ses|sa|son|seine[nm]?|ihre[nm]?|suas?|seus?|la sua|il suo|"
    r"i suoi|le sue|zijn|haar)\s",
    re.IGNORECASE,
)
"""An item of a list that names an aspect of the thing before it ("the French Revolution,
[its] causes, ...", "la Guerra Civil Española, [sus] causas")."""


def aspects_listed(first: str, rest: str, piece: list[str], language: Language) -> bool:
    """Whether a piece is one more item of a list of aspects of the thing the first clause's
    instruction names ("Explain the French Revolution, its causes, the main factions and its
    consequences"): an item of the list opens with its thing's possessive, and the piece asks
    nothing of its own."""
    told = words_of(REQUEST_LEAD.sub("", first.strip().lower()))
    instructs = told[:1] != [] and (
        told[0] in VERBS if language is ENGLISH else told[0].startswith(language.imperatives)
    )
    asking = QUESTION_WORDS | AUXILIARIES | language.question_words
    embedded = piece[1:2] == ["to"]  # "and where to start listening": an aspect too
    verb = piece[:1] != [] and piece[0] in VERBS and language is ENGLISH
    own = piece[:1] != [] and piece[0] in asking and not embedded or verb
    return instructs and not own and OWN_ASPECT.search(f"{first}{rest}") is not None
