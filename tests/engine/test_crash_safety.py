"""Nothing lost: atomic writes (0600 from the first byte, fsync, rename, folder
fsync) under a real full or read-only file system and under SIGKILL inside a
write; rollback that checks the journal and every backup before it changes
anything; rollback interrupted at every undo and run again; resume after a
kill at every action ending exactly where an uninterrupted run ends (files
and the pretend host)."""
import json
import os
import shutil
import stat
import subprocess

import pytest

from installer import cli
from installer.root import TargetRoot
from tests.engine.hoststate import host_state
from tests.engine.test_flow import (EXAMPLE, WORLD, _plan_size, _subprocess_cli, fresh_world, run_cli,
                                    sandbox_args, seeded)
from tests.engine.treesnap import differences, snapshot

RELAY_PASSWORD = "relay-pass-4711"


def relay_answers(tmp_path, password="relay-pass-4711"):
    """The example with a relay host: adds sasl_passwd, its postmap and a restart."""
    path = tmp_path / "relay.yaml"
    path.write_text(open(EXAMPLE).read().replace(
        "relayhost: null",
        "relayhost:\n  host: \"[smtp.example.net]:587\"\n  username: relayuser\n"
        "  password_env: MAILWIZ_RELAY_PASSWORD"))
    return str(path)


def runs_dir(root):
    return root / "var/lib/mailwiz/runs"


def newest_run(root):
    return sorted(os.listdir(runs_dir(root)))[-1]


# --- atomic writes ------------------------------------------------------------------------

def test_temp_file_is_0600_from_its_first_byte_whatever_the_umask(tmp_path, monkeypatch):
    root = TargetRoot(str(tmp_path))
    (tmp_path / "etc").mkdir()
    seen = []
    real_write = os.write

    def spying_write(fd, data):
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode):
            seen.append(stat.S_IMODE(st.st_mode))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", spying_write)
    old = os.umask(0)
    try:
        root.write_atomic("/etc/shadow-like", b"secret\n", mode=0o600)
        root.write_atomic("/etc/public", b"hello\n", mode=0o644)
    finally:
        os.umask(old)
    assert seen and set(seen) == {0o600}, seen
    assert stat.S_IMODE(os.stat(tmp_path / "etc/shadow-like").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "etc/public").st_mode) == 0o644


def test_write_is_fsynced_then_renamed_then_the_folder_fsynced(tmp_path, monkeypatch):
    root = TargetRoot(str(tmp_path))
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/f").write_text("old")
    calls = []
    real_fsync, real_rename = os.fsync, os.rename

    def fsync(fd):
        calls.append(("fsync", "dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"))
        return real_fsync(fd)

    def rename(*args, **kwargs):
        calls.append(("rename",))
        return real_rename(*args, **kwargs)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "rename", rename)
    root.write_atomic("/etc/f", b"new")
    assert calls == [("fsync", "file"), ("rename",), ("fsync", "dir")]
    assert (tmp_path / "etc/f").read_bytes() == b"new"


@pytest.fixture
def small_tmpfs(tmp_path):
    """mount(8) a real tmpfs (64 KiB) for the test, unmounted after it."""
    mounted = []

    def mount(path, size="64k"):
        path.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN): {proc.stderr.strip()}")
        mounted.append(path)
        return path

    yield mount
    for path in reversed(mounted):
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(folder, leave=0):
    """Fill the file system of *folder* up to *leave* bytes free."""
    with open(folder / ".filler", "wb") as handle:
        try:
            while True:
                free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
                if free <= leave:
                    break
                handle.write(b"\0" * min(4096, max(1, free - leave)))
                handle.flush()
        except OSError:
            pass


def test_disk_full_while_writing_leaves_the_original_intact(tmp_path, small_tmpfs):
    mnt = small_tmpfs(tmp_path / "fs")
    (mnt / "etc").mkdir()
    original = b"original content\n" * 10
    (mnt / "etc/main.cf").write_bytes(original)
    os.chmod(mnt / "etc/main.cf", 0o640)
    fill(mnt)
    root = TargetRoot(str(mnt))
    with pytest.raises(OSError) as failed:
        root.write_atomic("/etc/main.cf", b"x" * 200_000)
    assert failed.value.errno == 28     # ENOSPC
    assert (mnt / "etc/main.cf").read_bytes() == original
    assert stat.S_IMODE(os.stat(mnt / "etc/main.cf").st_mode) == 0o640
    assert sorted(os.listdir(mnt / "etc")) == ["main.cf"], "no temporary file left behind"


def test_read_only_target_leaves_the_original_intact(tmp_path, small_tmpfs):
    mnt = small_tmpfs(tmp_path / "fs")
    (mnt / "etc").mkdir()
    (mnt / "etc/main.cf").write_bytes(b"original\n")
    subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
    root = TargetRoot(str(mnt))
    with pytest.raises(OSError) as failed:
        root.write_atomic("/etc/main.cf", b"new\n")
    assert failed.value.errno == 30     # EROFS
    assert (mnt / "etc/main.cf").read_bytes() == b"original\n"


@pytest.mark.parametrize("trouble", ["full", "read-only"])
def test_apply_on_a_full_or_read_only_config_folder_rolls_back_and_says_so(tmp_path, capsys, small_tmpfs, trouble):
    """/etc/postfix on its own (real) file system, full or read-only: the run
    fails at the first write there, rolls back, exit 1, no traceback, and the
    target (files and pretend host) is as before."""
    root, _ = seeded(tmp_path, "debian-12")
    saved = tmp_path / "postfix-saved"
    shutil.copytree(root / "etc/postfix", saved, symlinks=True)
    shutil.rmtree(root / "etc/postfix")
    mnt = small_tmpfs(root / "etc/postfix", size="256k")
    for name in os.listdir(saved):
        shutil.copy2(saved / name, mnt / name, follow_symlinks=False)
    if trouble == "full":
        fill(mnt, leave=0)
    else:
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
    before, world = snapshot(root), host_state(root)
    code, out, err = run_cli(capsys, "apply", "--answers", EXAMPLE, "--yes", *sandbox_args(root, "debian-12"))
    assert code == 1, out + err
    assert "Traceback" not in out + err
    assert "/etc/postfix/" in err
    assert "The run was rolled back." in err
    assert differences(before, snapshot(root)) == []
    assert host_state(root) == world


def test_an_immutable_file_fails_the_run_and_a_rollback_that_cannot_finish_says_so(tmp_path, capsys, monkeypatch):
    """chattr +i on main.cf after the run changed it: the rollback cannot put it
    back, and mailwiz says exactly that (never "rolled back"), exit 1."""
    root, before = seeded(tmp_path, "rocky-9")
    main_cf = root / "etc/postfix/main.cf"
    probe = subprocess.run(["chattr", "+i", str(main_cf)], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"chattr +i is not supported here: {probe.stderr.strip()}")
    subprocess.run(["chattr", "-i", str(main_cf)], check=True)
    count = _plan_size(capsys, root, "rocky-9")
    real_progress = cli._progress
    made_immutable = []

    def progress(entry):
        real_progress(entry)
        if entry.kind == "failed" and not made_immutable:   # a typed event (installer/events.py)
            subprocess.run(["chattr", "+i", str(main_cf)], check=True)
            made_immutable.append(True)

    monkeypatch.setattr(cli, "_progress", progress)
    monkeypatch.setenv("MAILWIZ_FAILPOINT", f"{count - 1}:error")
    try:
        code, out, err = run_cli(capsys, "apply", "--answers", EXAMPLE, "--yes", *sandbox_args(root, "rocky-9"))
    finally:
        subprocess.run(["chattr", "-i", str(main_cf)], check=False)
    assert made_immutable
    assert code == 1 and "Traceback" not in out + err
    assert "rolled back" not in err
    assert "did not finish" in err and "/etc/postfix/main.cf" in err
    # the immutable flag gone, running the rollback again finishes it
    monkeypatch.delenv("MAILWIZ_FAILPOINT")
    monkeypatch.setattr(cli, "_progress", real_progress)
    code, out, err = run_cli(capsys, "rollback", *sandbox_args(root, "rocky-9"))
    assert code == 0, out + err
    assert differences(before, snapshot(root)) == []


def test_an_immutable_file_before_the_run_fails_it_cleanly(tmp_path, capsys):
    root, before = seeded(tmp_path, "rocky-9")
    main_cf = root / "etc/postfix/main.cf"
    probe = subprocess.run(["chattr", "+i", str(main_cf)], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"chattr +i is not supported here: {probe.stderr.strip()}")
    world = host_state(root)
    try:
        code, out, err = run_cli(capsys, "apply", "--answers", EXAMPLE, "--yes", *sandbox_args(root, "rocky-9"))
    finally:
        subprocess.run(["chattr", "-i", str(main_cf)], check=True)
    assert code == 1 and "Traceback" not in out + err
    assert "/etc/postfix/main.cf" in err and "The run was rolled back." in err
    assert differences(before, snapshot(root)) == []
    assert host_state(root) == world


def test_kill_inside_every_write_of_a_run(tmp_path, capsys):
    """SIGKILL with the temporary file written and not yet renamed, at every
    write of a run (one in three, to keep the suite fast): every file is
    whole (old or new), and rollback returns the root to before."""
    root, before = seeded(tmp_path, "debian-12")
    args = sandbox_args(root, "debian-12")
    world = (root / WORLD).read_bytes()
    tried = 0
    index = 0
    while True:
        fresh_world(root, world)
        runs = set(os.listdir(runs_dir(root))) if runs_dir(root).exists() else set()
        proc = _subprocess_cli("apply", "--answers", EXAMPLE, "--yes", *args,
                               env_extra={"MAILWIZ_FAILPOINT": f"write:{index}:kill"})
        if proc.returncode == 0:        # past the last write: the run finished
            assert run_cli(capsys, "rollback", *args)[0] == 0
            break
        assert proc.returncode == -9, (index, proc.stdout, proc.stderr)
        tried += 1
        if set(os.listdir(runs_dir(root))) - runs - {n for n in os.listdir(runs_dir(root)) if n.startswith(".")}:
            code, out, err = run_cli(capsys, "rollback", *args)
            assert code == 0, (index, out, err)
        # else: killed while the run was being made; no run, nothing changed
        assert differences(before, snapshot(root)) == [], index
        index += 3
    assert tried > 10, tried


# --- a damaged journal or backup ------------------------------------------------------------

def _journal_path(root):
    return runs_dir(root) / newest_run(root) / "journal.jsonl"


def _lines(root):
    return _journal_path(root).read_bytes().split(b"\n")


def _set_lines(root, lines):
    _journal_path(root).write_bytes(b"\n".join(lines))


def _first_begin_with_backup(root):
    lines = _lines(root)
    for number, line in enumerate(lines):
        if b'"begin"' in line:
            entry = json.loads(line)
            if any(r.get("existed") for r in entry["undo"].get("files", [])):
                return number, entry
    raise AssertionError("no action with a backup")


def _garbage_middle(root):
    lines = _lines(root)
    lines.insert(len(lines) // 2, b"this is not json {")
    _set_lines(root, lines)


def _garbage_last_complete_line(root):
    lines = _lines(root)
    lines.insert(-1, b"{\"event\": \"begin\", \"seq\":")   # ends in a newline: not a torn write
    _set_lines(root, lines)


def _not_an_object(root):
    lines = _lines(root)
    lines.insert(3, b"[1, 2, 3]")
    _set_lines(root, lines)


def _no_event(root):
    lines = _lines(root)
    lines.insert(3, b"{\"seq\": 4}")
    _set_lines(root, lines)


def _undo_not_a_dict(root):
    number, entry = _first_begin_with_backup(root)
    entry["undo"] = "restore everything"
    lines = _lines(root)
    lines[number] = json.dumps(entry).encode()
    _set_lines(root, lines)


def _file_record_without_preimage(root):
    number, entry = _first_begin_with_backup(root)
    for record in entry["undo"]["files"]:
        record.pop("preimage", None)
    lines = _lines(root)
    lines[number] = json.dumps(entry).encode()
    _set_lines(root, lines)


def _preimage_climbing_out(root):
    number, entry = _first_begin_with_backup(root)
    for record in entry["undo"]["files"]:
        if record["existed"]:
            record["preimage"] = "undo/../../../../../etc/shadow"
    lines = _lines(root)
    lines[number] = json.dumps(entry).encode()
    _set_lines(root, lines)


def _seq_as_text(root):
    number, entry = _first_begin_with_backup(root)
    entry["seq"] = str(entry["seq"])
    lines = _lines(root)
    lines[number] = json.dumps(entry).encode()
    _set_lines(root, lines)


def _unknown_kind(root):
    number, entry = _first_begin_with_backup(root)
    entry["kind"] = "format_disk"
    lines = _lines(root)
    lines[number] = json.dumps(entry).encode()
    _set_lines(root, lines)


def _invalid_utf8(root):
    lines = _lines(root)
    lines[4] = lines[4][:-2] + b"\xff\xfe" + lines[4][-2:]
    _set_lines(root, lines)


def _deleted(root):
    _journal_path(root).unlink()


def _empty(root):
    _journal_path(root).write_bytes(b"")


def _first_preimage(root):
    _, entry = _first_begin_with_backup(root)
    record = next(r for r in entry["undo"]["files"] if r["existed"])
    return runs_dir(root) / newest_run(root) / record["preimage"]


def _backup_missing(root):
    _first_preimage(root).unlink()


def _backup_altered(root):
    path = _first_preimage(root)
    path.write_bytes(path.read_bytes() + b"# tampered\n")


def _backup_truncated(root):
    _first_preimage(root).write_bytes(b"")


def _backup_replaced_by_a_link(root):
    path = _first_preimage(root)
    path.unlink()
    path.symlink_to("/etc/passwd")


DAMAGE = [_garbage_middle, _garbage_last_complete_line, _not_an_object, _no_event, _undo_not_a_dict,
          _file_record_without_preimage, _preimage_climbing_out, _seq_as_text, _unknown_kind, _invalid_utf8,
          _deleted, _empty, _backup_missing, _backup_altered, _backup_truncated, _backup_replaced_by_a_link]


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda f: f.__name__.strip("_"))
def test_damaged_journal_or_backup_stops_rollback_before_any_change(tmp_path, capsys, damage):
    root, _ = seeded(tmp_path, "rocky-9")
    args = sandbox_args(root, "rocky-9")
    assert run_cli(capsys, "apply", "--answers", EXAMPLE, "--yes", *args)[0] == 0
    damage(root)
    applied, world = snapshot(root), host_state(root)
    code, out, err = run_cli(capsys, "rollback", *args)
    assert code == 1, (out, err)
    assert "Traceback" not in out + err
    assert f"Run {newest_run(root)} was rolled back" not in out + err
    assert newest_run(root) in err
    assert "Nothing was rolled back" in err
    if "backup" in damage.__name__:
        assert "backup of /etc/" in err, err
    elif damage not in (_deleted, _empty):
        assert "at line" in err, err
    assert differences(applied, snapshot(root)) == [], "a half rollback"
    assert host_state(root) == world


def test_a_torn_last_line_after_a_kill_is_not_damage(tmp_path, capsys):
    root, before = seeded(tmp_path, "rocky-9")
    args = sandbox_args(root, "rocky-9")
    world = host_state(root)
    assert run_cli(capsys, "apply", "--answers", EXAMPLE, "--yes", *args)[0] == 0
    with open(_journal_path(root), "ab") as handle:
        handle.write(b"{\"event\": \"begin\", \"seq\": 99, \"ki")     # no newline: cut short
    code, out, err = run_cli(capsys, "rollback", *args)
    assert code == 0, out + err
    assert differences(before, snapshot(root)) == []
    assert host_state(root) == world


def test_damaged_journal_refuses_resume_too(tmp_path, capsys):
    root, _ = seeded(tmp_path, "rocky-9")
    args = sandbox_args(root, "rocky-9")
    proc = _subprocess_cli("apply", "--answers", EXAMPLE, "--yes", *args, env_extra={"MAILWIZ_FAILPOINT": "5:kill"})
    assert proc.returncode == -9
    _garbage_middle(root)
    killed = snapshot(root)
    code, out, err = run_cli(capsys, "resume", *args)
    assert code == 1 and "at line" in err and "Traceback" not in err
    assert differences(killed, snapshot(root)) == []


# --- rollback interrupted, and failing ----------------------------------------------------

@pytest.mark.parametrize("profile_id", ["centos-6", "debian-12"])
def test_rollback_killed_at_every_undo_then_run_again(tmp_path, capsys, profile_id):
    root, before = seeded(tmp_path, profile_id)
    args = sandbox_args(root, profile_id)
    world = (root / WORLD).read_bytes()
    seeded_host = host_state(root)
    count = _plan_size(capsys, root, profile_id)
    for index in range(count):
        fresh_world(root, world)
        assert run_cli(capsys, "apply", "--answers", EXAMPLE, "--yes", *args)[0] == 0
        proc = _subprocess_cli("rollback", *args, env_extra={"MAILWIZ_FAILPOINT": f"undo:{index}:kill"})
        assert proc.returncode == -9, (index, proc.stdout, proc.stderr)
        code, out, err = run_cli(capsys, "rollback", *args)
        assert code == 0, (index, out, err)
        assert differences(before, snapshot(root)) == [], index
        assert host_state(root) == seeded_host, index


def test_an_undo_that_fails_is_reported_and_a_second_rollback_finishes(tmp_path, capsys, monkeypatch):
    root, before = seeded(tmp_path, "debian-12")
    args = sandbox_args(root, "debian-12")
    seeded_host = host_state(root)
    assert run_cli(capsys, "apply", "--answers", EXAMPLE, "--yes", *args)[0] == 0
    monkeypatch.setenv("MAILWIZ_FAILPOINT", "undo:2:error")
    code, out, err = run_cli(capsys, "rollback", *args)
    assert code == 1, out + err
    assert "was rolled back" not in out and "did not finish" in err and "action " in err
    monkeypatch.delenv("MAILWIZ_FAILPOINT")
    code, out, err = run_cli(capsys, "rollback", *args)
    assert code == 0, out + err
    assert differences(before, snapshot(root)) == []
    assert host_state(root) == seeded_host


def test_a_real_command_failure_mid_run_rolls_back_the_whole_host(tmp_path, capsys, monkeypatch):
    """Not a failpoint: the pretend host's service command itself exits 1."""
    from installer import sandbox
    from installer.platform.world import fail
    root, before = seeded(tmp_path, "rocky-9")
    seeded_host = host_state(root)
    real_effect = sandbox.SandboxWorld.effect

    def effect(self, argv):
        if list(argv[:2]) == ["systemctl", "restart"] or list(argv[:2]) == ["systemctl", "start"]:
            if argv[-1] == "dovecot":
                return fail(argv, 1, "Job for dovecot.service failed.")
        return real_effect(self, argv)

    monkeypatch.setattr(sandbox.SandboxWorld, "effect", effect)
    code, out, err = run_cli(capsys, "apply", "--answers", EXAMPLE, "--yes", *sandbox_args(root, "rocky-9"))
    assert code == 1, out + err
    assert "dovecot" in err and "The run was rolled back." in err
    assert differences(before, snapshot(root)) == []
    assert host_state(root) == seeded_host


# --- resume ends where an uninterrupted run ends ---------------------------------------------

@pytest.mark.parametrize("profile_id", ["debian-12", "rocky-9"])
def test_resume_after_a_kill_at_every_action_equals_an_uninterrupted_run(tmp_path, capsys, monkeypatch, profile_id):
    monkeypatch.setenv("MAILWIZ_RELAY_PASSWORD", RELAY_PASSWORD)
    answers = relay_answers(tmp_path)
    template, _ = seeded(tmp_path, profile_id)
    reference = tmp_path / "reference"
    shutil.copytree(template, reference, symlinks=True)
    code, out, err = run_cli(capsys, "apply", "--answers", answers, "--yes", *sandbox_args(reference, profile_id))
    assert code == 0, err
    want_files, want_host = snapshot(reference), host_state(reference, keep_updates=True)
    count = len([line for line in open(_journal_path(reference)) if '"event": "begin"' in line])
    assert count > 15
    for index in range(count):
        root = tmp_path / f"k{index}"
        shutil.copytree(template, root, symlinks=True)
        proc = _subprocess_cli("apply", "--answers", answers, "--yes", *sandbox_args(root, profile_id),
                               env_extra={"MAILWIZ_FAILPOINT": f"{index}:kill",
                                          "MAILWIZ_RELAY_PASSWORD": RELAY_PASSWORD})
        assert proc.returncode == -9, (index, proc.stderr)
        code, out, err = run_cli(capsys, "resume", *sandbox_args(root, profile_id))
        assert code == 0, (index, out, err)
        assert differences(want_files, snapshot(root)) == [], index
        assert host_state(root, keep_updates=True) == want_host, index
        code, out, err = run_cli(capsys, "apply", "--answers", answers, "--yes", *sandbox_args(root, profile_id))
        assert code == 0 and "Nothing to do" in out, (index, out)
        shutil.rmtree(root)
