"""The command line: help, and clear errors before anything starts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bus.errors import BusConnectError
from cortex.cli import build_parser, main
from cortex.cli.console import JsonOutput, sigterm_as_interrupt
from cortex.cli.options import configured
from cortex.errors import Terminated
from modules.errors import ModelNotFoundError, RegionError
from tests.unit.test_cluster import dead_port

DATA = Path(__file__).parents[1] / "data"


def test_help_lists_the_commands(capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "ask" in out and "chat" in out and "status" in out
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.startswith("cortex 0.")


def test_dashboard_flag_turns_the_dashboard_on_at_loopback() -> None:
    args = build_parser().parse_args(["chat", "--dashboard", "--device", "cpu"])
    runtime = configured(args).runtime
    assert runtime.dashboard and runtime.dashboard_host == "127.0.0.1" and runtime.device == "cpu"
    assert not configured(build_parser().parse_args(["chat"])).runtime.dashboard


def test_empty_question_is_refused(capsys) -> None:
    assert main(["ask", "  "]) == 2
    assert "the question is empty" in capsys.readouterr().err
    assert main(["ask", "--json", "\t\n"]) == 2
    assert "the question is empty" in json.loads(capsys.readouterr().out)["error"]


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


def test_a_region_class_imports_from_the_current_folder_before_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "watchers.py").write_text(
        "from modules.region import Region\n\nclass Watcher(Region):\n    takes_subtasks = False\n"
    )
    config = tmp_path / "cortex.toml"
    config.write_text('[regions.planning]\n[regions.watcher]\nclass = "watchers:Watcher"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    args = build_parser().parse_args(["ask", "--config", str(config), "Hi there"])
    assert configured(args).regions["watcher"].class_path() == "watchers:Watcher"
    config.write_text('[regions.planning]\n[regions.watcher]\nclass = "watchers:Nobody"\n')
    with pytest.raises(RegionError, match="cannot import region class 'watchers:Nobody'"):
        configured(args)  # before Ray or any model starts


def test_a_hub_model_neither_cached_nor_reachable_is_said_before_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "cortex.toml"
    config.write_text('[regions.planning]\n[regions.language]\nmodel = "cortex-tests/no-such"\n')
    args = build_parser().parse_args(["ask", "--config", str(config), "Hi there"])
    with pytest.raises(ModelNotFoundError, match="neither cached locally nor reachable"):
        configured(args)  # no hub here; where there is one, it has no such model
    monkeypatch.setattr("huggingface_hub.try_to_load_from_cache", lambda repo, name: "/c/x")
    assert configured(args).regions["language"].model == "cortex-tests/no-such"  # cached


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["ask", "--session", "{dir}", "Hello"], "--session {dir} is a folder"),
        (["ask", "--speak", "{dir}", "Hello"], "--speak {dir} is a folder"),
        (["chat", "--session", "{dir}"], "--session {dir} is a folder"),
        (["say", "Hello", "--out", "{dir}"], "--out {dir} is a folder"),
        (["replay", "x.bus", "--out", "{dir}"], "--out {dir} is a folder"),
        (["run", "x.toml", "--out", "{file}"], "--out {file} is a file; give a folder"),
        (["see", "{cat}", "--session", "{file}/s.jsonl"], "which is a file"),
    ],
)
def test_output_paths_are_refused_before_anything_starts(
    tmp_path: Path, capsys, args: list[str], expected: str
) -> None:
    (tmp_path / "file").write_text("x")
    names = {"dir": str(tmp_path), "file": str(tmp_path / "file"), "cat": str(DATA / "cat.jpg")}
    assert main([arg.format(**names) for arg in args]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected.format(**names) in err
    assert "starting Ray" not in err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["see", "{dir}/nope.jpg"], "argument image: no file at {dir}/nope.jpg"),
        (["see", "{notes}"], "argument image: {notes} is not an image Cortex can read"),
        (["see", "{dir}"], "argument image: {dir} is a folder; give a file"),
        (["hear", "{dir}/nope.wav"], "argument audio: no file at {dir}/nope.wav"),
        (["hear", "{notes}"], "argument audio: {notes} is not a readable WAV"),
        (["ask", "--image", "{notes}", "What is it?"], "argument --image: {notes} is not an image"),
        (["ask", "--audio", "{dir}/nope.wav"], "argument --audio: no file at {dir}/nope.wav"),
    ],
)
def test_input_files_are_refused_in_plain_words_before_anything_starts(
    tmp_path: Path, capsys, args: list[str], expected: str
) -> None:
    (tmp_path / "notes.txt").write_text("not a picture")
    names = {"dir": str(tmp_path), "notes": str(tmp_path / "notes.txt")}
    with pytest.raises(SystemExit) as exited:
        main([arg.format(**names) for arg in args])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert expected.format(**names) in err.splitlines()[-1]
    assert "Error" not in err and "starting Ray" not in err


def test_a_bus_log_to_replay_is_checked_first(tmp_path: Path, capsys) -> None:
    assert main(["replay", str(tmp_path / "gone.bus")]) == 2
    assert capsys.readouterr().err == (
        f"cortex: no bus log at {tmp_path / 'gone.bus'}; give a session's .bus file\n"
    )


def test_a_failing_json_command_still_prints_one_json_document(tmp_path: Path, capsys) -> None:
    assert main(["ask", "--json", "--speak", str(tmp_path), "Hello"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {
        "error": f"--speak {tmp_path} is a folder; give a file path, such as "
        f"{tmp_path / 'answer.wav'}"
    }
    assert captured.err.startswith("cortex: --speak")


def test_json_mode_sends_whatever_else_is_printed_to_stderr(capfd) -> None:
    with JsonOutput(True) as output:
        os.write(1, b"(raylet) A worker died or was killed while executing a task\n")
        print("a library's print")
        output.emit({"answer": "42"})
    captured = capfd.readouterr()
    assert json.loads(captured.out) == {"answer": "42"}
    assert "(raylet) A worker died" in captured.err and "a library's print" in captured.err
    os.write(1, b"after\n")  # stdout is back
    assert capfd.readouterr().out == "after\n"


def test_a_bus_error_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    def no_bus(*args: object) -> int:
        raise BusConnectError("no answer from the bus proxy at tcp://127.0.0.1:1")

    monkeypatch.setattr("cortex.cli.status.run", no_bus)
    assert main(["status"]) == 1
    assert capsys.readouterr().err == "cortex: no answer from the bus proxy at tcp://127.0.0.1:1\n"


def test_sigterm_raises_terminated_in_the_main_thread() -> None:
    before = signal.getsignal(signal.SIGTERM)  # Ray's, when a test before started it here
    with pytest.raises(Terminated), sigterm_as_interrupt():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # interrupted by the signal long before
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.parametrize(
    ("environment", "args", "expected"),
    [
        (
            {"RAY_ADDRESS": "127.0.0.1:{dead}"},
            [],
            "nothing answers at 127.0.0.1:{dead} (from RAY_ADDRESS)",
        ),
        (
            {"RAY_ADDRESS": "http://127.0.0.1:8265"},
            [],
            "http://127.0.0.1:8265 (from RAY_ADDRESS) is a web address",
        ),
        (
            {},
            ["--address", "127.0.0.1:{dead}"],
            "nothing answers at 127.0.0.1:{dead} (from --address)",
        ),
    ],
)
@pytest.mark.e2e
def test_a_wrong_cluster_address_is_one_line_within_seconds(
    environment: dict[str, str], args: list[str], expected: str
) -> None:
    dead = str(dead_port())
    env = {**os.environ, **{k: v.format(dead=dead) for k, v in environment.items()}}
    started = time.monotonic()
    ran = subprocess.run(
        [
            sys.executable,
            "-m",
            "cortex.cli",
            "ask",
            "--json",
            *[a.format(dead=dead) for a in args],
            "Hi",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert time.monotonic() - started < 90  # mostly importing torch; Ray retries for minutes
    assert ran.returncode == 1
    assert expected.format(dead=dead) in json.loads(ran.stdout)["error"]
    lines = [line for line in ran.stderr.splitlines() if line.startswith("cortex:")]
    assert len(lines) == 1 and "Traceback" not in ran.stderr


def test_status_at_a_dead_address_is_one_line(capsys) -> None:
    dead = dead_port()
    assert main(["status", "--json", "--address", f"127.0.0.1:{dead}"]) == 1
    captured = capsys.readouterr()
    assert (
        f"nothing answers at 127.0.0.1:{dead} (from --address)" in json.loads(captured.out)["error"]
    )
    assert captured.err.count("\n") == 1
