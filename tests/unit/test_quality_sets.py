"""`python -m cortex.bench quality --sets FILE`: your own requests, or a clear error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cortex.bench.quality import found, load_sets
from cortex.errors import ConfigError

SETS = """
[[factual]]
request = "What is the capital of Peru and of Chile?"
expect = ["Lima", "Santiago"]

[[long_form]]
request = "Write a haiku about snow, one about fog and one about wind."
expect = ["snow", "fog|mist", "wind|breeze"]
"""


def test_sets_from_a_file_are_asked_as_written(tmp_path: Path) -> None:
    path = tmp_path / "sets.toml"
    path.write_text(SETS)
    sets = load_sets(path)
    assert sets["factual"] == (("What is the capital of Peru and of Chile?", ("Lima", "Santiago")),)
    request, expected = sets["long_form"][0]
    assert found("Mist over the hills. Snow falls.", expected) == 2


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            "[[factual]]\nrequest = 'Hi?'\nexpect = ['(unclosed']",
            "factual case 1: expect '\\(unclosed'",
        ),
        ("[[factual]]\nexpect = ['x']", 'factual case 1 needs request = "..."'),
        ("[[factual]]\nrequest = 'Hi?'\nexpect = []", "non-empty list of regular expressions"),
        ("[[trivia]]\nrequest = 'Hi?'\nexpect = ['x']", "not \\['trivia'\\]"),
        ("factual = 'Hi?'", "factual must be a list of \\[\\[factual\\]\\] tables"),
        ("request = ", "cannot read the sets"),
        ("", "give \\[\\[factual\\]\\], \\[\\[long_form\\]\\] and/or \\[\\[long_single"),
    ],
)
def test_a_bad_sets_file_is_named_with_what_is_wrong(tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / "sets.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=error):
        load_sets(path)


@pytest.mark.e2e
def test_the_bench_refuses_a_missing_sets_file_before_starting_anything(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "cortex.bench", "quality", "--sets", str(tmp_path / "none.toml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2
    assert "cannot read the sets in" in completed.stderr and "none.toml" in completed.stderr
    assert "starting Ray" not in completed.stderr
