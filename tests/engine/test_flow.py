"""The whole engine through the CLI, in the sandbox, for every profile:
plan shows diffs; apply makes them; a second apply changes nothing; rollback
leaves the root byte-identical (content and mode) to before; failpoints at
every action either fail cleanly (error) or leave a run that rollback (or
resume, then rollback) returns to the same bytes."""
import json
import os
import subprocess
import sys

import pytest

from installer import cli, profiles
from installer.journal import TargetLock
from installer.root import TargetRoot
from tests.engine.treesnap import differences, snapshot

PROJECT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(PROJECT, "installer", "answers.example.yaml")
ALL_PROFILES = sorted(profiles.PROFILES)
# Failpoint sweeps over every action, for one profile of each kind of init and package manager.
SWEEP_PROFILES = ["centos-6", "rocky-9", "debian-12"]


def run_cli(capsys, *argv):
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def seeded(tmp_path, profile_id):
    """A seeded sandbox root and its snapshot before any run."""
    root = tmp_path / "root"
    code = cli.main(["plan", "--answers", EXAMPLE, "--sandbox", "--profile", profile_id, "--root", str(root)])
    assert code == 0
    return root, snapshot(root)


WORLD = "var/lib/mailwiz/sandbox/world.json"


def fresh_world(root, seeded_world: bytes) -> None:
    """Put the sandbox world back as seeded: the package update that a plan starts
    with cannot be undone, so without this every later plan would be shorter."""
    (root / WORLD).write_bytes(seeded_world)


def sandbox_args(root, profile_id):
    return ["--sandbox", "--profile", profile_id, "--root", str(root)]


def journal(root):
    runs = sorted(os.listdir(root / "var/lib/mailwiz/runs"))
    with open(root / "var/lib/mailwiz/runs" / runs[-1] / "journal.jsonl") as handle:
        return [json.loads(line) for line in handle]


@pytest.mark.parametrize("profile_id", ALL_PROFILES)
def test_plan_apply_again_rollback(tmp_path, capsys, profile_id):
    root, before = seeded(tmp_path, profile_id)
    capsys.readouterr()
    code, out, err = run_cli(capsys, "plan", "--answers", EXAMPLE, *sandbox_args(root, profile_id))
    assert code == 0, err
    assert out.splitlines()[0].startswith("Sandbox")
    assert "+++ b/etc/postfix/main.cf" in out
    assert snapshot(root) == before, "plan changed the target"

    code, out, err = run_cli(capsys, "apply", "--answers", EXAMPLE, "--yes", *sandbox_args(root, profile_id))
    assert code == 0, out + err
    changed = differences(before, snapshot(root))
    assert any(rel == "etc/postfix/main.cf" for rel, _, _ in changed)

    code, out, err = run_cli(capsys, "apply", "--answers", EXAMPLE, "--yes", *sandbox_args(root, profile_id))
    assert code == 0, err
    assert "Nothing to do" in out

    code, out, err = run_cli(capsys, "rollback", *sandbox_args(root, profile_id))
    assert code == 0, out + err
    assert differences(before, snapshot(root)) == []


def _plan_size(capsys, root, profile_id):
    code, out, _ = run_cli(capsys, "plan", "--answers", EXAMPLE, *sandbox_args(root, profile_id))
    assert code == 0
    first = next(line for line in out.splitlines() if line.startswith("Plan:"))
    return int(first.split(",")[1].split()[0])


@pytest.mark.parametrize("profile_id", SWEEP_PROFILES)
def test_failpoint_error_at_every_action(tmp_path, capsys, monkeypatch, profile_id):
    root, before = seeded(tmp_path, profile_id)
    count = _plan_size(capsys, root, profile_id)
    world = (root / WORLD).read_bytes()
    assert count > 10
    for index in range(count):
        fresh_world(root, world)
        monkeypatch.setenv("MAILWIZ_FAILPOINT", f"{index}:error")
        code, out, err = run_cli(capsys, "apply", "--answers", EXAMPLE, "--yes", *sandbox_args(root, profile_id))
        assert code == 1, (index, out, err)
        assert differences(before, snapshot(root)) == [], index
        entries = journal(root)
        assert [e for e in entries if e["event"] == "failed"][0]["seq"] == index
        assert entries[-1]["event"] == "rollback-end" and entries[-1]["status"] == "rolled-back"


def _subprocess_cli(*argv, env_extra=None):
    env = dict(os.environ, PYTHONPATH=PROJECT, LANG="C.UTF-8")
    env.pop("MAILWIZ_FAILPOINT", None)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "installer.cli", *argv], cwd=PROJECT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("profile_id", SWEEP_PROFILES)
def test_failpoint_kill_at_every_action(tmp_path, capsys, profile_id):
    root, before = seeded(tmp_path, profile_id)
    count = _plan_size(capsys, root, profile_id)
    args = sandbox_args(root, profile_id)
    world = (root / WORLD).read_bytes()
    for index in range(count):
        fresh_world(root, world)
        proc = _subprocess_cli("apply", "--answers", EXAMPLE, "--yes", *args,
                               env_extra={"MAILWIZ_FAILPOINT": f"{index}:kill"})
        assert proc.returncode == -9, (index, proc.stdout, proc.stderr)
        if index % 2:
            # Half the time: resume first (it finishes the run), then roll back.
            code, out, err = run_cli(capsys, "resume", *args)
            assert code == 0, (index, out, err)
        code, out, err = run_cli(capsys, "rollback", *args)
        assert code == 0, (index, out, err)
        assert differences(before, snapshot(root)) == [], index


def test_lock_held_exits_3(tmp_path, capsys):
    root, before = seeded(tmp_path, "rocky-9")
    lock = TargetLock(TargetRoot(str(root))).acquire()
    try:
        code, out, err = run_cli(capsys, "apply", "--answers", EXAMPLE, "--yes", *sandbox_args(root, "rocky-9"))
    finally:
        lock.release()
    assert code == 3
    assert "lock" in err
    assert differences(before, snapshot(root)) == []


def test_bad_answers_change_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\npostfix:\n  networks: [0.0.0.0/0]\n  hostnme: x\n")
    root = tmp_path / "fresh"
    code, out, err = run_cli(capsys, "apply", "--answers", str(bad), "--yes", *sandbox_args(root, "rocky-9"))
    assert code == 2
    assert "bad.yaml:3" in err and "Traceback" not in err
    assert not root.exists(), "bad input must not even seed the sandbox"


def test_unknown_profile_is_bad_input(tmp_path, capsys):
    code, out, err = run_cli(capsys, "plan", "--answers", EXAMPLE, "--profile", "beos-5", "--sandbox",
                             "--root", str(tmp_path))
    assert code == 2 and "beos-5" in err


def test_headless_path_never_imports_textual(tmp_path):
    code = (
        "import sys\n"
        "from installer import cli\n"
        f"rc = cli.main(['plan', '--answers', {EXAMPLE!r}, '--sandbox', '--profile', 'rocky-9', "
        f"'--root', {str(tmp_path / 'r')!r}])\n"
        "assert rc == 0, rc\n"
        "import installer.engine, installer.answers, installer.facts, installer.sandbox, steps\n"
        "bad = [m for m in sys.modules if m == 'textual' or m.startswith('textual.')]\n"
        "assert not bad, bad\n"
    )
    env = dict(os.environ, PYTHONPATH=PROJECT)
    proc = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
