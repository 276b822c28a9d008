"""The lock (held from planning to the end, for apply, rollback and resume;
exit 3; a dead holder never in the way; a live run never offered), the state
folder (root's alone whatever the umask; old secrets not kept), and what a
rollback must not destroy: later runs, an admin's edits, ports open before."""
import json
import os
import stat
import subprocess
import sys
import textwrap

import pytest

from installer import cli, engine, facts as facts_mod, profiles, sandbox, stockfiles
from installer.journal import Locked, TargetLock
from installer.root import TargetRoot
from tests.engine.hoststate import host_state
from tests.engine.test_crash_safety import relay_answers
from tests.engine.test_flow import EXAMPLE, PROJECT, WORLD, _subprocess_cli, run_cli, sandbox_args, seeded
from tests.engine.treesnap import differences, snapshot


class LockHolder:
    """Another process holding the target lock until stopped."""

    def __init__(self, root):
        code = textwrap.dedent(f"""
            import sys, time
            from installer.journal import TargetLock
            from installer.root import TargetRoot
            lock = TargetLock(TargetRoot({str(root)!r})).acquire()
            print("held", flush=True)
            sys.stdin.read()
        """)
        self.proc = subprocess.Popen([sys.executable, "-c", code], cwd=PROJECT, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=PROJECT))
        assert self.proc.stdout.readline().strip() == "held"

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(10)


def interrupted(tmp_path, profile_id="rocky-9", index=6):
    root, before = seeded(tmp_path, profile_id)
    proc = _subprocess_cli("apply", "--answers", EXAMPLE, "--yes", *sandbox_args(root, profile_id),
                           env_extra={"MAILWIZ_FAILPOINT": f"{index}:kill"})
    assert proc.returncode == -9
    return root, before


@pytest.mark.parametrize("command", ["resume", "rollback", "apply"])
def test_every_changing_command_exits_3_while_another_holds_the_lock(tmp_path, capsys, command):
    root, _ = interrupted(tmp_path)
    killed = snapshot(root)
    holder = LockHolder(root)
    try:
        extra = ["--answers", EXAMPLE, "--yes"] if command == "apply" else []
        code, out, err = run_cli(capsys, command, *extra, *sandbox_args(root, "rocky-9"))
        assert engine.interrupted_runs(TargetRoot(str(root))) == [], "a run that may be alive was offered"
    finally:
        holder.stop()
    assert code == 3, out + err
    assert f"process {holder.proc.pid}" in err
    assert differences(killed, snapshot(root)) == []
    # the holder gone, the interrupted run is offered and resumes
    assert len(engine.interrupted_runs(TargetRoot(str(root)))) == 1
    assert run_cli(capsys, "resume", *sandbox_args(root, "rocky-9"))[0] == 0


def test_a_lock_left_by_a_dead_process_is_not_in_the_way(tmp_path, capsys):
    root, _ = seeded(tmp_path, "rocky-9")
    dead = subprocess.Popen(["true"])
    dead.wait()
    (root / "var/lib/mailwiz/lock").write_text(f"{dead.pid}\n")
    code, out, err = run_cli(capsys, "apply", "--answers", EXAMPLE, "--yes", *sandbox_args(root, "rocky-9"))
    assert code == 0, out + err
    assert (root / "var/lib/mailwiz/lock").read_text().strip() != str(dead.pid)


def test_the_lock_is_held_while_the_user_confirms(tmp_path, capsys, monkeypatch):
    """The plan shown is the plan run: between showing it and running it no
    other mailwiz run can take the target."""
    root, _ = seeded(tmp_path, "rocky-9")
    asked = []

    def confirm(args):
        with pytest.raises(Locked):
            TargetLock(TargetRoot(str(root))).acquire()
        asked.append(True)
        return True

    monkeypatch.setattr(cli, "_confirm", confirm)
    code, out, err = run_cli(capsys, "apply", "--answers", EXAMPLE, *sandbox_args(root, "rocky-9"))
    assert code == 0 and asked


def test_a_plan_made_stale_by_another_change_is_refused(tmp_path):
    """A client that does not hold the lock from planning (the wizard) gets
    StalePlan if a file the plan read changed meanwhile; nothing is done."""
    root_dir, _ = seeded(tmp_path, "rocky-9")
    root = TargetRoot(str(root_dir))
    profile = profiles.get("rocky-9")
    runner = sandbox.make_runner(root, profile)
    from installer import answers
    loaded = answers.load(EXAMPLE, profile=profile, root=root)
    plan = engine.make_plan(loaded, profile, facts_mod.gather(profile, runner, root), root,
                            stock_provider=stockfiles.stock_files)
    with open(root_dir / "etc/postfix/main.cf", "a") as handle:
        handle.write("# changed by someone else\n")
    before = snapshot(root_dir)
    with pytest.raises(engine.StalePlan) as stale:
        engine.apply(plan, root=root, runner=runner, answers_yaml="", sandbox=True)
    assert "/etc/postfix/main.cf" in stale.value.paths
    assert differences(before, snapshot(root_dir)) == []
    assert not (root_dir / "var/lib/mailwiz/runs").exists()


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_the_state_folder_is_roots_alone_whatever_the_umask(tmp_path, capsys, monkeypatch, umask):
    monkeypatch.setenv("MAILWIZ_RELAY_PASSWORD", "pw-one")
    answers = relay_answers(tmp_path)
    old = os.umask(umask)
    try:
        root, _ = seeded(tmp_path, "debian-12")
        args = sandbox_args(root, "debian-12")
        assert run_cli(capsys, "apply", "--answers", answers, "--yes", *args)[0] == 0
        proc = _subprocess_cli("apply", "--answers", answers, "--yes", "--set", "postfix.hostname=mx2.example.com",
                               *args, env_extra={"MAILWIZ_FAILPOINT": "1:kill", "MAILWIZ_RELAY_PASSWORD": "pw-one"})
        assert proc.returncode == -9
        assert run_cli(capsys, "rollback", *args)[0] == 0
    finally:
        os.umask(old)
    checked = 0
    for top in ("var/lib/mailwiz", "var/log/mailwiz"):
        for folder, dirs, files in os.walk(root / top):
            for name in [folder] + [os.path.join(folder, f) for f in files]:
                st = os.lstat(name)
                want = 0o700 if stat.S_ISDIR(st.st_mode) else 0o600
                assert stat.S_IMODE(st.st_mode) == want, (name, oct(st.st_mode))
                assert st.st_uid == os.geteuid()
                checked += 1
    assert checked > 20


def test_old_secrets_do_not_outlive_the_runs_that_need_them(tmp_path, capsys, monkeypatch):
    root, before = seeded(tmp_path, "rocky-9")
    args = sandbox_args(root, "rocky-9")
    answers = relay_answers(tmp_path)

    def state_holds(secret):
        found = []
        for folder, _, files in os.walk(root / "var/lib/mailwiz"):
            for name in files:
                if secret.encode() in open(os.path.join(folder, name), "rb").read():
                    found.append(os.path.join(folder, name))
        return found

    monkeypatch.setenv("MAILWIZ_RELAY_PASSWORD", "first-password")
    assert run_cli(capsys, "apply", "--answers", answers, "--yes", *args)[0] == 0
    monkeypatch.setenv("MAILWIZ_RELAY_PASSWORD", "second-password")
    assert run_cli(capsys, "apply", "--answers", answers, "--yes", *args)[0] == 0
    # run 2 backed up sasl_passwd with the first password: needed, so kept, 0600
    kept = state_holds("first-password")
    assert kept and all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in kept)
    assert run_cli(capsys, "rollback", *args)[0] == 0
    assert "first-password" in (root / "etc/postfix/sasl_passwd").read_text()
    assert state_holds("first-password") == [], "a rolled-back run kept an old password"
    assert run_cli(capsys, "rollback", *args)[0] == 0      # the newest run not rolled back: run 1
    assert state_holds("first-password") == [] and state_holds("second-password") == []
    assert differences(before, snapshot(root)) == []


def test_rolling_back_an_older_run_needs_the_newer_ones_rolled_back_first(tmp_path, capsys):
    root, before = seeded(tmp_path, "rocky-9")
    args = sandbox_args(root, "rocky-9")
    seeded_host = host_state(root)
    assert run_cli(capsys, "apply", "--answers", EXAMPLE, "--yes", *args)[0] == 0
    assert run_cli(capsys, "apply", "--answers", EXAMPLE, "--yes", "--set", "postfix.hostname=mx2.example.com",
                   *args)[0] == 0
    first, second = sorted(os.listdir(root / "var/lib/mailwiz/runs"))
    applied = snapshot(root)
    code, out, err = run_cli(capsys, "rollback", first, *args)
    assert code == 2 and second in err and "--chain" in err
    assert differences(applied, snapshot(root)) == []
    code, out, err = run_cli(capsys, "rollback", first, "--chain", *args)
    assert code == 0, out + err
    assert differences(before, snapshot(root)) == []
    assert host_state(root) == seeded_host


def test_rollback_shows_files_edited_since_and_asks_or_needs_force(tmp_path, capsys, monkeypatch):
    root, before = seeded(tmp_path, "rocky-9")
    args = sandbox_args(root, "rocky-9")
    assert run_cli(capsys, "apply", "--answers", EXAMPLE, "--yes", *args)[0] == 0
    with open(root / "etc/postfix/main.cf", "a") as handle:
        handle.write("# the admin's own setting\nsmtpd_tls_loglevel = 1\n")
    edited = snapshot(root)
    code, out, err = run_cli(capsys, "rollback", *args)         # no terminal, no --force
    assert code == 2 and "/etc/postfix/main.cf" in err and "--force" in err
    assert differences(edited, snapshot(root)) == []
    # on a terminal: asked; "n" keeps everything
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", lambda prompt="": "n")
    assert run_cli(capsys, "rollback", *args)[0] == 2
    assert differences(edited, snapshot(root)) == []
    monkeypatch.setattr("builtins.input", lambda prompt="": "y")
    assert run_cli(capsys, "rollback", *args)[0] == 0
    assert differences(before, snapshot(root)) == []


def test_rollback_force_loses_the_edits_on_purpose(tmp_path, capsys):
    root, before = seeded(tmp_path, "debian-12")
    args = sandbox_args(root, "debian-12")
    assert run_cli(capsys, "apply", "--answers", EXAMPLE, "--yes", *args)[0] == 0
    (root / "etc/postfix/master.cf").write_text("# replaced by hand\n")
    code, out, err = run_cli(capsys, "rollback", "--force", *args)
    assert code == 0, out + err
    assert differences(before, snapshot(root)) == []


def test_a_file_with_the_right_content_but_the_wrong_mode_is_corrected(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MAILWIZ_RELAY_PASSWORD", "pw-one")
    root, _ = seeded(tmp_path, "rocky-9")
    args = sandbox_args(root, "rocky-9")
    answers = relay_answers(tmp_path)
    assert run_cli(capsys, "apply", "--answers", answers, "--yes", *args)[0] == 0
    sasl = root / "etc/postfix/sasl_passwd"
    os.chmod(sasl, 0o644)
    code, out, err = run_cli(capsys, "plan", "--answers", answers, *args)
    assert code == 0 and "Nothing to do" not in out
    code, out, err = run_cli(capsys, "apply", "--answers", answers, "--yes", *args)
    assert code == 0, out + err
    assert stat.S_IMODE(sasl.stat().st_mode) == 0o600
    assert "Nothing to do" in run_cli(capsys, "apply", "--answers", answers, "--yes", *args)[1]


def test_ports_open_before_a_run_stay_open_after_its_rollback(tmp_path, capsys):
    root, before = seeded(tmp_path, "rocky-9")
    world = json.loads((root / WORLD).read_text())
    world["firewalld"]["ports"] = ["25/tcp", "993/tcp"]
    world["firewalld"]["permanent_ports"] = ["25/tcp", "993/tcp"]
    (root / WORLD).write_text(json.dumps(world))
    args = sandbox_args(root, "rocky-9")
    assert run_cli(capsys, "apply", "--answers", EXAMPLE, "--yes", *args)[0] == 0
    opened = json.loads((root / WORLD).read_text())["firewalld"]
    assert "587/tcp" in opened["ports"] and "587/tcp" in opened["permanent_ports"]
    assert run_cli(capsys, "rollback", *args)[0] == 0
    after = json.loads((root / WORLD).read_text())["firewalld"]
    assert sorted(after["ports"]) == ["25/tcp", "993/tcp"]
    assert sorted(after["permanent_ports"]) == ["25/tcp", "993/tcp"]
