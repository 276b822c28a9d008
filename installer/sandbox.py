"""The sandbox: a pretend host of any profile.

A sandbox root is a folder that stands for the target's ``/``.  It is seeded
once with the profile's stock configuration files (``installer/stock/``) and
with a *world*: the system state that files do not hold (installed packages,
services, the "mta" alternative, the firewall, SELinux, pending updates, host
name and addresses).  The world lives in ``var/lib/mailwiz/sandbox/world.json``
and is saved after every effect, so plan, apply, a second apply and rollback
behave as they would on a real host.

The tools' own pretend versions (``installer/platform/``: each adapter
builds its command forms, reads the tool's output back, and plays its
commands on the shared state, ``installer/platform/world.py``) do the work;
this module seeds a root, says which commands exist on the pretend host, and
hands each command to the adapter that owns it (``SandboxWorld.effect`` for
commands, ``SandboxWorld.answer`` for read-only queries, in the output formats
of the real tools).  The few host queries no adapter owns (host name,
addresses, SELinux mode, the mail daemons' versions) are answered here.  The world writes no file under the root
except ``world.json`` (which lives under ``var/lib/mailwiz``, outside every
comparison), so a rollback leaves the root byte-identical to its seeded state.

Seed worlds (what a fresh minimal install of each platform looks like, and
what exercises the interesting paths):

- CentOS 6: Sendmail installed and running, the "mta" alternative in auto
  mode on ``/usr/sbin/sendmail.sendmail``; iptables (no managed firewall).
- CentOS 7 / RHEL 7: Sendmail installed and pinned as the MTA in manual mode;
  firewalld running with ssh open.
- RHEL, Rocky, Alma 8-10 and Fedora: no MTA at all (minimal installs have
  carried none since RHEL 8), so no "mta" alternative yet; firewalld running.
- Debian: exim4 installed and running (Debian's default MTA); no firewall.
- Ubuntu: no MTA; ufw installed but inactive.
- SELinux is enforcing where the profile has it (the RHEL family), absent
  elsewhere.  Updates are pending in every fresh world.

Postfix and Dovecot are not installed in any seed world (the run installs
them), while their stock configuration files are seeded all the same, so
that plans show diffs against the files the packages ship.
"""
from __future__ import annotations

import ipaddress
from typing import Dict, List, Optional, Sequence

from installer import platform
from installer.i18n import Msg, N_
from installer.platform import alternatives as alternatives_mod
from installer.platform import firewall as firewall_mod
from installer.platform import packages as packages_mod
from installer.platform import services as services_mod
from installer.platform.world import World, dump_state, fail, not_found, ok
from installer.profiles import Profile
from installer.root import TargetRoot
from installer.runner import Result, SandboxRunner
from installer.stockfiles import default_hostname, package_versions, render_stock, stock_entries

SANDBOX_DIR = "/var/lib/mailwiz/sandbox"
WORLD_PATH = SANDBOX_DIR + "/world.json"
SEED_MARKER = SANDBOX_DIR + "/seeded"
WORLD_FORMAT = 1

SANDBOX_ADDRESSES = (("lo", "127.0.0.1/8"), ("eth0", "192.0.2.10/24"))   # 192.0.2.0/24: documentation range


class SandboxProfileMismatch(Exception):
    """The sandbox root was seeded for another profile."""

    def __init__(self, seeded: str, wanted: str):
        self.message = Msg(N_("This sandbox was set up for {seeded}, not {wanted}; use another --root."),
                           seeded=seeded, wanted=wanted)
        super().__init__(str(self.message))


# --- what each profile's packages are ------------------------------------------

# `dovecot --version` adds the build's commit id.
_DOVECOT_BUILDS = {"2.2.36": "1f10bfa63", "2.3.13": "89f716dc2e", "2.3.16": "7e2e900c1a",
                   "2.3.19.1": "9b53102964", "2.3.21": "47349e2482", "2.3.21.1": "d492236fa0",
                   "2.4.1": "7d8c0e5759"}

# Services that packages of the base system and of other MTAs bring; the
# services of mailwiz's own packages come from the steps' declarations.
_FOREIGN_SERVICES_BY_PACKAGE = {
    "sendmail": "sendmail", "sendmail-bin": "sendmail", "exim": "exim", "exim4-daemon-light": "exim4",
    "exim4-daemon-heavy": "exim4", "nullmailer": "nullmailer", "firewalld": "firewalld", "iptables": "iptables",
}


def services_by_package(needs) -> Dict[str, str]:
    """package -> the service it brings: the steps' services and the foreign ones."""
    table = {package: daemon.name for daemon in needs.services for package in daemon.packages}
    table.update(_FOREIGN_SERVICES_BY_PACKAGE)
    return table


def _declared(profile: Profile):
    import steps
    return steps.declared(profile)


def dovecot_version_output(profile: Profile) -> str:
    version = package_versions(profile)[1]
    build = _DOVECOT_BUILDS.get(version)
    return f"{version} ({build})" if build else version   # 2.0 printed the bare number


# --- the seed world -------------------------------------------------------------

def _seed_packages(profile: Profile) -> List[str]:
    if profile.package_manager == "apt":
        names = ["apt", "base-files", "bash", "ca-certificates", "coreutils", "dpkg", "hostname",
                 "init-system-helpers", "iproute2", "openssh-server", "openssl", "passwd", "systemd",
                 "systemd-sysv"]
        if profile.distro == "debian":
            names += ["exim4", "exim4-base", "exim4-config", "exim4-daemon-light"]
        if profile.firewall == "ufw":
            names.append("ufw")
        return sorted(names)
    names = ["basesystem", "bash", "ca-certificates", "coreutils", "cyrus-sasl-lib", "glibc", "hostname",
             "iproute", "libselinux-utils", "openssh-server", "openssl", "policycoreutils", "rpm",
             "selinux-policy-targeted", profile.package_manager]
    if profile.init == "sysvinit":
        names += ["chkconfig", "initscripts", "iptables"]
    else:
        names += ["systemd", "firewalld"]
        names.append("chkconfig" if profile.version in ("7", "8") else "alternatives")
    if profile.version in ("6", "7") and profile.distro != "fedora":
        names.append("sendmail")
    return sorted(set(names))


def initial_state(profile: Profile, needs=None) -> dict:
    """The world of a fresh install of *profile* (see the module notes)."""
    table = services_by_package(needs if needs is not None else _declared(profile))
    packages = _seed_packages(profile)
    services = {"ssh" if profile.package_manager == "apt" else "sshd": {"enabled": True, "running": True}}
    for package in packages:
        service = table.get(package)
        if service:
            services[service] = {"enabled": True, "running": True}
    alternatives = {}
    if profile.mta_switch == "alternatives" and "sendmail" in packages:
        path, _priority = alternatives_mod.MTA_ALTERNATIVES["sendmail"]
        alternatives["mta"] = {
            "current": path,
            # On 7 Postfix is the default: Sendmail being the MTA means someone pinned it.
            "mode": "auto" if profile.id == "centos-6" else "manual",
            "candidates": {path: _priority},
        }
    state = {
        "format": WORLD_FORMAT,
        "profile": profile.id,
        "init": profile.init,
        "packages": packages,
        "services": services,
        "alternatives": alternatives,
        "selinux": "enforcing" if profile.selinux else None,
        "updates_pending": True,
        "hostname": default_hostname(profile),
        "addresses": [{"ifname": name, "address": address} for name, address in SANDBOX_ADDRESSES],
    }
    if "firewalld" in packages:
        default_services = ["dhcpv6-client", "ssh"] if profile.version == "7" else ["cockpit", "dhcpv6-client", "ssh"]
        state["firewalld"] = {"ports": [], "permanent_ports": [],
                              "services": default_services, "permanent_services": list(default_services)}
    if "ufw" in packages:
        state["ufw"] = {"active": False, "rules": []}
    return state


_dump = dump_state


# --- the world ------------------------------------------------------------------

# Commands of the mail packages: they exist once the package is installed.
_POSTFIX_COMMANDS = ("postfix", "postconf", "postmap", "postalias", "postqueue", "postsuper", "postdrop")
_DOVECOT_COMMANDS = ("dovecot", "doveadm", "doveconf")
_MTA_PACKAGES = ("postfix", "sendmail", "sendmail-bin", "exim", "exim4-daemon-light", "exim4-daemon-heavy",
                 "nullmailer", "ssmtp")


class SandboxWorld(World):
    """The pretend system state of a sandbox root, saved in its world.json,
    with the profile's tools to play commands on it."""

    def __init__(self, root: TargetRoot, profile: Profile, needs=None):
        needs = needs if needs is not None else _declared(profile)
        text = root.read_text(WORLD_PATH)
        if text is None:
            state = initial_state(profile, needs)
            saved: Optional[str] = None
        else:
            import json
            state = json.loads(text)
            if state.get("profile") != profile.id:
                raise SandboxProfileMismatch(str(state.get("profile")), profile.id)
            saved = text
        super().__init__(profile, state, package_tool=platform.package_tool(profile),
                         alternatives_tool=platform.alternatives_tool(profile),
                         services_by_package=services_by_package(needs), extra_available=needs.packages)
        self.root = root
        self._saved = saved
        self.history: List[List[str]] = []   # every command given to effect(), this process only
        # Every adapter that owns commands, by kind; only the profile's own tools' commands exist.
        self.package_tools = {name: cls(profile) for name, cls in packages_mod.TOOLS.items()}
        self.init_systems = {name: cls(profile) for name, cls in services_mod.TOOLS.items()}
        self.firewalls = {name: cls() for name, cls in firewall_mod.TOOLS.items()}

    # --- persistence ---

    def save(self) -> None:
        text = self.dump()
        if text == self._saved:
            return
        self.root.makedirs(SANDBOX_DIR)
        self.root.write_atomic(WORLD_PATH, text.encode("utf-8"), mode=0o644)
        self._saved = text

    def _mta_installed(self) -> bool:
        return any(self.installed(p) for p in _MTA_PACKAGES)

    # --- which commands exist, and who plays them ---

    def _handler(self, command: str):
        """The adapter that plays *command*, or None."""
        if command in self.package_tool.COMMANDS:
            return self.package_tool
        if command == "systemctl":
            return self.init_systems["systemd"]
        if command in ("service", "chkconfig", "update-rc.d"):
            return self.init_systems["sysvinit"]
        if command in ("postfix", "dovecot", "doveadm"):
            return self.init_systems["none"]
        if command in self.alternatives_tool.COMMANDS:
            return self.alternatives_tool
        for firewall in self.firewalls.values():
            if command in firewall.COMMANDS:
                return firewall
        return None

    def _missing(self, argv: Sequence[str]) -> bool:
        """True when the command does not exist on this pretend host."""
        command = argv[0].rsplit("/", 1)[-1]
        if any(command in tool.COMMANDS for tool in self.package_tools.values()):
            return command not in self.package_tool.COMMANDS
        if command == "alternatives":
            return command not in self.alternatives_tool.COMMANDS
        if command == "systemctl":
            return command not in self.init_systems["systemd"].commands(self)
        if command in ("chkconfig", "update-rc.d"):
            return command not in self.init_systems["sysvinit"].commands(self)
        if command in _POSTFIX_COMMANDS:
            return not self.installed(self.profile.postfix_package)
        if command in _DOVECOT_COMMANDS:
            return not self.installed(self.profile.dovecot_package)
        if command in ("newaliases", "sendmail", "mailq"):
            return not self._mta_installed()
        if command == "firewall-cmd":
            return not self.installed("firewalld")
        if command == "ufw":
            return not self.installed("ufw")
        if command in ("getenforce", "setenforce"):
            return not self.installed("libselinux-utils")
        if command in ("restorecon", "chcon", "semanage"):
            return not self.installed("policycoreutils")
        return False

    # --- effects ---

    def effect(self, argv: Sequence[str]) -> Result:
        """Apply a command to the world and answer as the real command would."""
        argv = list(argv)
        self.history.append(argv)
        if not argv:
            return fail(argv, 127, "empty command")
        if self._missing(argv):
            return not_found(argv)
        handler = self._handler(argv[0].rsplit("/", 1)[-1])
        argv_short = [argv[0].rsplit("/", 1)[-1]] + argv[1:]
        result = handler.effect(self, argv_short) if handler else None
        if result is None:
            result = self._answer(argv)
        if result is None:
            result = ok(argv)      # postmap, newaliases, openssl, restorecon, postconf -e ...: no world change
        result.argv = argv
        self.save()
        return result

    # --- queries ---

    def answer(self, argv: Sequence[str]) -> Result:
        """Answer a read-only query from the world; never changes it."""
        argv = list(argv)
        if not argv:
            return fail(argv, 127, "empty command")
        if self._missing(argv):
            return not_found(argv)
        result = self._answer(argv)
        return result if result is not None else ok(argv)

    def _answer(self, argv: List[str]) -> Optional[Result]:
        command = argv[0].rsplit("/", 1)[-1]
        argv_short = [command] + argv[1:]
        handler = self._handler(command)
        result = handler.answer(self, argv_short) if handler else None
        if result is None:
            host_query = _HOST_QUERIES.get(command)
            result = host_query(self, argv_short) if host_query else None
        if result is not None:
            result.argv = list(argv)
        return result

    # --- the host queries no adapter owns ---

    def _q_getenforce(self, argv):
        mode = self.state.get("selinux")
        return ok(argv, mode.capitalize() if mode else "Disabled")

    def _q_postconf(self, argv):
        if "-h" not in argv:
            return None
        names = [a for a in argv[1:] if not a.startswith("-")]
        values = {"mail_version": package_versions(self.profile)[0], "default_database_type": self.profile.map_type}
        if not names or any(n not in values for n in names):
            return None
        return ok(argv, "\n".join(values[n] for n in names))

    def _q_dovecot(self, argv):
        if argv[1:] == ["--version"]:
            return ok(argv, dovecot_version_output(self.profile))
        return None

    def _q_hostname(self, argv):
        name = self.state["hostname"]
        if argv[1:] in (["-f"], ["--fqdn"]):
            return ok(argv, name)
        if argv[1:] in (["-s"], ["--short"]):
            return ok(argv, name.split(".")[0])
        if argv[1:] == []:
            # Debian's hostname(1) prints the short name; Red Hat's the whole one.
            return ok(argv, name.split(".")[0] if self.profile.package_manager == "apt" else name)
        return None

    def _q_ip(self, argv):
        if [a for a in argv[1:] if a != "-o"] not in (["addr", "show"], ["address", "show"], ["addr"], ["-4", "addr", "show"]):
            return None
        lines = []
        for index, entry in enumerate(self.state["addresses"], start=1):
            address = entry["address"]
            family = "inet6" if ":" in address else "inet"
            scope = "host" if entry["ifname"] == "lo" else "global"
            if family == "inet6":
                tail = f"scope {scope} "
            elif scope == "host":
                tail = f"scope host {entry['ifname']}"
            else:
                broadcast = ipaddress.ip_interface(address).network.broadcast_address
                tail = f"brd {broadcast} scope global {entry['ifname']}"
            lines.append(f"{index}: {entry['ifname']}    {family} {address} {tail}\\"
                         "       valid_lft forever preferred_lft forever")
        return ok(argv, "\n".join(lines))


_HOST_QUERIES = {
    "getenforce": SandboxWorld._q_getenforce,
    "postconf": SandboxWorld._q_postconf,
    "dovecot": SandboxWorld._q_dovecot,
    "hostname": SandboxWorld._q_hostname,
    "ip": SandboxWorld._q_ip,
}


# --- seeding and conveniences ---------------------------------------------------

def is_seeded(root: TargetRoot) -> bool:
    return root.exists(SEED_MARKER)


def seed(root: TargetRoot, profile: Profile) -> bool:
    """Seed a sandbox root once with stock files and the world; True if it seeded now.

    The marker is written last, so an interrupted seeding starts again."""
    if is_seeded(root):
        seeded = root.read_text(SEED_MARKER).strip()
        if seeded and seeded != profile.id:
            raise SandboxProfileMismatch(seeded, profile.id)
        return False
    root.base.mkdir(parents=True, exist_ok=True)
    state = initial_state(profile)
    installed = set(state["packages"])
    for entry in stock_entries(profile):
        if entry.only_installed and entry.package not in installed:
            continue
        folder = entry.target.rsplit("/", 1)[0] or "/"
        root.makedirs(folder)
        root.write_atomic(entry.target, render_stock(entry, profile, state["hostname"]), mode=entry.mode)
    root.makedirs(SANDBOX_DIR)
    root.write_atomic(WORLD_PATH, _dump(state).encode("utf-8"), mode=0o644)
    root.write_atomic(SEED_MARKER, (profile.id + "\n").encode("utf-8"), mode=0o644)
    return True


def open_world(root: TargetRoot, profile: Profile) -> SandboxWorld:
    return SandboxWorld(root, profile)


def make_runner(root: TargetRoot, profile: Profile, **kwargs) -> SandboxRunner:
    """A runner that records commands and plays them on the root's world."""
    return SandboxRunner(open_world(root, profile), **kwargs)
