"""Parts that lean on a thing named before them without a pronoun, tied to it in its words.

`bridged` (English): a bare "the N" gains "of" the thing ("What are the side effects?" after
"What is ibuprofen?"), an example "of" it, a verbless item "for" it ("Best flour?");
`bridged_in` does the same in the other languages the manager reads, with the language's
"of" ("les horaires du Louvre"); `bridged_han` gives a Chinese or Japanese question without
a subject the one before ("长城是什么时候建的？"); `with_alternatives_of` gives "Which one is
better?" the two things the parts before compare.
"""

from __future__ import annotations

import re

from modules.manager.languages import ENGLISH, Language
from modules.manager.topics import NOT_A_NOUN, last_thing, topic_of
from modules.manager.words import (
    ABSOLUTES,
    ADVERBS,
    AUXILIARIES,
    BE,
    BETWEEN,
    DETERMINERS,
    DO_SUPPORT,
    HAN_QUESTION,
    INSTANCE_NOUNS,
    KNOWN_TO_ALL,
    MOTION,
    OPENS_A_NAME,
    PARTICIPLES,
    PERSONAL,
    PREPOSITIONS,
    QUESTION_WORDS,
    REQUEST_LEAD,
    VERBS,
    WHICH,
    animate,
    superlative,
    words_of,
)


def bridged(before: list[str], text: str) -> str | None:
    """`text` tied to the thing the nearest part before it is about (`before`: latest
    first) when it leans on it without a pronoun: a bare "the N" gains "of" the thing ("What
    are the side effects?" after "What is ibuprofen?": "... the side effects of
    ibuprofen?"), a fragment without a verb gains "for" it ("Best flour?" after "what is
    sourdough": "Best flour for sourdough?"). None when the part names a thing of its own
    (a name, a quotation, "the N of ..."), already shares a word with the thing, or the
    parts before name no thing (or only one as generic as "the sky")."""
    pointed = re.search(r"\b(?:that|this) ([a-z]+)\b", text)  # "[that glass]": glass with n=1.5
    if pointed and re.search(rf"\b{pointed.group(1)}\b", before[0], re.IGNORECASE):
        phrase = rf"\b{pointed.group(1)} (?:with|of|in) (?:[^,?.!]|\.\d){{1,20}}"
        said = re.search(phrase, before[0])
        return None if said is None else text.replace(pointed.group(), said.group(), 1)
    topic = next((t for t in map(_named_thing, before) if t is not None), None)
    if topic and topic.startswith(("a ", "an ")) and HOW_TO.match(before[0]):
        return None  # "how do i take a screenshot? how do i record the screen": no screenshot's
    tokens = text.rstrip("?.!").split()
    words = [w[0] if (w := words_of(t)) else "" for t in tokens]
    if topic is None or not words or (set(words) & set(words_of(topic))) - NOT_A_NOUN:
        return None
    for index, word in enumerate(words):
        if word in INSTANCE_NOUNS and words[index + 1 : index + 2] not in (["of"], ["for"]):
            found = re.search(rf"\b{re.escape(tokens[index].rstrip('?.!,'))}", text)
            if found is not None:  # "give two examples": of inflation
                return f"{text[: found.end()]} of {topic}{text[found.end() :]}"
    if re.search(r"(?<!\w)['\"‘“]", text) or re.search(r"\b(?!I\b)[A-Z]", text[1:]):
        return None
    end = len(text.rstrip("?.!"))
    for index, word in enumerate(words):
        setting = index > 0 and words[index - 1] in PREPOSITIONS | {"before", "after"}
        asked = words_of(before[0])[:2]
        person = asked in (["who", "is"], ["who", "was"])  # "who was Franz Ferdinand"
        if setting and (words_of(topic)[0] in ("a", "an") or person):
            continue  # "drive on [the spare]" of "a flat tire"; not "in the final" of "the cup"
        if word == "the" and (stop := _bare_definite_end(words, index + 1)) is not None:
            phrase = r"\s+".join(map(re.escape, ["the", *words[index + 1 : stop]]))
            found = re.search(rf"\b{phrase}\b", text, re.IGNORECASE)
            noun = r"\s+".join(map(re.escape, words[index + 1 : stop]))
            if re.search(rf"\b{noun}\b", before[0], re.IGNORECASE):
                continue  # "[the 90s]" named in both; "a megalodon" ... "the megalodon"
            if found is not None:
                return f"{text[: found.end()]} of {topic}{text[found.end() :]}"
    verbless = not set(words) & (AUXILIARIES | VERBS | QUESTION_WORDS | PREPOSITIONS | PERSONAL)
    formula = re.search(r"[\^=/()]|\d[a-z]\b", text) is not None  # "Integrate e^(2x) dx"
    if verbless and not formula and len(words) <= 4:
        return f"{text[:end]} for {topic}{text[end:]}"
    return None


def bridged_in(language: Language, before: list[str], text: str) -> str | None:
    """`bridged` in a language other than English: a part ending on a definite thing
    ("Quali sono gli orari?") tied to the name or thing the nearest part before ends on
    ("... per il Colosseo?"): "Quali sono gli orari del Colosseo?"."""
    if set(words_of(text)) & language.subjects:
        return None  # "... quand je dois appeler le médecin ?": the speaker's own question
    joins = dict(pair.split("=", 1) for pair in language.of_the)
    articles = "|".join(sorted(language.definite, key=len, reverse=True))
    last = re.search(rf"\b(?:{articles})\s+[\w'’-]+(?=\s*[?.!？]*\s*$)", text, re.IGNORECASE)
    if not joins or last is None or re.search(r"[A-ZÀ-Þ]", text.lstrip("¿¡")[1:]):
        return None
    named = [w for w in words_of(text[: last.start()]) if w in language.definite]
    if _clitic(text, last.start(), language) or named:
        return None  # "dois-je le nourrir", "il limite ... per i neopatentati": its own thing
    thing = next((t for t in (_name_in(b, language) for b in before) if t is not None), None)
    if thing is None or set(words_of(text)) & set(words_of(thing[1])):
        return None
    article, name = thing
    known = article.lower() in joins
    tie = f"{joins[article.lower()]} {name}" if known else f"{joins['']} {article} {name}"
    return f"{text[: last.end()]} {tie}{text[last.end() :]}"


HAN_OR_KANA = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
SUBJECT = re.compile(
    r"(?:什么是|何が)([\u30a0-\u30ff\u3400-\u9fff]+)"
    r"|([\u30a0-\u30ff\u3400-\u9fff]+?)(?:有|是|在|的|可以|能|は|が|の|を|に|で|から)"
)
"""The subject a Chinese or Japanese question opens with: 长城 of "长城有多长？", 猫 of
"猫可以吃巧克力吗？", 富士山 of "富士山の高さは…"."""
ROUTE = re.compile(
    r"(.+?から.+?まで|.+?到[^，,？?]+?)(?:(.{1,6}?)で|(坐.{1,4}?))?(?=何|要|需要|大概|多|どの|どれ|いくら)"
)
"""A question's trip, from one place to another, and how ("東京から大阪まで[新幹線]で何時間…",
"北京到上海[坐高铁]要多久"), which a later question about its price or time leaves unsaid."""
ROUTE_ASKED = re.compile(
    r"(?:あと|また|それと|还有|另外)?[、，,]?\s*((?:料金|運賃|値段|費用|票价|价格|费用)[^、，,]{0,12}[？?])"
)
"""A short question after one about a trip, of its price ("料金はいくらですか？", "票价多少？")."""
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
OWN_SUBJECT = re.compile(
    r"(?:为什么|为何|怎么)[\u4e00-\u9fff]{2,4}?(?:会|能|要|可以|该|应该|是|都|就|不|没)"
)
"""A Chinese question word, then a subject of its own and its verb ("为什么房价会涨")."""


def bridged_han(before: list[str], text: str) -> str | None:
    """A Chinese or Japanese question that opens on its predicate ("是什么时候建的？") with the
    subject of the nearest part before ("长城是什么时候建的？"; Japanese adds は); a question
    about another subject alone ("北京呢？", "大阪は？") asks the part before of it."""
    route, asked = ROUTE.match(before[0]), ROUTE_ASKED.fullmatch(text)
    if route and asked and not re.search("から|到", text):  # "料金はいくらですか？": of that trip
        means = route.group(2) or route.group(3) or ""
        return f"{route.group(1)}{means}{'の' if 'まで' in route.group(1) else ''}{asked.group(1)}"
    if route or (found := SUBJECT.match(before[0])) is None:
        return None  # "天気はどうですか？" after a trip: what it asks of the trip is unsaid
    group = 1 if found.group(1) else 2  # "什么是[人工智能]", "[长城]有多长"
    subject = found.group(group)
    if subject.startswith((*PREDICATE_FIRST, "如何")) or any(q in subject for q in HAN_QUESTION):
        return None  # "如何在Excel里…", "学多久能过N3": a question word, no subject
    if text.startswith(("它们", "它", "他们", "他", "她")):  # "它有哪些应用？": its subject
        pronoun = 2 if text[1:2] == "们" else 1
        return f"{subject}{text[pronoun:]}"
    if other := re.fullmatch(
        r"(?:那|那么|じゃあ|では)?(.+?)(?:呢|は|はどうですか|はどう)[？?]", text
    ):
        thing = re.search(r"(?:^|[にはがでと、])([^にはがでと、を]+)を", before[0])  # [チョコ]を
        start, end = thing.span(1) if thing else found.span(group)
        said = other.group(1)  # "德国的呢？" after "法国的首都": 德国, before the frame's 的
        said = said[:-1] if said.endswith("的") and before[0][end : end + 1] == "的" else said
        return f"{before[0][:start]}{said}{before[0][end:]}"
    if not text.startswith(PREDICATE_FIRST) or OWN_SUBJECT.match(text):
        return None  # "为什么[房价]会涨？": a subject of its own after the question word
    japanese = re.search(r"[\u3040-\u309f]", text) is not None  # hiragana
    return f"{subject}{'は' if japanese else ''}{text}"


SETTING_AFTER = re.compile(r"\bin ([A-Za-z][\w.+#-]*(?: [A-Za-z][\w.+#-]*){0,2})[?.!]*$")
"""The setting a question ends on: a language, a tool, a place ("... in [google sheets]?")."""


def in_setting(previous: str, text: str, item: bool) -> str | None:
    """A question with the setting the question before it ends on ("whats the difference
    between let and const in javascript? also when should i use var": "... use var in
    javascript"), or with what it asks how to do (`_needed_for`); None when the question
    before asks in no such setting (a time: "in march", "in 2010"; "in the morning"; a
    manner: "in chunks"), this one names a place or a name of its own, or is an `item` of
    an enumeration."""
    if (needed := _needed_for(previous, text)) is not None or item:
        return needed
    found = SETTING_AFTER.search(previous.strip())
    asks = words_of(previous)[:1]
    if found is None or not asks or asks[0] not in QUESTION_WORDS | AUXILIARIES:
        return None
    said, words = words_of(found.group(1)), words_of(text)
    state = words_of(previous[: found.start()])[-1:]  # "when you're [in love]": a state
    if state and state[0] in BE | {"you're", "youre", "i'm", "im", "we're", "it's"}:
        return None
    many = len(said) == 1 and said[0].endswith("s") and not said[0].endswith("ss")  # "chunks"
    if many or set(said) & (
        NOT_A_NOUN | KNOWN_TO_ALL | PERSONAL | {"general", "detail", "advance"}
    ):
        return None
    if len(words) < 3 or words[0] not in QUESTION_WORDS | AUXILIARIES:
        return None
    own = re.search(r"\b(?:in|at|on|for|of) (?!(?:an?|the)\b)\w", text, re.I)  # "in my X"
    if own or re.search(r"\b(?!I\b)[A-Z]", text[1:]):
        return None  # "... in Paris?": its own place; "how does Stripe ...": its own name
    end = len(text.rstrip("?.!"))
    to = "to" if words[-1] in MOTION else "in"  # "... the best time to go [to Kyoto]"
    return f"{text[:end]} {to} {found.group(1)}{text[end:]}"


HOW_TO = re.compile(r"(?i)\s*how (?:do|can|should|would) (?:i|you|we) ([^?.!]+?)[?.!]*$")
"""A question after how to do something ("how do i [fix a leaky faucet]")."""


def _needed_for(previous: str, text: str) -> str | None:
    """A question after what one needs, with what the question before asks how to do
    ("how do i fix a leaky faucet and what tools do i need": "... need to fix a leaky
    faucet"); None for other questions."""
    found = HOW_TO.match(previous)
    if found is None or not re.search(r"\bneed\s*[?.!]*$", text, re.I):
        return None
    end = len(text.rstrip("?.! "))
    return f"{text[:end]} to {found.group(1)}{text[end:]}"


def _name_in(part: str, language: Language) -> tuple[str, str] | None:
    """(its article, the name) of the last name a part says after its first word ("il",
    "Colosseo"), else of the thing it ends on ("la", "paella")."""
    articles = "|".join(sorted(language.determiners, key=len, reverse=True))
    names = r"[A-ZÀ-Þ][\w'’-]*(?:\s+[A-ZÀ-Þ][\w'’-]*)*"
    body = part.lstrip("¿¡ ")
    found = [m for m in re.finditer(rf"(?:\b({articles})\s+)?({names})", body) if m.start()]
    if not found:
        found = list(re.finditer(rf"\b({articles})\s+([\w'’-]+)\s*[?.!？]*\s*$", body, re.I))
        found = [m for m in found if not _clitic(body, m.start(), language)]
    return (found[-1].group(1) or "", found[-1].group(2)) if found else None


def _clitic(text: str, at: int, language: Language) -> bool:
    """Whether the article-like word at `at` is an object pronoun before a verb: it follows a
    verb put before its subject or a subject ("faut-il [le] stériliser", "je [la] cuis")."""
    before = text[:at].split()[-1:]
    return before != [] and ("-" in before[0] or before[0].lower() in language.subjects)


QUOTE = r"'[^']+'|\"[^\"]+\"|‘[^’]+’|“[^”]+”"
"""A quoted word or phrase."""


def _named_thing(part: str) -> str | None:
    """The thing a part is about (`topic_of`) as a later part may lean on it: "France" of "the
    capital of France"; None for a thing as generic as "the sky"."""
    both = re.search(rf"\bbetween ({QUOTE}) and ({QUOTE})", part)  # "between 'who' and 'whom'"
    if both is not None:
        return f"{both.group(1)} and {both.group(2)}"
    topic = topic_of(part)
    said = REQUEST_LEAD.sub("", part).rstrip("?.!").split()
    defines = words_of(part)[:2] in (["what", "is"], ["what", "are"])  # "What is [ibuprofen]?"
    named = topic is not None and (topic[:1].isupper() or words_of(topic)[0] in OPENS_A_NAME)
    if topic is not None and not (named or defines):
        topic = None  # "what temp to bake chicken breast": no thing a later "the" leans on
    if topic is None and len(said) == 2 and said[0].lower() in VERBS:
        return said[1]  # "Explain [photosynthesis]."
    quoted = re.search(QUOTE, part)
    if topic is None and quoted is not None:
        return quoted.group()  # "Translate ['good morning'] into Japanese."
    title = last_thing(part) if topic is None else None
    if title is not None and len(title.split()) > 1 and title.istitle():
        return title  # "5 discussion questions for [The Great Gatsby]"
    if topic is None or not re.match(r"the [a-z]", topic):
        return topic
    _, of, thing = topic.rpartition(" of ")  # "the role of the system of [World War I]"
    return thing if of else None


def _bare_definite_end(words: list[str], start: int) -> int | None:
    """The end of "the N" from `start` when nothing says which N it is ("the side effects",
    not "the side effects of aspirin", "the best way", "the sky" or "the one you like")."""
    stop = start
    ends = PREPOSITIONS | AUXILIARIES | QUESTION_WORDS | ADVERBS | {"and", "or", "that"}
    while stop < len(words) and words[stop] not in ends and stop - start < 3:
        participle = words[stop].endswith("ing") and words[stop + 1 : stop + 2] != []
        if stop > start and participle and words[stop + 1] in PREPOSITIONS:
            break  # "the critical angle [going into] air"
        stop += 1
    phrase = words[start:stop]
    asked = words[start - 2 : start - 1] and words[start - 2] in DO_SUPPORT
    asked = asked or start == 2 and words[0] in BE  # "are the balloon rides [safe]"
    if asked and len(phrase) > 1 and stop == len(words):  # "are the balloon rides [safe]"
        phrase, stop = phrase[:-1], stop - 1  # "how much should the strings [cost]"
    elif len(phrase) > 1 and (phrase[-1] in PARTICIPLES or phrase[-1].endswith("ed")):
        phrase, stop = phrase[:-1], stop - 1  # "where is the painting [kept]", "[required]"
    if not phrase or superlative(phrase[0]) or set(phrase) & (KNOWN_TO_ALL | ABSOLUTES):
        return None
    if words[stop : stop + 1] and words[stop] in ("of", "for", "to", "that", "which", "who"):
        return None
    return None if set(phrase) & (NOT_A_NOUN | PERSONAL | {"i", "you", "we"}) else stop


DEFINED = r"(?:what|who)(?:'s|’s| is| are) (.+?)"
"""A question that asks what a thing is ("what is [an IRA]")."""


def with_alternatives_of(done: list[str], text: str, language: Language) -> str:
    """ "Which one is better?" after "the difference between A and B": "Which one is better,
    A or B?"; "can I have both A and B" (also after "How is A different from B?", "What is
    A?" and "What is B?", and "Welche ...?" after "zwischen A und B"); `text` as it is when
    the parts before (`done`, in order) name no two things, or it names its own."""
    previous, earlier = done[-1], done[-2] if len(done) > 1 else ""
    words = words_of(text)
    ors = language.ors | {"or"}
    each = set(words[1:]) & {"each", "both", "either"}  # "When should I use each?"
    if not words or (words[0] not in WHICH and not each) or set(words) & ors:
        return text
    ands = "|".join(language.ands | {"and"})
    between = rf"\b(?:{'|'.join(BETWEEN)}) (.+?) (?:{ands}) (.+?)\s*[?.!？]*$"
    differ = r"\b(?:is|are|how's|hows) (.+?) different (?:from|than) (.+?)\s*[?.!]*$"
    found = (
        next(
            (m for d in reversed(done) if (m := re.search(between, d.strip(), re.I))),
            None,
        )  # "... between A and B? how much can I put in? can I have both"
        or re.search(differ, previous.strip(), re.I)
        or re.fullmatch(  # "what is a 401k, what is an ira, and which should I fund first"
            rf"{DEFINED}\s*[?.!]*\s*\n{DEFINED}\s*[?.!]*", f"{earlier}\n{previous}".strip(), re.I
        )
    )
    if found is None:
        return text
    end = text.rstrip()[-1:] if text.rstrip()[-1:] in "?.!？" else "?"
    either = sorted(language.ors)[0] if language.ors else "or"
    said = text.rstrip().rstrip("?.!？")
    mid = re.search(r"\b(both|either)\b(?!\s+of\b)", said) if language is ENGLISH else None
    if mid:  # "can I have both A and B", "can I make either A or B without ..."
        joint = "and" if mid.group(1) == "both" else "or"
        alike = f"{found.group(1)} {joint} {found.group(2)}"
        return f"{said[: mid.end()]} {alike}{said[mid.end() :]}{end}"
    return f"{said}, {found.group(1)} {either} {found.group(2)}{end}"


NAME = r"(?:the )?[A-Z][\w'’-]*(?: [A-Z][\w'’-]*)*"
ABOUT_A_PLACE = re.compile(
    rf"(?i:(?:can you |could you )?tell me about |what(?:'s| is) (?=.* like))"
    rf"(?:({NAME}) like|({NAME}))[?.!]*$"
)
"""A first part about a place by its name ("Tell me about Santorini.", "What is Marrakech
like?")."""


VISITS = frozenset({"visit", "see", "hike", "climb", "explore", "tour", "cross"})
"""Verbs that take the place as their object ("Can tourists visit [Chernobyl]?")."""


def in_the_place(first: str, text: str) -> str | None:
    """A short question after a first part about a place by name that names no place or thing
    of its own, asked of that place ("Where should I stay?" after "Tell me about Santorini.":
    "Where should I stay in Santorini?"); None otherwise."""
    about = ABOUT_A_PLACE.match(first.strip())
    place = (about.group(1) or about.group(2)) if about else None
    words = words_of(text)
    if place is None or not place.removeprefix("the ")[:1].isupper() or len(words) > 9:
        return None
    named = re.search(r"\b(?!I\b)[A-Z]", text[1:]) or set(words) & PREPOSITIONS - {"for", "to"}
    if named or words[0] not in QUESTION_WORDS | AUXILIARIES:
        return None  # "Is it safe to walk around the city center?": a place of its own
    end = len(text.rstrip("?.!"))
    to = "to " if words[-1] in MOTION else "" if words[-1] in VISITS else "in "
    return f"{text[:end]} {to}{place}{text[end:]}"  # "can tourists visit [Chernobyl]"


HOW_MUCH_TAKEN = re.compile(
    r"(?i)^(\s*how (?:much|many))( (?:should|can|do|could|would) (?:i|we|you) "
    r"(?:take|drink|eat|have|give|use)\b)"
)
"""A question of how much to take that leaves out what ("How much should I take per day?")."""


def amount_of(previous: str, text: str) -> str | None:
    """ "How much should I take per day?" after "the benefits of taking creatine": "How much
    creatine should I take per day?", the thing the part before names last; None otherwise."""
    asked = HOW_MUCH_TAKEN.match(text)
    topic = (topic_of(previous) or "") if asked else ""
    thing = topic.partition(" of ")[2] or topic  # "the side effects of [ibuprofen]"
    said = [w for w in thing.split() if not w.lower().endswith("ing")]  # "taking creatine"
    while said and said[0].lower() in DETERMINERS | {"good", "best", "some"}:
        said = said[1:]  # "a good protein powder"
    words = words_of(" ".join(said))
    if asked is None or not words or len(words) > 3 or set(words) & PERSONAL or animate(words[-1]):
        return None
    return f"{asked.group(1)} {' '.join(said)}{text[asked.end(1) :]}"
