"""The files each platform's packages ship, and the versions they ship them at.

``installer/stock/`` holds, per set of files, the configuration files as a
fresh install leaves them; ``installer/stock/index.json`` says which sets a
profile has and which package creates each file.  Two users:

- real planning (``installer/session.py`` hands :func:`stock_files` to the
  engine): a package that the plan installs creates its files, so the plan
  shows diffs against them although they do not exist yet;
- the sandbox (``installer/sandbox.py``), which seeds a pretend root with them.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

from installer.profiles import Profile

STOCK_DIR = Path(__file__).resolve().parent / "stock"

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
# Enterprise Linux rebuilds ship the same packages per major release.
_EL_DISTROS = ("centos", "rhel", "rocky", "almalinux")

# compatibility_level in the main.cf a profile's postinst writes, where it is
# not the one its stock set says.
_COMPAT = {"debian-11": "2"}

# The host name a fresh install has (the installer's proposal), by distro.
_DEFAULT_HOSTNAMES = {"fedora": "fedora", "debian": "debian", "ubuntu": "ubuntu"}


def package_versions(profile: Profile) -> Tuple[str, str]:
    """(postfix, dovecot) full version strings of the profile's packages."""
    found = _VERSIONS.get(profile.id)
    if found is None and profile.distro in _EL_DISTROS:
        found = _VERSIONS.get(f"el-{profile.version}")
    if found:
        return found
    return (".".join(map(str, profile.postfix_version)) + ".0", ".".join(map(str, profile.dovecot_version)) + ".0")


def default_hostname(profile: Profile) -> str:
    """The name a fresh install of the platform has."""
    return _DEFAULT_HOSTNAMES.get(profile.distro, "localhost.localdomain")


# --- the index ----------------------------------------------------------------------

@dataclass(frozen=True)
class StockFile:
    target: str                 # path on the target, e.g. /etc/postfix/main.cf
    source: Path                # the file under installer/stock/
    package: Optional[str]      # the package that creates it; None: the base system
    mode: int
    only_installed: bool
    tokens: Dict[str, str] = field(default_factory=dict, compare=False)   # the set's own token values


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
        return profile.postfix_package
    if package == "@dovecot":
        return profile.dovecot_package
    return package


def stock_entries(profile: Profile) -> List[StockFile]:
    """The profile's stock files, later sets replacing earlier ones, sorted by target."""
    chosen: Dict[str, StockFile] = {}
    for set_name in _profile_sets(profile.stock or profile.id):
        meta = _index()["sets"][set_name]
        folder = STOCK_DIR / set_name
        for source in sorted(p for p in folder.rglob("*") if p.is_file()):
            target = "/" + source.relative_to(folder).as_posix()
            file_meta = meta.get("files", {}).get(target, {})
            package = _resolve_package(profile, file_meta.get("package", meta.get("package")))
            mode = int(file_meta.get("mode", meta.get("mode", "0644")), 8)
            chosen[target] = StockFile(target, source, package, mode, bool(meta.get("only_installed")),
                                       dict(meta.get("tokens", {})))
    return [chosen[t] for t in sorted(chosen)]


def _tokens(profile: Profile, hostname: Optional[str], entry: StockFile) -> Dict[str, str]:
    tokens = {
        "@HOSTNAME@": hostname or default_hostname(profile),
        "@PFVER@": package_versions(profile)[0],
        "@MAPTYPE@": profile.map_type,
        "@OSNAME@": "Ubuntu" if profile.distro == "ubuntu" else "Debian/GNU",
    }
    tokens.update(entry.tokens)
    if profile.id in _COMPAT:
        tokens["@COMPAT@"] = _COMPAT[profile.id]
    return tokens


def render_stock(entry: StockFile, profile: Profile, hostname: Optional[str] = None) -> bytes:
    text = entry.source.read_text(encoding="utf-8")
    for token, value in _tokens(profile, hostname, entry).items():
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
