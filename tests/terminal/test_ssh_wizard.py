"""The real wizard over a real SSH session (ssh -tt to an sshd on 127.0.0.1,
inside tmux), walked with the keyboard; and the SSH connection lost while a
run is applying."""
from __future__ import annotations

import os
import shlex
import signal
import time


from tests.terminal.wizard import (PROJECT, PYTHON, PROFILE, assert_no_traceback, assert_one_ok_run, confirm_apply,
                                   journal, lock_holder, lock_is_free, on_page, run_dirs, text, walk_to_review,
                                   walk_whole_flow)

SLOW_CLI = PROJECT / "tests" / "terminal" / "slow_cli.py"


def remote_wizard(root, *program: str, env=()) -> str:
    """The shell line the SSH session runs: into the project, then the wizard."""
    argv = (["env", "TERM=xterm-256color", "LANG=C.UTF-8", *env, PYTHON, *program,
             "--sandbox", "--root", str(root), "--profile", PROFILE])
    return shlex.join(["cd", str(PROJECT)]) + " && " + shlex.join(argv)


def test_whole_flow_over_ssh(sshd, terminal, tmp_path):
    root = tmp_path / "sandbox"
    term = terminal()
    term.start(sshd.ssh_argv(remote_wizard(root, "-m", "installer.cli")), cwd=tmp_path)
    hostname, alias = "mx.ssh.test", "root@ssh.test"
    status = walk_whole_flow(term, "en", hostname=hostname, alias=alias)
    assert status == 0, term.everything()          # ssh's status is the remote program's
    assert_one_ok_run(root, hostname, alias)
    assert_no_traceback(term)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_connection_lost_while_applying_the_run_still_ends(sshd, terminal, tmp_path):
    """The SSH client dies mid-run: on the server the run goes on to its end (or
    rolls back) without a terminal, the journal says so, the lock is free, and
    the wizard exits."""
    root = tmp_path / "sandbox"
    term = terminal()
    # 0.25 s a command: the run takes several seconds, time to cut it off.
    term.start(sshd.ssh_argv(remote_wizard(root, str(SLOW_CLI), env=["MAILWIZ_TEST_COMMAND_DELAY=0.25"])),
               cwd=tmp_path)
    walk_to_review(term, "en", hostname="mx.cut.test", alias="root@cut.test")
    confirm_apply(term, "en")
    on_page(term, 11, "en", text("Applying…", "en"), "✓")    # running, one step done already
    wizard_pid = lock_holder(root)
    assert wizard_pid is not None and alive(wizard_pid)
    done_before = sum(1 for e in journal(run_dirs(root)[0]) if e["event"] == "done")

    ssh_client = term.program_pid()
    assert open(f"/proc/{ssh_client}/comm").read().strip() == "ssh"
    os.kill(ssh_client, signal.SIGKILL)
    try:
        deadline = time.monotonic() + 40
        while alive(wizard_pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        entries = journal(run_dirs(root)[0])
        events = [(e["event"], e.get("step")) for e in entries]
        assert events[-1][0] in ("run-end", "rollback-end"), (
            f"the run stopped with the terminal; the journal ends with {events[-3:]}")
        assert sum(1 for e in entries if e["event"] == "done") > done_before, "nothing ran after the disconnect"
        assert lock_is_free(root)
        assert not alive(wizard_pid), "the wizard is still running after its run ended, with no terminal"
        assert len(run_dirs(root)) == 1
    finally:
        if alive(wizard_pid):   # the wizard this test started; it must not outlive the test
            os.kill(wizard_pid, signal.SIGKILL)
