"""Package managers: apt, yum, dnf.

Each holds the commands its actions run, the parsers of the tool's output
(what the facts read), and its pretend version for the sandbox, which works
on the shared pretend-host state (:class:`installer.platform.world.World`).
"""
from __future__ import annotations

from typing import ClassVar, Dict, FrozenSet, List, Optional, Sequence, Set, Tuple

from installer.platform.world import Argv, fail, ok
from installer.runner import Result

# Packages updated in every fresh sandbox world.
PENDING_UPDATES = ("openssl", "ca-certificates")


class PackageTool:
    name: ClassVar[str] = ""
    # Commands this tool brings; on a pretend host of another tool they do not exist.
    COMMANDS: ClassVar[Tuple[str, ...]] = ()
    # The pretend host: packages the repositories hold, what each needs, and
    # whether installing a package enables and starts its service.
    AVAILABLE: ClassVar[FrozenSet[str]] = frozenset()
    DEPENDS: ClassVar[Dict[str, Tuple[str, ...]]] = {}
    STARTS_SERVICES: ClassVar[bool] = False

    def __init__(self, profile):
        self.profile = profile

    # --- real -------------------------------------------------------------------
    def env(self) -> Dict[str, str]:
        return {}

    def install_cmd(self, packages: Sequence[str]) -> Argv:
        raise NotImplementedError

    def remove_cmd(self, packages: Sequence[str]) -> Argv:
        raise NotImplementedError

    def refresh_cmd(self) -> Optional[Argv]:
        """Refresh the package index, where the tool does not do it by itself."""
        return None

    def upgrade_cmd(self) -> Argv:
        raise NotImplementedError

    def installed(self, runner) -> Set[str]:
        raise NotImplementedError

    def updates_pending(self, runner) -> bool:
        raise NotImplementedError

    # --- pretend ------------------------------------------------------------------
    def available(self, world) -> Set[str]:
        """What the pretend repositories hold: the tool's own list and what the steps declare."""
        return set(self.AVAILABLE) | set(world.extra_available)

    def conflicts(self, world, new: Sequence[str]) -> Set[str]:
        """Installed packages that installing *new* pushes out."""
        return set()

    def effect(self, world, argv: List[str]) -> Optional[Result]:
        return None

    def answer(self, world, argv: List[str]) -> Optional[Result]:
        return None

    @staticmethod
    def package_args(argv: Sequence[str]) -> List[str]:
        names, skip = [], False
        for arg in argv[2:]:
            if skip:
                skip = False
            elif arg == "-o":
                skip = True
            elif arg.startswith("https://") and arg.endswith(".rpm"):
                # dnf installs a package from its address: .../epel-release-latest-9.noarch.rpm
                names.append(arg.rsplit("/", 1)[1].split("-latest")[0])
            elif not arg.startswith("-"):
                names.append(arg)
        return names


# --- apt ----------------------------------------------------------------------------

APT_ENV = {"DEBIAN_FRONTEND": "noninteractive", "NEEDRESTART_MODE": "a"}
# Keep the admin's changed config files and never ask.
_APT_OPTS = ["-y", "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"]

# apt: packages that provide mail-transport-agent conflict with each other.
_DEBIAN_MTAS = ("postfix", "exim4-daemon-light", "exim4-daemon-heavy", "sendmail-bin", "nullmailer", "ssmtp")
# ... and these go with the MTA they depend on.
_DEBIAN_MTA_DEPENDENTS = {"exim4": ("exim4-daemon-light", "exim4-daemon-heavy"), "sendmail": ("sendmail-bin",)}


class Apt(PackageTool):
    name = "apt"
    COMMANDS = ("apt-get", "apt", "dpkg", "dpkg-query", "debconf-set-selections")
    AVAILABLE = frozenset({
        "postfix", "postfix-lmdb", "postfix-pcre", "dovecot-core", "dovecot-imapd", "dovecot-pop3d",
        "dovecot-lmtpd", "dovecot-sieve", "exim4", "exim4-base", "exim4-config", "exim4-daemon-light",
        "exim4-daemon-heavy", "sendmail", "sendmail-bin", "nullmailer", "ssl-cert", "openssl", "ca-certificates",
        "libsasl2-modules", "sasl2-bin", "bsd-mailx", "mailutils", "ufw", "swaks", "telnet", "netcat-openbsd",
        "dnsutils",
    })
    DEPENDS = {"dovecot-imapd": ("dovecot-core",), "dovecot-pop3d": ("dovecot-core",),
               "dovecot-lmtpd": ("dovecot-core",), "dovecot-sieve": ("dovecot-core",),
               "exim4": ("exim4-base", "exim4-config", "exim4-daemon-light"),
               "exim4-daemon-light": ("exim4-base", "exim4-config"), "sendmail": ("sendmail-bin",),
               "postfix-lmdb": ("postfix",), "postfix-pcre": ("postfix",)}
    # Debian's maintainer scripts enable and start a service; RHEL's leave it off.
    STARTS_SERVICES = True

    def env(self):
        return dict(APT_ENV)

    def install_cmd(self, packages):
        return ["apt-get", "install", "--no-install-recommends", *_APT_OPTS, *packages]

    def remove_cmd(self, packages):
        """Removal that leaves nothing of ours behind (purge)."""
        return ["apt-get", "purge", "-y", *packages]

    def refresh_cmd(self):
        return ["apt-get", "update"]

    def upgrade_cmd(self):
        return ["apt-get", "upgrade", *_APT_OPTS]

    def installed(self, runner):
        result = runner.query(["dpkg-query", "-W", "-f", "${db:Status-Abbrev} ${Package}\n"])
        names = set()
        for line in result.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0].startswith("ii"):
                names.add(parts[-1].split(":")[0])
        return names

    def updates_pending(self, runner):
        result = runner.query(["apt-get", "-s", "upgrade"])
        return any(line.startswith("Inst ") for line in result.stdout.splitlines())

    # --- pretend ---

    def conflicts(self, world, new):
        packages = world.packages
        gone: Set[str] = set()
        for name in new:
            if name in _DEBIAN_MTAS:
                conflicting = {m for m in _DEBIAN_MTAS if m != name}
                for dependent, needs in _DEBIAN_MTA_DEPENDENTS.items():
                    if all(n in conflicting or n not in packages for n in needs):
                        conflicting.add(dependent)
                gone |= conflicting & packages
                packages -= conflicting
        return gone

    def effect(self, world, argv):
        if argv[0] != "apt-get":
            return None
        verb = argv[1] if len(argv) > 1 else ""
        if verb == "-s":
            return None                     # a simulation: a query
        if verb == "update":
            return ok(argv, "Reading package lists... Done")
        if verb == "upgrade":
            world.state["updates_pending"] = False
            return ok(argv, "Reading package lists... Done\nCalculating upgrade... Done")
        names = self.package_args(argv)
        unknown = [n for n in names if n not in self.available(world) and not world.installed(n)]
        if verb == "install":
            if unknown:
                return fail(argv, 100, f"E: Unable to locate package {unknown[0]}")
            before = world.packages
            new = world.install(names)
            removed = sorted(before - world.packages)
            lines = [f"{n} is already the newest version." for n in names if n not in new]
            if removed:
                lines.append("The following packages will be REMOVED:\n  " + " ".join(removed))
            if new:
                lines.append("The following NEW packages will be installed:\n  " + " ".join(sorted(new)))
            lines.append(f"{len(new)} newly installed, {len(removed)} to remove.")
            return ok(argv, "\n".join(lines))
        if verb in ("purge", "remove"):
            if unknown:
                return fail(argv, 100, f"E: Unable to locate package {unknown[0]}")
            lines = [f"Package '{n}' is not installed, so not removed" for n in names if not world.installed(n)]
            present = [n for n in names if world.installed(n)]
            world.remove(present)
            if present:
                lines.append("The following packages will be REMOVED:\n  " + " ".join(f"{n}*" for n in present))
            return ok(argv, "\n".join(lines))
        return None

    def answer(self, world, argv):
        if argv[0] == "dpkg-query":
            return self._dpkg_query(world, argv)
        if argv[0] == "apt-get":
            return self._simulate_upgrade(world, argv)
        return None

    def _dpkg_query(self, world, argv):
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
            missing = [n for n in names if not world.installed(n) and n not in self.available(world)]
            shown = [n for n in names if n not in missing]
        else:
            missing, shown = [], sorted(world.packages)
        out = []
        for name in shown:
            on = world.installed(name)
            out.append(fmt.replace("${db:Status-Abbrev}", "ii " if on else "un ")
                       .replace("${Status}", "install ok installed" if on else "unknown ok not-installed")
                       .replace("${Package}", name).replace("${binary:Package}", name)
                       .replace("${Version}", world.package_version(name) if on else ""))
        if missing:
            return fail(argv, 1, "\n".join(f"dpkg-query: no packages found matching {n}" for n in missing),
                        "".join(out))
        return ok(argv, "".join(out))

    def _simulate_upgrade(self, world, argv):
        if argv[1:3] != ["-s", "upgrade"]:
            return None
        head = "Reading package lists...\nBuilding dependency tree...\nReading state information...\nCalculating upgrade...\n"
        if not world.state["updates_pending"]:
            return ok(argv, head + "0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.")
        lines = [head + "The following packages will be upgraded:\n  " + " ".join(PENDING_UPDATES),
                 f"{len(PENDING_UPDATES)} upgraded, 0 newly installed, 0 to remove and 0 not upgraded."]
        suite = f"{self.profile.distro.capitalize()}-Security:{self.profile.version}/stable-security [amd64]"
        lines += [f"Inst {n} [1.0-1] (1.0-2 {suite})" for n in PENDING_UPDATES]
        lines += [f"Conf {n} (1.0-2 {suite})" for n in PENDING_UPDATES]
        return ok(argv, "\n".join(lines))


# --- yum and dnf ----------------------------------------------------------------------

class Yum(PackageTool):
    name = "yum"
    COMMANDS = ("yum", "rpm")
    AVAILABLE = frozenset({
        "postfix", "postfix-lmdb", "postfix-pcre", "dovecot", "dovecot-pigeonhole", "sendmail", "sendmail-cf",
        "exim", "cyrus-sasl", "cyrus-sasl-lib", "cyrus-sasl-plain", "cyrus-sasl-md5", "openssl",
        "ca-certificates", "policycoreutils", "policycoreutils-python", "policycoreutils-python-utils",
        "libselinux-utils", "firewalld", "mailx", "s-nail", "telnet", "nc", "nmap-ncat", "bind-utils", "swaks",
        "crypto-policies",
    })
    DEPENDS = {"cyrus-sasl-plain": ("cyrus-sasl-lib",), "cyrus-sasl": ("cyrus-sasl-lib",),
               "postfix-lmdb": ("postfix",), "postfix-pcre": ("postfix",), "sendmail-cf": ("sendmail",)}

    def install_cmd(self, packages):
        return [self.name, "install", "-y", *packages]

    def remove_cmd(self, packages):
        return [self.name, "remove", "-y", *packages]

    def upgrade_cmd(self):
        return ["yum", "update", "-y"]

    def installed(self, runner):
        result = runner.query(["rpm", "-qa", "--qf", "%{NAME}\n"])
        return {line.strip() for line in result.stdout.splitlines() if line.strip()}

    def updates_pending(self, runner):
        # yum/dnf check-update exit 100 when updates are available.
        return runner.query([self.name, "check-update", "-q"]).rc == 100

    # --- pretend ---

    def effect(self, world, argv):
        if argv[0] not in ("yum", "dnf"):
            return None
        tool = self.name          # yum is dnf on dnf platforms
        verb = argv[1] if len(argv) > 1 else ""
        if verb in ("update", "upgrade"):
            world.state["updates_pending"] = False
            return ok(argv, "Complete!")
        if verb == "check-update":
            return None
        names = self.package_args(argv)
        if verb == "install":
            unknown = [n for n in names if n not in self.available(world) and not world.installed(n)]
            if unknown:
                if tool == "yum":
                    return fail(argv, 1, f"No package {unknown[0]} available.\nError: Nothing to do")
                return fail(argv, 1, f"No match for argument: {unknown[0]}\nError: Unable to find a match: "
                                     f"{' '.join(unknown)}")
            new = world.install(names)
            lines = [f"Package {n} is already installed." for n in names if n not in new]
            lines.append("Installed:\n  " + " ".join(sorted(new)) if new else "Nothing to do.")
            return ok(argv, "\n".join(lines + ["Complete!"]))
        if verb in ("remove", "erase"):
            absent = [n for n in names if not world.installed(n)]
            present = [n for n in names if world.installed(n)]
            if absent and not present and tool == "dnf" and self.profile.distro == "fedora":
                # dnf5 (Fedora 41+) fails where dnf4 and yum only warn.
                return fail(argv, 1, "Failed to resolve the transaction:\n" + "\n".join(
                    f"No packages to remove for argument: {n}" for n in absent))
            world.remove(present)
            lines = [f"No match for argument: {n}" for n in absent]
            lines.append("Removed:\n  " + " ".join(present) if present else "No packages marked for removal.")
            return ok(argv, "\n".join(lines + ["Complete!"]))
        return None

    def answer(self, world, argv):
        if argv[0] == "rpm":
            return self._rpm(world, argv)
        if argv[0] in ("yum", "dnf"):
            return self._check_update(world, argv)
        return None

    def _rpm(self, world, argv):
        if "-qa" in argv:
            fmt = "%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}\n"
            if "--qf" in argv and argv.index("--qf") + 1 < len(argv):
                fmt = argv[argv.index("--qf") + 1]
            fmt = fmt.replace("\\n", "\n")
            return ok(argv, "".join(fmt.replace("%{NAME}", n).replace("%{VERSION}", world.package_version(n))
                                    .replace("%{RELEASE}", "1").replace("%{ARCH}", "x86_64")
                                    for n in sorted(world.packages)))
        if len(argv) >= 3 and argv[1] == "-q":
            names = [a for a in argv[2:] if not a.startswith("-")]
            out, rc = [], 0
            for name in names:
                if world.installed(name):
                    out.append(f"{name}-{world.package_version(name)}-1.x86_64")
                else:
                    out.append(f"package {name} is not installed")
                    rc = 1
            return Result(list(argv), rc, "\n".join(out), "")
        return None

    def _check_update(self, world, argv):
        if len(argv) < 2 or argv[1] != "check-update":
            return None
        if not world.state["updates_pending"]:
            return ok(argv)
        release = "el" + self.profile.version if self.profile.distro != "fedora" else "fc" + self.profile.version
        out = "\n".join(f"{n}.x86_64    1.0-2.{release}    updates" for n in PENDING_UPDATES)
        return Result(list(argv), 100, "\n" + out, "")


class Dnf(Yum):
    name = "dnf"
    COMMANDS = ("dnf", "yum", "rpm")      # on dnf platforms yum is dnf

    def upgrade_cmd(self):
        return ["dnf", "upgrade", "-y"]


TOOLS = {tool.name: tool for tool in (Apt, Yum, Dnf)}
