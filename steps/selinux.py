"""Keep SELinux on and give what mailwiz wrote its proper labels.

The original notes did not mention SELinux; the advice of that era was
``setenforce 0`` or ``SELINUX=disabled``.  We never disable SELinux and never
switch it to permissive: on an RHEL-family host where SELinux is enforcing or
permissive, ``restorecon -R`` runs on each place this plan changed (the Postfix
and Dovecot config trees, the aliases file and its database, the self-signed
certificate and key), so files created by a rename or copied in get the type
the policy gives that path.  Each runs only when its path changed in this plan.

Users' ``~/Maildir`` needs nothing: the policy already labels it
``mail_home_rw_t``; never relabel it to ``mail_spool_t``.  Should a denial
appear anyway: ``ausearch -m avc -ts recent``.
"""
from __future__ import annotations

from typing import List

from installer.actions import Action, RunCommand
from installer.i18n import Msg, N_
from steps import tls
from steps.aliases import ALIASES
from steps.postfix import map_file, map_type_of

NAME = "selinux"
TITLE = N_("Fix SELinux labels")

ACTIVE_MODES = ("enforcing", "permissive")


def labelled_paths(inp) -> List[str]:
    """Paths that may change in this run; a folder ends in "/"."""
    import steps
    paths = ["/etc/postfix/", "/etc/dovecot/", ALIASES, map_file(ALIASES, map_type_of(inp))]
    paths += [p for p in steps.declared(inp.profile, inp.answers).selinux if p not in paths]
    return paths + [p for p in tls.cert_paths(inp.profile, inp.answers) if p]


def plan(inp) -> List[Action]:
    if (inp.profile.family != "rhel" or inp.facts.selinux not in ACTIVE_MODES
            or not inp.answers["system"]["selinux"]):
        return []
    actions: List[Action] = []
    for watch in labelled_paths(inp):
        target = watch.rstrip("/")
        actions.append(RunCommand(
            argv=["restorecon", "-R", target], watch=[watch], run_if="changed",
            description=Msg(N_("Restore the SELinux labels of {path}"), path=target).to_json()))
    return actions
