"""Page 9: where root's mail goes."""
from __future__ import annotations

from installer.i18n import N_, _
from installer.tui.base import Page


class AliasesPage(Page):
    PAGE = "aliases"
    TITLE_MSG = N_("Aliases")

    def body(self):
        value = self.state.answers["aliases"].get("root")
        yield from self.field("aliases.root", _("Forward root's mail to (an address or a local user)"),
                              self.state.raw.get("aliases.root", value or ""),
                              help=_("Leave empty to keep /etc/aliases as it is for root."),
                              placeholder="admin@example.com")

    def set_answer(self, key: str, text: str) -> None:
        self.state.answers["aliases"]["root"] = text.strip() or None
