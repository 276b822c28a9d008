"""The wizard application and the flow of its pages.

``make_app()`` builds it for the CLI (``run_wizard``), the tests and the
snapshot tests alike.  The flow is one coroutine (:meth:`WizardApp.flow`)
that pushes each page and waits for it: read it top to bottom.
"""
from __future__ import annotations

import asyncio
from typing import List, Optional, Sequence, Type

from textual import work
from textual.app import App
from textual.binding import Binding

from installer import i18n
from installer.i18n import _
from installer.tui.base import BACK, Page
from installer.tui.dialogs import interrupted_dialog, quit_dialog
from installer.tui.model import WizardState

EXIT_OK, EXIT_FAILED = 0, 1


class WizardApp(App[int]):
    CSS_PATH = "wizard.tcss"
    TITLE = "mailwiz"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("ctrl+q", "request_quit", show=False, priority=True),
        Binding("ctrl+c", "request_quit", show=False, priority=True),
        Binding("f2", "toggle_language", show=False, priority=True),
    ]

    def __init__(self, state: WizardState, *, japanese_blocked: Sequence[str] = ()):
        super().__init__()
        self.state = state
        self.japanese_blocked: List[str] = list(japanese_blocked)
        self.run_in_progress = False
        self.applied = False
        self.exit_after_run = False      # set on SIGHUP during a run: finish, then exit
        self.facts_ready = asyncio.Event()

    # -- the flow --------------------------------------------------------------------

    # Page classes by name, imported when first shown: only the first page's
    # module is loaded before the first screen appears.
    PAGES = {
        "language": ("installer.tui.language", "LanguagePage"),
        "system": ("installer.tui.system", "SystemPage"),
        "packages": ("installer.tui.packages", "PackagesPage"),
        "mta": ("installer.tui.mta", "MtaPage"),
        "identity": ("installer.tui.identity", "IdentityPage"),
        "auth": ("installer.tui.auth", "AuthPage"),
        "dkim": ("installer.tui.dkim", "DkimPage"),
        "dovecot": ("installer.tui.dovecot", "DovecotPage"),
        "spam": ("installer.tui.spam", "SpamPage"),
        "aliases": ("installer.tui.aliases", "AliasesPage"),
        "review": ("installer.tui.review", "ReviewPage"),
        "apply": ("installer.tui.apply", "ApplyPage"),
        "done": ("installer.tui.done", "DonePage"),
    }

    def pages(self) -> List[str]:
        names = ["language", "system", "packages"]
        if self.state.has_other_mta:
            names.append("mta")
        return names + ["identity", "auth", "dkim", "dovecot", "spam", "aliases", "review", "apply", "done"]

    def page_class(self, name: str) -> Type[Page]:
        import importlib
        module, cls = self.PAGES[name]
        return getattr(importlib.import_module(module), cls)

    def on_mount(self) -> None:
        self.flow()
        # Soon after the first screen is drawn (reading the target competes for
        # the GIL).  An app timer, not call_after_refresh: that waits on the
        # screen shown now, and is dropped if the user leaves it first.
        self.set_timer(0.1, self.gather_facts)

    @work(thread=True, group="facts")
    def gather_facts(self) -> None:
        try:
            self.state.gather_facts()
        except Exception as exc:   # shown on the System page instead of a traceback
            self.state.facts_error = f"{type(exc).__name__}: {exc}"
        self.call_from_thread(self.facts_ready.set)

    @work(group="flow", exclusive=True)
    async def flow(self) -> None:
        index = 0
        asked_interrupted = False
        while True:
            pages = self.pages()
            name = pages[index]
            if name == "system" or (index > 0 and not self.facts_ready.is_set()):
                await self.facts_ready.wait()
                pages = self.pages()
            if name == "review":
                await asyncio.to_thread(self.state.try_make_plan)
            if name == "apply":
                self.applied = True
                self.state.write_replay()
            page = self.page_class(name)
            result = await self.push_screen_wait(
                page(self.state, index + 1, len(pages), first=index == 0))
            if result == BACK:
                index = max(0, index - 1)
                continue
            if name == "done":
                self.exit(self.exit_code())
                return
            index += 1
            if name == "language" and not asked_interrupted:
                asked_interrupted = True
                await self.facts_ready.wait()
                if await self.offer_interrupted():
                    return

    async def offer_interrupted(self) -> bool:
        """Offer resume/rollback of an interrupted run; True if one was handled."""
        if not self.state.interrupted:
            return False
        run_id = self.state.interrupted[-1]
        choice = await self.push_screen_wait(interrupted_dialog(run_id))
        if choice not in ("resume", "rollback"):
            return False
        self.applied = True
        from installer.tui.apply import ApplyPage
        from installer.tui.done import DonePage
        await self.push_screen_wait(ApplyPage(self.state, 1, 2, mode=choice, run_id=run_id))
        await self.push_screen_wait(DonePage(self.state, 2, 2))
        self.exit(self.exit_code())
        return True

    def exit_code(self) -> int:
        state = self.state
        if state.run_error:
            return EXIT_FAILED
        if state.rollback_result is not None and state.result is not None:
            return EXIT_FAILED          # a failed run that was rolled back
        if state.result is not None and state.result.status not in ("ok", "nothing"):
            return EXIT_FAILED
        if state.rollback_result is not None and state.rollback_result.status != "rolled-back":
            return EXIT_FAILED
        return EXIT_OK

    def run_finished(self) -> None:
        """Called by the Apply page when the engine returns."""
        if self.exit_after_run:
            self.exit(self.exit_code())

    # -- language, quitting ------------------------------------------------------------

    async def switch_language(self, lang: str) -> None:
        if lang == "ja" and self.japanese_blocked:
            self.notify(" ".join(self.japanese_blocked), severity="warning")
            return
        i18n.set_language(lang)
        self.state.answers["language"] = lang
        for screen in list(self.screen_stack):
            if screen is not self.screen_stack[0]:
                await screen.recompose()
                if isinstance(screen, Page):
                    screen.revalidate()

    async def action_toggle_language(self) -> None:
        await self.switch_language("en" if i18n.get_language() == "ja" else "ja")

    def action_request_quit(self) -> None:
        if self.run_in_progress:
            self.notify(_("A run is in progress; it cannot be stopped halfway. Wait for it to finish."),
                        severity="warning")
            return
        if any(screen.id == "quit-dialog" for screen in self.screen_stack):
            return

        def answered(choice) -> None:
            if choice == "quit":
                self.exit(self.exit_code() if self.applied else EXIT_OK)

        self.push_screen(quit_dialog(before_apply=not self.applied), answered)


def make_app(target, *, lang: Optional[str] = None, failpoint: Optional[str] = None,
             japanese_blocked: Sequence[str] = ()) -> WizardApp:
    """The wizard for *target* (an ``installer.session.Target``), starting in *lang*."""
    lang = lang or i18n.get_language()
    i18n.set_language(lang)
    state = WizardState(target, lang=lang, failpoint=failpoint)
    return WizardApp(state, japanese_blocked=japanese_blocked)
