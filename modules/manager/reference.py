"""Parts that lean on the part before them: completed, resolved, or made to depend on it.

`resolve` reads the drafts in order:
- a fragment takes the frame of the part before it (`modules.manager.fragments`): "What
  is the national animal of Australia? And of China?";
- a pronoun that means a thing the request names is replaced by its words
  (`modules.manager.pronouns`): "When was the Eiffel Tower built and who designed it?" ->
  "Who designed the Eiffel Tower?";
- a part that works on what another part makes ("suggest a houseplant and tell me how to
  care for it", "write a poem, then translate it", "translate your answer") depends on
  that part: its delegate starts when that answer is done and reads it as an earlier
  exchange; so does a part whose pronoun no rule resolves;
- a short question ("Why?", "In what year?") joins the part before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from modules.manager.actions import done_again, says_how, spent_on
from modules.manager.bridging import (
    HAN_OR_KANA,
    amount_of,
    bridged,
    bridged_han,
    bridged_in,
    in_setting,
    in_the_place,
    with_alternatives_of,
)
from modules.manager.clauses import finish
from modules.manager.completion import bare_superlative
from modules.manager.foreign import named_in, owner_in, subject_dropped
from modules.manager.fragments import MERGE, completed_fragment, short_question
from modules.manager.languages import ENGLISH, Language
from modules.manager.pronouns import about_the_same, lead_meant, lead_topic, many, named, pronoun_at
from modules.manager.repeats import repeated_frame
from modules.manager.topics import (
    NOT_A_NOUN,
    a_new_thing,
    asked_thing,
    asks_for_things,
    names_answer,
    ones_named,
    superlative_kind,
    topic_of,
    verb_lead,
)
from modules.manager.words import (
    ANSWER_REFERENCE,
    AUXILIARIES,
    COUNTS,
    DEMONSTRATIVES,
    MAKING_VERBS,
    ONE_FOR_A_KIND,
    PEOPLE,
    PERSON_PRONOUNS,
    PREPOSITIONS,
    QUESTION_WORDS,
    REQUEST_LEAD,
    VERBS,
    words_of,
)


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
    lower: bool = False
    """Typed in lower case ("and please?"): its first word is no name."""
    depends_on: list[int] = field(default_factory=list)
    topic: str = ""
    """The thing a pronoun of it was resolved to: a later pronoun means it too."""


def resolve(
    drafts: list[Draft], language: Language, context: list[str], shown: bool
) -> list[Draft]:
    """The drafts with fragments completed, pronouns resolved or turned into dependencies,
    and parts that cannot stand alone merged into the part before. `context`: the
    sentences every part's delegate reads; `shown`: the delegates also read what the request
    is about (a picture's description)."""
    has_context = bool(context) or shown
    owned = re.search(r"\bmy \w+", " ".join(context), re.IGNORECASE) is not None  # "my resume"
    context_words = set(words_of(" ".join(context))) - NOT_A_NOUN
    about = lead_topic(context) if language is ENGLISH else None  # "Questions about my cat:"
    owner = about[0] if about and about[1] else owner_in(language, context) or ""
    done: list[Draft] = []
    for draft in drafts:
        made = bool(done) and (draft.then or _makes_something(done[-1].text))
        topic = owner or (about[0] if about and not done else "")  # "Questions on black holes"
        if topic and not made and (mine := lead_meant(topic, draft.text, language)):
            done.append(Draft(mine, topic=topic))  # "how often should I water [my plants]"
            continue
        if not done:
            done.append(draft)
            continue
        previous = done[-1]
        mark = draft.text[:1] if draft.text[:1] in "¿¡" else ""  # "¿Gato?" typed "¿y gato?"
        body = draft.text[len(mark) :]
        text = f"{mark}{body[:1].lower()}{body[1:]}" if draft.lower else draft.text
        name = draft.item and not draft.lower and _names_only(text)  # "b) And France?"
        follow = draft.item and _follows_up(text)  # "- what about coffee", "2 - for a hard yolk"
        whole = (
            None
            if draft.item and not (name or follow)
            else completed_fragment(previous.text, text, language)
        )
        if says_how(previous.text, draft.text, draft.then or draft.item):  # "Use an academic tone."
            _merge(previous, text, "")
        elif draft.item and a_new_thing(text) and (lead := verb_lead(done[0].text)):
            thing = text[:1].lower() + text[1:]  # "1- recommend X 2- a good lens"
            done.append(Draft(finish(f"{lead} {thing}")))
        elif draft.then and whole is not None and (lead := verb_lead(previous.text)):
            thing = re.sub(r"(?i)^(?:and\s+)?then,?\s+", "", text)  # "then the answers to them"
            step = finish(f"{lead} {thing[:1].lower()}{thing[1:]}")
            leans = pronoun_at(thing, language) is not None  # "them": the part before's answer
            done.append(Draft(step, depends_on=[len(done) - 1] if leans else []))
        elif (draft.new_sentence or draft.fragment or follow) and whole is not None:
            if whole is MERGE:  # "When?", "What about tea?" with no frame it fits
                _merge(previous, draft.text, "" if " or " in draft.text else "and ")
            else:
                done.append(Draft(str(whole)))
        elif draft.fragment:
            _merge(previous, draft.text)
        elif (made := _both_made(done, draft.text)) is not None:
            done.append(Draft(draft.text, depends_on=made))  # "and translate both into Italian"
        elif (draft.then and not _again(previous, draft, language)) or (
            ANSWER_REFERENCE.search(draft.text)
            or _names_made(previous, draft)
            or names_answer(previous.text, draft.text)
        ):
            step = Draft(draft.text, depends_on=[_chained(done, draft.text)])
            done.append(step)  # "then translate it", "your answer", "a slogan with the name"
        elif draft.new_sentence and (same := repeated_frame(previous.text, draft.text)):
            done.append(Draft(same))  # "Is it legal in the US? is it legal in the UK too"
        elif again := done_again(latest := [d.text for d in reversed(done)], draft.text) or (
            spent_on(latest, draft.text)
        ):
            done.append(Draft(again))  # "who was the first woman to do it": climb Everest
        elif language is ENGLISH and (ones := ones_named(previous.text, draft.text)):
            done.append(Draft(ones))  # "should i respond to the bad [google reviews]"
        elif (pronoun := pronoun_at(draft.text, language)) is not None:
            _lean(done, draft, pronoun, (has_context, owned, about[0] if about else ""), language)
        elif words_of(draft.text)[:1] in (["or"], *([w] for w in language.ors)):
            _merge(previous, draft.text, "")  # "Should I add more RAM? Or get an SSD?"
        elif shown or set(words_of(draft.text)) & context_words:
            done.append(draft)  # "Summarise the article" after "Here is an article: ..."
        elif not owner and (tied := _tied(done, draft, language, owned)) is not None:
            done.append(tied)  # "What is ibuprofen? What are the side effects?"
        else:  # "... between A and B? Which is cheaper?": of A or B
            done.append(Draft(with_alternatives_of([d.text for d in done], draft.text, language)))
    return done


def _again(previous: Draft, draft: Draft, language: Language) -> bool:
    """Whether a step after "then" only does what the part before does to another thing
    ("define photosynthesis. then define cellular respiration.", "then write one about
    snow"): no answer it waits for."""
    words = words_of(draft.text)
    same = words[:1] != [] and words[0] in VERBS and words_of(previous.text)[:1] == words[:1]
    pointed = set(words) & DEMONSTRATIVES  # "using that tagline": it waits
    another = words[1:2] == ["one"]  # "then write one about snow": another of its kind
    return same and not pointed and (another or pronoun_at(draft.text, language) is None)


def _names_made(previous: Draft, draft: Draft) -> bool:
    """Whether a part names what the part before makes with "the" ("Suggest a name for my
    bakery and write a slogan that uses the name")."""
    words = words_of(REQUEST_LEAD.sub("", previous.text))
    if not words or words[0] not in MAKING_VERBS:
        return False
    end = next((i for i, w in enumerate(words[1:], 1) if w in PREPOSITIONS), len(words))
    noun = words[end - 1] if end > 1 and words[end - 1] not in NOT_A_NOUN else ""
    named = re.search(rf"\bthe {re.escape(noun)}\b(?! of)", draft.text, re.I)  # not "the name of"
    return bool(noun) and named is not None


def _merge(previous: Draft, text: str, joint: str = "and ") -> None:
    """Joins a part that cannot stand alone to the part before, for one delegate."""
    if joint and text.lower().startswith(joint):
        text = text[len(joint) :]  # "..., and and something for my mom": one "and"
    joined = f"{text[:1].lower()}{text[1:]}" if text[1:2].islower() else text
    previous.text = f"{previous.text.rstrip('.?!')}, {joint}{joined}"


def _lean(
    done: list[Draft],
    draft: Draft,
    pronoun: int,
    context: tuple[bool, bool, str],
    language: Language,
) -> None:
    """Adds a draft that refers back with the word at `pronoun`: with the thing named in the
    pronoun's place, as it is (an item, or when the shared context may hold what it
    means), or depending on the part before, which its delegate then reads as an earlier
    exchange ("Suggest a houseplant and tell me how to care for it"; "Wer hat ihn
    gebaut?" after "Wie alt ist der Kölner Dom?"); a short question ("Why?") joins it.
    `context`: whether shared context comes with the parts, whether it names a thing of
    the user's own ("my resume"), which an "it" means rather than a thing the parts before
    only mention ("should i include a photo"), and what a lead says the parts are about,
    which a pronoun no part before resolves means ("Questions on black holes")."""
    previous = done[-1]
    said = words_of(draft.text)[pronoun]
    if (about := about_the_same(previous.text, draft.text, pronoun)) is not None:
        done.append(Draft(about))  # "a book on stoicism, as well as a podcast about it"
        return
    makes = previous.depends_on or _makes_something(previous.text, said)
    before = words_of(draft.text)[pronoun - 1 : pronoun]
    kind_of = said == "one" and bool(before) and before[0] in ONE_FOR_A_KIND
    another = said == "one" and before[:1] != [] and before[0] in MAKING_VERBS  # not "add one"
    made = topic_of(previous.text) if another else None
    if made is not None and made.startswith(("a ", "an ")):  # "write [a regex] for X"
        done.append(Draft(re.sub(r"\bone\b", made, draft.text, count=1)))  # "write one for Y"
        return
    texts = [d.text for d in reversed(done)]
    has_context, owned, topic = context
    guess = not has_context  # the shared context may name what it means: no guessing then
    resolved = (
        named(texts, draft.text, pronoun, previous.topic, guess)
        if language is ENGLISH
        else named_in(language, texts, draft.text, pronoun)  # "Wie hoch ist [er]?"
    )
    if resolved is None and topic and (mine := lead_meant(topic, draft.text, language)):
        done.append(Draft(mine, topic=topic))  # "can anything escape [black holes]"
        return
    if owned and said == "it" and resolved is not None:
        done.append(draft)  # "how long should it be" after "i need help w my resume: ... a photo"
        return
    things = said in ("they", "them") and resolved is not None and many(resolved[1])
    makes = makes and not (things and words_of(previous.text)[:1] == ["who"])  # "who makes X"
    asked_who = [i for i, d in enumerate(done) if words_of(d.text)[:1] == ["who"] and not things]
    role = ROLE_ASKED.match(previous.text) is not None and said in PERSON_PRONOUNS
    which = words_of(draft.text)[:1] in (["which"], ["what"])  # "which one is bigger, A or B?"
    if role and resolved is not None:  # "whos the ceo of nvidia and how old is he"
        done.append(Draft(resolved[0], topic=resolved[1]))
    elif said in PERSON_PRONOUNS and asked_who and not makes:  # "Who wrote X? ... did she"
        done.append(Draft(draft.text, depends_on=[asked_who[-1]]))
    elif said == "one" and not makes and not kind_of and (resolved is None or which):
        done.append(Draft(with_alternatives_of([d.text for d in done], draft.text, language)))
    elif not makes and resolved is not None:
        done.append(Draft(resolved[0], topic=resolved[1]))
    elif not makes and (draft.item or has_context) and not short_question(draft.text):
        done.append(draft)
    elif short_question(draft.text):
        _merge(previous, draft.text)
    else:
        done.append(Draft(draft.text, depends_on=[_root(done, len(done) - 1)]))


def _tied(done: list[Draft], draft: Draft, language: Language, owned: bool) -> Draft | None:
    """A part that leans on the thing of the parts before without a pronoun (`bridged`),
    with that thing's words; or depending on the part before when that part makes the thing
    ("Suggest a houseplant. How much light does the plant need?"). Outside English only a
    sentence or item of its own leans so ("¿Cuáles son los ingredientes?"; not "... dónde
    está la estación y cuándo sale el tren"). `owned`: the context names the user's own
    thing, which a thing only mentioned ("should I include a photo") is not."""
    texts, text = [d.text for d in reversed(done)], draft.text
    if HAN_OR_KANA.match(text):
        whole = bridged_han(texts, text)
    elif language is ENGLISH:
        whole = bridged(texts, text)  # "the top row" of "a pivot table": in google sheets
        guess = whole is None or re.search(r" of an? ", whole) and not re.search(r" of an? ", text)
        if guess and (placed := in_setting(texts[0], text, draft.item)):
            return Draft(placed)  # "when should i use var" after "... in javascript"
        if whole is None and (placed := in_the_place(texts[-1], text) or amount_of(texts[0], text)):
            return Draft(placed)  # "where should I stay" after "Tell me about Santorini."
    elif draft.new_sentence or draft.item:
        dropped = None if draft.item else subject_dropped(texts[0], text, language)
        whole = bridged_in(language, texts, text) or dropped
    else:
        return None
    if whole is None or owned and re.search(r"\bof an? [\w -]+[?.!]*$", whole):
        return None  # "the rule" of the user's resume, not of "a photo" it may have
    made = done[-1].depends_on or language is ENGLISH and _makes_something(done[-1].text)
    added = set(words_of(whole)) - set(words_of(text)) - NOT_A_NOUN
    title = re.findall(r"\b[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)+", done[-1].text)  # not made
    made = made and not (title and added <= set(words_of(" ".join(title))))
    if made and not _named_by_a_topic(done, added):
        return Draft(text, depends_on=[_root(done, len(done) - 1)])  # "the plant", "the toast"
    return Draft(whole)  # "name the two main stages" of photosynthesis, not of its equation


def _named_by_a_topic(done: list[Draft], tied_to: set[str]) -> bool:
    """Whether the thing a part is tied to is named by a part that makes nothing ("Define
    [photosynthesis]"), not by what an instruction makes ("Write a short toast")."""
    tied_to -= NOT_A_NOUN
    topics = [d.text for d in done if not d.depends_on and not _makes_something(d.text)]
    return bool(tied_to) and any(tied_to <= set(words_of(topic)) for topic in topics)


ROLE_ASKED = re.compile(r"(?i)who(?:'s|’s|s| is| was) the (?:\w+ ){0,2}?\w+ of ")
"""A question after who holds a role ("Who was the first CEO of Nvidia?"), which "he" means."""


def _follows_up(text: str) -> bool:
    """Whether an item only names a new thing for the item before ("what about coffee",
    "how about an apple", "for a hard yolk", "and into german", "smallest")."""
    words = words_of(text)
    about = " ".join(words[:3]).startswith(("what about", "how about", "and what about"))
    asks = set(words) & (VERBS | AUXILIARIES | QUESTION_WORDS)
    placed = words[:1] != [] and words[0] in PREPOSITIONS and len(words) <= 4 and not asks
    return about or placed or (len(words) <= 2 and bare_superlative(words))  # "2) smallest"


def _names_only(text: str) -> bool:
    """Whether an item is a name alone ("France?"), asking the item before of it."""
    words = words_of(text)
    asks = bool(set(words) & (VERBS | AUXILIARIES | QUESTION_WORDS))
    han = HAN_OR_KANA.search(text) is not None  # "VLOOKUP和XLOOKUP有什么区别？": a question
    return 0 < len(words) <= 3 and not (asks or han) and all(t[:1].isupper() for t in text.split())


def _both_made(done: list[Draft], text: str) -> list[int] | None:
    """The two parts before a part that works on both their answers ("write a poem; then a
    title for it; and translate both"), when one of them makes something; None otherwise."""
    if len(done) < 2 or not re.search(r"\b(?:both|all of them|them all)\b", text, re.I):
        return None
    last_two = done[-2:]
    if not any(d.depends_on or _makes_something(d.text) for d in last_two):
        return None
    return [len(done) - 2, len(done) - 1]


def _chained(done: list[Draft], text: str) -> int:
    """The part a step works on: the part before when the step names that part's own thing
    ("the population of [that capital]" after "tell me its capital") or its result, else
    the first of the chain the part before is in ("then summarise it", "and suggest a title
    for it")."""
    said = re.findall(r"\b(?:that|this|these|those)\s+(\w+)", text, re.IGNORECASE)
    if done[-1].depends_on and any(w.lower() in words_of(done[-1].text) for w in said):
        return len(done) - 1
    if done[-1].depends_on and re.search(r"\bthe (?:result|outcome)\b", text, re.I):
        return len(done) - 1  # "square it, then tell me if the result is even"
    return _root(done, len(done) - 1)


def _root(done: list[Draft], index: int) -> int:
    """The part a chain of dependent parts starts from, or the step that picks one of what
    it made ("pick the best one"), which is what a later "it" means."""
    while done[index].depends_on and words_of(done[index].text)[:1] not in PICKS:
        index = done[index].depends_on[0]
    return index


PICKS = (["pick"], ["choose"], ["select"])
"""How a step that picks one of the things the part before made opens."""


def _makes_something(part: str, pronoun: str = "it") -> bool:
    """Whether a part makes something new a later pronoun means: an instruction to write,
    pick or suggest ("Suggest a houseplant"), a question after the best, the most... of a
    kind ("What's the most spoken language in Africa?"), for "they", a question after
    things of a kind ("What main dishes could work?"), or, for "he", "she" and the like, a
    question after a person ("Who invented the telephone?")."""
    words = words_of(REQUEST_LEAD.sub("", part))
    if not words:
        return False
    if words[0] in MAKING_VERBS or words[:2] in (["come", "up"], ["think", "of"]):
        known = words[1:2] == ["the"] and bool(set(words[2:4]) & COUNTS)  # "Name the two stages"
        return not (pronoun == "it" and known)  # several known things: not what "it" means
    if words[0] == "who" and pronoun in PEOPLE:
        return True
    if pronoun in ("they", "them", "their") and asks_for_things(words):
        return True  # "What main dishes could work? How far ahead can I make them?"
    picked = [i for i, w in enumerate(words[1:5], 1) if w in ("which", "what")]
    kind = words[picked[0] + 1 : picked[0] + 2] if picked else []
    if kind and kind[0] not in NOT_A_NOUN | {"one", "ones"}:
        return True  # "tell me which US state has the lowest tax": its answer is a state
    asked = asked_thing(words)
    return bool(asked) and asked[0] == "the" and superlative_kind(asked)
