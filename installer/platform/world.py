"""The pretend-host state that every tool's pretend version works on.

A :class:`World` is plain data (``state``, saved as JSON by the sandbox):
installed packages, services, alternatives, firewall zones, SELinux, pending
updates, host name and addresses.  The tools' pretend versions
(``installer/platform/{packages,services,alternatives,firewall}.py``) change
it through the few helpers here; what crosses tools (a package install
registers its service, displaces a conflicting MTA and adds its alternative)
happens in :meth:`World.install` and :meth:`World.remove`.
"""
from __future__ import annotations

import json
from typing import Dict, Iterable, List, Optional, Sequence, Set

from installer.runner import Result
from installer.stockfiles import package_versions

Argv = List[str]


def ok(argv, stdout: str = "", stderr: str = "") -> Result:
    return Result(list(argv), 0, stdout, stderr)


def fail(argv, rc: int, stderr: str = "", stdout: str = "") -> Result:
    return Result(list(argv), rc, stdout, stderr)


def not_found(argv) -> Result:
    return Result(list(argv), 127, "", f"{argv[0]}: command not found")


def dump_state(state: dict) -> str:
    """The world as saved: sorted keys, two-space indent, a final newline."""
    return json.dumps(state, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class World:
    """The pretend system state, with the profile's tools that act on it.

    *tools* are the profile's package tool and alternatives tool (see
    ``installer.platform``); *services_by_package* says which package brings
    which service; *extra_available* are packages the pretend repositories
    hold beyond the package tool's own list (what the steps declare)."""

    def __init__(self, profile, state: dict, *, package_tool, alternatives_tool,
                 services_by_package: Dict[str, str], extra_available: Iterable[str] = ()):
        self.profile = profile
        self.state = state
        self.package_tool = package_tool
        self.alternatives_tool = alternatives_tool
        self.services_by_package = dict(services_by_package)
        self.extra_available: Set[str] = set(extra_available)

    def dump(self) -> str:
        return dump_state(self.state)

    # --- state helpers ---

    @property
    def packages(self) -> Set[str]:
        return set(self.state["packages"])

    def installed(self, name: str) -> bool:
        return name in self.state["packages"]

    @property
    def init(self) -> str:
        return self.state["init"]

    def _set_packages(self, names: Iterable[str]) -> None:
        self.state["packages"] = sorted(set(names))

    def services(self) -> Dict[str, dict]:
        return self.state["services"]

    def package_version(self, name: str) -> str:
        postfix, dovecot = package_versions(self.profile)
        if name.startswith("postfix"):
            return postfix
        if name.startswith("dovecot"):
            return dovecot
        return "1.0"

    # --- packages, across tools ---

    def _with_dependencies(self, names: Sequence[str]) -> List[str]:
        depends = self.package_tool.DEPENDS
        wanted: List[str] = []
        pending = list(names)
        while pending:
            name = pending.pop(0)
            if name not in wanted:
                wanted.append(name)
                pending.extend(depends.get(name, ()))
        return wanted

    def install(self, names: Sequence[str]) -> List[str]:
        """Install names (and what they need); returns those that were new."""
        new = [n for n in self._with_dependencies(names) if not self.installed(n)]
        packages = self.packages
        gone = self.package_tool.conflicts(self, new)
        for name in gone:
            self._forget_package(name)
        packages -= gone
        packages.update(new)
        self._set_packages(packages)
        for name in new:
            service = self.services_by_package.get(name)
            if service and service not in self.services():
                on = self.package_tool.STARTS_SERVICES
                self.services()[service] = {"enabled": on, "running": on}
            self.alternatives_tool.package_added(self, name)
        return new

    def _forget_package(self, name: str) -> None:
        service = self.services_by_package.get(name)
        if service and not any(self.services_by_package.get(p) == service for p in self.packages - {name}):
            self.services().pop(service, None)
        self.alternatives_tool.package_removed(self, name)

    def remove(self, names: Sequence[str]) -> None:
        packages = self.packages
        for name in names:
            if name in packages:
                self._forget_package(name)
                packages.discard(name)
        self._set_packages(packages)

    # --- services, across init systems ---

    def service_set(self, argv, name: str, verb: str, *, unknown_rc: int, unknown_err: str) -> Optional[Result]:
        name = name[:-len(".service")] if name.endswith(".service") else name
        state = self.services().get(name)
        if state is None:
            return fail(argv, unknown_rc, unknown_err.format(name=name))
        if verb == "enable":
            state["enabled"] = True
        elif verb == "disable":
            state["enabled"] = False
        elif verb in ("start", "restart"):
            state["running"] = True
        elif verb == "stop":
            state["running"] = False
        elif verb in ("reload", "try-restart", "condrestart", "force-reload"):
            if verb == "reload" and not state["running"] and self.init == "systemd":
                return fail(argv, 1, f"{name}.service is not active, cannot reload.")
        else:
            return None
        return ok(argv)

    def daemon_state(self, name: str, create: bool) -> dict:
        """The service entry of a daemon controlled directly (no init system)."""
        state = self.services().get(name)
        if state is None:
            state = {"enabled": False, "running": False}
            if create:
                self.services()[name] = state
        return state
