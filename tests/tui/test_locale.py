"""`cortex chat` under a locale that is not UTF-8: a clear message instead of escaped borders."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tui.terminal import encoding_problem, terminal_problem


@pytest.mark.parametrize(
    ("locale_name", "codeset", "named"),
    [
        ("en_US.ISO-8859-1", "ISO-8859-1", "iso8859-1"),
        ("en_US.ISO-8859-1", "UTF-8", "iso8859-1"),  # not installed: Python fell back to C.UTF-8
        ("en_US", "ISO-8859-1", "iso8859-1"),
        (
            "C",
            "ANSI_X3.4-1968",
            "ascii",
        ),  # LC_ALL=C: Python's UTF-8 mode does not change the terminal
        ("POSIX", "ANSI_X3.4-1968", "ascii"),
        ("ru_RU.KOI8-R", "KOI8-R", "koi8-r"),
        ("ja_JP.eucJP", "EUC-JP", "euc_jp"),
        ("de_DE@euro", "ISO-8859-15", "iso8859-15"),
    ],
)
def test_a_locale_that_is_not_utf8_is_named_with_the_fix(
    locale_name: str, codeset: str, named: str
) -> None:
    problem = encoding_problem([locale_name], codeset)
    assert problem is not None
    assert f"the locale {locale_name} is {named}" in problem
    assert "use a UTF-8 locale, e.g. LC_ALL=C.UTF-8 cortex chat" in problem


@pytest.mark.parametrize(
    ("locale_name", "codeset"),
    [
        ("C.UTF-8", "UTF-8"),
        ("en_US.utf8", "UTF-8"),
        ("de_DE.UTF-8@euro", "UTF-8"),
        ("zh_CN.GB18030", "GB18030"),  # all of Unicode
        ("", "UTF-8"),  # no locale set: Python takes C.UTF-8, as terminals do today
        ("C", "UTF-8"),  # LANG=C alone: Python coerces it to C.UTF-8
        ("en_US.no-such-charset", "UTF-8"),
    ],
)
def test_a_unicode_locale_draws_the_app(locale_name: str, codeset: str) -> None:
    assert encoding_problem([locale_name] if locale_name else [], codeset) is None


def test_the_strongest_locale_variable_is_read() -> None:
    assert terminal_problem({"LANG": "en_US.UTF-8", "LC_ALL": "en_US.ISO-8859-1"}) is not None
    assert terminal_problem({"LC_CTYPE": "ru_RU.KOI8-R", "LANG": "en_US.UTF-8"}) is not None
    assert "the locale en_US.ISO-8859-1" in str(terminal_problem({"LANG": "en_US.ISO-8859-1"}))
    # Python's stand-in for a LANG locale that is not installed (PEP 538) does not hide it.
    coerced = {"LC_CTYPE": "C.UTF-8", "LANG": "en_US.ISO-8859-1"}
    assert "the locale en_US.ISO-8859-1 is iso8859-1" in str(terminal_problem(coerced))
    assert terminal_problem({"LC_ALL": "en_US.UTF-8", "LANG": "en_US.ISO-8859-1"}) is None


@pytest.mark.parametrize(
    "locale", [{"LC_ALL": "C"}, {"LANG": "en_US.ISO-8859-1"}, {"LC_ALL": "en_US.ISO-8859-15"}]
)
@pytest.mark.e2e
def test_cortex_chat_says_so_in_one_line_before_it_starts(locale: dict[str, str]) -> None:
    environ = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_CTYPE", "LANG")}
    done = subprocess.run(
        [sys.executable, "-m", "cortex.cli", "chat"],
        env={**environ, **locale},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "\\u" not in done.stderr
    assert done.stderr.startswith("cortex: cortex chat draws with Unicode, but the locale ")
    assert "use a UTF-8 locale" in done.stderr
