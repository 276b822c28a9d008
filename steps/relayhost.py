"""Outgoing mail through a relay host (smarthost), logging in to it when asked.

What the original notes got wrong, and what this step does instead:

- The notes put ``smtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd``
  and ``smtp_sasl_mechanism_filter = plain`` among the settings for users'
  SMTP AUTH.  They are client settings: Postfix logging in to an upstream
  relay, and they act only with ``smtp_sasl_auth_enable = yes``.  Here they
  are written only for a relay host with a user name:
  ``smtp_sasl_auth_enable = yes``, ``smtp_sasl_password_maps =
  <map type>:/etc/postfix/sasl_passwd``, ``smtp_sasl_security_options =
  noanonymous``, ``smtp_sasl_tls_security_options = noanonymous``; no
  mechanism filter (the relay and the SASL library agree on one).
- The notes never create ``sasl_passwd``.  Here it is written with mode 0600
  (content secret: never shown, journaled or diffed), then ``postmap``'d
  (``hash:``, or ``lmdb:`` on RHEL 10; postmap gives the map file the
  source's 0600).  The password comes only from ``inp.secrets["relay_password"]``
  (the CLI reads it from ``relayhost.password_env``, the wizard asks), never
  from the answers.  RHEL needs ``cyrus-sasl-plain`` for PLAIN/LOGIN: the
  packages step installs it.

The TLS level towards the relay (``smtp_tls_security_level = encrypt`` when
we log in, so the password never crosses the network in clear) is set by the
tls step, which owns that parameter.  A relay on port 465 speaks TLS from the
first byte: ``smtp_tls_wrappermode = yes`` (Postfix 3.0 and later; answer
validation should refuse port 465 for older releases).

Without ``relayhost`` nothing is written or removed: mailwiz manages only what
it sets, and an admin's own relay settings stay.
"""
from __future__ import annotations

import re
from typing import List

from installer.actions import PostconfSet, RunCommand, WriteFile
from installer.i18n import Msg, N_, _
from installer.needs import Needs
from steps.postfix import MAIN_CF, map_file, map_type_of, version_of

NAME = "relayhost"
TITLE = N_("Relay host")

SASL_PASSWD = "/etc/postfix/sasl_passwd"


class MissingSecret(ValueError):
    """The relay host needs a password and none was given to the step."""


def needs(profile, answers=None, facts=None) -> Needs:
    """Client-side SASL (PLAIN/LOGIN) for a relay host login: Debian's
    ``libsasl2-modules`` is only a Recommends, RHEL needs ``cyrus-sasl-plain``."""
    relay = answers.get("relayhost") if answers is not None else {"username": "any"}
    if relay and relay.get("username"):
        return Needs(packages=list(profile.relay_sasl_packages))
    return Needs()


def port_of(host: str) -> str:
    """The port in ``[host]:port`` or ``host:port``, or ""."""
    match = re.search(r":(\d+)\Z", host)
    return match.group(1) if match and not host.endswith("]") else ""


def plan(inp) -> List[object]:
    relay = inp.answers.get("relayhost")
    if not relay:
        return []
    host = relay["host"]
    params = {"relayhost": host}
    if port_of(host) == "465" and version_of(inp) >= (3, 0):
        params["smtp_tls_wrappermode"] = "yes"
    actions: List[object] = []
    username = relay.get("username")
    if username:
        password = inp.secrets.get("relay_password")
        if not password:
            raise MissingSecret(_("The relay host password was not given."))
        if any(c in password for c in "\r\n\0"):
            raise MissingSecret(_("The relay host password must be a single line."))
        map_type = map_type_of(inp)
        params.update({
            "smtp_sasl_auth_enable": "yes",
            "smtp_sasl_password_maps": "{}:{}".format(map_type, SASL_PASSWD),
            "smtp_sasl_security_options": "noanonymous",
            "smtp_sasl_tls_security_options": "noanonymous",
        })
        actions.append(WriteFile(path=SASL_PASSWD, content="{} {}:{}\n".format(host, username, password),
                                 mode=0o600, owner="root", group="root", secret=True))
        actions.append(RunCommand(argv=["postmap", "{}:{}".format(map_type, SASL_PASSWD)],
                                  changes=[map_file(SASL_PASSWD, map_type)], watch=[SASL_PASSWD],
                                  run_if="changed",
                                  description=Msg(N_("Build the lookup table from {path}"),
                                                  path=SASL_PASSWD).to_json()))
    return [PostconfSet(path=MAIN_CF, params=params)] + actions
