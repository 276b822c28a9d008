"""The wizard under the pseudo-locale: every message that went through
translation is drawn inside ⟦…⟧, so any prose drawn without the markers was
never translated.  Walks every page (MTA page included), applies, and reads
what is actually on screen (the exported screenshot), in both languages.

Values are shown as they are (host names, paths, commands, diffs): a piece of
screen text outside the markers is accepted only when every word in it is a
word of that data (answers, plan, facts, profile)."""
from __future__ import annotations

import json
import re

import pytest

from installer import answers, i18n
from installer.tui.aliases import AliasesPage
from installer.tui.auth import AuthPage
from installer.tui.done import DonePage
from installer.tui.dovecot import DovecotPage
from installer.tui.identity import IdentityPage
from installer.tui.mta import MtaPage
from installer.tui.packages import PackagesPage
from installer.tui.review import ReviewPage
from installer.tui.spam import SpamPage
from installer.tui.system import SystemPage

from tests.tui.walk import apply_from_review, at_page, goto

SIZE = (80, 24)
PAGES = [SystemPage, PackagesPage, MtaPage, IdentityPage, AuthPage, DovecotPage, SpamPage, AliasesPage,
         ReviewPage]
# Not prose: the program's name, the language names (each in its own language),
# and the words of the replay command line that the Done page shows.
ALWAYS_ALLOWED = {"mailwiz", "english", "apply", "answers", "sandbox", "root", "profile", "lang", "yes", "yaml"}
ENDONYMS = ("日本語",)
_MARKED = re.compile("\u27e6[^\u27e6\u27e7]*\u27e7")


def widget_texts(screen) -> list:
    """(widget, text) for every piece of text the screen's widgets draw; a
    wrapped message stays whole, whatever the layout around it."""
    from textual.widgets import Button, Input, RichLog, Static
    out = []
    for widget in screen.query("*"):
        if not widget.display or widget.has_class("diff"):   # a file diff is data
            continue
        if isinstance(widget, Static):
            out.append((widget, str(widget.render())))
        elif isinstance(widget, Button):
            out.append((widget, str(widget.label)))
        elif isinstance(widget, Input):
            # The value is the user's data; a one-word placeholder is an example value.
            if " " in str(widget.placeholder).strip():
                out.append((widget, str(widget.placeholder)))
        elif isinstance(widget, RichLog):
            out.append((widget, "\n".join(strip.text for strip in widget.lines)))
    return out


def unmarked(text: str) -> list:
    """Lines of *text* with letters left once every ⟦…⟧ span (innermost first,
    across line breaks) is taken out."""
    previous = None
    while previous != text:
        previous, text = text, _MARKED.sub(" ", text)
    return [line.strip() for line in text.splitlines() if any(ch.isalpha() for ch in line)]


def data_words(app) -> set:
    """Every word of the values the wizard shows as they are."""
    state = app.state
    corpus = [answers.dump(state.answers), json.dumps(state.target.profile.__dict__, default=str)]
    facts = getattr(state, "facts", None)
    if facts is not None:
        corpus.append(json.dumps(facts.to_json(), default=str))
    plan = getattr(state, "plan", None)
    if plan is not None:
        corpus += [" ".join(argv) for argv in plan.commands()] + list(plan.diffs) + list(plan.diffs.values())
        corpus += [str(a.describe().params) for a in plan.actions]
        # DNS records are data (names, types, values); their "; what it is for" comments are prose.
        corpus += [line for line in state.dns_records().splitlines() if "\t" in line]
    corpus.append(str(state.target.root.base))
    return {w.lower() for w in re.findall(r"[A-Za-z]{2,}", "\n".join(corpus))} | ALWAYS_ALLOWED


def untranslated(app) -> list:
    words = data_words(app)
    found = []
    for widget, text in widget_texts(app.screen):
        for piece in unmarked(text):
            for name in ENDONYMS:
                piece = piece.replace(name, "")
            unknown = [w for w in re.findall(r"[A-Za-z]{2,}", piece) if w.lower() not in words]
            if unknown or re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", piece):
                found.append(f"{type(app.screen).__name__} {type(widget).__name__}#{widget.id}: {piece!r}")
    return found


@pytest.mark.parametrize("lang", ["en", "ja"])
async def test_every_page_shows_only_translated_text(make_wizard, lang):
    i18n.set_pseudo(True)
    try:
        app = make_wizard("centos-7", lang)
        problems = []
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            problems += untranslated(app)
            for page in PAGES:
                await goto(pilot, page)
                problems += untranslated(app)
            await apply_from_review(pilot)
            problems += untranslated(app)
            await goto(pilot, DonePage)
            problems += untranslated(app)
        assert not problems, "text drawn without translation:\n" + "\n".join(problems)
    finally:
        i18n.set_pseudo(False)


def test_the_check_catches_untranslated_text():
    assert unmarked("\u27e6Next\u27e7  Quit") == ["Quit"]
    assert unmarked("\u27e6Service x: \u27e6\u27e6start\u27e7, \u27e6stop\u27e7\u27e7\nwrapped\u27e7") == []
    assert unmarked("\u27e6wrapped\nmessage\u27e7 and this") == ["and this"]
