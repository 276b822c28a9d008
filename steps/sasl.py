"""SMTP AUTH for users (through Dovecot SASL), relay control, the submission port.

What the original notes got wrong, and what this step does instead:

- ``smtp_sasl_password_maps`` and ``smtp_sasl_mechanism_filter`` are *client*
  settings (Postfix logging in to an upstream relay).  They do nothing for
  users' SMTP AUTH: they are left out here and written by the relayhost step,
  and only for a relay host.
- ``smtpd_sasl_local_domain = $myhostname`` is a realm the Dovecot SASL
  plugin never sends: left out.
- The notes enable AUTH on a plain-text session.  Here ``smtpd_tls_auth_only
  = yes``: AUTH is offered only after STARTTLS.
- Relay control: the notes' ``check_*_access`` (with OK results) ahead of
  ``reject_unauth_destination`` in ``smtpd_recipient_restrictions`` makes an
  open relay before Postfix 2.10.  From 2.10 this step writes the relay rules
  in ``smtpd_relay_restrictions`` (always, with or without SASL:
  ``permit_mynetworks, [permit_sasl_authenticated,] reject_unauth_destination``;
  ``reject``, not ``defer``: a relay attempt is refused for good).  Before 2.10
  (CentOS 6, Postfix 2.6) the same rules must be the *head* of
  ``smtpd_recipient_restrictions``; that parameter has one owner, the spam
  step, which takes them from :func:`relay_rules`.  This step never writes
  ``smtpd_recipient_restrictions``.

main.cf with ``auth.sasl``: ``smtpd_sasl_type = dovecot``, ``smtpd_sasl_path =
private/auth`` (relative to the queue directory, so it works chrooted; the
dovecot step makes the socket), ``smtpd_sasl_auth_enable = yes``,
``smtpd_tls_auth_only = yes``; no ``broken_sasl_auth_clients`` (for Outlook
Express era clients only).  Without ``auth.sasl`` nothing SASL-related is
written (an earlier setting stays: mailwiz manages only what it sets).

master.cf with ``auth.submission``: the ``submission`` service on port 587,
STARTTLS and AUTH required, only authenticated clients may send.  Its ``-o``
options are only those the installed release knows
(``smtpd_relay_restrictions=`` from 2.10); no ``$mua_*_restrictions`` macros,
which exist only where a main.cf defines them.  chroot as the distribution's
own smtp service (Debian ``y``, RHEL ``n``).  Without ``auth.submission`` an
existing submission entry is left as it is.  Answer validation must refuse
``submission`` without ``sasl`` (the port could then never accept anything).
"""
from __future__ import annotations

from typing import Dict, List, Optional

from installer.actions import MasterService, PostconfSet
from installer.i18n import N_
from steps.postfix import MAIN_CF, MASTER_CF, as_version, version_of

NAME = "sasl"
TITLE = N_("SMTP authentication and relay control")

RELAY_RESTRICTIONS_SINCE = (2, 10)


def has_relay_restrictions(profile_or_version) -> bool:
    """smtpd_relay_restrictions exists (Postfix 2.10 and later)."""
    return as_version(profile_or_version) >= RELAY_RESTRICTIONS_SINCE


def relay_rules(profile_or_version, answers: dict) -> List[str]:
    """Who may relay: trusted networks, authenticated users (with SASL), nobody else.

    The same list on every release; from 2.10 it is ``smtpd_relay_restrictions``
    (written here), before it is the head of ``smtpd_recipient_restrictions``
    (written by the spam step).
    """
    rules = ["permit_mynetworks"]
    if answers["auth"]["sasl"]:
        rules.append("permit_sasl_authenticated")
    rules.append("reject_unauth_destination")
    return rules


def main_params(version, answers: dict) -> Dict[str, Optional[str]]:
    params: Dict[str, Optional[str]] = {}
    if answers["auth"]["sasl"]:
        params.update({
            "smtpd_sasl_type": "dovecot",
            "smtpd_sasl_path": "private/auth",
            "smtpd_sasl_auth_enable": "yes",
            "smtpd_tls_auth_only": "yes",
        })
    if has_relay_restrictions(version):
        params["smtpd_relay_restrictions"] = ", ".join(relay_rules(version, answers))
    return params


def submission_service(version, chroot: bool) -> dict:
    """The master.cf submission entry (confedit.MasterService fields)."""
    options = [
        ("syslog_name", "postfix/submission"),
        ("smtpd_tls_security_level", "encrypt"),
        ("smtpd_sasl_auth_enable", "yes"),
        ("smtpd_tls_auth_only", "yes"),
    ]
    if has_relay_restrictions(version):
        # Empty: relay control for 587 is the recipient rule below.
        options.append(("smtpd_relay_restrictions", ""))
    options += [
        ("smtpd_recipient_restrictions", "permit_sasl_authenticated,reject"),
        ("milter_macro_daemon_name", "ORIGINATING"),
    ]
    return {
        "name": "submission", "type": "inet", "private": "n", "unpriv": "-",
        "chroot": "y" if chroot else "n", "wakeup": "-", "maxproc": "-", "command": "smtpd",
        "options": [list(option) for option in options], "args": [],
    }


def plan(inp) -> List[object]:
    version = version_of(inp)
    actions: List[object] = []
    params = main_params(version, inp.answers)
    if params:
        actions.append(PostconfSet(path=MAIN_CF, params=params))
    if inp.answers["auth"]["submission"]:
        actions.append(MasterService(path=MASTER_CF,
                                     service=submission_service(version, inp.profile.postfix_chroot)))
    return actions
