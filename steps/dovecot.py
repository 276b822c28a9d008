"""Dovecot: IMAP/POP3 for the users, and the SASL socket Postfix asks for AUTH.

What the original notes did, and what we do instead (shared/notes/mail-facts.md):

- They edited ``/etc/dovecot.conf``, the Dovecot 1.x file.  Every platform we
  know has Dovecot 2.x with ``/etc/dovecot/dovecot.conf``; where that file
  includes ``conf.d/*.conf`` (Debian/Ubuntu, RHEL and CentOS, Fedora 42) we
  write ONE drop-in, ``conf.d/99-mailwiz.conf``, which sorts last and so wins
  over the stock ``10-*.conf`` files without touching them.  Fedora 43's 2.4
  package ships ``dovecot.conf`` alone: there its top-level settings are edited
  in place (``DovecotSet``, which keeps ``dovecot_config_version`` and
  ``dovecot_storage_version`` first) and the ``service auth`` section goes in
  a marked ``# BEGIN mailwiz`` block (``BlockInFile``).
- ``protocols = imap pop3 lmtp`` whatever is installed: on Debian a protocol
  whose ``dovecot-<proto>d`` package is missing stops Dovecot.  We write the
  chosen protocols only; the packages step installs the package of each of
  them, so on Debian the list is exactly what is installed (and it also turns
  off a protocol whose package happens to be installed but was not chosen,
  which the ``protocols.d`` mechanism alone would enable).
- No TLS and no auth socket.  We set ``ssl = yes`` with the certificate of the
  TLS step (``steps.tls.cert_paths``), forbid cleartext logins outside TLS
  (``disable_plaintext_auth = yes``; 2.4: ``auth_allow_cleartext = no``) and
  offer ``auth_mechanisms = plain login`` (LOGIN for old Outlook clients).
  Dovecot 2.0-2.3 read the file of every ``ssl_cert = </file`` line while
  parsing, even one a later file overrides, and the stock ``10-ssl.conf``
  names a certificate that may not exist (Debian's package did not make one
  on our machines; RHEL's is made by a systemd unit): so ``10-ssl.conf`` is
  pointed at the same files as the drop-in (the one stock file we edit).
  ``ssl = yes`` rather than ``required``: with only cleartext mechanisms the
  two behave the same, and ``yes`` exists in every 2.x (``required`` is newer;
  the release that added it is unverified, 2.1 or 2.2).  With ``certificate:
  none`` SSL is off (``ssl = no``) and logins work only from the host itself.
- With ``auth.sasl`` the ``service auth`` section gets the
  ``/var/spool/postfix/private/auth`` listener (0660, postfix:postfix) that
  ``smtpd_sasl_path = private/auth`` points at (relative, so it works for the
  chrooted smtpd of Debian).

Dovecot 2.3 and 2.4 (the version is ``facts.dovecot_effective``):

====================  =====================================================
2.3 (and 2.0-2.2)     2.4
====================  =====================================================
mail_location = X     mail_driver + mail_path (``maildir:~/Maildir`` ->
                      ``maildir`` + ``~/Maildir``); the stock ``mail_home`` is
                      emptied (the passwd home, where Postfix's
                      ``home_mailbox`` delivers) and ``mail_inbox_path`` is
                      the Maildir itself (seen on Debian 13, 2.4.1: left
                      empty, INBOX was ``~/Maildir/.INBOX`` and stayed empty)
ssl_cert = </path     ssl_server_cert_file = /path (and ``_key_``)
disable_plaintext_    auth_allow_cleartext = no
auth = yes
====================  =====================================================

CentOS 6 (Dovecot 2.0): the 2.3 names all exist there (``ssl``, ``ssl_cert =
<``, ``disable_plaintext_auth``, ``mail_location``, ``listen``, ``protocols``
with lmtp, ``unix_listener`` with mode/user/group).  We never write ``ssl_dh``
(2.3 only) nor ``ssl_min_protocol`` (2.3; 2.0-2.2 had ``ssl_protocols``).
The 2.4 ``service auth { unix_listener /path { ... } }`` form is the one the
2.4 Postfix SASL how-to shows; it is unverified against a real 2.4 doveconf
here (only 2.3 is installed on our test machines).
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple

from installer.actions import Action, BlockInFile, DovecotSet, WriteFile
from installer.i18n import N_
from installer.needs import Daemon, Needs, direct

NAME = "dovecot"
TITLE = N_("Configure Dovecot (IMAP/POP3 and SMTP AUTH)")

CONFIG = "/etc/dovecot/dovecot.conf"
DROPIN = "/etc/dovecot/conf.d/99-mailwiz.conf"
STOCK_SSL = "/etc/dovecot/conf.d/10-ssl.conf"
AUTH_SOCKET = "/var/spool/postfix/private/auth"
PROTOCOL_ORDER = ("imap", "pop3", "lmtp")

_HEADER = ("# Written by mailwiz.  It sorts last in conf.d, so these settings win over the\n"
           "# stock files; a later mailwiz run rewrites this file.\n")

# A value goes into a line of its own: nothing that could end the line, open
# or close a section, start a comment or read a file ("<").
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9_.:/~%*,{}| \[\]-]*$")

# Dovecot 2.3 %-variables in a mail path and their 2.4 %{...} forms.
_VARIABLES_24 = {"%u": "%{user}", "%n": "%{user | username}", "%d": "%{user | domain}",
                 "%h": "%{home}", "%%": "%%"}


def is_24(inp) -> bool:
    return tuple(inp.facts.dovecot_effective) >= (2, 4)


def protocols(inp) -> List[str]:
    """The chosen protocols in a stable order (see the module docstring)."""
    chosen = inp.answers["dovecot"]["protocols"]
    return [proto for proto in PROTOCOL_ORDER if proto in chosen]


def _check(name: str, value: str) -> str:
    if not _SAFE_VALUE.match(value) or value.count("{") != value.count("}"):
        raise ValueError("unsafe value for Dovecot setting {}: {!r}".format(name, value))
    return value


def mail_settings(mail_location: str, dovecot24: bool) -> Dict[str, str]:
    """``mail_location`` for 2.3, or its 2.4 settings."""
    if not dovecot24:
        return {"mail_location": mail_location}
    driver, sep, path = mail_location.partition(":")
    if not sep or ":" in path:
        raise ValueError("mail_location needs the form driver:path, got {!r}".format(mail_location))
    for percent in re.findall(r"%.", path):
        if percent not in _VARIABLES_24:
            raise ValueError("no Dovecot 2.4 form for {} in {!r}".format(percent, mail_location))
    path = re.sub(r"%.", lambda m: _VARIABLES_24[m.group(0)], path)
    # The stock mail_inbox_path (Debian: /var/mail/%{user}) is replaced, not just
    # emptied: an empty one also hides the maildir driver's own default (".",
    # the Maildir root), and INBOX then becomes ~/Maildir/.INBOX, a folder
    # Postfix never delivers to.  Maildir's INBOX is its root, as in 2.3; the
    # other drivers keep INBOX inside their own tree (empty: their default).
    inbox = path if driver == "maildir" else ""
    return {"mail_driver": driver, "mail_path": path, "mail_home": "", "mail_inbox_path": inbox}


def ssl_settings(certificate: Optional[Tuple[str, str]], dovecot24: bool) -> Dict[str, str]:
    if certificate is None:
        return {"ssl": "no"}
    cert, key = certificate
    if dovecot24:
        return {"ssl": "yes", "ssl_server_cert_file": cert, "ssl_server_key_file": key}
    return {"ssl": "yes", "ssl_cert": "<" + cert, "ssl_key": "<" + key}


def certificate(inp) -> Optional[Tuple[str, str]]:
    """(certificate, key) paths from the TLS step, or None without TLS."""
    from steps import tls
    paths = tls.cert_paths(inp.profile, inp.answers)
    if not paths or not all(paths):
        return None
    return paths[0], paths[1]


def settings(inp) -> Dict[str, str]:
    """Every top-level setting we own, in the order they are written."""
    dovecot24 = is_24(inp)
    values: Dict[str, str] = {
        "protocols": " ".join(protocols(inp)),
        "listen": ", ".join(inp.answers["dovecot"]["listen"]),
    }
    values.update(mail_settings(inp.answers["dovecot"]["mail_location"], dovecot24))
    values.update(ssl_settings(certificate(inp), dovecot24))
    if dovecot24:
        values["auth_allow_cleartext"] = "no"
    else:
        values["disable_plaintext_auth"] = "yes"
    values["auth_mechanisms"] = "plain login"
    for name, value in values.items():
        _check(name, value[1:] if name in ("ssl_cert", "ssl_key") else value)
    return values


def auth_service_block() -> str:
    """The Postfix SASL listener, merged by Dovecot into the stock ``service auth``."""
    return ("service auth {\n"
            "  unix_listener " + AUTH_SOCKET + " {\n"
            "    mode = 0660\n"
            "    user = postfix\n"
            "    group = postfix\n"
            "  }\n"
            "}\n")


def dropin_text(inp) -> str:
    lines = [_HEADER]
    lines += ["{} = {}\n".format(name, value).replace(" \n", "\n") for name, value in settings(inp).items()]
    if inp.answers["auth"]["sasl"]:
        lines += ["\n", "# Postfix asks here for SMTP AUTH (smtpd_sasl_path = private/auth).\n",
                  auth_service_block()]
    return "".join(lines)


def needs(profile, answers=None) -> Needs:
    """The dovecot service, restarted when its configuration or the certificate changed."""
    daemon = Daemon("dovecot", packages=(profile.dovecot_package,),
                    direct=direct(start=["dovecot"], stop=["doveadm", "stop"], restart=["doveadm", "reload"],
                                  status=["doveadm", "service", "status"]),
                    watch=("/etc/dovecot/",), uses_certificate=True)
    return Needs(services=[daemon])


def plan(inp) -> List[Action]:
    if inp.profile.dovecot_layout == "single":
        block = auth_service_block() if inp.answers["auth"]["sasl"] else None
        return [DovecotSet(path=CONFIG, settings=settings(inp)),
                BlockInFile(path=CONFIG, block=block, marker="mailwiz")]
    # Dovecot reads the file of every "ssl_cert = </file" line while it parses,
    # even a line that a later file overrides: a stock line naming a missing
    # certificate stops it (Debian's package makes none when it cannot).  So the
    # stock SSL file names our files too (or, without TLS, none).
    names = ("ssl_server_cert_file", "ssl_server_key_file") if is_24(inp) else ("ssl_cert", "ssl_key")
    ours = settings(inp)
    return [WriteFile(path=DROPIN, content=dropin_text(inp), mode=0o644, owner="root", group="root"),
            DovecotSet(path=STOCK_SSL, settings={name: ours.get(name) for name in names})]
