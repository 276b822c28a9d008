"""A booted test machine: a fresh copy of a release's image run by
``systemd-nspawn --boot`` (systemd as its PID 1), in a network namespace of
its own.

Network: a veth pair; the host end gets 10.231.N.1/24, the machine's end
10.231.N.2/24 (N free at boot).  The machine has no default route and no DNS:
the tests talk to its address, and its apt and pip go out through the proxy
(``tests/targets/proxy.py``) the harness runs on 10.231.N.1:3128, which lets
through Debian's mirrors and PyPI only.  apt finds the proxy in
``/etc/apt/apt.conf.d/01mwt-proxy`` (written before boot, so it is part of the
machine as the tests find it); :meth:`Machine.pip_env` gives pip's.

Commands run inside with ``nsenter --target PID --all`` (PID: the machine's
systemd, the child of the nspawn process) and a clean environment.

The machine's root is a folder on the host (``/var/tmp/mailwiz-targets/NAME``):
files are read and written there directly.  apt's .deb archive and pip's cache
are bind-mounted from the cache folder, so a second run downloads nothing it
already has.  :meth:`Machine.destroy` powers it off and removes everything.
"""
from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from tests.targets import images

WORK = Path(os.environ.get("MAILWIZ_TARGETS_WORK", "/var/tmp/mailwiz-targets"))
PROJECT = Path(__file__).resolve().parents[2]
PREFIX = "mwt-"
PROXY_PORT = 3128
SUBNET = "10.231.{}."
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
HOST_CA = "/etc/ssl/certs/ca-certificates.crt"
CA_INSIDE = "/opt/mwt/ca.crt"            # the host's CA bundle, for pip (outside /etc on purpose)
BOOT_TIMEOUT = 90


def _log(message: str) -> None:
    print("[targets] " + message, flush=True)


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check, timeout=30)


def _subnets_in_use() -> set:
    used = set()
    for line in _ip("-o", "-4", "addr", "show").stdout.splitlines():
        for word in line.split():
            if word.startswith("10.231."):
                used.add(int(word.split(".")[2]))
    return used


class Machine:
    """One booted machine.  ``Machine.boot("13")`` or, for one made before by
    another process (the CLI), ``Machine.load(name)``."""

    def __init__(self, name: str, release: str, subnet: int):
        self.name = name
        self.release = images.suite(release)
        self.subnet = subnet
        self.dir = WORK / name
        self.root = self.dir / "root"
        self.nspawn_pid: Optional[int] = None
        self.proxy_pid: Optional[int] = None
        self.init_pid: Optional[int] = None

    # -- addresses and names ------------------------------------------------------------

    @property
    def host_address(self) -> str:
        """The host end of the veth: the tests' source address, outside the machine."""
        return SUBNET.format(self.subnet) + "1"

    @property
    def address(self) -> str:
        return SUBNET.format(self.subnet) + "2"

    @property
    def netns(self) -> str:
        return self.name

    @property
    def _veth(self) -> str:
        return self.name.replace("-", "")[-12:]     # interface names: at most 15 bytes

    @property
    def proxy(self) -> str:
        return "http://{}:{}".format(self.host_address, PROXY_PORT)

    # -- life cycle ------------------------------------------------------------------------

    @classmethod
    def boot(cls, release: str, *, authorized_key: Optional[str] = None) -> "Machine":
        tarball = images.build(release)
        WORK.mkdir(parents=True, exist_ok=True)
        with open(WORK / "network.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            used = _subnets_in_use()
            subnet = next(n for n in range(1, 255) if n not in used)
            machine = cls(PREFIX + "{}-{}".format(images.version(release), secrets.token_hex(2)), release, subnet)
            machine._network()
        try:
            machine._unpack(tarball, authorized_key)
            machine._start()
        except BaseException:
            machine.destroy()
            raise
        return machine

    def _network(self) -> None:
        host_end, inner_end = self._veth + "h", self._veth + "c"
        self.dir.mkdir(parents=True)
        self._save()
        _ip("netns", "add", self.netns)
        _ip("link", "add", host_end, "type", "veth", "peer", "name", inner_end, "netns", self.netns)
        _ip("addr", "add", self.host_address + "/24", "dev", host_end)
        _ip("link", "set", host_end, "up")
        _ip("-n", self.netns, "addr", "add", self.address + "/24", "dev", inner_end)
        _ip("-n", self.netns, "link", "set", inner_end, "up")
        _ip("-n", self.netns, "link", "set", "lo", "up")

    def _unpack(self, tarball: Path, authorized_key: Optional[str]) -> None:
        self.root.mkdir(mode=0o755)
        subprocess.run(["tar", "--numeric-owner", "--xattrs", "--zstd", "-C", str(self.root), "-xf",
                        str(tarball)], check=True, timeout=300)
        self.root.chmod(0o755)
        self.write("/etc/machine-id", secrets.token_hex(16) + "\n")
        self.write("/etc/apt/apt.conf.d/01mwt-proxy",
                   '// test machine: the way out is the harness\'s proxy\nAcquire::http::Proxy "{}";\n'
                   .format(self.proxy))
        self.write(CA_INSIDE, Path(HOST_CA).read_text())
        if authorized_key:
            self.write("/root/.ssh/authorized_keys", authorized_key.rstrip("\n") + "\n", mode=0o600)
            os.chmod(self.host_path("/root/.ssh"), 0o700)

    def _start(self) -> None:
        log = open(self.dir / "proxy.log", "w")
        proxy = subprocess.Popen([sys.executable, "-m", "tests.targets.proxy", self.host_address, str(PROXY_PORT)],
                                 cwd=str(PROJECT), stdout=log, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
        self.proxy_pid = proxy.pid
        self._save()
        cache = images.CACHE
        apt_cache = cache / "apt" / self.release
        pip_cache = cache / "pip" / self.release
        for folder in (apt_cache / "partial", pip_cache):
            folder.mkdir(parents=True, exist_ok=True)
        console = open(self.dir / "console.log", "w")
        nspawn = subprocess.Popen(
            ["systemd-nspawn", "-D", str(self.root), "--boot", "--keep-unit", "--register=no",
             "--machine=" + self.name, "--network-namespace-path=/run/netns/" + self.netns,
             "--resolv-conf=off", "--timezone=off", "--link-journal=no", "--console=read-only",
             "--bind={}:/var/cache/apt/archives".format(apt_cache),
             "--bind={}:/root/.cache/pip".format(pip_cache)],
            stdout=console, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self.nspawn_pid = nspawn.pid
        self._save()
        started = time.monotonic()
        deadline = started + BOOT_TIMEOUT
        while self.init_pid is None:
            if nspawn.poll() is not None:
                raise RuntimeError("systemd-nspawn exited ({}):\n{}".format(nspawn.returncode, self.console()))
            if time.monotonic() > deadline:
                raise RuntimeError("no init process within {} s:\n{}".format(BOOT_TIMEOUT, self.console()))
            self.init_pid = self._find_init()
            time.sleep(0.1)
        self._save()
        while True:
            # Until systemd has its bus socket, systemctl cannot even ask.
            left = max(1, int(deadline - time.monotonic()))
            state = self.run(["systemctl", "is-system-running", "--wait"], timeout=left + 5,
                             check=False).stdout.strip()
            if state in ("running", "degraded") or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        if state not in ("running", "degraded"):
            raise RuntimeError("{} did not boot: {}\n{}".format(self.name, state, self.console()))
        self.boot_state = state
        self.boot_seconds = time.monotonic() - started

    def _find_init(self) -> Optional[int]:
        for task in Path("/proc/{}/task".format(self.nspawn_pid)).glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in children:
                try:
                    if Path("/proc/{}/comm".format(child)).read_text().strip() == "systemd":
                        return int(child)
                except OSError:
                    continue
        return None

    def destroy(self) -> None:
        """Power off (bounded), stop the proxy, remove the network and the root."""
        if self.nspawn_pid and _alive(self.nspawn_pid):
            os.kill(self.nspawn_pid, signal.SIGTERM)   # nspawn --boot: an orderly poweroff
            deadline = time.monotonic() + 20
            while _alive(self.nspawn_pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if _alive(self.nspawn_pid):
                os.kill(self.nspawn_pid, signal.SIGKILL)
            _reap(self.nspawn_pid)
        if self.proxy_pid and _alive(self.proxy_pid):
            os.kill(self.proxy_pid, signal.SIGTERM)
            _reap(self.proxy_pid)
        _ip("netns", "del", self.netns, check=False)
        _ip("link", "del", self._veth + "h", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- state for other processes (the CLI) -----------------------------------------------

    def _save(self) -> None:
        data = {"name": self.name, "release": self.release, "subnet": self.subnet,
                "nspawn_pid": self.nspawn_pid, "proxy_pid": self.proxy_pid, "init_pid": self.init_pid}
        (self.dir / "state.json").write_text(json.dumps(data))

    @classmethod
    def load(cls, name: str) -> "Machine":
        data = json.loads((WORK / name / "state.json").read_text())
        machine = cls(data["name"], data["release"], data["subnet"])
        machine.nspawn_pid, machine.proxy_pid, machine.init_pid = (
            data["nspawn_pid"], data["proxy_pid"], data["init_pid"])
        return machine

    @staticmethod
    def names() -> List[str]:
        return sorted(p.parent.name for p in WORK.glob(PREFIX + "*/state.json"))

    # -- inside ------------------------------------------------------------------------------

    def enter_argv(self, argv: Sequence[str], env: Optional[Dict[str, str]] = None) -> List[str]:
        environment = {"PATH": PATH, "HOME": "/root", "LANG": "C.UTF-8", "TERM": os.environ.get("TERM", "dumb")}
        environment.update(env or {})
        return (["nsenter", "--target", str(self.init_pid), "--all", "env", "-i"]
                + ["{}={}".format(k, v) for k, v in environment.items()] + list(argv))

    def run(self, argv: Sequence[str], *, timeout: float = 600, check: bool = True, input: Optional[str] = None,
            env: Optional[Dict[str, str]] = None, stderr_apart: bool = False) -> subprocess.CompletedProcess:
        """Run *argv* inside; stdout and stderr together in ``.stdout`` unless
        *stderr_apart* (then stderr in ``.stderr``)."""
        proc = subprocess.run(self.enter_argv(argv, env), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE if stderr_apart else subprocess.STDOUT,
                              text=True, timeout=timeout, input=input,
                              stdin=None if input is not None else subprocess.DEVNULL)
        if check and proc.returncode != 0:
            raise AssertionError("in {}: {} failed ({}):\n{}".format(
                self.name, " ".join(argv), proc.returncode, proc.stdout[-6000:]))
        return proc

    def pip_env(self) -> Dict[str, str]:
        return {"https_proxy": self.proxy, "http_proxy": self.proxy, "PIP_CERT": CA_INSIDE,
                "PIP_DISABLE_PIP_VERSION_CHECK": "1"}

    def host_path(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    def write(self, path: str, content: str, mode: int = 0o644) -> None:
        target = self.host_path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
        target.chmod(mode)

    def read(self, path: str) -> Optional[str]:
        try:
            return self.host_path(path).read_text()
        except FileNotFoundError:
            return None

    def console(self) -> str:
        try:
            return (self.dir / "console.log").read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def journal(self, unit: str, since: Optional[str] = None) -> str:
        argv = ["journalctl", "--no-pager", "-o", "cat", "-u", unit]
        if since:
            argv += ["--since", since]
        return self.run(argv, check=False).stdout

    # -- mailwiz ---------------------------------------------------------------------------

    def install_mailwiz(self, venv: str = "/opt/mailwiz", source: str = "/opt/mailwiz-src") -> float:
        """The README's way: a venv of its own and ``pip install`` of this
        checkout (its files as git knows them, copied in).  Returns seconds."""
        started = time.monotonic()
        copy_checkout(self.host_path(source))
        self.run(["python3", "-m", "venv", venv], timeout=120)
        self.run([venv + "/bin/pip", "install", "-q", source], env=self.pip_env(), timeout=600)
        return time.monotonic() - started


def copy_checkout(dest: Path) -> None:
    """The project's tracked and new (not ignored) files, as they are on disk."""
    listed = subprocess.run(["git", "-C", str(PROJECT), "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], capture_output=True, check=True, timeout=60).stdout
    dest.mkdir(parents=True, exist_ok=True)
    for rel in filter(None, listed.decode().split("\0")):
        source = PROJECT / rel
        if not source.is_file():
            continue          # deleted in the work tree
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A child of this process that exited stays a zombie until reaped.
    try:
        state = Path("/proc/{}/stat".format(pid)).read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
