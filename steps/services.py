"""Enable and start Dovecot and Postfix; restart them when their config changed.

The services are those the steps declare (``needs()``, see
``installer/needs.py``), each with the files whose change restarts it.

The original notes ran ``chkconfig postfix on``, ``chkconfig dovecot on`` and
``/etc/init.d/postfix start``, ``/etc/init.d/dovecot start``: sysvinit only,
and ``start`` on a running server keeps the old configuration.  We let the
``Service`` action choose per host: enable as ``services.enable`` says, start
as ``services.start`` says, and restart a running service when a file it reads
changed in this plan (Postfix's restart is a stop and start where that matters:
``inet_interfaces`` changes need it).  The init system is the one running now
(``facts.init``): systemd, sysvinit (``service``/``chkconfig``/``update-rc.d``)
or none (containers: ``postfix start``, ``dovecot``; nothing to enable).

Watched: the whole ``/etc/postfix/`` and ``/etc/dovecot/`` trees (main.cf,
master.cf, maps, sasl_passwd, conf.d, ...: whatever the other steps write)
plus the certificate and key (``steps.tls.cert_paths``), which live elsewhere.  Dovecot
goes first: Postfix hands mail to its LMTP socket and asks its auth socket.
"""
from __future__ import annotations

from typing import List

from installer.actions import Action, Service
from installer.i18n import N_
import steps
from steps import tls

NAME = "services"
TITLE = N_("Start the mail services")


def start_order(daemons) -> list:
    """The declared services, each after those it names in ``after`` (else in flow order)."""
    pending = list(daemons)
    names = {d.name for d in pending}
    ordered: list = []
    while pending:
        ready = next((d for d in pending
                      if all(a not in names or a in {o.name for o in ordered} for a in d.after)), pending[0])
        ordered.append(ready)
        pending.remove(ready)
    return ordered


def watch_files(inp, daemon) -> List[str]:
    """What a change to restarts *daemon*; entries ending in "/" are folders."""
    certificate = [p for p in tls.cert_paths(inp.profile, inp.answers) if p] if daemon.uses_certificate else []
    return list(daemon.watch) + certificate


def plan(inp) -> List[Action]:
    wanted = inp.answers["services"]
    return [Service(name=daemon.name, enable=bool(wanted["enable"]), start=bool(wanted["start"]),
                    watch=watch_files(inp, daemon), init=inp.facts.init, daemon=daemon.to_json())
            for daemon in start_order(steps.declared(inp.profile, inp.answers).services)]
