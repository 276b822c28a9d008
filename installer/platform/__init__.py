"""Platform adapters: the tools a profile names, one module per kind of tool.

- ``packages.py``: apt, yum, dnf (``profile.package_manager``);
- ``services.py``: systemd, sysvinit, none (the init system running now, ``facts.init``);
- ``alternatives.py``: alternatives or none (``profile.mta_switch``);
- ``firewall.py``: firewalld, ufw, iptables (the one running now, ``facts.firewall``);
- ``world.py``: the pretend-host state the tools' sandbox versions share.

Each adapter holds the commands its actions run, the parsers of the tool's
output (what facts read) and its pretend version for the sandbox, so that a
command form and its reading back live side by side.  The functions below
are what actions and facts call; they pick the adapter from the profile.
A profile that names a tool no adapter knows fails here, loudly.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Set, Tuple

from installer.platform import alternatives as _alternatives
from installer.platform import firewall as _firewall
from installer.platform import packages as _packages
from installer.platform import services as _services
from installer.platform.services import ServiceState  # noqa: F401  (the state facts and actions share)

Argv = List[str]


def _pick(tools: dict, name: str, what: str):
    try:
        return tools[name]
    except KeyError:
        raise ValueError(f"no {what} adapter for {name!r}; known: {', '.join(sorted(tools))}") from None


def package_tool(profile) -> _packages.PackageTool:
    return _pick(_packages.TOOLS, profile.package_manager, "package manager")(profile)


def init_system(init: str, profile) -> _services.InitSystem:
    return _pick(_services.TOOLS, init, "init system")(profile)


def alternatives_tool(profile) -> _alternatives.NoAlternatives:
    return _pick(_alternatives.TOOLS, profile.mta_switch, "alternatives")(profile)


def firewall_tool(name: str) -> _firewall.Firewall:
    return _pick(_firewall.TOOLS, name, "firewall")()


# --- packages -------------------------------------------------------------------

def package_env(profile) -> Dict[str, str]:
    return package_tool(profile).env()


def install_cmd(profile, packages: Sequence[str]) -> Argv:
    return package_tool(profile).install_cmd(packages)


def remove_cmd(profile, packages: Sequence[str]) -> Argv:
    """Removal that leaves nothing of ours behind (purge on Debian)."""
    return package_tool(profile).remove_cmd(packages)


def refresh_cmd(profile) -> Optional[Argv]:
    """Refresh the package index (apt only; yum/dnf refresh by themselves)."""
    return package_tool(profile).refresh_cmd()


def upgrade_cmd(profile) -> Argv:
    return package_tool(profile).upgrade_cmd()


def installed_packages(runner, profile) -> Set[str]:
    return package_tool(profile).installed(runner)


def updates_pending(runner, profile) -> bool:
    return package_tool(profile).updates_pending(runner)


# --- services -------------------------------------------------------------------

def service_cmds(init: str, profile, name: str, verb: str, daemon=None) -> List[Argv]:
    """Commands for verb in enable|disable|start|stop|restart; [] where there is nothing to run.

    *daemon* is the step's declaration of the service (``installer.needs.Daemon``):
    without an init system only it knows the commands."""
    return init_system(init, profile).cmds(name, verb, daemon)


def service_state(runner, root, init: str, profile, name: str, daemon=None) -> ServiceState:
    return init_system(init, profile).state(runner, root, name, daemon)


# --- alternatives ------------------------------------------------------------------

def alternatives_set_cmd(group: str, path: str) -> Argv:
    return _alternatives.Alternatives.set_cmd(group, path)


def alternatives_auto_cmd(group: str) -> Argv:
    return _alternatives.Alternatives.auto_cmd(group)


def alternative(runner, group: str) -> Tuple[Optional[str], str]:
    """(the path the link points to, "auto" | "manual"), or (None, "auto") without one."""
    return _alternatives.Alternatives(None).current(runner, group)


# --- firewall -----------------------------------------------------------------------

def firewall_open_cmds(tool: str, port: str) -> List[Argv]:
    return firewall_tool(tool).open_cmds(port)


def firewall_close_cmds(tool: str, port: str) -> List[Argv]:
    return firewall_tool(tool).close_cmds(port)


def active_firewall(runner, profile=None) -> Optional[str]:
    """The managed firewall tool that is running now, if any."""
    for name in _firewall.MANAGED:
        if firewall_tool(name).running(runner):
            return name
    return None


def firewall_open_ports(runner, tool: Optional[str]) -> Set[str]:
    """Ports open now, as "25/tcp" (firewalld services are translated to ports)."""
    if tool not in _firewall.TOOLS:
        return set()
    return firewall_tool(tool).open_ports(runner)
