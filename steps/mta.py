"""Make Postfix the system's MTA.

The original notes (CentOS 6) said: remove sendmail with ``yum remove
sendmail`` (recommended), or keep it and install ``system-switch-mail
system-switch-mail-gnome``, then ``alternatives --config mta`` by hand.
``system-switch-mail`` was the RHEL 4/5 tool and is gone; ``alternatives
--config`` is interactive.  And neither path stopped sendmail, which keeps
port 25 so Postfix cannot start.  We do:

- RHEL family with sendmail installed: stop and disable sendmail, and
  ``alternatives --set mta /usr/sbin/sendmail.postfix`` (sendmail's priority
  90 beats postfix's 30, so the automatic choice is wrong while sendmail is
  there).  With ``existing_mta: remove``, then remove ``sendmail`` and
  ``sendmail-cf`` (only those installed).  Setting the link before the
  removal also lets rollback restore it exactly: the reinstall comes first,
  then the link goes back to what it was, a manual pin included (CentOS 7
  pins sendmail), which a reinstall alone would turn into "auto".  The
  packages step runs first, so a sendmail command always exists.
- ``existing_mta: alternatives``: the same, keeping sendmail installed.
- Debian/Ubuntu: postfix conflicts with exim4 and the other MTAs, so
  installing it (packages step) already removed them: nothing to do here.

Rollback: the actions' own undo reinstalls sendmail, restores the previous
``mta`` alternative, and enables and starts sendmail again as it was.
"""
from __future__ import annotations

from typing import List

from installer.actions import Action, RemovePackages, SetAlternative, StopService
from installer.i18n import N_
from installer.needs import Daemon, Needs

NAME = "mta"
TITLE = N_("Make Postfix the mail transfer agent")

SENDMAIL_PACKAGES = ["sendmail", "sendmail-cf"]
POSTFIX_SENDMAIL = "/usr/sbin/sendmail.postfix"


def needs(profile, answers=None) -> Needs:
    """Other MTAs whose state this step reads (it stops sendmail; exim4 goes with its package)."""
    return Needs(observed=[Daemon("sendmail", packages=("sendmail", "sendmail-bin")),
                          Daemon("exim4", packages=("exim4-daemon-light", "exim4-daemon-heavy", "exim4"))])


def plan(inp) -> List[Action]:
    if inp.profile.family != "rhel" or "sendmail" not in inp.facts.installed:
        return []
    actions: List[Action] = [StopService(name="sendmail", init=inp.facts.init),
                             SetAlternative(group="mta", path=POSTFIX_SENDMAIL)]
    if inp.answers["system"]["existing_mta"] == "remove":
        actions.append(RemovePackages(packages=list(SENDMAIL_PACKAGES)))
    return actions
