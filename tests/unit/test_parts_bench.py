"""The parts bench's scoring: what counts as finding a part, a garbled part, a preamble."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cortex.bench import parts as bench
from cortex.bench.__main__ import main
from modules.manager.parts import Split

CASE = bench.Case(
    "I'm in Lisbon. Is the tram expensive? Which museums open on Monday?",
    "preamble",
    "en",
    ("Is the tram expensive?", "Which museums open on Monday?"),
    ("I'm in Lisbon.",),
)


def test_a_split_in_other_words_of_the_same_parts_is_exact() -> None:
    found = Split(("Is the tram expensive", "which museums open on monday?"), ("I'm in Lisbon.",))
    assert bench.score(CASE, found) == bench.Score(True, 2, 0, 0)


def test_merged_parts_are_not_exact_and_find_one_part() -> None:
    found = Split(("Is the tram expensive? Which museums open on Monday?",))
    result = bench.score(CASE, found)
    assert not result.exact and result.found == 0


def test_the_context_sent_as_a_part_is_a_preamble() -> None:
    found = Split(("I'm in Lisbon.", *CASE.parts))
    assert bench.score(CASE, found).preambles == 1


def test_the_articles_and_prepositions_of_a_case_s_language_carry_no_content() -> None:
    case = bench.Case(
        "Dov'è il Pantheon? E gli orari?",
        "non_english",
        "it",
        ("Dov'è il Pantheon?", "Quali sono gli orari del Pantheon?"),
    )
    found = Split(("Dov'è il Pantheon?", "E gli orari del Pantheon?"))
    assert bench.score(case, found).garbled == 0
    assert bench.content("gli orari del Pantheon", "it") == {"orari", "pantheon"}
    assert "die" in bench.content("When did the author die?", "en")


def test_a_language_s_then_carries_no_content_as_english_then_carries_none() -> None:
    assert bench.content("luego tradúcelo al inglés", "es") == {"tradúcelo", "inglés"}
    assert bench.content("puis fais-en une version plus formelle", "fr") == bench.content(
        "fais-en une version plus formelle", "fr"
    )
    assert bench.content("然后翻译成英文", "zh") == bench.content("翻译成英文", "zh")
    assert bench.content("新幹線の料金", "ja") == bench.content("新幹線で料金", "ja")  # particles
    assert bench.content("qu'il dorme", "fr") == {"que", "il", "dorme"}  # "qu'il": "que il"
    assert bench.content("faut-il l'arroser", "fr") == {"faut-il", "arroser"}


def test_a_part_with_a_word_the_request_lacks_is_garbled() -> None:
    found = Split(("Is the tram cheap?", CASE.parts[1]))
    result = bench.score(CASE, found)
    assert result.garbled == 1 and not result.exact


def test_a_part_with_a_piece_of_another_is_garbled() -> None:
    case = bench.Case(
        "Name the deepest lake and the biggest forest.",
        "multi",
        "en",
        ("Name the deepest lake.", "Name the biggest forest."),
    )
    result = bench.score(case, Split(("Name the deepest lake.", "Name the biggest forest lake.")))
    assert result.garbled == 1 and not result.exact


def test_json_gives_each_half_the_figures_the_issue_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "held_out.toml"
    corpus.write_text(
        '[[case]]\nrequest = "What is 2+2?"\ncategory = "short_single"\nlanguage = "en"\n'
        'context = []\nparts = ["What is 2+2?"]\nskeleton = false\n'
        '[[case]]\nrequest = "Who wrote Emma and who wrote Ulysses?"\ncategory = "multi"\n'
        'language = "en"\ncontext = []\nparts = ["Who wrote Emma?", "who wrote Ulysses?"]\n'
    )
    assert main(["parts", "--json", "--corpus", str(corpus)]) == 0
    figures = json.loads(capsys.readouterr().out.splitlines()[-1])["held_out"]
    assert (figures["multi_exact"], figures["single_kept"]) == (1.0, 1.0)
    assert (figures["garbled"], figures["preambles_as_parts"]) == (0, 0)
    assert figures["skeleton_routing"] == 1.0 and figures["languages"]["en"]["requests"] == 2


def test_a_corpus_that_cannot_be_read_is_named(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="cannot read the corpus"):
        main(["parts", "--corpus", str(tmp_path / "missing.toml")])
