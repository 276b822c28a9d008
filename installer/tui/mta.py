"""Page 4 (only where another MTA is installed): remove it, or keep it and
make Postfix the system MTA with alternatives."""
from __future__ import annotations

from textual import on
from textual.widgets import RadioButton, RadioSet, Static

from installer.i18n import Msg, N_, _
from installer.tui.base import Page


class MtaPage(Page):
    PAGE = "mta"
    TITLE_MSG = N_("Existing mail server")

    def body(self):
        found = ", ".join(sorted(getattr(self.state.facts, "mta_packages", ()) or ()))
        yield Static(Msg(N_("Another mail server is installed: {packages}."), packages=found).render())
        choice = self.state.answers["system"].get("existing_mta", "remove")
        can_switch = self.state.profile.mta_switch == "alternatives"
        with RadioSet(id="existing-mta"):
            yield RadioButton(_("Remove it (recommended)"), value=choice == "remove", id="mta-remove")
            yield RadioButton(_("Keep it and switch to Postfix"), value=choice == "alternatives",
                              id="mta-alternatives", disabled=not can_switch)
        yield Static(_("Remove: it is uninstalled and Postfix becomes the only mail server."),
                     classes="field-help")
        if can_switch:
            yield Static(_("Keep: it stays installed, and alternatives makes Postfix the system MTA."),
                         classes="field-help")
        else:
            yield Static(_("Keeping it is not possible on this platform: Postfix replaces it."),
                         classes="field-help")

    @on(RadioSet.Changed, "#existing-mta")
    def _chosen(self, event: RadioSet.Changed) -> None:
        self.state.answers["system"]["existing_mta"] = (
            "alternatives" if event.pressed.id == "mta-alternatives" else "remove")
        self.revalidate()
