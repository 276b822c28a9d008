"""Page 3: update first or not; what will be installed."""
from __future__ import annotations

from textual import on
from textual.widgets import Static, Switch
from textual.containers import Horizontal

from installer.i18n import N_, _
from installer.tui.base import Page


class PackagesPage(Page):
    PAGE = "packages"
    TITLE_MSG = N_("Packages")

    def body(self):
        system = self.state.answers["system"]
        with Horizontal(classes="switch-row"):
            yield Switch(value=bool(system.get("update")), id="update")
            yield Static(_("Update every installed package first (recommended)"), classes="switch-label")
        yield Static(_("A full update can take a long time and may restart services."), classes="field-help")
        yield Static(_("These packages will be installed:"), classes="section")
        for name, installed in self.state.packages_to_install():
            text = name + ("  (" + _("already installed") + ")" if installed else "")
            yield Static("  • " + text)
        with Horizontal(classes="switch-row"):
            yield Switch(value=bool(system.get("firewall")), id="firewall")
            yield Static(_("Open the mail ports in the active firewall"), classes="switch-label")
        if self.state.profile.selinux:
            yield Static(_("SELinux stays as it is; file labels are fixed where needed."), classes="field-help")

    @on(Switch.Changed)
    def _switched(self, event: Switch.Changed) -> None:
        self.state.answers["system"][event.switch.id] = event.value
        self.revalidate()
