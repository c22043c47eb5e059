"""Several things for one verb: "Recommend a good laptop and a comfortable chair".

A piece that names another thing of the same kind (an article of the same definiteness,
a count, a request noun) after the first clause's verb takes that verb; a phrase after the
last thing ("per il weekend") is every thing's when the first names its thing bare.
"""

from __future__ import annotations

import re

from modules.manager.languages import ENGLISH, Language
from modules.manager.topics import one_named
from modules.manager.words import (
    COUNTS,
    DETERMINERS,
    NUMBER_WORDS,
    REQUEST_NOUNS,
    VERBS,
    words_of,
)


def coordinated_objects(first: str, piece: str, language: Language) -> tuple[str, str] | None:
    """Several things for one verb: "Recommend a good laptop and a comfortable chair",
    "give me a synonym for happy and an antonym for brave", "tips for X, and ideas for Y",
    "Mi consigli un film e un libro per il weekend". Returns the piece with the verb
    ("Mi consigli un libro per il weekend") and the phrase after the last thing when the
    first names its thing bare ("per il weekend": every thing is for the weekend), else "".
    None when the piece is not another thing for the first's verb; and for "a story about
    a dragon and a knight", where it is the object of the first's last preposition."""
    tokens, words = first.split(), [(words_of(t) or [""])[0] for t in first.split()]
    piece_words = words_of(piece)
    things = language.determiners | (REQUEST_NOUNS if language is ENGLISH else frozenset())
    if len(piece_words) < 2 or not (piece_words[0] in things or piece_words[0].isdigit()):
        return None
    if piece_words[0] == "another":
        return None  # "a poem about autumn and another about winter": a poem (`complete`)
    acts = piece_words[0] in VERBS and piece_words[1] in NUMBER_WORDS | DETERMINERS | {"me"}
    if language is ENGLISH and acts:
        return None  # "... and list three of his works": "list" is a verb there, not a thing
    if piece_words[0] in NUMBER_WORDS and piece_words[1] in language.prepositions:
        return None  # "three for running": the count's thing is left out (`counted_again`)
    if language is not ENGLISH and not _bare_thing(piece_words, language):
        return None  # "le sel et le poivre se conservent": the things are the subject
    if language.together & set(words + piece_words):
        return None
    start = _object_start(words, language)
    if start is None or not (words[start] in things or words[start].isdigit()):
        return None
    if _definite(words[start], language) != _definite(piece_words[0], language):
        return None  # "a haiku about salt and the sea": the sea is not a second haiku
    article = {"an": "a"}
    last = max(i for i, w in enumerate(words) if w in things | {words[start]})
    same_kind = article.get(words[last], words[last]) == article.get(piece_words[0], piece_words[0])
    if language is not ENGLISH and words[last] in language.determiners:  # "einen", "eine"
        same_kind = _definite(words[last], language) == _definite(piece_words[0], language)
    after_preposition = last > start and words[last - 1] in language.prepositions
    own_phrase = words[last - 1] in piece_words[1:]  # "a book about X and a film about Y"
    if after_preposition and (same_kind or words[last] in COUNTS) and not own_phrase:
        return None  # "a story about a dragon and a knight", "with two eggs and three cups"
    tail = ""
    own_of = language.of if language is not ENGLISH else frozenset()  # "una película de terror"
    openers = (language.prepositions | {"that", "which", "who"}) - own_of - {"of"}
    bare = not openers & set(words[start + 1 :])
    piece_tokens = piece.split()
    stops = [i for i, w in enumerate(piece_words[1:], 1) if w in openers]
    described = len(words) - start > 2  # "a good sci fi book": its own kind, not "a book"
    topic = stops != [] and piece_words[stops[0]] in ("about", "on") and described
    if bare and stops and len(piece_tokens) == len(piece_words) and not topic:
        tail = " ".join(piece_tokens[stops[0] :])
    piece = one_named(first, piece) if language is ENGLISH else piece  # "a fantasy [book]"
    return f"{' '.join(tokens[:start])} {piece}".strip(), tail


def _definite(word: str, language: Language) -> bool:
    """Whether an article names a known thing ("the", "el", "der"), not a new one ("a",
    "some", "three", "una")."""
    return word in language.definite


def _bare_thing(words: list[str], language: Language) -> bool:
    """Whether words are an article, one to three words and then nothing or a preposition
    ("un libro per il weekend"; not "le poivre se conservent")."""
    rest = words[1:]
    stop = next((i for i, w in enumerate(rest) if w in language.prepositions), len(rest))
    return 1 <= stop <= 3


def _object_start(words: list[str], language: Language) -> int | None:
    """Where the first thing a clause's verb takes begins ("can you suggest [some games]",
    "give me [a synonym]", "Mi consigli [un film]"); None when the clause does not open
    with a verb (or, in English, with a thing asked for: "tips for X")."""
    if language is not ENGLISH:
        found = [i for i, w in enumerate(words[:5]) if w in language.determiners and i > 0]
        return found[0] if found else None
    at = 0
    lead = re.match(r"(?:(?:can|could|would|will) (?:you|u) |please )*", " ".join(words))
    at = len(lead.group().split()) if lead else 0
    after = words[at + 1] if at + 1 < len(words) else ""
    told = at < len(words) and words[at] in VERBS and (after.isdigit() or after in NUMBER_WORDS)
    if at < len(words) and words[at] in REQUEST_NOUNS and not told:  # not "list [5 fruits]"
        return at
    if at >= len(words) or words[at] not in VERBS:
        return None
    at += 1
    if at < len(words) and words[at] in ("me", "us", "him", "her", "them"):
        at += 1
    return at if at < len(words) else None
