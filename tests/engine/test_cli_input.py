"""Bad input through the CLI: every bad answer file exits 2, without a
traceback, before anything on the target changes; secrets never leak."""
import glob
import os

import pytest

from installer import cli

PROJECT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(PROJECT, "installer", "answers.example.yaml")
BAD_FILES = sorted(glob.glob(os.path.join(PROJECT, "tests", "answers_bad", "*.yaml")))


def test_there_are_many_bad_files():
    assert len(BAD_FILES) >= 30


@pytest.mark.parametrize("path", BAD_FILES, ids=os.path.basename)
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_bad_answer_file_exits_2_and_changes_nothing(tmp_path, capsys, path, lang):
    root = tmp_path / "target"
    code = cli.main(["apply", "--answers", path, "--yes", "--sandbox", "--profile", "rocky-9",
                     "--root", str(root), "--lang", lang])
    out, err = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in out + err
    assert os.path.basename(path) + ":" in err    # file:line: key: message
    assert not root.exists()


def test_validate_speaks_both_languages(capsys):
    path = next(p for p in BAD_FILES if "hostname" in p)
    assert cli.main(["validate", path, "--lang", "en"]) == 2
    english = capsys.readouterr().err
    assert cli.main(["validate", path, "--lang", "ja"]) == 2
    japanese = capsys.readouterr().err
    assert english != japanese
    assert any(ord(ch) > 0x3000 for ch in japanese), japanese


def test_set_overrides_and_bad_set(tmp_path, capsys):
    assert cli.main(["validate", EXAMPLE, "--set", "postfix.hostname=mx2.example.com"]) == 0
    assert cli.main(["validate", EXAMPLE, "--set", "postfix.hostnme=mx2.example.com"]) == 2
    err = capsys.readouterr().err
    assert "hostname" in err


def test_relay_password_never_leaks(tmp_path, capsys, monkeypatch):
    secret = "S3cr3t-relay-pass"
    answers = tmp_path / "answers.yaml"
    answers.write_text(open(EXAMPLE).read().replace(
        "relayhost: null",
        "relayhost:\n  host: \"[smtp.example.net]:587\"\n  username: relayuser\n"
        "  password_env: MAILWIZ_RELAY_PASSWORD"))
    monkeypatch.setenv("MAILWIZ_RELAY_PASSWORD", secret)
    root = tmp_path / "root"
    args = ["--sandbox", "--profile", "rocky-9", "--root", str(root)]
    assert cli.main(["plan", "--answers", str(answers), *args]) == 0
    assert cli.main(["apply", "--answers", str(answers), "--yes", *args]) == 0
    out, err = capsys.readouterr()
    assert secret not in out + err
    sasl = root / "etc/postfix/sasl_passwd"
    assert secret in sasl.read_text() and (sasl.stat().st_mode & 0o777) == 0o600
    for folder in ("var/lib/mailwiz", "var/log/mailwiz"):
        for dirpath, _, files in os.walk(root / folder):
            for name in files:
                assert secret.encode() not in open(os.path.join(dirpath, name), "rb").read(), name
    assert cli.main(["log", *args]) == 0
    assert secret not in capsys.readouterr().out
    monkeypatch.delenv("MAILWIZ_RELAY_PASSWORD")
    # Without the variable, the run refuses before changing anything.
    assert cli.main(["apply", "--answers", str(answers), "--yes", *args]) == 2


def test_the_answer_files_language_speaks_unless_lang_says_otherwise(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    answers = tmp_path / "ja.yaml"
    answers.write_text(open(EXAMPLE).read().replace("language: en", "language: ja"))
    args = ["--sandbox", "--profile", "rocky-9", "--root", str(tmp_path / "root")]
    assert cli.main(["apply", "--answers", str(answers), "--yes", *args]) == 0
    out = capsys.readouterr().out
    assert "計画" in out
    log_dir = tmp_path / "root/var/log/mailwiz"
    log = (log_dir / os.listdir(log_dir)[0]).read_text()
    assert "完了" in log                       # the step log is written in the file's language
    assert cli.main(["rollback", "--lang", "en", *args]) == 0
    assert "rolled back" in capsys.readouterr().out
    # without a `language` key, the locale decides
    plain = tmp_path / "plain.yaml"
    plain.write_text("version: 1\n")
    assert cli.main(["plan", "--answers", str(plain), *args]) == 0
    assert "Plan:" in capsys.readouterr().out
