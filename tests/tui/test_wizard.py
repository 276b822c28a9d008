"""Pilot tests: the wizard walked page by page on sandbox targets, asserting
on the saved answers and the journal, not only on what is drawn."""
from __future__ import annotations

import pytest
import yaml

from installer import answers, i18n
from installer.events import Done
from installer.journal import Run, list_runs
from installer.tui.aliases import AliasesPage
from installer.tui.apply import ApplyPage
from installer.tui.auth import AuthPage
from installer.tui.done import DonePage
from installer.tui.dovecot import DovecotPage
from installer.tui.identity import IdentityPage
from installer.tui.language import LanguagePage
from installer.tui.mta import MtaPage
from installer.tui.packages import PackagesPage
from installer.tui.review import ReviewPage
from installer.tui.spam import SpamPage
from installer.tui.system import SystemPage

from tests.tui.walk import apply_from_review, at_page, goto, next_enabled, screen_text, set_input, wait_for

SIZE = (80, 24)


def only_run(app):
    runs = list_runs(app.state.target.root)
    assert len(runs) == 1
    return Run.open(app.state.target.root, runs[0])


@pytest.mark.parametrize("lang", ["en", "ja"])
async def test_walk_every_page_with_invalid_input_and_back(make_wizard, lang):
    app = make_wizard("rocky-9", lang)
    async with app.run_test(size=SIZE) as pilot:
        await at_page(pilot, LanguagePage)
        assert i18n.get_language() == lang
        for page in (SystemPage, PackagesPage, IdentityPage):
            await goto(pilot, page)
        # an invalid host name is marked at the field, and Next is disabled
        await set_input(pilot, "#f-postfix-hostname", "bad_host")
        error = pilot.app.screen.query_one("#err-f-postfix-hostname")
        assert error.display and str(error.render()).strip()
        assert not next_enabled(pilot)
        await pilot.press("ctrl+n")
        assert type(pilot.app.screen) is IdentityPage
        # a fixed name makes it valid again; the domain follows the host name
        await set_input(pilot, "#f-postfix-hostname", "mx.mail.test")
        assert next_enabled(pilot)
        assert app.state.answers["postfix"]["domain"] == "mail.test"
        await set_input(pilot, "#f-postfix-networks", "0.0.0.0/0")
        assert not next_enabled(pilot)
        await set_input(pilot, "#f-postfix-networks", "127.0.0.0/8, 192.0.2.0/24")
        await set_input(pilot, "#f-postfix-message-size-limit-mb", "ten")
        assert not next_enabled(pilot)
        await set_input(pilot, "#f-postfix-message-size-limit-mb", "20")
        assert next_enabled(pilot)
        # Back and forward again keeps what was typed
        await pilot.press("escape")
        await at_page(pilot, PackagesPage)
        await goto(pilot, IdentityPage)
        assert pilot.app.screen.query_one("#f-postfix-hostname").value == "mx.mail.test"
        for page in (AuthPage, DovecotPage, SpamPage, AliasesPage):
            await goto(pilot, page)
        await set_input(pilot, "#f-aliases-root", "admin@mail.test")
        await goto(pilot, ReviewPage)
        assert "main.cf" in screen_text(pilot)
        page = await apply_from_review(pilot)
        assert page.failure is None
        await pilot.press("ctrl+n")
        await at_page(pilot, DonePage)
        assert "mailwiz apply --answers" in screen_text(pilot)
        await pilot.press("ctrl+n")
    assert app.return_value == 0
    saved = answers.load(app.state.replay_written)
    assert saved["postfix"]["hostname"] == "mx.mail.test"
    assert saved["postfix"]["networks"] == ["127.0.0.0/8", "192.0.2.0/24"]
    assert saved["postfix"]["message_size_limit_mb"] == 20
    assert saved["aliases"]["root"] == "admin@mail.test"
    assert saved["language"] == lang
    run = only_run(app)
    assert run.status() == "ok"
    assert yaml.safe_load(run.dir.joinpath("answers.yaml").read_text())["postfix"]["hostname"] == "mx.mail.test"
    main_cf = app.state.target.root.read_text("/etc/postfix/main.cf")
    assert "mx.mail.test" in main_cf


@pytest.mark.parametrize("choice", ["remove", "alternatives"])
async def test_existing_mta_choice_both_ways(make_wizard, choice):
    app = make_wizard("centos-7", "en")
    async with app.run_test(size=SIZE) as pilot:
        await at_page(pilot, LanguagePage)
        await goto(pilot, MtaPage)
        assert "sendmail" in screen_text(pilot)
        if choice == "alternatives":
            await pilot.click("#mta-alternatives")
        else:
            await pilot.click("#mta-remove")
        await pilot.pause()
        assert app.state.answers["system"]["existing_mta"] == choice
        await goto(pilot, ReviewPage)
        commands = [" ".join(argv) for argv in app.state.plan.commands()]
        if choice == "alternatives":
            assert any("alternatives" in c and "mta" in c for c in commands)
            assert not any(c.startswith("yum") and "remove" in c and "sendmail" in c for c in commands)
        else:
            assert any("remove" in c and "sendmail" in c for c in commands)
        await apply_from_review(pilot)
        await pilot.press("ctrl+n")
        await at_page(pilot, DonePage)
    saved = answers.load(app.state.replay_written)
    assert saved["system"]["existing_mta"] == choice
    assert only_run(app).status() == "ok"


async def test_failing_step_then_rollback(make_wizard):
    app = make_wizard("centos-7", "ja", failpoint="6:error")
    async with app.run_test(size=SIZE) as pilot:
        root = app.state.target.root
        await at_page(pilot, LanguagePage)
        await goto(pilot, ReviewPage)
        page = await apply_from_review(pilot)
        assert page.failure is not None
        assert not page.query_one("#failure").has_class("hidden")
        assert not next_enabled(pilot)
        run = only_run(app)
        assert run.status() == "failed"      # left as it is until the user chooses
        await pilot.click("#do-rollback")
        await wait_for(pilot, lambda: page.finished_at is not None and not page.running)
        await pilot.press("ctrl+n")
        await at_page(pilot, DonePage)
        await pilot.press("ctrl+n")
    assert app.return_value == 1
    run = only_run(app)
    assert run.status() == "rolled-back"
    events = [e["event"] for e in run.entries()]
    assert "failed" in events and events[-1] == "rollback-end"
    entries = run.entries()
    begun = {e["seq"] for e in entries if e["event"] == "begin"}
    undone = {e["seq"] for e in entries if e["event"] == "undo-done"}
    assert begun and begun == undone
    # the files the run changed are as they were before it (first pre-image of each)
    first = {}
    for entry in entries:
        if entry["event"] == "begin" and isinstance(entry["undo"], dict):
            for record in entry["undo"].get("files", []):
                first.setdefault(record["path"], record)
    assert "/etc/postfix/main.cf" in first
    for path, record in first.items():
            if record["existed"]:
                assert root.read_bytes(path) == run.dir.joinpath(record["preimage"]).read_bytes(), path
            else:
                assert not root.exists(path), path


async def test_failing_step_then_retry_finishes_the_same_run(make_wizard):
    app = make_wizard("rocky-9", "en", failpoint="2:error")
    async with app.run_test(size=SIZE) as pilot:
        await at_page(pilot, LanguagePage)
        await goto(pilot, ReviewPage)
        page = await apply_from_review(pilot)
        assert page.failure is not None
        await pilot.click("#do-retry")
        await wait_for(pilot, lambda: not page.running and (page.finished_at is not None or page.failure))
        assert page.failure is None
        await pilot.press("ctrl+n")
        await at_page(pilot, DonePage)
        await pilot.press("ctrl+n")
    assert app.return_value == 0
    run = only_run(app)
    assert run.status() == "ok"


async def test_relay_password_is_never_saved(make_wizard):
    app = make_wizard("rocky-9", "en")
    secret = "s3cret-Pa55"
    async with app.run_test(size=SIZE) as pilot:
        await at_page(pilot, LanguagePage)
        await goto(pilot, AuthPage)
        await pilot.click("#use-relay")
        await pilot.pause()
        await set_input(pilot, "#f-relayhost-host", "[smtp.example.net]:587")
        await set_input(pilot, "#f-relayhost-username", "user")
        field = await set_input(pilot, "#f-relayhost-password", secret)
        assert field.password
        assert secret not in screen_text(pilot)
        await goto(pilot, ReviewPage)
        await apply_from_review(pilot)
    run = only_run(app)
    saved_text = open(app.state.replay_written).read()
    assert secret not in saved_text
    assert "password_env" in saved_text
    assert secret not in run.dir.joinpath("answers.yaml").read_text()
    assert secret not in run.dir.joinpath("journal.jsonl").read_text()
    assert secret not in run.log_path.read_text()


async def test_quit_before_apply_changes_nothing(make_wizard):
    app = make_wizard("rocky-9", "en")
    async with app.run_test(size=SIZE) as pilot:
        await at_page(pilot, LanguagePage)
        await goto(pilot, IdentityPage)
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: pilot.app.screen.id == "quit-dialog")
        await pilot.press("escape")          # Esc stays
        await at_page(pilot, IdentityPage)
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: pilot.app.screen.id == "quit-dialog")
        assert "Nothing on the target has been changed." in screen_text(pilot)
        await pilot.click("#answer-quit")
    assert app.return_value == 0
    assert list_runs(app.state.target.root) == []


async def test_language_switch_redraws_and_keeps_typed_text(make_wizard):
    app = make_wizard("rocky-9", "en")
    async with app.run_test(size=SIZE) as pilot:
        await at_page(pilot, LanguagePage)
        await goto(pilot, IdentityPage)
        await set_input(pilot, "#f-postfix-hostname", "bad_host")
        english = screen_text(pilot)
        await pilot.press("f2")
        await pilot.pause()
        assert i18n.get_language() == "ja"
        assert app.state.answers["language"] == "ja"
        japanese = screen_text(pilot)
        assert japanese != english
        assert "Identity" not in japanese
        assert pilot.app.screen.query_one("#f-postfix-hostname").value == "bad_host"
        assert not next_enabled(pilot)


async def test_interrupted_run_is_offered_for_rollback(make_wizard):
    from installer import engine
    from installer.tui.app import make_app

    class Cut(BaseException):
        """Stands in for the process dying halfway through a run."""

    first = make_wizard("rocky-9", "en")
    state = first.state
    state.gather_facts()
    state.make_plan()

    def die_after_two(event):
        if isinstance(event, Done) and event.seq == 1:
            raise Cut()

    with pytest.raises(Cut):
        engine.apply(state.plan, root=state.target.root, runner=state.target.runner,
                     answers_yaml=state.answers_yaml(), sandbox=True, events=die_after_two)
    assert engine.interrupted_runs(state.target.root)

    app = make_app(state.target, lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await at_page(pilot, LanguagePage)
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: pilot.app.screen.id == "interrupted-dialog")
        await pilot.click("#answer-rollback")
        await at_page(pilot, ApplyPage)
        page = pilot.app.screen
        await wait_for(pilot, lambda: page.finished_at is not None)
        await pilot.press("ctrl+n")
        await at_page(pilot, DonePage)
        await pilot.press("ctrl+n")
    run = Run.open(state.target.root, list_runs(state.target.root)[0])
    assert run.status() == "rolled-back"
    assert engine.interrupted_runs(state.target.root) == []


async def test_linux_console_offers_english_only(tmp_path, monkeypatch):
    from installer import cli
    from installer.tui.app import make_app
    from installer.tui.terminal import choose_language
    from tests.tui.conftest import sandbox_args

    monkeypatch.chdir(tmp_path)
    lang, blocked = choose_language("ja", "ja", {"TERM": "linux", "LANG": "ja_JP.UTF-8"})
    app = make_app(cli.Target(sandbox_args("sandbox", "rocky-9", lang)), lang=lang, japanese_blocked=blocked)
    async with app.run_test(size=SIZE) as pilot:
        await at_page(pilot, LanguagePage)
        assert i18n.get_language() == "en"
        assert pilot.app.screen.query_one("#lang-ja").disabled
        assert "TERM=linux" in screen_text(pilot)
        await pilot.press("f2")                 # switching to Japanese is refused
        await pilot.pause()
        assert i18n.get_language() == "en"


def test_run_wizard_reports_bad_profile_without_starting(tmp_path, monkeypatch, capsys):
    from installer.tui import run_wizard
    from tests.tui.conftest import sandbox_args

    monkeypatch.chdir(tmp_path)
    assert run_wizard(sandbox_args("sandbox", "no-such-os")) == 2
    assert "no-such-os" in capsys.readouterr().err
