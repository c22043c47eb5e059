"""A question that asks the one before it again, of another thing.

"Is it legal to drive barefoot in the US? is it legal in the UK too" -> "... to drive
barefoot in the UK too?"; "How many moons does Mars have? How many does Jupiter have?" ->
"How many moons does Jupiter have?"; "How many bones are in the human body? Which is the
smallest?" -> "Which is the smallest of the bones in the human body?".
"""

from __future__ import annotations

from modules.manager.clauses import finish
from modules.manager.parallel import parallel_question
from modules.manager.words import BE, PREPOSITIONS, SUBJECT_PRONOUNS, superlative, words_of


def repeated_frame(previous: str, text: str) -> str | None:
    """A question that repeats the start of the part before and names another place or
    thing, completed with what it leaves out ("Is it legal to drive barefoot in the US?"
    then "is it legal in the UK too?" -> "is it legal to drive barefoot in the UK too?");
    "How many does Jupiter have?" after "How many moons does Mars have?" asks of moons;
    None for any other part."""
    words, first_words = words_of(text), words_of(previous)
    own = set(words) & SUBJECT_PRONOUNS  # "What do you think of X?": a question of its own
    parallel = parallel_question(previous, text, words, first_words) if words and not own else None
    if parallel is not None:
        return finish(parallel.rstrip("?.! "), text.rstrip()[-1:])
    if (among := _of_the_counted(previous, text)) is not None:
        return among
    before, after = previous.rstrip("?.! ").split(), text.rstrip("?.! ").split()
    shared = 0
    while shared < min(len(before), len(after)) and before[shared].lower() == after[shared].lower():
        shared += 1
    rest = after[shared:]
    if shared < 2 or not rest or rest[0].lower() not in PREPOSITIONS:
        return None
    places = [i for i, w in enumerate(before) if i >= shared and w.lower() == rest[0].lower()]
    if not places:
        return None
    return finish(" ".join([*after[:shared], *before[shared : places[-1]], *rest]), text[-1:])


def _of_the_counted(previous: str, text: str) -> str | None:
    """ "Which is the smallest?" after "How many bones are in the human body?": "Which is
    the smallest of the bones in the human body?"; "Which is the longest?" after that: "...
    the longest of the bones in the human body?"; None for any other part."""
    words, first_words, first = words_of(text), words_of(previous), previous.rstrip("?.! ")
    bare = 2 < len(words) <= 4 and words[0] in ("which", "what") and words[-2] == "the"
    tokens = first.split()
    again = len(first_words) > len(words) and first_words[: len(words) - 1] == words[:-1]
    if bare and again and superlative(first_words[len(words) - 1]):  # "... Which is the longest?"
        return finish(" ".join([text.rstrip("?.! "), *tokens[len(words) :]]), "?")
    if not bare or not superlative(words[-1]) or first_words[:2] != ["how", "many"]:
        return None
    be = next((i for i in range(3, min(6, len(tokens))) if first_words[i] in BE), None)
    if be is None or len(tokens) != len(first_words):
        return None
    rest = tokens[be + 2 :] if first_words[be + 1 : be + 2] == ["there"] else tokens[be + 1 :]
    return finish(" ".join([text.rstrip("?.! "), "of the", *tokens[2:be], *rest]), "?")
