"""The command line: help, and clear errors before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from cortex.cli import _config, build_parser, main


def test_help_lists_the_commands(capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "ask" in out and "chat" in out and "status" in out


def test_dashboard_flag_turns_the_dashboard_on_at_loopback() -> None:
    args = build_parser().parse_args(["chat", "--dashboard", "--device", "cpu"])
    runtime = _config(args).runtime
    assert runtime.dashboard and runtime.dashboard_host == "127.0.0.1" and runtime.device == "cpu"
    assert not _config(build_parser().parse_args(["chat"])).runtime.dashboard


def test_empty_question_is_refused(capsys) -> None:
    assert main(["ask", "  "]) == 2
    assert "the question is empty" in capsys.readouterr().err


def test_bad_config_is_named(tmp_path: Path, capsys) -> None:
    config = tmp_path / "cortex.toml"
    config.write_text('[regions.planning]\n[regions.language]\nmodel = "/missing/model"\n')
    assert main(["ask", "--config", str(config), "Hello there friend"]) == 1
    err = capsys.readouterr().err
    assert "regions.language.model" in err and "does not exist" in err


def test_unknown_region_kind_in_config(tmp_path: Path, capsys) -> None:
    config = tmp_path / "cortex.toml"
    config.write_text('[regions.planning]\n[regions.dreams]\nkind = "dreaming"\n')
    assert main(["ask", "--config", str(config), "Hello there friend"]) == 1
    assert "unknown kind 'dreaming'" in capsys.readouterr().err
