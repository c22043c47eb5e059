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

from modules.manager.foreign import owner_meant_in
from modules.manager.languages import ENGLISH, Language
from modules.manager.topics import NOT_A_NOUN, last_thing, places_in, topic_of, typed_lower
from modules.manager.words import (
    ADVERBS,
    AUXILIARIES,
    BE,
    BEFORE_A_DEMONSTRATIVE,
    COUNTS,
    DEMONSTRATIVES,
    DETERMINERS,
    DUMMY_AFTER,
    EVENT_NOUNS,
    KNOWN_TO_ALL,
    LEAD_WORDS,
    MEASURES,
    MOTION,
    ONE_AFTER,
    ONE_FOR_A_KIND,
    PEOPLE,
    PERSON_NOUNS,
    PERSON_PRONOUNS,
    PERSONAL,
    PLACE_PREPOSITIONS,
    PREPOSITIONS,
    QUESTION_WORDS,
    SINGULAR,
    TOLD_VERBS,
    TOPIC_WORDS,
    VERBS,
    WEATHER,
    animate,
    words_of,
)

COMPARED = frozenset({"better", "worse", "best", "worst", "easier", "harder", "cheaper"})
"""What "what's better" asks for: no thing "it" may mean."""
IMPERSONAL = frozenset({"faut", "fait", "reste", "suffit", "vaut", "s'agit"})
"""French verbs whose "il" means nothing ("faut-il", "il reste")."""


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
            said = word.split("-")  # "faut-il", "y a-t-il": nothing either
            impersonal = word == "il" and words[i + 1 : i + 2] in (["faut"], ["y"], ["fait"])
            impersonal = impersonal or said[-1] == "il" and (said[0] in IMPERSONAL or before == "y")
            own = word in language.pronouns or word.rsplit("-", 1)[-1] in language.pronouns
            if own and not impersonal:  # not "il faut"
                yield i
            continue
        typed_its = word == "its" and before in ("when", "if", "because", "since", "that", "until")
        own = word in ("its", "his", "her", "their") and _subject_named(text, i)
        joined = before in ("so", "until", "because") and set(words[:i]) & DETERMINERS
        own = own or (word == "it" and bool(joined))  # "lock [the header row] so it stays"
        if word in PERSONAL and not (_dummy_it(words, i) or typed_its or own):
            yield i  # not "when its noon", "why Hamlet delays his revenge"
        opens = i == 0 or before in QUESTION_WORDS | {"and", "if", "that", "whether"}
        existential = before in BE or (opens and words[i + 1 : i + 2] in (["is"], ["are"]))
        if word == "there" and not existential:
            yield i
        after = words[i + 1 : i + 3]  # "is one page still the rule": a count of pages
        counted = before in BE and len(after) == 2 and after[0] not in NOT_A_NOUN | ADVERBS
        counted = counted and not after[0].endswith(("er", "est")) and after[1] not in NOT_A_NOUN
        if word == "one" and before in ONE_AFTER | ONE_FOR_A_KIND and not counted:
            yield i
        ahead = i < len(words_of(text.partition(":")[0])) < len(words)  # "this into X: ..."
        alone = (i + 1 == len(words) or words[i + 1] in PREPOSITIONS) and not ahead
        if word in DEMONSTRATIVES and (i == 0 or before in BEFORE_A_DEMONSTRATIVE) and alone:
            yield i


def _subject_named(text: str, index: int) -> bool:
    """Whether the clause names, before a possessive at word `index`, a name it may mean
    ("why Hamlet delays his revenge"; not "what's the formula for its circumference")."""
    return any(t[:1].isupper() for t in text.split()[1:index])


def _dummy_it(words: list[str], index: int) -> bool:
    """Whether "it" is the empty subject of "is it ok to...", "how long does it take",
    "does it matter if", "is it raining", "worth it" (not "is it good for weight loss", "how
    much is it worth", "why does it matter")."""
    after = words[index + 1 : index + 7]  # "is it normal for [the AC] to smell musty"
    if words[index] == "it" and words[index - 1 : index] == ["worth"]:
        return True  # "are carbon plates worth it"
    if words[index] != "it" or not after:
        return False
    if words[index - 2 : index] == ["time", "is"]:
        return True  # "what time is it in tokyo"
    if after[0] == "worth" and after[1:2] and after[1].endswith("ing"):
        return not set(after[2:3]) <= ADVERBS  # "is it worth reading today": it is the book
    said = after[1] if after[0] in ("too", "very") and len(after) > 1 else after[0]
    hot = said in WEATHER or after[-1:] == ["there"] and len(after) <= 3  # "crowded there"
    takes = after[0] in ("take", "takes", "took") and ("how" in words or "to" in after)
    if hot or takes or after[:2] == ["is", "to"]:  # not "what oil weight does it take"
        return True  # "is it too hot then?", "how long does it take"
    if after[0] in ("a", "an") and "to" in after[2:4]:
        return True  # "is it a good time to visit", "is it a bad idea to"
    opens = ("to", "if", "whether", "when", "that")  # "is it normal that she sleeps"
    clause = any(w in opens or w.endswith("ing") for w in after[1:])
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
        made = topic_of(before[0])
        short = made if made and len(made.split()) <= 3 else None  # "[my car] make a clicking"
        topic = topic or meant or short  # "who founded [google]? where is its headquarters"
    elif meant and (said not in PERSON_PRONOUNS or animate(words_of(meant)[-1])):
        topic = meant  # "why do cats purr? why do they knead? why do they ...?"
    elif said in ("they", "them") and (both := _alternatives_of(before[0])):
        topic = both  # "Which is faster, a blue whale or an orca? how long do they live"
    else:
        plural = said in ("they", "them")
        known = ("the ", "my ", "your ", "our ") if said == "one" else ()  # "one": of a kind
        found = (t for t in (topic_of(b, plural) for b in before) if t and not t.startswith(known))
        topic = next(found, None)
        if guess and topic is None and plural and (listed := _listed_thing(before[0])):
            topic = listed  # "1 best budget running shoes 2 how often to replace them"
        quoted = "'" in before[0] or '"' in before[0]  # "What does 'X' mean in [Python]"
        last = last_thing(before[0]) if guess and not quoted else None  # "in [a banana]"
        if last is not None and set(words_of(last)) & KNOWN_TO_ALL:
            last = None  # "How much can I take in [a day]?" names no thing
        if said == "it" and last and " " not in last and _plural(f"the {last}"):
            last = None  # "best for [apartments]": never what "it" means
        if said != "one" or (last or "").startswith(("a ", "an ")):  # "one": of a kind
            topic = topic or last
        if said == "it" and (term := _term_asked(before[0])) is not None:
            topic = term  # "how do you pronounce it" after "what does 'X' mean"
        if said in PEOPLE and (person := _person_meant(said, topic, before)) is not None:
            topic = person  # "a good first car for [a teen] ... should they get a manual"
        one = (topic or "").split()[:1] in (["my"], ["your"], ["our"], ["a"], ["an"], ["the"])
        thing = one and " of " not in (topic or "") and not many(topic or "")
        if said == "they" and thing and not set(words_of(topic or "")) & PERSON_NOUNS:
            things = (t for t in (topic_of(b, True) for b in before[1:]) if t and many(t))
            topic = next(things, topic)  # "do they need a friend": [rabbits], not "my rabbit"
        to = re.search(r"\b(?:to|between .+? and) ([\w'’-]+(?: [A-Z][\w'’-]*)*)[?.!]*$", before[0])
        place = last_thing(before[0]) or (to.group(1) if to else "")
        after_of = re.search(rf"\b(?:of|in|to) {re.escape(place)}[?.!]*$", before[0]) is not None
        typed = place != "" and " " not in place and typed_lower(before[0]) and after_of
        typed = typed and place.lower() not in KNOWN_TO_ALL  # not "in march"
        named = places_in(before[0])  # "in barcelona in october": barcelona
        if said == "there" and (place.removeprefix("the ")[:1].isupper() or typed):  # a place
            topic = place
        elif said == "there" and named:
            topic = named[-1]
    measured = topic and words_of(topic.partition(" of ")[0])[-1:] in ([w] for w in MEASURES)
    if said == "it" and measured and words[pronoun - 1 : pronoun] == ["of"]:
        topic = topic.rpartition(" of ")[2]  # "the area of it": of tokyo, not of its population
    if said == "it" and topic is not None and _plural(topic):
        inner = topic.partition(" of ")[2]  # "the symptoms of [strep throat]"
        last = last_thing(before[0]) if guess else None  # "the leaves on [my monstera]"
        topic = next((t for t in (inner, last) if t and not _plural(t)), None)
    elif said == "it" and topic is not None and re.fullmatch(r"the [a-z]+ of [A-Z][\w ]*", topic):
        head, _, name = topic.partition(" of ")  # "how many provinces does it have": [Canada]
        topic = topic if words_of(head)[-1] in EVENT_NOUNS else name  # "the battle of Hastings"
    if topic is None or said == "they" and re.search(r"\d%", topic):
        return None  # "undo it" after "merge two branches"; "10% of 50 and 50% of 10"
    other = topic_of(before[1]) if len(before) > 1 else None  # "what [a p-value] is"
    if said == "them" and not many(topic) and other not in (None, topic) and not many(other):
        topic = f"{other} and {topic}"  # "... and [a confidence interval]? why confuse them"
    person = set(words_of(topic)) & PERSON_NOUNS  # "take them to the er": a toddler
    if not many(topic) and (said == "them" and not person or set(words) & {"apart", "both"}):
        return None  # "delete them" after "the sql to get X"; "how far apart are they"
    if said == "it" and topic.lower() in COMPARED:
        return None  # "whats better for a beginner, guitar or piano": no thing
    head, _, inner = topic.partition(" of ")
    of_place = said == "they" and inner and not (many(head) or many(inner)) and "there" not in words

    name = topic[:1].isupper() or (" " not in topic and typed_lower(before[0]))  # "germany"
    are = words[pronoun - 1 : pronoun] != [] and words[pronoun - 1] in BE  # "are they called"
    if not are and (of_place or (said in ("they", "them") and name and not many(topic))):
        place = inner if of_place else topic  # "... the capital of [peru]"
        if said == "them" or "there" in words or set(words_of(place)) & KNOWN_TO_ALL:
            return None  # "do they need full sun" after "... in December": not December
        if words[-2:-1] != [] and words[-2] in PLACE_PREPOSITIONS and words[-1] not in NOT_A_NOUN:
            return text, words[-1]  # "what language do they speak in brazil": its own place
        end = len(text.rstrip().rstrip("?.!"))  # "What currency do they use in Peru?"
        return f"{text[:end]} in {place}{text[end:]}", place
    if said == "it" and re.search(r"\w \bor\b [A-Z]", before[0]):
        return None  # "Is Ubuntu or Fedora better? can I dual boot it": whichever is picked
    agent = words[pronoun - 1 : pronoun] == ["for"] and after == ["to"]  # "for them to return"
    told = words[pronoun - 1 : pronoun] != [] and words[pronoun - 1] in TOLD_VERBS
    if (agent or told) and said in PEOPLE and not set(words_of(topic)) & PERSON_NOUNS:
        return None  # someone who does or is asked something: not "our options"
    tokens = re.findall(r"[\w'’-]+|[^\w\s]+|\s+", text)
    typed = [t.lower().replace("’", "'") for t in tokens]
    at = [i for i, t in enumerate(typed) if t in (said, f"{said}'s")]  # "it's"
    position = at[min(words[:pronoun].count(said), len(at) - 1)]  # "is it worth X for [it]"
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


TERM_ASKED = re.compile(
    r"""\b(?:mean|means|meaning|define|definition|pronounce|spell)\b.*?(['"‘“][^'"‘’“”]+['"’”])"""
    r"""|(['"‘“][^'"‘’“”]+['"’”])\s+(?:mean|means)\b"""
)
"""A part that asks what a quoted word means or how it is said ("what does 'per se' mean",
"define 'moot'", "how do you pronounce 'quinoa'")."""


def _term_asked(part: str) -> str | None:
    """The quoted word or phrase whose meaning or sound `part` asks ("'per se'"), or None."""
    found = TERM_ASKED.search(part)
    if found is None or set(words_of(part)) & {"here", "this", "that"}:
        return None  # "What does 'pending' mean here? Can you rewrite it": the text quoted
    return found.group(1) or found.group(2)


def _asks_who(part: str) -> bool:
    """Whether a part asks who someone is ("Who was Robespierre?"; not "who is eligible")."""
    words, tokens = words_of(part), part.split()
    if words[:1] != ["who"] or words[1:2] == [] or words[1] not in BE or len(words) < 3:
        return False
    return words[2] in DETERMINERS or len(tokens) > 2 and tokens[2][:1].isupper()


def many(thing: str) -> bool:
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


def _replaced(tokens: list[str], position: int, topic: str) -> str:
    word = tokens[position].lower().replace("’", "'")
    if word in ("its", "their"):  # "its population" -> "the population of Peru"
        rest = "".join(tokens[position + 1 :]).lstrip().split(" ")
        size = next((i for i, w in enumerate(rest[1:3], 1) if _ends_noun(rest[i - 1], w)), 3)
        noun, after = " ".join(rest[:size]), " ".join(rest[size:])  # "its main competitors"
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
    topic += " is" if word.endswith("'s") else "'s" if word == "his" else ""  # "[it's] in"
    tokens = [*tokens[:position], topic, *tokens[position + 1 :]]
    before = tokens[position - 2].lower() if position > 1 else ""
    at = position - 2 if before in AUXILIARIES else position + 2  # not "can they have"
    verb = SINGULAR.get(tokens[at].lower()) if word == "they" and at < len(tokens) else None
    if verb is not None and not many(topic):  # "do they need" -> "does a toddler need"
        tokens[at] = verb.capitalize() if tokens[at][:1].isupper() else verb
    return "".join(tokens)


def _ends_noun(word: str, following: str) -> bool:
    """Whether a noun phrase after "its" ends at `word`: at a mark after it or a word no noun
    phrase goes on with ("its interest [if] i do"), not at a superlative ("its last emperor")."""
    said = words_of(following)[:1]
    return word[-1:] in "?.!,;:" or not said or said[0] in NOT_A_NOUN | {"if", "when", "i"}


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


LEAD_TOPIC = re.compile(
    r"(?i)^(.*?)\b(about|regarding|concerning|on) ((?:my |the )?[\w'’-]+(?: [\w'’-]+){0,3})"
    r"\s*[:.!]*$"
)
"""A lead that ends on what its items ask about ("Questions about [my tomato plants]:")."""


def lead_topic(context: list[str]) -> tuple[str, bool] | None:
    """What the last context sentence, when it is a lead, says its items are about ("Two
    things about [my car]:", "Questions on [black holes]", "I have a few questions about
    [my cat]."), and whether that is the user's own thing; None after a telling sentence
    ("... about my laptop, which is slow.") or help with a thing ("help with my python
    setup": "make a venv with it" means a tool)."""
    found = LEAD_TOPIC.search(context[-1].strip()) if context else None
    if found is None:
        return None
    before, said = words_of(found.group(1)), words_of(found.group(3))
    gerund = said[0].endswith("ing") and len(said) > 1  # "about [learning Korean]"
    if set(said[1:] if said[0] in ("my", "the") or gerund else said) & (NOT_A_NOUN | VERBS):
        return None
    lead = set(before) <= LEAD_WORDS | COUNTS | {"have", "got", "couple"}
    if not lead or not before and found.group(2).lower() == "on":
        return None  # "On the weekend:"
    return found.group(3), said[0] == "my"


def lead_meant(topic: str, text: str, language: Language = ENGLISH) -> str | None:
    """`text` with its pronoun replaced by a lead's `topic` where the two agree ("how often
    should I water [them]": my tomato plants; "why does [she] knead": my cat; in French and
    Dutch `owner_meant_in`), None where they do not, the pronoun is a possessive ("her
    nails") or there is none."""
    if language is not ENGLISH:
        return owner_meant_in(language, topic, text)
    words, pronoun = words_of(text), pronoun_at(text)
    if pronoun is None:
        return None
    said, after = words[pronoun], words[pronoun + 1 : pronoun + 2]
    own = said == "her" and after != [] and after[0] not in PREPOSITIONS | {"to", "a", "an"}
    alive = animate(words_of(topic)[-1])  # "my cat": she; "my wife's car": she is the wife
    agree = ("they", "them") if many(topic) else ("it", *(("he", "she", "him", "her") * alive))
    if own or said not in agree:
        return None
    tokens = re.findall(r"[\w'’-]+|[^\w\s]+|\s+", text)
    matches = [i for i, t in enumerate(tokens) if t.lower().replace("’", "'") == said]
    nth = words[:pronoun].count(said)  # "is it ok to leave [it] outside"
    if nth >= len(matches):
        return None  # "what's it's name"
    position = matches[nth]
    return "".join([*tokens[:position], topic, *tokens[position + 1 :]])
