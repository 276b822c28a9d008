"""Every page at 80x24 in Japanese and English (pytest-textual-snapshot).

Update after looking at the SVGs: ``pytest tests/tui/test_snapshots.py --snapshot-update``.
Run ids are fixed and the sandbox sits at ./sandbox, so the pictures are the
same on every machine.
"""
from __future__ import annotations

import pytest

from installer.tui.aliases import AliasesPage
from installer.tui.apply import ApplyPage
from installer.tui.auth import AuthPage
from installer.tui.dkim import DkimPage
from installer.tui.done import DonePage
from installer.tui.dovecot import DovecotPage
from installer.tui.identity import IdentityPage
from installer.tui.language import LanguagePage
from installer.tui.mta import MtaPage
from installer.tui.packages import PackagesPage
from installer.tui.review import ReviewPage
from installer.tui.spam import SpamPage
from installer.tui.system import SystemPage

from tests.tui.walk import apply_from_review, at_page, goto, set_input

PAGES = [LanguagePage, SystemPage, PackagesPage, MtaPage, IdentityPage, AuthPage, DkimPage, DovecotPage,
         SpamPage, AliasesPage, ReviewPage, ApplyPage, DonePage]


@pytest.fixture(autouse=True)
def fixed_run_id(monkeypatch):
    from installer import journal
    monkeypatch.setattr(journal, "new_run_id", lambda: "20260101-000000-000000")
    monkeypatch.setattr(ApplyPage, "clock", staticmethod(lambda: 0.0))


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.__name__)
def test_page(snap_compare, make_wizard, page, lang):
    app = make_wizard("centos-7", lang)   # centos-7 has sendmail: every page appears

    async def walk(pilot):
        await at_page(pilot, LanguagePage)
        if page in (ApplyPage, DonePage):
            await goto(pilot, ReviewPage)
            await apply_from_review(pilot)
            if page is DonePage:
                await pilot.press("ctrl+n")
                await at_page(pilot, DonePage)
        else:
            await goto(pilot, page)
        if page is IdentityPage:   # show a field marked invalid
            await set_input(pilot, "#f-postfix-hostname", "bad_host")
        await pilot.pause()

    assert snap_compare(app, run_before=walk, terminal_size=(80, 24))


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_dkim_on(snap_compare, make_wizard, lang):
    """DKIM switched on: the selector field appears; DMARC set to quarantine."""
    app = make_wizard("debian-12", lang)

    async def walk(pilot):
        await at_page(pilot, LanguagePage)
        await goto(pilot, DkimPage)
        await pilot.click("#dkim-enabled")
        await pilot.pause()
        await pilot.click("#policy-quarantine")
        await pilot.pause()

    assert snap_compare(app, run_before=walk, terminal_size=(80, 24))


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_certificate_acme(snap_compare, make_wizard, lang):
    """ACME chosen: the account address (marked as missing) and the directory fields."""
    app = make_wizard("debian-12", lang)

    async def walk(pilot):
        await at_page(pilot, LanguagePage)
        await goto(pilot, AuthPage)
        await pilot.click("#cert-acme")
        await pilot.pause()
        pilot.app.screen.query_one("#f-auth-tls-acme-email").scroll_visible(animate=False)
        await pilot.pause()

    assert snap_compare(app, run_before=walk, terminal_size=(80, 24))


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_done_with_dns_records(snap_compare, make_wizard, lang):
    """After a run with DKIM: the records to publish (the sandbox makes no key: its place is marked)."""
    app = make_wizard("debian-12", lang)

    async def walk(pilot):
        await at_page(pilot, LanguagePage)
        await goto(pilot, DkimPage)
        await pilot.click("#dkim-enabled")
        await pilot.pause()
        await set_input(pilot, "#f-dkim-selector", "mx1")
        await goto(pilot, ReviewPage)
        await apply_from_review(pilot)
        await pilot.press("ctrl+n")
        await at_page(pilot, DonePage)
        pilot.app.screen.query_one("#dns-records").scroll_visible(animate=False)
        await pilot.pause()

    assert snap_compare(app, run_before=walk, terminal_size=(80, 24))
