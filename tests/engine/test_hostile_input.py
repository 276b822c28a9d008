"""Input that is not what it seems: an answer file that is a FIFO or a folder,
terminal control sequences in a target's files, an output that cannot show
Japanese, unexpected exceptions."""
import os
import subprocess
import sys
import threading

import pytest

from installer import cli
from tests.engine.test_flow import EXAMPLE, PROJECT, run_cli, sandbox_args, seeded


@pytest.mark.parametrize("kind", ["fifo", "folder", "device"])
def test_an_answer_file_that_is_not_a_regular_file_is_refused_at_once(tmp_path, capsys, kind):
    path = tmp_path / "answers.yaml"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    else:
        path = "/dev/zero"
    result = {}
    worker = threading.Thread(target=lambda: result.update(code=run_cli(capsys, "validate", str(path))), daemon=True)
    worker.start()
    worker.join(20)
    assert "code" in result, f"validate hung on a {kind}"
    code, out, err = result["code"]
    assert code == 2 and "regular file" in err and "Traceback" not in err


def test_control_sequences_in_a_target_file_are_shown_escaped(tmp_path, capsys):
    root, _ = seeded(tmp_path, "rocky-9")
    main_cf = root / "etc/postfix/main.cf"
    main_cf.write_bytes(main_cf.read_bytes().replace(
        b"\ninet_interfaces = localhost", b"\n# \x1b]0;pwned\x07\x1b[2J\x1b[31mred\xc2\x9b6n\ninet_interfaces = localhost", 1))
    code, out, err = run_cli(capsys, "plan", "--answers", EXAMPLE, *sandbox_args(root, "rocky-9"))
    assert code == 0
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out
    assert "\\x1b]0;pwned\\x07" in out


@pytest.mark.parametrize("command", [["validate", os.path.join(PROJECT, "tests", "answers_bad",
                                                               "05_hostname_underscore.yaml")],
                                     ["plan", "--answers", EXAMPLE]])
def test_japanese_output_on_an_ascii_only_stream_does_not_crash(tmp_path, command):
    env = dict(os.environ, PYTHONPATH=PROJECT, PYTHONIOENCODING="ascii", LANG="C")
    env.pop("MAILWIZ_FAILPOINT", None)
    extra = [] if command[0] == "validate" else ["--sandbox", "--profile", "rocky-9", "--root", str(tmp_path / "r")]
    proc = subprocess.run([sys.executable, "-m", "installer.cli", *command, "--lang", "ja", *extra],
                          cwd=PROJECT, env=env, capture_output=True, timeout=60)
    assert b"Traceback" not in proc.stderr and b"UnicodeEncodeError" not in proc.stderr
    assert proc.returncode == (2 if command[0] == "validate" else 0), proc.stderr
    text = proc.stdout + proc.stderr
    assert text.isascii() and b"\\u" in text       # Japanese shown as escapes, not lost


def test_an_unforeseen_exception_in_an_action_rolls_back_without_a_traceback(tmp_path, capsys, monkeypatch):
    from installer import actions
    root, _ = seeded(tmp_path, "debian-12")
    from tests.engine.treesnap import differences, snapshot
    before = snapshot(root)

    def broken(self, text):
        raise ZeroDivisionError("a bug in an editor")

    monkeypatch.setattr(actions.DovecotSet, "edit_text", broken)
    monkeypatch.setattr(actions.DovecotSet, "simulate", lambda self, sim: True)
    code, out, err = run_cli(capsys, "apply", "--answers", EXAMPLE, "--yes", *sandbox_args(root, "debian-12"))
    assert code == 1 and "Traceback" not in out + err
    assert "Unexpected error: ZeroDivisionError: a bug in an editor" in err
    assert "The run was rolled back." in err
    assert differences(before, snapshot(root)) == []
