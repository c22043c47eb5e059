"""Questions that repeat the frame of the sentence's first one for another thing.

"which country has A and which has B" -> "which country has B"; "how do you say thank you
in japanese and how do you say sorry" -> "... sorry in japanese"; "give three tips for A,
two for B" -> "give two tips for B".
"""

from __future__ import annotations

from modules.manager.words import AUXILIARIES, NUMBER_WORDS, PREPOSITIONS


def parallel_question(
    first: str, piece: str, words: list[str], first_words: list[str]
) -> str | None:
    """ "which country has A and which has B" -> "which country has B" (and "how many legs
    does A have, and how many does B"); None for any other piece, and for "what's the
    weather" (its own question, typed as one word)."""
    asks = 2 if words[:2] in (["how", "many"], ["how", "much"]) else 1
    typed = piece.split()[:1] == [words[0]] or piece.split()[:1] == [words[0].title()]
    if (
        typed
        and (words[0] in ("which", "what") or asks == 2)  # not "how much ..., and how do I"
        and len(words) > asks + 1
        and words[asks] in AUXILIARIES
        and len(first_words) > asks + 2
        and first_words[:asks] == words[:asks]
        and first_words[asks] not in AUXILIARIES | PREPOSITIONS
        and first_words[asks + 1] in AUXILIARIES  # "which country [has]"; not "what causes X"
    ):
        thing = first.split()[asks]
        said = [*first.split()[:asks], thing, *piece.split()[asks:]]
        done = {"do", "does", "did"} >= {words[asks], first_words[asks + 1]}  # "... does B"
        done = done and len(first_words) - asks - 2 <= 4  # "does [a spider] have": its verb last
        verb = first.rstrip("?.! ").split()[-1]
        return " ".join([*said, verb] if done and verb.lower() not in words else said)
    return None


def same_question_of(
    first: str, piece: str, words: list[str], first_words: list[str]
) -> str | None:
    """A question that repeats the first one's opening words for another thing and leaves
    out the phrase the first ends with: that phrase ("how do you say sorry" -> "... sorry
    in japanese"); None when it has a phrase of its own or repeats too little of the first
    ("what gas do plants take in from the air, and what gas do they give off")."""
    shared = 0
    while shared < min(len(words), len(first_words)) and words[shared] == first_words[shared]:
        shared += 1
    tokens = first.rstrip("?.! ").split()
    enough = shared > 3 or (shared == 3 and words[0] == "how")  # "how do i", "how do you say"
    if not enough or shared == len(words) or set(words) & PREPOSITIONS:
        return None
    if len(tokens) != len(first_words):
        return None
    ends = PREPOSITIONS - {"without"}  # not "... without bleach": a way, not a thing
    last = [
        i for i in range(max(shared, len(tokens) - 3), len(tokens) - 1) if first_words[i] in ends
    ]
    return f"{piece.rstrip('?.! ')} {' '.join(tokens[last[-1] :])}" if last else None


def counted_again(first: str, piece: str, words: list[str], first_words: list[str]) -> str | None:
    """A count whose things are left out, completed from the first clause's count: "give
    three tips for A, two for B" -> "give two tips for B"; "5 baby names starting with A
    and 5 starting with M" -> "5 baby names starting with M"."""
    tokens = first.split()
    counts = [i for i, w in enumerate(first_words) if w in NUMBER_WORDS or w.isdigit()]
    if not counts or len(words) < 2 or words[1] not in first_words[counts[0] + 1 :]:
        return None
    if words[1] not in PREPOSITIONS and not words[1].endswith(("ing", "ed")):
        return None  # "convert 100 f to c and 30 c to f": a thing of its own, not "for B"
    count = counts[0]
    joint = first_words.index(words[1], count + 1)
    if joint - count < 2 or len(tokens) != len(first_words):
        return None
    things = tokens[count + 1 : joint]
    return " ".join([*tokens[:count], piece.split()[0], *things, *piece.split()[1:]])
