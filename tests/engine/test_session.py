"""What the CLI and the wizard share (installer/session.py): one rule for the
relay host password, wherever it comes from."""
import argparse

import pytest

from installer import session
from installer.answers import DEFAULTS


def _relay_answers(**relay):
    answers = dict(DEFAULTS)
    answers["relayhost"] = {"host": "[smtp.example.net]:587", "username": "user", **relay}
    return answers


def test_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("RELAY_PW", "s3cret")
    assert session.secrets(_relay_answers(password_env="RELAY_PW")) == {"relay_password": "s3cret"}


def test_an_unset_variable_is_bad_input(monkeypatch):
    monkeypatch.delenv("RELAY_PW", raising=False)
    with pytest.raises(session.UsageError, match="RELAY_PW"):
        session.secrets(_relay_answers(password_env="RELAY_PW"))


@pytest.mark.parametrize("bad", ["two\nlines", "cr\rhere", "nul\0byte"])
def test_multi_line_password_refused_from_env_and_prompt(monkeypatch, bad):
    if "\0" not in bad:     # an environment variable cannot hold NUL at all
        monkeypatch.setenv("RELAY_PW", bad)
        with pytest.raises(session.UsageError, match="single line"):
            session.secrets(_relay_answers(password_env="RELAY_PW"))
    with pytest.raises(session.UsageError, match="single line"):
        session.secrets(_relay_answers(), typed=bad)


def test_no_relay_host_no_secret(monkeypatch):
    assert session.secrets(dict(DEFAULTS), typed="left over") == {}


def test_the_wizard_refuses_what_the_cli_refuses(tmp_path):
    pytest.importorskip("textual")
    from installer.tui.model import WizardState
    args = argparse.Namespace(root=str(tmp_path / "sb"), profile="rocky-9", sandbox=True)
    state = WizardState(session.Target(args), lang="en")
    state.answers["relayhost"] = {"host": "[smtp.example.net]:587", "username": "user"}
    state.relay_password = "one line"
    assert not [key for key, _ in state.errors() if key == "relayhost.password"]
    state.relay_password = "two\nlines"
    assert ("relayhost.password", "The relay host password must be a single line.") in state.errors()
    assert not state.page_valid("auth")
