"""Full package update before mailwiz installs anything.

The original notes said only "yum update はして置こう" (do a yum update):
yum-only, unconditional, and silent about the fact that an update cannot be
rolled back.  We use the platform's own command (``yum update -y``,
``dnf upgrade -y``, ``apt-get update`` + ``apt-get upgrade``), run it only
when the answers ask for it *and* the facts say updates are pending (so a
second apply plans nothing), and mark it irreversible: rollback keeps the
updated packages and says so.
"""
from __future__ import annotations

from typing import List

from installer import platform
from installer.actions import Action, RunCommand
from installer.i18n import Msg, N_

NAME = "update"
TITLE = N_("Update the system")


def refresh_index(profile) -> List[Action]:
    """apt's package index refresh (nothing on yum/dnf, which refresh by themselves).

    Left reversible with no undo: a newer index changes no installed software,
    so rollback has nothing to say about it."""
    argv = platform.refresh_cmd(profile)
    if argv is None:
        return []
    return [RunCommand(argv=argv, env=platform.package_env(profile),
                       description=Msg(N_("Refresh the package index ({command})"),
                                       command=" ".join(argv)).to_json())]


def will_update(inp) -> bool:
    """Whether this step updates (and on apt refreshes the index) in this run."""
    return bool(inp.answers["system"]["update"] and inp.facts.updates_pending)


def plan(inp) -> List[Action]:
    if not will_update(inp):
        return []
    argv = platform.upgrade_cmd(inp.profile)
    upgrade = RunCommand(
        argv=argv, env=platform.package_env(inp.profile), reversible=False,
        description=Msg(N_("Update all installed packages ({command}); an update cannot be undone"),
                        command=" ".join(argv)).to_json())
    return refresh_index(inp.profile) + [upgrade]
