"""Page 7: Dovecot: protocols, listen addresses, mail location."""
from __future__ import annotations

from textual import on
from textual.widgets import Checkbox, Static

from installer.i18n import N_, _
from installer.tui.base import Page
from installer.tui.model import join_list, split_list

PROTOCOLS = (("imap", N_("IMAP: read mail on the server")),
             ("pop3", N_("POP3: download mail")),
             ("lmtp", N_("LMTP: delivery from Postfix to Dovecot")))


class DovecotPage(Page):
    PAGE = "dovecot"
    TITLE_MSG = N_("Dovecot")

    def body(self):
        dovecot = self.state.answers["dovecot"]
        chosen = set(dovecot.get("protocols") or [])
        yield Static(_("Protocols"), classes="section")
        for name, label in PROTOCOLS:
            yield Checkbox(_(label), value=name in chosen, id="proto-" + name, compact=True)
        yield Static("", id="err-protocols", classes="field-error")
        yield from self.field("dovecot.listen", _("Listen on: * (all IPv4), :: (all IPv6), or addresses"),
                              self.state.raw.get("dovecot.listen", join_list(dovecot.get("listen"))))
        yield from self.field("dovecot.mail_location", _("Mail location"),
                              self.state.raw.get("dovecot.mail_location", dovecot.get("mail_location") or ""),
                              help=_("maildir:~/Maildir matches Postfix's home_mailbox Maildir/."))

    @on(Checkbox.Changed)
    def _protocol(self, event: Checkbox.Changed) -> None:
        chosen = [name for name, _label in PROTOCOLS if self.query_one("#proto-" + name, Checkbox).value]
        self.state.answers["dovecot"]["protocols"] = chosen
        self.revalidate()

    def revalidate(self) -> None:
        super().revalidate()
        texts = [text for path, text in self.state.errors_under(("dovecot.protocols",), self.last_errors)]
        for box in self.query("#err-protocols"):
            box.update("\n".join(texts))
            box.display = bool(texts)

    def set_answer(self, key: str, text: str) -> None:
        if key == "dovecot.listen":
            self.state.answers["dovecot"]["listen"] = split_list(text)
        else:
            self.state.answers["dovecot"]["mail_location"] = text.strip()
