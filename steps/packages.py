"""Install Postfix and Dovecot (and what the chosen options need) in one go.

The original notes ran ``yum install postfix dovecot`` (plus
``system-switch-mail system-switch-mail-gnome`` to keep sendmail) on CentOS
only.  We install per platform in ONE package-manager call, so rollback removes
exactly what this run added (``InstallPackages`` records the package set
before).  What is installed is what the steps declare (their ``needs()``,
``installer/needs.py``), in flow order:

- RHEL family: ``postfix dovecot``; ``cyrus-sasl cyrus-sasl-plain`` only when
  a relay host needs a login (client-side SASL; users' SMTP AUTH goes through
  Dovecot and needs neither).
- Debian/Ubuntu: ``postfix dovecot-core`` and one ``dovecot-<proto>d`` per
  chosen protocol (Debian enables a protocol by installing its package);
  ``libsasl2-modules`` for a relay host login (PLAIN/LOGIN live there and are
  only a Recommends, which we do not install).  debconf is preseeded first
  (``postfix/main_mailer_type`` = Internet Site, ``postfix/mailname``) so the
  package asks nothing; ``DEBIAN_FRONTEND=noninteractive`` comes from
  ``installer.platform``.  On a fresh Debian the package index may be empty,
  so it is refreshed first unless the update step already does it.
- ``openssl`` when the TLS step makes a self-signed certificate
  (``openssl req``).  On Debian postfix already depends on ``ssl-cert``, which
  depends on openssl; naming it costs nothing and says why it is needed.

``system-switch-mail`` is not used: it was the RHEL 4/5 tool; the mta step
uses alternatives.
"""
from __future__ import annotations

from typing import List

from installer.actions import Action, InstallPackages, RunCommand
from installer.i18n import Msg, N_
import steps
from steps import update

NAME = "packages"
TITLE = N_("Install Postfix and Dovecot")

def wanted_packages(inp) -> List[str]:
    """Every package this configuration needs, installed or not, in a stable
    order: what the steps declare (``needs()``), in flow order."""
    return steps.declared(inp.profile, inp.answers, inp.facts).packages


def extra_repo(inp) -> List[Action]:
    """Enable EPEL first when a package comes from there (the steps' declared
    ``from_extra_repo``), and say so; once, kept by its repo file; undo removes
    epel-release."""
    needing = [p for p in steps.declared(inp.profile, inp.answers, inp.facts).from_extra_repo
               if p not in inp.facts.installed]
    profile = inp.profile
    if not needing or profile.extra_repo != "epel":
        return []
    pm = profile.package_manager
    return [RunCommand(argv=[pm, "install", "-y", profile.epel_source], changes=["/etc/yum.repos.d/epel.repo"],
                       run_if="missing", undo_argv=[pm, "remove", "-y", "epel-release"],
                       description=Msg(N_("{packages}: from EPEL (Extra Packages for Enterprise Linux), whose "
                                          "repository is enabled first ({source})"),
                                       packages=" ".join(needing), source=profile.epel_source).to_json())]


def debconf_preseed(hostname: str) -> str:
    return ("postfix postfix/main_mailer_type select Internet Site\n"
            f"postfix postfix/mailname string {hostname}\n")


def plan(inp) -> List[Action]:
    wanted = wanted_packages(inp)
    missing = [p for p in wanted if p not in inp.facts.installed]
    if not missing:
        return []
    actions: List[Action] = extra_repo(inp)
    if inp.profile.package_manager == "apt":
        if not update.will_update(inp):
            actions += update.refresh_index(inp.profile)
        if "postfix" not in inp.facts.installed:
            # No undo needed: purging postfix on rollback purges its debconf answers too.
            actions.append(RunCommand(
                argv=["debconf-set-selections"], stdin=debconf_preseed(inp.answers["postfix"]["hostname"]),
                description=Msg(N_("Preseed the postfix package questions (Internet Site, mail name {hostname})"),
                                hostname=inp.answers["postfix"]["hostname"]).to_json()))
    leaves = leftovers(inp.profile)
    leaves += [p for p in steps.declared(inp.profile, inp.answers, inp.facts).leaves if p not in leaves]
    actions.append(InstallPackages(packages=wanted, leaves=leaves))
    return actions


def leftovers(profile) -> List[str]:
    """What the packages' scripts create that removing them leaves behind, so
    that rollback can take it away too: Debian's dovecot-core makes a
    certificate in /etc/dovecot/private at install, postfix's postinst runs
    newaliases (creating /etc/aliases and its database on a host that never
    had them) and writes /etc/mailname; RHEL's dovecot makes its certificate
    pair on first start (``profile.package_leftovers``)."""
    from steps.postfix import map_file
    aliases_db = map_file("/etc/aliases", profile.map_type)
    return [*profile.package_leftovers, aliases_db, "/etc/postfix/", "/etc/dovecot/"]
