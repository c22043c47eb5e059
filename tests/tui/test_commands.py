"""Slash commands' paths as terminals paste and drop them: quoted, escaped, or as URLs."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest

from tui.commands import CommandError, parse, pasted_path

PNG = b"\x89PNG\r\n\x1a\n" + bytes(8)
WAV = b"RIFF\x00\x00\x00\x00WAVEfmt "


@pytest.fixture()
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "my cat photo.png"
    path.write_bytes(PNG)
    return path


def pasted_forms(path: Path) -> list[str]:
    text = str(path)
    return [
        text,
        f"'{text}'",
        f'"{text}"',
        text.replace(" ", "\\ "),
        "file://" + quote(text),
        "file://localhost" + quote(text),
        f"'file://{quote(text)}'",
        f"  '{text}' ",  # a terminal's drag and drop adds a space
    ]


def test_every_pasted_form_of_a_path_is_the_file(photo: Path) -> None:
    for form in pasted_forms(photo):
        assert parse(f"/image {form}") == parse(f"/image {photo}"), form
        assert pasted_path(form) == photo, form


def test_audio_paths_are_read_alike(tmp_path: Path) -> None:
    recording = tmp_path / "voice note (1) café.wav"
    recording.write_bytes(WAV)
    for form in pasted_forms(recording):
        assert parse(f"/audio {form}").argument == str(recording), form


def test_a_bare_path_is_taken_as_it_is_even_with_quotes_or_backslashes(tmp_path: Path) -> None:
    for name in ("Bob's cat.png", 'say "cheese".png', "back\\slash.png", "100% cat.png"):
        path = tmp_path / name
        path.write_bytes(PNG)
        assert pasted_path(str(path)) == path


def test_the_home_folder_is_expanded_inside_quotes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "my cat.png").write_bytes(PNG)
    assert pasted_path("'~/my cat.png'") == tmp_path / "my cat.png"
    assert pasted_path("~/my\\ cat.png") == tmp_path / "my cat.png"


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("'/nowhere/my cat.png'", "no file at /nowhere/my cat.png"),
        ("file:///nowhere/my%20cat.png", "no file at /nowhere/my cat.png"),
        ("file://server/share/cat.png", "a file on another computer (server)"),
        ("'/nowhere/unclosed.png", "no file at '/nowhere/unclosed.png"),
        ("", "/image needs a path"),
        ("''", "/image needs a path"),
    ],
)
def test_a_path_that_names_no_file_is_an_error(argument: str, message: str) -> None:
    with pytest.raises(CommandError, match=re.escape(message)):
        parse(f"/image {argument}")


def test_a_pasted_path_that_is_not_an_image_is_named(tmp_path: Path) -> None:
    notes = tmp_path / "my notes.txt"
    notes.write_text("hello")
    with pytest.raises(CommandError, match=r"my notes.txt is not a PNG, JPEG or WebP image"):
        parse(f"/image '{notes}'")
