"""The clauses of one sentence that asks several things, each completed in the user's words.

A sentence splits where the words after a comma, "and" (or the language's "y", "et",
"und"...) or "then" begin a question or an instruction of their own, or repeat the pattern
of the first clause; a fragment borrows what it leaves out from the first clause:

- "Name two rivers in Europe and two mountains in Asia." -> "Name two rivers in Europe." /
  "Name two mountains in Asia."
- "What language is spoken in Brazil, in Mexico and in Egypt?" -> three questions
- "How many legs does a spider have, and an ant?" -> "How many legs does an ant have?"
- "¿Cuál es la capital de Perú y la de Chile?" -> "¿Cuál es la capital de Chile?"

Anything else stays with the clause before it ("the difference between the sun and the
moon", "a story about a dragon and a knight", "buy eggs, milk and bread"). Quotations and
brackets are never cut.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from modules.manager.aspects import SHOWN, aspects_listed, in_a_list, one_piece_of_writing
from modules.manager.completion import complete, in_place_of_last
from modules.manager.coordination import coordinated_objects
from modules.manager.languages import ENGLISH, Language
from modules.manager.parallel import counted_again
from modules.manager.structure import quoted_spans
from modules.manager.words import (
    AUXILIARIES,
    BETWEEN,
    COUNTS,
    COURTESY,
    DEGREES,
    DETERMINERS,
    FILLERS,
    HAN_QUESTION,
    LIST_OPENERS,
    MANNER,
    PREPOSITIONS,
    QUESTION_WORDS,
    SUBJECT_PRONOUNS,
    SUBORDINATORS,
    THEN_PHRASES,
    VERBS,
    words_of,
)

SENTENCE_MARKS = ".?!？。！؟"


@dataclass(frozen=True)
class Clause:
    """One clause of a sentence, as an instruction of its own."""

    text: str
    then: bool = False
    """Joined by "then" (or the language's word): it works on what the clause before made."""


def clauses(sentence: str, language: Language = ENGLISH) -> list[Clause]:
    """A sentence's clauses, each a whole instruction (the sentence itself when it asks one
    thing). A setting before the first comma ("In Python, how do I A and how do I B") is
    every clause's."""
    setting = SETTING.match(sentence)
    words = words_of(setting.group(1)) if setting else []
    opener = words[1:2] if words[:1] == ["and"] else words[:1]  # "and based on that,"
    opens = opener != [] and opener[0] in SETTING_OPENERS | language.prepositions
    asking = QUESTION_WORDS | AUXILIARIES | language.question_words | language.auxiliaries
    if setting and opens and len(words) <= 6 and not set(words) & asking:
        lead = setting.group(1)
        found = clauses(sentence[setting.end() :], language)
        lead = lead[:1].upper() + lead[1:]  # "In python, how do i ..."
        return [Clause(f"{lead}, {c.text[:1].lower()}{c.text[1:]}", c.then) for c in found]
    end = sentence[-1] if sentence[-1] in SENTENCE_MARKS else ""
    body = sentence[: -len(end)] if end else sentence
    joints = _joints(body, language)
    found: list[_Open] = [_Open(body[: joints[0].start()] if joints else body)]
    for joint, following in zip(joints, [*joints[1:], None], strict=False):
        stop = following.start() if following else len(body)
        piece = strip_joining(body[joint.end() : stop], language)
        then = _is_then(joint.group(), body[joint.end() : stop], language)
        completed, tail = _next_clause(found, body[joint.start() :], piece, language, then)
        if completed is None:
            found[-1].text += body[joint.start() : stop]
            continue
        if tail is not None:  # another thing for the same verb
            found[-1].objects = True
            for clause in found:  # "un film e un libro per il weekend": both for the weekend
                clause.text += f" {tail}" if tail and clause.objects else ""
        found.append(_Open(completed, then, tail is not None))
    if len(found) == 1:
        return [Clause(_finish(sentence, "", language))]
    opened = sentence.lstrip()[:1] if end in "?!" and sentence.lstrip()[:1] in "¿¡" else ""
    texts = [c.text if c.text.lstrip().startswith(opened) else opened + c.text for c in found]
    return [
        Clause(_finish(text, end, language), c.then) for text, c in zip(texts, found, strict=True)
    ]


ASKING = QUESTION_WORDS | AUXILIARIES
MODALS = frozenset({"might", "may", "could", "would", "should", "will", "can", "must"})
NAMED = SUBJECT_PRONOUNS | DETERMINERS | {"it", "there", "this", "that", "these", "those"}
"""What a question's subject after its modal opens with ("and can [i] ...", "could [the]")."""
RELATIVE = re.compile(r"\s(?:that|which|who) [a-z]+s\b|\b(?:who|which|she|he)(?:'s| is| was)\s")
"""A relative clause with its verb ("a function that takes", "my grandfather, who was"), or
a description ("she's"), whose object goes on after "and"."""


def _next_clause(
    found: list[_Open], rest: str, piece: str, language: Language, then: bool
) -> tuple[str | None, str | None]:
    """(the piece as a clause of its own, or None if it continues the clause before; and,
    when it names another thing for the same verb, the phrase every such thing takes, "" if
    none). Alternatives ("a cheetah or a greyhound") always continue the question."""
    said = words_of(piece)
    manner = said[:1] != [] and said[0] in MANNER and not set(said) & (ASKING | VERBS)
    if said and set(said) <= COURTESY or manner:
        return None, None  # "..., por favor"; "..., with examples pls"
    modal = said[:1] != [] and said[0] in MODALS and said[1:2] != [] and said[1] not in NAMED
    if modal and language is ENGLISH:
        return None, None  # "... when you're 30 and might move": one subject, two verbs
    before = words_of(found[-1].text)
    between = [i for i, w in enumerate(before) if w in BETWEEN]
    paired = between and set(before[between[-1] :]) & ({"and"} | language.ands)
    if between and not paired and said[:1] != [] and said[0] not in AUXILIARIES:
        return None, None  # "the relationship between humidity and how hot it feels"
    step = [w for w in said if w not in ("then", "finally", "back", "and")][:1] == ["to"]
    route = re.search(r"\bfrom\b.+\bto\b", found[-1].text, re.IGNORECASE)
    if step and route and words_of(found[0].text)[:1] in ([v] for v in VERBS):
        return None, None  # "from nebula to main sequence to red giant and finally to ..."
    if aspects_listed(found[-1].text, rest, said, language):
        return None, None  # "Explain the French Revolution, its causes, the main factions"
    shown = SHOWN.match(found[0].text) and re.match(r"(?:tell|let) (?:me|us)\b", " ".join(said))
    if language is ENGLISH and shown:
        return None, None  # "check out this link ... and tell me what you think"
    if language is ENGLISH and said[:1] != [] and one_piece_of_writing(found[0].text, said):
        return None, None  # "an essay on how X works and why Y matters"
    described = re.match(r"\s*,\s*(?:who|which)\s+(?:was|is|were)\b", rest) is not None
    if (
        described
        and language is ENGLISH
        and words_of(found[0].text)[:1] != []
        and (words_of(found[0].text)[0] in VERBS)
    ):
        return None, None  # "Write a eulogy for my grandfather, who was a carpenter, ..."
    thing = said[:1] != [] and said[0] not in VERBS and not set(said) & ASKING
    relative = RELATIVE.search(found[-1].text) and not RELATIVE.search(f" {piece}")
    if thing and relative and language is ENGLISH:
        return None, None  # "a function that takes a list and a number": both for "takes"
    comma = len(found) == 1 and rest.lstrip().startswith(",")
    if _subordinate(found[0].text, language, comma) or (
        _alternatives(piece, language) and not _asks_itself(piece, language)
    ):
        return None, None  # "..., a cheetah or a greyhound?"; "If X costs $40, what was ..."
    yes_no = words_of(found[-1].text)[:1] != [] and words_of(found[-1].text)[0] in AUXILIARIES
    if yes_no and language is ENGLISH and re.match(r"[,;]?\s*or\b", rest.strip()):
        return None, None  # "Is it worth repairing, or should I sell it?": one choice
    if in_a_list(found[-1].text, piece, language):
        return None, None  # "an essay ..., covering the crisis, the role of ..., and ..."
    listed = words_of(piece)[:1] != [] and words_of(piece)[0] in LIST_OPENERS | {"with"}
    if listed and len(rest.strip(" ,")) > len(piece.strip()) + 2:
        return None, None  # "an essay ..., with an intro, three body paragraphs and ..."
    if _quoted_names(found[-1].text, piece):
        return None, None  # "with 'name' and 'price' keys"
    first_words = words_of(found[0].text)
    if words_of(piece)[:1] and (words_of(piece)[0].isdigit() or words_of(piece)[0] in COUNTS):
        again = counted_again(found[0].text, piece, words_of(piece), first_words)
        if again is not None:  # "5 baby names starting with A and 5 starting with M"
            return again, None
    shared = re.match(rf"({QUOTED})\s+((?:in|into|to)\s+\S.*)$", piece.strip())
    compared = language.together & set(words_of(found[0].text))  # "between 'let' and 'var'"
    if shared and found[-1].text.rstrip()[-1:] in "'\"’”" and not compared:  # "say 'hi' and"
        said = in_place_of_last(found[0].text, shared.group(1))
        return (f"{said} {shared.group(2)}", shared.group(2)) if said else (None, None)
    anded = _has_and(rest, language)  # "A, B and C"; not "A, 3 days a week"
    objects = coordinated_objects(found[-1].text, piece, language) if anded else None
    if objects is not None:
        return objects
    return complete(found[0].text, piece, language, then), None


QUOTED = r"""['"‘“][^'"‘’“”]+['"’”]"""
QUOTED_NAMES = re.compile(rf"^{QUOTED}\s+\w+s\b")
"""A quoted word that names, with the one before it, things of a kind ("'price' keys")."""
NAMED_THINGS = re.compile(rf"\b\w+s\s+(?:{QUOTED},?\s+(?:and\s+)?)*{QUOTED}$")
"""Things of a kind, then their quoted names ("keys 'name', 'age'")."""


def _quoted_names(before: str, piece: str) -> bool:
    """Whether a piece quotes another name of the things whose first name ends the clause
    before ("... with 'name' and" + "'price' keys"; "with keys 'name'," + "'age'")."""
    if before.rstrip()[-1:] not in "'\"’”" or piece.strip()[:1] not in "'\"‘“":
        return False
    return QUOTED_NAMES.match(piece.strip()) is not None or NAMED_THINGS.search(before) is not None


SETTING = re.compile(r"\s*((?:[^,?!.;:¿¡]|\.(?=\d))+),\s+(?=\S)")
"""A phrase before a sentence's first comma, which may set the scene for all of it."""
SETTING_OPENERS = PREPOSITIONS | {"after", "before", "during", "as", "using", "since", "based"}
"""Words a setting opens with ("In Python,", "After a tooth extraction,")."""


@dataclass
class _Open:
    """A clause while the sentence is read: more text may still join it."""

    text: str
    then: bool = False
    objects: bool = False
    """It names one of several things for one verb ("a film" of "un film e un libro")."""


def strip_fillers(piece: str) -> str:
    """The text without leading joining words ("and", "also,", "then")."""
    piece = piece.strip(" ,;")
    lowered = piece.lower()
    for filler in FILLERS:
        if lowered.startswith((filler + " ", filler + ",", filler + "，", filler + "、")):
            return strip_fillers(piece[len(filler) + 1 :])
        if "\u3040" <= filler[0] <= "\u9fff" and lowered.startswith(filler):
            return strip_fillers(piece[len(filler) :])  # "还有雅思要准备多久": no space in Chinese
    return piece


def strip_joining(piece: str, language: Language = ENGLISH) -> str:
    """The text without leading joining words, English ones and the language's ("y",
    "und dann", "puis")."""
    mark = piece.lstrip()[:1] if piece.lstrip()[:1] in "¿¡" else ""
    if mark:  # "¿Y cuántas veces ...?": the joining word after the opening mark
        return mark + strip_joining(piece.lstrip()[1:], language)
    piece = strip_fillers(piece)
    joining = language.ands | language.thens
    while (first := piece.split(None, 1)) and first[0].lower().strip(",") in joining:
        piece = strip_fillers(first[1] if len(first) > 1 else "")
    return piece


def finish(part: str, end: str = "") -> str:
    """A part as an instruction of its own: capitalised, ending in its sentence's mark (a
    question mark for a question)."""
    return _finish(part, end)


def _joints(body: str, language: Language) -> list[re.Match[str]]:
    """Where the sentence may split: commas, semicolons, the language's "and" and "then",
    and, in a question run on into another ("how tall is a giraffe how much does it
    weigh"), before the second question word; never inside quotations or brackets."""
    joining = language.ands | language.thens | {"then", "plus", *THEN_PHRASES}
    ands = "|".join(sorted(joining, key=len, reverse=True))
    pattern = rf"[,;]\s*(?:(?:{ands}|also|or),?\s+)?|\s+(?:{ands}|&|\+)\s+"
    if words_of(body)[:1] and words_of(body)[0] in language.question_words:
        asked = "|".join(sorted(language.question_words, key=len))
        verbs = "|".join(sorted(AUXILIARIES, key=len))
        degrees = "|".join(DEGREES)  # "how tall is A how tall is B"
        relative = r"(?!(?:who|which)\s+(?:are|were|have)\b)"  # "people [who are] older than me"
        pattern += rf"|(?<=\w)\s+{relative}(?=(?:{asked})\s+(?:(?:{degrees})\s+)?(?:{verbs})\b)"
        subjects = "|".join(SUBJECT_PRONOUNS)  # "... under 1000 what frame size do i need"
        pattern += (
            rf"|(?<=\w)\s+(?=(?:what|which)\s+(?:\w+\s+){{1,2}}(?:{verbs})\s+(?:{subjects})\b)"
        )
        pattern += rf"|(?<=\w)\s+(?=(?:{asked})(?:s|'s|’s)\s)"  # "... in fahrenheit whats the ..."
        pattern += r"|(?<=\wed)\s+(?=who\s+\w+ed\b)"  # "was google founded who founded it"
    if language is ENGLISH:  # "... ira also whats the", "... account is also should i pay"
        asked = "|".join(sorted(QUESTION_WORDS, key=len))
        verbs = "|".join(sorted(AUXILIARIES, key=len))
        after = rf"(?:{asked})(?:s|'s|’s)?\b|(?:{verbs})\s+(?:i|we|you)\b"
        pattern += rf"|\s+(?:also|btw)\s+(?={after})"
    if words_of(body)[:1] and words_of(body)[0] in language.question_words:  # not "is it X or"
        pattern += rf"|\s+or\s+(?=(?:{'|'.join(AUXILIARIES)})\s+(?:i|we|you)\b)"  # "or should i"
    told = "|".join(sorted(VERBS | language.question_words, key=len, reverse=True))
    pattern += rf"|\s+but\s+also\s+(?=(?:{told})\b)"  # "a joke about cats but also explain"
    numbers = [(m.start(), m.end()) for m in re.finditer(r"\d,\d{3}\b", body)]  # "$6,000"
    shielded = [*quoted_spans(body), *_brackets(body), *numbers]
    found: list[re.Match[str]] = []
    for m in re.finditer(pattern, body, re.IGNORECASE):
        if any(a <= m.start() < b for a, b in shielded):
            continue
        if not m.group().strip() and words_of(body[: m.start()])[-1:] in [
            [p] for p in PREPOSITIONS
        ]:
            continue  # "... and in what year did he": the question opens with its preposition
        between = " ".join(words_of(body[found[-1].end() : m.start()])) if found else "x"
        if not between or between in FILLERS:
            continue  # "... and also how do I ...": one joint, not an empty piece between two
        found.append(m)
    return found


def _subordinate(clause: str, language: Language, comma: bool) -> bool:
    """Whether a first clause only sets a condition for the question after it ("If a shirt
    costs $40 after a discount, what was its price?"; before a comma, "Ignoring air
    resistance, how long does it take ...?", not "melting point of tin and of lead")."""
    words = words_of(clause)
    if not words or language is not ENGLISH:
        return False
    when = words[0] in ("when", "where") and words[1:2] and words[1] not in AUXILIARIES
    doing = comma and words[0].endswith("ing") and not set(words) & AUXILIARIES  # "Swimming is"
    return words[0] in SUBORDINATORS or bool(when) or doing


def _alternatives(piece: str, language: Language) -> bool:
    """Whether a piece names alternatives ("a cheetah or a greyhound"): it belongs to the
    question before it."""
    return bool(set(words_of(piece)) & (language.ors | {"or"}))


def _asks_itself(piece: str, language: Language) -> bool:
    """Whether a piece opens a question of its own: a question word, or a verb and its
    subject ("and do they drive on the left or right there")."""
    words = words_of(piece)
    if len(words) < 3:
        return False
    subject = words[1] in SUBJECT_PRONOUNS | {"it", "there"}
    return (words[0] in AUXILIARIES and subject) or words[0] in language.question_words


def _has_and(text: str, language: Language) -> bool:
    """Whether `text` joins things with the language's "and" (or "&", or "plus")."""
    return bool(set(words_of(text)) & (language.ands | {"plus"})) or "&" in text


def _brackets(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"\([^()]*\)|\[[^\[\]]*\]", text)]


def _is_then(joint: str, piece: str, language: Language) -> bool:
    said = words_of(joint) + words_of(piece)[:1]
    after = " ".join(words_of(joint)).endswith(THEN_PHRASES)  # "; after that, write ..."
    return after or any(word in language.thens or word == "then" for word in said)


def _finish(part: str, end: str, language: Language = ENGLISH) -> str:
    part = part.strip(" ,;/，、").lstrip("•▪◦· ")  # "• What were the main causes?"
    mark = part[:1] if part[:1] in "¿¡" else ""  # "¿cuándo ...": capitalised after the mark
    part = mark + part[len(mark) : len(mark) + 1].upper() + part[len(mark) + 1 :]
    if part and part[-1] not in SENTENCE_MARKS:
        words = words_of(part)
        if len(words) > 2 and words[0].endswith("ly"):
            words = words[1:]  # "Roughly what would it cost?"
        if words[:2] in (["if", "so"], ["if", "not"]):
            words = words[2:]  # "If so what should i see?"
        question = bool(words) and (
            words[0] in QUESTION_WORDS | AUXILIARIES | language.question_words
            or (len(words) > 1 and words[0] in PREPOSITIONS and words[1] in QUESTION_WORDS)
        )
        if re.search(r"[\u3040-\u9fff]", part):  # "怎么学好英语口语" -> "...口语？"
            question = any(word in part for word in HAN_QUESTION)
            part += "？" if question else (end or "。")
        else:
            part += "?" if question else (end or ".")
    return part
