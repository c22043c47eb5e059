"""Pronouns of a part and the things they mean, in the words of the parts before it.

`pronoun_at` finds a word that refers back ("it", "its", "they", "one" after "need",
"there", "this" as a thing); `named` replaces it with the thing the nearest part before is
about (its subject, the object after a question word and a verb, an embedded question's
thing, an instruction's object), or, for "its N", with "the N of" the thing a part names
last.
"""

from __future__ import annotations

import re

from modules.manager.languages import ENGLISH, Language
from modules.manager.words import (
    ADVERBS,
    AUXILIARIES,
    BE,
    BEFORE_A_DEMONSTRATIVE,
    DEGREES,
    DEMONSTRATIVES,
    DETERMINERS,
    DO_SUPPORT,
    DUMMY_AFTER,
    INSTANCE_NOUNS,
    KNOWN_TO_ALL,
    MANNER_NOUNS,
    MOTION,
    ONE_AFTER,
    ONE_FOR_A_KIND,
    PARTICIPLES,
    PERSONAL,
    POSSESSIVES,
    PREPOSITIONS,
    QUESTION_WORDS,
    REQUEST_LEAD,
    REQUEST_NOUNS,
    TOPIC_WORDS,
    VERBS,
    superlative,
    words_of,
)

NOT_A_NOUN = QUESTION_WORDS | AUXILIARIES | DETERMINERS | PREPOSITIONS


def pronoun_at(text: str, language: Language = ENGLISH) -> int | None:
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
    return (
        words[index] == "it"
        and words[index + 1 : index + 2] != []
        and (words[index + 1] in DUMMY_AFTER or words[index + 1 : index + 3] == ["is", "to"])
    )


def named(before: list[str], text: str, pronoun: int, meant: str = "") -> tuple[str, str] | None:
    """(`text` with the pronoun at `pronoun` replaced by the words of the thing the nearest
    part before it is about, that thing): `meant`, the thing a pronoun of the part before
    already meant, else the part's own (`before`: latest first; "its N" takes the last
    thing a part names: "the N of Peru"); None when none names a thing, and for "its" not
    before a noun."""
    words = words_of(text)
    said, after = words[pronoun], words[pronoun + 1 : pronoun + 2]
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
    plain = REQUEST_LEAD.sub("", plain)  # "Could you summarise [the plot of Hamlet]"
    tokens = plain.rstrip("?.!").split()
    words = [w[0] if (w := words_of(t)) else "" for t in tokens]
    for index, word in enumerate(words):
        if word in QUESTION_WORDS:
            return _asked_about(tokens, words, index, plural)
    if words[:1] and words[0] in REQUEST_NOUNS:
        return last_thing(part)
    if words[:1] and words[0] in VERBS:
        start = 2 if words[1:2] in (["me"], ["us"]) else 1
        if words[start : start + 1] and words[start] in TOPIC_WORDS:
            return last_thing(part)  # "tell me about [the Roman Colosseum]"
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


def bridged(before: list[str], text: str) -> str | None:
    """`text` tied to the thing the nearest part before it is about (`before`: latest
    first) when it leans on it without a pronoun: a bare "the N" gains "of" the thing ("What
    are the side effects?" after "What is ibuprofen?": "... the side effects of
    ibuprofen?"), a fragment without a verb gains "for" it ("Best flour?" after "what is
    sourdough": "Best flour for sourdough?"). None when the part names a thing of its own
    (a name, a quotation, "the N of ..."), already shares a word with the thing, or the
    parts before name no thing (or only one as generic as "the sky")."""
    topic = next((t for t in map(_named_thing, before) if t is not None), None)
    tokens = text.rstrip("?.!").split()
    words = [w[0] if (w := words_of(t)) else "" for t in tokens]
    if topic is None or not words or (set(words) & set(words_of(topic))) - NOT_A_NOUN:
        return None
    for index, word in enumerate(words):
        if word in INSTANCE_NOUNS and words[index + 1 : index + 2] not in (["of"], ["for"]):
            found = re.search(rf"\b{re.escape(tokens[index].rstrip('?.!,'))}", text)
            if found is not None:  # "give two examples": of inflation
                return f"{text[: found.end()]} of {topic}{text[found.end() :]}"
    if re.search(r"['\"‘“]|\b(?!I\b)[A-Z]", text[1:]):
        return None
    end = len(text.rstrip("?.!"))
    for index, word in enumerate(words):
        if word == "the" and (stop := _bare_definite_end(words, index + 1)) is not None:
            phrase = r"\s+".join(map(re.escape, ["the", *words[index + 1 : stop]]))
            found = re.search(rf"\b{phrase}\b", text, re.IGNORECASE)
            if found is not None:
                return f"{text[: found.end()]} of {topic}{text[found.end() :]}"
    verbless = not set(words) & (AUXILIARIES | VERBS | QUESTION_WORDS | PREPOSITIONS | PERSONAL)
    if verbless and len(words) <= 4:
        return f"{text[:end]} for {topic}{text[end:]}"
    return None


def bridged_in(language: Language, before: list[str], text: str) -> str | None:
    """`bridged` in a language other than English: a part ending on a definite thing
    ("Quali sono gli orari?") tied to the name or thing the nearest part before ends on
    ("... per il Colosseo?"): "Quali sono gli orari del Colosseo?"."""
    joins = dict(pair.split("=", 1) for pair in language.of_the)
    articles = "|".join(sorted(language.definite, key=len, reverse=True))
    last = re.search(rf"\b(?:{articles})\s+[\w'’-]+(?=\s*[?.!？]*\s*$)", text, re.IGNORECASE)
    if not joins or last is None or re.search(r"[A-ZÀ-Þ]", text.lstrip("¿¡")[1:]):
        return None
    thing = next((t for t in (_name_in(b, language) for b in before) if t is not None), None)
    if thing is None or set(words_of(text)) & set(words_of(thing[1])):
        return None
    article, name = thing
    known = article.lower() in joins
    tie = f"{joins[article.lower()]} {name}" if known else f"{joins['']} {article} {name}"
    return f"{text[: last.end()]} {tie}{text[last.end() :]}"


HAN_OR_KANA = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
SUBJECT = re.compile(r"([\u30a0-\u30ff\u3400-\u9fff]+?)(?:有|是|在|的|は|が|の|を|から)")
"""The subject a Chinese or Japanese question opens with: 长城 of "长城有多长？", 富士山 of
"富士山の高さは…"."""
PREDICATE_FIRST = (
    "是",
    "有",
    "在",
    "什么",
    "怎么",
    "哪",
    "多",
    "为什么",
    "いつ",
    "どう",
    "何",
    "どこ",
    "なぜ",
    "誰",
)
"""How a Chinese or Japanese question without a subject of its own opens."""


def bridged_han(before: list[str], text: str) -> str | None:
    """A Chinese or Japanese question that opens on its predicate ("是什么时候建的？") with the
    subject of the nearest part before ("长城是什么时候建的？"; Japanese adds は); a question
    about another subject alone ("北京呢？", "大阪は？") asks the part before of it."""
    if (found := SUBJECT.match(before[0])) is None:
        return None
    if other := re.fullmatch(r"(?:那|那么|じゃあ|では)?(.+?)(?:呢|は)[？?]", text):
        return f"{before[0][: found.start(1)]}{other.group(1)}{before[0][found.end(1) :]}"
    if not text.startswith(PREDICATE_FIRST):
        return None
    japanese = re.search(r"[\u3040-\u309f]", text) is not None  # hiragana
    return f"{found.group(1)}{'は' if japanese else ''}{text}"


def _name_in(part: str, language: Language) -> tuple[str, str] | None:
    """(its article, the name) of the last name a part says after its first word ("il",
    "Colosseo"), else of the thing it ends on ("la", "paella")."""
    articles = "|".join(sorted(language.determiners, key=len, reverse=True))
    names = r"[A-ZÀ-Þ][\w'’-]*(?:\s+[A-ZÀ-Þ][\w'’-]*)*"
    body = part.lstrip("¿¡ ")
    found = [m for m in re.finditer(rf"(?:\b({articles})\s+)?({names})", body) if m.start()]
    if not found:
        found = list(re.finditer(rf"\b({articles})\s+([\w'’-]+)\s*[?.!？]*\s*$", body, re.I))
    return (found[-1].group(1) or "", found[-1].group(2)) if found else None


def _named_thing(part: str) -> str | None:
    """The thing a part is about (`_topic`) as a later part may lean on it: "France" of "the
    capital of France"; None for a thing as generic as "the sky"."""
    topic = _topic(part)
    said = REQUEST_LEAD.sub("", part).rstrip("?.!").split()
    if topic is None and len(said) == 2 and said[0].lower() in VERBS:
        return said[1]  # "Explain [photosynthesis]."
    if topic is None or not re.match(r"the [a-z]", topic):
        return topic
    return topic.partition(" of ")[2] or None


def _bare_definite_end(words: list[str], start: int) -> int | None:
    """The end of "the N" from `start` when nothing says which N it is ("the side effects",
    not "the side effects of aspirin", "the best way", "the sky" or "the one you like")."""
    stop = start
    ends = PREPOSITIONS | AUXILIARIES | QUESTION_WORDS | ADVERBS | {"and", "or", "that"}
    while stop < len(words) and words[stop] not in ends and stop - start < 3:
        stop += 1
    phrase = words[start:stop]
    if words[start - 2 : start - 1] and words[start - 2] in DO_SUPPORT and len(phrase) > 1:
        phrase, stop = phrase[:-1], stop - 1  # "how much should the strings [cost]"
    elif len(phrase) > 1 and phrase[-1] in PARTICIPLES:
        phrase, stop = phrase[:-1], stop - 1  # "where is the painting [kept]"
    if not phrase or superlative(phrase[0]) or set(phrase) & KNOWN_TO_ALL:
        return None
    if words[stop : stop + 1] and words[stop] in ("of", "for", "to", "that", "which", "who"):
        return None
    return None if set(phrase) & (NOT_A_NOUN | PERSONAL | {"i", "you", "we"}) else stop
