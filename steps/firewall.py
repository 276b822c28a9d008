"""Open the mail ports in the firewall that is running.

The original notes did not touch the firewall at all (on CentOS 6 the stock
iptables rules block mail, so clients could not connect).  We open exactly the
ports of the services this configuration enables, in the firewall that is
active now (firewalld or ufw), with ``--add-port``/``allow`` (firewalld's
``submission`` service does not exist everywhere):

    25/tcp always; 587/tcp with submission; imap: 143/tcp 993/tcp;
    pop3: 110/tcp 995/tcp.  LMTP is local and never opened.

Nothing else is touched: never the SSH port, never a default policy, never a
reload that could drop the session that made the change.  Without an active
firewalld/ufw (plain iptables rules, as on CentOS 6, or no firewall) nothing is
done.  Undo closes only the ports this run opened.
"""
from __future__ import annotations

from typing import List

from installer.actions import Action, OpenPorts
from installer.i18n import N_

NAME = "firewall"
TITLE = N_("Open the mail ports in the firewall")

MANAGED_TOOLS = ("firewalld", "ufw")
PROTOCOL_PORTS = {"imap": ["143/tcp", "993/tcp"], "pop3": ["110/tcp", "995/tcp"]}


def mail_ports(answers) -> List[str]:
    ports = ["25/tcp"]
    if answers["auth"]["submission"]:
        ports.append("587/tcp")
    for proto in ("imap", "pop3"):
        if proto in answers["dovecot"]["protocols"]:
            ports += PROTOCOL_PORTS[proto]
    return ports


def plan(inp) -> List[Action]:
    if not inp.answers["system"]["firewall"] or inp.facts.firewall not in MANAGED_TOOLS:
        return []
    return [OpenPorts(tool=inp.facts.firewall, ports=mail_ports(inp.answers))]
