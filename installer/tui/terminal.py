"""What the terminal can show, decided before the app starts (no textual here).

* ``TERM=linux`` (the Linux text console) has no Japanese glyphs: Japanese
  would appear as blocks, so the wizard starts in English and says why.
* A locale whose encoding is not UTF-8 cannot carry Japanese either: English.
"""
from __future__ import annotations

import codecs
import os
from typing import List, Mapping, Optional, Tuple

from installer.i18n import N_


def locale_encoding(environ: Mapping[str, str]) -> Optional[str]:
    """The encoding named by LC_ALL / LC_CTYPE / LANG (first one set), or None."""
    for name in ("LC_ALL", "LC_CTYPE", "LANG"):
        value = environ.get(name)
        if value:
            if value in ("C", "POSIX"):
                return "ascii"
            if "." in value:
                charset = value.split(".", 1)[1].split("@", 1)[0]
                try:
                    return codecs.lookup(charset).name
                except LookupError:
                    return charset.lower()
            return None
    return None


def japanese_blocked(environ: Optional[Mapping[str, str]] = None) -> List[str]:
    """Why Japanese cannot be shown here (N_ msgids, shown in English), or []."""
    env = os.environ if environ is None else environ
    reasons = []
    if env.get("TERM") == "linux":
        reasons.append(N_("This is the Linux text console (TERM=linux), which cannot show Japanese."))
    encoding = locale_encoding(env)
    if encoding is not None and encoding != "utf-8":
        reasons.append(N_("The locale's character set is not UTF-8, so Japanese cannot be shown."))
    return reasons


def choose_language(requested: Optional[str], detected: str,
                    environ: Optional[Mapping[str, str]] = None) -> Tuple[str, List[str]]:
    """(language to start in, reasons Japanese is blocked)."""
    reasons = japanese_blocked(environ)
    lang = requested or detected
    if reasons:
        lang = "en"
    return lang, reasons
