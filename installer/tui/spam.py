"""Page 8: spam rules: HELO required, the restriction groups, access map
entries, DNS blocklists (with what they require of the resolver)."""
from __future__ import annotations

from textual import on
from textual.containers import Horizontal
from textual.widgets import Static, Switch

from installer.i18n import N_, _
from installer.tui.base import Page
from installer.tui.model import join_list, split_list

GROUPS = (("spam.client", N_("Client checks")),
          ("spam.helo", N_("HELO checks")),
          ("spam.sender", N_("Sender checks")),
          ("spam.recipient", N_("Recipient checks")))


def access_text(entries) -> str:
    return ", ".join(f"{e.get('key', '')} {e.get('action', '')}".strip() for e in entries or [])


def parse_access(text: str):
    """``spammer.example REJECT, 192.0.2.1 OK`` -> access entries; a key
    without an action stays as typed so validation can name it."""
    entries = []
    for chunk in text.split(","):
        words = chunk.split()
        if not words:
            continue
        entries.append({"key": words[0], "action": " ".join(words[1:])})
    return entries


class SpamPage(Page):
    PAGE = "spam"
    TITLE_MSG = N_("Spam rules")

    def body(self):
        spam = self.state.answers["spam"]
        raw = self.state.raw
        with Horizontal(classes="switch-row"):
            yield Switch(value=bool(spam.get("helo_required")), id="helo-required")
            yield Static(_("Require HELO/EHLO from clients"), classes="switch-label")
        for key, label in GROUPS:
            yield from self.field(key, _(label), raw.get(key, join_list(spam.get(key.split(".")[1]))))
        yield from self.field("spam.access", _("Access map: key action, separated by commas"),
                              raw.get("spam.access", access_text(spam.get("access"))),
                              placeholder="spammer.example REJECT")
        yield from self.field("spam.rbl", _("DNS blocklists (reject_rbl_client)"),
                              raw.get("spam.rbl", join_list(spam.get("rbl"))), placeholder="zen.spamhaus.org")
        yield Static(_("Blocklists answer only a resolver of your own: public DNS resolvers "
                       "(8.8.8.8, 1.1.1.1 …) are refused, and then every message is let through."),
                     classes="warning")

    @on(Switch.Changed, "#helo-required")
    def _helo(self, event: Switch.Changed) -> None:
        self.state.answers["spam"]["helo_required"] = event.value
        self.revalidate()

    def set_answer(self, key: str, text: str) -> None:
        name = key.split(".", 1)[1]
        if key == "spam.access":
            self.state.answers["spam"]["access"] = parse_access(text)
        else:
            self.state.answers["spam"][name] = split_list(text)
