"""Fixtures: a tmux terminal (80x24) and an sshd on a free loopback port.

Each skips, with the reason, where it cannot work: no tmux; for sshd, not root
or no /usr/sbin/sshd or no ssh client.  tests/run.sh installs tmux,
openssh-server and openssh-client, so in CI (as root) nothing is skipped.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import List, Optional

import pytest

from tests.terminal.tmux import Tmux

pytest.importorskip("textual", reason="the wizard needs textual")

SSHD = "/usr/sbin/sshd"


@pytest.fixture
def terminal():
    """``terminal()`` -> a fresh 80x24 tmux pane (not started); every one is stopped afterwards."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (tests/run.sh installs it with apt)")
    made: List[Tmux] = []
    # A short folder of its own: tmux socket paths are limited to ~100 bytes.
    workdir = Path(tempfile.mkdtemp(prefix="mwtmux-"))

    def make(width: int = 80, height: int = 24) -> Tmux:
        term = Tmux(workdir / str(len(made)), width, height)
        made.append(term)
        return term

    yield make
    for term in made:
        term.close()
    shutil.rmtree(workdir, ignore_errors=True)


# -- sshd ----------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SshServer:
    """An sshd -D on 127.0.0.1:port that lets root in with one key made for the tests."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.host_key = folder / "host_ed25519"
        self.client_key = folder / "client_ed25519"
        self.log = folder / "sshd.log"
        self.port = 0
        self.process: Optional[subprocess.Popen] = None
        for key, comment in ((self.host_key, "host"), (self.client_key, "mailwiz terminal tests")):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(key)],
                           check=True, capture_output=True, timeout=30)
        authorized = folder / "authorized_keys"
        authorized.write_text(Path(str(self.client_key) + ".pub").read_text())
        authorized.chmod(0o600)
        self.client_key.chmod(0o600)

    def config(self, use_pam: bool) -> Path:
        path = self.folder / "sshd_config"
        path.write_text("\n".join([
            f"ListenAddress 127.0.0.1:{self.port}",
            f"HostKey {self.host_key}",
            f"PidFile {self.folder / 'sshd.pid'}",
            f"AuthorizedKeysFile {self.folder / 'authorized_keys'}",
            "PermitRootLogin prohibit-password",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            f"UsePAM {'yes' if use_pam else 'no'}",
            "StrictModes no",
            "PrintMotd no",
            "PrintLastLog no",
            "LogLevel VERBOSE",
            "",
        ]))
        return path

    def start(self) -> None:
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)   # sshd's privilege separation folder
        problems = []
        # Without PAM, sshd refuses a root account whose password is locked ("!"):
        # then PAM (whose account check allows key logins) is the way in.
        for use_pam in (False, True):
            for _attempt in range(3):     # the free port may be taken between asking and binding
                self.port = free_port()
                config = self.config(use_pam)
                checked = subprocess.run([SSHD, "-t", "-f", str(config)], capture_output=True, text=True,
                                         timeout=30)
                if checked.returncode != 0:
                    pytest.fail("sshd refuses the test configuration:\n" + checked.stderr)
                self.log.write_text("")
                self.process = subprocess.Popen([SSHD, "-D", "-f", str(config), "-E", str(self.log)],
                                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                                stderr=subprocess.DEVNULL)
                if self._listening(timeout=10):
                    break
                self.stop()
            else:
                pytest.fail("sshd did not start listening:\n" + self.log.read_text())
            probe = subprocess.run(self.ssh_argv("true", tty=False), capture_output=True, text=True, timeout=30)
            if probe.returncode == 0:
                return
            problems.append(f"UsePAM {'yes' if use_pam else 'no'}: ssh said {probe.stderr.strip()!r}; "
                            f"sshd log:\n{self.log.read_text()}")
            self.stop()
            if "locked" not in problems[-1]:
                break
        pytest.fail("cannot log in to the test sshd as root:\n" + "\n".join(problems))

    def _listening(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return True
            except OSError:
                time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None

    def ssh_argv(self, remote_command: str, *, tty: bool = True) -> List[str]:
        """The ssh client line for root@127.0.0.1 running *remote_command* (a shell line)."""
        return (["ssh", "-F", "/dev/null"] + (["-tt"] if tty else ["-T"]) +
                ["-p", str(self.port), "-i", str(self.client_key),
                 "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                 "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR",
                 "-o", "ConnectTimeout=10", "root@127.0.0.1", remote_command])


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    """A running SshServer for this module's tests; stopped after them."""
    if os.geteuid() != 0:
        pytest.skip("the SSH tests start sshd and log in as root: run them as root")
    if not os.access(SSHD, os.X_OK):
        pytest.skip(f"{SSHD} is missing (tests/run.sh installs openssh-server)")
    for tool in ("ssh", "ssh-keygen"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is missing (tests/run.sh installs openssh-client)")
    server = SshServer(tmp_path_factory.mktemp("sshd"))
    try:
        server.start()
        yield server
    finally:
        server.stop()
