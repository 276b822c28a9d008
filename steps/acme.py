"""A certificate from an ACME CA (Let's Encrypt), with ``certificate: acme``.

certbot (Debian's package; EPEL's on CentOS/RHEL/Rocky/Alma, Fedora's own)
asks the CA in ``auth.tls.acme.directory`` (default Let's Encrypt) for a
certificate for ``postfix.hostname``, proving control with the http-01
challenge: certbot's own small web server (``--standalone``) answers on port
80 for the seconds the challenge takes.  Nothing serves port 80 otherwise:

- when a firewall that mailwiz manages is active (firewalld, ufw) and
  ``system.firewall`` is on, a pre-hook opens 80/tcp in its runtime rules
  only, and a post-hook closes it again, on issue and on every renewal; it
  closes only what it opened (a web server's open port 80 stays open);
- the certificate lives where certbot keeps it
  (``/etc/letsencrypt/live/HOST/fullchain.pem`` and ``privkey.pem``), which
  the tls and dovecot steps name (``steps.tls.cert_paths``);
- renewal: Debian's package runs ``certbot renew`` from its own timer (and
  /etc/cron.d/certbot without systemd); elsewhere :func:`needs` declares
  ``profile.certbot_timer`` for the services step to enable on a systemd
  platform, and this step writes a cron entry on one without (CentOS 6);
- a deploy hook reloads Postfix and Dovecot after each renewal, so the new
  certificate is served without a restart by hand.

certbot runs only while the certificate files are missing: a second apply
asks the CA nothing.  Undo is ``certbot delete`` for the certificate and the
journal for the hooks and cron file; the packages step's undo removes certbot
(and ``/etc/letsencrypt`` when this run made it).
"""
from __future__ import annotations

import shlex
from typing import List, Optional, Tuple

from installer import platform
from installer.actions import Action, RunCommand, WriteFile
from installer.i18n import Msg, N_
from installer.needs import Daemon, Needs

NAME = "acme"
TITLE = N_("Certificate from an ACME CA (Let's Encrypt)")

LETS_ENCRYPT = "https://acme-v02.api.letsencrypt.org/directory"
LIVE = "/etc/letsencrypt/live"
HOOKS = "/etc/mailwiz/acme"
CRON_FILE = "/etc/cron.d/mailwiz-certbot"
CHALLENGE_PORT = "80/tcp"
PORT_MARK = "/run/mailwiz-acme-port80"      # the pre-hook opened port 80: the post-hook closes it


def wanted(answers: dict) -> bool:
    return answers["auth"]["tls"]["certificate"] == "acme"


def live_paths(hostname: str) -> Tuple[str, str]:
    """(fullchain, private key) as certbot keeps them for *hostname*."""
    return f"{LIVE}/{hostname}/fullchain.pem", f"{LIVE}/{hostname}/privkey.pem"


def directory(answers: dict) -> str:
    return (answers["auth"]["tls"].get("acme") or {}).get("directory") or LETS_ENCRYPT


# --- what the packages step reads from here ------------------------------------------

def needs(profile, answers=None, facts=None) -> Needs:
    """certbot (from EPEL where the profile has it), and the timer that renews
    where it is one to enable under systemd; /etc/letsencrypt/ goes on rollback."""
    if answers is not None and not wanted(answers):
        return Needs()
    services = []
    if profile.certbot_timer and profile.init == "systemd":
        services.append(Daemon(profile.certbot_timer, packages=("certbot",)))
    extra = ["epel-release"] if answers is None and profile.extra_repo == "epel" else []
    return Needs(packages=["certbot"] + extra, services=services,
                 from_extra_repo=["certbot"] if profile.extra_repo else [], leaves=["/etc/letsencrypt/"])


# --- hooks ----------------------------------------------------------------------

def _script(lines: List[str]) -> str:
    return "#!/bin/sh\n# Written by mailwiz for certbot.\n" + "\n".join(lines) + "\n"


def firewall_hooks(tool: Optional[str]) -> Optional[Tuple[str, str]]:
    """(pre-hook, post-hook) scripts that open port 80 for the challenge and close it again."""
    if tool == "firewalld":
        query = shlex.join(["firewall-cmd", f"--query-port={CHALLENGE_PORT}"])
        opened = shlex.join(["firewall-cmd", f"--add-port={CHALLENGE_PORT}"])
        closed = shlex.join(["firewall-cmd", f"--remove-port={CHALLENGE_PORT}"])
    elif tool == "ufw":
        query = "ufw status | grep -q " + shlex.quote(f"^{CHALLENGE_PORT} ")
        opened = shlex.join(["ufw", "allow", CHALLENGE_PORT])
        closed = shlex.join(["ufw", "delete", "allow", CHALLENGE_PORT])
    else:
        return None
    pre = _script([f"{query} && exit 0", f"{opened} && touch {PORT_MARK}"])
    post = _script([f"[ -e {PORT_MARK} ] || exit 0", f"{closed}; rm -f {PORT_MARK}"])
    return pre, post


def deploy_hook(profile, init: str) -> str:
    """Reload Postfix and Dovecot with the renewed certificate (a stopped one is left stopped).
    Without an init system their own commands do it: their "restart" is a reload."""
    import steps
    declared = steps.declared(profile)
    lines = []
    for name in ("postfix", "dovecot"):
        verb = "reload" if init != "none" else "restart"
        daemon = declared.service(name)
        if init == "none" and daemon is not None:
            daemon = Daemon(daemon.name, daemon.packages, daemon.direct)      # its reload, not a stop and start
        for argv in platform.service_cmds(init, profile, name, verb, daemon):
            lines.append(shlex.join(argv) + " || true")
    return _script(lines)


def certbot_argv(answers: dict, hooks: dict) -> List[str]:
    hostname = answers["postfix"]["hostname"]
    argv = ["certbot", "certonly", "--standalone", "--non-interactive", "--agree-tos",
            "--email", answers["auth"]["tls"]["acme"]["email"], "--no-eff-email",
            "--server", directory(answers), "--cert-name", hostname, "-d", hostname]
    for name in ("pre", "post", "deploy"):
        if name in hooks:
            argv += [f"--{name}-hook", hooks[name]]
    return argv


# --- the step ------------------------------------------------------------------

def plan(inp) -> List[Action]:
    answers, profile, facts = inp.answers, inp.profile, inp.facts
    if not wanted(answers):
        return []
    hostname = answers["postfix"]["hostname"]
    actions: List[Action] = []
    hooks = {}
    scripts = {"deploy": deploy_hook(profile, facts.init)}
    if answers["system"]["firewall"]:
        found = firewall_hooks(facts.firewall)
        if found:
            scripts["pre"], scripts["post"] = found
    for name in ("pre", "post", "deploy"):
        if name in scripts:
            hooks[name] = f"{HOOKS}/{name}-hook"
            actions.append(WriteFile(path=hooks[name], content=scripts[name], mode=0o755,
                                     owner="root", group="root"))
    cert, key = live_paths(hostname)
    actions.append(RunCommand(
        argv=certbot_argv(answers, hooks), changes=[cert, key], run_if="missing",
        undo_argv=["certbot", "delete", "--non-interactive", "--cert-name", hostname],
        description=Msg(N_("Get a certificate for {hostname} from {directory} (http-01 challenge on port 80)"),
                        hostname=hostname, directory=directory(answers)).to_json()))
    if profile.certbot_timer and profile.init != "systemd":
        # No systemd to run the timer: twice a day, as certbot's own packages do.
        actions.append(WriteFile(path=CRON_FILE, mode=0o644, owner="root", group="root",
                                 content="# Written by mailwiz: renew the ACME certificate.\n"
                                         "17 3,15 * * * root certbot -q renew\n"))
    return actions
