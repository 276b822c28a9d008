"""DKIM: OpenDKIM signs the mail that leaves for ``postfix.domain``.

Since 2024 the large mailbox providers refuse or spam-folder mail without a
DKIM signature.  With ``dkim.enabled`` this step sets up OpenDKIM as a milter
of Postfix:

- Packages (declared in :func:`needs`, installed by the packages step in its one call):
  Debian ``opendkim opendkim-tools``; the RHEL family ``opendkim``, which
  comes from EPEL on CentOS/RHEL/Rocky/Alma (``profile.extra_repo``): the
  plan enables EPEL first and says so.  Fedora carries it itself.
- The key: 2048-bit RSA, made with ``openssl genpkey`` (the same tool on
  every platform) into ``<profile.dkim_key_dir>/<selector>.private``, a
  file created empty first with mode 0600 and owner ``opendkim`` (the milter
  reads it after dropping root), so the key is never readable by others;
  the public half goes beside it (``<selector>.public``), where
  ``mailwiz dns`` reads the DKIM record from.  The commands run only while
  the files are missing: a second run keeps the key.
- The selector: ``dkim.selector``, else the one OpenDKIM already signs with
  (``facts.dkim_selector``: a re-run keeps its key and its DNS record),
  else the year and month of the facts' date (``facts.today``, read once per
  plan), e.g. ``202612``.
- ``/etc/opendkim.conf``, whole, in the simple single-domain form (Domain,
  Selector, KeyFile): it signs mail from ``postfix.domain`` sent by hosts in
  ``InternalHosts`` (loopback and ``postfix.networks``) or by users who
  logged in (OpenDKIM signs authenticated sessions), and checks signatures on
  mail coming in.  The socket is ``inet:8891@127.0.0.1``: TCP works from
  inside Postfix's chroot on Debian, where a socket under /run would not be
  reachable, and needs no group membership.
- ``main.cf``: ``smtpd_milters`` and ``non_smtpd_milters`` (mail from
  ``sendmail``/cron is signed too) with ``milter_default_action = accept``:
  mail still flows, unsigned, while the milter is down.
- The ``opendkim`` service, declared in :func:`needs`: the services step
  enables and starts it as ``services.*`` say, and restarts it when its
  configuration or key changed; the SELinux step relabels the key folder.

Rollback needs nothing of its own: the journal undoes the files (key, public
key, config, main.cf) and removes the packages this run installed.
"""
from __future__ import annotations

from typing import List

from installer.actions import Action, PostconfSet, RunCommand, WriteFile
from installer.facts import OPENDKIM_CONF, OPENDKIM_MARK
from installer.i18n import Msg, N_
from installer.needs import Daemon, Needs, direct
from steps.postfix import MAIN_CF

NAME = "dkim"
TITLE = N_("DKIM signing (OpenDKIM)")

SERVICE = "opendkim"
MILTER_USER = "opendkim"
MILTER_PORT = 8891
SOCKET = f"inet:{MILTER_PORT}@127.0.0.1"
POSTFIX_MILTER = f"inet:127.0.0.1:{MILTER_PORT}"
KEY_BITS = "2048"


def enabled(answers: dict) -> bool:
    return bool((answers.get("dkim") or {}).get("enabled"))


def selector(inp) -> str:
    chosen = (inp.answers.get("dkim") or {}).get("selector")
    if chosen:
        return chosen
    if getattr(inp.facts, "dkim_selector", None):
        return inp.facts.dkim_selector
    today = getattr(inp.facts, "today", "") or ""
    if len(today) < 6:
        raise ValueError("facts.today is not set: the DKIM selector needs the date")
    return today[:6]


def key_paths(profile, chosen: str):
    """(private key, public key) files for *chosen* selector."""
    folder = profile.dkim_key_dir.rstrip("/")
    return f"{folder}/{chosen}.private", f"{folder}/{chosen}.public"


# --- what other steps read from here (packages, services, SELinux, dns) -----------

def needs(profile, answers=None, facts=None) -> Needs:
    """The packages (from EPEL where the profile has it), the opendkim service
    (restarted when its config or key changed), the key folder to relabel and
    the one the package makes (gone on rollback if it was not there); all of
    them with ``answers=None``."""
    if answers is not None and not enabled(answers):
        return Needs()
    folder = profile.dkim_key_dir.rstrip("/") + "/"
    daemon = Daemon(SERVICE, packages=("opendkim",), direct=direct(start=["opendkim", "-x", OPENDKIM_CONF]),
                    watch=(OPENDKIM_CONF, folder))
    extra = ["epel-release"] if answers is None and profile.extra_repo == "epel" else []
    return Needs(packages=list(profile.opendkim_packages) + extra, services=[daemon], selinux=[folder],
                 from_extra_repo=list(profile.opendkim_packages) if profile.extra_repo else [],
                 leaves=[folder])


# --- the step ------------------------------------------------------------------

def internal_hosts(answers: dict) -> List[str]:
    hosts = ["127.0.0.1", "::1"]
    for network in answers["postfix"]["networks"]:
        if network not in hosts and network not in ("127.0.0.0/8", "::1/128"):
            hosts.append(network)
    return hosts


def opendkim_conf(profile, answers: dict, chosen: str) -> str:
    key, _public = key_paths(profile, chosen)
    lines = [
        f"{OPENDKIM_MARK}: OpenDKIM signs mail from {answers['postfix']['domain']} for Postfix.",
        "# The files that were here before are in mailwiz's backups; `mailwiz rollback` puts them back.",
        "Syslog\tyes",
        "SyslogSuccess\tyes",
        "UserID\t" + MILTER_USER,
        "UMask\t007",
        "Mode\tsv",
        "Canonicalization\trelaxed/simple",
        "OversignHeaders\tFrom",
        "Domain\t" + answers["postfix"]["domain"],
        "Selector\t" + chosen,
        "KeyFile\t" + key,
        "InternalHosts\tcsl:" + ",".join(internal_hosts(answers)),
        "Socket\t" + SOCKET,
        "PidFile\t/run/opendkim/opendkim.pid",
    ]
    return "\n".join(lines) + "\n"


def key_commands(profile, chosen: str) -> List[RunCommand]:
    key, public = key_paths(profile, chosen)
    owner = f"{MILTER_USER}:{MILTER_USER}"
    return [
        RunCommand(argv=["install", "-m", "0600", "-o", MILTER_USER, "-g", MILTER_USER, "/dev/null", key],
                   changes=[key], run_if="missing",
                   description=Msg(N_("Create the empty DKIM key file {path}, readable by {user} only"),
                                   path=key, user=MILTER_USER).to_json()),
        RunCommand(argv=["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{KEY_BITS}",
                         "-out", key],
                   changes=[key], run_if="missing",
                   description=Msg(N_("Make the {bits}-bit RSA DKIM key for selector {selector} ({path})"),
                                   bits=KEY_BITS, selector=chosen, path=key).to_json()),
        RunCommand(argv=["openssl", "pkey", "-in", key, "-pubout", "-out", public],
                   changes=[public], run_if="missing",
                   description=Msg(N_("Write the public DKIM key {path} (for the DNS record)"),
                                   path=public).to_json()),
        RunCommand(argv=["chown", owner, key], changes=[key], watch=[key], run_if="changed"),
        RunCommand(argv=["chmod", "0600", key], changes=[key], watch=[key], run_if="changed"),
    ]


def plan(inp) -> List[Action]:
    answers, profile = inp.answers, inp.profile
    if not enabled(answers):
        return []
    chosen = selector(inp)
    key, public = key_paths(profile, chosen)
    actions: List[Action] = list(key_commands(profile, chosen))
    actions.append(WriteFile(path=OPENDKIM_CONF, content=opendkim_conf(profile, answers, chosen), mode=0o644,
                             owner="root", group="root"))
    actions.append(PostconfSet(path=MAIN_CF, params={
        "smtpd_milters": POSTFIX_MILTER,
        "non_smtpd_milters": POSTFIX_MILTER,
        "milter_default_action": "accept",
    }))
    return actions
