"""Page 5: who the server is: host name, domain, origin, destinations,
interfaces, trusted networks, message size.  Each field is checked as it is
typed, with the answer file's own validation."""
from __future__ import annotations

from textual.widgets import Input

from installer.i18n import N_, _
from installer.tui.base import Page
from installer.tui.model import derive_domain, join_list, split_list

LIST_KEYS = ("postfix.destinations", "postfix.networks")


class IdentityPage(Page):
    PAGE = "identity"
    TITLE_MSG = N_("Identity")

    def text(self, key: str) -> str:
        if key in self.state.raw:
            return self.state.raw[key]
        value = self.state.answers["postfix"].get(key.split(".", 1)[1])
        if isinstance(value, list):
            return join_list(value)
        return "" if value is None else str(value)

    def body(self):
        yield from self.field("postfix.hostname", _("Host name (fully qualified)"), self.text("postfix.hostname"),
                              help=_("Suggested from this host's name."))
        yield from self.field("postfix.domain", _("Mail domain"), self.text("postfix.domain"),
                              help=_("Derived from the host name; change it if mail is for another domain."))
        yield from self.field("postfix.origin", _("Origin of local mail (myorigin)"), self.text("postfix.origin"))
        yield from self.field("postfix.destinations", _("Destinations: mail for these is delivered here"),
                              self.text("postfix.destinations"))
        yield from self.field("postfix.inet_interfaces", _("Interfaces: all, loopback-only, or addresses"),
                              self.text("postfix.inet_interfaces"))
        yield from self.field("postfix.networks", _("Trusted networks (CIDR), separated by commas"),
                              self.text("postfix.networks"),
                              help=_("Suggested from this host's interfaces. Hosts here may relay mail."))
        yield from self.field("postfix.message_size_limit_mb", _("Largest message, in MiB"),
                              self.text("postfix.message_size_limit_mb"))

    def set_answer(self, key: str, text: str) -> None:
        postfix = self.state.answers["postfix"]
        name = key.split(".", 1)[1]
        if key in LIST_KEYS:
            postfix[name] = split_list(text)
        elif key == "postfix.inet_interfaces":
            items = split_list(text)
            if len(items) == 1 and items[0] in ("all", "loopback-only"):
                postfix[name] = items[0]
            else:
                postfix[name] = items or ""
        elif key == "postfix.message_size_limit_mb":
            try:
                postfix[name] = int(text.strip())
            except ValueError:
                pass   # raw_errors() marks the field
        else:
            if key == "postfix.domain" and text.strip() != postfix.get("domain"):
                self.state.domain_typed = True
            postfix[name] = text.strip()
        if key == "postfix.hostname" and not self.state.domain_typed and derive_domain(text.strip()):
            # Follow the host name until the domain is typed by hand.
            postfix["domain"] = derive_domain(text.strip())
            self.state.raw.pop("postfix.domain", None)
            for box in self.query("#f-postfix-domain"):
                with box.prevent(Input.Changed):
                    box.value = postfix["domain"]
