"""The shape of a request, in any language: lines, numbered items, ordinals, sentences.

`segments` cuts a request where its form says a new thing begins: list lines ("- ...",
"2. ..."), items numbered inline ("(a) ... (b) ...", "1) ... 2) ...", "i) ... ii) ..."),
ordinals ("First, ... Second, ... Finally, ..."), and sentence ends (".", "?", "!", and
"。", "？", "؟" without a space). A quotation is never cut. Each `Segment` says whether its
form makes it an item of an enumeration (a part, whatever its words) or a sentence that
the manager still has to read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from modules.manager.words import ABBREVIATIONS, words_of

LIST_LINE = re.compile(
    r"^\s*(?:[-*\u2022\u00b7+>]|\(?(?:\d{1,2}|[a-hA-H]|i{1,3}|iv|vi{0,3}|ix|x)[.):/-]|"
    r"\d{1,2}\s+[-–]|#\d{1,2}[.):]?|[qQ]\d{1,2}[.):]?)\s+"
)
"""A line of a pasted list: a bullet, or a number, letter or roman numeral and a mark
("1.", "1 -", "#1", "Q1:")."""
COUNTED_LINE = re.compile(r"^\s*(\d{1,2})\s+(?=\S)")
"""A line that opens with its number and nothing else ("1 best way to learn chess"): a
list line when the lines count 1, 2, 3..."""
INLINE_MARK = re.compile(
    r"(?:(?<=\s)|(?<=^)|(?<=[:：]))\(?([q#](?=\d))?(\d{1,2}|[a-h]|i{1,3}|iv|vi{0,3}|ix|x)"
    r"(?:[).]|(?<=\d)-|(?(1)[:]?))(?=\s+\S)",
    re.I,
)
"""An item mark inside a line: "(1)", "2)", "(b)", "ii)", "3.", "1-", "Q1:", "#1"."""
THEN_ORDINAL = r"|then|next|after that|ensuite|dann|luego|poi|depois"
ORDINALS = (
    r"first(?:ly)?(?: thing| of all| question)?|to start(?: with)?|one(?=[,:])|erstens|"
    r"primero|primo|premièrement|premierement|primeiro|d'abord",
    r"second(?:ly)?(?: thing| question)?|two(?=[,:])|zweitens|segundo|secondo|"
    r"deuxièmement|deuxiemement" + THEN_ORDINAL,
    r"third(?:ly)?(?: thing| question)?|three(?=[,:])|drittens|tercero|terzo|troisièmement|"
    r"terceiro" + THEN_ORDINAL,
    r"fourth(?:ly)?|four(?=[,:])|viertens|cuarto|quarto|quatrièmement",
)
"""Words that number the things a request asks for, first to fourth, in the languages of
`modules.manager.words.LANGUAGES`."""
LAST_ORDINAL = r"finally|lastly|last(?: thing| question)?|schließlich|por último|infine|enfin"
_QUOTE_PAIRS = {'"': '"', "“": "”", "«": "»", "'": "'", "‘": "’", "„": "“", "`": "`"}
_SENTENCE_END = re.compile(
    r"(?<=[.?!])[\"'”’)\]]*\s+|(?<=[。？！؟])\s*"
    r"|(?<=[\u2600-\u27bf\U0001f300-\U0001faff])\s+(?=(?i:how|what|whats|why|when|where|who|"
    r"which|can|could|should|would|is|are|do|does|also|btw|so|pls|please|i|im|i'm|he|hes|she|"
    r"shes|they|we|it|its|my)\b)"
    r"|(?<=[，、])(?=还有|另外|顺便|然后|之后|接着|そのあと|その後|それから)"
)
"""Where a sentence ends: after its mark, after an emoji that a new clause follows ("my dog
is a lab 😕 how much should he eat"; not "pizza 🍕 and pasta"), or at a Chinese comma
before "also" ("怎么学好英语口语，还有雅思要准备多久？")."""
_ROMAN = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x")


@dataclass(frozen=True)
class Segment:
    """A piece of a request: an item of an enumeration, or a sentence (or a lead line)."""

    text: str
    item: bool = False
    lead: bool = False
    """The text before an enumeration's first item ("I need three things:", "Could you")."""
    pasted: bool = False
    """A text the request is about (a pasted email, code), not the request's own words."""


TEXT_NOUNS = re.compile(
    r"\b(?:e-?mail|message|text|article|paragraph|code|essay|letter|note|post|review|comment|"
    r"quote|excerpt|snippet|error|log|output|bio|description|story|poem|draft|sentence|"
    r"report|abstract|summary|lyrics|recipe|transcript)s?\b",
    re.IGNORECASE,
)
"""Words of a line that announces a pasted text ("Email from my boss:"), not the parts of
the request ("my questions:")."""


PASTED_WORDS = 12
"""Words after "Summarise this:" that make a pasted text (context), not the words of the
instruction itself ("Translate to French: good night")."""
TEXT_LEAD = re.compile(
    r"(?i)\s*(?:(?:please|pls|can you|could you)\s+)?(?:summari[sz]e|translate|rewrite|"
    r"paraphrase|proofread|correct|edit|shorten|simplify|rephrase|reword|polish|fix|debug|"
    r"review)\b"
    r"[^:.?!]{0,40}?:\s*"
)
"""An instruction on a text that follows its colon, on its line or the lines after
("Summarize this:", "translate to spanish:", "fix this code:"), whose sentences are the
text's, not the request's."""


def segments(text: str) -> list[Segment]:
    """The request cut where its form says a new thing begins, in order. A paragraph after
    a line that announces it ("Email from my boss:") and before the request, and a block
    of code between ``` fences, is a pasted text."""
    blocks = _blocks(text)
    if any(pasted for _, pasted in blocks):
        return [
            segment
            for block, pasted in blocks
            for segment in ([Segment(block, pasted=True)] if pasted else _shape(block))
        ]
    return _shape(text)


def _blocks(text: str) -> list[tuple[str, bool]]:
    """The paragraphs of a text, each with whether it is pasted."""
    fenced = r"(^```.*?^```[^\n]*$)"  # a block of code between fences, blank lines and all
    pieces = re.split(fenced, text, flags=re.M | re.S)
    paragraphs = [
        p
        for piece in pieces
        for p in ([piece] if piece.startswith("```") else re.split(r"\n\s*\n", piece))
        if p.strip()
    ]
    blocks = []
    for index, paragraph in enumerate(paragraphs):
        fenced = paragraph.strip().startswith("```")
        before = paragraphs[index - 1].rstrip() if index else ""
        announced = before.endswith(":") and TEXT_NOUNS.search(before) is not None
        blocks.append((paragraph, fenced or (announced and index + 1 < len(paragraphs))))
    return blocks


def _shape(text: str) -> list[Segment]:
    """The segments of a text without pasted blocks."""
    lines = [line for line in text.splitlines() if line.strip()]
    listed = [i for i, line in enumerate(lines) if LIST_LINE.match(line)]
    if len(listed) >= 2:
        return _list_lines(lines, listed, LIST_LINE)
    counted = [(i, m) for i, line in enumerate(lines) if (m := COUNTED_LINE.match(line))]
    numbers = [int(match.group(1)) for _, match in counted]
    if len(counted) >= 2 and numbers == list(range(1, len(counted) + 1)):
        return _list_lines(lines, [i for i, _ in counted], COUNTED_LINE)
    if worked_on := _with_its_text(lines):
        return worked_on
    flat = " ".join(" ".join(lines).split())
    for find, said in (
        (_inline_items, flat),
        (_ordinal_items, "\n".join(lines)),
        (_dashed_items, flat),
    ):
        if found := find(said):
            lead, items, tail = found
            return _lead(lead) + [Segment(item, item=True) for item in items] + sentences(tail)
    return [s for line in lines for s in sentences(line)]


def _with_its_text(lines: list[str]) -> list[Segment]:
    """The sentences before a line that instructs on a text, the instruction, and the text
    after its colon to the end, which is pasted whatever it says ("Translate this to
    Spanish: where is the bathroom? how much is it?", "fix this code:" and code lines); []
    when no line so instructs."""
    at, found = next(
        ((i, m) for i, line in enumerate(lines) if (m := TEXT_LEAD.match(line))), (0, None)
    )
    worked_on = "\n".join([lines[at][found.end() :], *lines[at + 1 :]]).strip() if found else ""
    if found is None or not worked_on:
        return []
    lead = lines[at][: found.end()].strip().rstrip(":").rstrip()  # "Summarize this", on the text
    before = [s for line in lines[:at] for s in sentences(line)]
    step = re.search(r"(?<=[.?!])\s+(?=(?:and )?(?:then|after that|also|btw)\b)", worked_on, re.I)
    after = sentences(worked_on[step.end() :]) if step else []  # "... Then translate it"
    worked_on = worked_on[: step.start()] if step else worked_on
    if len(words_of(worked_on)) < PASTED_WORDS:  # "translate to german: I love you. Do you?"
        return [*before, Segment(f"{lead}: {worked_on}", item=True), *after]
    return [*before, Segment(lead), Segment(worked_on, pasted=True), *after]


ASKS_NEXT = re.compile(r"\s*(?:What|How|Why|When|Where|Who|Which|Can|Could|Should|Is|Do|Does)\b")
"""A question that opens after a full stop, which ends a sentence even after an abbreviation."""


def sentences(text: str) -> list[Segment]:
    """The sentences of a line: cut after ".", "?", "!" (and their CJK and Arabic forms),
    never inside a quotation or after an abbreviation ("St. Louis", "e.g. this")."""
    quoted = quoted_spans(text)
    cuts = [0]
    for match in _SENTENCE_END.finditer(text):
        end = match.start()
        asks = ASKS_NEXT.match(text, match.end()) is not None  # "Acme Inc. What should I"
        if (
            any(start < end < stop for start, stop in quoted)
            or _abbreviation(text, end)
            and not asks
        ):
            continue
        cuts.append(match.end())
    cuts.append(len(text))
    pieces = [text[a:b].strip() for a, b in zip(cuts, cuts[1:], strict=False)]
    return [Segment(piece) for piece in pieces if piece]


def _list_lines(lines: list[str], listed: list[int], mark: re.Pattern[str]) -> list[Segment]:
    """Pasted list lines: each item with the unmarked lines that continue it."""
    first, last = listed[0], listed[-1]
    found = _lead(" ".join(lines[:first]))
    for start, stop in zip(listed, [*listed[1:], last + 1], strict=True):
        item = " ".join([mark.sub("", lines[start]), *lines[start + 1 : stop]])
        found.append(Segment(" ".join(item.split()), item=True))
    return found + [s for line in lines[last + 1 :] for s in sentences(line)]


def _lead(text: str) -> list[Segment]:
    text = text.strip()
    if not text:
        return []
    *before, last = sentences(text)
    return [*before, Segment(last.text, lead=True)]


COUNTER = re.compile(r"\b(?:step|part|question|task|point|item|no)\W*$", re.I)
"""A word that counts the items after it ("step 1 ..., step 2 ...")."""


def _inline_items(text: str) -> tuple[str, list[str], str] | None:
    """(lead, items, "") when `text` numbers its items inline, in order from the first
    ("(1) ... (2) ...", "a) ... b) ...", "i) ... ii) ...", "1. ... 2. ..."); else None."""
    marks = [m for m in INLINE_MARK.finditer(text) if not _inside(m.start(), text)]
    run = _counting_run(marks)
    if len(run) < 2:
        return None
    if run[0].group(0).endswith(".") and not all(m.group(0).endswith(".") for m in run):
        return None
    bare = not re.search(r"[().:#-]", run[0].group(0)) and not run[0].group(1)
    before = text[: run[0].start()].rstrip()
    counter = COUNTER.search(before)
    if bare and before and not before.endswith(":") and not counter:
        return None  # "between terminal 1 and terminal 2": numbers of things, not items
    if bare and not run[0].group(2).isdigit():
        return None  # "I have ... type I vs type II errors": words, not marks
    ends = [m.start() for m in run[1:]] + [len(text)]
    items = [_trim(text[m.end() : end]) for m, end in zip(run, ends, strict=True)]
    if counter:  # "step 1 explain X, step 2 tell me Y": the word before each number
        items = [_trim(COUNTER.sub("", item)) for item in items]
    lead = COUNTER.sub("", before) if counter else text[: run[0].start()]
    return lead, [item for item in items if item], ""


def _dashed_items(text: str) -> tuple[str, list[str], str] | None:
    """(lead, items, "") when a line lists its items after a colon with " - " or " * "
    ("todo: - find flights - plan the days - list foods"); else None."""
    lead, colon, rest = text.partition(":")
    items = [_trim(item) for item in re.split(r"(?:^|\s)[-*•]\s+", rest) if item.strip()]
    if not colon or len(items) < 2 or not re.match(r"\s*[-*•]\s", rest):
        return None
    return lead + colon, items, ""


def _counting_run(marks: list[re.Match[str]]) -> list[re.Match[str]]:
    """The longest run of marks that count 1, 2, 3... (or a, b, c... or i, ii, iii...)."""
    best: list[re.Match[str]] = []
    for ranks in (_number_rank, _letter_rank, _roman_rank):
        run: list[re.Match[str]] = []
        for mark in marks:
            rank = ranks(mark.group(2).lower())
            if rank == len(run) + 1:
                run.append(mark)
        best = max(best, run, key=len)
    return best


def _number_rank(mark: str) -> int:
    return int(mark) if mark.isdigit() else 0


def _letter_rank(mark: str) -> int:
    return ord(mark) - ord("a") + 1 if len(mark) == 1 and mark in "abcdefgh" else 0


def _roman_rank(mark: str) -> int:
    return _ROMAN.index(mark) + 1 if mark in _ROMAN else 0


def _ordinal_items(text: str) -> tuple[str, list[str], str] | None:
    """(lead, items, "") when `text` numbers its items with words ("First, ... Second, ...
    Finally, ..."), two at least and the first of them first; else None."""
    found: list[re.Match[str]] = []
    for words in ORDINALS:
        match = _ordinal(text, words, found[-1].end() if found else 0)
        if match is None:
            break
        found.append(match)
    if found and (last := _ordinal(text, LAST_ORDINAL, found[-1].end())):
        found.append(last)
    if len(found) < 2:
        return None
    ends = [m.start() for m in found[1:]] + [len(text)]
    items = [
        " ".join(_trim(text[m.end() : end]).split()) for m, end in zip(found, ends, strict=True)
    ]
    return " ".join(text[: found[0].start()].split()), [item for item in items if item], ""


def _ordinal(text: str, words: str, start: int) -> re.Match[str] | None:
    """The first ordinal of `words` at a clause's start, from `start` on."""
    pattern = rf"(?:{words})\b[\s,:]*"
    for match in re.compile(pattern, re.I).finditer(text, start):
        if not _inside(match.start(), text) and _at_clause_start(text, match.start()):
            return match
    return None


def _at_clause_start(text: str, index: int) -> bool:
    if text[:index].rstrip(" \t").endswith("\n"):
        return True  # a line of its own
    before = text[:index].rstrip()
    joined = before.lower().endswith((" and", " y", " et", " und", " e"))
    return not before or before[-1] in ".,;:?!—–-…" or joined


def _trim(item: str) -> str:
    """An item without the joining words and commas it ends or starts with."""
    item = item.strip(" ,;")
    item = re.sub(r"(?:[,;]?\s+(?:and|or|y|et|und|e|en))+$", "", item, flags=re.I)
    return item.strip(" ,;")


def quoted_spans(text: str) -> list[tuple[int, int]]:
    """Where quotations stand: (start, end) of each. A straight single quote opens one only
    at a word's start and closes at a word's end (not "don't")."""
    spans, index = [], 0
    while index < len(text):
        char = text[index]
        close = _QUOTE_PAIRS.get(char)
        opens = close is not None and (index == 0 or not text[index - 1].isalnum())
        if opens and close is not None:
            end = _closing(text, index + 1, close)
            if end > index:
                spans.append((index, end))
                index = end
        index += 1
    return spans


def _closing(text: str, start: int, close: str) -> int:
    for index in range(start, len(text)):
        after = text[index + 1 : index + 2]
        if text[index] == close and (close not in "'’" or not after.isalnum()):
            return index
    return -1


def _inside(index: int, text: str) -> bool:
    return any(start < index < stop for start, stop in quoted_spans(text))


def _abbreviation(text: str, end: int) -> bool:
    """Whether the full stop before `end` ends an abbreviation or a single letter (not a
    unit's: "at 20 m/s.")."""
    if end == 0 or text[end - 1] != ".":
        return False
    word = re.search(r"(?<!/)\b([\w.]+)\.$", text[:end])
    return word is not None and (
        word.group(1).lower() in ABBREVIATIONS
        or (len(word.group(1)) == 1 and word.group(1).isalpha())
        or re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", word.group(1)) is not None  # "U.S.", "p.m."
    )
