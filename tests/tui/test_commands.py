"""Slash commands' paths as terminals paste and drop them: quoted, escaped, or as URLs."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from PIL import Image

from cortex.inputs import pasted_path
from tui.commands import CommandError, parse

DATA = Path(__file__).parents[1] / "data"
PNG = Image.new("RGB", (4, 4), "orange")


@pytest.fixture()
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "my cat photo.png"
    PNG.save(path)
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
    recording.write_bytes((DATA / "question.wav").read_bytes())
    for form in pasted_forms(recording):
        assert parse(f"/audio {form}").argument == str(recording), form


def test_a_bare_path_is_taken_as_it_is_even_with_quotes_or_backslashes(tmp_path: Path) -> None:
    for name in ("Bob's cat.png", 'say "cheese".png', "back\\slash.png", "100% cat.png"):
        path = tmp_path / name
        PNG.save(path, format="PNG")
        assert pasted_path(str(path)) == path


def test_the_home_folder_is_expanded_inside_quotes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    PNG.save(tmp_path / "my cat.png")
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


def test_media_is_judged_as_its_region_reads_it(tmp_path: Path) -> None:
    notes = tmp_path / "my notes.txt"
    notes.write_text("hello")
    with pytest.raises(CommandError, match=r"my notes.txt is not an image Cortex can read"):
        parse(f"/image '{notes}'")
    with pytest.raises(CommandError, match=r"my notes.txt is not a readable WAV"):
        parse(f"/audio {str(notes).replace(' ', chr(92) + ' ')}")
    for name, format in (("scan.gif", "GIF"), ("page.tiff", "TIFF"), ("icon.bmp", "BMP")):
        PNG.save(tmp_path / name, format=format)
        assert parse(f"/image file://{quote(str(tmp_path / name))}").argument.endswith(name)
