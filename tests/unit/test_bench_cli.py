"""`python -m cortex.bench NAME [options]`: the bench table, each bench's own options, and
the one line a missing optional package gets; no bench is run (`measure` is replaced)."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from cortex.bench import __main__ as bench_cli
from cortex.bench import quality, slow_subscriber, soak, speech

NAMES = (
    "regions",
    "quality",
    "parts",
    "soak",
    "slow-subscriber",
    "speech",
    "serve",
    "determinism",
    "handoff",
)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`main(argv)`'s exit status, stdout and stderr."""
    try:
        status = bench_cli.main(argv)
    except SystemExit as exit_:
        status = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


def test_help_lists_every_bench(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["--help"], capsys)
    assert status == 0
    listed = out.split("benches:\n")[1]
    assert [line.split()[0] for line in listed.splitlines()] == list(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_bench_module_has_the_bench_shape(name: str) -> None:
    module = importlib.import_module(f"cortex.bench.{name.replace('-', '_')}")
    assert callable(module.add_arguments) and callable(module.measure)
    assert callable(module.report)


def test_an_unknown_bench_is_a_usage_error_listing_the_names(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, err = run(["regoins", "--json"], capsys)
    assert status == 2 and not out
    assert "invalid choice: 'regoins'" in err
    assert all(f"'{name}'" in err for name in NAMES)


def test_no_bench_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run([], capsys)
    assert status == 2 and "required: NAME" in err


def test_serve_without_openai_is_one_line_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "openai", None)  # `import openai` fails as if not installed
    monkeypatch.delitem(sys.modules, "cortex.bench.serve", raising=False)
    status, out, err = run(["serve", "--model", "tiny"], capsys)
    assert status == 2 and not out
    assert err == "cortex.bench serve needs the openai package: pip install 'cortex-bus[dev]'\n"


def test_a_missing_package_that_no_extra_installs_is_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def missing(name: str) -> None:
        raise ModuleNotFoundError("No module named 'tqdm'", name="tqdm")

    monkeypatch.setattr(bench_cli, "importlib", SimpleNamespace(import_module=missing))
    with pytest.raises(ModuleNotFoundError, match="tqdm"):
        bench_cli.main(["soak"])


def test_each_bench_shows_only_its_own_options(capsys: pytest.CaptureFixture[str]) -> None:
    status, quality_help, _ = run(["quality", "--help"], capsys)
    assert status == 0 and "--sets FILE" in quality_help and "--json" in quality_help
    assert "python -m cortex.bench quality" in quality_help
    status, regions_help, _ = run(["regions", "--help"], capsys)
    assert status == 0 and "--sets" not in regions_help and "--tokens" in regions_help


def test_an_option_of_another_bench_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["soak", "--sets", "docs/quality-sets.toml"], capsys)
    assert status == 2 and "unrecognized arguments: --sets" in err


def test_a_bad_sets_file_is_named_before_the_bench_measures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    measured: list[argparse.Namespace] = []
    monkeypatch.setattr(quality, "measure", measured.append)
    path = tmp_path / "sets.toml"
    path.write_text("[[trivia]]\nrequest = 'Hi?'\nexpect = ['x']")
    status, _, err = run(["quality", "--sets", str(path)], capsys)
    assert status == 2 and not measured
    assert f"argument --sets: {path}: give [[factual]]" in err


def test_the_sets_file_reaches_the_bench_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    measured: list[argparse.Namespace] = []

    def measure(args: argparse.Namespace) -> dict[str, Any]:
        measured.append(args)
        return {}

    monkeypatch.setattr(quality, "measure", measure)
    monkeypatch.setattr(quality, "report", lambda figures: "")
    path = tmp_path / "sets.toml"
    path.write_text("[[factual]]\nrequest = 'Capital of Peru?'\nexpect = ['Lima']")
    assert run(["quality", "--sets", str(path)], capsys)[0] == 0
    assert measured[0].sets == {"factual": (("Capital of Peru?", ("Lima",)),)}
    assert run(["quality"], capsys)[0] == 0
    assert measured[1].sets is None  # the built-in sets and docs/quality-skeleton.toml


def test_json_is_one_object_on_the_last_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    figures = {"model": "m", "cortex_wer": 0.1}

    def measure(args: argparse.Namespace) -> dict[str, Any]:
        print("progress on stdout")
        return figures

    monkeypatch.setattr(speech, "measure", measure)
    monkeypatch.setattr(speech, "report", lambda figures: "a table")
    status, out, _ = run(["speech", "--json"], capsys)
    assert status == 0 and json.loads(out.splitlines()[-1]) == figures
    status, out, _ = run(["speech"], capsys)
    assert status == 0 and out.splitlines()[-1] == "a table"


def test_the_soak_report_lists_each_process_memory() -> None:
    text = soak.report(
        {
            "turns": 200,
            "turns_per_minute": 375.0,
            "turns_with_a_plan_of_several_steps": 3,
            "rss_mb_start": {"planning": 582.0, "driver": 0.0},
            "rss_mb_end": {"planning": 582.9, "driver": 0.0},
            "rss_growth": {"planning": 0.0015},
            "leaked_actors": [],
        }
    )
    assert text.splitlines() == [
        "200 turns on tiny models: 375.0 turns/min (3 planned in several steps)",
        "process       RSS MiB start       end   growth",
        "planning              582.0     582.9    +0.1%",
        "driver                  0.0       0.0        -",
        "actors left after shutdown: 0",
    ]


def test_the_slow_subscriber_report_gives_both_rates_and_their_ratio() -> None:
    text = slow_subscriber.report(
        {
            "tokens_per_request": 64,
            "alone_tok_s": 15.73,
            "with_sleepers_tok_s": 15.34,
            "ratio": 0.975,
            "sleepers": 3,
            "nap_s": 0.02,
            "messages_left_unread": 0,
        }
    )
    assert text.splitlines() == [
        "embedded:smollm2-135m-instruct, 64 new tokens, one language region",
        "alone                                    15.73 tok/s",
        "with 3 subscribers sleeping 20 ms a read   15.34 tok/s (98%)",
    ]


def test_the_quality_bench_asks_each_set_of_opening_rules(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asked = []

    def ask_sets(config, sets):
        asked.append(config.regions["language"].generation.openings)
        return {"factual": {"planned_found": len(asked), "direct_found": 1, "expected": 9}}

    monkeypatch.setattr(quality, "_ask_sets", ask_sets)
    status, out, _ = run(["quality", "--openings"], capsys)
    assert status == 0 and asked == [(), ("one_thing",), ("list",), ("one_thing", "list")]
    assert [line.split(":")[0] for line in out.splitlines()] == [
        "openings none", "openings one_thing", "openings list", "openings one_thing+list"
    ]  # fmt: skip
    assert "openings list: factual planned 3/9, direct 1/9" in out
