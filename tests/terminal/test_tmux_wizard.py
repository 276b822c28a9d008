"""The real wizard in a real 80x24 terminal (tmux), driven with the keyboard
from the first page to the last, then judged by what it left on the target."""
from __future__ import annotations

import pytest

from tests.terminal.tmux import ScreenTimeout, squeeze
from tests.terminal.wizard import (PROJECT, assert_no_traceback, assert_one_ok_run,
                                   japanese_locale, on_page, run_dirs, text, walk_whole_flow, wizard_command)


def language_setup(lang: str):
    """(LANG, extra options): a Japanese locale where this machine has one, else --lang ja."""
    if lang == "en":
        return "C.UTF-8", []
    locale = japanese_locale()
    return (locale, []) if locale else ("C.UTF-8", ["--lang", "ja"])


@pytest.mark.parametrize("lang, finish_key", [
    pytest.param("en", "Enter", id="en-enter-finishes"),
    pytest.param("ja", "C-n", id="ja"),
])
def test_whole_flow_with_the_keyboard(terminal, tmp_path, lang, finish_key):
    root = tmp_path / "sandbox"
    lang_env, extra = language_setup(lang)
    term = terminal()
    term.start(wizard_command(root, lang_env=lang_env, extra=extra), cwd=PROJECT)
    hostname, alias = "mx.terminal.test", "postmaster@terminal.test"
    status = walk_whole_flow(term, lang, hostname=hostname, alias=alias, finish_key=finish_key,
                             toggle_language=lang == "en")
    assert status == 0, term.everything()
    assert_one_ok_run(root, hostname, alias)
    assert_no_traceback(term)


def test_linux_console_says_in_english_that_japanese_cannot_be_shown(terminal, tmp_path):
    root = tmp_path / "sandbox"
    term = terminal()
    term.start(wizard_command(root, term="linux", extra=["--lang", "ja"]), cwd=PROJECT)
    # Japanese was asked for, but the console cannot draw it: English, and why.
    screen = on_page(term, 1, "en", "TERM=linux", "cannot show Japanese", "Use English", "English")
    reason = squeeze("(TERM=linux)")     # one line, on the page and in the notice, whatever the wrapping
    assert squeeze(screen).count(reason) == 1
    # F2 (switch language) says it again, in a notice, instead of switching.
    term.keys("F2")
    term.wait_until(lambda s: squeeze(s).count(reason) >= 2, "the F2 warning")
    on_page(term, 1, "en")
    term.keys("C-n")
    on_page(term, 2, "en", text("Host name", "en"))
    # Leaving before Apply: the question, then Quit (the second answer), and nothing was run.
    term.keys("C-q")
    term.wait_for("Leave the wizard?", "Nothing on the target has been changed.")
    term.keys("Tab")
    term.keys("Enter")
    assert term.wait_exit(timeout=10) == 0
    assert run_dirs(root) == []
    assert_no_traceback(term)


class StuckAfterFirstPage(AssertionError):
    pass


def test_next_the_moment_the_first_page_shows(terminal, tmp_path):
    """Ctrl+N as soon as the first page is drawn (someone who knows the
    wizard, or keys typed ahead over a slow SSH link) goes on to page 2.
    Four tries: the key must land in the moment right after the first drawing."""
    for attempt in range(4):
        term = terminal()
        term.start(wizard_command(tmp_path / f"sandbox{attempt}"), cwd=PROJECT)
        # Poll as fast as tmux answers, to press the key right after the first drawing.
        term.wait_until(lambda screen: "1/12" in screen, "the first page", timeout=20, poll=0)
        term.keys("C-n")
        try:
            on_page(term, 2, "en", text("Host name", "en"), timeout=6)
        except ScreenTimeout as exc:
            if term.screen().strip():
                raise
            raise StuckAfterFirstPage(f"try {attempt + 1}: a blank screen after the first page") from exc
        term.close()
