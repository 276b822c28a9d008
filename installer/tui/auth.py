"""Page 6: SMTP AUTH, submission, the certificate, and an optional relay host.

The relay password is typed masked, kept in memory only, and handed to the
engine as a secret; the answers say ``password_env`` instead."""
from __future__ import annotations

from textual import on
from textual.containers import Horizontal
from textual.widgets import RadioButton, RadioSet, Static, Switch

from installer.i18n import N_, _
from installer.tui.base import Page

CERT_CHOICES = (("self-signed", N_("Make a self-signed certificate")),
                ("existing", N_("Use certificate files already on the host")),
                ("acme", N_("Get one from Let's Encrypt (ACME, port 80 for the challenge)")),
                ("none", N_("No TLS (not recommended)")))


class AuthPage(Page):
    PAGE = "auth"
    TITLE_MSG = N_("Authentication and TLS")

    def _text(self, key: str, value) -> str:
        return self.state.raw.get(key, "" if value is None else str(value))

    def body(self):
        auth = self.state.answers["auth"]
        with Horizontal(classes="switch-row"):
            yield Switch(value=bool(auth.get("sasl")), id="sasl")
            yield Static(_("SMTP AUTH: users log in to send mail (Dovecot SASL)"), classes="switch-label")
        with Horizontal(classes="switch-row"):
            yield Switch(value=bool(auth.get("submission")), id="submission")
            yield Static(_("Submission port 587 (STARTTLS and login required)"), classes="switch-label")
        tls = auth.get("tls") or {}
        certificate = tls.get("certificate", "self-signed")
        yield Static(_("Certificate"), classes="section")
        with RadioSet(id="certificate"):
            for value, label in CERT_CHOICES:
                yield RadioButton(_(label), value=certificate == value, id="cert-" + value)
        if certificate == "existing":
            yield from self.field("auth.tls.cert_file", _("Certificate file"),
                                  self._text("auth.tls.cert_file", tls.get("cert_file")))
            yield from self.field("auth.tls.key_file", _("Private key file"),
                                  self._text("auth.tls.key_file", tls.get("key_file")))
        if certificate == "acme":
            acme = tls.get("acme") or {}
            yield from self.field("auth.tls.acme.email", _("Address for the ACME account (expiry notices)"),
                                  self._text("auth.tls.acme.email", acme.get("email")),
                                  placeholder="postmaster@" + (self.state.answers["postfix"].get("domain") or ""))
            yield from self.field("auth.tls.acme.directory", _("ACME directory (empty: Let's Encrypt)"),
                                  self._text("auth.tls.acme.directory", acme.get("directory")))
        relay = self.state.answers.get("relayhost")
        with Horizontal(classes="switch-row"):
            yield Switch(value=relay is not None, id="use-relay")
            yield Static(_("Send outgoing mail through a relay host (smarthost)"), classes="switch-label")
        if relay is not None:
            yield from self.field("relayhost.host", _("Relay host, e.g. [smtp.example.net]:587"),
                                  self._text("relayhost.host", relay.get("host")))
            yield from self.field("relayhost.username", _("User name at the relay host (optional)"),
                                  self._text("relayhost.username", relay.get("username")))
            yield from self.field("relayhost.password", _("Password (kept in memory only, never saved)"),
                                  self.state.relay_password, password=True)

    @on(Switch.Changed)
    async def _switched(self, event: Switch.Changed) -> None:
        if event.switch.id == "use-relay":
            if event.value:
                self.state.answers["relayhost"] = {"host": "", "username": None}
            else:
                self.state.answers["relayhost"] = None
                self.state.relay_password = ""
            await self.recompose()
        else:
            self.state.answers["auth"][event.switch.id] = event.value
        self.revalidate()

    @on(RadioSet.Changed, "#certificate")
    async def _certificate(self, event: RadioSet.Changed) -> None:
        tls = self.state.answers["auth"].setdefault("tls", {})
        tls["certificate"] = (event.pressed.id or "cert-self-signed").replace("cert-", "", 1)
        if tls["certificate"] != "existing":
            tls["cert_file"] = tls["key_file"] = None
        await self.recompose()
        self.revalidate()

    def set_answer(self, key: str, text: str) -> None:
        value = text.strip() or None
        if key == "relayhost.password":
            self.state.raw.pop(key, None)   # a secret is never kept as typed text
            self.state.relay_password = text
        elif key.startswith("relayhost."):
            self.state.answers["relayhost"][key.split(".", 1)[1]] = value if key != "relayhost.host" else text.strip()
        elif key.startswith("auth.tls.acme."):
            self.state.answers["auth"]["tls"].setdefault("acme", {})[key.rsplit(".", 1)[1]] = value
        else:
            self.state.answers["auth"]["tls"][key.rsplit(".", 1)[1]] = value
