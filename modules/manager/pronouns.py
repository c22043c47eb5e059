"""Pronouns of a part and the things they mean, in the words of the parts before it.

`pronoun_at` finds a word that refers back ("it", "its", "they", "one" after "need",
"there", "this" as a thing); `named` replaces it with the thing the nearest part before is
about (its subject, the object after a question word and a verb, an embedded question's
thing, an instruction's object), or, for "its N", with "the N of" the thing a part names
last.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from modules.manager.languages import ENGLISH, Language
from modules.manager.words import (
    ADVERBS,
    AUXILIARIES,
    BE,
    BEFORE_A_DEMONSTRATIVE,
    CLAUSE_STARTS,
    COUNTS,
    DEGREES,
    DEMONSTRATIVES,
    DETERMINERS,
    DO_SUPPORT,
    DUMMY_AFTER,
    KNOWN_TO_ALL,
    MANNER_NOUNS,
    MOTION,
    ONE_AFTER,
    ONE_FOR_A_KIND,
    PARTICIPLES,
    PEOPLE,
    PERSON_NOUNS,
    PERSONAL,
    POSSESSIVES,
    PREPOSITIONS,
    QUESTION_WORDS,
    REQUEST_LEAD,
    REQUEST_NOUNS,
    TOLD_VERBS,
    TOPIC_WORDS,
    VERBS,
    WEATHER,
    words_of,
)

NOT_A_NOUN = QUESTION_WORDS | AUXILIARIES | DETERMINERS | PREPOSITIONS


def pronoun_at(text: str, language: Language = ENGLISH) -> int | None:
    """The index (in `words_of(text)`) of a word that refers to something said before:
    "it", "its", "they", "them", "their", "he", "she"..., "one", "there" (not "is there",
    "is it ... to"), "this" or "that" as a thing ("explain that"; not "a fruit that is
    red"), or the language's own ("er", "elle", "ella"); None if none does."""
    found = list(_pronouns(text, language))
    words = words_of(text)
    if found and words[found[0]] in ("they", "them"):  # "what language do they speak there?"
        return next((i for i in found if words[i] == "there"), found[0])
    return found[0] if found else None


def _pronouns(text: str, language: Language = ENGLISH) -> Iterator[int]:
    """The indices of words that refer back, in order (see `pronoun_at`)."""
    words = words_of(text)
    for i, word in enumerate(words):
        before = words[i - 1] if i else ""
        if language is not ENGLISH:
            if word in language.pronouns or word.rsplit("-", 1)[-1] in language.pronouns:
                yield i
            continue
        typed_its = word == "its" and before in ("when", "if", "because", "since", "that")
        if word in PERSONAL and not _dummy_it(words, i) and not typed_its:  # "when its noon"
            yield i
        opens = i == 0 or before in QUESTION_WORDS | {"and", "if", "that", "whether"}
        existential = before in BE or (opens and words[i + 1 : i + 2] in (["is"], ["are"]))
        if word == "there" and not existential:
            yield i
        if word == "one" and before in ONE_AFTER | ONE_FOR_A_KIND:
            yield i
        alone = i + 1 == len(words) or words[i + 1] in PREPOSITIONS
        if word in DEMONSTRATIVES and (i == 0 or before in BEFORE_A_DEMONSTRATIVE) and alone:
            yield i


def _dummy_it(words: list[str], index: int) -> bool:
    """Whether "it" is the empty subject of "is it ok to...", "how long does it take",
    "does it matter if", "is it raining", "worth it" (not "is it good for weight loss", "how
    much is it worth", "why does it matter")."""
    after = words[index + 1 : index + 5]
    if words[index] == "it" and words[index - 1 : index] == ["worth"]:
        return True  # "are carbon plates worth it"
    if words[index] != "it" or not after:
        return False
    if words[index - 2 : index] == ["time", "is"]:
        return True  # "what time is it in tokyo"
    if after[0] == "worth" and after[1:2] and after[1].endswith("ing"):
        return not set(after[2:3]) <= ADVERBS  # "is it worth reading today": it is the book
    said = after[1] if after[0] in ("too", "very") and len(after) > 1 else after[0]
    hot = said in WEATHER
    if hot or after[0] in ("take", "takes", "took") or after[:2] == ["is", "to"]:
        return True  # "is it too hot then?", "how long does it take"
    clause = any(w in ("to", "if", "whether", "when") or w.endswith("ing") for w in after[1:])
    return after[0] in DUMMY_AFTER and clause


def named(
    before: list[str], text: str, pronoun: int, meant: str = "", guess: bool = True
) -> tuple[str, str] | None:
    """(`text` with the pronoun at `pronoun` replaced by the words of the thing the nearest
    part before it is about, that thing): `meant`, the thing a pronoun of the part before
    already meant, else the part's own (`before`: latest first; "its N" takes the last
    thing a part names: "the N of Peru"); None when none names a thing, and for "its" not
    before a noun."""
    words = words_of(text)
    said, after = words[pronoun], words[pronoun + 1 : pronoun + 2]
    if said == "it":  # "it" is no person: not who "Who was Robespierre?" asks about
        before = [b for b in before if not _asks_who(b)] or [""]
    if said in ("its", "their"):
        if not after or after[0] in NOT_A_NOUN:
            return None
        topic = next((t for t in map(last_thing, before) if t is not None), None)
    elif meant:
        topic = meant  # "why do cats purr? why do they knead? why do they ...?"
    elif said in ("they", "them") and (both := _alternatives_of(before[0])):
        topic = both  # "Which is faster, a blue whale or an orca? how long do they live"
    else:
        plural = said in ("they", "them")
        topic = next((t for t in (topic_of(b, plural) for b in before) if t is not None), None)
        if guess and topic is None and plural and (listed := _listed_thing(before[0])):
            topic = listed  # "1 best budget running shoes 2 how often to replace them"
        quoted = "'" in before[0] or '"' in before[0]  # "What does 'X' mean in [Python]"
        last = last_thing(before[0]) if guess and not quoted else None  # "in [a banana]"
        if last is not None and set(words_of(last)) & KNOWN_TO_ALL:
            last = None  # "How much can I take in [a day]?" names no thing
        if said != "one" or (last or "").startswith(("a ", "an ")):  # "one": of a kind
            topic = topic or last
        if said in PEOPLE and (person := _person_meant(said, topic, before)) is not None:
            topic = person  # "a good first car for [a teen] ... should they get a manual"
        place = last_thing(before[0]) or ""
        if said == "there" and place[:1].isupper():  # a place named last ("... of [Peru]")
            topic = place
    if said == "it" and topic is not None and _plural(topic):
        inner = topic.partition(" of ")[2]  # "the symptoms of [strep throat]"
        topic = inner if inner and not _plural(inner) else None
    if topic is None:
        return None  # "undo it" after "merge two branches": not the branches
    head, _, inner = topic.partition(" of ")
    of_a_place = said == "they" and inner and not _many(head) and "there" not in words
    name = topic[:1].isupper() or (" " not in topic and before[0][1:].islower())  # "germany"
    if of_a_place or (said in ("they", "them") and name and not _many(topic)):
        place = inner if of_a_place else topic  # "... the capital of [peru]"
        if said == "them" or "there" in words or set(words_of(place)) & KNOWN_TO_ALL:
            return None  # "do they need full sun" after "... in December": not December
        end = len(text.rstrip().rstrip("?.!"))  # "What currency do they use in Peru?"
        return f"{text[:end]} in {place}{text[end:]}", place
    if said == "it" and re.search(r"\w \bor\b [A-Z]", before[0]):
        return None  # "Is Ubuntu or Fedora better? can I dual boot it": whichever is picked
    agent = words[pronoun - 1 : pronoun] == ["for"] and after == ["to"]  # "for them to return"
    told = words[pronoun - 1 : pronoun] != [] and words[pronoun - 1] in TOLD_VERBS
    if (agent or told) and said in PEOPLE and not set(words_of(topic)) & PERSON_NOUNS:
        return None  # someone who does or is asked something: not "our options"
    tokens = re.findall(r"[\w'’-]+|[^\w\s]+|\s+", text)
    position = next(i for i, t in enumerate(tokens) if t.lower().replace("’", "'") == said)
    return _replaced(tokens, position, topic), topic


def _person_meant(said: str, topic: str | None, parts: list[str]) -> str | None:
    """The person the nearest of the parts names ("for [a teen]", "[my landlord]"), which
    "he", "she", or a "they" that cannot mean the one thing `topic` ("a good first car")
    means; None where `topic` is a person or a name, where "they" may mean it, or where no
    person is named."""
    if topic is not None and (topic[:1].isupper() or set(words_of(topic)) & PERSON_NOUNS):
        return None
    many = topic is not None and words_of(topic)[-1:] != [] and words_of(topic)[-1].endswith("s")
    if topic is not None and said in ("they", "them", "their") and many:
        return None  # "they" means things ("the new iPhones ... are they worth it")
    people = "|".join(PERSON_NOUNS)
    person = rf"\b(?:a|an|the|my|our|your|his|her|their)\s+(?:\w+\s+)?(?:{people})\b"
    return next((found[-1] for p in parts if (found := re.findall(person, p, re.I))), None)


def _asks_who(part: str) -> bool:
    """Whether a part asks who someone is ("Who was Robespierre?")."""
    words = words_of(part)
    return words[:1] == ["who"] and words[1:2] != [] and words[1] in BE


def _many(thing: str) -> bool:
    """Whether a thing may be what "they" means: a plural, a count or things joined."""
    words = words_of(thing)
    plural = bool(words) and words[-1].endswith("s") and not words[-1].endswith(("ss", "us"))
    return plural or bool(set(words) & (COUNTS | {"and", "both"}))


def _plural(thing: str) -> bool:
    """Whether a thing is many ("two branches", "the main causes"), which "it" never means."""
    words = words_of(thing.partition(" of ")[0])
    many = bool(words) and words[-1].endswith("s") and not words[-1].endswith(("ss", "us", "is"))
    return bool(words) and (words[0] in COUNTS or (words[0] == "the" and many))


def _listed_thing(part: str) -> str | None:
    """A short part that only names things ("Best budget running shoes."), in lower case."""
    words = words_of(part)
    if not 1 < len(words) <= 5 or set(words) & (
        VERBS | AUXILIARIES | QUESTION_WORDS | PREPOSITIONS
    ):
        return None
    thing = part.strip().rstrip("?.!")
    return thing[:1].lower() + thing[1:] if thing[1:2].islower() else thing


def _alternatives_of(part: str) -> str | None:
    """ "a blue whale and an orca" of "Which is faster, a blue whale or an orca?"."""
    found = re.search(r",\s*([^,]+?)\s+or\s+([^,]+?)[?.!]*$", part.strip())
    return f"{found.group(1)} and {found.group(2)}" if found else None


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
    named = thing[0][:1].isupper() or words[places[-1] + 1] in DETERMINERS
    typed_lower = part[1:].islower()  # "the capital of [canada]": names typed in lower case
    return " ".join(thing) if named or len(thing) > 1 or typed_lower else None


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
    for index, word in enumerate(words):
        if word in QUESTION_WORDS:
            return _asked_about(tokens, words, index, plural)
    if words[:1] and words[0] in REQUEST_NOUNS:
        return last_thing(part)  # "recipe for [banana bread]"
    if words[:1] and words[0] in VERBS:
        start = 2 if words[1:2] in (["me"], ["us"]) else 1
        if words[start : start + 1] and words[start] in TOPIC_WORDS:
            return last_thing(part)  # "tell me about [the Roman Colosseum]"
        named = words[start : start + 1] and words[start] in DETERMINERS | POSSESSIVES
        return _phrase(tokens, words, start, "") if named else None
    others = NOT_A_NOUN | PERSONAL | DEMONSTRATIVES | {"i", "you", "we", "there"}
    subject = words[1:2] != [] and words[1] not in others
    bare = words[2:3] != [] and (words[2] in DETERMINERS or (plural and words[1].endswith("s")))
    if words[:1] and words[0] in AUXILIARIES and subject and bare:
        return tokens[1]  # "Is [pluto] a planet", "Can [dogs] eat grapes"
    to = words.index("to") if "to" in words[3:6] and words[1:2] == ["it"] else 0
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
    while start < len(words) and words[start] in DEGREES:
        start += 1
    kind = start < len(words) and words[start] not in AUXILIARIES | DETERMINERS
    if word in ("which", "what") and index == 0 and kind:
        start += 1  # "which country won [the first World Cup]": the kind, then the verb
        named = start + 2 < len(words) and (
            words[start + 2] in DETERMINERS or tokens[start + 2][:1].isupper()
        )
        if named and words[start] not in AUXILIARIES and words[start + 1] in AUXILIARIES:
            start += 1  # "what time zone is [Chicago] in": a kind of two words
    if start >= len(words):
        return None
    if kind and words[start] in DETERMINERS:  # "what causes [a slow draining sink]": a verb
        return _phrase(tokens, words, start, words[start - 1], plural=plural)
    if words[start] in AUXILIARIES or index == 0:
        defined = word == "what" and words[start] in BE and index == 0  # "what is [kombucha]"
        return _phrase(tokens, words, start + 1, words[start], defined, plural)
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
    while stop < len(words) and words[stop] not in ends:
        if (words[stop].endswith("ly") and stop > start) or tokens[stop].startswith(","):
            break
        stop += 1
        if tokens[stop - 1].endswith(","):
            break
    phrase = words[start:stop]
    if set(phrase) & MANNER_NOUNS and words[stop : stop + 1] == ["to"]:
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
    if set(words[start:stop]) & PERSONAL:
        return None  # "how to [re-season it]": what "it" means is further back
    if tokens[start][:1] in "'\"‘“":
        return None  # a quoted word is talked about, not a thing a pronoun means
    named = tokens[start][:1].isupper() or words[start] in DETERMINERS | POSSESSIVES
    if stop - start < 2 and not (named or bare or (plural and words[start].endswith("s"))):
        return None  # "are [good]": not a thing a pronoun can mean
    return " ".join(tokens[start:stop]).strip(",;:") or None


def about_the_same(previous: str, text: str, pronoun: int) -> str | None:
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
