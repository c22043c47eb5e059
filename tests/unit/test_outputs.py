"""Output paths are checked before anything starts: a folder given for a file, a file where a
folder must be, a path below a file; missing folders on the way are made."""

from __future__ import annotations

from pathlib import Path

import pytest

from cortex.errors import OutputPathError
from cortex.outputs import writable_file, writable_folder
from cortex.turns.sessions import SessionLog


def test_a_folder_given_for_a_file_is_refused_with_an_example(tmp_path: Path) -> None:
    with pytest.raises(OutputPathError, match=r"--speak .* is a folder; .*answer\.wav"):
        writable_file(tmp_path, "--speak", "answer.wav")


def test_a_file_below_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(OutputPathError, match="notes.txt, which is a file"):
        writable_file(tmp_path / "notes.txt" / "answer.wav", "--speak", "answer.wav")
    with pytest.raises(OutputPathError, match="which is a file"):
        writable_folder(tmp_path / "notes.txt" / "runs", "--out")


def test_a_file_given_for_a_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "results").write_text("x")
    with pytest.raises(OutputPathError, match="--out .* is a file; give a folder"):
        writable_folder(tmp_path / "results", "--out")


def test_missing_folders_are_made(tmp_path: Path) -> None:
    assert writable_file(tmp_path / "a" / "b.wav", "--speak", "x") == tmp_path / "a" / "b.wav"
    assert (tmp_path / "a").is_dir()
    assert writable_folder(tmp_path / "runs" / "one", "--out").is_dir()


def test_a_session_log_that_is_a_folder_is_refused_before_any_turn(tmp_path: Path) -> None:
    with pytest.raises(OutputPathError, match="the session log .* is a folder"):
        SessionLog(tmp_path)
