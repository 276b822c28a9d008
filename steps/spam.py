"""Restrictions against spam: HELO, client, sender and recipient checks, the access map, blocklists.

What the original notes got wrong, and what this step does instead:

- ``reject_invalid_hostname``, ``reject_unknown_hostname``,
  ``reject_non_fqdn_hostname`` were renamed ``reject_*_helo_hostname`` in
  Postfix 2.3: only the new names are written (validation refuses the old).
- ``check_recipient_access ... OK`` ahead of ``reject_unauth_destination`` in
  ``smtpd_recipient_restrictions`` makes an open relay before Postfix 2.10.
  This step is the one owner of ``smtpd_recipient_restrictions``: from 2.10
  the relay rules live in ``smtpd_relay_restrictions`` (the sasl step) and
  this list holds checks only; before 2.10 (CentOS 6) the relay rules from
  :func:`steps.sasl.relay_rules` (``permit_mynetworks,
  [permit_sasl_authenticated,] reject_unauth_destination``) are its head, so
  nothing can permit relaying ahead of them.
- ``reject_unauth_destination`` then ``permit_auth_destination, reject``:
  ``permit_auth_destination`` permits everything that reaches it, so nothing
  after it ever runs.  No ``permit_auth_destination``, no trailing ``permit``
  (a list that ends accepts anyway).
- ``list.dsbl.org`` (dead, later listed everything) and
  ``sbl-xbl.spamhaus.org`` (replaced by zen) are refused by validation;
  ``all.rbl.jp`` is never on by default.
- Spamhaus through a public resolver answers 127.255.255.x (an error, not a
  listing), and an unfiltered ``reject_rbl_client`` then rejects all mail.
  Spamhaus IP zones are written with a reply filter:
  ``reject_rbl_client zen.spamhaus.org=127.0.0.[2..11]`` from Postfix 2.8;
  before 2.8 (no ``[..]`` ranges) one ``zen.spamhaus.org=127.0.0.N`` entry per
  listing code (Postfix caches the DNS reply, so this is one lookup).  A local
  resolver is still needed for the lists to do anything.

The lists (each written every run, so they follow the answers):

- ``smtpd_helo_required`` = yes/no from ``spam.helo_required``.
- client, helo, sender lists start with ``permit_mynetworks`` (and
  ``permit_sasl_authenticated`` with SASL), so local and authenticated
  clients are never rejected by checks meant for strangers; then the access
  map, then the answers' checks, then (client list) the blocklists, the
  costliest last, so an access map ``OK`` exempts a client from them.  The
  recipient list starts with the same permits on every release (before 2.10
  they are the relay rules anyway), so a check behaves the same everywhere.
  A list without any check is written empty.
- The access map (``spam.access``, when not empty): host names, domains and
  addresses go to ``/etc/postfix/access`` (``hash:``, or ``lmdb:`` on RHEL 10),
  ``postmap``'d after each change; IP addresses and CIDR networks go to
  ``/etc/postfix/access.cidr`` (``cidr:``, no postmap): an indexed map never
  matches ``192.0.2.0/24`` written that way.  ``check_client_access`` uses
  both, ``check_helo_access``/``check_sender_access``/
  ``check_recipient_access`` the indexed one.  Both files are written whole
  from the answers (RHEL's commented sample /etc/postfix/access is replaced;
  undo restores it).  An ``OK`` there cannot open the relay: before 2.10
  the recipient check comes after ``reject_unauth_destination``, and from
  2.10 relay control is a separate list.
"""
from __future__ import annotations

import ipaddress
from typing import Dict, List, Tuple

from installer.actions import PostconfSet, RunCommand, WriteFile
from installer.i18n import Msg, N_
from steps.postfix import MAIN_CF, join, map_file, map_type_of, version_of
from steps.sasl import has_relay_restrictions, relay_rules

NAME = "spam"
TITLE = N_("Spam checks")

ACCESS = "/etc/postfix/access"
ACCESS_CIDR = "/etc/postfix/access.cidr"

# IP zones whose replies include 127.255.255.x errors for public resolvers.
SPAMHAUS_IP_ZONES = ("zen.spamhaus.org", "sbl.spamhaus.org", "xbl.spamhaus.org", "pbl.spamhaus.org")
SPAMHAUS_CODES = range(2, 12)          # 127.0.0.2 .. 127.0.0.11
RBL_RANGE_SINCE = (2, 8)

_HEADER = "# Written by mailwiz from the answers (spam.access); edit the answers, not this file.\n"


def _network_key(key: str) -> str:
    """A cidr table pattern for an address or network key, or "" when it is neither."""
    try:
        if "/" in key:
            return str(ipaddress.ip_network(key.strip("[]").replace("]/", "/"), strict=False))
        return str(ipaddress.ip_address(key.strip("[]")))
    except ValueError:
        return ""


def split_access(entries) -> Tuple[List[str], List[str]]:
    """(indexed map lines, cidr table lines) for the spam.access entries, in order."""
    indexed, cidr = [], []
    for entry in entries:
        key, action = entry["key"], entry["action"]
        network = _network_key(key)
        if network:
            cidr.append("{} {}".format(network, action))
        else:
            indexed.append("{} {}".format(key, action))
    return indexed, cidr


def rbl_restrictions(version, zones) -> List[str]:
    out = []
    for zone in zones:
        if zone.lower() in SPAMHAUS_IP_ZONES and "=" not in zone:
            if tuple(version) >= RBL_RANGE_SINCE:
                out.append("reject_rbl_client {}=127.0.0.[2..11]".format(zone))
            else:
                out.extend("reject_rbl_client {}=127.0.0.{}".format(zone, code) for code in SPAMHAUS_CODES)
        else:
            out.append("reject_rbl_client {}".format(zone))
    return out


def restriction_params(version, map_type: str, answers: dict) -> Dict[str, str]:
    spam = answers["spam"]
    indexed, cidr = split_access(spam["access"])
    access = "{}:{}".format(map_type, ACCESS)
    permits = ["permit_mynetworks"] + (["permit_sasl_authenticated"] if answers["auth"]["sasl"] else [])

    def checks(name: str) -> List[str]:
        return ["check_{}_access {}".format(name, access)] if indexed else []

    client = (["check_client_access cidr:{}".format(ACCESS_CIDR)] if cidr else []) + checks("client")
    client += list(spam["client"]) + rbl_restrictions(version, spam["rbl"])
    helo = checks("helo") + list(spam["helo"])
    sender = checks("sender") + list(spam["sender"])
    recipient = checks("recipient") + list(spam["recipient"])

    def listed(items: List[str]) -> str:
        return join(permits + items) if items else ""

    if has_relay_restrictions(version):
        recipient_value = listed(recipient)
    else:
        # Relay control first: nothing may permit relaying ahead of it.
        recipient_value = join(relay_rules(version, answers) + recipient)
    return {
        "smtpd_helo_required": "yes" if spam["helo_required"] else "no",
        "smtpd_client_restrictions": listed(client),
        "smtpd_helo_restrictions": listed(helo),
        "smtpd_sender_restrictions": listed(sender),
        "smtpd_recipient_restrictions": recipient_value,
    }


def plan(inp) -> List[object]:
    version = version_of(inp)
    map_type = map_type_of(inp)
    indexed, cidr = split_access(inp.answers["spam"]["access"])
    actions: List[object] = []
    if indexed:
        actions.append(WriteFile(path=ACCESS, content=_HEADER + "".join(line + "\n" for line in indexed),
                                 mode=0o644))
        actions.append(RunCommand(argv=["postmap", "{}:{}".format(map_type, ACCESS)],
                                  changes=[map_file(ACCESS, map_type)], watch=[ACCESS], run_if="changed",
                                  description=Msg(N_("Build the lookup table from {path}"),
                                                  path=ACCESS).to_json()))
    if cidr:
        actions.append(WriteFile(path=ACCESS_CIDR, content=_HEADER + "".join(line + "\n" for line in cidr),
                                 mode=0o644))
    actions.append(PostconfSet(path=MAIN_CF, params=restriction_params(version, map_type, inp.answers)))
    return actions
