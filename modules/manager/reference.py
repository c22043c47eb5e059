"""Parts that lean on the part before them: fragments completed, pronouns resolved, or a
dependency where the part works on what the one before makes.

- A fragment takes the frame of the part before it: "What is the national animal of
  Australia? And of China?" -> "What is the national animal of China?"; "Is a rabbit a
  good pet for me? What about a guinea pig?" -> "Is a guinea pig a good pet for me?".
- A pronoun that means a thing the request names is replaced by its words: "When was the
  Eiffel Tower built and who designed it?" -> "Who designed the Eiffel Tower?";
  "What's the capital of Peru and what is its population?" -> "What is the population of
  Peru?".
- A part that works on what another part makes ("suggest a houseplant and tell me how to
  care for it", "write a poem, then translate it") depends on that part: its delegate
  starts when that answer is done and reads it.
- A part that refers back in a way none of these resolves stays with the part before it,
  so one delegate answers both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from modules.manager.clauses import complete, finish, in_place_of_last, strip_joining
from modules.manager.words import (
    AUXILIARIES,
    BEFORE_A_DEMONSTRATIVE,
    DEMONSTRATIVES,
    DETERMINERS,
    ENGLISH,
    MAKING_VERBS,
    MANNER_NOUNS,
    PREPOSITIONS,
    QUESTION_WORDS,
    Language,
    vocabulary,
    words_of,
)

FRAGMENT_OPENINGS = ("what about", "how about", "and what about", "what of")
BE = vocabulary("is are was were be been")
DEGREES = vocabulary("many much long tall far old big often")
"""Words that make "how" ask a degree ("how tall is ...")."""
NOT_A_NOUN = QUESTION_WORDS | AUXILIARIES | DETERMINERS | PREPOSITIONS
MOTION = vocabulary("get go travel fly drive move walk come return")
"""Verbs after which "there" is "to" a place."""
PARTICIPLES = vocabulary(
    "built made written known done born found held sold worn drawn given taken seen shown "
    "displayed painted invented discovered designed founded located called used"
)
"""Words that end a passive question ("When was the Eiffel Tower built?") after its
subject."""
_REQUEST_LEAD = re.compile(r"^(?:can|could|would|will) you\s+|^please\s+", re.IGNORECASE)


@dataclass
class Draft:
    """A part being read: its text, how it joined the request, what it depends on."""

    text: str
    then: bool = False
    """Joined by "then": it works on what the part before made."""
    new_sentence: bool = False
    """It begins a sentence of its own (a fragment there borrows from the part before)."""
    item: bool = False
    """An item of an enumeration: a part by its form, never merged into another."""
    fragment: bool = False
    """A sentence that names only a thing ("Also one that means happy."): it is completed
    from the part before, or joins it."""
    depends_on: list[int] = field(default_factory=list)


def resolve(drafts: list[Draft], language: Language, has_context: bool) -> list[Draft]:
    """The drafts with fragments completed, pronouns resolved or turned into dependencies,
    and parts that cannot stand alone merged into the part before."""
    done: list[Draft] = []
    for draft in drafts:
        if not done:
            done.append(draft)
            continue
        previous = done[-1]
        whole = _completed_fragment(previous.text, draft.text, language)
        if draft.new_sentence and whole is not None:
            done.append(Draft(whole))
        elif draft.fragment:
            previous.text = f"{previous.text.rstrip('.?!')}; {draft.text}"
        elif draft.then:
            done.append(Draft(draft.text, depends_on=[_root(done, len(done) - 1)]))
        elif language is ENGLISH and (pronoun := _pronoun(draft.text)) is not None:
            _lean(done, draft, pronoun, has_context)
        else:
            done.append(draft)
    return done


def _lean(done: list[Draft], draft: Draft, pronoun: int, has_context: bool) -> None:
    """Adds a draft that refers back with the word at `pronoun`: as a dependency on what the
    part before makes, with the thing named in the pronoun's place, as it is (when the
    shared context may hold what it means), or merged into the part before."""
    previous = done[-1]
    if previous.depends_on or _makes_something(previous.text):
        done.append(Draft(draft.text, depends_on=[_root(done, len(done) - 1)]))
    elif (named := _named([d.text for d in reversed(done)], draft.text, pronoun)) is not None:
        done.append(Draft(named))
    elif draft.item or (has_context and not _short_question(draft.text)):
        done.append(draft)
    else:
        joined = f"{draft.text[:1].lower()}{draft.text[1:]}"
        previous.text = f"{previous.text.rstrip('.?!')}, and {joined}"


def _root(done: list[Draft], index: int) -> int:
    """The part a chain of dependent parts starts from."""
    while done[index].depends_on:
        index = done[index].depends_on[0]
    return index


def _completed_fragment(previous: str, text: str, language: Language) -> str | None:
    """A sentence that only names a new thing for the part before ("And of China?", "What
    about a guinea pig?", "¿Y la de Chile?", "In a chicken breast?"), completed from it;
    None for any other sentence."""
    end = text.rstrip()[-1:] if text.rstrip()[-1:] in "?.!？" else ""
    body = strip_joining(text.rstrip("?.!？ ").lstrip("¿¡"), language)
    lowered = body.lower()
    opening = next((o for o in FRAGMENT_OPENINGS if lowered.startswith(o + " ")), None)
    if opening is not None:
        body = body[len(opening) + 1 :]
    words = words_of(body)
    if not words or (opening is None and not _fragment_like(words, language)):
        return None
    if opening is None:
        body = body[:1].lower() + body[1:]  # "In a chicken breast?" reads on from the frame
    frame = previous.rstrip("?.!？ ")
    completed = complete(frame, body, language)
    if completed is None and opening is not None:
        completed = in_place_of_last(frame, body)
    if completed is None or completed == frame:
        return None
    return finish(completed, end or previous.rstrip()[-1:])


def _fragment_like(words: list[str], language: Language) -> bool:
    """Whether a sentence is a fragment: it opens with a preposition, an article or a
    pronoun that names the thing again, and asks nothing of its own."""
    opens = words[0] in PREPOSITIONS | DETERMINERS | language.of | language.back
    asks = any(w in QUESTION_WORDS | AUXILIARIES | language.question_words for w in words[1:])
    return opens and not (language is ENGLISH and asks)


def _pronoun(text: str) -> int | None:
    """The index (in `words_of(text)`) of a word that refers to something said before:
    "it", "its", "they", "them", "their", "one", "there" (not "is there", "is it ... to"),
    "this" or "that" as a thing ("explain that"; not "a fruit that is red"); None if
    none does."""
    words = words_of(text)
    for i, word in enumerate(words):
        before = words[i - 1] if i else ""
        if word in ("it", "its", "they", "them", "their") and not _dummy_it(words, i):
            return i
        existential = before in BE or words[i + 1 : i + 2] in (["is"], ["are"])
        if word == "there" and not existential:
            return i
        if word == "one" and before in {"need", "buy", "get", "have", "use", "want", "pick"}:
            return i
        alone = i + 1 == len(words) or words[i + 1] in PREPOSITIONS
        if word in DEMONSTRATIVES and (i == 0 or before in BEFORE_A_DEMONSTRATIVE) and alone:
            return i
    return None


def _dummy_it(words: list[str], index: int) -> bool:
    """Whether "it" is the empty subject of "is it ok to...", "how long does it take"."""
    if words[index] != "it":
        return False
    near = words[index + 1 : index + 4]
    return "to" in near or "take" in near or "takes" in near or (
        index > 0 and words[index - 1] in ("is", "was") and "that" in near
    )


def _short_question(text: str) -> bool:
    """"In what year?", "Why?": too short to stand alone."""
    words = words_of(text)
    return len(words) < 4 and (
        words[0] in PREPOSITIONS or (words[0] in QUESTION_WORDS and len(words) < 3)
    )


def _makes_something(part: str) -> bool:
    """Whether a part makes something new a later "it" means: an instruction to write,
    pick or suggest ("Suggest a houseplant"), or a question after the best, the most...
    of a kind ("What's the most spoken language in Africa?"), whose answer is a thing."""
    words = words_of(_REQUEST_LEAD.sub("", part))
    if not words:
        return False
    if words[0] in MAKING_VERBS or words[:2] in (["come", "up"], ["think", "of"]):
        return True
    asked = _asked_thing(words)
    return bool(asked) and asked[0] == "the" and _superlative_kind(asked)


def _superlative_kind(phrase: list[str]) -> bool:
    """ "the most spoken language", "the best book": a superlative and a kind of thing
    (not "the best way", whose answer is a manner)."""
    if len(phrase) < 3 or not (phrase[1] in ("best", "most", "worst") or phrase[1].endswith("est")):
        return False
    head = next((w for w in phrase[2:] if w in PREPOSITIONS | {"to"}), None)
    nouns = phrase[2 : phrase.index(head)] if head else phrase[2:]
    return bool(nouns) and nouns[-1] not in MANNER_NOUNS


def _asked_thing(words: list[str]) -> list[str]:
    """The words of what a "what is X" question asks about ("the capital of Peru")."""
    if len(words) > 2 and words[0] in ("what", "which", "who") and words[1] in ("is", "are"):
        return words[2:]
    return []


def _named(before: list[str], text: str, pronoun: int) -> str | None:
    """`text` with the pronoun at `pronoun` replaced by the words of the thing the nearest
    part before it is about (`before`: latest first); None when none names a thing, for
    and for "its" not before a noun."""
    words = words_of(text)
    after = words[pronoun + 1 : pronoun + 2]
    if words[pronoun] in ("its", "their") and (not after or after[0] in NOT_A_NOUN):
        return None
    topic = next((t for t in map(_topic, before) if t is not None), None)
    if topic is None:
        return None
    tokens = re.findall(r"[\w'’-]+|[^\w\s]+|\s+", text)
    index = -1
    for position, token in enumerate(tokens):
        if re.match(r"[\w'’-]+", token):
            index += 1
            if index == pronoun:
                return _replaced(tokens, position, topic)
    return None


def _replaced(tokens: list[str], position: int, topic: str) -> str:
    word = tokens[position].lower()
    if word in ("its", "their"):  # "its population" -> "the population of Peru"
        rest = "".join(tokens[position + 1 :]).lstrip()
        noun, _, after = rest.partition(" ")
        noun_end = len(noun.rstrip("?.!,"))
        inner = topic.split(" of ")[-1]
        phrase = f"the {noun[:noun_end]} of {inner}{noun[noun_end:]}"
        return "".join(tokens[:position]) + phrase + (f" {after}" if after else "")
    if word == "there":  # "get there" -> "get to the moon", "live there" -> "live in Lyon"
        before = "".join(tokens[:position]).split()[-1:]
        topic = f"{'to' if before and before[0].lower() in MOTION else 'in'} {topic}"
    return "".join([*tokens[:position], topic, *tokens[position + 1 :]])


def _topic(part: str) -> str | None:
    """The words of the thing a part is about: the subject of a question ("When was [the
    Eiffel Tower] built", "how tall is [an adult giraffe]"), the object after a question
    word and a verb ("Who painted [The Starry Night]"), or the thing of an embedded
    question ("tell me what [a VPN] actually does"). None if none is found."""
    plain = re.sub(r"\b(what|who|where|when|why|how|which)['’]s\b", r"\1 is", part, flags=re.I)
    tokens = plain.rstrip("?.!").split()
    words = [w[0] if (w := words_of(t)) else "" for t in tokens]
    for index, word in enumerate(words):
        if word not in QUESTION_WORDS:
            continue
        start = index + 1
        if word == "how" and words[start + 1 : start + 2] and words[start + 1] in AUXILIARIES:
            start += 1  # "how deep is [the Mariana Trench]"
        while start < len(words) and words[start] in DEGREES:
            start += 1
        if word in ("which", "what") and start < len(words) and words[start] not in AUXILIARIES:
            start += 1  # "which country won [the first World Cup]": the kind, then the verb
        if start < len(words) and (words[start] in AUXILIARIES or index == 0):
            return _phrase(tokens, words, start + 1, words[start] if start < len(words) else "")
        if start < len(words) and words[start] not in PREPOSITIONS:
            return _phrase(tokens, words, start, "")  # "tell me what [a VPN] actually does"
    return None


def _phrase(
    tokens: list[str], words: list[str], start: int, verb: str, bare: bool = False
) -> str | None:
    """The noun phrase from `start`: to the next preposition, auxiliary or adverb; without
    the clause's own verb after it ("does [daylight saving time] start", "was [the
    Eiffel Tower] built"). For "the best way to cook salmon", the thing cooked."""
    stop = start
    ends = (PREPOSITIONS - {"of"}) | AUXILIARIES | QUESTION_WORDS
    while stop < len(words) and words[stop] not in ends:
        if words[stop].endswith("ly") and stop > start:
            break
        stop += 1
    phrase = words[start:stop]
    if phrase and phrase[-1] in MANNER_NOUNS and words[stop : stop + 1] == ["to"]:
        thing = _phrase(tokens, words, stop + 2, "", bare=True)  # "...way to cook [salmon]"
        return thing if stop + 2 < len(words) else None
    if verb in ("do", "does", "did", "can", "could", "will", "would", "should") and len(phrase) > 1:
        stop -= 1  # the bare verb after the subject
    elif len(phrase) > 1 and phrase[-1] in PARTICIPLES:
        stop -= 1
    if stop <= start or words[start] in ("i", "you", "we", "it", "they", "he", "she", "me"):
        return None
    named = tokens[start][:1].isupper() or words[start] in DETERMINERS | {"my", "your", "our"}
    if stop - start < 2 and not (named or bare):
        return None  # "are [good]": not a thing a pronoun can mean
    return " ".join(tokens[start:stop]).strip(",;:") or None
