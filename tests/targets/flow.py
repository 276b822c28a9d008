"""mailwiz on a booted machine: install it as the README says, make the test
user, run it, and read what it left (units, packages, config warnings, /etc).

The tests of this folder (and anyone's later ones) build on :class:`Target`.
"""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import pytest

from tests import mailcheck
from tests.targets.machine import Machine

E2E = os.environ.get("MAILWIZ_E2E") == "1"
# Each test module of this folder starts with ``pytestmark = flow.PYTESTMARK``.
PYTESTMARK = [pytest.mark.e2e,
              pytest.mark.skipif(not E2E, reason="booted-machine tests run only with MAILWIZ_E2E=1 (set by .ci/run)")]

ANSWERS = Path(__file__).resolve().parent / "answers.yaml"
ANSWERS_INSIDE = "/root/answers.yaml"
VENV = "/opt/mailwiz"
MAILWIZ = VENV + "/bin/mailwiz"
USER = "mwt"
DOMAIN = "mailwiz-targets.test"
PACKAGES = ["postfix", "dovecot-core", "dovecot-imapd", "dovecot-pop3d", "dovecot-lmtpd"]
UNITS = ["postfix", "dovecot"]
RUNS = "/var/lib/mailwiz/runs"
# The checks the self-test must pass on a machine set up by answers.yaml.
SELF_TEST = {"smtp-banner", "smtp-starttls", "smtp-auth", "submission", "imap", "imaps", "pop3", "pop3s",
             "auth-socket", "delivery"}
# Journal lines of the mail units that say something is wrong.
TROUBLE = ("warning", "error", "fatal", "panic")


class Target:
    """A booted machine with mailwiz installed and the test user ``mwt``."""

    def __init__(self, machine: Machine):
        self.machine = machine
        self.password = secrets.token_urlsafe(18)
        self.install_seconds = 0.0

    def prepare(self, answers: Path = ANSWERS) -> "Target":
        # A server's apt-daily.timer keeps its package index current; the test
        # machine's timer is masked (it would take the dpkg lock mid-test), so the
        # refresh happens here.  mailwiz's update step judges "updates pending"
        # from the index as it finds it.
        self.machine.run(["apt-get", "update", "-qq"], timeout=300)
        self.install_seconds = self.machine.install_mailwiz(VENV)
        self.machine.run(["useradd", "-m", "-s", "/bin/sh", USER])
        self.machine.run(["chpasswd"], input="{}:{}\n".format(USER, self.password))
        self.machine.write(ANSWERS_INSIDE, answers.read_text(), mode=0o600)
        return self

    @property
    def address(self) -> str:
        return self.machine.address

    @property
    def outside(self) -> str:
        """The host end of the veth: a client outside mynetworks (127.0.0.1/32)."""
        return self.machine.host_address

    # -- mailwiz ---------------------------------------------------------------------------

    def mailwiz(self, *args: str, timeout: float = 1200, env: Optional[Dict[str, str]] = None,
                lang: str = "en") -> subprocess.CompletedProcess:
        return self.machine.run([MAILWIZ, *args, "--lang", lang], timeout=timeout, check=False, env=env)

    def apply(self, *extra: str) -> Tuple[subprocess.CompletedProcess, float]:
        started = time.monotonic()
        proc = self.mailwiz("apply", "--answers", ANSWERS_INSIDE, "--yes", *extra)
        return proc, time.monotonic() - started

    def runs(self) -> List[str]:
        folder = self.machine.host_path(RUNS)
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []

    def journal(self, run_id: str) -> List[dict]:
        text = self.machine.read("{}/{}/journal.jsonl".format(RUNS, run_id)) or ""
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def checks(self, run_id: str) -> Dict[str, dict]:
        return {e["id"]: e for e in self.journal(run_id) if e["event"] == "check"}

    # -- the machine's state ---------------------------------------------------------------

    def installed(self, packages: Sequence[str] = PACKAGES) -> set:
        proc = self.machine.run(["dpkg-query", "-W", "-f", "${db:Status-Abbrev} ${Package}\n", *packages],
                                check=False, stderr_apart=True)
        return {line.split()[-1] for line in proc.stdout.splitlines() if line.startswith("ii")}

    def unit(self, name: str) -> Tuple[str, str]:
        """(``systemctl is-enabled``, ``systemctl is-active``) of a unit."""
        enabled = self.machine.run(["systemctl", "is-enabled", name], check=False, stderr_apart=True)
        active = self.machine.run(["systemctl", "is-active", name], check=False, stderr_apart=True)
        return enabled.stdout.strip() or "not-found", active.stdout.strip()

    def manifest(self) -> mailcheck.Manifest:
        return mailcheck.manifest(str(self.machine.root), "/etc")

    def config_complaints(self) -> Dict[str, str]:
        """What ``postconf -n`` and ``doveconf -n`` print on stderr and what
        ``postfix check`` prints at all: each must be empty."""
        out = {}
        for argv in (["postconf", "-n"], ["doveconf", "-n"]):
            proc = self.machine.run(argv, check=False, stderr_apart=True)
            out[" ".join(argv) + " (stderr)"] = proc.stderr.strip() + ("" if proc.returncode == 0 else
                                                                       " [exit {}]".format(proc.returncode))
        proc = self.machine.run(["postfix", "check"], check=False)
        out["postfix check"] = proc.stdout.strip() + ("" if proc.returncode == 0 else
                                                      " [exit {}]".format(proc.returncode))
        return out

    def unit_troubles(self, since: float) -> List[str]:
        """Lines of the mail units' journal since they last started (and since
        *since*, epoch seconds) that warn or fail.  Before that last start they
        were stopped, and Dovecot's stop (``doveadm stop``) always logs
        "Warning: Killed with signal 15"."""
        troubles = []
        for unit in ("dovecot.service", "postfix.service", "postfix@-.service"):
            proc = self.machine.run(["journalctl", "--no-pager", "-o", "cat", "--since", "@{}".format(int(since)),
                                     "-u", unit], check=False, stderr_apart=True)
            lines = proc.stdout.splitlines()
            starts = [i for i, line in enumerate(lines) if line.startswith("Starting ")]
            for line in lines[starts[-1] if starts else 0:]:
                if any(word in line.lower() for word in TROUBLE):
                    troubles.append("{}: {}".format(unit, line))
        return troubles


def failed_checks(checks: Dict[str, dict]) -> Dict[str, dict]:
    return {k: e for k, e in checks.items() if e["result"] != "pass"}
