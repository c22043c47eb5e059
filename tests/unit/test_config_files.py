"""Configuration and experiment files as editors save them: byte-order marks, UTF-16, Latin-1."""

from __future__ import annotations

import codecs
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cortex.config import default_config_text, load_config
from cortex.errors import ConfigError
from cortex.experiments import load_experiment

EXPERIMENT = '# Café au lait\nname = "bom"\nmodes = ["sequential"]\n[[requests]]\ntext = "Hi"\n'
LOADERS: dict[str, tuple[Callable[[Path], Any], str]] = {
    "config": (load_config, default_config_text() + "\n# café ☕\n"),
    "experiment": (load_experiment, EXPERIMENT),
}


@pytest.fixture(params=sorted(LOADERS))
def loader(request: pytest.FixtureRequest) -> tuple[Callable[[Path], Any], str]:
    return LOADERS[request.param]


def saved(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "saved.toml"
    path.write_bytes(data)
    return path


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path, loader) -> None:
    load, text = loader
    plain = load(saved(tmp_path, text.encode()))
    assert load(saved(tmp_path, codecs.BOM_UTF8 + text.encode())) == plain
    crlf = text.replace("\n", "\r\n")  # Windows line endings, as Notepad saves them
    assert load(saved(tmp_path, codecs.BOM_UTF8 + crlf.encode())) == plain


@pytest.mark.parametrize(
    ("encoding", "named"),
    [
        ("utf-16", "UTF-16 (little-endian)"),  # with a byte-order mark: PowerShell's default
        ("utf-16-be", "UTF-16 (big-endian)"),
        ("utf-16-le", "UTF-16 (little-endian)"),
        ("utf-32", "UTF-32 (little-endian)"),
        ("utf-32-be", "UTF-32"),
    ],
)
def test_a_wide_encoding_is_named_with_the_fix(
    tmp_path: Path, loader, encoding: str, named: str
) -> None:
    load, text = loader
    data = text.encode(encoding)
    if encoding == "utf-16":
        data = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    elif encoding == "utf-32":
        data = codecs.BOM_UTF32_LE + text.encode("utf-32-le")
    with pytest.raises(ConfigError) as raised:
        load(saved(tmp_path, data))
    message = str(raised.value)
    assert f"saved.toml is saved as {named}" in message and "save it as UTF-8" in message


def test_a_big_endian_utf16_byte_order_mark_is_named(tmp_path: Path, loader) -> None:
    load, text = loader
    with pytest.raises(ConfigError, match=r"is saved as UTF-16 \(big-endian\); save it as UTF-8"):
        load(saved(tmp_path, codecs.BOM_UTF16_BE + text.encode("utf-16-be")))


def test_a_latin1_file_names_the_byte_and_its_line(tmp_path: Path, loader) -> None:
    load, text = loader
    line = text.splitlines().index(next(ln for ln in text.splitlines() if "é" in ln)) + 1
    for data in (
        text.encode("latin-1", "replace"),
        codecs.BOM_UTF8 + text.encode("cp1252", "replace"),
    ):
        with pytest.raises(ConfigError) as raised:
            load(saved(tmp_path, data))
        assert str(raised.value) == (
            f"{tmp_path / 'saved.toml'} is not UTF-8 (byte 0xE9 on line {line}); save it as UTF-8"
        )


@pytest.mark.parametrize(
    ("load", "what"), [(load_config, "configuration file"), (load_experiment, "experiment file")]
)
def test_missing_and_malformed_files_are_named(
    tmp_path: Path, load: Callable[[Path], Any], what: str
) -> None:
    with pytest.raises(ConfigError, match=f"no {what} at .*absent.toml"):
        load(tmp_path / "absent.toml")
    with pytest.raises(ConfigError, match="saved.toml is not valid TOML"):
        load(saved(tmp_path, codecs.BOM_UTF8 + b"[regions\n"))
