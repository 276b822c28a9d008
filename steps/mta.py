"""Make Postfix the system's MTA.

The original notes (CentOS 6) said: remove sendmail with ``yum remove
sendmail`` (recommended), or keep it and install ``system-switch-mail
system-switch-mail-gnome``, then ``alternatives --config mta`` by hand.
``system-switch-mail`` was the RHEL 4/5 tool and is gone; ``alternatives
--config`` is interactive.  And neither path stopped sendmail, which keeps
port 25 so Postfix cannot start.  We do:

- RHEL family, sendmail installed, ``existing_mta: remove``: stop and disable
  sendmail, then remove ``sendmail`` and ``sendmail-cf`` (only those
  installed).  Its package scripts hand the ``mta`` alternative to Postfix.
  The packages step runs first, so a sendmail command always exists.
- ``existing_mta: alternatives``: keep sendmail installed, stop and disable it,
  and ``alternatives --set mta /usr/sbin/sendmail.postfix`` (on CentOS 6
  sendmail's priority 90 beats postfix's 30, so the automatic choice is
  wrong).
- Debian/Ubuntu: postfix conflicts with exim4 and the other MTAs, so
  installing it (packages step) already removed them: nothing to do here.

Rollback: the actions' own undo reinstalls sendmail, restores the previous
``mta`` alternative, and enables and starts sendmail again as it was.
"""
from __future__ import annotations

from typing import List

from installer.actions import Action, RemovePackages, SetAlternative, StopService
from installer.i18n import N_

NAME = "mta"
TITLE = N_("Make Postfix the mail transfer agent")

SENDMAIL_PACKAGES = ["sendmail", "sendmail-cf"]
POSTFIX_SENDMAIL = "/usr/sbin/sendmail.postfix"


def plan(inp) -> List[Action]:
    if inp.profile.family != "rhel" or "sendmail" not in inp.facts.installed:
        return []
    actions: List[Action] = [StopService(name="sendmail", init=inp.facts.init)]
    if inp.answers["system"]["existing_mta"] == "alternatives":
        actions.append(SetAlternative(group="mta", path=POSTFIX_SENDMAIL))
    else:
        actions.append(RemovePackages(packages=list(SENDMAIL_PACKAGES)))
    return actions
