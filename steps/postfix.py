"""Postfix basics: names, interfaces, destinations, trusted networks, sizes.

What the original notes (``shared/seed/000_d8488ca3be7fb493.txt``) got wrong,
and what this step does instead (``shared/notes/mail-facts.md``):

- The notes leave ``mynetworks`` out in places and trust a whole /24 in
  others.  Before Postfix 3.0 the default trusts the whole local subnet, so
  ``mynetworks`` is *always* written, from the validated answers (IPv6
  networks get the brackets Postfix wants: ``[2001:db8::]/48``).
- The notes set ``message_size_limit`` alone.  local(8) stops with a fatal
  error when ``mailbox_size_limit`` (default 51200000) is smaller, so
  ``mailbox_size_limit = max(51200000, message_size_limit)`` is always
  written with it.  A step cannot read main.cf, so an admin's larger value is
  replaced by this one; Debian ships ``mailbox_size_limit = 0`` (no limit),
  which this also replaces.  With Maildir (the default ``home_mailbox``) the
  limit only caps a single message file, which ``message_size_limit`` already
  caps lower; with an mbox file it caps the mailbox at Postfix's own default.
- ``smtpd_banner = $myhostname ESMTP unknown`` hid the software name, which is
  good; the answers' banner (validated to start with ``$myhostname``) is used.
- ``relay_domains =`` empty is right (relay for nobody outside mynetworks and
  authenticated users); empty answers write the empty value explicitly, since
  before Postfix 3.0 the default is ``$mydestination``.

Debian: its ``main.cf`` says ``myorigin = /etc/mailname``.  We set
``myorigin`` explicitly, and also write ``/etc/mailname`` with the same
domain (``$mydomain``/``$myhostname`` expanded) because other Debian programs
(mail clients, cron, debconf's own postfix scripts on upgrade) read it to
qualify addresses: one answer, one mail domain on the host.  When the origin
cannot be expanded without Postfix (another ``$name``), /etc/mailname is left
as it is.

Every edit goes through ``PostconfSet`` (``postconf -e`` semantics): comments
and the admin's other settings stay.  ``inet_interfaces`` changes need a stop
and start of Postfix, not a reload (the services step's business).

This module also holds small helpers shared by the other Postfix steps
(``tls``, ``sasl``, ``relayhost``, ``spam``, ``aliases``).
"""
from __future__ import annotations

import ipaddress
import re
from typing import Dict, Iterable, List, Optional, Tuple

from installer.actions import PostconfSet, WriteFile
from installer.i18n import N_
from installer.needs import Daemon, Needs, direct

NAME = "postfix"
TITLE = N_("Postfix basic settings")

MAIN_CF = "/etc/postfix/main.cf"
MASTER_CF = "/etc/postfix/master.cf"
MAILNAME = "/etc/mailname"

MIB = 1048576
MAILBOX_SIZE_LIMIT_DEFAULT = 51200000   # postconf -d mailbox_size_limit

Version = Tuple[int, ...]


# --- helpers shared by the Postfix steps ---------------------------------------------

def version_of(inp) -> Version:
    """The Postfix release the config is for: installed, else the profile's.

    (``facts.postfix_effective`` means the same, but needs ``facts.profile``.)
    """
    found = getattr(inp.facts, "postfix_version", None) or inp.profile.postfix_version
    return tuple(found)


def as_version(profile_or_version) -> Version:
    """A version tuple from a Profile, a StepInput, a tuple or "2.10"."""
    if isinstance(profile_or_version, str):
        return tuple(int(part) for part in profile_or_version.split("."))
    if isinstance(profile_or_version, (tuple, list)):
        return tuple(profile_or_version)
    if hasattr(profile_or_version, "facts") and hasattr(profile_or_version, "profile"):
        return version_of(profile_or_version)
    return tuple(profile_or_version.postfix_version)


def map_type_of(inp) -> str:
    """hash, or lmdb where Postfix is built without Berkeley DB (RHEL 10)."""
    return getattr(inp.facts, "map_type", None) or inp.profile.map_type


def map_file(path: str, map_type: str) -> str:
    """The file postmap/postalias makes for *path*: path.db or path.lmdb."""
    return "{}.{}".format(path, "lmdb" if map_type == "lmdb" else "db")


def postfix_network(network: str) -> str:
    """Postfix's form of a CIDR network: IPv6 inside brackets (``[::1]/128``)."""
    if network.startswith("["):
        return network
    address, slash, length = network.partition("/")
    if ":" in address:
        return "[{}]{}{}".format(address, slash, length)
    return network


def join(values: Iterable[str]) -> str:
    return ", ".join(values)


_ORIGIN_NAME = re.compile(r"\$(?:\{(\w+)\}|\((\w+)\)|(\w+))")


def expand_origin(origin: str, hostname: str, domain: str) -> Optional[str]:
    """*origin* with $myhostname/$mydomain expanded; None when another $name is left."""
    known = {"myhostname": hostname, "mydomain": domain}
    unknown = []

    def repl(match):
        name = match.group(1) or match.group(2) or match.group(3)
        if name not in known:
            unknown.append(name)
            return match.group(0)
        return known[name]

    text = _ORIGIN_NAME.sub(repl, origin)
    return None if unknown or "$" in text else text


# --- the step ------------------------------------------------------------------

def needs(profile, answers=None) -> Needs:
    """The postfix service: started after Dovecot (it hands mail to Dovecot's
    LMTP socket and asks its auth socket); a restart is a stop and start
    (``inet_interfaces`` changes need it); restarted when anything of it, or
    the certificate it shares with Dovecot, changed."""
    daemon = Daemon("postfix", packages=(profile.postfix_package,),
                    direct=direct(start=["postfix", "start"], stop=["postfix", "stop"],
                                  restart=["postfix", "reload"], status=["postfix", "status"]),
                    stop_start=True, watch=("/etc/postfix/", MAILNAME), uses_certificate=True, after=("dovecot",))
    return Needs(services=[daemon])


def mailbox_size_limit(message_size_limit: int) -> int:
    """Never below the message size limit (local(8) refuses to run otherwise)."""
    return max(MAILBOX_SIZE_LIMIT_DEFAULT, message_size_limit)


def main_params(answers: dict) -> Dict[str, str]:
    pf = answers["postfix"]
    interfaces = pf["inet_interfaces"]
    if not isinstance(interfaces, str):
        interfaces = join(interfaces)
    message_size = int(pf["message_size_limit_mb"]) * MIB
    return {
        "myhostname": pf["hostname"],
        "mydomain": pf["domain"],
        "myorigin": pf["origin"],
        "inet_interfaces": interfaces,
        "mydestination": join(pf["destinations"]),
        "mynetworks": join(postfix_network(n) for n in pf["networks"]),
        "relay_domains": join(pf["relay_domains"]),
        "home_mailbox": pf["home_mailbox"],
        "smtpd_banner": pf["banner"],
        "message_size_limit": str(message_size),
        "mailbox_size_limit": str(mailbox_size_limit(message_size)),
    }


def plan(inp) -> List[object]:
    actions: List[object] = [PostconfSet(path=MAIN_CF, params=main_params(inp.answers))]
    if inp.profile.family == "debian":
        pf = inp.answers["postfix"]
        mailname = expand_origin(pf["origin"], pf["hostname"], pf["domain"])
        if mailname:
            actions.append(WriteFile(path=MAILNAME, content=mailname + "\n", mode=0o644,
                                     owner="root", group="root"))
    return actions


def is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
