"""Command-line text and paths as terminals send them: undecodable bytes, pasted paths."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

import cortex.runtime.cortex
from bus.codec import encode
from bus.protocol import UserTurn
from cortex.cli import build_parser, main
from cortex.config import parse_config
from cortex.runtime.inprocess import InProcessCortex
from tests.tui.scripted import scripted_config

DATA = Path(__file__).parents[1] / "data"

LATIN1_CAFE = b"caf\xe9".decode("utf-8", "surrogateescape")
"""``café`` typed in a Latin-1 terminal, as Python hands it over in a UTF-8 locale."""
UTF8_CAFE_IN_ASCII = "café".encode().decode("ascii", "surrogateescape")
"""``café`` typed in a UTF-8 terminal, as Python hands it over in an ASCII locale."""


@pytest.mark.parametrize(
    ("argv", "field", "expected"),
    [
        (["ask", LATIN1_CAFE], "question", "caf\ufffd"),
        (["ask", f"Is {LATIN1_CAFE} au lait sweet?"], "question", "Is caf\ufffd au lait sweet?"),
        (["ask", UTF8_CAFE_IN_ASCII], "question", "café"),
        (["ask", "naïve 東京 ☕"], "question", "naïve 東京 ☕"),
        (["say", LATIN1_CAFE + "\udcff", "--out", "x.wav"], "text", "caf\ufffd\ufffd"),
        (["status", "--namespace", LATIN1_CAFE], "namespace", "caf\ufffd"),
        (["chat", "--address", LATIN1_CAFE], "address", "caf\ufffd"),
    ],
)
def test_text_arguments_are_unicode_that_can_travel(
    argv: list[str], field: str, expected: str
) -> None:
    text = getattr(build_parser().parse_args(argv), field)
    assert text == expected
    encode(UserTurn(turn_id="t1", text=text))  # the bus packs it; surrogates would not pack


def test_a_question_with_a_latin1_byte_is_answered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def in_process(config, address=None, **options) -> InProcessCortex:
        return InProcessCortex(parse_config(scripted_config()), **options)

    monkeypatch.setattr(cortex.runtime.cortex, "Cortex", in_process)
    log = tmp_path / "session.jsonl"
    assert main(["ask", "--session", str(log), f"Is {LATIN1_CAFE} strong?"]) == 0
    assert "it depends on the brew" in capsys.readouterr().out
    assert json.loads(log.read_text())["question"] == "Is caf\ufffd strong?"


def test_a_command_line_that_is_not_utf8_runs_again_as_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ray records the command line from /proc as UTF-8: the process runs again with it."""
    monkeypatch.setattr("sys.argv", ["cortex", "ask", "--json", f"{LATIN1_CAFE}?"])
    started: list[list[str]] = []

    def execv(path: str, args: list[str]) -> None:
        started.append(args)
        raise SystemExit(0)

    monkeypatch.setattr("os.execv", execv)
    with pytest.raises(SystemExit):
        main()
    assert started == [[sys.executable, "-m", "cortex.cli", "ask", "--json", "caf\ufffd?"]]


def test_media_paths_may_be_pasted_forms(tmp_path: Path) -> None:
    photo, voice = tmp_path / "my cat photo.jpg", tmp_path / "my voice note.wav"
    photo.write_bytes((DATA / "cat.jpg").read_bytes())
    voice.write_bytes((DATA / "question.wav").read_bytes())
    for path in (photo, voice):
        for form in (
            str(path),
            f"'{path}'",
            str(path).replace(" ", "\\ "),
            "file://" + quote(str(path)),
        ):
            if path == photo:
                assert build_parser().parse_args(["ask", "--image", form, "Hi"]).image == str(path)
                assert build_parser().parse_args(["see", form]).image == str(path)
            else:
                assert build_parser().parse_args(["hear", form]).audio == str(path)


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        (f"/photos/{LATIN1_CAFE}.jpg", "/photos/caf\ufffd.jpg: the file's name is not UTF-8"),
        ("file://server/cat.jpg", "a file on another computer (server)"),
    ],
)
def test_a_media_path_that_cannot_travel_is_a_one_line_error(
    argument: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["ask", "--image", argument, "Hi"])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err.splitlines()[-1]
