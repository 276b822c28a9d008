"""End to end on this Debian host: mailwiz installs and configures the REAL
Postfix + Dovecot, the mail server works as a user sees it, and ``mailwiz
rollback`` leaves /etc as it was and the packages gone.

Runs only as root on Debian with MAILWIZ_E2E=1 (``.ci/run`` sets it); skipped
otherwise.  The tests of this module share one server (a module fixture) and
run in file order; ``tests/conftest.py`` puts e2e tests after every other
test, because the fixture removes Postfix and Dovecot (mailwiz must install
them itself) and the real-tool config tests need them installed.  When they
were installed before, the fixture installs them again at the end, so a
later run (and the next CI run on this machine) finds the machine as it was.

Flow:
1. stop and purge postfix/dovecot if present (package scripts may not stop
   services here: /usr/sbin/policy-rc.d forbids it), remove left-over
   /etc/postfix and /etc/dovecot;
2. create the test user ``mwe2e`` with a random password;
3. take a manifest of /etc (content hash, mode, owner, link target);
4. ``python -m installer.cli apply --answers tests/e2e/answers.yaml --yes
   --root /`` (real runner: profile debian-12 detected, sysvinit because PID 1
   is not systemd here, so services start with ``service ... start``);
5. the tests below; the last one runs ``mailwiz rollback`` and checks it;
6. remove the test user; reinstall what step 1 removed.
Every network wait is bounded; the whole module takes about two minutes.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import mailcheck

pytestmark = pytest.mark.e2e

PROJECT = Path(__file__).resolve().parents[2]
ANSWERS = Path(__file__).resolve().parent / "answers.yaml"
USER = "mwe2e"
DOMAIN = "mailwiz-e2e.test"
HOSTNAME = "mail." + DOMAIN
HOST = "127.0.0.1"
OUTSIDE = "127.0.0.2"          # not in mynetworks (127.0.0.1/32), not "local" for Dovecot
PACKAGES = ["postfix", "dovecot-core", "dovecot-imapd", "dovecot-pop3d", "dovecot-lmtpd"]
APT_ENV = {"DEBIAN_FRONTEND": "noninteractive"}
RUNS = Path("/var/lib/mailwiz/runs")


def _skip_reason():
    if os.environ.get("MAILWIZ_E2E") != "1":
        return "end-to-end tests run only with MAILWIZ_E2E=1 (set by .ci/run)"
    if os.geteuid() != 0:
        return "end-to-end tests need root"
    try:
        release = Path("/etc/os-release").read_text()
    except OSError:
        return "no /etc/os-release"
    if "ID=debian" not in release.splitlines():
        return "end-to-end tests run on Debian only"
    if shutil.which("apt-get") is None:
        return "apt-get not found"
    return None


SKIP = _skip_reason()
if SKIP:
    pytestmark = [pytest.mark.e2e, pytest.mark.skip(reason=SKIP)]


# --- helpers ----------------------------------------------------------------------

def run(argv, timeout=600, check=True, env=None, input=None):
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          timeout=timeout, env={**os.environ, **(env or {})}, input=input)
    if check and proc.returncode != 0:
        raise AssertionError("{} failed ({}):\n{}".format(" ".join(argv), proc.returncode, proc.stdout))
    return proc


def mailwiz(*args, timeout=600):
    return run([sys.executable, "-m", "installer.cli", *args, "--root", "/", "--lang", "en"],
               timeout=timeout, check=False, env={"PYTHONPATH": str(PROJECT)})


def installed(packages):
    proc = run(["dpkg-query", "-W", "-f", "${db:Status-Abbrev} ${Package}\n", *packages], check=False)
    return {line.split()[-1] for line in proc.stdout.splitlines() if line.startswith("ii")}


def stop_mail_services():
    """Stop whatever runs now, by the services' own commands (bounded)."""
    for argv in (["postfix", "stop"], ["doveadm", "stop"]):
        if shutil.which(argv[0]):
            run(argv, timeout=60, check=False)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and open_ports():
        time.sleep(0.2)


def open_ports():
    return mailcheck.open_ports(HOST, mailcheck.MAIL_PORTS)


def manifest():
    return mailcheck.manifest("/", "/etc")


def journal_of(run_id):
    with open(RUNS / run_id / "journal.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


# --- the server ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server():
    """Postfix + Dovecot installed and configured by ``mailwiz apply``."""
    had = installed(PACKAGES)
    stop_mail_services()
    if had:
        run(["apt-get", "purge", "-y", *PACKAGES], env=APT_ENV, timeout=300)
    for leftover in ("/etc/postfix", "/etc/dovecot"):
        shutil.rmtree(leftover, ignore_errors=True)
    run(["userdel", "-r", USER], check=False)
    password = secrets.token_urlsafe(18)
    run(["useradd", "-m", "-s", "/bin/sh", USER])
    run(["chpasswd"], input="{}:{}\n".format(USER, password))
    before = manifest()
    runs_before = set(os.listdir(RUNS)) if RUNS.is_dir() else set()
    state = {"password": password, "before": before, "rolled_back": False}
    try:
        started = time.monotonic()
        proc = mailwiz("apply", "--answers", str(ANSWERS), "--yes")
        state.update(apply=proc, apply_seconds=time.monotonic() - started)
        new_runs = sorted(set(os.listdir(RUNS)) - runs_before) if RUNS.is_dir() else []
        state["run_id"] = new_runs[-1] if new_runs else None
        yield state
    finally:
        if not state["rolled_back"] and state.get("run_id"):
            mailwiz("rollback", state["run_id"])
        stop_mail_services()
        run(["userdel", "-r", USER], check=False)
        if had:
            leftover = installed(PACKAGES)
            run(["apt-get", "install", "-y", "--no-install-recommends",
                 "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold",
                 *sorted(had - leftover)], env=APT_ENV, timeout=600, check=False)


@pytest.fixture(scope="module")
def applied(server):
    proc = server["apply"]
    assert proc.returncode == 0, proc.stdout
    return server


def test_apply_succeeds_and_the_self_test_passes(applied):
    assert applied["run_id"], applied["apply"].stdout
    assert applied["apply"].stdout.splitlines()[0].startswith("Real host (debian-12)")
    checks = {e["id"]: e for e in journal_of(applied["run_id"]) if e["event"] == "check"}
    failed = {k: e for k, e in checks.items() if e["result"] != "pass"}
    assert not failed, json.dumps(failed, indent=1)
    assert {"smtp-banner", "smtp-starttls", "smtp-auth", "submission", "imap", "imaps", "pop3", "pop3s",
            "auth-socket", "delivery"} <= set(checks)
    assert set(installed(PACKAGES)) == set(PACKAGES)
    assert Path("/etc/dovecot/conf.d/99-mailwiz.conf").is_file()


def test_second_apply_changes_nothing(applied):
    proc = mailwiz("apply", "--answers", str(ANSWERS), "--yes")
    assert proc.returncode == 0, proc.stdout
    assert "Nothing to do" in proc.stdout, proc.stdout


def test_banner_names_no_software(applied):
    mailcheck.assert_banner_names_no_software(HOST)


def test_send_with_auth_on_587_and_read_back_over_imaps_and_pop3s(applied):
    marker = mailcheck.send_with_auth_on_587(HOST, USER, applied["password"], DOMAIN)
    mailcheck.read_back_over_imaps(HOST, USER, applied["password"], marker)
    mailcheck.read_back_over_pop3s(HOST, USER, applied["password"], marker)


def test_no_relay_for_outside_clients(applied):
    mailcheck.assert_no_relay(HOST, OUTSIDE, USER, DOMAIN)


def test_no_auth_without_tls_from_outside(applied):
    mailcheck.assert_no_auth_without_tls(HOST, OUTSIDE, USER, applied["password"], DOMAIN)


def test_rollback_restores_the_host(applied):
    proc = mailwiz("rollback", applied["run_id"])
    applied["rolled_back"] = True
    assert proc.returncode == 0, proc.stdout
    deadline = time.monotonic() + 15
    while open_ports() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert open_ports() == []
    assert installed(PACKAGES) == set()
    differences = mailcheck.manifest_differences(applied["before"], manifest())
    assert differences == [], "\n".join(map(str, differences))
    assert not os.path.exists("/etc/postfix") and not os.path.exists("/etc/dovecot")
