"""Where a fragment's new thing goes in the frame of the part before it.

`in_frame` tries each slot a thing may take, in order: the words that open as it does ("a
[rugby union] team? and rugby league?"), the last quoted word or name, the kind a "what N"
question asks for, what a definition asks of, the subject or object of a yes-no question
("Can [dogs] eat [grapes]? What about blueberries?": a food takes the grapes' place), what
follows the last preposition ("What should I eat for [breakfast]? Lunch?"), the object
after "you" and a verb, the last thing with an article, and a question's subject.
"""

from __future__ import annotations

import re

from modules.manager.completion import after_name, complete, in_place_of_last, object_end
from modules.manager.languages import ENGLISH, Language
from modules.manager.topics import NOT_A_NOUN, topic_of, typed_lower
from modules.manager.words import (
    AUXILIARIES,
    BE,
    DETERMINERS,
    DO_SUPPORT,
    KNOWN_TO_ALL,
    OPENS_A_NAME,
    PARTICIPLES,
    PERSONAL,
    PLACE_PREPOSITIONS,
    POSSESSIVES,
    PREPOSITIONS,
    QUESTION_WORDS,
    VERBS,
    animate,
    words_of,
)


def in_frame(frame: str, body: str, language: Language) -> str | None:
    """The fragment's thing in the frame's place for it, by the first frame that fits."""
    english = language is ENGLISH  # "Was kostet ...": no English "was" in another language
    words = words_of(frame)
    the = english and words[:1] in ([w] for w in BE) and words[1:2] == words_of(body)[:1] == ["the"]
    return (
        (_in_place_of_animal(frame, body) if english else None)
        or (_in_place_of_subject(frame, body) if the else None)  # "is [the louvre] open"
        or complete(frame, body, language)
        or (_in_place_of_alike(frame, body) if english else None)
        or in_place_of_last(frame, body)
        or (_in_place_of_kind(frame, body) if english else None)
        or (_in_place_of_defined(frame, body) if english else None)
        or (_in_place_of_subject(frame, body) if english else None)
        or (None if english else _in_place_of_a_thing(frame, body, language))
        or _after_last_preposition(frame, body, language)
        or _in_place_of_object(frame, body, language)
        or (_in_place_of_last_thing(frame, body) if english else None)
        or (_in_place_of_topic(frame, body) if english else None)
    )


def _in_place_of_animal(frame: str, thing: str) -> str | None:
    """A person or animal in the place of the one person or animal the frame names ("how
    long do [cats] live on average? and dogs?", "what does [the fox] say? and the cow?");
    None when the thing names none, or the frame none or several."""
    said, tokens = words_of(thing), frame.split()
    if not said or not animate(said[-1]) or len(said) > 3 or said[0] in PREPOSITIONS:
        return None  # "And for kids?": a setting, not a subject
    alive = [i for i, t in enumerate(tokens) if animate((words_of(t) or [""])[0])]
    if len(alive) != 1:
        return None
    start = alive[0]  # "give [my dog] grapes", "bad for [pregnant women]": its words before
    stops = NOT_A_NOUN - OPENS_A_NAME | VERBS
    while start and start > alive[0] - 2 and (words_of(tokens[start - 1]) or [""])[0] not in stops:
        start -= 1
    return " ".join([*tokens[:start], thing, *tokens[alive[0] + 1 :]])


def _in_place_of_topic(frame: str, thing: str) -> str | None:
    """A thing typed bare in the place of the subject a question asks about (`topic_of`):
    "how tall is [the eiffel tower]? and big ben?"; None when the frame names no subject
    ("how long do i boil [an egg]? what about hard boiled": an object, so unsaid)."""
    topic = topic_of(frame)
    if topic is None or topic not in frame or " of " in topic:
        return None
    start = frame.rindex(topic)
    if words_of(frame[:start])[-1:] == [] or words_of(frame[:start])[-1] not in AUXILIARIES:
        return None
    return frame[:start] + thing + frame[start + len(topic) :]


def _in_place_of_alike(frame: str, thing: str) -> str | None:
    """A bare thing of two or three words in the place of the frame's words that open as it
    does ("a [rugby union] team? and rugby league?" -> "a rugby league team"); None when the
    frame has no such words."""
    said, tokens = thing.split(), frame.split()
    if not 2 <= len(said) <= 3 or set(words_of(thing)) & (DETERMINERS | PREPOSITIONS):
        return None
    opens = [i for i, t in enumerate(tokens) if t.lower() == said[0].lower()]
    if not opens or opens[-1] + len(said) > len(tokens):
        return None
    start, end = opens[-1], opens[-1] + len(said)
    if [t.lower() for t in tokens[start:end]] == [w.lower() for w in said]:
        return None
    if any(t.endswith(",") for t in tokens[start:end]):
        return None  # "a rugby union, a ..." is a list, not one thing
    return " ".join([*tokens[:start], *said, *tokens[end:]])


def _in_place_of_a_thing(frame: str, thing: str, language: Language) -> str | None:
    """`thing` in the place of the frame's thing like it, in a language other than English:
    a name with its article (`_in_place_of_a_name`), a phrase with an article, or a bare noun
    (`_in_place_of_a_noun`); None for a thing that opens with a preposition."""
    tokens, said = frame.split(), words_of(thing)
    words = [(words_of(t) or [""])[0] for t in tokens]
    if not said or said[0] in language.prepositions or len(said) > 4:
        return None
    opens = [i for i, w in enumerate(words) if i and (w in language.determiners or "'" in w)]
    elided = re.match(r"(?:l|dell|all|d)['’](?=\w)", thing, re.I) is not None
    name = thing.split()[-1].lstrip("lL'’")[:1].isupper()
    if name and (elided or said[0] in language.determiners):
        return _in_place_of_a_name(tokens, words, opens, thing)
    if said[0] in language.determiners and opens:  # "cuocere [la pasta] al dente? e il risotto?"
        start = opens[-1]
        rest = range(start + 1, len(words))
        end = next((i for i in rest if words[i] in language.prepositions), len(words))
        return " ".join([*tokens[:start], thing, *tokens[end:]])
    if said[0] in language.determiners or name or not thing[:1].islower():
        return None
    return _in_place_of_a_noun(tokens, words, thing, language)


def _in_place_of_a_name(
    tokens: list[str], words: list[str], opens: list[int], thing: str
) -> str | None:
    """A name with its article in the place of the frame's last one ("Quantas vezes [o
    Benfica] foi campeão? E o Porto?", "... la Juventus? E l'Inter?")."""
    found = [i for i in opens if i + 1 < len(tokens) and tokens[i + 1][:1].isupper()]
    found += [i for i in opens if re.match(r"\w+['’][A-ZÀ-Þ]", tokens[i])]  # "l'Inter"
    if not found:
        return None
    start = max(found)
    end = start + (1 if "'" in words[start] and tokens[start][-1:] not in "'’" else 2)
    while end < len(tokens) and tokens[end][:1].isupper():
        end += 1
    return " ".join([*tokens[:start], thing, *tokens[end:]])


def _in_place_of_a_noun(
    tokens: list[str], words: list[str], thing: str, language: Language
) -> str | None:
    """A bare noun in the place of the one before the frame's closing phrase, or of its last
    word ("pode comer [banana]? E manga?", "cozinhar [feijão] na panela? e grão de bico?")."""
    tail = range(max(1, len(words) - 4), len(words))
    places = [i for i in tail if words[i] in language.prepositions]
    at = places[0] - 1 if places else len(words) - 1
    taken = at < 1 or words[at] in language.determiners | language.prepositions
    if taken or not tokens[at][:1].islower():
        return None
    return " ".join([*tokens[:at], thing, *tokens[at + 1 :]])


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
        to = next((i for i in range(2, len(words) - 2) if words[i] == "to"), None)
        place = [i for i in (len(words) - 2, len(words) - 3) if words[i] in PLACE_PREPOSITIONS]
        named = place and not set(words[place[0] :]) & DETERMINERS and len(thing.split()) < 3
        if to is not None and named:  # "is it legal to record a call in [california]? texas"
            return " ".join([*tokens[: place[0] + 1], thing])
        if to is not None:  # "Is it safe to eat [raw cookie dough]?": what follows the verb
            return " ".join([*tokens[: to + 2], thing])
        return " ".join([*tokens[:-1], thing])
    if words[1] in PERSONAL | {"i", "you", "we"}:
        return _object_or_last(tokens, words, thing) if len(tokens) > 3 else None
    size = 2 if words[1] in DETERMINERS else 1
    acts = words[0] not in BE and len(words) > 2 + size  # "Can [dogs] eat [grapes]?"
    alive = animate(words_of(thing)[-1])
    if acts and animate(words[size]) and not alive:
        verb = 1 + size  # "can dogs eat [grapes]? what about blueberries": an object for them
        end = next((i for i in range(verb + 1, len(words)) if words[i] in PREPOSITIONS), None)
        return " ".join([*tokens[: verb + 1], thing, *tokens[end or len(tokens) :]])
    if acts and thing[:1].islower() and not alive:
        return frame  # the subject's place or the object's: unsaid, so it joins the question
    people = [i for i in range(size + 1, len(words)) if animate(words[i])]
    placed = [i for i in range(size + 1, people[0]) if words[i] in PREPOSITIONS] if people else []
    if alive and not animate(words[size]) and placed:  # "is coffee bad for [pregnant women]"
        return " ".join([*tokens[: placed[-1] + 1], thing, *tokens[people[0] + 1 :]])
    return " ".join([tokens[0], thing, *tokens[1 + size :]])


def _object_or_last(tokens: list[str], words: list[str], thing: str) -> str:
    """ "Do I need a visa for [japan]? What about china?": a thing in the place of the
    object after "I" and the verb, or of what the last preposition takes, whichever opens
    as it does (with an article or without); the frame itself (joined) when both do."""
    places = [i for i in range(4, len(words) - 1) if words[i] in PREPOSITIONS]
    if not places:
        return " ".join([*tokens[:3], thing])  # "Can I eat [hard cheeses]?"
    articled = DETERMINERS | POSSESSIVES
    said = words_of(thing)[:1] != [] and words_of(thing)[0] in articled
    object_said, last_said = words[3] in articled, words[places[-1] + 1] in articled
    if said == object_said != last_said:  # "can i bring [a laptop] on board? a power bank"
        return " ".join([*tokens[:3], thing, *tokens[places[0] :]])
    if said == last_said != object_said:
        return " ".join([*tokens[: places[-1] + 1], thing])
    return " ".join(tokens)  # "can i drink [alcohol] on [antibiotics]? what about coffee"


def _in_place_of_kind(frame: str, thing: str) -> str | None:
    """`thing` in the place of the kind a "what N" question asks for ("What [main dish] can
    I make?" -> "What dessert can I make?"), or, typed in lower case, of the one word it
    asks it of ("what time zone is [chicago] in? what about denver"); None for other
    frames."""
    tokens = frame.split()
    words = [(words_of(t) or [""])[0] for t in tokens]
    if len(words) < 3 or words[0] not in ("what", "which") or words[1] in AUXILIARIES:
        return None
    verb = next((i for i, w in enumerate(words[1:4], 1) if w in AUXILIARIES), None)
    if verb is not None and words[verb] in BE and typed_lower(frame):  # names typed lower
        named = words[verb + 1 : verb + 2] != [] and words[verb + 1] not in DETERMINERS
        if named and set(words[verb + 2 :]) <= PREPOSITIONS:  # "what time zone is [chicago] in"
            return " ".join([*tokens[: verb + 1], thing, *tokens[verb + 2 :]])
        return None
    main = _main_verb(words)
    objects = main is not None and main + 1 < len(words)
    if objects and words[main + 1] not in PREPOSITIONS | {"that", "which", "who"}:
        return None  # "what age can babies have [peanut butter]": the object is the thing
    return " ".join([tokens[0], thing, *tokens[verb:]]) if verb else None


def _main_verb(words: list[str]) -> int | None:
    """Where the verb after a question's auxiliary and its subject is ("what age can
    [babies] *have* ...", "What can my kids *take* ..."); None without an auxiliary."""
    aux = next((i for i, w in enumerate(words[:4]) if w in AUXILIARIES), None)
    if aux is None or aux + 2 >= len(words):
        return None
    return aux + (3 if words[aux + 1] in DETERMINERS | POSSESSIVES else 2)


def _in_place_of_defined(frame: str, thing: str) -> str | None:
    """`thing` in the place of what a "what is X" question defines ("what is [photosynthesis]"
    -> "what is chemosynthesis"), or of what X is of or for ("what is the population of
    [france]? and germany?"; "a good name for a bakery? and a slogan?"); None for other
    frames."""
    tokens = frame.split()
    words = [(words_of(t) or [""])[0] for t in tokens]
    if len(words) < 3 or words[0] not in ("what", "who") or words[1] not in BE:
        return None
    defined = " ".join(tokens[2:])
    tie = next((p for p in (" of ", " for ") if p in defined), None)
    rest = set(words[2:]) - DETERMINERS
    if rest & (PREPOSITIONS | VERBS | {"and", "or"}) and tie is None:
        return None  # "what is the best time to visit iceland", "the difference between"
    if tie is None:
        return " ".join([*tokens[:2], thing])
    head, _, owner = defined.rpartition(tie)  # "the population [of] france"
    if words_of(thing)[:1] != [] and words_of(thing)[0] in DETERMINERS:
        return " ".join([*tokens[:2], f"{thing}{tie}{owner}"])  # "and the price?": of the louvre
    return " ".join([*tokens[:2], f"{head}{tie}{thing}"])  # "and germany?": its population


def _in_place_of_last_thing(frame: str, thing: str) -> str | None:
    """A thing with an article in the place of the frame's last one ("Who invented [the
    telephone]?" -> "Who invented the light bulb?"); None when either has no article."""
    tokens = frame.split()
    words = [(words_of(t) or [""])[0] for t in tokens]
    articles = [i for i, w in enumerate(words) if w in DETERMINERS | POSSESSIVES]
    if not articles or not words_of(thing) or words_of(thing)[0] not in DETERMINERS:
        return None
    verb = len(tokens) - articles[-1] == 3 and words[articles[-1] - 1] in DO_SUPPORT
    return " ".join([*tokens[: articles[-1]], thing, *tokens[-1:] * verb])  # "does [a X] cost"


def _after_last_preposition(frame: str, thing: str, language: Language) -> str | None:
    """`thing` in the place of what follows the frame's last preposition, when that is one
    of its last four words ("What should I eat for [breakfast]?" -> "... for lunch?")."""
    tokens = frame.split()
    words = [(words_of(t) or [""])[0] for t in tokens]
    last_four = range(max(0, len(words) - 4), len(words) - 1)
    near = [i for i in last_four if words[i] in language.prepositions]
    if not near:
        return None
    named = [i for i in near if tokens[i + 1][:1].isupper()]
    thing_named = thing.split()[-1:] != [] and thing.split()[-1][:1].isupper()
    if thing_named and named:  # "... en Bogotá en diciembre? ¿y en Medellín?": the name's
        near = named
    untimed, when = [i for i in near if not _a_time(words, i + 1)], ""
    timely = bool(set(words_of(thing)) & KNOWN_TO_ALL)
    placed = words_of(thing)[:1] != [] and words_of(thing)[0] in language.prepositions
    if not untimed and not timely and not placed:  # "on [stocks] held over a year? ... crypto"
        return _before_a_time(tokens, words, thing, language)
    if untimed and untimed != near and not timely:
        when = " " + " ".join(tokens[near[-1] :])  # "in rome in april? same for florence"
        near = untimed
    same = words_of(thing)[:1] == [words[near[-1]]]  # "En voor een harde?": voor, once
    other = words_of(thing)[:1] != [] and words_of(thing)[0] in language.prepositions
    to = words[near[-1]] == "to" and near[-1] + 2 < len(words)  # "to [visit] japan": a verb
    to = to and words[near[-1] + 1] not in DETERMINERS | POSSESSIVES
    english = language is ENGLISH  # "et pour des gaufres ?" after "une pâte à crêpes"
    places = {words_of(thing)[0], words[near[-1]]} <= PLACE_PREPOSITIONS if other else False
    if english and (
        (other and not same and not places) or (to and tokens[near[-1] + 1][:1].islower())
    ):
        return frame  # "... from london to paris? what about by train": where it goes, unsaid
    replaced = tokens[near[-1] + 1][:1]
    placed = thing_named and words_of(thing)[0] in language.prepositions  # "¿Y en Italia?"
    if replaced.isupper() and not same and thing[:1].islower() and not placed:
        return None  # "goodbye" does not take the place of "Japanese" (`_in_place_of_object`)
    if not same and not replaced.isupper() and object_end(words, language) is not None:
        return None  # "get [red wine] out of [a carpet]? what about coffee": either (merged)
    if replaced.islower() and thing[1:2].islower():  # "Lunch?" after "for breakfast"
        thing = thing[:1].lower() + thing[1:]
    rest = when or after_name(frame, words[near[-1]])
    own = same or words_of(thing)[:1] != [] and words_of(thing)[0] in language.prepositions
    return " ".join([*tokens[: near[-1] + (0 if own else 1)], thing]) + rest  # "in denver"


def _a_time(words: list[str], start: int) -> bool:
    """Whether the phrase at `start` is a time or a measure all know ("april", "a year")."""
    at = start + (words[start : start + 1] != [] and words[start] in DETERMINERS)
    return words[at : at + 1] != [] and words[at] in KNOWN_TO_ALL


def _before_a_time(
    tokens: list[str], words: list[str], thing: str, language: Language
) -> str | None:
    """`thing` in the place of the object of the frame's last preposition before a time,
    to its participle or next preposition ("... on [stocks] held over a year?" -> "... on
    crypto held over a year?"); None when no preposition has an object that is no time."""
    places = [
        i
        for i, w in enumerate(words[:-1])
        if w in language.prepositions and not _a_time(words, i + 1)
    ]
    if not places:
        return None
    start = end = places[-1] + 1
    stops = language.prepositions | PARTICIPLES
    while end < len(words) and words[end] not in stops and not words[end].endswith("ed"):
        end += 1
    if end == start or end == len(words):
        return None
    return " ".join([*tokens[:start], thing, *tokens[end:]])


def _in_place_of_object(frame: str, thing: str, language: Language) -> str | None:
    """`thing` in the place of the object between the frame's verb and its last preposition
    ("How do you say [thank you] in Japanese?" -> "How do you say goodbye in Japanese?");
    None when the frame has no verb after "you", "I" or "we", or opening it."""
    tokens = frame.split()
    words = [(words_of(t) or [""])[0] for t in tokens]
    subject = next((i for i, w in enumerate(words[:4]) if w in ("you", "i", "we")), None)
    verb = subject + 1 if subject is not None else 0 if words[:1] and words[0] in VERBS else None
    near = [i for i, w in enumerate(words) if w in language.prepositions | PREPOSITIONS]
    bare = words_of(thing)[:1] != [] and words_of(thing)[0] not in PREPOSITIONS | DETERMINERS
    if verb is None and words[:1] and words[0] in QUESTION_WORDS and bare:
        verb = _main_verb(words)  # "what age can babies have [peanut butter]" -> honey
        if verb is not None and verb + 1 < len(words) and not near:
            return " ".join([*tokens[: verb + 1], thing])
    if verb is None or not near or near[-1] <= verb + 1:
        return None
    end = object_end(words, language)
    if end is not None and tokens[-1][:1].islower() and thing[:1].islower():
        return None  # "get [red wine] out of [a carpet]": which one "coffee" replaces is unsaid
    return " ".join([*tokens[: verb + 1], thing, *tokens[end or near[-1] :]])
