"""The sandbox: a pretend host of any profile.

A sandbox root is a folder that stands for the target's ``/``.  It is seeded
once with the profile's stock configuration files (``installer/stock/``) and
with a *world*: the system state that files do not hold (installed packages,
services, the "mta" alternative, the firewall, SELinux, pending updates, host
name and addresses).  The world lives in ``var/lib/mailwiz/sandbox/world.json``
and is saved after every effect, so plan, apply, a second apply and rollback
behave as they would on a real host.

``SandboxWorld.effect`` applies exactly the command forms that
``installer/system.py`` builds; ``SandboxWorld.answer`` answers exactly the
queries that ``installer/system.py`` and ``installer/facts.py`` make, in the
output formats of the real tools.  The world writes no file under the root
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
- Every RHEL-family world has SELinux enforcing; Debian-family worlds have
  none.  Updates are pending in every fresh world.

Postfix and Dovecot are not installed in any seed world (the run installs
them), while their stock configuration files are seeded all the same, so
that plans show diffs against the files the packages ship.
"""
from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from installer.i18n import Msg, N_
from installer.profiles import Profile
from installer.root import TargetRoot
from installer.runner import Result, SandboxRunner

SANDBOX_DIR = "/var/lib/mailwiz/sandbox"
WORLD_PATH = SANDBOX_DIR + "/world.json"
SEED_MARKER = SANDBOX_DIR + "/seeded"
WORLD_FORMAT = 1

STOCK_DIR = Path(__file__).resolve().parent / "stock"

SANDBOX_ADDRESSES = (("lo", "127.0.0.1/8"), ("eth0", "192.0.2.10/24"))   # 192.0.2.0/24: documentation range


class SandboxProfileMismatch(Exception):
    """The sandbox root was seeded for another profile."""

    def __init__(self, seeded: str, wanted: str):
        self.message = Msg(N_("This sandbox was set up for {seeded}, not {wanted}; use another --root."),
                           seeded=seeded, wanted=wanted)
        super().__init__(str(self.message))


# --- what each profile's packages are ------------------------------------------

# Full versions of the packages a profile ships (the profile holds major.minor).
_VERSIONS: Dict[str, Tuple[str, str]] = {
    # key: (postfix, dovecot)
    "centos-6": ("2.6.6", "2.0.9"),
    "el-7": ("2.10.1", "2.2.36"),
    "el-8": ("3.5.8", "2.3.16"),
    "el-9": ("3.5.25", "2.3.16"),
    "el-10": ("3.8.5", "2.3.21"),
    "fedora-42": ("3.10.1", "2.3.21.1"),
    "fedora-43": ("3.10.4", "2.4.1"),
    "debian-11": ("3.5.25", "2.3.13"),
    "debian-12": ("3.7.11", "2.3.19.1"),
    "debian-13": ("3.10.4", "2.4.1"),
    "ubuntu-22.04": ("3.6.4", "2.3.16"),
    "ubuntu-24.04": ("3.8.6", "2.3.21"),
}
# `dovecot --version` adds the build's commit id.
_DOVECOT_BUILDS = {"2.2.36": "1f10bfa63", "2.3.13": "89f716dc2e", "2.3.16": "7e2e900c1a",
                   "2.3.19.1": "9b53102964", "2.3.21": "47349e2482", "2.3.21.1": "d492236fa0",
                   "2.4.1": "7d8c0e5759"}

# Debian's compatibility_level in the main.cf its postinst writes.
_DEBIAN_COMPAT = {"debian-11": "2", "ubuntu-22.04": "3.6"}

_MTA_ALTERNATIVES = {  # RHEL family: package -> (alternatives path, priority)
    "sendmail": ("/usr/sbin/sendmail.sendmail", 90),
    "postfix": ("/usr/sbin/sendmail.postfix", 30),
    "exim": ("/usr/sbin/sendmail.exim", 10),
}
_MTA_SLAVES = ("mailq", "newaliases", "rmail")

def _service_of(profile: Profile, package: str) -> Optional[str]:
    """The service a package brings (certbot: the renewal timer, where it is one to enable)."""
    if package == "certbot":
        return profile.certbot_timer or None
    return _SERVICES_BY_PACKAGE.get(package)


_SERVICES_BY_PACKAGE = {
    "postfix": "postfix", "dovecot": "dovecot", "dovecot-core": "dovecot", "sendmail": "sendmail",
    "sendmail-bin": "sendmail", "exim": "exim", "exim4-daemon-light": "exim4", "exim4-daemon-heavy": "exim4",
    "nullmailer": "nullmailer", "firewalld": "firewalld", "iptables": "iptables", "opendkim": "opendkim",
}

# apt: packages that provide mail-transport-agent conflict with each other.
_DEBIAN_MTAS = ("postfix", "exim4-daemon-light", "exim4-daemon-heavy", "sendmail-bin", "nullmailer", "ssmtp")
# ... and these go with the MTA they depend on.
_DEBIAN_MTA_DEPENDENTS = {"exim4": ("exim4-daemon-light", "exim4-daemon-heavy"), "sendmail": ("sendmail-bin",)}
_DEBIAN_DEPENDS = {"dovecot-imapd": ("dovecot-core",), "dovecot-pop3d": ("dovecot-core",),
                   "dovecot-lmtpd": ("dovecot-core",), "dovecot-sieve": ("dovecot-core",),
                   "exim4": ("exim4-base", "exim4-config", "exim4-daemon-light"),
                   "exim4-daemon-light": ("exim4-base", "exim4-config"), "sendmail": ("sendmail-bin",),
                   "postfix-lmdb": ("postfix",), "postfix-pcre": ("postfix",)}
_RHEL_DEPENDS = {"cyrus-sasl-plain": ("cyrus-sasl-lib",), "cyrus-sasl": ("cyrus-sasl-lib",),
                 "postfix-lmdb": ("postfix",), "postfix-pcre": ("postfix",), "sendmail-cf": ("sendmail",)}

_RHEL_AVAILABLE = {
    "postfix", "postfix-lmdb", "postfix-pcre", "dovecot", "dovecot-pigeonhole", "sendmail", "sendmail-cf", "exim",
    "cyrus-sasl", "cyrus-sasl-lib", "cyrus-sasl-plain", "cyrus-sasl-md5", "openssl", "ca-certificates",
    "policycoreutils", "policycoreutils-python", "policycoreutils-python-utils", "libselinux-utils",
    "firewalld", "mailx", "s-nail", "telnet", "nc", "nmap-ncat", "bind-utils", "swaks", "crypto-policies",
    "epel-release", "opendkim", "certbot",
}
_DEBIAN_AVAILABLE = {
    "postfix", "postfix-lmdb", "postfix-pcre", "dovecot-core", "dovecot-imapd", "dovecot-pop3d",
    "dovecot-lmtpd", "dovecot-sieve", "exim4", "exim4-base", "exim4-config", "exim4-daemon-light",
    "exim4-daemon-heavy", "sendmail", "sendmail-bin", "nullmailer", "ssl-cert", "openssl", "ca-certificates",
    "libsasl2-modules", "sasl2-bin", "bsd-mailx", "mailutils", "ufw", "swaks", "telnet", "netcat-openbsd",
    "dnsutils", "opendkim", "opendkim-tools", "certbot",
}

_PENDING_UPDATES = ("openssl", "ca-certificates")


def _version_key(profile: Profile) -> str:
    if profile.family == "rhel" and profile.distro != "fedora" and profile.id != "centos-6":
        return f"el-{profile.version}"
    return profile.id


def package_versions(profile: Profile) -> Tuple[str, str]:
    """(postfix, dovecot) full version strings of the profile's packages."""
    found = _VERSIONS.get(_version_key(profile))
    if found:
        return found
    return (".".join(map(str, profile.postfix_version)) + ".0", ".".join(map(str, profile.dovecot_version)) + ".0")


def dovecot_version_output(profile: Profile) -> str:
    version = package_versions(profile)[1]
    build = _DOVECOT_BUILDS.get(version)
    return f"{version} ({build})" if build else version   # 2.0 printed the bare number


def default_hostname(profile: Profile) -> str:
    """The name a fresh install of the platform has."""
    if profile.distro == "fedora":
        return "fedora"
    if profile.family == "debian":
        return profile.distro          # the installer's proposal: "debian", "ubuntu"
    return "localhost.localdomain"


def _dovecot_package(profile: Profile) -> str:
    return profile.base_packages[1]


def _available(profile: Profile) -> Set[str]:
    return _DEBIAN_AVAILABLE if profile.family == "debian" else _RHEL_AVAILABLE


def _uses_followers(profile: Profile) -> bool:
    """alternatives(8) says "follower" instead of "slave" from RHEL 9."""
    return profile.distro == "fedora" or (profile.version.isdigit() and int(profile.version) >= 9)


# --- the seed world -------------------------------------------------------------

def _seed_packages(profile: Profile) -> List[str]:
    if profile.family == "debian":
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


def initial_state(profile: Profile) -> dict:
    """The world of a fresh install of *profile* (see the module notes)."""
    packages = _seed_packages(profile)
    services = {"sshd" if profile.family == "rhel" else "ssh": {"enabled": True, "running": True}}
    for package in packages:
        service = _service_of(profile, package)
        if service:
            services[service] = {"enabled": True, "running": True}
    alternatives = {}
    if profile.family == "rhel" and "sendmail" in packages:
        path, _priority = _MTA_ALTERNATIVES["sendmail"]
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


def _dump(state: dict) -> str:
    return json.dumps(state, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --- the world ------------------------------------------------------------------

def _ok(argv, stdout: str = "", stderr: str = "") -> Result:
    return Result(list(argv), 0, stdout, stderr)


def _fail(argv, rc: int, stderr: str = "", stdout: str = "") -> Result:
    return Result(list(argv), rc, stdout, stderr)


def _not_found(argv) -> Result:
    return Result(list(argv), 127, "", f"{argv[0]}: command not found")


class SandboxWorld:
    """The pretend system state of a sandbox root."""

    def __init__(self, root: TargetRoot, profile: Profile):
        self.root = root
        self.profile = profile
        self.history: List[List[str]] = []   # every command given to effect(), this process only
        text = root.read_text(WORLD_PATH)
        if text is None:
            self.state = initial_state(profile)
            self._saved: Optional[str] = None
        else:
            self.state = json.loads(text)
            if self.state.get("profile") != profile.id:
                raise SandboxProfileMismatch(str(self.state.get("profile")), profile.id)
            self._saved = text

    # --- persistence ---

    def dump(self) -> str:
        """The world as saved: sorted keys, two-space indent, a final newline."""
        return _dump(self.state)

    def save(self) -> None:
        text = self.dump()
        if text == self._saved:
            return
        self.root.makedirs(SANDBOX_DIR)
        self.root.write_atomic(WORLD_PATH, text.encode("utf-8"), mode=0o644)
        self._saved = text

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

    def _services(self) -> Dict[str, dict]:
        return self.state["services"]

    def _mta_installed(self) -> bool:
        return any(self.installed(p) for p in ("postfix", "sendmail", "sendmail-bin", "exim", "exim4-daemon-light",
                                               "exim4-daemon-heavy", "nullmailer", "ssmtp"))

    # --- which commands exist ---

    def _missing(self, argv: Sequence[str]) -> bool:
        """True when the command does not exist on this pretend host."""
        command = argv[0].rsplit("/", 1)[-1]
        family = self.profile.family
        if command in ("apt-get", "apt", "dpkg", "dpkg-query", "update-rc.d", "debconf-set-selections"):
            return family != "debian"
        if command in ("rpm", "chkconfig", "alternatives"):
            return family != "rhel"
        if command == "yum":
            return family != "rhel"          # on dnf platforms yum is dnf
        if command == "dnf":
            return self.profile.package_manager != "dnf"
        if command == "systemctl":
            return self.init != "systemd"
        if command in ("postfix", "postconf", "postmap", "postalias", "postqueue", "postsuper", "postdrop"):
            return not self.installed("postfix")
        if command in ("dovecot", "doveadm", "doveconf"):
            return not self.installed(_dovecot_package(self.profile))
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
            return _fail(argv, 127, "empty command")
        if self._missing(argv):
            return _not_found(argv)
        handler = _EFFECTS.get(argv[0].rsplit("/", 1)[-1])
        result = handler(self, argv) if handler else None
        if result is None:
            result = self._answer(argv)
        if result is None:
            result = _ok(argv)      # postmap, newaliases, openssl, restorecon, postconf -e ...: no world change
        self.save()
        return result

    # packages

    def _package_args(self, argv: Sequence[str]) -> List[str]:
        names, skip = [], False
        for arg in argv[2:]:
            if skip:
                skip = False
            elif arg == "-o":
                skip = True
            elif arg.startswith("https://") and arg.endswith(".rpm"):
                # dnf installs a package from its address: epel-release-latest-9.noarch.rpm
                names.append(arg.rsplit("/", 1)[1].split("-latest")[0])
            elif not arg.startswith("-"):
                names.append(arg)
        return names

    def _with_dependencies(self, names: Sequence[str]) -> List[str]:
        depends = _DEBIAN_DEPENDS if self.profile.family == "debian" else _RHEL_DEPENDS
        wanted: List[str] = []
        pending = list(names)
        while pending:
            name = pending.pop(0)
            if name not in wanted:
                wanted.append(name)
                pending.extend(depends.get(name, ()))
        return wanted

    def _install(self, names: Sequence[str]) -> List[str]:
        """Install names (and what they need); returns those that were new."""
        new = [n for n in self._with_dependencies(names) if not self.installed(n)]
        packages = self.packages
        if self.profile.family == "debian":
            for name in new:
                if name in _DEBIAN_MTAS:
                    conflicting = {m for m in _DEBIAN_MTAS if m != name}
                    for dependent, needs in _DEBIAN_MTA_DEPENDENTS.items():
                        if all(n in conflicting or n not in packages for n in needs):
                            conflicting.add(dependent)
                    for gone in conflicting & packages:
                        self._forget_package(gone)
                    packages -= conflicting
        packages.update(new)
        self._set_packages(packages)
        for name in new:
            service = _service_of(self.profile, name)
            if service and service not in self._services():
                # Debian's maintainer scripts enable and start a service; RHEL's leave it off.
                on = self.profile.family == "debian"
                self._services()[service] = {"enabled": on, "running": on}
            if self.profile.family == "rhel" and name in _MTA_ALTERNATIVES:
                self._alternative_add("mta", *_MTA_ALTERNATIVES[name])
        return new

    def _forget_package(self, name: str) -> None:
        service = _service_of(self.profile, name)
        if service and not any(_service_of(self.profile, p) == service for p in self.packages - {name}):
            self._services().pop(service, None)
        if self.profile.family == "rhel" and name in _MTA_ALTERNATIVES:
            self._alternative_remove("mta", _MTA_ALTERNATIVES[name][0])

    def _remove(self, names: Sequence[str]) -> None:
        packages = self.packages
        for name in names:
            if name in packages:
                self._forget_package(name)
                packages.discard(name)
        self._set_packages(packages)

    def _apt_get(self, argv):
        verb = argv[1] if len(argv) > 1 else ""
        if verb == "-s":
            return None                     # a simulation: a query
        if verb == "update":
            return _ok(argv, "Reading package lists... Done")
        if verb == "upgrade":
            self.state["updates_pending"] = False
            return _ok(argv, "Reading package lists... Done\nCalculating upgrade... Done")
        names = self._package_args(argv)
        unknown = [n for n in names if n not in _available(self.profile) and not self.installed(n)]
        if verb == "install":
            if unknown:
                return _fail(argv, 100, f"E: Unable to locate package {unknown[0]}")
            before = self.packages
            new = self._install(names)
            removed = sorted(before - self.packages)
            lines = [f"{n} is already the newest version." for n in names if n not in new]
            if removed:
                lines.append("The following packages will be REMOVED:\n  " + " ".join(removed))
            if new:
                lines.append("The following NEW packages will be installed:\n  " + " ".join(sorted(new)))
            lines.append(f"{len(new)} newly installed, {len(removed)} to remove.")
            return _ok(argv, "\n".join(lines))
        if verb in ("purge", "remove"):
            if unknown:
                return _fail(argv, 100, f"E: Unable to locate package {unknown[0]}")
            lines = [f"Package '{n}' is not installed, so not removed" for n in names if not self.installed(n)]
            present = [n for n in names if self.installed(n)]
            self._remove(present)
            if present:
                lines.append("The following packages will be REMOVED:\n  " + " ".join(f"{n}*" for n in present))
            return _ok(argv, "\n".join(lines))
        return None

    def _yum_dnf(self, argv):
        tool = "dnf" if self.profile.package_manager == "dnf" else "yum"   # yum is dnf on dnf platforms
        verb = argv[1] if len(argv) > 1 else ""
        if verb in ("update", "upgrade"):
            self.state["updates_pending"] = False
            return _ok(argv, "Complete!")
        if verb == "check-update":
            return None
        names = self._package_args(argv)
        if verb == "install":
            unknown = [n for n in names if n not in _available(self.profile) and not self.installed(n)]
            if unknown:
                if tool == "yum":
                    return _fail(argv, 1, f"No package {unknown[0]} available.\nError: Nothing to do")
                return _fail(argv, 1, f"No match for argument: {unknown[0]}\nError: Unable to find a match: "
                                      f"{' '.join(unknown)}")
            new = self._install(names)
            lines = [f"Package {n} is already installed." for n in names if n not in new]
            lines.append("Installed:\n  " + " ".join(sorted(new)) if new else "Nothing to do.")
            return _ok(argv, "\n".join(lines + ["Complete!"]))
        if verb in ("remove", "erase"):
            absent = [n for n in names if not self.installed(n)]
            present = [n for n in names if self.installed(n)]
            if absent and not present and tool == "dnf" and self.profile.distro == "fedora":
                # dnf5 (Fedora 41+) fails where dnf4 and yum only warn.
                return _fail(argv, 1, "Failed to resolve the transaction:\n" + "\n".join(
                    f"No packages to remove for argument: {n}" for n in absent))
            self._remove(present)
            lines = [f"No match for argument: {n}" for n in absent]
            lines.append("Removed:\n  " + " ".join(present) if present else "No packages marked for removal.")
            return _ok(argv, "\n".join(lines + ["Complete!"]))
        return None

    # services

    def _service_set(self, argv, name: str, verb: str, *, unknown_rc: int, unknown_err: str):
        name = name[:-len(".service")] if name.endswith(".service") else name
        state = self._services().get(name)
        if state is None:
            return _fail(argv, unknown_rc, unknown_err.format(name=name))
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
                return _fail(argv, 1, f"{name}.service is not active, cannot reload.")
        else:
            return None
        return _ok(argv)

    def _systemctl(self, argv):
        if len(argv) < 3 or argv[1] in ("is-enabled", "is-active", "status"):
            return None
        verb = argv[1]
        unknown = ("Failed to {verb} unit: Unit file {{name}}.service does not exist." if verb in ("enable", "disable")
                   else "Failed to {verb} {{name}}.service: Unit {{name}}.service not found.").format(verb=verb)
        result = None
        for name in argv[2:]:
            if name.startswith("-"):
                continue
            result = self._service_set(argv, name, verb, unknown_rc=1 if verb in ("enable", "disable") else 5,
                                       unknown_err=unknown)
            if result is None or not result.ok:
                return result
        return result

    def _service(self, argv):
        if len(argv) < 3 or argv[2] == "status":
            return None
        name, verb = argv[1], argv[2]
        result = self._service_set(argv, name, verb, unknown_rc=1, unknown_err="{name}: unrecognized service")
        if result is not None and result.ok and self.init == "systemd" and self.profile.family == "rhel":
            result.stdout = f"Redirecting to /bin/systemctl {verb} {name}.service"
        return result

    def _chkconfig(self, argv):
        if len(argv) != 3 or argv[2] not in ("on", "off"):
            return None
        return self._service_set(argv, argv[1], "enable" if argv[2] == "on" else "disable", unknown_rc=1,
                                 unknown_err="error reading information on service {name}: No such file or directory")

    def _update_rc_d(self, argv):
        if len(argv) < 3:
            return None
        verb = {"enable": "enable", "defaults": "enable", "disable": "disable"}.get(argv[2])
        if verb is None:
            return _ok(argv)
        return self._service_set(argv, argv[1], verb, unknown_rc=1,
                                 unknown_err="update-rc.d: error: cannot find a LSB script for {name}")

    def _daemon_state(self, name: str, create: bool) -> dict:
        """The service entry of a daemon controlled directly (no init system)."""
        state = self._services().get(name)
        if state is None:
            state = {"enabled": False, "running": False}
            if create:
                self._services()[name] = state
        return state

    def _postfix(self, argv):
        verb = argv[1] if len(argv) > 1 else ""
        if verb not in ("start", "stop", "reload", "abort", "flush"):
            return None   # status, check, set-permissions ...
        state = self._daemon_state("postfix", create=verb == "start")
        if verb == "start":
            if state["running"]:
                return _fail(argv, 1, "postfix/postfix-script: fatal: the Postfix mail system is already running")
            state["running"] = True
            return _ok(argv, stderr="postfix/postfix-script: starting the Postfix mail system")
        if not state["running"]:
            return _fail(argv, 1, "postfix/postfix-script: fatal: the Postfix mail system is not running")
        if verb in ("stop", "abort"):
            state["running"] = False
            return _ok(argv, stderr="postfix/postfix-script: stopping the Postfix mail system")
        return _ok(argv, stderr="postfix/postfix-script: refreshing the Postfix mail system")

    def _dovecot(self, argv):
        if len(argv) > 1:
            return None   # dovecot --version, dovecot -n ...
        state = self._daemon_state("dovecot", create=True)
        if state["running"]:
            return _fail(argv, 89, "Fatal: Dovecot is already running with PID 4242 (read from /run/dovecot/master.pid)")
        state["running"] = True
        return _ok(argv)

    def _doveadm(self, argv):
        verb = argv[1] if len(argv) > 1 else ""
        if verb not in ("stop", "reload"):
            return None
        state = self._daemon_state("dovecot", create=False)
        if not state["running"]:
            return _fail(argv, 75, "Fatal: Dovecot is not running (read from /run/dovecot/master.pid)")
        if verb == "stop":
            state["running"] = False
        return _ok(argv)

    # alternatives

    def _alternative_add(self, group: str, path: str, priority: int) -> None:
        entry = self.state["alternatives"].setdefault(group, {"current": None, "mode": "auto", "candidates": {}})
        entry["candidates"][path] = priority
        if entry["mode"] == "auto" or entry["current"] is None:
            entry["current"] = self._best(entry)

    def _alternative_remove(self, group: str, path: str) -> None:
        entry = self.state["alternatives"].get(group)
        if not entry or path not in entry["candidates"]:
            return
        del entry["candidates"][path]
        if not entry["candidates"]:
            del self.state["alternatives"][group]
            return
        if entry["current"] == path:
            entry["mode"] = "auto"      # what alternatives(8) does when the manual choice goes away
        if entry["mode"] == "auto":
            entry["current"] = self._best(entry)

    @staticmethod
    def _best(entry: dict) -> str:
        return max(entry["candidates"].items(), key=lambda item: (item[1], item[0]))[0]

    def _alternatives(self, argv):
        if len(argv) >= 4 and argv[1] == "--set":
            group, path = argv[2], argv[3]
            entry = self.state["alternatives"].get(group)
            if entry is None:
                return _fail(argv, 2, f"cannot access /var/lib/alternatives/{group}: No such file or directory")
            if path not in entry["candidates"]:
                return _fail(argv, 2, f"{path} has not been configured as an alternative for {group}")
            entry["current"], entry["mode"] = path, "manual"
            return _ok(argv)
        if len(argv) >= 3 and argv[1] == "--auto":
            entry = self.state["alternatives"].get(argv[2])
            if entry is None:
                return _fail(argv, 2, f"cannot access /var/lib/alternatives/{argv[2]}: No such file or directory")
            entry["mode"], entry["current"] = "auto", self._best(entry)
            return _ok(argv)
        return None

    # firewall

    def _firewalld_running(self) -> bool:
        return bool(self._services().get("firewalld", {}).get("running")) and "firewalld" in self.state

    def _firewall_cmd(self, argv):
        changes = [a for a in argv[1:] if a.startswith(("--add-", "--remove-")) or a == "--reload"]
        if not changes:
            return None
        if not self._firewalld_running():
            return _fail(argv, 252, "FirewallD is not running")
        zone = self.state["firewalld"]
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
                return _fail(argv, 2, f"usage: unknown option {arg}")
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
        return _ok(argv, "success", "\n".join(notes))

    def _ufw(self, argv):
        firewall = self.state.get("ufw")
        if firewall is None or len(argv) < 2 or argv[1] == "status":
            return None
        if argv[1] in ("enable", "disable"):
            firewall["active"] = argv[1] == "enable"
            return _ok(argv, "Firewall is active and enabled on system startup" if firewall["active"]
                       else "Firewall stopped and disabled on system startup")
        rules = set(firewall["rules"])
        if argv[1] == "allow" and len(argv) == 3:
            if argv[2] in rules:
                return _ok(argv, "Skipping adding existing rule\nSkipping adding existing rule (v6)")
            rules.add(argv[2])
            firewall["rules"] = sorted(rules)
            return _ok(argv, "Rules updated\nRules updated (v6)")
        if argv[1:3] == ["delete", "allow"] and len(argv) == 4:
            if argv[3] not in rules:
                return _ok(argv, "Could not delete non-existent rule\nCould not delete non-existent rule (v6)")
            rules.discard(argv[3])
            firewall["rules"] = sorted(rules)
            return _ok(argv, "Rule deleted\nRule deleted (v6)")
        return None

    # --- queries ---

    def answer(self, argv: Sequence[str]) -> Result:
        """Answer a read-only query from the world; never changes it."""
        argv = list(argv)
        if not argv:
            return _fail(argv, 127, "empty command")
        if self._missing(argv):
            return _not_found(argv)
        result = self._answer(argv)
        return result if result is not None else _ok(argv)

    def _answer(self, argv: List[str]) -> Optional[Result]:
        handler = _QUERIES.get(argv[0].rsplit("/", 1)[-1])
        return handler(self, argv) if handler else None

    def _q_dpkg_query(self, argv):
        if "-W" not in argv and "--show" not in argv:
            return None
        fmt = "${Package}\t${Version}\n"
        names: List[str] = []
        rest = argv[1:]
        i = 0
        while i < len(rest):
            arg = rest[i]
            if arg in ("-f", "--showformat"):
                fmt = rest[i + 1] if i + 1 < len(rest) else fmt
                i += 1
            elif arg.startswith("--showformat="):
                fmt = arg.split("=", 1)[1]
            elif arg.startswith("-f") and len(arg) > 2:
                fmt = arg[2:]
            elif not arg.startswith("-"):
                names.append(arg)
            i += 1
        fmt = fmt.replace("\\n", "\n").replace("\\t", "\t")
        if names:
            missing = [n for n in names if not self.installed(n) and n not in _available(self.profile)]
            shown = [n for n in names if n not in missing]
        else:
            missing, shown = [], sorted(self.packages)
        out = []
        for name in shown:
            on = self.installed(name)
            out.append(fmt.replace("${db:Status-Abbrev}", "ii " if on else "un ")
                       .replace("${Status}", "install ok installed" if on else "unknown ok not-installed")
                       .replace("${Package}", name).replace("${binary:Package}", name)
                       .replace("${Version}", self._package_version(name) if on else ""))
        if missing:
            return _fail(argv, 1, "\n".join(f"dpkg-query: no packages found matching {n}" for n in missing),
                         "".join(out))
        return _ok(argv, "".join(out))

    def _q_rpm(self, argv):
        if "-qa" in argv:
            fmt = "%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}\n"
            if "--qf" in argv and argv.index("--qf") + 1 < len(argv):
                fmt = argv[argv.index("--qf") + 1]
            fmt = fmt.replace("\\n", "\n")
            return _ok(argv, "".join(fmt.replace("%{NAME}", n).replace("%{VERSION}", self._package_version(n))
                                     .replace("%{RELEASE}", "1").replace("%{ARCH}", "x86_64")
                                     for n in sorted(self.packages)))
        if len(argv) >= 3 and argv[1] == "-q":
            names = [a for a in argv[2:] if not a.startswith("-")]
            out, rc = [], 0
            for name in names:
                if self.installed(name):
                    out.append(f"{name}-{self._package_version(name)}-1.x86_64")
                else:
                    out.append(f"package {name} is not installed")
                    rc = 1
            return Result(list(argv), rc, "\n".join(out), "")
        return None

    def _package_version(self, name: str) -> str:
        postfix, dovecot = package_versions(self.profile)
        if name.startswith("postfix"):
            return postfix
        if name.startswith("dovecot"):
            return dovecot
        return "1.0"

    def _q_apt_get(self, argv):
        if argv[1:3] != ["-s", "upgrade"]:
            return None
        head = "Reading package lists...\nBuilding dependency tree...\nReading state information...\nCalculating upgrade...\n"
        if not self.state["updates_pending"]:
            return _ok(argv, head + "0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.")
        lines = [head + "The following packages will be upgraded:\n  " + " ".join(_PENDING_UPDATES),
                 f"{len(_PENDING_UPDATES)} upgraded, 0 newly installed, 0 to remove and 0 not upgraded."]
        suite = f"{self.profile.distro.capitalize()}-Security:{self.profile.version}/stable-security [amd64]"
        lines += [f"Inst {n} [1.0-1] (1.0-2 {suite})" for n in _PENDING_UPDATES]
        lines += [f"Conf {n} (1.0-2 {suite})" for n in _PENDING_UPDATES]
        return _ok(argv, "\n".join(lines))

    def _q_yum_dnf(self, argv):
        if len(argv) < 2 or argv[1] != "check-update":
            return None
        if not self.state["updates_pending"]:
            return _ok(argv)
        release = "el" + self.profile.version if self.profile.distro != "fedora" else "fc" + self.profile.version
        out = "\n".join(f"{n}.x86_64    1.0-2.{release}    updates" for n in _PENDING_UPDATES)
        return Result(list(argv), 100, "\n" + out, "")

    def _q_systemctl(self, argv):
        if len(argv) < 3 or argv[1] not in ("is-enabled", "is-active"):
            return None
        name = argv[2][:-len(".service")] if argv[2].endswith(".service") else argv[2]
        state = self._services().get(name)
        if argv[1] == "is-enabled":
            if state is None:
                return _fail(argv, 1, f"Failed to get unit file state for {name}.service: No such file or directory")
            return Result(list(argv), 0 if state["enabled"] else 1, "enabled" if state["enabled"] else "disabled", "")
        running = bool(state and state["running"])
        return Result(list(argv), 0 if running else 3, "active" if running else "inactive", "")

    def _q_service(self, argv):
        if len(argv) != 3 or argv[2] != "status":
            return None
        name = argv[1]
        state = self._services().get(name)
        if state is None:
            if self.profile.family == "rhel" and self.init == "systemd":
                return _fail(argv, 4, f"Unit {name}.service could not be found.")
            return _fail(argv, 1, f"{name}: unrecognized service")
        if self.profile.family == "rhel":
            process = {"postfix": "master"}.get(name, name)
            text = f"{process} (pid  4242) is running..." if state["running"] else f"{process} is stopped"
        else:
            text = f"{name} is running." if state["running"] else f"{name} is not running."
        return Result(list(argv), 0 if state["running"] else 3, text, "")

    def _q_chkconfig(self, argv):
        if len(argv) != 2 or argv[1].startswith("-"):
            return None
        state = self._services().get(argv[1])
        if state is None:
            return _fail(argv, 1, f"error reading information on service {argv[1]}: No such file or directory")
        return Result(list(argv), 0 if state["enabled"] else 1, "", "")

    def _q_postfix(self, argv):
        if argv[1:] != ["status"]:
            return None
        if self._services().get("postfix", {}).get("running"):
            return _ok(argv, stderr="postfix/postfix-script: the Postfix mail system is running: PID: 4242")
        return _fail(argv, 1, "postfix/postfix-script: the Postfix mail system is not running")

    def _q_doveadm(self, argv):
        if argv[1:3] != ["service", "status"]:
            return None
        if self._services().get("dovecot", {}).get("running"):
            rows = ["name       process_count process_avail process_limit client_limit"]
            rows += [f"{n:<10} 1             0             100           1000" for n in ("anvil", "auth", "config", "log")]
            return _ok(argv, "\n".join(rows))
        return _fail(argv, 75, "Error: net_connect_unix(/run/dovecot/doveadm-server) failed: No such file or directory\n"
                               "Fatal: Couldn't connect to doveadm-server")

    def _q_alternatives(self, argv):
        if len(argv) < 3 or argv[1] != "--display":
            return None
        group = argv[2]
        entry = self.state["alternatives"].get(group)
        if entry is None:
            return _fail(argv, 2, f"cannot access /var/lib/alternatives/{group}: No such file or directory")
        word = "follower" if _uses_followers(self.profile) else "slave"
        lines = [f"{group} - status is {entry['mode']}.", f" link currently points to {entry['current']}"]
        for path in sorted(entry["candidates"]):
            suffix = path.rsplit(".", 1)[-1]
            lines.append(f"{path} - priority {entry['candidates'][path]}")
            lines += [f" {word} {group}-{s}: /usr/bin/{s}.{suffix}" for s in _MTA_SLAVES]
        lines.append(f"Current `best' version is {self._best(entry)}.")
        return _ok(argv, "\n".join(lines))

    def _q_firewall_cmd(self, argv):
        if argv[1:] == ["--state"]:
            return _ok(argv, "running") if self._firewalld_running() else _fail(argv, 252, "", "not running")
        listing = [a for a in argv[1:] if a.startswith("--list-")]
        if not listing:
            return None
        if not self._firewalld_running():
            return _fail(argv, 252, "FirewallD is not running")
        zone = self.state["firewalld"]
        prefix = "permanent_" if "--permanent" in argv else ""
        if listing[0] == "--list-ports":
            return _ok(argv, " ".join(zone[prefix + "ports"]))
        if listing[0] == "--list-services":
            return _ok(argv, " ".join(zone[prefix + "services"]))
        return None

    def _q_ufw(self, argv):
        if argv[1:2] != ["status"]:
            return None
        firewall = self.state.get("ufw") or {"active": False, "rules": []}
        if not firewall["active"]:
            return _ok(argv, "Status: inactive")
        rules = firewall["rules"]
        lines = ["Status: active", "", f"{'To':<27}{'Action':<12}From", f"{'--':<27}{'------':<12}----"]
        lines += [f"{r:<27}{'ALLOW':<12}Anywhere" for r in rules]
        lines += [f"{r + ' (v6)':<27}{'ALLOW':<12}Anywhere (v6)" for r in rules]
        return _ok(argv, "\n".join(lines))

    def _q_getenforce(self, argv):
        mode = self.state.get("selinux")
        return _ok(argv, mode.capitalize() if mode else "Disabled")

    def _q_postconf(self, argv):
        if "-h" not in argv:
            return None
        names = [a for a in argv[1:] if not a.startswith("-")]
        values = {"mail_version": package_versions(self.profile)[0], "default_database_type": self.profile.map_type}
        if not names or any(n not in values for n in names):
            return None
        return _ok(argv, "\n".join(values[n] for n in names))

    def _q_dovecot(self, argv):
        if argv[1:] == ["--version"]:
            return _ok(argv, dovecot_version_output(self.profile))
        return None

    def _q_hostname(self, argv):
        name = self.state["hostname"]
        if argv[1:] in (["-f"], ["--fqdn"]):
            return _ok(argv, name)
        if argv[1:] in (["-s"], ["--short"]):
            return _ok(argv, name.split(".")[0])
        if argv[1:] == []:
            return _ok(argv, name if self.profile.family == "rhel" else name.split(".")[0])
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
        return _ok(argv, "\n".join(lines))


_EFFECTS = {
    "apt-get": SandboxWorld._apt_get,
    "yum": SandboxWorld._yum_dnf,
    "dnf": SandboxWorld._yum_dnf,
    "systemctl": SandboxWorld._systemctl,
    "service": SandboxWorld._service,
    "chkconfig": SandboxWorld._chkconfig,
    "update-rc.d": SandboxWorld._update_rc_d,
    "postfix": SandboxWorld._postfix,
    "dovecot": SandboxWorld._dovecot,
    "doveadm": SandboxWorld._doveadm,
    "alternatives": SandboxWorld._alternatives,
    "firewall-cmd": SandboxWorld._firewall_cmd,
    "ufw": SandboxWorld._ufw,
}

_QUERIES = {
    "dpkg-query": SandboxWorld._q_dpkg_query,
    "rpm": SandboxWorld._q_rpm,
    "apt-get": SandboxWorld._q_apt_get,
    "yum": SandboxWorld._q_yum_dnf,
    "dnf": SandboxWorld._q_yum_dnf,
    "systemctl": SandboxWorld._q_systemctl,
    "service": SandboxWorld._q_service,
    "chkconfig": SandboxWorld._q_chkconfig,
    "postfix": SandboxWorld._q_postfix,
    "doveadm": SandboxWorld._q_doveadm,
    "alternatives": SandboxWorld._q_alternatives,
    "firewall-cmd": SandboxWorld._q_firewall_cmd,
    "ufw": SandboxWorld._q_ufw,
    "getenforce": SandboxWorld._q_getenforce,
    "postconf": SandboxWorld._q_postconf,
    "dovecot": SandboxWorld._q_dovecot,
    "hostname": SandboxWorld._q_hostname,
    "ip": SandboxWorld._q_ip,
}


# --- stock files ----------------------------------------------------------------

@dataclass(frozen=True)
class StockFile:
    target: str                 # path on the target, e.g. /etc/postfix/main.cf
    source: Path                # the file under installer/stock/
    package: Optional[str]      # the package that creates it; None: the base system
    mode: int
    only_installed: bool


_index_cache: Optional[dict] = None


def _index() -> dict:
    global _index_cache
    if _index_cache is None:
        _index_cache = json.loads((STOCK_DIR / "index.json").read_text(encoding="utf-8"))
    return _index_cache


def _profile_sets(profile_id: str) -> List[str]:
    entry = _index()["profiles"].get(profile_id)
    seen = set()
    while isinstance(entry, str):          # an alias: "rocky-9": "rhel-8"
        if entry in seen:
            raise ValueError(f"stock index: alias loop at {entry}")
        seen.add(entry)
        entry = _index()["profiles"].get(entry)
    if entry is None:
        raise KeyError(f"stock index has no entry for profile {profile_id}")
    return list(entry)


def _resolve_package(profile: Profile, package: Optional[str]) -> Optional[str]:
    if package == "@postfix":
        return "postfix"
    if package == "@dovecot":
        return _dovecot_package(profile)
    return package


def stock_entries(profile: Profile) -> List[StockFile]:
    """The profile's stock files, later sets replacing earlier ones, sorted by target."""
    chosen: Dict[str, StockFile] = {}
    for set_name in _profile_sets(profile.id):
        meta = _index()["sets"][set_name]
        folder = STOCK_DIR / set_name
        for source in sorted(p for p in folder.rglob("*") if p.is_file()):
            target = "/" + source.relative_to(folder).as_posix()
            file_meta = meta.get("files", {}).get(target, {})
            package = _resolve_package(profile, file_meta.get("package", meta.get("package")))
            mode = int(file_meta.get("mode", meta.get("mode", "0644")), 8)
            chosen[target] = StockFile(target, source, package, mode, bool(meta.get("only_installed")))
    return [chosen[t] for t in sorted(chosen)]


def _tokens(profile: Profile, hostname: Optional[str]) -> Dict[str, str]:
    if profile.family == "debian":
        compat = _DEBIAN_COMPAT.get(profile.id, "3.6")
    else:
        compat = "2"
    return {
        "@HOSTNAME@": hostname or default_hostname(profile),
        "@PFVER@": package_versions(profile)[0],
        "@COMPAT@": compat,
        "@MAPTYPE@": profile.map_type,
        "@OSNAME@": "Ubuntu" if profile.distro == "ubuntu" else "Debian/GNU",
    }


def render_stock(entry: StockFile, profile: Profile, hostname: Optional[str] = None) -> bytes:
    text = entry.source.read_text(encoding="utf-8")
    for token, value in _tokens(profile, hostname).items():
        text = text.replace(token, value)
    return text.encode("utf-8")


def stock_files(profile: Profile, packages: Iterable[str], hostname: Optional[str] = None) -> Dict[str, bytes]:
    """target path -> content of the files that installing *packages* creates.

    For the planner on a real host, where files of packages not yet installed
    do not exist.  *hostname* fills in the names Debian's postinst writes."""
    wanted = set(packages)
    return {e.target: render_stock(e, profile, hostname)
            for e in stock_entries(profile) if e.package is not None and e.package in wanted}


def stock_mode(profile: Profile, target: str) -> Optional[int]:
    """The mode a stock file is created with, or None if it is not a stock file."""
    for entry in stock_entries(profile):
        if entry.target == target:
            return entry.mode
    return None


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
