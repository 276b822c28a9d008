"""The platform's own commands (packages, services, alternatives, firewall)
and the live queries that read their state.

Actions build their commands here; the sandbox world (``installer/sandbox.py``)
understands exactly these forms.  Queries go through ``runner.query`` so the
sandbox answers them from its world.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Set, Tuple

from installer.profiles import Profile

Argv = List[str]

APT_ENV = {"DEBIAN_FRONTEND": "noninteractive", "NEEDRESTART_MODE": "a"}
# Keep the admin's changed config files and never ask.
_APT_OPTS = ["-y", "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"]


@dataclass
class ServiceState:
    enabled: bool = False
    running: bool = False

    def to_json(self) -> dict:
        return {"enabled": self.enabled, "running": self.running}


# --- packages -------------------------------------------------------------

def package_env(profile: Profile) -> Dict[str, str]:
    return dict(APT_ENV) if profile.package_manager == "apt" else {}


def install_cmd(profile: Profile, packages: Sequence[str]) -> Argv:
    if profile.package_manager == "apt":
        return ["apt-get", "install", "--no-install-recommends", *_APT_OPTS, *packages]
    return [profile.package_manager, "install", "-y", *packages]


def remove_cmd(profile: Profile, packages: Sequence[str]) -> Argv:
    """Removal that leaves nothing of ours behind (purge on Debian)."""
    if profile.package_manager == "apt":
        return ["apt-get", "purge", "-y", *packages]
    return [profile.package_manager, "remove", "-y", *packages]


def refresh_cmd(profile: Profile) -> Optional[Argv]:
    """Refresh the package index (apt only; yum/dnf refresh by themselves)."""
    return ["apt-get", "update"] if profile.package_manager == "apt" else None


def upgrade_cmd(profile: Profile) -> Argv:
    if profile.package_manager == "apt":
        return ["apt-get", "upgrade", *_APT_OPTS]
    if profile.package_manager == "dnf":
        return ["dnf", "upgrade", "-y"]
    return ["yum", "update", "-y"]


def installed_packages(runner, profile: Profile) -> Set[str]:
    if profile.package_manager == "apt":
        result = runner.query(["dpkg-query", "-W", "-f", "${db:Status-Abbrev} ${Package}\n"])
        names = set()
        for line in result.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0].startswith("ii"):
                names.add(parts[-1].split(":")[0])
        return names
    result = runner.query(["rpm", "-qa", "--qf", "%{NAME}\n"])
    return {line.strip() for line in result.stdout.splitlines() if line.strip()}


def updates_pending(runner, profile: Profile) -> bool:
    if profile.package_manager == "apt":
        result = runner.query(["apt-get", "-s", "upgrade"])
        return any(line.startswith("Inst ") for line in result.stdout.splitlines())
    # yum/dnf check-update exit 100 when updates are available.
    return runner.query([profile.package_manager, "check-update", "-q"]).rc == 100


# --- services -------------------------------------------------------------

def _direct(name: str, verb: str) -> Optional[Argv]:
    """Service control without an init system (containers, CI)."""
    if name == "postfix":
        return {"start": ["postfix", "start"], "stop": ["postfix", "stop"],
                "restart": ["postfix", "reload"], "reload": ["postfix", "reload"]}.get(verb)
    if name == "dovecot":
        return {"start": ["dovecot"], "stop": ["doveadm", "stop"], "restart": ["doveadm", "reload"],
                "reload": ["doveadm", "reload"]}.get(verb)
    if name == "opendkim":
        return {"start": ["opendkim", "-x", "/etc/opendkim.conf"]}.get(verb)
    return None


def service_cmds(init: str, profile: Profile, name: str, verb: str) -> List[Argv]:
    """Commands for verb in enable|disable|start|stop|restart; [] where there is nothing to run."""
    if init == "systemd":
        return [["systemctl", verb, name]]
    if init == "sysvinit":
        if verb in ("enable", "disable"):
            if profile.family == "rhel":
                return [["chkconfig", name, "on" if verb == "enable" else "off"]]
            return [["update-rc.d", name, verb]]
        if verb == "restart" and name == "postfix":
            # inet_interfaces changes need a real stop and start.
            return [["service", name, "stop"], ["service", name, "start"]]
        return [["service", name, verb]]
    command = _direct(name, verb)
    if verb == "restart" and name == "postfix":
        return [["postfix", "stop"], ["postfix", "start"]]
    return [command] if command else []


def service_state(runner, root, init: str, profile: Profile, name: str) -> ServiceState:
    if init == "systemd":
        enabled = runner.query(["systemctl", "is-enabled", name]).stdout.strip() == "enabled"
        running = runner.query(["systemctl", "is-active", name]).stdout.strip() == "active"
        return ServiceState(enabled, running)
    if init == "sysvinit":
        if profile.family == "rhel":
            enabled = runner.query(["chkconfig", name]).rc == 0
        else:
            enabled = any(_rc_links(root, level, name) for level in "2345")
        running = runner.query(["service", name, "status"]).rc == 0
        return ServiceState(enabled, running)
    if name == "postfix":
        return ServiceState(False, runner.query(["postfix", "status"]).rc == 0)
    if name == "dovecot":
        return ServiceState(False, runner.query(["doveadm", "service", "status"]).rc == 0)
    return ServiceState()


def _rc_links(root, level: str, name: str) -> bool:
    folder = root.path(f"/etc/rc{level}.d")
    try:
        return any(entry.startswith("S") and entry[3:] == name for entry in (p.name for p in folder.iterdir()))
    except OSError:
        return False


# --- alternatives (RHEL family) --------------------------------------------

def alternatives_set_cmd(group: str, path: str) -> Argv:
    return ["alternatives", "--set", group, path]


def alternatives_auto_cmd(group: str) -> Argv:
    return ["alternatives", "--auto", group]


def alternative(runner, group: str) -> Tuple[Optional[str], str]:
    """(the path the link points to, "auto" | "manual"), or (None, "auto") without one."""
    result = runner.query(["alternatives", "--display", group])
    if not result.ok:
        return None, "auto"
    mode = "manual" if "status is manual" in result.stdout else "auto"
    for line in result.stdout.splitlines():
        if "link currently points to" in line:
            return line.split("link currently points to", 1)[1].strip(), mode
    return None, mode


# --- firewall ---------------------------------------------------------------

def firewall_open_cmds(tool: str, port: str) -> List[Argv]:
    if tool == "firewalld":
        return [["firewall-cmd", "--permanent", f"--add-port={port}"], ["firewall-cmd", f"--add-port={port}"]]
    if tool == "ufw":
        return [["ufw", "allow", port]]
    return []


def firewall_close_cmds(tool: str, port: str) -> List[Argv]:
    if tool == "firewalld":
        return [["firewall-cmd", "--permanent", f"--remove-port={port}"], ["firewall-cmd", f"--remove-port={port}"]]
    if tool == "ufw":
        return [["ufw", "delete", "allow", port]]
    return []


def active_firewall(runner, profile: Profile) -> Optional[str]:
    """The firewall tool that is running now, if any."""
    if runner.query(["firewall-cmd", "--state"]).stdout.strip() == "running":
        return "firewalld"
    if "Status: active" in runner.query(["ufw", "status"]).stdout:
        return "ufw"
    return None


_FIREWALLD_SERVICES = {"smtp": "25/tcp", "submission": "587/tcp", "imap": "143/tcp", "imaps": "993/tcp",
                       "pop3": "110/tcp", "pop3s": "995/tcp", "smtps": "465/tcp"}


def firewall_open_ports(runner, tool: Optional[str]) -> Set[str]:
    """Ports open now, as "25/tcp" (firewalld services are translated to ports)."""
    opened: Set[str] = set()
    if tool == "firewalld":
        opened.update(runner.query(["firewall-cmd", "--list-ports"]).stdout.split())
        for service in runner.query(["firewall-cmd", "--list-services"]).stdout.split():
            if service in _FIREWALLD_SERVICES:
                opened.add(_FIREWALLD_SERVICES[service])
    elif tool == "ufw":
        for line in runner.query(["ufw", "status"]).stdout.splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[1] == "ALLOW" and "(v6)" not in line:
                opened.add(parts[0] if "/" in parts[0] else f"{parts[0]}/tcp")
    return opened
