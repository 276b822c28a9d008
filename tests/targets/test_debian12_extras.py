"""On a booted Debian 12, what a person meets beyond the plain headless run:

- exim4, Debian's default MTA, installed and running first: ``existing_mta:
  remove`` lets the postfix install replace it and rollback brings it back
  running, with /etc as it was; ``existing_mta: alternatives`` (a RHEL
  mechanism) is refused on Debian before anything changes;
- the wizard, in Japanese, driven through tmux over a real SSH session into
  the machine: first the SSH connection cut in the middle of a real apply (the
  run still ends, the journal says how, and rollback leaves /etc as it was),
  then a whole real run to the end;
- a re-run after the admin edited main.cf keeps the admin's other lines.
"""
from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time

import yaml

from tests import mailcheck
from tests.targets import flow
from tests.targets.flow import RUNS, Target
from tests.terminal.tmux import ScreenTimeout, Tmux, squeeze
from tests.terminal.wizard import confirm_apply, focus_field, on_page, replace_field, text

pytestmark = flow.PYTESTMARK

EXIM = ["exim4-daemon-light", "exim4-base", "exim4-config"]
APPLY_WAIT = 600          # seconds: a real apply (package update and install) over the proxy


def test_exim4_replaced_and_restored(boot, figures):
    machine = boot("12")
    target = Target(machine).prepare()
    machine.run(["apt-get", "install", "-y", "-qq", "exim4-daemon-light"],
                env={"DEBIAN_FRONTEND": "noninteractive"}, timeout=600)
    assert target.unit("exim4") == ("enabled", "active")
    assert target.installed(EXIM) == set(EXIM)
    before = target.manifest()

    # alternatives is the RHEL family's way to keep sendmail: refused here, nothing changes.
    refused = target.mailwiz("apply", "--answers", flow.ANSWERS_INSIDE, "--yes",
                             "--set", "system.existing_mta=alternatives")
    assert refused.returncode == 2, refused.stdout
    assert "existing_mta" in refused.stdout
    assert target.runs() == [] and mailcheck.manifest_differences(before, target.manifest()) == []

    proc, apply_seconds = target.apply()
    assert proc.returncode == 0, proc.stdout[-8000:]
    assert flow.failed_checks(target.checks(target.runs()[-1])) == {}
    assert target.installed(EXIM) == set(), "exim4 is still installed next to postfix"
    assert target.unit("postfix") == ("enabled", "active")
    greeting = mailcheck.assert_banner_names_no_software(target.address, target.outside)
    assert "exim" not in greeting.lower()

    undo = target.mailwiz("rollback")
    assert undo.returncode == 0, undo.stdout[-8000:]
    assert target.installed() == set()
    assert target.installed(EXIM) == set(EXIM)
    assert target.unit("exim4") == ("enabled", "active")
    differences = mailcheck.manifest_differences(before, target.manifest())
    assert differences == [], "\n".join(map(str, differences))
    figures("Debian 12 with exim4: apply {:.0f} s (exim4 replaced), rollback restored it".format(apply_seconds))


# --- the wizard over SSH ---------------------------------------------------------------------

class SshClient:
    """A key pair for root@machine and the ssh command line into it."""

    def __init__(self, folder):
        self.key = folder / "id_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "mailwiz targets", "-f",
                        str(self.key)], check=True, capture_output=True, timeout=30)

    @property
    def public(self) -> str:
        with open(str(self.key) + ".pub") as handle:
            return handle.read()

    def argv(self, address: str, remote: str):
        return ["ssh", "-F", "/dev/null", "-tt", "-i", str(self.key), "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
                "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "root@" + address, remote]


WIZARD = shlex.join(["env", "TERM=xterm-256color", "LANG=C.UTF-8", flow.MAILWIZ, "--lang", "ja"])


def walk_to_review(term: Tmux, lang: str, *, hostname: str, alias: str) -> None:
    """tests.terminal.wizard.walk_to_review for a real host reached over SSH:
    longer waits (the facts of a real host, a loaded machine), and the host name
    typed again when the screen does not show it.  Seen once under load: the
    field was empty after Home, Ctrl+K and the typing, while the domain had
    followed the typed name (noted in the report; not understood yet)."""
    on_page(term, 1, lang, "English", "日本語", timeout=60)
    term.keys("C-n")
    on_page(term, 2, lang, text("Host name", lang), timeout=60)
    term.keys("C-n")
    on_page(term, 3, lang, "postfix", "dovecot", timeout=60)
    term.keys("C-n")
    label = text("Host name (fully qualified)", lang)
    on_page(term, 4, lang, label)
    focus_field(term, label)
    domain = hostname.split(".", 1)[1]

    def typed(screen: str) -> bool:
        lines = [line for line in screen.splitlines() if domain in line]
        return any(hostname in line for line in lines) and any(hostname not in line for line in lines)

    for attempt in range(3):
        replace_field(term, hostname)
        try:
            term.wait_until(typed, "host name {} and the derived domain {}".format(hostname, domain), timeout=20)
            break
        except ScreenTimeout:
            if attempt == 2:
                raise
    term.keys("C-n")
    for number in (5, 6, 7, 8):        # TLS, DKIM, Dovecot, spam rules
        on_page(term, number, lang)
        term.keys("C-n")
    label = text("Forward root's mail to (an address or a local user)", lang)
    on_page(term, 9, lang, label)
    focus_field(term, label)
    replace_field(term, alias)
    term.wait_until(lambda screen: squeeze(alias) in squeeze(screen), "the alias " + alias)
    term.keys("C-n")
    on_page(term, 10, lang, text("Save the answers for replay in", lang))


def _alive_inside(machine, pid: int) -> bool:
    return machine.run(["kill", "-0", str(pid)], check=False).returncode == 0


def _lock_pid(machine):
    text = machine.read("/var/lib/mailwiz/lock")
    try:
        return int(text.strip()) if text else None
    except ValueError:
        return None


def test_wizard_over_ssh_in_japanese_cut_then_whole_run_then_admin_edit(boot, tmp_path, figures):
    ssh = SshClient(tmp_path)
    machine = boot("12", authorized_key=ssh.public)
    target = Target(machine).prepare()
    before = target.manifest()
    lang = "ja"

    # -- 1. the SSH connection cut in the middle of a real apply ------------------------------
    term = Tmux(tmp_path / "cut")
    try:
        term.start(ssh.argv(target.address, WIZARD), cwd=tmp_path)
        walk_to_review(term, lang, hostname="mail.cut.test", alias=flow.USER)
        confirm_apply(term, lang)
        on_page(term, 11, lang, text("Applying…", lang), "✓", timeout=APPLY_WAIT)   # one step done
        wizard = _lock_pid(machine)
        assert wizard is not None and _alive_inside(machine, wizard)
        run_id = target.runs()[-1]
        done_before = sum(1 for e in target.journal(run_id) if e["event"] == "done")
        client = term.program_pid()
        assert open("/proc/{}/comm".format(client)).read().strip() == "ssh"
        os.kill(client, signal.SIGKILL)
    finally:
        term.close()
    deadline = time.monotonic() + APPLY_WAIT
    while _alive_inside(machine, wizard) and time.monotonic() < deadline:
        time.sleep(1)
    assert not _alive_inside(machine, wizard), "the wizard still runs {} s after the cut".format(APPLY_WAIT)
    entries = target.journal(run_id)
    ended = [e for e in entries if e["event"] in ("run-end", "rollback-end")]
    assert ended, "the run stopped with the terminal; the journal ends with {}".format(entries[-3:])
    assert sum(1 for e in entries if e["event"] == "done") > done_before, "nothing ran after the cut"
    if entries[-1]["event"] == "run-end" and entries[-1].get("status") == "ok":
        undo = target.mailwiz("rollback", run_id)
        assert undo.returncode == 0, undo.stdout[-6000:]
    differences = mailcheck.manifest_differences(before, target.manifest())
    assert differences == [], "\n".join(map(str, differences))
    figures("Debian 12 wizard over SSH, cut mid-apply: the run ended with {} ({}), /etc restored".format(
        entries[-1]["event"], entries[-1].get("status")))

    # -- 2. the whole run, in Japanese, to the end ----------------------------------------------
    hostname = "mail.wizard.test"
    term = Tmux(tmp_path / "whole")
    try:
        term.start(ssh.argv(target.address, WIZARD), cwd=tmp_path)
        started = time.monotonic()
        walk_to_review(term, lang, hostname=hostname, alias=flow.USER)
        confirm_apply(term, lang)
        on_page(term, 11, lang, text("Finished. Next shows the results.", lang), timeout=APPLY_WAIT)
        seconds = time.monotonic() - started
        term.keys("Enter")
        # A real run lists the self-test's checks here (the sandbox has none), so
        # what follows them may be below the fold: the page and the result.
        on_page(term, 12, lang, text("succeeded", lang))
        term.keys("C-n")
        assert term.wait_exit(timeout=15) == 0, term.everything()
    finally:
        term.close()
    run_id = target.runs()[-1]
    entries = target.journal(run_id)
    assert (entries[-1]["event"], entries[-1].get("status")) == ("run-end", "ok"), entries[-3:]
    assert flow.failed_checks(target.checks(run_id)) == {}
    assert "myhostname = " + hostname in machine.read("/etc/postfix/main.cf")
    figures("Debian 12 wizard over SSH in Japanese: whole real run {:.0f} s (typing included)".format(seconds))

    # -- 3. the admin edits main.cf; a re-run keeps the admin's lines ---------------------------
    admin = "# the admin's own setting\nsmtpd_client_connection_rate_limit = 30\n"
    main_cf = machine.read("/etc/postfix/main.cf")
    machine.write("/etc/postfix/main.cf", main_cf + admin)
    replay = "{}/{}/answers.yaml".format(RUNS, run_id)
    saved = yaml.safe_load(machine.read(replay))
    assert saved["postfix"]["hostname"] == hostname
    again = target.mailwiz("apply", "--answers", replay, "--set", "postfix.message_size_limit_mb=20", "--yes")
    assert again.returncode == 0, again.stdout[-6000:]
    edited = machine.read("/etc/postfix/main.cf")
    assert admin in edited, edited
    assert "message_size_limit = {}".format(20 * 1048576) in edited
    for line in main_cf.splitlines():
        if not line.startswith(("message_size_limit", "mailbox_size_limit")):
            assert line in edited.splitlines(), line
    assert target.config_complaints() == {"postconf -n (stderr)": "", "doveconf -n (stderr)": "",
                                          "postfix check": ""}
