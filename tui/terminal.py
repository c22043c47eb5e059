"""Whether the terminal can show the app: its borders, bars and sparkline are Unicode.

Under a locale that is not UTF-8 (``LANG=en_US.ISO-8859-1``, ``LC_ALL=C``) they would come
out as literal ``\\u256d`` escapes or as other characters; `terminal_problem()` says so, with
the fix, before the app starts.
"""

from __future__ import annotations

import codecs
import locale
import os
from collections.abc import Mapping

GLYPHS = "╭─╮│╰╯━▁▄█…·"
"""Characters the app draws: borders, the sparkline and progress bars, ellipses."""


def terminal_problem(environ: Mapping[str, str] = os.environ) -> str | None:
    """Why this terminal cannot show the app, or None: by the names of the locale and the
    character set it gives (Python's own UTF-8 mode aside: it does not change the terminal).

    LC_ALL overrides the rest; otherwise LANG counts beside LC_CTYPE, because Python replaces
    a LANG locale that is not installed with LC_CTYPE=C.UTF-8 (PEP 538), and the terminal
    still uses the character set that LANG names.
    """
    names = (
        [environ["LC_ALL"]]
        if environ.get("LC_ALL")
        else [
            environ.get("LC_CTYPE", ""),
            environ.get("LANG", ""),
        ]
    )
    return encoding_problem([name for name in names if name], locale.getencoding())


def encoding_problem(locale_names: list[str], codeset: str) -> str | None:
    """Why a terminal under the locales `locale_names`, whose character set is `codeset`,
    cannot show the app, or None. A character set named in a locale's name counts too: a
    locale that is not installed falls back to another one, but the terminal does not."""
    named = [(name, name.partition(".")[2].partition("@")[0]) for name in locale_names]
    for name, encoding in [*named, (locale_names[0] if locale_names else "C", codeset)]:
        try:
            if encoding:
                GLYPHS.encode(encoding)
        except UnicodeEncodeError:
            return (
                f"cortex chat draws with Unicode, but the locale {name} is "
                f"{codecs.lookup(encoding).name}; use a UTF-8 locale, e.g. "
                "LC_ALL=C.UTF-8 cortex chat"
            )
        except LookupError:  # a character set Python does not know: judge by the others
            continue
    return None
