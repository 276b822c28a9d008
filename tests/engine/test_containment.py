"""The target root contains everything: symbolic links planted under it are
never followed out of it, never read through, never replaced; temporary files
and the lock cannot be redirected; ``..`` and absolute paths stay inside.
Each case goes through the real CLI on a seeded sandbox root, and checks the
planted link's target is untouched (content and mode) and its content never
printed."""
import os
import stat
import threading
import time

import pytest

from installer import cli
from installer.root import LinkEscape, LinkRefused, NotAFile, PathEscape, TargetRoot
from tests.engine.test_flow import EXAMPLE, run_cli, sandbox_args, seeded
from tests.engine.treesnap import differences, snapshot

SECRET = "TOP-SECRET-CONTENT-0xC0FFEE\n"
RELAY_PASSWORD = "relay-pass-4711"


@pytest.fixture
def outside(tmp_path):
    """A file and a folder outside the root, which nothing may change or show."""
    victim = tmp_path / "outside" / "victim"
    victim.parent.mkdir()
    victim.write_text(SECRET)
    os.chmod(victim, 0o640)
    return victim


def untouched(victim):
    assert victim.read_text() == SECRET
    assert stat.S_IMODE(os.lstat(victim).st_mode) == 0o640
    assert sorted(os.listdir(victim.parent)) == ["victim"], "nothing written beside it"


def relay_answers(tmp_path, monkeypatch):
    path = tmp_path / "relay.yaml"
    path.write_text(open(EXAMPLE).read().replace(
        "relayhost: null",
        "relayhost:\n  host: \"[smtp.example.net]:587\"\n  username: relayuser\n"
        "  password_env: MAILWIZ_RELAY_PASSWORD"))
    monkeypatch.setenv("MAILWIZ_RELAY_PASSWORD", RELAY_PASSWORD)
    return str(path)


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("command", ["plan", "apply"])
def test_symlinked_main_cf_pointing_out_is_refused(tmp_path, capsys, outside, command, lang):
    root, _ = seeded(tmp_path, "rocky-9")
    main_cf = root / "etc/postfix/main.cf"
    main_cf.unlink()
    main_cf.symlink_to(outside)
    before = snapshot(root)
    extra = ["--yes"] if command == "apply" else []
    code, out, err = run_cli(capsys, command, "--answers", EXAMPLE, *extra, "--lang", lang,
                             *sandbox_args(root, "rocky-9"))
    assert code == 2, out + err
    assert "Traceback" not in out + err
    assert "TOP-SECRET" not in out + err, "the content a planted link points to was printed"
    assert "/etc/postfix/main.cf" in err
    if lang == "ja":
        assert "シンボリックリンク" in err
    else:
        assert "symbolic link" in err
    untouched(outside)
    assert main_cf.is_symlink() and os.readlink(main_cf) == str(outside)
    assert differences(before, snapshot(root)) == []
    assert not (root / "var/lib/mailwiz/runs").exists() or not os.listdir(root / "var/lib/mailwiz/runs")


def test_symlinked_main_cf_pointing_inside_is_refused_too(tmp_path, capsys):
    """Even a link that stays inside: main.cf is never replaced by a regular
    file (0777 or any other) and what it points to is never shown."""
    root, _ = seeded(tmp_path, "debian-12")
    inside = root / "etc/shadow-like"
    inside.write_text(SECRET)
    main_cf = root / "etc/postfix/main.cf"
    main_cf.unlink()
    main_cf.symlink_to("../shadow-like")
    code, out, err = run_cli(capsys, "apply", "--answers", EXAMPLE, "--yes", *sandbox_args(root, "debian-12"))
    assert code == 2 and "TOP-SECRET" not in out + err
    assert main_cf.is_symlink() and inside.read_text() == SECRET


def test_symlinked_sasl_passwd_never_receives_the_password(tmp_path, capsys, monkeypatch, outside):
    root, _ = seeded(tmp_path, "rocky-9")
    (root / "etc/postfix/sasl_passwd").symlink_to(outside)
    answers = relay_answers(tmp_path, monkeypatch)
    code, out, err = run_cli(capsys, "apply", "--answers", answers, "--yes", *sandbox_args(root, "rocky-9"))
    assert code == 2, out + err
    untouched(outside)
    assert RELAY_PASSWORD not in outside.read_text()
    code, out, err = run_cli(capsys, "rollback", *sandbox_args(root, "rocky-9"))
    untouched(outside)


def test_symlinked_folder_out_of_the_root_is_refused(tmp_path, capsys, outside):
    root, _ = seeded(tmp_path, "rocky-9")
    etc_postfix = root / "etc/postfix"
    for name in os.listdir(etc_postfix):
        os.rename(etc_postfix / name, outside.parent / name)
    etc_postfix.rmdir()
    etc_postfix.symlink_to(outside.parent)
    listing = sorted(os.listdir(outside.parent))
    code, out, err = run_cli(capsys, "apply", "--answers", EXAMPLE, "--yes", *sandbox_args(root, "rocky-9"))
    assert code == 2, out + err
    assert "leads out of the target root" in err and "Traceback" not in err
    assert sorted(os.listdir(outside.parent)) == listing
    assert outside.read_text() == SECRET


def test_symlinked_folder_inside_the_root_is_followed_and_stays_a_link(tmp_path, capsys):
    """A link on the way that stays under the root (like /var/run -> /run) is
    fine: the files behind it are changed and restored, the link stays."""
    root, before = seeded(tmp_path, "rocky-9")
    real = root / "opt/postfix-conf"
    real.parent.mkdir()
    os.rename(root / "etc/postfix", real)
    (root / "etc/postfix").symlink_to("../opt/postfix-conf")
    linked = snapshot(root)
    original = (real / "main.cf").read_bytes()
    code, out, err = run_cli(capsys, "apply", "--answers", EXAMPLE, "--yes", *sandbox_args(root, "rocky-9"))
    assert code == 0, out + err
    assert (root / "etc/postfix").is_symlink()
    assert (real / "main.cf").read_bytes() != original
    code, out, err = run_cli(capsys, "rollback", *sandbox_args(root, "rocky-9"))
    assert code == 0, out + err
    assert differences(linked, snapshot(root)) == []


def test_planted_temp_file_link_is_not_written_through(tmp_path, capsys, outside):
    root, _ = seeded(tmp_path, "rocky-9")
    for name in ("main.cf", "master.cf"):
        (root / "etc/postfix" / f".{name}.mailwiz-tmp").symlink_to(outside)
    code, out, err = run_cli(capsys, "apply", "--answers", EXAMPLE, "--yes", *sandbox_args(root, "rocky-9"))
    assert code == 0, out + err
    untouched(outside)
    main_cf = root / "etc/postfix/main.cf"
    assert not main_cf.is_symlink() and "mail.example.com" in main_cf.read_text()
    assert stat.S_IMODE(main_cf.stat().st_mode) == 0o644
    assert not (root / "etc/postfix/.main.cf.mailwiz-tmp").exists()


@pytest.mark.parametrize("planted", ["var/lib/mailwiz/lock", "var/lib/mailwiz/runs", "var/log/mailwiz"])
def test_planted_links_in_the_state_folder_are_refused(tmp_path, capsys, outside, planted):
    root, _ = seeded(tmp_path, "rocky-9")
    link = root / planted
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.exists():
        link.rmdir()
    link.symlink_to(outside if planted.endswith("lock") else outside.parent)
    before = snapshot(root)
    code, out, err = run_cli(capsys, "apply", "--answers", EXAMPLE, "--yes", *sandbox_args(root, "rocky-9"))
    assert code in (1, 2), out + err
    assert "Traceback" not in out + err
    untouched(outside)
    if code == 1:
        assert "rolled back" in err
    assert differences(before, snapshot(root)) == []


@pytest.mark.parametrize("kind", ["directory", "dangling-link", "fifo"])
def test_something_else_where_a_file_is_expected(tmp_path, capsys, kind):
    """A folder, a dangling link or a FIFO where main.cf should be: refused
    with a message, no traceback, no hang, nothing changed."""
    root, _ = seeded(tmp_path, "debian-12")
    main_cf = root / "etc/postfix/main.cf"
    main_cf.unlink()
    if kind == "directory":
        main_cf.mkdir()
    elif kind == "dangling-link":
        main_cf.symlink_to("/nonexistent/main.cf")
    else:
        os.mkfifo(main_cf)
    before = snapshot(root)
    result = {}
    worker = threading.Thread(target=lambda: result.update(
        code=run_cli(capsys, "apply", "--answers", EXAMPLE, "--yes", *sandbox_args(root, "debian-12"))))
    worker.daemon = True
    worker.start()
    worker.join(30)
    assert "code" in result, "mailwiz hung on a " + kind
    code, out, err = result["code"]
    assert code == 2, out + err
    assert "Traceback" not in out + err and "/etc/postfix/main.cf" in err
    assert differences(before, snapshot(root)) == []


# --- the resolution itself -------------------------------------------------------------

def test_dot_dot_and_relative_paths_are_refused(tmp_path):
    root = TargetRoot(str(tmp_path))
    for bad in ("/../etc/passwd", "/etc/../../x", "etc/passwd", "", "/etc/\0x"):
        with pytest.raises(PathEscape):
            root.read_bytes(bad)
        with pytest.raises(PathEscape):
            root.write_atomic(bad, b"x")
    assert not os.listdir(tmp_path)


def test_links_are_resolved_under_the_root(tmp_path, outside):
    base = tmp_path / "r"
    (base / "etc/real").mkdir(parents=True)
    (base / "etc/real/f").write_text("inside")
    root = TargetRoot(str(base))
    (base / "etc/rel").symlink_to("real")                          # relative, inside
    (base / "etc/abs").symlink_to(str(base / "etc/real"))           # absolute, inside
    (base / "etc/up").symlink_to("../../../../../../..")            # climbs out
    (base / "etc/out").symlink_to(str(outside.parent))              # absolute, outside
    (base / "etc/loop").symlink_to("loop")
    assert root.read_text("/etc/rel/f") == "inside"
    assert root.read_text("/etc/abs/f") == "inside"
    root.write_atomic("/etc/rel/g", b"new")
    assert (base / "etc/real/g").read_bytes() == b"new"
    with pytest.raises(LinkEscape):
        root.read_bytes("/etc/up/tmp/x")
    with pytest.raises(LinkEscape):
        root.read_bytes("/etc/out/victim")
    with pytest.raises(LinkEscape):
        root.write_atomic("/etc/out/new", b"x")
    with pytest.raises(LinkEscape):
        root.makedirs("/etc/out/sub")
    with pytest.raises(LinkRefused):
        root.read_bytes("/etc/rel")     # a link as the file itself
    with pytest.raises(LinkRefused):
        root.write_atomic("/etc/rel", b"x")
    with pytest.raises(OSError):
        root.read_bytes("/etc/loop/x")
    with pytest.raises(NotAFile):
        root.read_bytes("/etc/real")
    untouched(outside)
    # the few host facts that may be links are read through them, still inside
    (base / "etc/os-release").symlink_to("real/f")
    assert root.read_text("/etc/os-release", follow=True) == "inside"


def test_set_meta_and_remove_never_follow_a_link(tmp_path, outside):
    base = tmp_path / "r"
    (base / "etc").mkdir(parents=True)
    (base / "etc/link").symlink_to(outside)
    root = TargetRoot(str(base))
    with pytest.raises(LinkRefused):
        root.set_meta("/etc/link", 0o777)
    root.remove("/etc/link")                 # the link goes, what it points to stays
    assert not os.path.lexists(base / "etc/link")
    untouched(outside)


def test_a_link_swapped_in_during_resolution_is_not_followed(tmp_path, outside):
    """Each component is opened with O_NOFOLLOW: a folder replaced by a link
    between the check and the open makes the call fail, never escape."""
    base = tmp_path / "r"
    (base / "etc/postfix").mkdir(parents=True)
    root = TargetRoot(str(base))
    stop = time.time() + 1.0
    escaped = []

    def swap():
        while time.time() < stop:
            try:
                os.rename(base / "etc/postfix", base / "etc/postfix.real")
                os.symlink(outside.parent, base / "etc/postfix")
                os.unlink(base / "etc/postfix")
                os.rename(base / "etc/postfix.real", base / "etc/postfix")
            except OSError:
                pass

    worker = threading.Thread(target=swap)
    worker.start()
    attempts = 0
    while time.time() < stop:
        attempts += 1
        try:
            root.write_atomic("/etc/postfix/main.cf", b"x")
        except OSError:
            pass
        if len(os.listdir(outside.parent)) != 1:
            escaped.append(attempts)
            break
    worker.join()
    assert attempts > 50
    assert not escaped
    untouched(outside)
