"""Page 2: this system as detected, and any problem stated plainly."""
from __future__ import annotations

from textual.widgets import Static

from installer.i18n import Msg, N_, _
from installer.tui.base import Page


def _version(value) -> str:
    if not value:
        return _("not installed")
    return ".".join(str(part) for part in value) if isinstance(value, (tuple, list)) else str(value)


class SystemPage(Page):
    TITLE_MSG = N_("This system")

    def body(self):
        state = self.state
        facts = state.facts
        profile = state.profile
        if state.sandbox:
            yield Static(_("Sandbox: commands are recorded, not run; files are written under the sandbox root."),
                         classes="notice")
        else:
            yield Static(_("Real host: commands run on this machine as root."), classes="notice")
        for note in state.target_notes():
            yield Static(note, classes="warning")
        rows = [
            (_("Platform"), profile.name + (" (" + _("end of life") + ")" if profile.eol else "")),
            (_("Target root"), state.root_display()),
        ]
        if facts is not None:
            rows += [
                (_("Host name"), getattr(facts, "hostname", "") or "?"),
                (_("Addresses"), ", ".join(getattr(facts, "addresses", []) or []) or "?"),
                (_("Init system"), getattr(facts, "init", "") or "?"),
                (_("Postfix"), _version(getattr(facts, "postfix_version", None))),
                (_("Dovecot"), _version(getattr(facts, "dovecot_version", None))),
                (_("Current MTA"), ", ".join(sorted(getattr(facts, "mta_packages", ()) or ()))
                 or getattr(facts, "mta", None) or _("none")),
                (_("Running as root"), _("yes") if getattr(facts, "is_root", False) else _("no")),
            ]
        for label, value in rows:
            yield Static(Msg(N_("{label}: {value}"), label=label, value=value).render(), classes="fact")
        if facts is None:
            yield Static(state.facts_error or _("Reading the system…"), classes="warning")
        if profile.note:
            yield Static(_(profile.note), classes="warning")

    def can_go_next(self) -> bool:
        return self.state.facts is not None
