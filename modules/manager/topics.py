"""What a part is about, in its own words: the thing a question asks about (`topic_of`),
the thing it names last (`last_thing`).

"When was [the Eiffel Tower] built", "what is [kombucha]", "tell me what [a VPN] actually
does", "What's the capital of [Peru]": a pronoun, a fragment or a part that leans on the
part before takes these words from it.
"""

from __future__ import annotations

import re

from modules.manager.words import (
    ADVERBS,
    AUXILIARIES,
    BE,
    CLAUSE_STARTS,
    DEGREES,
    DEMONSTRATIVES,
    DETERMINERS,
    DO_SUPPORT,
    KNOWN_TO_ALL,
    MANNER_NOUNS,
    PARTICIPLES,
    PERSONAL,
    POSSESSIVES,
    PREPOSITIONS,
    QUESTION_WORDS,
    REQUEST_LEAD,
    REQUEST_NOUNS,
    SUBJECT_PRONOUNS,
    TOPIC_WORDS,
    VERBS,
    words_of,
)

NOT_A_NOUN = QUESTION_WORDS | AUXILIARIES | DETERMINERS | PREPOSITIONS
DASHES = frozenset({"-", "–", "—"})
QUALITIES = frozenset({"more", "good", "great", "best", "new", "cheap", "some", "many"})
"""Words before the things a part is about that say which, not what ("[more] google reviews")."""
SPEAKERS = frozenset({"i'm", "i've", "we're", "you're", "he's", "she's", "they're"})
"""A subject and its verb, which open a clause that ends the noun phrase before them."""


def last_thing(part: str) -> str | None:
    """The thing a part names last, after its last "of", "in", "for" or "about" ("What's
    the capital of [Peru]", "the area of [a circle]"), an article and a word or more, or a
    name; None if it ends otherwise."""
    tokens = part.rstrip("?.!").split()
    words = [(words_of(t) or [""])[0] for t in tokens]
    places = [i for i, w in enumerate(words[:-1]) if w in ("of", "in", "for", "about", "on")]
    if not places:
        return None
    thing = tokens[places[-1] + 1 :]
    if words[places[-1] + 1] in QUESTION_WORDS | {"if", "while"}:
        return None  # "look for [when buying a used car]": a clause, no thing
    verb = next((i for i, w in enumerate(words[places[-1] + 1 :]) if w in AUXILIARIES), None)
    thing = thing[:verb] if verb else thing  # "type of [cat] is the friendliest"
    doing = next((i for i, t in enumerate(thing[2:], 2) if t.lower().endswith("ing")), None)
    thing = thing[:doing] if doing else thing  # "leaves on [my monstera] turning yellow"
    said = next((i for i, t in enumerate(thing[1:], 1) if t.lower() in PERSONAL | DASHES), None)
    thing = thing[:said] if said else thing  # "about [my bike] its chain keeps", "[git] - what"
    named = thing[0][:1].isupper() or words[places[-1] + 1] in DETERMINERS
    said = " ".join(thing).rstrip(":;,")  # "info on [my flight BA283]: it got delayed"
    return said if named or len(thing) > 1 or typed_lower(part) else None


def places_in(part: str) -> list[str]:
    """The places a part names after "in", "to" or "at", in order: names, or any word of a
    part typed in lower case ("in barcelona in october": barcelona; "in the Alps"; not
    "to [visit] barcelona", a verb, nor "in [may]", a time)."""
    spots = [
        m.group(2)
        for m in re.finditer(r"\b(in|to|at) ((?:the )?[\w'’-]+)(?=( \w+)?)", part)
        if m.group(2).lower() not in KNOWN_TO_ALL | DETERMINERS
        and not (m.group(1) == "to" and m.group(3) and m.group(3).strip() not in PREPOSITIONS)
    ]
    return [s for s in spots if s.removeprefix("the ")[:1].isupper() or typed_lower(part)]


def typed_lower(part: str) -> bool:
    """Whether a part was typed in lower case, its first letter aside (a part is
    capitalised when it is split off), so that its names are too: "the capital of
    [canada]"."""
    return part[1:].islower()


def topic_of(part: str, plural: bool = False) -> str | None:
    """The words of the thing a part is about: the subject of a question ("When was [the
    Eiffel Tower] built", "what is [kombucha]"), the object after a question word and a
    verb ("Who painted [The Starry Night]"), the thing of an embedded question ("tell me
    what [a VPN] actually does"), the object of an instruction ("proofread [my bio]"), or
    what a request for tips or a recipe is for ("recipe for [banana bread]"). None if none
    is found."""
    asked = r"\b(what|who|where|when|why|how|which)(?:['’]s|s)\b"  # "whats", "what's"
    plain = re.sub(asked, r"\1 is", part, flags=re.I)
    plain = REQUEST_LEAD.sub("", plain)  # "Could you summarise [the plot of Hamlet]"
    tokens = plain.rstrip("?.!").split()
    words = [w[0] if (w := words_of(t)) else "" for t in tokens]
    bare = not set(words[2:]) & NOT_A_NOUN  # "who founded [google]", not "[the Mona Lisa]"
    if words[:1] == ["who"] and 2 < len(words) <= 5 and words[1].endswith("ed") and bare:
        return " ".join(tokens[2:])  # "who discovered [penicillin]"
    for index, word in enumerate(words):
        if word in QUESTION_WORDS:
            return _asked_about(tokens, words, index, plural)
    if words[:1] and words[0] in REQUEST_NOUNS:
        return last_thing(part)  # "recipe for [banana bread]"
    if words[:1] and words[0] in VERBS:
        start = 2 if words[1:2] in (["me"], ["us"]) else 1
        if words[start : start + 1] and words[start] in TOPIC_WORDS:  # "about [the Great Wall
            return _phrase(tokens, words, start + 1, "") or last_thing(part)  # of China]"
        named = words[start : start + 1] and words[start] in DETERMINERS | POSSESSIVES
        if len(words) == start + 1 and words[start] not in NOT_A_NOUN | PERSONAL:
            return tokens[start]  # "Define [photosynthesis]"
        return _phrase(tokens, words, start, "") if named else None
    others = NOT_A_NOUN | PERSONAL | DEMONSTRATIVES | {"i", "you", "we", "there"}
    subject = words[1:2] != [] and words[1] not in others
    bare = words[2:3] != [] and (words[2] in DETERMINERS or (plural and words[1].endswith("s")))
    if words[:1] and words[0] in AUXILIARIES and subject and bare:
        return tokens[1]  # "Is [pluto] a planet", "Can [dogs] eat grapes"
    if words[:1] and words[0] in BE and words[1:2] == ["the"]:  # "Is [the stock market] open"
        ends = NOT_A_NOUN | PERSONAL
        stop = next((i for i in range(2, len(words)) if words[i] in ends), len(words))
        said = tokens[1:stop]
        cut = len(said) > 2 and said[-1].islower() and words[stop : stop + 1] != ["of"]
        said = said[:-1] if cut else said  # not "open"; "the balloon rides [of X] safe"
        return " ".join(said) if len(said) > 1 else None
    named = [
        i for i in range(2, len(tokens)) if not (tokens[i][:1].isupper() or tokens[i][:1].isdigit())
    ]
    name = named[0] if named else len(tokens)
    if words[:1] and words[0] in AUXILIARIES and words[1:2] == ["a"] and name > 2:
        return " ".join(tokens[1:name])  # "Does [a 2015 Honda Civic] use a timing belt"
    to = words.index("to") if "to" in words[3:6] and words[1:2] == ["it"] else 0
    held = words.index("for") if "for" in words[3:5] and words[1:2] == ["it"] else 0
    if held and words[0] in AUXILIARIES and "to" in words[held + 2 :]:
        return " ".join(tokens[held + 1 : words.index("to", held + 2)])  # "for [a baby] to"
    if plural and words[:1] and words[0] in AUXILIARIES and to and to + 2 < len(words):
        return _phrase(tokens, words, to + 2, "", plural=True)  # "is it ok to eat [eggs]"
    asks_me = words[1:2] in (["i"], ["you"], ["we"]) and len(words) > 3
    if words[:1] and words[0] in AUXILIARIES and asks_me and words[3] in DETERMINERS:
        return _phrase(tokens, words, 3, "")  # "Do I need [a visa] for Japan?"
    way = next((i for i, w in enumerate(words[:3]) if w in MANNER_NOUNS), None)
    if way is not None and words[way + 1 : way + 2] == ["to"] and way + 3 < len(words):
        return _phrase(tokens, words, way + 3, "", bare=True)  # "best way to clean [a pan]"
    return None


def _asked_about(
    tokens: list[str], words: list[str], index: int, plural: bool = False
) -> str | None:
    """The thing the question at `words[index]` asks about (see `topic_of`); `plural` (for
    "they") also takes one plural word without an article ("why do [cats] purr")."""
    word, start = words[index], index + 1
    if word == "how" and words[start + 1 : start + 2] and words[start + 1] in AUXILIARIES:
        start += 1  # "how deep is [the Mariana Trench]"
    while start < len(words) and words[start] in DEGREES | {"away"}:  # "how far away is [mars]"
        start += 1
    much = words[index + 1 : index + 2] == ["much"] and index == 0 and not plural
    taken = words[start + 1 : start + 3]  # "how much [creatine] should i take"; not "is in"
    if much and len(taken) == 2 and taken[0] in DO_SUPPORT and taken[1] in ("i", "you", "we"):
        return _phrase(tokens, words, start, "", bare=True)
    if word == "who" and index > 0 and start + 1 < len(words) and words[start] not in NOT_A_NOUN:
        start += 1  # "tell me who wrote [Pride and Prejudice]": "who" is the subject
    kind = start < len(words) and words[start] not in AUXILIARIES | DETERMINERS
    if word in ("which", "what") and index == 0 and kind:
        start += 1  # "which country won [the first World Cup]": the kind, then the verb
        named = start + 2 < len(words) and (
            words[start + 2] in DETERMINERS or tokens[start + 2][:1].isupper()
        )
        if named and words[start] not in AUXILIARIES and words[start + 1] in AUXILIARIES:
            start += 1  # "what time zone is [Chicago] in": a kind of two words
    if start >= len(words) or words[start] == "to":
        return None  # "what info to write down": no thing, an infinitive
    if kind and words[start] in DETERMINERS:  # "what causes [a slow draining sink]": a verb
        return _phrase(tokens, words, start, words[start - 1], plural=plural)
    if words[start] in AUXILIARIES or index == 0:
        defined = word == "what" and words[start] in BE and index == 0  # "what is [kombucha]"
        big = word == "how" and words[index + 1] in DEGREES and words[start] in BE
        defined = defined or big  # "how far away is [mars]"
        phrase = _phrase(tokens, words, start + 1, words[start], defined, plural)
        said = (phrase or "").split()
        state = word in ("why", "how") or said[-1:] != [] and said[-1].endswith(("ble", "open"))
        right_after = state and start == index + 1  # "when is [the eclipse] visible"
        if right_after and words[start] in BE and len(said) > 2 and said[-1].islower():
            return " ".join(said[:-1])  # "why is [the sky] blue": what it is, said after it
        return phrase
    if words[start] not in PREPOSITIONS:
        phrase = _phrase(tokens, words, start, "", plural=plural)  # "tell me what [a VPN] does"
        return _without_verb(phrase) if words[start] in DETERMINERS else phrase
    return None


def _without_verb(phrase: str | None) -> str | None:
    """An embedded question's subject without the verb after it: "how [a transformer neural
    network] works" (a word in "s" after a noun that has none; not "the kidneys")."""
    words = (phrase or "").split()
    verb = next(
        (
            i
            for i, w in enumerate(words[2:], 2)
            if _third_person(w) and not _third_person(words[i - 1])
        ),
        None,
    )
    return " ".join(words[:verb]) if verb is not None else phrase


def _third_person(word: str) -> bool:
    return word.endswith("s") and not word.endswith(("ss", "us", "is"))


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
    ends = (PREPOSITIONS - {"of"}) | AUXILIARIES | QUESTION_WORDS | ADVERBS | CLAUSE_STARTS
    ends |= {"like"} if verb in DO_SUPPORT | BE else set()  # "does [a ii-V-I] sound like"
    named = start + 1 < len(words) and words[start] in DETERMINERS  # "[a for loop]": a name
    while stop < len(words) and (words[stop] not in ends or named and stop == start + 1):
        clause = stop > start and words[stop] in SPEAKERS  # "tell [my parents] i'm gay"
        if (words[stop].endswith("ly") and stop > start) or tokens[stop].startswith(",") or clause:
            break
        stop += 1
        if tokens[stop - 1].endswith(","):
            break
    phrase = words[start:stop]
    if set(phrase) & MANNER_NOUNS and words[stop : stop + 1] == ["to"]:
        thing = _phrase(tokens, words, stop + 2, "", bare=True)  # "...way to cook [salmon]"
        return thing if stop + 2 < len(words) else None
    short = len(phrase) == 2 and phrase[0] in DETERMINERS  # "does [a PhD] in the US cost"
    verb_after = words[stop : stop + 1] != [] and (  # "do [my hydrangeas] have", "actually do"
        words[stop] in ADVERBS | {"have", "has", "do", "be", "get"} or words[stop].endswith("ly")
    )
    cut = not short and len(phrase) > 1 and not verb_after  # the clause's verb after its subject
    bare_verb = [i for i in range(start + 1, stop) if words[i] in VERBS]  # "bees [make] honey"
    if verb in DO_SUPPORT and cut:
        stop = bare_verb[0] if bare_verb else stop - 1  # the bare verb after the subject
    elif cut := len(phrase) > 1 and (
        phrase[-1] in PARTICIPLES or verb in BE and phrase[-1].endswith("ed")
    ):
        stop -= 1
    if words[start : start + 1] in (["i"], ["you"], ["we"]) and start + 2 < len(words):
        particle = words[start + 2] in ("up", "out", "off", "down", "back", "away")
        at = start + (3 if particle else 2)  # "do i make [pancakes]", "do i set up [a venv]"
        thing = _phrase(tokens, words, at, "", bare, plural) if at < len(words) else None
        said = (thing or "").split()
        if words[start + 1] in ("let", "help") and len(said) > 1:  # "let [steak] rest after"
            return " ".join(said[: 2 if words[at] in DETERMINERS | POSSESSIVES else 1])
        return thing
    if stop <= start or words[start] in PERSONAL | DEMONSTRATIVES | {"i", "you", "we", "me"}:
        return None  # "what is [this]": the picture, not a thing the request names
    if set(words[start:stop]) & PERSONAL:
        return None  # "how to [re-season it]": what "it" means is further back
    if tokens[start][:1] in "'\"‘“":
        return None  # a quoted word is talked about, not a thing a pronoun means
    named = tokens[start][:1].isupper() or words[start] in DETERMINERS | POSSESSIVES
    subject = cut and words[start] not in NOT_A_NOUN  # "when was [gladiator] released"
    if stop - start < 2 and not (named or bare or subject or plural and words[start][-1:] == "s"):
        return None  # "are [good]": not a thing a pronoun can mean
    return " ".join(tokens[start:stop]).strip(",;:") or None


def possessive_named(body: str, frame: str) -> str:
    """ "its capital" as "Malta's capital", of the thing the frame names last: what the frame
    asks of that thing is asked of this one ("What's the population of Malta's capital?")."""
    words = words_of(body)
    if len(words) < 2 or words[0] not in ("its", "their") or (last := last_thing(frame)) is None:
        return body
    return f"{last}'s {body.split(None, 1)[1]}"


def asks_for_things(words: list[str]) -> bool:
    """Whether a question's answer is things of a kind, its subject: "what [main dishes]
    could work", "what [countries] border France" (not "what gas do [plants] take in")."""
    if words[:1] == ["what"] and words[1:2] in (["are"], ["is"]) and words[2:3] == ["some"]:
        return True  # "What are some plants that do well in low light?"
    kind = [w for w in words[1:3] if w not in NOT_A_NOUN]  # "what [main dishes] could"
    if words[:1] not in (["what"], ["which"]) or words[1:2] != kind[:1] or not kind:
        return False
    after = words[1 + len(kind) : 3 + len(kind)]
    if after[:1] in (["do"], ["does"], ["did"]) or after[1:2] and after[1] in SUBJECT_PRONOUNS:
        return False  # the kind is the object: "what gas do plants ...", "what dishes can I"
    return any(w.endswith("s") and not w.endswith(("ss", "as", "us")) for w in kind)


def superlative_kind(phrase: list[str]) -> bool:
    """ "the most spoken language", "the best book": a superlative and a kind of thing
    (not "the best way", whose answer is a manner)."""
    if len(phrase) < 3 or not (phrase[1] in ("best", "most", "worst") or phrase[1].endswith("est")):
        return False
    head = next((w for w in phrase[2:] if w in PREPOSITIONS | {"to"}), None)
    nouns = phrase[2 : phrase.index(head)] if head else phrase[2:]
    return bool(nouns) and nouns[-1] not in MANNER_NOUNS


def asked_thing(words: list[str]) -> list[str]:
    """The words of what a "what is X" question asks about ("the capital of Peru")."""
    if len(words) > 2 and words[0] in ("what", "which", "who") and words[1] in ("is", "are"):
        return words[2:]
    return []


def one_named(frame: str, body: str) -> str:
    """ "a fantasy one" as "a fantasy book" after a frame that asks for "a good sci-fi
    book": "one" after a word that says which kind, in the place of the frame's noun."""
    words = words_of(body)
    if words[:1] == [] or words[0] not in DETERMINERS or "one" not in words[2:]:
        return body
    tokens = frame.split()
    said = [(words_of(t) or [""])[0] for t in tokens]
    start = next((i for i, w in enumerate(said) if w in DETERMINERS), None)
    if start is None:
        return body
    ends = PREPOSITIONS | AUXILIARIES | QUESTION_WORDS | {"that", "for", "to"}
    end = next((i for i in range(start + 1, len(said)) if said[i] in ends), len(said))
    noun = tokens[end - 1].rstrip("?.!,")
    return re.sub(r"\bone\b", lambda _: noun, body, count=1) if end - start > 1 else body


def ones_named(previous: str, text: str) -> str | None:
    """ "the bad ones" as "the bad google reviews" after a part about "more google reviews",
    "so many" as "so many tornadoes" after one about tornadoes: the things the part before
    is about, without its own words of which ("more", "good"); None when either says none."""
    ones = re.search(r"\b(?:the|those|these) [\w-]+ (ones)\b", text, re.IGNORECASE)
    many = re.search(r"\b(?:so|that|too) many( ?)(?=[?.!]*$)", text, re.IGNORECASE)
    if ones is None and not set(words_of(text)) & PERSONAL:  # not "why do they need so many"
        ones = many
    things = topic_of(previous, plural=True) if ones else None
    words = (things or "").split()
    if ones is None or not words or not words[-1].endswith("s") or words[0] in PERSONAL:
        return None
    noun = " ".join(words[1:] if words[0].lower() in DETERMINERS | QUALITIES else words)
    space = " " if ones.group(1) == "" else ""  # "so many [tornadoes]"
    return f"{text[: ones.start(1)]}{space}{noun}{text[ones.end(1) :]}"


def a_new_thing(text: str) -> bool:
    """Whether an item only names a new thing ("a tripod under 50 bucks"), for the verb of
    the first item ("recommend a good beginner dslr")."""
    words = words_of(text)
    asks = set(words) & (VERBS | AUXILIARIES | QUESTION_WORDS | SUBJECT_PRONOUNS)
    return words[:1] in (["a"], ["an"], ["some"], ["another"]) and not asks


def verb_lead(part: str) -> str:
    """The verb an instruction opens with, and "me" or "us" after it ("Give me"); "" when it
    opens otherwise."""
    tokens = REQUEST_LEAD.sub("", part).split()
    words = [(words_of(t) or [""])[0] for t in tokens]
    if not words or words[0] not in VERBS:
        return ""
    size = 2 if words[1:2] in (["me"], ["us"]) else 1
    return " ".join(tokens[:size]).capitalize()


BEST_ASKED = re.compile(
    r"\s*(?:what|which)(?:['’]?s| is| are)? the (?:\w+est|best|worst) ([\w-]+)", re.I
)
"""A question that asks which thing of a kind is the best: its answer is "that" thing."""


def names_answer(previous: str, text: str) -> bool:
    """Whether a part names with "that" the kind of thing the part before asks for, so its
    answer ("what year did the titanic sink? who was the us president [that year]?"), or,
    after "what is ...?", a thing the part before does not name ("what is the capital of
    peru? what's the population of [that city]?")."""
    asked = re.match(r"\s*(?:what|which) ([\w'’-]+)", previous, re.I)
    pointed = re.search(
        r"(?<!is )(?<!was )\bthat ([a-z]+)\b(?! (?:is|are|was|were|has)\b)", text.lower()
    )
    unnamed = pointed and pointed.group(1) not in set(words_of(previous)) | NOT_A_NOUN | PERSONAL
    if asked and unnamed and asked.group(1).lower() in BE:  # "the capital of peru? that city"
        return True
    best = BEST_ASKED.match(previous)  # "what's the best lens for portraits? ... that lens"
    if best and pointed and pointed.group(1) == best.group(1).lower():
        return True
    if asked is None or asked.group(1).lower() in NOT_A_NOUN:
        return False
    return re.search(rf"\b(?:that|the same) {re.escape(asked.group(1))}\b", text, re.I) is not None
