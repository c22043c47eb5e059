"""`python -m cortex.bench parts`: does the manager find the parts people ask for?

It splits every request of the parts corpus (docs/parts-corpus/: a seen half, written
before the rules and tuned on, and a held-out half) and compares the parts with the
expected ones. A found part is right when it holds its expected part's own words (those no
other part or the context has), at least three quarters of its words, and not half of
another part's own words or of a context sentence: wording may differ ("do I need one"
for "do I need a VPN"), merging and losing a question may not. Figures per category and
per language: multi-part requests split into exactly their parts (and their dependencies),
the share of expected parts found, single requests kept whole, garbled parts (a word the
request does not have, or a piece of one part mixed into another), context sentences sent
as parts, and
skeleton routing. `--splitter model` measures the planner's model instead of the rules.
"""

from __future__ import annotations

import argparse
import functools
import re
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cortex.errors import ConfigError
from modules.manager.languages import language_of, languages
from modules.manager.parts import Split, split
from modules.manager.skeleton import wants_skeleton
from modules.manager.words import HAN_THEN, vocabulary, words_of

CORPUS = Path(__file__).parents[2] / "docs" / "parts-corpus"
HALVES = ("seen", "held_out")
FUNCTION_WORDS = vocabulary(
    "a an the and or but if then also too of to in on at for from with by about as into is "
    "are was were be been am do does did have has had can could will would should may might "
    "must i me my we us our you your he him his she her it its they them their there here "
    "what which who whom whose when where why how not no so very just please some any all "
    "each both one ones other another such only own same s t ll ve re d m o y"
)
"""Words that carry no content of a part; the rest must match."""


@functools.cache
def _function_words(code: str) -> frozenset[str]:
    """English's, and the articles, prepositions and joining words of the language with ISO
    code `code` ("del" of "gli orari del Colosseo")."""
    table = languages().get(code)
    if table is None:
        return FUNCTION_WORDS
    own = table.determiners | table.of | table.prepositions | table.ands | table.ors
    return FUNCTION_WORDS | own | table.definite | table.thens


@dataclass(frozen=True)
class Case:
    """One request of the corpus and what the manager should find in it."""

    request: str
    category: str
    language: str
    parts: tuple[str, ...]
    context: tuple[str, ...] = ()
    skeleton: bool | None = None
    depends_on: tuple[tuple[int, ...], ...] = ()


@dataclass(frozen=True)
class Score:
    """How one split compares with its case."""

    exact: bool
    found: int
    """Expected parts some found part matches."""
    garbled: int
    preambles: int


PARTICLES = frozenset("のはがをにでともへや")
"""Japanese particles: what they join is the content ("新幹線の料金" adds no word to "新幹線で")."""


ELIDED = re.compile(r"(qu|[cdjlmnst])'(?=\w)")
ELISIONS = dict(qu="que", c="ce", d="de", j="je", l="le", m="me", n="ne", s="se", t="te")
"""French words cut before a vowel (and Italian's "l'"), to read whole: "qu'il" is "que il"."""


def content(text: str, language: str = "en") -> set[str]:
    """The content words of a text in `language` (an ISO code), lower-cased (each
    character, in Chinese and Japanese, but for Japanese particles: "の", "は"; a French
    elision as its two words), without joining words ("and", "then", "puis")."""
    found: set[str] = set()
    for then in HAN_THEN:  # "然后翻译成英文": "then", a joining word as in every language
        text = text.replace(then, " ")
    for word in words_of(text):
        if any("\u3040" <= char <= "\u9fff" for char in word):
            found |= {char for char in word if "\u3040" <= char <= "\u9fff"} - PARTICLES
        elif (head := ELIDED.match(word)) and language in ("fr", "it"):
            found |= content(f"{ELISIONS[head.group(1)]} {word[head.end() :]}", language)
        elif word not in _function_words(language) and (len(word) > 1 or word.isdigit()):
            found.add(word.removesuffix("'s").strip("'"))  # "Malta's" is Malta
    return found


def load_corpus(path: Path) -> list[Case]:
    """The cases of one corpus file.

    Raises:
        ConfigError: The file is missing, not TOML, or a case lacks its request or parts.
    """
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"cannot read the corpus {path}: {error}") from error
    cases = []
    for number, raw in enumerate(document.get("case", []), start=1):
        if not raw.get("request") or not raw.get("parts"):
            raise ConfigError(f"{path}: case {number} needs a request and its parts")
        cases.append(
            Case(
                raw["request"],
                raw.get("category", "uncategorised"),
                raw.get("language", "en"),
                tuple(raw["parts"]),
                tuple(raw.get("context", ())),
                raw.get("skeleton"),
                tuple(tuple(d) for d in raw.get("depends_on", ())),
            )
        )
    if not cases:
        raise ConfigError(f"{path}: no [[case]] tables")
    return cases


def score(case: Case, found: Split) -> Score:
    """Compares a split with what the case expects."""
    expected = [content(part, case.language) for part in case.parts]
    context = [content(c, case.language) - set().union(*expected) for c in case.context]
    own = [
        e - set().union(*(x for j, x in enumerate(expected) if j != i), *context)
        for i, e in enumerate(expected)
    ]
    parts = [content(part, case.language) for part in found.parts]

    def right(words: set[str], index: int) -> bool:
        extra = words - expected[index]
        return (
            own[index] <= words
            and len(words & expected[index]) >= 0.75 * len(expected[index])
            and not any(
                j != index and o and 2 * len(extra & o) >= len(o) for j, o in enumerate(own)
            )
            and not any(c and 2 * len(extra & c) >= len(c) for c in context)
        )

    said = content(case.request, case.language)
    garbled = preambles = 0
    for words in parts:
        if words - said:
            garbled += 1
        elif (
            words
            and words <= set().union(*context)
            and not any(words & o or right(words, i) for i, o in enumerate(own))
        ):
            preambles += 1
        elif not any(right(words, i) for i in range(len(expected))) and _mixed(words, own):
            garbled += 1
    depends = found.depends_on or ((),) * len(parts)
    wanted = case.depends_on or ((),) * len(expected)
    exact = (
        len(parts) == len(expected)
        and all(right(words, i) for i, words in enumerate(parts))
        and [sorted(d) for d in depends] == [sorted(d) for d in wanted]
    )
    found_count = sum(any(right(words, i) for words in parts) for i in range(len(expected)))
    return Score(exact, found_count, garbled, preambles)


@dataclass
class Tally:
    """Figures of a group of cases (a half, a category, a language)."""

    requests: int = 0
    multi: int = 0
    multi_exact: int = 0
    expected_parts: int = 0
    found_parts: int = 0
    single: int = 0
    single_kept: int = 0
    garbled: int = 0
    preambles: int = 0
    routed: int = 0
    routed_right: int = 0

    def add(self, case: Case, found: Split, result: Score) -> None:
        self.requests += 1
        if len(case.parts) > 1:
            self.multi += 1
            self.multi_exact += result.exact
            self.expected_parts += len(case.parts)
            self.found_parts += result.found
        else:
            self.single += 1
            self.single_kept += len(found.parts) == 1
        self.garbled += result.garbled
        self.preambles += result.preambles
        if case.skeleton is not None and len(case.parts) == 1:
            self.routed += 1
            part = found.parts[0] if len(found.parts) == 1 else case.request
            self.routed_right += wants_skeleton(part, language_of(case.request)) == case.skeleton

    def figures(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "multi_exact": _share(self.multi_exact, self.multi),
            "multi_recall": _share(self.found_parts, self.expected_parts),
            "single_kept": _share(self.single_kept, self.single),
            "garbled": self.garbled,
            "preambles_as_parts": self.preambles,
            "skeleton_routing": _share(self.routed_right, self.routed),
            "counts": {
                "multi": [self.multi_exact, self.multi],
                "parts": [self.found_parts, self.expected_parts],
                "single": [self.single_kept, self.single],
                "skeleton": [self.routed_right, self.routed],
            },
        }


def _mixed(words: set[str], own: list[set[str]]) -> bool:
    """Whether a part holds a piece of one part's own words with another's ("Name the
    biggest forest lake" of "the deepest lake and the biggest forest"), not whole parts
    merged, and not one part with words missing."""
    touched = [o for o in own if words & o]
    return len(touched) > 1 and any(len(words & o) < len(o) for o in touched)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`--corpus FILE` (repeatable) instead of the two halves; `--splitter`."""
    parser.add_argument(
        "--corpus",
        type=Path,
        action="append",
        metavar="FILE",
        help="a corpus file laid out as docs/parts-corpus/seen.toml (default: both halves)",
    )
    parser.add_argument(
        "--limit",
        type=int,
        metavar="N",
        help="only the first N requests of each file (the model splitter takes seconds each)",
    )
    parser.add_argument(
        "--splitter",
        choices=["rules", "model", "auto"],
        default="rules",
        help="who finds the parts: the rules (default), the embedded planner model, or auto",
    )


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Every half's (or file's) figures: in all, per category, per language."""
    files = (
        {path.stem: path for path in args.corpus}
        if args.corpus
        else {half: CORPUS / f"{half}.toml" for half in HALVES}
    )
    try:
        corpora = {name: load_corpus(path)[: args.limit] for name, path in files.items()}
    except ConfigError as error:
        sys.exit(f"python -m cortex.bench parts: {error}")
    splitter = _splitter(args.splitter)
    figures = {}
    for name, cases in corpora.items():
        whole = Tally()
        by_category: dict[str, Tally] = {}
        by_language: dict[str, Tally] = {}
        for case in cases:
            found = splitter(case.request)
            result = score(case, found)
            for tally in (
                whole,
                by_category.setdefault(case.category, Tally()),
                by_language.setdefault(case.language, Tally()),
            ):
                tally.add(case, found, result)
        figures[name] = whole.figures() | {
            "categories": {k: t.figures() for k, t in sorted(by_category.items())},
            "languages": {k: t.figures() for k, t in sorted(by_language.items())},
        }
    return figures


def _splitter(name: str) -> Any:
    """A function from a request to its split, by the rules or the embedded planner."""
    if name == "rules":
        return split
    from modules.manager.splitter import Splitter

    chosen = Splitter(name, _embedded_decode())

    def by_model(request: str) -> Split:
        pieces = chosen.split(request)
        while True:
            try:
                next(pieces)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]

    return by_model


def _embedded_decode() -> Any:
    """The default planner's guided decoding: the embedded model on llama.cpp, one thread."""
    from cortex.config import DEFAULT_MODEL
    from modules.engines import Guide, Piece, SamplingSettings, create_engine

    engine = create_engine("llama.cpp", DEFAULT_MODEL, max_concurrent=1).start()

    def decode(chat: list[dict[str, str]], schema: dict[str, Any], budget: int) -> Iterator[Piece]:
        settings = SamplingSettings(
            max_new_tokens=budget, guide=Guide(schema), repetition_penalty=1.0, no_repeat_ngram=0
        )
        yield from engine.submit(chat, settings)

    return decode


def report(figures: dict[str, Any]) -> str:
    """One table per half: in all, then per category and per language."""
    lines = []
    for name, half in figures.items():
        lines += [f"{name} ({half['requests']} requests)", _header()]
        lines.append(_row("all", half))
        lines += [_row(category, f) for category, f in half["categories"].items()]
        lines += [_row(f"lang {language}", f) for language, f in half["languages"].items()]
        lines.append("")
    return "\n".join(lines).rstrip()


def _header() -> str:
    return (
        f"{'':<16}{'multi exact':>14}{'parts found':>14}{'single kept':>13}"
        f"{'garbled':>9}{'preambles':>11}{'skeleton':>10}"
    )


def _row(label: str, f: dict[str, Any]) -> str:
    counts = f["counts"]

    def cell(key: str) -> str:
        right, total = counts[key]
        return f"{right}/{total}" if total else "-"

    return (
        f"{label:<16}{cell('multi'):>14}{cell('parts'):>14}{cell('single'):>13}"
        f"{f['garbled']:>9}{f['preambles_as_parts']:>11}{cell('skeleton'):>10}"
    )
