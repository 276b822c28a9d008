"""Root file systems of clean Debian releases, built once with debootstrap and
kept as tarballs under the cache folder.

An image is what ``debootstrap --variant=minbase`` makes of a release with
systemd, python3-venv and openssh-server added (no mail server), plus the few
files a booted test machine needs: the sources a Debian install has (the
release, its updates and security), a host name, and the apt timers masked so
that no daily apt run takes the dpkg lock in the middle of a test.

The tarball's name carries a hash of the recipe below (:data:`RECIPE_VERSION`,
the package list, the mirror and the files written): change any of it and the
next build makes a new image; otherwise the cached one is reused.  The .debs
debootstrap downloads are kept too (``--cache-dir``), so a rebuild does not
download them again.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator

# Bump when the build below changes in a way the data does not show.
RECIPE_VERSION = 1

CACHE = Path(os.environ.get("MAILWIZ_TARGETS_CACHE", "/var/cache/mailwiz-targets"))
MIRROR = "http://deb.debian.org/debian"
SECURITY = "http://security.debian.org/debian-security"

# Debian version -> suite.  Names are accepted wherever a release is asked for.
RELEASES: Dict[str, str] = {"11": "bullseye", "12": "bookworm", "13": "trixie"}

PACKAGES = ["systemd", "systemd-sysv", "dbus", "python3", "python3-venv", "openssh-server", "ca-certificates"]

HOSTNAME = "target"


def suite(release: str) -> str:
    """"12" or "bookworm" -> "bookworm"."""
    if release in RELEASES:
        return RELEASES[release]
    if release in RELEASES.values():
        return release
    raise ValueError("unknown Debian release {!r} (known: {})".format(
        release, ", ".join("{} ({})".format(k, v) for k, v in RELEASES.items())))


def version(release: str) -> str:
    name = suite(release)
    return next(k for k, v in RELEASES.items() if v == name)


def image_files(name: str) -> Dict[str, str]:
    """Files written into the root after debootstrap: path -> content."""
    sources = ("deb {mirror} {s} main\n"
               "deb {mirror} {s}-updates main\n"
               "deb {security} {s}-security main\n").format(mirror=MIRROR, security=SECURITY, s=name)
    return {
        "/etc/apt/sources.list": sources,
        "/etc/hostname": HOSTNAME + "\n",
        "/etc/hosts": ("127.0.0.1\tlocalhost\n127.0.1.1\t{}\n\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                       "ff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n").format(HOSTNAME),
        # No DNS inside (the way out is the harness's proxy): lookups fail at once.
        "/etc/resolv.conf": "# test machine: no name server\n",
    }


MASKED_UNITS = ["apt-daily.timer", "apt-daily-upgrade.timer"]


def recipe(release: str) -> dict:
    name = suite(release)
    return {"version": RECIPE_VERSION, "suite": name, "variant": "minbase", "packages": PACKAGES,
            "mirror": MIRROR, "files": image_files(name), "masked": MASKED_UNITS}


def recipe_hash(release: str) -> str:
    data = json.dumps(recipe(release), sort_keys=True).encode()
    return hashlib.sha256(data).hexdigest()[:12]


def tarball(release: str) -> Path:
    return CACHE / "images" / "{}-{}.tar.zst".format(suite(release), recipe_hash(release))


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _log(message: str) -> None:
    print("[targets] " + message, flush=True)


def build(release: str, force: bool = False) -> Path:
    """The image tarball for *release*, built unless a current one is cached."""
    name = suite(release)
    target = tarball(name)
    with _locked(CACHE / "locks" / (name + ".lock")):
        if target.exists() and not force:
            return target
        started = time.monotonic()
        debs = CACHE / "debootstrap" / name
        debs.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="mwt-build-{}-".format(name), dir=_workdir_parent()))
        root = work / "root"
        try:
            root.mkdir(mode=0o755)
            _log("debootstrap {} (log: {})".format(name, work / "debootstrap.log"))
            with open(work / "debootstrap.log", "w") as log:
                proc = subprocess.run(
                    ["debootstrap", "--variant=minbase", "--include=" + ",".join(PACKAGES),
                     "--cache-dir=" + str(debs), name, str(root), MIRROR],
                    stdout=log, stderr=subprocess.STDOUT, timeout=1800)
            if proc.returncode != 0:
                raise RuntimeError("debootstrap {} failed ({}):\n{}".format(
                    name, proc.returncode, (work / "debootstrap.log").read_text()[-4000:]))
            for path, content in image_files(name).items():
                (root / path.lstrip("/")).write_text(content)
            for unit in MASKED_UNITS:
                link = root / "etc/systemd/system" / unit
                link.parent.mkdir(parents=True, exist_ok=True)
                if link.exists() or link.is_symlink():
                    link.unlink()
                link.symlink_to("/dev/null")
            # Each machine gets its own id when it boots (Machine.boot).
            (root / "etc/machine-id").write_text("")
            for deb in (root / "var/cache/apt/archives").glob("*.deb"):
                deb.unlink()
            root.chmod(0o755)
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".partial")
            subprocess.run(["tar", "--numeric-owner", "--xattrs", "--zstd", "-C", str(root), "-cf",
                            str(partial), "."], check=True, timeout=600)
            os.replace(partial, target)
            for old in target.parent.glob(name + "-*.tar.zst"):
                if old != target:
                    old.unlink()
            _log("image {} built in {:.0f} s: {}".format(name, time.monotonic() - started, target))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return target


def _workdir_parent() -> str:
    from tests.targets.machine import WORK
    WORK.mkdir(parents=True, exist_ok=True)
    return str(WORK)
