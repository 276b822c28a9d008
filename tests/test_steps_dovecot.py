"""steps/dovecot.py: facts + answers in, actions out, for every profile family and
both Dovecot generations; the 2.3 result through the real ``doveconf -n``."""
from __future__ import annotations

from pathlib import Path

import pytest

from installer import profiles
from installer.actions import BlockInFile, DovecotSet, Simulation, WriteFile, block_in_text
from installer.confedit import dovecot_get
from installer.root import TargetRoot
from steps import dovecot
from tests.realtools import doveconf_n, selfsigned_cert, stock_dovecot_files  # noqa: F401 (fixture)
from tests.stepkit import answers_with, facts_for, plan_of, step_input

STOCK = Path(__file__).resolve().parent.parent / "installer" / "stock"
CERT, KEY = "/etc/ssl/mailwiz/mail.pem", "/etc/ssl/mailwiz/mail.key"


@pytest.fixture
def certs(monkeypatch):
    """The TLS step's paths, fixed, so these tests are about this step alone."""
    state = {"paths": (CERT, KEY)}
    monkeypatch.setattr(dovecot, "certificate", lambda inp: state["paths"])
    return state


def dropin(actions):
    found = [a for a in actions if isinstance(a, WriteFile)]
    assert [a.path for a in found] == [dovecot.DROPIN]
    return found[0].content


def setting_lines(text):
    return [line for line in text.splitlines() if line and not line.startswith(("#", " ", "}", "service"))]


# --- layout per profile --------------------------------------------------------------

CONFD_23 = ["centos-6", "centos-7", "rocky-9", "rhel-10", "fedora-42", "debian-12", "ubuntu-24.04"]


@pytest.mark.parametrize("profile_id", CONFD_23)
def test_confd_23_profiles_get_one_dropin_and_the_stock_ssl_file(certs, profile_id):
    actions = plan_of(dovecot, profile_id)
    assert [type(a) for a in actions] == [WriteFile, DovecotSet]
    assert actions[0].path == "/etc/dovecot/conf.d/99-mailwiz.conf"
    assert (actions[0].mode, actions[0].owner, actions[0].group) == (0o644, "root", "root")
    assert setting_lines(actions[0].content) == [
        "protocols = imap pop3 lmtp",
        "listen = *",
        "mail_location = maildir:~/Maildir",
        "ssl = yes",
        "ssl_cert = </etc/ssl/mailwiz/mail.pem",
        "ssl_key = </etc/ssl/mailwiz/mail.key",
        "disable_plaintext_auth = yes",
        "auth_mechanisms = plain login",
    ]
    assert actions[1].path == "/etc/dovecot/conf.d/10-ssl.conf"
    assert actions[1].settings == {"ssl_cert": "<" + CERT, "ssl_key": "<" + KEY}


def test_debian_13_dropin_uses_24_names(certs):
    actions = plan_of(dovecot, "debian-13")
    assert setting_lines(dropin(actions)) == [
        "protocols = imap pop3 lmtp",
        "listen = *",
        "mail_driver = maildir",
        "mail_path = ~/Maildir",
        "mail_home =",
        "mail_inbox_path = ~/Maildir",
        "ssl = yes",
        "ssl_server_cert_file = /etc/ssl/mailwiz/mail.pem",
        "ssl_server_key_file = /etc/ssl/mailwiz/mail.key",
        "auth_allow_cleartext = no",
        "auth_mechanisms = plain login",
    ]
    assert actions[1].settings == {"ssl_server_cert_file": CERT, "ssl_server_key_file": KEY}


def test_installed_version_wins_over_the_profile(certs):
    """A Debian 12 host that has a 2.4 build installed gets 2.4 names."""
    facts = facts_for("debian-12", dovecot_version=(2, 4, 1))
    text = dropin(plan_of(dovecot, "debian-12", facts=facts))
    assert "mail_driver = maildir" in text and "mail_location" not in text
    assert "auth_allow_cleartext = no" in text and "disable_plaintext_auth" not in text


def test_fedora_43_edits_dovecot_conf_in_place(certs):
    actions = plan_of(dovecot, "fedora-43")
    assert [type(a) for a in actions] == [DovecotSet, BlockInFile]
    assert {a.path for a in actions} == {"/etc/dovecot/dovecot.conf"}
    assert actions[0].settings == {
        "protocols": "imap pop3 lmtp", "listen": "*",
        "mail_driver": "maildir", "mail_path": "~/Maildir", "mail_home": "", "mail_inbox_path": "~/Maildir",
        "ssl": "yes", "ssl_server_cert_file": CERT, "ssl_server_key_file": KEY,
        "auth_allow_cleartext": "no", "auth_mechanisms": "plain login",
    }
    assert actions[1].block == dovecot.auth_service_block()


def test_fedora_43_stock_file_keeps_its_version_lines_first_and_second_run_changes_nothing(certs, tmp_path):
    stock = (STOCK / "dovecot-fedora-2.4/etc/dovecot/dovecot.conf").read_bytes()
    (tmp_path / "etc/dovecot").mkdir(parents=True)
    (tmp_path / "etc/dovecot/dovecot.conf").write_bytes(stock)
    root = TargetRoot(str(tmp_path))
    facts = facts_for("fedora-43")
    sim = Simulation(root, facts, profiles.get("fedora-43"))
    assert all(a.simulate(sim) for a in plan_of(dovecot, "fedora-43", facts=facts))
    text = sim.files["/etc/dovecot/dovecot.conf"].decode()
    settings = [line for line in text.splitlines() if line and not line.lstrip().startswith("#")]
    assert settings[0].startswith("dovecot_config_version = ")
    assert settings[1].startswith("dovecot_storage_version = ")
    assert dovecot_get(text, "mail_driver") == "maildir"
    assert dovecot_get(text, "ssl_server_cert_file") == CERT
    assert text.count("# BEGIN mailwiz") == 1 and "unix_listener /var/spool/postfix/private/auth {" in text
    # Applied once more to the result: nothing changes.
    (tmp_path / "etc/dovecot/dovecot.conf").write_text(text)
    again = Simulation(TargetRoot(str(tmp_path)), facts, profiles.get("fedora-43"))
    assert [a.simulate(again) for a in plan_of(dovecot, "fedora-43", facts=facts)] == [False, False]


# --- answers ---------------------------------------------------------------------------

@pytest.mark.parametrize("chosen, expected", [
    (["imap"], "imap"),
    (["pop3"], "pop3"),
    (["lmtp", "imap"], "imap lmtp"),
    (["pop3", "lmtp", "imap"], "imap pop3 lmtp"),
])
@pytest.mark.parametrize("profile_id", ["debian-12", "rocky-9", "debian-13", "fedora-43"])
def test_only_chosen_protocols(certs, profile_id, chosen, expected):
    inp = step_input(profile_id, answers=answers_with(**{"dovecot.protocols": chosen}))
    assert dovecot.settings(inp)["protocols"] == expected


@pytest.mark.parametrize("profile_id", ["debian-12", "centos-6", "debian-13"])
def test_without_sasl_no_auth_listener(certs, profile_id):
    answers = answers_with(**{"auth.sasl": False, "auth.submission": False})
    text = dropin(plan_of(dovecot, profile_id, answers=answers))
    assert "service auth" not in text and "private/auth" not in text


def test_with_sasl_the_auth_listener_for_postfix(certs):
    text = dropin(plan_of(dovecot, "debian-12"))
    assert ("service auth {\n  unix_listener /var/spool/postfix/private/auth {\n    mode = 0660\n"
            "    user = postfix\n    group = postfix\n  }\n}\n") in text


def test_fedora_43_without_sasl_removes_the_block(certs):
    answers = answers_with(**{"auth.sasl": False, "auth.submission": False})
    actions = plan_of(dovecot, "fedora-43", answers=answers)
    assert isinstance(actions[1], BlockInFile) and actions[1].block is None


@pytest.mark.parametrize("profile_id, cert_names", [
    ("debian-12", ("ssl_cert", "ssl_key")),
    ("debian-13", ("ssl_server_cert_file", "ssl_server_key_file")),
])
def test_without_certificate_ssl_off_and_stock_certificate_lines_removed(certs, profile_id, cert_names):
    certs["paths"] = None
    answers = answers_with(**{"auth.sasl": False, "auth.submission": False,
                              "auth.tls.certificate": "none"})
    actions = plan_of(dovecot, profile_id, answers=answers)
    lines = setting_lines(dropin(actions))
    assert "ssl = no" in lines
    assert not any(line.startswith(cert_names) for line in lines)
    assert actions[1].settings == {name: None for name in cert_names}
    # Cleartext logins stay forbidden: without TLS only the host itself may log in.
    assert any(line in ("disable_plaintext_auth = yes", "auth_allow_cleartext = no") for line in lines)


def test_listen_addresses_joined(certs):
    answers = answers_with(**{"dovecot.listen": ["127.0.0.1", "::1"]})
    assert "listen = 127.0.0.1, ::1" in dropin(plan_of(dovecot, "debian-12", answers=answers))


@pytest.mark.parametrize("location, expected", [
    # Maildir's INBOX is the Maildir itself (the driver's default, which an empty
    # mail_inbox_path would hide); other drivers keep INBOX in their own tree.
    ("maildir:~/Maildir", {"mail_driver": "maildir", "mail_path": "~/Maildir", "mail_inbox_path": "~/Maildir"}),
    ("mbox:~/mail", {"mail_driver": "mbox", "mail_path": "~/mail", "mail_inbox_path": ""}),
    ("sdbox:/srv/mail/%u", {"mail_driver": "sdbox", "mail_path": "/srv/mail/%{user}", "mail_inbox_path": ""}),
    ("maildir:/srv/%d/%n", {"mail_driver": "maildir", "mail_path": "/srv/%{user | domain}/%{user | username}",
                            "mail_inbox_path": "/srv/%{user | domain}/%{user | username}"}),
])
def test_mail_location_in_24(location, expected):
    got = dovecot.mail_settings(location, dovecot24=True)
    assert {k: got[k] for k in expected} == expected
    assert dovecot.mail_settings(location, dovecot24=False) == {"mail_location": location}


@pytest.mark.parametrize("location", ["maildir", "maildir:~/Maildir:LAYOUT=fs", "maildir:/srv/%Lu"])
def test_mail_location_without_a_24_form_is_refused(location):
    with pytest.raises(ValueError):
        dovecot.mail_settings(location, dovecot24=True)


@pytest.mark.parametrize("key, value", [
    ("dovecot.listen", ["*\nauth_allow_cleartext = yes"]),
    ("dovecot.listen", ["<secret"]),
    ("dovecot.mail_location", "maildir:~/Maildir # x"),
    ("dovecot.mail_location", "maildir:~/{Maildir"),
])
def test_values_that_could_break_out_of_their_line_are_refused(certs, key, value):
    with pytest.raises(ValueError):
        plan_of(dovecot, "debian-12", answers=answers_with(**{key: value}))


def test_certificate_comes_from_the_tls_step():
    from steps import tls
    inp = step_input("debian-12")
    cert, key = tls.cert_paths(inp.profile, inp.answers)
    text = dropin(dovecot.plan(inp))
    assert "ssl_cert = <{}\n".format(cert) in text and "ssl_key = <{}\n".format(key) in text


# --- the marked block ----------------------------------------------------------------------

@pytest.mark.parametrize("before, block, after", [
    (None, "a = 1\n", "# BEGIN m\na = 1\n# END m\n"),
    ("x = 1", "a = 1", "x = 1\n# BEGIN m\na = 1\n# END m\n"),
    ("x = 1\n# BEGIN m\nold\n# END m\ny = 2\n", "a = 1\n", "x = 1\n# BEGIN m\na = 1\n# END m\ny = 2\n"),
    ("x = 1\n# BEGIN m\nold\n# END m\ny = 2\n", None, "x = 1\ny = 2\n"),
    ("x = 1\n", None, "x = 1\n"),
    ("# END m\nx\n", "a\n", "# END m\nx\n# BEGIN m\na\n# END m\n"),
])
def test_block_in_text(before, block, after):
    assert block_in_text(before, block, "m") == after


def test_block_in_file_missing_file_and_no_block_stays_missing():
    assert BlockInFile(path="/x", block=None).new_content(None) is None


# --- the real doveconf (Dovecot 2.3 on this machine) ---------------------------------------------

def _stock_tree(*sets):
    files = {}
    for name in sets:
        base = STOCK / name / "etc/dovecot"
        for path in sorted(base.rglob("*")):
            if path.is_file():
                files[path.relative_to(base).as_posix()] = path.read_text()
    return files


def _with_plan(files, profile_id, answers, cert, key, monkeypatch):
    monkeypatch.setattr(dovecot, "certificate", lambda inp: (str(cert), str(key)))
    actions = plan_of(dovecot, profile_id, answers=answers)
    files = dict(files)
    files["conf.d/99-mailwiz.conf"] = actions[0].content
    ssl = actions[1]
    files["conf.d/10-ssl.conf"] = ssl.new_content(files.get("conf.d/10-ssl.conf", "").encode()).decode()
    return files


@pytest.mark.parametrize("answers", [
    answers_with(),
    answers_with(**{"dovecot.protocols": ["imap"], "auth.sasl": False, "auth.submission": False}),
])
def test_real_doveconf_debian_stock(selfsigned_cert, monkeypatch, answers):  # noqa: F811
    cert, key = selfsigned_cert
    files = _with_plan(stock_dovecot_files(), "debian-12", answers, cert, key, monkeypatch)
    status, output = doveconf_n(files, expand=True)
    assert status == 0, output
    expected_protocols = " ".join(answers["dovecot"]["protocols"])
    assert "\nprotocols = {}\n".format(expected_protocols) in output
    assert "mail_location = maildir:~/Maildir" in output
    assert "auth_mechanisms = plain login" in output
    assert ("unix_listener /var/spool/postfix/private/auth {" in output) == answers["auth"]["sasl"]
    assert "ssl_cert = <{}".format(cert) in output or "ssl_cert = -----BEGIN" in output


@pytest.mark.parametrize("profile_id, sets", [
    ("rocky-9", ("dovecot-common", "dovecot-rhel")),
    ("centos-7", ("dovecot-common", "dovecot-rhel", "dovecot-rhel-old")),
])
def test_real_doveconf_rhel_stock(selfsigned_cert, monkeypatch, profile_id, sets):  # noqa: F811
    cert, key = selfsigned_cert
    files = _with_plan(_stock_tree(*sets), profile_id, answers_with(), cert, key, monkeypatch)
    status, output = doveconf_n(files, expand=True)
    assert status == 0, output
    assert "protocols = imap pop3 lmtp" in output
    assert "disable_plaintext_auth" not in output   # yes is the default: doveconf -n leaves it out
    assert "unix_listener /var/spool/postfix/private/auth {" in output


def test_real_doveconf_rejects_a_broken_dropin(selfsigned_cert):  # noqa: F811
    """The harness can fail: a setting Dovecot does not know is an error."""
    files = stock_dovecot_files()
    files["conf.d/99-mailwiz.conf"] = "no_such_setting = 1\n"
    status, output = doveconf_n(files)
    assert status != 0 and "no_such_setting" in output
