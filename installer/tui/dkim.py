"""After Authentication and TLS: mail that the big providers accept: DKIM signing (OpenDKIM) and the
DMARC policy of the printed record.  The records themselves (MX, SPF, DKIM,
DMARC, PTR) are shown on the Done page and by ``mailwiz dns``."""
from __future__ import annotations

from textual import on
from textual.containers import Horizontal
from textual.widgets import RadioButton, RadioSet, Static, Switch

from installer.i18n import Msg, N_, _
from installer.tui.base import Page

POLICIES = (("none", N_("none: only report (start here)")),
            ("quarantine", N_("quarantine: failing mail goes to spam")),
            ("reject", N_("reject: failing mail is refused")))


class DkimPage(Page):
    PAGE = "dkim"
    TITLE_MSG = N_("DKIM and DMARC")

    def body(self):
        answers = self.state.answers
        dkim = answers.setdefault("dkim", {"enabled": False, "selector": None})
        dmarc = answers.setdefault("dmarc", {"policy": "none", "rua": None})
        domain = answers["postfix"].get("domain") or "example.com"
        yield Static(_("Large mailbox providers refuse or hide mail without SPF and DKIM. "
                       "The Done page lists the DNS records to publish."), classes="field-help")
        with Horizontal(classes="switch-row"):
            yield Switch(value=bool(dkim.get("enabled")), id="dkim-enabled")
            yield Static(Msg(N_("Sign outgoing mail from {domain} with DKIM (OpenDKIM)"), domain=domain).render(),
                         classes="switch-label")
        if dkim.get("enabled"):
            yield from self.field("dkim.selector", _("Selector (empty: year and month, e.g. 202612)"),
                                  self.state.raw.get("dkim.selector", dkim.get("selector") or ""),
                                  placeholder="202612")
        yield Static(_("DMARC policy"), classes="section")
        with RadioSet(id="dmarc-policy"):
            for value, label in POLICIES:
                yield RadioButton(_(label), value=dmarc.get("policy", "none") == value, id="policy-" + value)
        yield from self.field("dmarc.rua", _("Address for DMARC reports"),
                              self.state.raw.get("dmarc.rua", dmarc.get("rua") or ""),
                              placeholder="postmaster@" + domain)

    @on(Switch.Changed, "#dkim-enabled")
    async def _enabled(self, event: Switch.Changed) -> None:
        self.state.answers["dkim"]["enabled"] = event.value
        await self.recompose()
        self.revalidate()

    @on(RadioSet.Changed, "#dmarc-policy")
    def _policy(self, event: RadioSet.Changed) -> None:
        self.state.answers["dmarc"]["policy"] = (event.pressed.id or "policy-none").replace("policy-", "", 1)
        self.revalidate()

    def set_answer(self, key: str, text: str) -> None:
        section, name = key.split(".", 1)
        self.state.answers[section][name] = text.strip() or None
