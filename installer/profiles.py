"""Platform profiles: what each supported distribution release looks like.

Values follow ``docs/mail-facts.md`` (Platforms).  A profile says what
the platform normally is; facts (``installer/facts.py``) say what this host is
right now (e.g. a Debian container without systemd as PID 1).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

from installer.i18n import N_

Version = Tuple[int, ...]


@dataclass(frozen=True)
class Profile:
    id: str                      # e.g. "centos-6", "rocky-9", "debian-12", "ubuntu-24.04"
    name: str                    # shown to people
    family: str                  # "rhel" | "debian": for people and the stock index; code reads the tools below
    distro: str                  # distro.id(): centos, rhel, rocky, almalinux, fedora, debian, ubuntu
    version: str                 # major version ("9") or release ("24.04")
    package_manager: str         # "yum" | "dnf" | "apt"
    init: str                    # "sysvinit" | "systemd": what the platform boots with
    rc_tool: str                 # "chkconfig" | "update-rc.d": enables a service under sysvinit
    mta_switch: str              # "alternatives" | "none" (Debian: postfix conflicts with exim4)
    postfix_version: Version
    dovecot_version: Version
    map_type: str                # "hash" | "lmdb" (RHEL 10 has no Berkeley DB)
    firewall: str                # "firewalld" | "ufw" | "iptables"
    selinux: bool                # SELinux is part of the platform: labels are fixed after changes
    dovecot_layout: str          # "confd": dovecot.conf + conf.d/*.conf; "single": dovecot.conf only
    postfix_cert: str
    postfix_key: str
    dovecot_cert: str
    dovecot_key: str
    eol: bool = False
    # Debian splits Dovecot by protocol; RHEL ships one package.
    dovecot_packages: Dict[str, str] = field(default_factory=dict)
    note: str = ""               # an N_() msgid shown with the profile, or ""
    postfix_package: str = "postfix"
    dovecot_package: str = "dovecot"   # Debian: "dovecot-core"
    stock: str = ""              # its entry in installer/stock/index.json; "": the profile id
    # mailwiz's own self-signed certificate and key (readable by both daemons, cert_t under SELinux)
    self_signed_cert: str = ""
    self_signed_key: str = ""
    mailname: bool = False       # /etc/mailname qualifies addresses (Debian); written with myorigin
    postfix_chroot: bool = False  # the stock smtpd runs chrooted (Debian)
    # Client-side SASL for a relay host login (PLAIN/LOGIN)
    relay_sasl_packages: Tuple[str, ...] = ()
    # What the packages' own scripts create that removing them leaves behind
    # (besides the alias database and the config folders): see steps/packages.py.
    package_leftovers: Tuple[str, ...] = ()
    # OpenDKIM (steps/dkim.py): where its key lives, and the repository it comes from:
    # "" the distribution's own, "epel" Extra Packages for Enterprise Linux, enabled by
    # installing epel_source (a package name, or the epel-release RPM's address on RHEL).
    opendkim_packages: Tuple[str, ...] = ("opendkim",)
    dkim_key_dir: str = "/etc/opendkim/keys"
    extra_repo: str = ""
    epel_source: str = ""
    # certbot (steps/acme.py): the timer that renews, to enable; "" when the package
    # sets up renewal itself (Debian: certbot.timer and /etc/cron.d/certbot).
    certbot_timer: str = "certbot-renew.timer"

    @property
    def base_packages(self) -> Tuple[str, ...]:
        return (self.postfix_package, self.dovecot_package)

    @property
    def has_relay_restrictions(self) -> bool:
        """smtpd_relay_restrictions exists from Postfix 2.10."""
        return self.postfix_version >= (2, 10)

    @property
    def dovecot24(self) -> bool:
        return self.dovecot_version >= (2, 4)


_RHEL_CERTS = dict(
    postfix_cert="/etc/pki/tls/certs/postfix.pem",
    postfix_key="/etc/pki/tls/private/postfix.key",
    dovecot_cert="/etc/pki/dovecot/certs/dovecot.pem",
    dovecot_key="/etc/pki/dovecot/private/dovecot.pem",
)
_DEBIAN_CERTS = dict(
    postfix_cert="/etc/ssl/certs/ssl-cert-snakeoil.pem",
    postfix_key="/etc/ssl/private/ssl-cert-snakeoil.key",
    dovecot_cert="/etc/dovecot/private/dovecot.pem",
    dovecot_key="/etc/dovecot/private/dovecot.key",
)
_DEBIAN_DOVECOT = {"imap": "dovecot-imapd", "pop3": "dovecot-pop3d", "lmtp": "dovecot-lmtpd"}


def _epel(distro, version) -> str:
    if distro == "fedora":
        return ""                  # Fedora carries opendkim and certbot itself
    if distro == "rhel":           # not in RHEL's own repositories: the project's RPM
        return f"https://dl.fedoraproject.org/pub/epel/epel-release-latest-{version}.noarch.rpm"
    return "epel-release"          # CentOS, Rocky, Alma: in their extras repository


def _rhel(id, name, distro, version, pm, init, pf, dv, *, map_type="hash", firewall="firewalld",
          layout="confd", eol=False, note=""):
    epel = _epel(distro, version)
    return Profile(id=id, name=name, family="rhel", distro=distro, version=version, package_manager=pm,
                   init=init, rc_tool="chkconfig", mta_switch="alternatives", postfix_version=pf, dovecot_version=dv,
                   map_type=map_type, firewall=firewall, selinux=True, dovecot_layout=layout, eol=eol,
                   note=note, extra_repo="epel" if epel else "", epel_source=epel,
                   self_signed_cert="/etc/pki/tls/certs/mailwiz.pem",
                   self_signed_key="/etc/pki/tls/private/mailwiz.key",
                   relay_sasl_packages=("cyrus-sasl", "cyrus-sasl-plain"),
                   # dovecot makes its certificate pair on first start
                   package_leftovers=(_RHEL_CERTS["dovecot_cert"], _RHEL_CERTS["dovecot_key"]), **_RHEL_CERTS)


def _debian(id, name, distro, version, pf, dv, *, firewall="iptables", note=""):
    return Profile(id=id, name=name, family="debian", distro=distro, version=version, package_manager="apt",
                   init="systemd", rc_tool="update-rc.d", mta_switch="none", postfix_version=pf, dovecot_version=dv,
                   map_type="hash", firewall=firewall, selinux=False,
                   dovecot_layout="confd", dovecot_packages=dict(_DEBIAN_DOVECOT), dovecot_package="dovecot-core",
                   note=note, self_signed_cert="/etc/ssl/certs/mailwiz.pem",
                   self_signed_key="/etc/ssl/private/mailwiz.key", mailname=True, postfix_chroot=True,
                   opendkim_packages=("opendkim", "opendkim-tools"), dkim_key_dir="/etc/dkimkeys", certbot_timer="",
                   relay_sasl_packages=("libsasl2-modules",),
                   # postfix's postinst runs newaliases and writes /etc/mailname
                   package_leftovers=("/etc/aliases", "/etc/mailname"), **_DEBIAN_CERTS)


_EOL_NOTE = N_("This release is past its end of life; its packages are only on the vault mirror.")

_ALL = [
    _rhel("centos-6", "CentOS 6", "centos", "6", "yum", "sysvinit", (2, 6), (2, 0),
          firewall="iptables", eol=True, note=_EOL_NOTE),
    _rhel("centos-7", "CentOS 7", "centos", "7", "yum", "systemd", (2, 10), (2, 2), eol=True, note=_EOL_NOTE),
    _rhel("rhel-7", "Red Hat Enterprise Linux 7", "rhel", "7", "yum", "systemd", (2, 10), (2, 2), eol=True),
]
for _distro, _label in (("rhel", "Red Hat Enterprise Linux"), ("rocky", "Rocky Linux"), ("almalinux", "AlmaLinux")):
    _prefix = "alma" if _distro == "almalinux" else _distro
    _ALL += [
        _rhel(f"{_prefix}-8", f"{_label} 8", _distro, "8", "dnf", "systemd", (3, 5), (2, 3)),
        _rhel(f"{_prefix}-9", f"{_label} 9", _distro, "9", "dnf", "systemd", (3, 5), (2, 3)),
        _rhel(f"{_prefix}-10", f"{_label} 10", _distro, "10", "dnf", "systemd", (3, 8), (2, 3), map_type="lmdb"),
    ]
_ALL += [
    _rhel("fedora-42", "Fedora 42", "fedora", "42", "dnf", "systemd", (3, 10), (2, 3)),
    _rhel("fedora-43", "Fedora 43", "fedora", "43", "dnf", "systemd", (3, 10), (2, 4), layout="single"),
    _debian("debian-11", "Debian 11 (bullseye)", "debian", "11", (3, 5), (2, 3)),
    _debian("debian-12", "Debian 12 (bookworm)", "debian", "12", (3, 7), (2, 3)),
    _debian("debian-13", "Debian 13 (trixie)", "debian", "13", (3, 10), (2, 4)),
    _debian("ubuntu-22.04", "Ubuntu 22.04 LTS", "ubuntu", "22.04", (3, 6), (2, 3), firewall="ufw"),
    _debian("ubuntu-24.04", "Ubuntu 24.04 LTS", "ubuntu", "24.04", (3, 8), (2, 3), firewall="ufw"),
]

PROFILES: Dict[str, Profile] = {p.id: p for p in _ALL}


class UnknownProfile(KeyError):
    pass


def get(profile_id: str) -> Profile:
    try:
        return PROFILES[profile_id]
    except KeyError:
        raise UnknownProfile(profile_id) from None


def _major(version: str) -> str:
    return version.split(".")[0] if version else ""


def match(distro_id: str, version: str, like: str = "") -> Optional[Profile]:
    """The profile for a distro id and version as ``distro`` reports them."""
    distro_id = (distro_id or "").lower()
    if distro_id in ("rhel", "redhat"):
        distro_id = "rhel"
    if distro_id == "ubuntu":
        key = f"ubuntu-{'.'.join(version.split('.')[:2])}"
        return PROFILES.get(key)
    if distro_id == "fedora":
        found = PROFILES.get(f"fedora-{_major(version)}")
        if found is None and _major(version).isdigit() and int(_major(version)) > 43:
            found = PROFILES["fedora-43"]   # newer Fedora: same layout as 43
        return found
    prefix = {"almalinux": "alma"}.get(distro_id, distro_id)
    return PROFILES.get(f"{prefix}-{_major(version)}")


def detect() -> Optional[Profile]:
    """This host's profile, or None for a platform mailwiz does not know."""
    import distro  # only detection needs it

    return match(distro.id(), distro.version(best=True), distro.like())
