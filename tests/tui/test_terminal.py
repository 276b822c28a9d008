"""Language choice before the app starts, and the headless path without textual."""
from __future__ import annotations

import subprocess
import sys

from installer.tui.terminal import choose_language, locale_encoding


def test_linux_console_starts_in_english_and_says_why():
    lang, reasons = choose_language("ja", "ja", {"TERM": "linux", "LANG": "ja_JP.UTF-8"})
    assert lang == "en"
    assert any("TERM=linux" in r for r in reasons)


def test_non_utf8_locale_falls_back_to_english():
    lang, reasons = choose_language(None, "ja", {"TERM": "xterm", "LANG": "ja_JP.eucJP"})
    assert (lang, len(reasons)) == ("en", 1)
    assert locale_encoding({"LC_ALL": "C"}) == "ascii"


def test_utf8_terminal_keeps_japanese():
    assert choose_language(None, "ja", {"TERM": "xterm-256color", "LANG": "ja_JP.UTF-8"}) == ("ja", [])
    assert choose_language("en", "ja", {"TERM": "xterm", "LC_ALL": "ja_JP.utf8"}) == ("en", [])


def test_headless_modules_never_import_textual():
    code = ("import sys, installer.cli, installer.engine, installer.journal, installer.answers, "
            "installer.tui.model, installer.tui.terminal\n"
            "from installer import cli\n"
            "cli.main(['profiles'])\n"
            "assert 'textual' not in sys.modules, 'textual imported'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=".")
    assert done.returncode == 0, done.stderr
