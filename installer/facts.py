"""What mailwiz knows about the target right now.

A profile says what a platform normally is; facts say what this host is
(``installer/profiles.py``).  ``gather`` reads them through ``runner.query``
(which never raises; in the sandbox the sandbox world answers) and through
the target root, so the same code reads a real host and a sandbox.
"""
from __future__ import annotations

import ipaddress
import os
import re
import time
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Optional, Tuple

from installer import platform
from installer.platform.services import ServiceState
from installer.profiles import Profile, Version

# The OpenDKIM configuration that steps/dkim.py writes (with this first line).
OPENDKIM_CONF = "/etc/opendkim.conf"
OPENDKIM_MARK = "# Written by mailwiz"
# Installed packages that make another MTA than Postfix (real package names).
MTA_PACKAGES = ("sendmail", "sendmail-bin", "exim4", "exim4-daemon-light", "exim4-daemon-heavy", "exim",
                "ssmtp", "nullmailer")

_MAP_TYPES = ("hash", "btree", "lmdb", "cdb", "dbm", "sdbm")
_SELINUX_MODES = ("enforcing", "permissive", "disabled")

# Networks proposed for mynetworks when the host has an address in them:
# private ranges, and the documentation ranges (the sandbox's pretend LAN).
_PROPOSABLE = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7",
    "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"))
_PLACEHOLDER_HOSTS = ("localhost", "localhost.localdomain", "localhost6.localdomain6", "localdomain")


@dataclass
class Facts:
    profile: Optional[Profile] = field(default=None, repr=False, compare=False)
    sandbox: bool = False
    is_root: bool = False                     # this process runs as root (true or pretend target alike)
    init: str = "none"                        # "systemd" | "sysvinit" | "none"
    installed: FrozenSet[str] = frozenset()
    postfix_version: Optional[Version] = None   # installed version; None when not installed
    dovecot_version: Optional[Version] = None
    map_type: str = "hash"                    # "hash" | "lmdb"
    mta: Optional[str] = None                 # where the "mta" alternative points (RHEL family)
    mta_mode: str = "auto"                    # "auto" | "manual"
    mta_packages: FrozenSet[str] = frozenset()
    services: Dict[str, ServiceState] = field(default_factory=dict)
    firewall: Optional[str] = None            # "firewalld" | "ufw" | None: the active firewall tool
    firewall_open: FrozenSet[str] = frozenset()   # e.g. {"22/tcp", "25/tcp"}
    selinux: str = "absent"                   # "enforcing" | "permissive" | "disabled" | "absent"
    updates_pending: bool = False
    hostname: str = ""
    addresses: List[str] = field(default_factory=list)   # interface addresses with prefix: "192.0.2.10/24"
    users: FrozenSet[str] = frozenset()
    today: str = ""                           # YYYYMMDD (UTC) when read: one date for a whole plan
    dkim_selector: Optional[str] = None       # the selector OpenDKIM signs with now, as mailwiz set it up

    # Set explicitly only by tests that build Facts without a profile.
    _postfix_override: Optional[Version] = field(default=None, repr=False, compare=False)
    _dovecot_override: Optional[Version] = field(default=None, repr=False, compare=False)

    @property
    def postfix_effective(self) -> Version:
        """The Postfix version to write for: installed, else the profile's."""
        if self.postfix_version:
            return self.postfix_version
        if self._postfix_override:
            return self._postfix_override
        return self.profile.postfix_version if self.profile else (0,)

    @postfix_effective.setter
    def postfix_effective(self, value: Version) -> None:
        self._postfix_override = tuple(value) if value else None

    @property
    def dovecot_effective(self) -> Version:
        """The Dovecot version to write for: installed, else the profile's."""
        if self.dovecot_version:
            return self.dovecot_version
        if self._dovecot_override:
            return self._dovecot_override
        return self.profile.dovecot_version if self.profile else (0,)

    @dovecot_effective.setter
    def dovecot_effective(self, value: Version) -> None:
        self._dovecot_override = tuple(value) if value else None

    def service(self, name: str) -> ServiceState:
        return self.services.get(name, ServiceState())

    def to_json(self) -> dict:
        """Plain data, sorted where sets are, for logs and the journal."""
        return {
            "profile": self.profile.id if self.profile else None,
            "sandbox": self.sandbox,
            "is_root": self.is_root,
            "init": self.init,
            "installed": sorted(self.installed),
            "postfix_version": list(self.postfix_version) if self.postfix_version else None,
            "dovecot_version": list(self.dovecot_version) if self.dovecot_version else None,
            "map_type": self.map_type,
            "mta": self.mta,
            "mta_mode": self.mta_mode,
            "mta_packages": sorted(self.mta_packages),
            "services": {name: state.to_json() for name, state in sorted(self.services.items())},
            "firewall": self.firewall,
            "firewall_open": sorted(self.firewall_open),
            "selinux": self.selinux,
            "updates_pending": self.updates_pending,
            "hostname": self.hostname,
            "addresses": list(self.addresses),
            "users": sorted(self.users),
            "today": self.today,
            "dkim_selector": self.dkim_selector,
        }


# --- parsing helpers ------------------------------------------------------------

def parse_version(text: str) -> Optional[Version]:
    """(3, 7, 11) from "3.7.11", (2, 3, 19, 1) from "2.3.19.1 (9b53102964)", (2, 4, 1) from "2.4.1-4 (…)"."""
    match = re.match(r"\s*(\d+(?:\.\d+)*)", text or "")
    if not match:
        return None
    return tuple(int(part) for part in match.group(1).split("."))


def parse_ip_addresses(output: str) -> List[str]:
    """Interface addresses from ``ip -o addr show``, without link-local ones."""
    found: List[str] = []
    for line in output.splitlines():
        parts = line.split()
        for index, word in enumerate(parts[:-1]):
            if word in ("inet", "inet6"):
                address = parts[index + 1]
                try:
                    interface = ipaddress.ip_interface(address)
                except ValueError:
                    break
                if not interface.ip.is_link_local and address not in found:
                    found.append(address)
                break
    return found


def parse_passwd(text: Optional[str]) -> FrozenSet[str]:
    names = set()
    for line in (text or "").splitlines():
        if line and not line.startswith("#") and ":" in line:
            names.add(line.split(":", 1)[0])
    return frozenset(names)


# --- gathering ------------------------------------------------------------------

def detect_init(root) -> str:
    """systemd only when it is running (/run/systemd/system), never by the
    presence of systemctl; sysvinit when init scripts can be run; else none."""
    if root.is_dir("/run/systemd/system"):
        return "systemd"
    if any(root.exists(p) for p in ("/usr/sbin/service", "/sbin/service", "/etc/init.d/postfix",
                                      "/etc/init.d/dovecot", "/etc/rc.d/init.d/postfix")):
        return "sysvinit"
    return "none"


def _installed_version(runner, argv) -> Optional[Version]:
    result = runner.query(argv)
    return parse_version(result.stdout) if result.ok else None


def _map_type(runner, profile: Profile, postfix_installed: bool) -> str:
    if postfix_installed:
        value = runner.query(["postconf", "-h", "default_database_type"]).stdout.strip()
        if value in _MAP_TYPES:
            return value
    return profile.map_type


def _selinux(runner) -> str:
    result = runner.query(["getenforce"])
    mode = result.stdout.strip().lower()
    return mode if result.ok and mode in _SELINUX_MODES else "absent"


def _hostname(runner, sandbox: bool) -> str:
    result = runner.query(["hostname", "-f"])
    name = result.stdout.strip().splitlines()[0].strip() if result.ok and result.stdout.strip() else ""
    if not name and not sandbox:
        import socket   # only here: a sandbox never needs it
        name = socket.getfqdn()
    return name or "localhost"


def dkim_selector(text: Optional[str]) -> Optional[str]:
    """The Selector of an opendkim.conf that mailwiz wrote (a re-run keeps its key)."""
    if not text or not text.startswith(OPENDKIM_MARK):
        return None
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "Selector":
            return parts[1]
    return None


def declared_needs(profile: Profile):
    """What the steps declare they need on *profile* (``installer/needs.py``)."""
    import steps
    return steps.declared(profile)


def gather(profile: Profile, runner, root, *, check_updates: bool = True, needs=None) -> Facts:
    """Read the facts of the target.  Nothing here raises on a failed query.

    ``check_updates=False`` skips the package manager's update check (about
    2 s with apt, longer with yum/dnf metadata) and reports none pending.
    The services read are those the steps declare (*needs*, default
    :func:`declared_needs`)."""
    needs = needs if needs is not None else declared_needs(profile)
    sandbox = bool(getattr(runner, "sandbox", False))
    init = profile.init if sandbox else detect_init(root)
    if sandbox and getattr(getattr(runner, "world", None), "init", None):
        init = runner.world.init

    installed = frozenset(platform.installed_packages(runner, profile))
    postfix_installed = profile.postfix_package in installed
    dovecot_installed = profile.dovecot_package in installed

    postfix_version = _installed_version(runner, ["postconf", "-h", "mail_version"]) if postfix_installed else None
    dovecot_version = _installed_version(runner, ["dovecot", "--version"]) if dovecot_installed else None

    mta, mta_mode = platform.alternatives_tool(profile).current(runner, "mta")

    services: Dict[str, ServiceState] = {}
    for name, packages in needs.service_packages().items():
        if any(p in installed for p in packages):
            services[name] = platform.service_state(runner, root, init, profile, name, needs.service(name))
        else:
            services[name] = ServiceState()

    firewall = platform.active_firewall(runner, profile)
    firewall_open = frozenset(platform.firewall_open_ports(runner, firewall)) if firewall else frozenset()

    return Facts(
        profile=profile,
        sandbox=sandbox,
        is_root=os.geteuid() == 0,
        init=init,
        installed=installed,
        postfix_version=postfix_version,
        dovecot_version=dovecot_version,
        map_type=_map_type(runner, profile, postfix_installed),
        mta=mta,
        mta_mode=mta_mode,
        mta_packages=frozenset(p for p in MTA_PACKAGES if p in installed),
        services=services,
        firewall=firewall,
        firewall_open=firewall_open,
        selinux=_selinux(runner),
        updates_pending=platform.updates_pending(runner, profile) if check_updates else False,
        hostname=_hostname(runner, sandbox),
        addresses=parse_ip_addresses(runner.query(["ip", "-o", "addr", "show"]).stdout),
        users=parse_passwd(root.read_text("/etc/passwd")),
        today=time.strftime("%Y%m%d", time.gmtime()),
        dkim_selector=dkim_selector(root.read_text(OPENDKIM_CONF)),
    )


def timed_gather(profile: Profile, runner, root, **kwargs) -> Tuple[Facts, float]:
    """gather() and the seconds it took."""
    start = time.monotonic()
    facts = gather(profile, runner, root, **kwargs)
    return facts, time.monotonic() - start


# --- proposals for the wizard -----------------------------------------------------

def suggest_networks(facts: Facts) -> List[str]:
    """mynetworks to propose: loopback plus the private networks the host is on.

    Never a public network and never 0.0.0.0/0: trusting a network lets it relay."""
    networks = ["127.0.0.0/8"]
    for address in facts.addresses:
        try:
            interface = ipaddress.ip_interface(address)
        except ValueError:
            continue
        network = interface.network
        if interface.ip.is_loopback or network.prefixlen == 0:
            continue
        if any(network.version == allowed.version and network.subnet_of(allowed) for allowed in _PROPOSABLE):
            text = str(network)
            if text not in networks:
                networks.append(text)
    return networks


def suggest_hostname(facts: Facts) -> str:
    """The host's own FQDN when it has a real one, else mail.example.com."""
    name = (facts.hostname or "").strip().rstrip(".").lower()
    if "." in name and name not in _PLACEHOLDER_HOSTS and not name.endswith((".localdomain", ".local")):
        return name
    return "mail.example.com"


def suggest_domain(facts: Facts) -> str:
    """mydomain for the suggested host name: the name without its first label."""
    return suggest_hostname(facts).split(".", 1)[1]
