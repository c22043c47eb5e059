"""`python -m cortex.bench quality`: are planned answers right, complete and fast?

Two sets of requests, written for this benchmark (domains and phrasing varied):
- factual: multi-part questions, each with the facts a right answer contains (a fact is a
  regular expression, matched case-insensitively unless it says otherwise);
- long-form: requests with three independent parts, each with words showing it is covered;
- long-single (docs/quality-skeleton.toml): single open-ended requests, each with the
  aspects a complete answer covers, asked with skeleton answers on (`--skeleton off` asks
  them on the default configuration).
`--sets FILE` asks your own sets instead: a TOML file with `[[factual]]`, `[[long_form]]`
and `[[long_single]]` tables, each `request = "..."` and `expect = ["regex", ...]` (any set
may be left out); `--config FILE` asks them on another configuration than the default.
Each request is asked twice: as a planned turn (`Brain.ask`), and whole to one language
region (`Brain.stream`, with the token budget of all the planned steps). The report gives
facts found and parts covered, turns that fanned out to two or more delegates decoding at
overlapping times, answers with a repeated sentence, speech or vision steps in these
text-only turns, planned / direct wall time per set, and the p50 time to the first answer
token.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cortex.config import CortexConfig, ManagerConfig, load_config
from cortex.errors import ConfigError
from cortex.runtime.cortex import Cortex
from cortex.turns.answer import sentences
from cortex.turns.records import TurnRecord
from modules.openings import OPENINGS

Cases = tuple[tuple[str, tuple[str, ...]], ...]  # (request, expected patterns) per request

FACTUAL: Cases = (
    ("What is the capital of Japan and what is the capital of Canada?", ("Tokyo", "Ottawa")),
    (
        "Name two rivers in Europe and two mountains in Asia.",
        (
            "Danube|Rhine|Thames|Seine|Volga|Elbe|Loire|Rh[oô]ne|Tagus|Dnieper|Oder|Vistula",
            "Everest|K2|Fuji|Kangchenjunga|Annapurna|Lhotse|Makalu|Himalaya",
        ),
    ),
    ("Who wrote Romeo and Juliet, and who painted the Mona Lisa?", ("Shakespeare", "Leonardo")),
    (
        "What language is mainly spoken in Brazil, in Mexico and in Egypt?",
        ("Portuguese", "Spanish", "Arabic"),
    ),
    (
        "How many legs does a spider have, and how many does an insect have?",
        (r"\b(8|eight)\b", r"\b(6|six)\b"),
    ),
    (
        "What is the largest planet in the solar system and what is the closest planet to the sun?",
        ("Jupiter", "Mercury"),
    ),
    ("What is the chemical symbol for gold and for sodium?", (r"(?-i:\bAu\b)", r"(?-i:\bNa\b)")),
    (
        "In which country are the pyramids of Giza, and in which country is the Eiffel Tower?",
        ("Egypt", "France|Paris"),
    ),
    ("Who was the first person to walk on the moon, and in what year?", ("Armstrong", "1969")),
    ("What is the tallest animal and what is the fastest land animal?", ("giraffe", "cheetah")),
    ("Which ocean is the largest, and which continent is the coldest?", ("Pacific", "Antarctic")),
    ("What do bees make, and what do silkworms make?", ("honey", "silk")),
    ("What is 12 times 7 and what is 100 divided by 4?", (r"\b84\b", r"\b25\b")),
    ("Which planet is known as the red planet, and what is the hottest planet?", ("Mars", "Venus")),
)
LONG_FORM: Cases = (
    ("Write a paragraph about cats, one about dogs and one about horses.", ("cat", "dog", "horse")),
    (
        "Write a packing list for a beach trip, for a ski trip and for a camping weekend.",
        ("beach|sunscreen|swim", "ski|snow|gloves", "camp|tent|sleeping bag"),
    ),
    (
        "Write a short poem about the sea, one about the moon and one about the forest.",
        ("sea|ocean|wave", "moon", "forest|tree"),
    ),
    (
        "Give three tips for sleeping better, three tips for saving money and three tips for "
        "learning a language.",
        ("sleep|bed", "money|sav|budget|spend", "language|vocabular|speak"),
    ),
    (
        "Describe the city of Paris, the city of Tokyo and the city of New York.",
        ("Paris", "Tokyo", "New York"),
    ),
    (
        "Explain how a rainbow forms, explain how a volcano erupts and explain how a battery "
        "works.",
        ("rainbow|refract", "volcano|magma|lava", "battery|electr"),
    ),
    (
        "Suggest a name for a coffee shop, write a slogan for a bike shop and describe the ideal "
        "bookshop.",
        ("coffee|caf[eé]|brew", "bike|bicycl|cycl|ride", "book"),
    ),
)


SETS: dict[str, Cases] = {"factual": FACTUAL, "long_form": LONG_FORM}
SKELETON_SETS = Path(__file__).parents[2] / "docs" / "quality-skeleton.toml"
"""The long-single set, asked by default when the file is there (a source checkout)."""
SET_NAMES = (*SETS, "long_single")


def load_sets(path: Path) -> dict[str, Cases]:
    """Sets of requests from a TOML file (the module docstring gives its layout).

    Raises:
        ConfigError: the file is missing or not TOML, has no set, or a case lacks a request
            or has a pattern that is not a valid regular expression.
    """
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"cannot read the sets in {path}: {error}") from error
    unknown = set(document) - set(SET_NAMES)
    if unknown or not document:
        raise ConfigError(
            f"{path}: give [[factual]], [[long_form]] and/or [[long_single]] tables, not "
            f"{sorted(unknown)}"
        )
    sets = {}
    for name, cases in document.items():
        if not isinstance(cases, list) or not cases:
            raise ConfigError(f"{path}: {name} must be a list of [[{name}]] tables")
        sets[name] = tuple(_case(path, name, number, case) for number, case in enumerate(cases, 1))
    return sets


def _sets_file(value: str) -> dict[str, Cases]:
    """`--sets FILE`, read and checked while the command line is parsed."""
    try:
        return load_sets(Path(value))
    except ConfigError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _case(path: Path, name: str, number: int, case: Any) -> tuple[str, tuple[str, ...]]:
    where = f"{path}: {name} case {number}"
    if not isinstance(case, dict) or not str(case.get("request", "")).strip():
        raise ConfigError(f'{where} needs request = "..." and expect = ["pattern", ...]')
    expect = case.get("expect", [])
    if not isinstance(expect, list) or not expect or not all(isinstance(p, str) for p in expect):
        raise ConfigError(f"{where}: expect must be a non-empty list of regular expressions")
    for pattern in expect:
        try:
            re.compile(pattern)
        except re.error as error:
            raise ConfigError(
                f"{where}: expect {pattern!r} is not a regular expression: {error}"
            ) from error
    return case["request"], tuple(expect)


@dataclass
class Asked:
    """One request, answered both ways."""

    request: str
    planned: TurnRecord
    direct_answer: str
    direct_s: float


def found(answer: str, expected: tuple[str, ...]) -> int:
    """How many of the expected facts (or part cues) the answer contains."""
    return sum(bool(re.search(pattern, answer, re.IGNORECASE)) for pattern in expected)


def repeats_a_sentence(answer: str) -> bool:
    """Whether a sentence of four or more words appears twice (a loop, or two parts alike)."""
    said = sentences(answer)
    return len(said) != len(set(said))


def fanned_out(record: TurnRecord) -> bool:
    """Whether two or more delegates decoded this turn at overlapping times."""
    streams = [s for s in record.streams if s.region == "language"]
    return any(
        max(a.start, b.start) < min(a.end, b.end)
        for i, a in enumerate(streams)
        for b in streams[i + 1 :]
    )


def ask_both_ways(brain: Cortex, request: str, part_tokens: int) -> Asked:
    planned = brain.ask(request)
    budget = part_tokens * len(planned.plan)  # the same tokens in all as the planned steps
    start = time.perf_counter()
    direct = "".join(t.text for t in brain.stream("language-0", request, budget))
    return Asked(request, planned, direct, time.perf_counter() - start)


def set_figures(asked: list[Asked], expected: list[tuple[str, ...]]) -> dict[str, Any]:
    planned_found = sum(found(a.planned.answer, e) for a, e in zip(asked, expected, strict=True))
    direct_found = sum(found(a.direct_answer, e) for a, e in zip(asked, expected, strict=True))
    planned_s = sum(a.planned.wall_s for a in asked)
    direct_s = sum(a.direct_s for a in asked)
    return {
        "requests": len(asked),
        "expected": sum(map(len, expected)),
        "planned_found": planned_found,
        "direct_found": direct_found,
        "fanned_out": sum(fanned_out(a.planned) for a in asked),
        "multi_part": sum(len(a.planned.plan) > 1 for a in asked),
        "repeated_sentence": sum(repeats_a_sentence(a.planned.answer) for a in asked),
        "media_steps": sum(
            step.region in ("speech", "vision") for a in asked for step in a.planned.plan
        ),
        "planned_s": round(planned_s, 2),
        "direct_s": round(direct_s, 2),
        "planned_vs_direct": round(planned_s / direct_s, 3),
        "first_token_p50_s": round(
            statistics.median(a.planned.first_token_s or float("nan") for a in asked), 3
        ),
        "answers": [
            {"request": a.request, "planned": a.planned.answer, "direct": a.direct_answer}
            for a in asked
        ],
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`--sets FILE`: your own sets instead of the built-in ones."""
    parser.add_argument(
        "--sets",
        type=_sets_file,
        metavar="FILE",
        help="your own sets of requests, a TOML file laid out as above",
    )
    parser.add_argument(
        "--skeleton",
        choices=["on", "off"],
        default="on",
        help="ask the long-single set with skeleton answers on (default) or as configured",
    )
    parser.add_argument(
        "--config",
        type=_config_file,
        default=None,
        metavar="FILE",
        help="a cortex.toml to ask them on (default: the shipped one)",
    )
    parser.add_argument(
        "--openings",
        action="store_true",
        help="ask the factual and long-form sets once per set of opening rules (none, each "
        "alone, all) instead, to see what each rule adds",
    )


def _config_file(value: str) -> CortexConfig:
    """`--config FILE`, read and checked while the command line is parsed."""
    try:
        return load_config(value)
    except ConfigError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Each set as one JSON-ready dict keyed by set name: the factual and long-form sets on
    the configuration (`--config`, else the default), the long-single set with skeleton
    answers on."""
    sets: dict[str, Cases] = args.sets or {
        **SETS,
        **(load_sets(SKELETON_SETS) if SKELETON_SETS.is_file() else {}),
    }
    figures = {}
    plain = {name: cases for name, cases in sets.items() if name != "long_single"}
    if args.openings:
        return {"openings": _by_openings(args.config or load_config(), plain)}
    if plain:
        figures |= _ask_sets(args.config or load_config(), plain)
    if "long_single" in sets:
        config = args.config or load_config()
        if args.skeleton == "on":
            config = _with_skeletons(config)
        figures |= _ask_sets(config, {"long_single": sets["long_single"]})
    return figures


def _ask_sets(config: CortexConfig, sets: dict[str, Cases]) -> dict[str, Any]:
    with Cortex(config, progress=lambda event: print(event.message, file=sys.stderr)) as brain:
        part_tokens = brain.config.regions["language"].generation.max_new_tokens
        brain.ask("Hello, who are you?")  # warm-up
        figures = {}
        for name, cases in sets.items():
            print(f"asking the {name} set...", file=sys.stderr)
            asked = [ask_both_ways(brain, request, part_tokens) for request, _ in cases]
            figures[name] = set_figures(asked, [expected for _, expected in cases])
    return figures


def _by_openings(config: CortexConfig, sets: dict[str, Cases]) -> dict[str, Any]:
    """The sets asked with no opening rule, each rule alone and all of them, keyed by the
    rules ("none", "one_thing", "list", "one_thing+list")."""
    combinations = [(), *((rule,) for rule in OPENINGS), OPENINGS]
    figures = {}
    for rules in combinations:
        region = config.regions["language"]
        generation = region.generation.model_copy(update={"openings": rules})
        language = region.model_copy(update={"generation": generation})
        asked = config.model_copy(update={"regions": {**config.regions, "language": language}})
        figures["+".join(rules) or "none"] = _ask_sets(asked, sets)
    return figures


def _with_skeletons(config: CortexConfig) -> CortexConfig:
    """The configuration with its planning region's skeleton answers on."""
    planner = config.regions[config.planner]
    manager = (planner.manager or ManagerConfig()).model_copy(update={"skeleton": True})
    regions = {**config.regions, config.planner: planner.model_copy(update={"manager": manager})}
    return config.model_copy(update={"regions": regions})


def report(figures: dict[str, Any]) -> str:
    """The figures as a table for people."""
    if "openings" in figures:
        return "\n".join(
            f"openings {rules}: "
            + "; ".join(
                f"{name} planned {f['planned_found']}/{f['expected']}, "
                f"direct {f['direct_found']}/{f['expected']}"
                for name, f in sets.items()
            )
            for rules, sets in figures["openings"].items()
        )
    lines = []
    for name, f in figures.items():
        measure_name = {"factual": "facts found", "long_single": "aspects covered"}.get(
            name, "parts covered"
        )
        lines += [
            f"{name} set: {f['requests']} requests",
            f"  {measure_name}: planned {f['planned_found']}/{f['expected']} "
            f"({f['planned_found'] / f['expected']:.0%}), one region directly "
            f"{f['direct_found']}/{f['expected']} ({f['direct_found'] / f['expected']:.0%})",
            f"  fanned out to >= 2 delegates at once: {f['fanned_out']} of {f['multi_part']} "
            "turns planned in several steps",
            f"  answers with a repeated sentence: {f['repeated_sentence']}; speech or vision "
            f"steps: {f['media_steps']}",
            f"  wall time: planned {f['planned_s']:.2f} s, direct {f['direct_s']:.2f} s "
            f"({f['planned_vs_direct']:.2f}x)",
            f"  first answer token, p50: {f['first_token_p50_s']:.3f} s",
        ]
    return "\n".join(lines)
