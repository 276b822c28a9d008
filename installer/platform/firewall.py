"""Firewalls: firewalld, ufw, and plain iptables rules (which mailwiz leaves alone).

Each holds the commands that open and close a port, the parser of the tool's
listing (the open ports, for facts and undo), and its pretend version.
"""
from __future__ import annotations

from typing import ClassVar, List, Optional, Set, Tuple

from installer.platform.world import Argv, fail, ok

# firewalld's services for mail, as ports.
_FIREWALLD_SERVICES = {"smtp": "25/tcp", "submission": "587/tcp", "imap": "143/tcp", "imaps": "993/tcp",
                       "pop3": "110/tcp", "pop3s": "995/tcp", "smtps": "465/tcp"}


class Firewall:
    name: ClassVar[str] = ""
    COMMANDS: ClassVar[Tuple[str, ...]] = ()

    def open_cmds(self, port: str) -> List[Argv]:
        return []

    def close_cmds(self, port: str) -> List[Argv]:
        return []

    def running(self, runner) -> bool:
        return False

    def open_ports(self, runner) -> Set[str]:
        """Ports open now, as "25/tcp"."""
        return set()

    # --- pretend ---
    def effect(self, world, argv) -> Optional[object]:
        return None

    def answer(self, world, argv) -> Optional[object]:
        return None


class Iptables(Firewall):
    """Plain iptables rules (CentOS 6, Debian): nothing mailwiz manages."""

    name = "iptables"


class Firewalld(Firewall):
    name = "firewalld"
    COMMANDS = ("firewall-cmd",)

    def open_cmds(self, port):
        return [["firewall-cmd", "--permanent", f"--add-port={port}"], ["firewall-cmd", f"--add-port={port}"]]

    def close_cmds(self, port):
        return [["firewall-cmd", "--permanent", f"--remove-port={port}"], ["firewall-cmd", f"--remove-port={port}"]]

    def running(self, runner):
        return runner.query(["firewall-cmd", "--state"]).stdout.strip() == "running"

    def open_ports(self, runner):
        """Ports and services open now (services translated to ports)."""
        opened = set(runner.query(["firewall-cmd", "--list-ports"]).stdout.split())
        for service in runner.query(["firewall-cmd", "--list-services"]).stdout.split():
            if service in _FIREWALLD_SERVICES:
                opened.add(_FIREWALLD_SERVICES[service])
        return opened

    # --- pretend ---

    @staticmethod
    def _running(world) -> bool:
        return bool(world.services().get("firewalld", {}).get("running")) and "firewalld" in world.state

    def effect(self, world, argv):
        changes = [a for a in argv[1:] if a.startswith(("--add-", "--remove-")) or a == "--reload"]
        if not changes:
            return None
        if not self._running(world):
            return fail(argv, 252, "FirewallD is not running")
        zone = world.state["firewalld"]
        permanent = "--permanent" in argv
        notes = []
        for arg in changes:
            if arg == "--reload":
                zone["ports"] = list(zone["permanent_ports"])
                zone["services"] = list(zone["permanent_services"])
                continue
            option, _, value = arg.partition("=")
            kind = "ports" if option.endswith("-port") else "services" if option.endswith("-service") else None
            if kind is None or not value:
                return fail(argv, 2, f"usage: unknown option {arg}")
            key = f"permanent_{kind}" if permanent else kind
            items = set(zone[key])
            if option.startswith("--add-"):
                if value in items:
                    notes.append(f"Warning: ALREADY_ENABLED: {value.replace('/', ':')}")
                items.add(value)
            else:
                if value not in items:
                    notes.append(f"Warning: NOT_ENABLED: {value.replace('/', ':')}")
                items.discard(value)
            zone[key] = sorted(items)
        return ok(argv, "success", "\n".join(notes))

    def answer(self, world, argv):
        if argv[1:] == ["--state"]:
            return ok(argv, "running") if self._running(world) else fail(argv, 252, "", "not running")
        listing = [a for a in argv[1:] if a.startswith("--list-")]
        if not listing:
            return None
        if not self._running(world):
            return fail(argv, 252, "FirewallD is not running")
        zone = world.state["firewalld"]
        prefix = "permanent_" if "--permanent" in argv else ""
        if listing[0] == "--list-ports":
            return ok(argv, " ".join(zone[prefix + "ports"]))
        if listing[0] == "--list-services":
            return ok(argv, " ".join(zone[prefix + "services"]))
        return None


class Ufw(Firewall):
    name = "ufw"
    COMMANDS = ("ufw",)

    def open_cmds(self, port):
        return [["ufw", "allow", port]]

    def close_cmds(self, port):
        return [["ufw", "delete", "allow", port]]

    def running(self, runner):
        return "Status: active" in runner.query(["ufw", "status"]).stdout

    def open_ports(self, runner):
        opened = set()
        for line in runner.query(["ufw", "status"]).stdout.splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[1] == "ALLOW" and "(v6)" not in line:
                opened.add(parts[0] if "/" in parts[0] else f"{parts[0]}/tcp")
        return opened

    # --- pretend ---

    def effect(self, world, argv):
        firewall = world.state.get("ufw")
        if firewall is None or len(argv) < 2 or argv[1] == "status":
            return None
        if argv[1] in ("enable", "disable"):
            firewall["active"] = argv[1] == "enable"
            return ok(argv, "Firewall is active and enabled on system startup" if firewall["active"]
                      else "Firewall stopped and disabled on system startup")
        rules = set(firewall["rules"])
        if argv[1] == "allow" and len(argv) == 3:
            if argv[2] in rules:
                return ok(argv, "Skipping adding existing rule\nSkipping adding existing rule (v6)")
            rules.add(argv[2])
            firewall["rules"] = sorted(rules)
            return ok(argv, "Rules updated\nRules updated (v6)")
        if argv[1:3] == ["delete", "allow"] and len(argv) == 4:
            if argv[3] not in rules:
                return ok(argv, "Could not delete non-existent rule\nCould not delete non-existent rule (v6)")
            rules.discard(argv[3])
            firewall["rules"] = sorted(rules)
            return ok(argv, "Rule deleted\nRule deleted (v6)")
        return None

    def answer(self, world, argv):
        if argv[1:2] != ["status"]:
            return None
        firewall = world.state.get("ufw") or {"active": False, "rules": []}
        if not firewall["active"]:
            return ok(argv, "Status: inactive")
        rules = firewall["rules"]
        lines = ["Status: active", "", f"{'To':<27}{'Action':<12}From", f"{'--':<27}{'------':<12}----"]
        lines += [f"{r:<27}{'ALLOW':<12}Anywhere" for r in rules]
        lines += [f"{r + ' (v6)':<27}{'ALLOW':<12}Anywhere (v6)" for r in rules]
        return ok(argv, "\n".join(lines))


TOOLS = {tool.name: tool for tool in (Firewalld, Ufw, Iptables)}
# The managed tools, in the order facts look for the one that runs.
MANAGED = ("firewalld", "ufw")
