"""Where root's mail goes (/etc/aliases), and the alias database rebuilt after it.

What the original notes got wrong, and what this step does instead:

- The notes edit ``/etc/aliases`` and stop there; Postfix reads the alias
  *database*, so the change did nothing until someone ran ``newaliases``.
  Here the ``root:`` line is set (other lines and comments stay) and
  ``newaliases`` runs whenever the file changed.  It builds the database
  named by ``alias_database``: ``/etc/aliases.db``, or ``/etc/aliases.lmdb``
  on RHEL 10 (no Berkeley DB); that file is what undo restores.

``aliases.root: null`` leaves /etc/aliases as it is.
"""
from __future__ import annotations

from typing import List

from installer.actions import AliasSet, RunCommand
from installer.i18n import Msg, N_
from installer.needs import Needs
from steps.postfix import map_file, map_type_of

NAME = "aliases"
TITLE = N_("Mail aliases")

ALIASES = "/etc/aliases"


def needs(profile, answers=None, facts=None) -> Needs:
    """The aliases file and its database are relabelled under SELinux when they changed."""
    map_type = getattr(facts, "map_type", None) or profile.map_type
    return Needs(selinux=[ALIASES, map_file(ALIASES, map_type)])


def plan(inp) -> List[object]:
    root = inp.answers["aliases"]["root"]
    if not root:
        return []
    return [
        AliasSet(path=ALIASES, name="root", value=root),
        RunCommand(argv=["newaliases"], changes=[map_file(ALIASES, map_type_of(inp))], watch=[ALIASES],
                   run_if="changed",
                   description=Msg(N_("Rebuild the alias database from {path}"), path=ALIASES).to_json()),
    ]
