"""Init systems: systemd, sysvinit, none (containers: the daemons' own commands).

Each holds the commands a service action runs, the reading of a service's
state (facts and undo), and its pretend version for the sandbox.

A *daemon* is a step's declaration of a service (``installer.needs.Daemon``):
its name, its commands without an init system (``direct``: start, stop,
restart, status) and whether a restart must be a real stop and start.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, List, Optional, Tuple

from installer.platform.world import Argv, fail, ok
from installer.runner import Result


@dataclass
class ServiceState:
    enabled: bool = False
    running: bool = False

    def to_json(self) -> dict:
        return {"enabled": self.enabled, "running": self.running}


def _stop_start(daemon, verb: str) -> bool:
    return verb == "restart" and bool(daemon is not None and daemon.stop_start)


class InitSystem:
    name: ClassVar[str] = ""

    def __init__(self, profile):
        self.profile = profile

    def cmds(self, name: str, verb: str, daemon=None) -> List[Argv]:
        """Commands for verb in enable|disable|start|stop|restart; [] where there is nothing to run."""
        raise NotImplementedError

    def state(self, runner, root, name: str, daemon=None) -> ServiceState:
        raise NotImplementedError

    # --- pretend ---
    def commands(self, world) -> Tuple[str, ...]:
        """The commands of this init system that exist on the pretend host now."""
        return ()

    def effect(self, world, argv: List[str]) -> Optional[Result]:
        return None

    def answer(self, world, argv: List[str]) -> Optional[Result]:
        return None


class Systemd(InitSystem):
    name = "systemd"

    def cmds(self, name, verb, daemon=None):
        return [["systemctl", verb, name]]

    def state(self, runner, root, name, daemon=None):
        enabled = runner.query(["systemctl", "is-enabled", name]).stdout.strip() == "enabled"
        running = runner.query(["systemctl", "is-active", name]).stdout.strip() == "active"
        return ServiceState(enabled, running)

    # --- pretend ---

    def commands(self, world):
        return ("systemctl",) if world.init == "systemd" else ()

    def effect(self, world, argv):
        if argv[0] != "systemctl" or len(argv) < 3 or argv[1] in ("is-enabled", "is-active", "status"):
            return None
        verb = argv[1]
        unknown = ("Failed to {verb} unit: Unit file {{name}}.service does not exist." if verb in ("enable", "disable")
                   else "Failed to {verb} {{name}}.service: Unit {{name}}.service not found.").format(verb=verb)
        result = None
        for name in argv[2:]:
            if name.startswith("-"):
                continue
            result = world.service_set(argv, name, verb, unknown_rc=1 if verb in ("enable", "disable") else 5,
                                       unknown_err=unknown)
            if result is None or not result.ok:
                return result
        return result

    def answer(self, world, argv):
        if argv[0] != "systemctl" or len(argv) < 3 or argv[1] not in ("is-enabled", "is-active"):
            return None
        name = argv[2][:-len(".service")] if argv[2].endswith(".service") else argv[2]
        state = world.services().get(name)
        if argv[1] == "is-enabled":
            if state is None:
                return fail(argv, 1, f"Failed to get unit file state for {name}.service: No such file or directory")
            return Result(list(argv), 0 if state["enabled"] else 1, "enabled" if state["enabled"] else "disabled", "")
        running = bool(state and state["running"])
        return Result(list(argv), 0 if running else 3, "active" if running else "inactive", "")


class SysVinit(InitSystem):
    """``service`` to start and stop; enabling at boot with the profile's
    ``rc_tool``: ``chkconfig`` (Red Hat's initscripts) or ``update-rc.d`` (Debian)."""

    name = "sysvinit"
    RC_TOOLS = ("chkconfig", "update-rc.d")

    @property
    def rc_tool(self) -> str:
        tool = self.profile.rc_tool
        if tool not in self.RC_TOOLS:
            raise ValueError(f"profile {self.profile.id} names no tool to enable sysvinit services (rc_tool)")
        return tool

    def cmds(self, name, verb, daemon=None):
        if verb in ("enable", "disable"):
            if self.rc_tool == "chkconfig":
                return [["chkconfig", name, "on" if verb == "enable" else "off"]]
            return [["update-rc.d", name, verb]]
        if _stop_start(daemon, verb):
            return [["service", name, "stop"], ["service", name, "start"]]
        return [["service", name, verb]]

    def state(self, runner, root, name, daemon=None):
        if self.rc_tool == "chkconfig":
            enabled = runner.query(["chkconfig", name]).rc == 0
        else:
            enabled = any(_rc_links(root, level, name) for level in "2345")
        running = runner.query(["service", name, "status"]).rc == 0
        return ServiceState(enabled, running)

    # --- pretend ---

    @property
    def _redhat(self) -> bool:
        """Red Hat's initscripts: their own wording of service status."""
        return self.profile.rc_tool == "chkconfig"

    def commands(self, world):
        return ("service", self.profile.rc_tool)

    def effect(self, world, argv):
        command = argv[0]
        if command == "service":
            if len(argv) < 3 or argv[2] == "status":
                return None
            name, verb = argv[1], argv[2]
            result = world.service_set(argv, name, verb, unknown_rc=1, unknown_err="{name}: unrecognized service")
            if result is not None and result.ok and world.init == "systemd" and self._redhat:
                result.stdout = f"Redirecting to /bin/systemctl {verb} {name}.service"
            return result
        if command == "chkconfig":
            if len(argv) != 3 or argv[2] not in ("on", "off"):
                return None
            return world.service_set(argv, argv[1], "enable" if argv[2] == "on" else "disable", unknown_rc=1,
                                     unknown_err="error reading information on service {name}: "
                                                 "No such file or directory")
        if command == "update-rc.d":
            if len(argv) < 3:
                return None
            verb = {"enable": "enable", "defaults": "enable", "disable": "disable"}.get(argv[2])
            if verb is None:
                return ok(argv)
            return world.service_set(argv, argv[1], verb, unknown_rc=1,
                                     unknown_err="update-rc.d: error: cannot find a LSB script for {name}")
        return None

    def answer(self, world, argv):
        if argv[0] == "service":
            if len(argv) != 3 or argv[2] != "status":
                return None
            name = argv[1]
            state = world.services().get(name)
            if state is None:
                if self._redhat and world.init == "systemd":
                    return fail(argv, 4, f"Unit {name}.service could not be found.")
                return fail(argv, 1, f"{name}: unrecognized service")
            if self._redhat:
                process = {"postfix": "master"}.get(name, name)
                text = f"{process} (pid  4242) is running..." if state["running"] else f"{process} is stopped"
            else:
                text = f"{name} is running." if state["running"] else f"{name} is not running."
            return Result(list(argv), 0 if state["running"] else 3, text, "")
        if argv[0] == "chkconfig":
            if len(argv) != 2 or argv[1].startswith("-"):
                return None
            state = world.services().get(argv[1])
            if state is None:
                return fail(argv, 1, f"error reading information on service {argv[1]}: No such file or directory")
            return Result(list(argv), 0 if state["enabled"] else 1, "", "")
        return None


def _rc_links(root, level: str, name: str) -> bool:
    folder = root.path(f"/etc/rc{level}.d")
    try:
        return any(entry.startswith("S") and entry[3:] == name for entry in (p.name for p in folder.iterdir()))
    except OSError:
        return False


class NoInit(InitSystem):
    """No init system (containers, CI): the daemons' own commands, as each
    daemon's declaration names them; nothing can be enabled at boot."""

    name = "none"

    def cmds(self, name, verb, daemon=None):
        direct = dict(daemon.direct) if daemon is not None else {}
        if _stop_start(daemon, verb):
            return [list(direct["stop"]), list(direct["start"])]
        command = direct.get(verb) if verb != "status" else None
        return [list(command)] if command else []

    def state(self, runner, root, name, daemon=None):
        status = dict(daemon.direct).get("status") if daemon is not None else None
        if status:
            return ServiceState(False, runner.query(list(status)).rc == 0)
        return ServiceState()

    # --- pretend: Postfix's and Dovecot's own control commands ---

    def effect(self, world, argv):
        handler = {"postfix": self._postfix, "dovecot": self._dovecot, "doveadm": self._doveadm}.get(argv[0])
        return handler(world, argv) if handler else None

    def answer(self, world, argv):
        if argv[0] == "postfix":
            if argv[1:] != ["status"]:
                return None
            if world.services().get("postfix", {}).get("running"):
                return ok(argv, stderr="postfix/postfix-script: the Postfix mail system is running: PID: 4242")
            return fail(argv, 1, "postfix/postfix-script: the Postfix mail system is not running")
        if argv[0] == "doveadm":
            if argv[1:3] != ["service", "status"]:
                return None
            if world.services().get("dovecot", {}).get("running"):
                rows = ["name       process_count process_avail process_limit client_limit"]
                rows += [f"{n:<10} 1             0             100           1000"
                         for n in ("anvil", "auth", "config", "log")]
                return ok(argv, "\n".join(rows))
            return fail(argv, 75, "Error: net_connect_unix(/run/dovecot/doveadm-server) failed: "
                                  "No such file or directory\nFatal: Couldn't connect to doveadm-server")
        return None

    @staticmethod
    def _postfix(world, argv):
        verb = argv[1] if len(argv) > 1 else ""
        if verb not in ("start", "stop", "reload", "abort", "flush"):
            return None   # status, check, set-permissions ...
        state = world.daemon_state("postfix", create=verb == "start")
        if verb == "start":
            if state["running"]:
                return fail(argv, 1, "postfix/postfix-script: fatal: the Postfix mail system is already running")
            state["running"] = True
            return ok(argv, stderr="postfix/postfix-script: starting the Postfix mail system")
        if not state["running"]:
            return fail(argv, 1, "postfix/postfix-script: fatal: the Postfix mail system is not running")
        if verb in ("stop", "abort"):
            state["running"] = False
            return ok(argv, stderr="postfix/postfix-script: stopping the Postfix mail system")
        return ok(argv, stderr="postfix/postfix-script: refreshing the Postfix mail system")

    @staticmethod
    def _dovecot(world, argv):
        if len(argv) > 1:
            return None   # dovecot --version, dovecot -n ...
        state = world.daemon_state("dovecot", create=True)
        if state["running"]:
            return fail(argv, 89, "Fatal: Dovecot is already running with PID 4242 "
                                  "(read from /run/dovecot/master.pid)")
        state["running"] = True
        return ok(argv)

    @staticmethod
    def _doveadm(world, argv):
        verb = argv[1] if len(argv) > 1 else ""
        if verb not in ("stop", "reload"):
            return None
        state = world.daemon_state("dovecot", create=False)
        if not state["running"]:
            return fail(argv, 75, "Fatal: Dovecot is not running (read from /run/dovecot/master.pid)")
        if verb == "stop":
            state["running"] = False
        return ok(argv)


TOOLS = {tool.name: tool for tool in (Systemd, SysVinit, NoInit)}
