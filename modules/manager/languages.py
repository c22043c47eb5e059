"""The languages the manager reads, and which one a request is in.

English's table is built from `modules.manager.words`; the others are data, in
`languages.toml` beside this module, read once on first use. `language_of` picks the table
a request is read with: the language whose common words, question words and instruction
verbs it uses most (English when none stands out).
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass, fields
from importlib import resources

from modules.manager.words import (
    AUXILIARIES,
    JOINT_QUESTION,
    PREPOSITIONS,
    QUESTION_WORDS,
    THEN,
    VERBS,
    vocabulary,
    words_of,
)


@dataclass(frozen=True)
class Language:
    """What the manager reads a request in one language by.

    Attributes:
        code: ISO 639-1.
        markers: Common short words of the language, to recognise it.
        question_words: Words a question opens with.
        imperatives: The starts of verbs an instruction opens with ("explica" also finds
            "explícame" and "explicame"; stems, compared as prefixes).
        ands: Words that join two clauses.
        thens: Words after which a clause works on the one before it.
        of: Prepositions that attach a thing to another, with their contracted forms ("de",
            "del"): a fragment "la de Chile" takes the place of "de Perú".
        back: Pronouns a fragment names the thing of the clause before with ("otra",
            "quella").
        determiners: Articles a noun phrase opens with ("un", "una"): "un film e un
            libro" names two things for one verb.
        prepositions: Words a phrase that says where, when or for what opens with.
        together: Words of a question about two things at once ("la diferencia entre un
            lago y una laguna"), which stays whole.
        pronouns: Pronouns that mean a person or thing named before ("er", "elle"); a part
            with one cannot stand alone.
        ors: The language's "or": a clause with it names alternatives of one question.
        definite: Articles of a thing already known ("the", "el"); "a story about a dragon
            and the sea" names no second story.
        of_the: "article=what 'of' and it make" ("le=du", "=de" for a bare name): a part
            that leans on a thing named before is tied to it ("les horaires du Louvre").
        about: How "what about" opens a fragment that names a new thing for the question
            before ("und was ist mit einer UG?"); English's are `FRAGMENT_OPENINGS`.
        subjects: Subject pronouns a question puts after its verb ("moet [ik]", "dois-[je]"):
            after "and", one of `auxiliaries` (or a verb joined to it by "-") and one of
            them ask a question of their own.
        auxiliaries: Verbs that open a yes-no question before a subject ("moet", "kann").
    """

    code: str
    markers: frozenset[str]
    question_words: frozenset[str]
    imperatives: tuple[str, ...]
    ands: frozenset[str]
    thens: frozenset[str]
    of: frozenset[str]
    back: frozenset[str]
    determiners: frozenset[str]
    prepositions: frozenset[str]
    together: frozenset[str]
    pronouns: frozenset[str]
    ors: frozenset[str]
    definite: frozenset[str]
    of_the: frozenset[str]
    about: tuple[str, ...]
    subjects: frozenset[str]
    auxiliaries: frozenset[str]


ENGLISH = Language(
    "en",
    vocabulary(
        "the and is are was what how why who when where which of to you i my with do does "
        "did can it they this that for on should would could me your"
    ),
    QUESTION_WORDS,
    tuple(sorted(VERBS)),
    vocabulary("and"),
    THEN,
    vocabulary("of in for on about to"),
    vocabulary("one ones another something anything"),
    vocabulary("a an the some any another two three four five"),
    PREPOSITIONS,
    JOINT_QUESTION,
    vocabulary("it its they them their he him his she her"),
    vocabulary("or"),
    vocabulary("the this that these those"),
    frozenset(),  # English parts are tied to a thing by `modules.manager.pronouns.bridged`
    (),
    vocabulary("i you he she it we they there"),
    AUXILIARIES,
)


ORDERED = ("imperatives", "about")
"""Fields read as prefixes, in order; the others are sets of words."""


@functools.cache
def languages() -> dict[str, Language]:
    """Every language's table by its code, English first."""
    data = tomllib.loads(resources.files("modules.manager").joinpath("languages.toml").read_text())
    tables = {"en": ENGLISH}
    for code, table in data.items():
        values = {
            f.name: tuple(table[f.name]) if f.name in ORDERED else frozenset(table[f.name])
            for f in fields(Language)
            if f.name != "code"
        }
        tables[code] = Language(code, **values)
    return tables


def language_of(text: str) -> Language:
    """The table to read `text` with: the language whose common words it uses most (English
    when none stands out), with its marks counting twice: "¿", a space before "?" in
    French, "ã", a question word only it has as the first word ("waarom")."""
    found = words_of(text)
    scores = {code: _score(found, lang) for code, lang in languages().items()}
    opening = found[:1]
    asking = [code for code, lang in languages().items() if set(opening) & lang.question_words]
    marks = {
        "es": "¿" in text or "¡" in text,
        "fr": " ?" in text or " !" in text,
        "pt": any(c in text for c in "ãõ"),
    }
    if len(asking) == 1 and not set(opening) & AUXILIARIES:  # not "was" of "Was Napoleon"
        marks[asking[0]] = True  # "waarom ...": a question word only Dutch has
    for code, marked in marks.items():
        scores[code] += 2 if marked else 0
    best = max(scores, key=lambda code: (scores[code], code == "en"))
    return languages()[best] if scores[best] >= max(2, scores["en"] + 1) else ENGLISH


def _score(found: list[str], language: Language) -> int:
    """How many words of a text are common words, question words, instruction verbs or
    verbs joined to a subject after them of `language`."""
    inverted = [w for w in found if "-" in w and w.rsplit("-", 1)[-1] in language.subjects]
    return len(inverted) + sum(  # "coûte-t-il", "dois-je": a verb put before its subject
        w in language.markers or w in language.question_words or _instruction(w, language)
        for w in found
    )


def _instruction(word: str, language: Language) -> bool:
    """Whether a word is an instruction verb of `language`: English's whole verbs (so
    "describe" counts for English as much as for Spanish), the others' stems."""
    if language is ENGLISH:
        return word in VERBS
    return any(word.startswith(stem) for stem in language.imperatives)
