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
    REQUEST_NOUNS,
    VERBS,
    Language,
    vocabulary,
    words_of,
)

FRAGMENT_OPENINGS = (
    "what about ", "how about ", "and what about ", "what of ", "same for ", "same with ",
    "same question for ", "and for ", "also for ",
)  # fmt: skip
BE = vocabulary("is are was were be been")
DEGREES = vocabulary("many much long tall far old big often")
"""Words that make "how" ask a degree ("how tall is ...")."""
PERSONAL = vocabulary("it its they them their he him his she her")
TOPIC_WORDS = vocabulary("about on regarding")
POSSESSIVES = vocabulary("my your our")
ADVERBS = vocabulary("here there now today exactly actually really usually below above")
DO_SUPPORT = vocabulary("do does did can could will would should")
ONE_AFTER = vocabulary(
    "need buy get have use want pick which the this that first second third last best each"
)
"""Words after which "one" means a thing named before ("which one", "the second one")."""
ONE_FOR_A_KIND = vocabulary("need buy get have use want during does do is can would will did")
"""Words after which "one" means a thing of the kind named before ("do I need [a VPN]")."""
DUMMY_AFTER = vocabulary(
    "ok okay possible safe better best worth necessary true normal bad good hard easy legal "
    "rude wise smart too take takes took cost costs matter matters rain rains snow"
)
"""Words after "it" that make it empty ("is it ok to", "how long does it take")."""
PEOPLE = vocabulary("he him his she her they them their")
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
    topic: str = ""
    """The thing a pronoun of it was resolved to: a later pronoun means it too."""


def resolve(drafts: list[Draft], language: Language, has_context: bool) -> list[Draft]:
    """The drafts with fragments completed, pronouns resolved or turned into dependencies,
    and parts that cannot stand alone merged into the part before."""
    done: list[Draft] = []
    for draft in drafts:
        if not done:
            done.append(draft)
            continue
        previous = done[-1]
        whole = None if draft.item else _completed_fragment(previous.text, draft.text, language)
        if (draft.new_sentence or draft.fragment) and whole is not None:
            if whole is MERGE:  # "When?", "What about tea?" with no frame it fits
                _merge(previous, draft.text)
            else:
                done.append(Draft(str(whole)))
        elif draft.fragment:
            _merge(previous, draft.text)
        elif draft.then or ANSWER_REFERENCE.search(draft.text):  # "then translate it",
            done.append(Draft(draft.text, depends_on=[_root(done, len(done) - 1)]))  # "your answer"
        elif draft.new_sentence and (same := _repeated_frame(previous.text, draft.text)):
            done.append(Draft(same))  # "Is it legal in the US? is it legal in the UK too"
        elif (again := _done_again(previous.text, draft.text)) is not None:
            done.append(Draft(again))  # "who was the first woman to do it": climb Everest
        elif (pronoun := _pronoun(draft.text, language)) is not None:
            _lean(done, draft, pronoun, has_context, language)
        else:
            done.append(draft)
    return done


def _merge(previous: Draft, text: str) -> None:
    """Joins a part that cannot stand alone to the part before, for one delegate."""
    joined = f"{text[:1].lower()}{text[1:]}" if text[1:2].islower() else text
    previous.text = f"{previous.text.rstrip('.?!')}, and {joined}"


def _lean(
    done: list[Draft], draft: Draft, pronoun: int, has_context: bool, language: Language
) -> None:
    """Adds a draft that refers back with the word at `pronoun`: with the thing named in the
    pronoun's place, as it is (an item, or when the shared context may hold what it
    means), or depending on the part before, which its delegate then reads as an earlier
    exchange ("Suggest a houseplant and tell me how to care for it"; "Wer hat ihn
    gebaut?" after "Wie alt ist der Kölner Dom?"); a short question ("Why?") joins it."""
    previous = done[-1]
    said = words_of(draft.text)[pronoun]
    if (about := _about_the_same(previous.text, draft.text, pronoun)) is not None:
        done.append(Draft(about))  # "a book on stoicism, as well as a podcast about it"
        return
    makes = previous.depends_on or _makes_something(previous.text, said)
    kind_of = said == "one" and words_of(draft.text)[pronoun - 1 : pronoun] != [] and (
        words_of(draft.text)[pronoun - 1] in ONE_FOR_A_KIND
    )
    if said == "one" and not makes and not kind_of:  # "which one is bigger, A or B?"
        done.append(draft)
    elif not makes and language is ENGLISH and (named := _named(done, draft.text, pronoun)):
        done.append(Draft(named[0], topic=named[1]))
    elif not makes and (draft.item or has_context) and not _short_question(draft.text):
        done.append(draft)
    elif _short_question(draft.text):
        _merge(previous, draft.text)
    else:
        done.append(Draft(draft.text, depends_on=[_root(done, len(done) - 1)]))


def _about_the_same(previous: str, text: str, pronoun: int) -> str | None:
    """`text` with "about it" in the place of what the part before is about ("a good book
    on [stoicism]"); None unless the pronoun follows "about" or "on" and the part before
    ends on "about X" or "on X"."""
    words = words_of(text)
    if words[pronoun] != "it" or pronoun == 0 or words[pronoun - 1] not in TOPIC_WORDS:
        return None
    found = re.search(r"\b(?:about|on|regarding) ([\w'’ -]+?)[?.!]?$", previous.strip(), re.I)
    if found is None or len(found.group(1).split()) > 4:
        return None
    return re.sub(r"\bit\b", found.group(1), text, count=1)


def _root(done: list[Draft], index: int) -> int:
    """The part a chain of dependent parts starts from."""
    while done[index].depends_on:
        index = done[index].depends_on[0]
    return index


ANSWER_REFERENCE = re.compile(
    r"\b(?:your (?:answer|list|reply|response|poem|story|text|version|suggestions?|ideas?|"
    r"names?|picks?)|(?:that|this|the) (?:answer|list|result)|the above|you (?:used|wrote|gave|"
    r"suggested|picked|chose|made|listed|came up with))\b",
    re.IGNORECASE,
)
"""Words of a part that works on another part's answer ("translate your answer", "explain
the rhyme scheme you used")."""
DONE_AGAIN = re.compile(r"\b(?:to |)(?:do|did|does|doing) (?:it|that|so|this)\b", re.IGNORECASE)
"""A part that refers to the action of the part before ("... and who was the first woman to
do it?")."""


def _done_again(previous: str, text: str) -> str | None:
    """`text` with "do it" replaced by what the part before asks to do ("to climb Everest"),
    None when it has no "do it" or the part before no "to VERB ...";"""
    found = DONE_AGAIN.search(text)
    action = re.search(r"\bto ((?:[\w'’-]+)(?: [\w'’-]+){0,4})[?.!]?$", previous.strip())
    if found is None or action is None:
        return None
    doing = found.group(0).split()
    verb = action.group(1)
    to = "to " if doing[0].lower() == "to" else ""
    return f"{text[: found.start()]}{to}{verb}{text[found.end() :]}"


def _repeated_frame(previous: str, text: str) -> str | None:
    """A question that repeats the start of the part before and names another place or
    thing, completed with what it leaves out ("Is it legal to drive barefoot in the US?"
    then "is it legal in the UK too?" -> "is it legal to drive barefoot in the UK too?");
    None for any other part."""
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


MERGE = object()
"""A fragment no frame of the part before fits: it joins that part."""


def _completed_fragment(previous: str, text: str, language: Language) -> object | None:
    """A sentence that only names a new thing for the part before ("And of China?", "What
    about a guinea pig?", "¿Y la de Chile?", "Lunch?"), completed from it; `MERGE` for a
    fragment no frame fits ("When?"); None for a sentence that is not a fragment."""
    end = text.rstrip()[-1:] if text.rstrip()[-1:] in "?.!？" else ""
    body = strip_joining(text.rstrip("?.!？ ").lstrip("¿¡"), language)
    lowered = body.lower()
    opening = next((o for o in FRAGMENT_OPENINGS if lowered.startswith(o)), None)
    if opening is not None:
        body = body[len(opening) :]
    words = words_of(body)
    if not words:
        return None
    if _short_question(body):
        return MERGE
    bare = _bare_thing(words, language) and previous.rstrip().endswith(("?", "？"))
    if opening is None and not (_fragment_like(words, language) or bare):
        return None
    if opening is None and words[0] in PREPOSITIONS | DETERMINERS | language.of | language.back:
        body = body[:1].lower() + body[1:]  # "In a chicken breast?" reads on from the frame
    frame = previous.rstrip("?.!？ ")
    body = _possessive_named(body, frame)  # "what about its capital?": Malta's capital
    completed = (
        complete(frame, body, language)
        or in_place_of_last(frame, body)
        or _in_place_of_kind(frame, body)
        or _in_place_of_subject(frame, body)
        or _after_last_preposition(frame, body, language)
        or _in_place_of_last_thing(frame, body)
    )
    if completed is None or completed == frame:
        return MERGE
    return finish(completed, end or previous.rstrip()[-1:])


def _possessive_named(body: str, frame: str) -> str:
    """ "its capital" as "the capital of Malta", the thing the frame names last."""
    words = words_of(body)
    if len(words) < 2 or words[0] not in ("its", "their") or (last := _last_thing(frame)) is None:
        return body
    return f"the {body.split(None, 1)[1]} of {last}"


def _bare_thing(words: list[str], language: Language) -> bool:
    """A sentence of one to three words that names a thing and asks nothing ("Lunch?",
    "Spain?"): no question word, auxiliary or pronoun."""
    others = QUESTION_WORDS | AUXILIARIES | language.question_words | language.pronouns
    latin = all(re.match(r"[a-zà-ÿ0-9]", w) for w in words)  # not a CJK sentence
    named = words[1:] if words[0] in DETERMINERS | language.determiners else words
    return latin and 1 <= len(named) <= 2 and not any(w in others for w in words)


def _in_place_of_subject(frame: str, thing: str) -> str | None:
    """`thing` in the place of what a yes-no question asks about: its subject ("Is [coffee]
    bad for you?" -> "Is tea bad for you?"), or, when the subject is a pronoun, the object
    after its verb ("Can I eat [hard cheeses]?") or the last word ("is it worth learning
    [latin]?"); None for other frames."""
    tokens = frame.split()
    words = [(words_of(t) or [""])[0] for t in tokens]
    if len(words) < 3 or words[0] not in AUXILIARIES:
        return None
    if words[1] in ("it", "there") and words[0] in BE:
        return " ".join([*tokens[:-1], thing])
    if words[1] in PERSONAL | {"i", "you", "we"}:
        return " ".join([*tokens[:3], thing]) if len(tokens) > 3 else None
    size = 2 if words[1] in DETERMINERS else 1
    return " ".join([tokens[0], thing, *tokens[1 + size :]])


def _in_place_of_kind(frame: str, thing: str) -> str | None:
    """`thing` in the place of the kind a "what N" question asks for ("What [main dish] can
    I make?" -> "What dessert can I make?"); None for other frames."""
    tokens = frame.split()
    words = [(words_of(t) or [""])[0] for t in tokens]
    if len(words) < 3 or words[0] not in ("what", "which") or words[1] in AUXILIARIES:
        return None
    verb = next((i for i, w in enumerate(words[1:4], 1) if w in AUXILIARIES), None)
    return " ".join([tokens[0], thing, *tokens[verb:]]) if verb else None


def _in_place_of_last_thing(frame: str, thing: str) -> str | None:
    """A thing with an article in the place of the frame's last one ("Who invented [the
    telephone]?" -> "Who invented the light bulb?"); None when either has no article."""
    tokens = frame.split()
    words = [(words_of(t) or [""])[0] for t in tokens]
    articles = [i for i, w in enumerate(words) if w in DETERMINERS]
    if not articles or not words_of(thing) or words_of(thing)[0] not in DETERMINERS:
        return None
    return " ".join([*tokens[: articles[-1]], thing])


def _after_last_preposition(frame: str, thing: str, language: Language) -> str | None:
    """`thing` in the place of what follows the frame's last preposition, when that is one
    of its last four words ("What should I eat for [breakfast]?" -> "... for lunch?")."""
    tokens = frame.split()
    words = [(words_of(t) or [""])[0] for t in tokens]
    last_four = range(max(0, len(words) - 4), len(words) - 1)
    near = [i for i in last_four if words[i] in language.prepositions]
    if not near:
        return None
    same = words_of(thing)[:1] == [words[near[-1]]]  # "En voor een harde?": voor, once
    replaced = tokens[near[-1] + 1][:1]
    if replaced.islower() and thing[1:2].islower():  # "Lunch?" after "for breakfast"
        thing = thing[:1].lower() + thing[1:]
    return " ".join([*tokens[: near[-1] + (0 if same else 1)], thing])


def _fragment_like(words: list[str], language: Language) -> bool:
    """Whether a sentence is a fragment: it opens with a preposition, an article or a
    pronoun that names the thing again, and asks nothing of its own."""
    opens = words[0] in PREPOSITIONS | DETERMINERS | language.of | language.back | (
        language.prepositions
    )
    asks = any(w in QUESTION_WORDS | AUXILIARIES | language.question_words for w in words[1:])
    return opens and not (language is ENGLISH and asks)


def _pronoun(text: str, language: Language = ENGLISH) -> int | None:
    """The index (in `words_of(text)`) of a word that refers to something said before:
    "it", "its", "they", "them", "their", "he", "she"..., "one", "there" (not "is there",
    "is it ... to"), "this" or "that" as a thing ("explain that"; not "a fruit that is
    red"), or the language's own ("er", "elle", "ella"); None if none does."""
    words = words_of(text)
    for i, word in enumerate(words):
        before = words[i - 1] if i else ""
        if language is not ENGLISH:
            if word in language.pronouns or word.rsplit("-", 1)[-1] in language.pronouns:
                return i
            continue
        if word in PERSONAL and not _dummy_it(words, i):
            return i
        opens = i == 0 or before in QUESTION_WORDS | {"and", "if", "that", "whether"}
        existential = before in BE or (opens and words[i + 1 : i + 2] in (["is"], ["are"]))
        if word == "there" and not existential:
            return i
        if word == "one" and before in ONE_AFTER | ONE_FOR_A_KIND:
            return i
        alone = i + 1 == len(words) or words[i + 1] in PREPOSITIONS
        if word in DEMONSTRATIVES and (i == 0 or before in BEFORE_A_DEMONSTRATIVE) and alone:
            return i
    return None


def _dummy_it(words: list[str], index: int) -> bool:
    """Whether "it" is the empty subject of "is it ok to...", "how long does it take"."""
    return words[index] == "it" and words[index + 1 : index + 2] != [] and (
        words[index + 1] in DUMMY_AFTER or words[index + 1 : index + 3] == ["is", "to"]
    )

def _short_question(text: str) -> bool:
    """ "In what year?", "Why?": too short to stand alone."""
    words = words_of(text)
    if words[:1] and words[0] in PREPOSITIONS:  # "In what year?"
        return 1 < len(words) < 4 and words[1] in QUESTION_WORDS
    return 0 < len(words) < 3 and words[0] in QUESTION_WORDS  # "Why?", "When exactly?"

def _makes_something(part: str, pronoun: str = "it") -> bool:
    """Whether a part makes something new a later pronoun means: an instruction to write,
    pick or suggest ("Suggest a houseplant"), a question after the best, the most... of a
    kind ("What's the most spoken language in Africa?"), or, for "he", "she" and the like,
    a question after a person ("Who invented the telephone?")."""
    words = words_of(_REQUEST_LEAD.sub("", part))
    if not words:
        return False
    if words[0] in MAKING_VERBS or words[:2] in (["come", "up"], ["think", "of"]):
        return True
    if words[0] == "who" and pronoun in PEOPLE:
        return True
    picked = [i for i, w in enumerate(words[1:5], 1) if w in ("which", "what")]
    kind = words[picked[0] + 1 : picked[0] + 2] if picked else []
    if kind and kind[0] not in NOT_A_NOUN | {"one", "ones"}:
        return True  # "tell me which US state has the lowest tax": its answer is a state
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


def _named(done: list[Draft], text: str, pronoun: int) -> tuple[str, str] | None:
    """(`text` with the pronoun at `pronoun` replaced by the words of the thing the nearest
    part before it is about, that thing): the thing a pronoun of the part before already
    meant, else the part's own ("its N" takes the last thing the part names: "the N of
    Peru"); None when none names a thing, and for "its" not before a noun."""
    before = [d.text for d in reversed(done)]
    words = words_of(text)
    said, after = words[pronoun], words[pronoun + 1 : pronoun + 2]
    if said in ("its", "their"):
        if not after or after[0] in NOT_A_NOUN:
            return None
        topic = next((t for t in map(_last_thing, before) if t is not None), None)
    elif done[-1].topic:
        topic = done[-1].topic  # "why do cats purr? why do they knead? why do they ...?"
    elif said in ("they", "them") and (both := _alternatives_of(before[0])):
        topic = both  # "Which is faster, a blue whale or an orca? how long do they live"
    else:
        plural = said in ("they", "them")
        topic = next((t for t in (_topic(b, plural) for b in before) if t is not None), None)
    if topic is None:
        return None
    tokens = re.findall(r"[\w'’-]+|[^\w\s]+|\s+", text)
    position = next(i for i, t in enumerate(tokens) if t.lower().replace("’", "'") == said)
    return _replaced(tokens, position, topic), topic


def _alternatives_of(part: str) -> str | None:
    """ "a blue whale and an orca" of "Which is faster, a blue whale or an orca?"."""
    found = re.search(r",\s*([^,]+?)\s+or\s+([^,]+?)[?.!]*$", part.strip())
    return f"{found.group(1)} and {found.group(2)}" if found else None


def _last_thing(part: str) -> str | None:
    """The thing a part names last, after its last "of", "in", "for" or "about" ("What's
    the capital of [Peru]", "the area of [a circle]"), an article and a word or more, or a
    name; None if it ends otherwise."""
    tokens = part.rstrip("?.!").split()
    words = [(words_of(t) or [""])[0] for t in tokens]
    places = [i for i, w in enumerate(words[:-1]) if w in ("of", "in", "for", "about", "on")]
    if not places:
        return None
    thing = tokens[places[-1] + 1 :]
    named = thing[0][:1].isupper() or words[places[-1] + 1] in DETERMINERS
    return " ".join(thing) if named or len(thing) > 1 else None


def _replaced(tokens: list[str], position: int, topic: str) -> str:
    word = tokens[position].lower()
    if word in ("its", "their"):  # "its population" -> "the population of Peru"
        rest = "".join(tokens[position + 1 :]).lstrip()
        noun, _, after = rest.partition(" ")
        noun_end = len(noun.rstrip("?.!,"))
        phrase = f"the {noun[:noun_end]} of {topic}{noun[noun_end:]}"
        return "".join(tokens[:position]) + phrase + (f" {after}" if after else "")
    if word == "there":  # "get there" -> "get to the moon", "live there" -> "live in Lyon"
        before = "".join(tokens[:position]).split()[-1:]
        topic = f"{'to' if before and before[0].lower() in MOTION else 'in'} {topic}"
    head, _, inner = topic.partition(" of ")
    plural = head.endswith("s") and not head.endswith("ss")
    if inner and (plural if word == "it" else word in ("they", "them") and not plural):
        topic = inner  # "how is it different" after "the symptoms of flu": flu
    return "".join([*tokens[:position], topic, *tokens[position + 1 :]])


def _topic(part: str, plural: bool = False) -> str | None:
    """The words of the thing a part is about: the subject of a question ("When was [the
    Eiffel Tower] built", "what is [kombucha]"), the object after a question word and a
    verb ("Who painted [The Starry Night]"), the thing of an embedded question ("tell me
    what [a VPN] actually does"), the object of an instruction ("proofread [my bio]"), or
    what a request for tips or a recipe is for ("recipe for [banana bread]"). None if none
    is found."""
    plain = re.sub(r"\b(what|who|where|when|why|how|which)['’]s\b", r"\1 is", part, flags=re.I)
    tokens = plain.rstrip("?.!").split()
    words = [w[0] if (w := words_of(t)) else "" for t in tokens]
    for index, word in enumerate(words):
        if word in QUESTION_WORDS:
            return _asked_about(tokens, words, index, plural)
    if words[:1] and words[0] in REQUEST_NOUNS:
        return _last_thing(part)
    if words[:1] and words[0] in VERBS:
        start = 2 if words[1:2] in (["me"], ["us"]) else 1
        named = words[start : start + 1] and words[start] in DETERMINERS | POSSESSIVES
        return _phrase(tokens, words, start, "") if named else None
    return None


def _asked_about(
    tokens: list[str], words: list[str], index: int, plural: bool = False
) -> str | None:
    """The thing the question at `words[index]` asks about (see `_topic`); `plural` (for
    "they") also takes one plural word without an article ("why do [cats] purr")."""
    word, start = words[index], index + 1
    if word == "how" and words[start + 1 : start + 2] and words[start + 1] in AUXILIARIES:
        start += 1  # "how deep is [the Mariana Trench]"
    while start < len(words) and words[start] in DEGREES:
        start += 1
    kind = start < len(words) and words[start] not in AUXILIARIES | DETERMINERS
    if word in ("which", "what") and index == 0 and kind:
        start += 1  # "which country won [the first World Cup]": the kind, then the verb
    if start >= len(words):
        return None
    if words[start] in AUXILIARIES or index == 0:
        defined = word == "what" and words[start] in BE and index == 0  # "what is [kombucha]"
        return _phrase(tokens, words, start + 1, words[start], defined, plural)
    if words[start] not in PREPOSITIONS:
        return _phrase(tokens, words, start, "", plural=plural)  # "tell me what [a VPN] does"
    return None


def _phrase(
    tokens: list[str],
    words: list[str],
    start: int,
    verb: str,
    bare: bool = False,
    plural: bool = False,
) -> str | None:
    """The noun phrase from `start`: to the next preposition, auxiliary or adverb; without
    the clause's own verb after it ("does [daylight saving time] start", "was [the
    Eiffel Tower] built"). For "the best way to cook salmon", the thing cooked."""
    stop = start
    ends = (PREPOSITIONS - {"of"}) | AUXILIARIES | QUESTION_WORDS | ADVERBS
    while stop < len(words) and words[stop] not in ends:
        if (words[stop].endswith("ly") and stop > start) or tokens[stop].startswith(","):
            break
        stop += 1
        if tokens[stop - 1].endswith(","):
            break
    phrase = words[start:stop]
    if phrase and phrase[-1] in MANNER_NOUNS and words[stop : stop + 1] == ["to"]:
        thing = _phrase(tokens, words, stop + 2, "", bare=True)  # "...way to cook [salmon]"
        return thing if stop + 2 < len(words) else None
    short = len(phrase) == 2 and phrase[0] in DETERMINERS  # "does [a PhD] in the US cost"
    if verb in DO_SUPPORT and len(phrase) > 1:
        stop -= 0 if short else 1  # the bare verb after the subject
    elif len(phrase) > 1 and phrase[-1] in PARTICIPLES:
        stop -= 1
    if words[start : start + 1] in (["i"], ["you"], ["we"]) and start + 2 < len(words):
        return _phrase(tokens, words, start + 2, "", bare, plural)  # "do i make [pancakes]"
    if stop <= start or words[start] in PERSONAL | DEMONSTRATIVES | {"i", "you", "we", "me"}:
        return None  # "what is [this]": the picture, not a thing the request names
    if tokens[start][:1] in "'\"‘“":
        return None  # a quoted word is talked about, not a thing a pronoun means
    named = tokens[start][:1].isupper() or words[start] in DETERMINERS | POSSESSIVES
    if stop - start < 2 and not (named or bare or (plural and words[start].endswith("s"))):
        return None  # "are [good]": not a thing a pronoun can mean
    return " ".join(tokens[start:stop]).strip(",;:") or None
