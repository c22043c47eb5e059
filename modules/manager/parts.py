"""The parts of a request: what it asks, each in the user's words, and the context they share.

A small model answers one question far better than three at once, and several delegates
decode at the same time, so the manager gives each delegate one part. `split` reads a
request by its structure first (`modules.manager.structure`: lines, numbered items,
ordinals, sentences), in any language; then by its words:

- a sentence that asks or commands nothing ("I'm planning a trip to Kyoto in November.",
  "I have a few questions.", a pasted paragraph) is **context**, given to every part's
  delegate and never a part;
- a sentence that asks several things splits into its clauses (`modules.manager.clauses`),
  each completed from the words it leaves out;
- a part that leans on the one before is completed, resolved, or made to depend on it
  (`modules.manager.reference`).

A request that asks one thing is one part. Parts keep the user's words: a part only ever
borrows words that are in the request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from modules.manager.asking import asks
from modules.manager.aspects import WRITING
from modules.manager.clauses import clauses, finish, strip_fillers, strip_joining
from modules.manager.foreign import tells_each
from modules.manager.fragments import FRAGMENT_OPENINGS
from modules.manager.languages import ENGLISH, Language, language_of
from modules.manager.pronouns import pronoun_at
from modules.manager.reference import Draft, resolve
from modules.manager.skeleton import wants_skeleton
from modules.manager.structure import PASTED_WORDS, Segment, quoted_spans, segments
from modules.manager.words import (
    APART,
    AUXILIARIES,
    COUNTS,
    DETERMINERS,
    HAN_THEN,
    HOW_DO_I,
    LEAD_WORDS,
    OWN_SUBJECTS,
    PERSONAL,
    PLACEHOLDER,
    PREPOSITIONS,
    QUESTION_WORDS,
    REQUEST_LEAD,
    SUBJECT_PRONOUNS,
    SUBJECTS,
    TELL_ME,
    THANKS,
    THEN_PHRASES,
    VERBS,
    words_of,
)

SITUATION = re.compile(
    r"^\W*(?:(?:my|our)\b[^:]*|[^:]*\b(?:issues|problems|symptoms|details|stats|specs|setup|"
    r"situation|background|facts))\s*:\s*$",
    re.IGNORECASE,
)
"""A lead that says the items after it describe the user's case ("my lawn:", "Dishwasher
issues:"), not what to answer."""
EXPLAINING = frozenset(
    {"explain", "describe", "discuss", "outline", "walk", "tell", "write", "compare", "teach"}
)
"""Verbs of an instruction to explain or write about one thing, whose aspects follow it."""
ANNOUNCES = re.compile(
    r"\b(?:\d+|two|three|four|five|a few|few|a couple of|couple of|some|these|the following|"
    r"several) (?:things|questions|points|items|requests|issues|parts)\b",
    re.IGNORECASE,
)
"""A lead that announces the parts after it ("I need help with 3 things for my wedding.")."""


@dataclass(frozen=True)
class Split:
    """A request read as its parts.

    Attributes:
        parts: Each an instruction that can be answered alone, given `context`.
        context: Sentences that ask nothing, shared by every part, in the request's order.
        depends_on: For each part, the parts (indexes) whose answers it works on.
    """

    parts: tuple[str, ...]
    context: tuple[str, ...] = ()
    depends_on: tuple[tuple[int, ...], ...] = ()

    def __post_init__(self) -> None:
        if not self.depends_on:  # one empty tuple per part: none depends on another
            object.__setattr__(self, "depends_on", ((),) * len(self.parts))

    def instruction(self, index: int) -> str:
        """Part `index` as its delegate reads it: the shared context, then the part."""
        return "\n\n".join([" ".join(self.context), self.parts[index]]).strip()


def split(text: str, max_parts: int = 8, *, shown: bool = False) -> Split:
    """The parts of a request (at least one) and the context they share. Past `max_parts`,
    the last part takes the rest of the request. `shown`: the delegates also read what the
    request is about (a picture's description), so "what does it eat?" stands alone."""
    code = re.search(r"^[ \t]+\S|```", text, re.M)  # indented lines keep their layout
    whole = text.strip() if code else " ".join(text.split())
    language = language_of(text)
    context: list[str] = []
    drafts: list[Draft] = []
    pieces = _described(_items_in_lead(segments(text), language), language)
    for segment in pieces:
        _read(segment, language, context, drafts)
    if not drafts and len(pieces) == 1 and not pieces[0].pasted and context == [pieces[0].text]:
        context, drafts = [], _query(pieces[0].text, language)
    drafts = [d for d in resolve(_unique(drafts), language, context, shown) if words_of(d.text)]
    if not drafts:
        return Split((whole,))
    if len(drafts) > max_parts:
        rest = " ".join(d.text for d in drafts[max_parts - 1 :])
        drafts = [*drafts[: max_parts - 1], Draft(rest)]
    if len(drafts) == 1:
        return Split((drafts[0].text if context else whole,), tuple(context) if context else ())
    depends = tuple(tuple(i for i in d.depends_on if i < len(drafts)) for d in drafts)
    return Split(tuple(d.text for d in drafts), tuple(context), depends)


def _items_in_lead(pieces: list[Segment], language: Language) -> list[Segment]:
    """Items that only name things, each put in the place the lead before them leaves for
    it ("Give me recipes for:" + "- lasagna" -> "Give me recipes for lasagna"; "Can you
    explain these terms simply:" + "• inflation" -> "Can you explain inflation simply"), also
    after a lead that ends on its verb ("Can you calculate:") or asks how ("In Python, how
    do I:" + "a) read a CSV file"). Any other pieces as they are."""
    leads = [i for i, piece in enumerate(pieces) if piece.lead]
    if not leads:
        return pieces
    at = leads[0]
    lead = pieces[at].text.rstrip().rstrip(":：").rstrip()
    said, _, asked = lead.rpartition(" - ")  # "Shopping list help - need recs for:"
    told = [Segment(said, pasted=True)] if said and asks(asked, language) else []
    lead = asked if told else lead
    items = [p.text for p in pieces[at + 1 :] if p.item]
    place = PLACEHOLDER.search(lead) if language is ENGLISH else None
    if language is ENGLISH and not _leaves_a_place(lead, place, items):
        return pieces
    short = all(len(words_of(item)) <= PASTED_WORDS for item in items)
    if language is not ENGLISH and not (items and short and tells_each(lead, language)):
        return pieces  # "Mi spieghi:" + "- perché il cielo è blu": each item told
    return [
        *pieces[:at],
        *told,
        *(
            Segment(_in_lead(lead, place, p.text), item=True) if p.item else p
            for p in pieces[at + 1 :]
        ),
    ]


def _described(pieces: list[Segment], language: Language) -> list[Segment]:
    """Items under a lead about the user's own case ("my lawn:", "Dishwasher issues:") that
    ask nothing ("- brown patches in july"), in a request that asks after them ("what's
    going on?"): context, not parts. Any other pieces as they are."""
    leads = [i for i, piece in enumerate(pieces) if piece.lead]
    if not leads or not SITUATION.search(pieces[leads[0]].text):
        return pieces
    items = [p for p in pieces[leads[0] + 1 :] if p.item]
    after = [p for p in pieces[leads[0] + 1 :] if not p.item and not p.pasted]
    if any(asks(p.text, language) for p in items) or not any(asks(p.text, language) for p in after):
        return pieces
    return [Segment(p.text, pasted=True) if p.item else p for p in pieces]


def _leaves_a_place(lead: str, place: re.Match[str] | None, items: list[str]) -> bool:
    """Whether an English lead asks something each item completes (see `_items_in_lead`)."""
    asked = asks(lead) or HOW_DO_I.search(lead)
    if not items or not asked or not all(_fits(lead, item) for item in items):
        return False
    last = words_of(lead)[-1:]
    fills_in = place or not last or last[0] in PREPOSITIONS | VERBS - {"help", "think"}
    return bool(fills_in or HOW_DO_I.search(lead) or TELL_ME.search(lead))  # not "help:"


def _in_lead(lead: str, place: re.Match[str] | None, item: str) -> str:
    """An item in its lead's place for it (`place`), or after a lead that ends on "for"."""
    thing = item.rstrip(".?!")
    if place is None:
        space = "" if "\u3040" <= lead[-1:] <= "\u9fff" else " "  # "请告诉我什么是..."
        return f"{lead}{space}{thing}" + ("?" if HOW_DO_I.search(lead) else "")
    return f"{lead[: place.start()]}{thing}{lead[place.end() :]}"


def _fits(lead: str, item: str) -> bool:
    """Whether an item fills its lead's place: a thing it names ("iron deficiency"), an
    action after a lead that asks how ("In Python, how do I:" + "read a CSV file"), any
    short text after a lead that translates ("Translate these into Spanish:")."""
    words = words_of(item)
    if HOW_DO_I.search(lead):
        not_a_verb = QUESTION_WORDS | AUXILIARIES | SUBJECT_PRONOUNS | DETERMINERS
        return 0 < len(words) <= 10 and words[0].isalpha() and words[0] not in not_a_verb
    if words_of(lead)[:1] == ["translate"] and PLACEHOLDER.search(lead) or TELL_ME.search(lead):
        return 0 < len(words) <= PASTED_WORDS
    if words_of(lead)[-1:] and words_of(lead)[-1] in VERBS:  # "Can you calculate:"
        return _names_a_thing_only(item, most=PASTED_WORDS)
    return _names_a_thing_only(item)


def _names_a_thing_only(item: str, most: int = 6) -> bool:
    """Whether an item names a thing in at most `most` words and asks nothing ("iron
    deficiency", "the advantage rule"; not "how do I crate train")."""
    words = words_of(item)
    asking = QUESTION_WORDS | AUXILIARIES | VERBS | SUBJECT_PRONOUNS
    return 0 < len(words) <= most and not set(words) & asking


def _read(segment: Segment, language: Language, context: list[str], drafts: list[Draft]) -> None:
    """Adds what one segment holds: context, or parts."""
    text = segment.text
    if segment.pasted:
        context.append(text.strip())
        return
    if segment.lead and not set(words_of(text)) - LEAD_WORDS:
        return  # "Could you (1) ... (2) ...": nothing but a lead-in
    colon = text.rstrip().endswith((":", "："))
    helps = "help" in words_of(text) and not set(words_of(text)) & QUESTION_WORDS
    announces = colon or helps or ANNOUNCES.search(text) or not asks(text, language)
    if segment.lead and announces:
        context.append(text)  # "I need three things for my D&D campaign:", "Can you help?"
        return
    if not segment.item and THANKS.search(text) and not asks(text, language):
        context.append(text)  # "Any help appreciated.", "thanks in advance!"
        return
    if segment.item:
        bare = strip_fillers(text)
        lower = bare[:1].islower()
        drafts.append(Draft(finish(bare), new_sentence=True, item=True, lower=lower))
        return
    if _aspects_of_its_request(text, language):
        drafts.append(Draft(text, new_sentence=True))  # "Explain how X happened: what caused it"
        return
    lead, asked = _lead_and_rest(text, language)
    if lead:
        context.append(lead)
    if asked is None and drafts and _names_a_thing(text, language):
        then = _opens_with_then(text, language)  # "then the answers to them"
        drafts.append(Draft(text, then=then, new_sentence=True, fragment=True))  # "Also one for B."
        return
    if asked is None:
        context.append(text)
        return
    typed = strip_joining(asked, language) or asked
    found = clauses(typed, language)
    opening = words_of(strip_fillers(found[0].text))[:1]  # "Long story short, my sister ..."
    told = opening and opening[0] in SUBJECTS | {"the", "his", "her", "their", "your"}
    own = opening and (opening[0] in OWN_SUBJECTS or opening == ["mi"] and language.code == "es")
    own = own and language is not ENGLISH and not asks(found[0].text.rstrip("?"), language)
    telling = own or language is ENGLISH and told and not asks(found[0].text.rstrip("?"))
    lead_in = not set(words_of(found[0].text)) - LEAD_WORDS and not asks(found[0].text)
    if len(found) > 1 and lead_in:
        found.pop(0)  # "hey quick question, whats the max carry-on size": nothing but a lead-in
    elif len(found) > 1 and telling:
        context.append(found.pop(0).text.rstrip("?？.") + ".")  # "My roommate ..., so how do I"
    for index, clause in enumerate(found):
        then = clause.then or (index == 0 and _opens_with_then(text, language))
        lower = index == 0 and typed.lstrip("¿¡")[:1].islower()  # "¿Y gato?": gato
        drafts.append(Draft(clause.text, then=then, new_sentence=index == 0, lower=lower))


def _query(text: str, language: Language) -> list[Draft]:
    """The parts of a request typed as a search query, that asks nothing in a sentence
    ("population of canada and population of mexico")."""
    found = clauses(text, language)
    return [Draft(c.text, then=c.then, new_sentence=i == 0) for i, c in enumerate(found)]


def _lead_and_rest(text: str, language: Language) -> tuple[str, str | None]:
    """(context, what it asks) of a sentence: for one that announces what it asks after a
    colon ("Here is what I need: tips for X, and ideas for Y."), the lead line and what
    follows; for a request with a pasted text after a colon ("Summarise this: <text>"),
    the text and the request; ("", the sentence) for one that asks; ("", None) for one
    that asks nothing."""
    colon = _colon(text)
    if colon is not None:
        lead, rest = text[: colon + 1].strip(), text[colon + 1 :].strip()
        quoted = rest[:1] in "\"'“‘" and rest.rstrip(".")[-1:] in "\"'”’"  # a quoted email
        lead_asks = asks(lead.rstrip(":"), language)
        rest_asks = rest and asks(rest, language) and not quoted
        several = rest_asks and len(clauses(rest, language)) > 1  # "Can you do these: A; B"
        if rest_asks and (not lead_asks or several):
            return (lead if set(words_of(lead)) - LEAD_WORDS else ""), rest
        pasted = len(words_of(rest)) >= PASTED_WORDS and not quoted_spans(rest)
        shown = re.search(r"\b(?:this|these|the following)\b", lead, re.I) is not None
        shared = shown and len(clauses(lead.rstrip(":"), language)) > 1  # "explain this and ..."
        pasted = pasted or shared and len(words_of(rest)) >= 4  # "... improvements: def f(x)"
        if lead_asks and pasted and not rest_asks:
            return rest, lead.rstrip(":")
    return ("", text) if asks(text, language) or _asks_after_telling(text, language) else ("", None)


def _asks_after_telling(text: str, language: Language) -> bool:
    """Whether a sentence tells something, then asks after a comma ("my mom is turning 60
    next month, what should i get her", "hey quick question, whats ..."): two clauses, the
    first opening with its subject or only a lead-in."""
    found = clauses(text, language) if language is ENGLISH else []
    if len(found) < 2 or asks(found[0].text, language):
        return False
    first, then = words_of(strip_fillers(found[0].text)), words_of(found[1].text)
    pronoun = then[1:2] != [] and then[1] in SUBJECT_PRONOUNS | {"it", "there"}
    asked = then[1:2] != [] and then[1] in AUXILIARIES  # not "..., when the ovens failed"
    question = (then[0] in QUESTION_WORDS and asked) or (then[0] in AUXILIARIES and pronoun)
    return (first[0] in SUBJECTS or not set(first) - LEAD_WORDS) and question


def _aspects_of_its_request(text: str, language: Language) -> bool:
    """Whether an open-ended request lists after its colon what its answer should say of the
    thing it names ("Explain how the 2008 crisis happened: what caused it, who was involved
    and why it spread") or what a piece of writing covers ("a guide ...: what to buy, ..."),
    or, without a colon, `_aspects_in_line`: which one answer covers."""
    colon = _colon(text)
    if language is not ENGLISH:
        return False
    if colon is None:
        return _aspects_in_line(text)
    lead, rest = text[:colon], text[colon + 1 :].strip()
    if (
        not rest
        or not wants_skeleton(lead, language)
        or ANNOUNCES.search(lead)
        or PLACEHOLDER.search(lead)
    ):
        return False
    if WRITING.search(lead) and asks(lead, language):
        return True  # "a complete guide ... covering the first 30 days: what to buy, ..."
    return any(pronoun_at(clause.text) is not None for clause in clauses(rest, language))


def _aspects_in_line(text: str) -> bool:
    """Whether a long open-ended instruction goes on to name aspects of its own thing, which a
    later clause means with a pronoun ("explain what overfitting is, why it happens, how to
    detect it ..."): one request, for a skeleton, not parts."""
    told = words_of(REQUEST_LEAD.sub("", text.strip().lower()))
    if len(told) < 15 or told[0] not in EXPLAINING or not wants_skeleton(text):
        return False
    found = clauses(text)
    said = [(c.text, pronoun_at(c.text)) for c in found[1:]]
    leans = any(at is not None and words_of(t)[at] in PERSONAL for t, at in said)  # not "one"
    return leans and not any(clause.then for clause in found)  # not "then translate it"


def _colon(text: str) -> int | None:
    """Where a colon outside quotations stands, if one does."""
    quoted = quoted_spans(text)
    for match in re.finditer(r":(?!//)", text):  # not "https://"
        if not any(a < match.start() < b for a, b in quoted):
            return match.start()
    return None


def _names_a_thing(sentence: str, language: Language) -> bool:
    """Whether a sentence only names a thing for the part before ("Also one that means
    happy.", "And a quick lunch?"): it opens, past its joining words, with an article, a
    preposition or a word that names the thing again."""
    words = words_of(strip_joining(sentence, language))
    opens = language.determiners | language.back | language.of | language.prepositions
    said = " ".join(words) + " "
    counted = bool(words) and (words[0].isdigit() or words[0] in COUNTS)  # "Also 10 miles."
    asked = language is not ENGLISH and set(words[1:4]) & language.question_words
    if asked:
        return False  # "et à partir de quand je dois appeler le médecin ?": a question
    return bool(words) and (words[0] in opens or counted or said.startswith(FRAGMENT_OPENINGS))


def _opens_with_then(text: str, language: Language) -> bool:
    if text.lstrip().startswith(HAN_THEN):
        return True  # "然后翻译成英文"
    if re.match(r"(?:and\s+)?if\s+(?:so|not|yes)\b", text.strip(), re.I):
        return True  # "can i leave the airport? and if so what should i see"
    first = words_of(text)[:1]
    after = " ".join(words_of(text)[:3]).startswith(THEN_PHRASES)  # "After that, make ..."
    if set(words_of(text)[:3]) & APART:
        return False  # "then separately, what's the formula for glucose": no step after
    return bool(first) and (first[0] in language.thens or first[0] == "then" or after)


def _unique(drafts: list[Draft]) -> list[Draft]:
    """The drafts without a part asked twice (the first kept)."""
    seen: set[tuple[str, ...]] = set()
    kept = []
    for draft in drafts:
        key = tuple(words_of(draft.text))
        if key not in seen:
            seen.add(key)
            kept.append(draft)
    return kept
