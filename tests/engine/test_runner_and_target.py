"""The real runner (secrets redacted, exit codes, timeouts) and how the CLI
chooses its target (unknown platform or no root: the sandbox, said first)."""
import os

import pytest

from installer import cli, profiles
from installer.runner import REDACTED, CommandFailed, RealRunner

PROJECT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(PROJECT, "installer", "answers.example.yaml")


def test_real_runner_streams_redacted_output_and_raises_on_failure():
    runner = RealRunner()
    runner.add_secret("hunter2")
    lines = []
    result = runner.run(["sh", "-c", "echo pass=hunter2; echo oops >&2"], on_output=lines.append)
    assert result.ok and lines == [f"pass={REDACTED}", "oops"]
    assert runner.display(["login", "hunter2"]) == f"login {REDACTED}"
    with pytest.raises(CommandFailed) as failed:
        runner.run(["sh", "-c", "exit 7"])
    assert failed.value.result.rc == 7 and "7" in str(failed.value.message)
    assert runner.query(["no-such-command-mailwiz"]).rc == 127


def test_real_runner_times_out():
    result = RealRunner().run(["sleep", "5"], timeout=0.3, check=False)
    assert result.rc == 124


def test_unknown_platform_gets_the_sandbox_and_says_so_first(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(profiles, "detect", lambda: None)
    root = tmp_path / "sb"
    assert cli.main(["plan", "--answers", EXAMPLE, "--root", str(root)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Sandbox (" + cli.FALLBACK_PROFILE)
    assert "not one mailwiz knows" in lines[1]
    assert (root / "etc/postfix/main.cf").exists()


def test_not_root_gets_the_sandbox(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(profiles, "detect", lambda: profiles.get("debian-12"))
    assert cli.main(["plan", "--answers", EXAMPLE, "--root", str(tmp_path / "sb")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Sandbox (debian-12)") and "root" in lines[1]


def test_sandbox_refuses_slash_as_root(capsys):
    assert cli.main(["plan", "--answers", EXAMPLE, "--sandbox", "--profile", "rocky-9", "--root", "/"]) == 2


def test_apply_without_yes_and_without_a_terminal_changes_nothing(tmp_path, capsys, monkeypatch):
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    root = tmp_path / "sb"
    args = ["--sandbox", "--profile", "rocky-9", "--root", str(root)]
    assert cli.main(["apply", "--answers", EXAMPLE, *args]) == 2
    assert "--yes" in capsys.readouterr().err
    assert not (root / "var/lib/mailwiz/runs").exists()
