"""The real-tool harness catches broken configs, and confedit's output passes it.

Needs postfix and dovecot installed (skips otherwise); postfix check also needs
root.  Nothing here touches /etc/postfix, /etc/dovecot or the mail queue.
"""
from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest

from installer.confedit import (
    MasterService,
    dovecot_set,
    master_get_service,
    master_set_service,
    postconf_get,
    postconf_set,
)
from tests.realtools import (
    POSTFIX_CONFIG,
    postconf_e,
    postconf_n,
    postconf_query,
    requires_dovecot,
    requires_postfix,
    requires_postfix_check,
    selfsigned_cert,  # noqa: F401  (fixture)
    doveconf_n,
    postfix_check,
    postfix_sandbox,  # noqa: F401  (fixture)
    real_postfix_check,  # noqa: F401  (fixture)
    stock_dovecot_files,
    stock_postfix_file,
)
from tests.test_confedit import POSTCONF_SET_CASES, SUBMISSION

# What mailwiz-like edits of a stock main.cf look like (mail-facts.md).
MAIN_CF_EDITS = {
    "myhostname": "mail.example.com",
    "mydomain": "example.com",
    "myorigin": "$mydomain",
    "mydestination": "$myhostname, localhost.$mydomain, localhost, $mydomain",
    "mynetworks": "127.0.0.0/8 [::1]/128",
    "home_mailbox": "Maildir/",
    "smtpd_sasl_type": "dovecot",
    "smtpd_sasl_path": "private/auth",
    "smtpd_sasl_auth_enable": "yes",
    "smtpd_tls_security_level": "may",
    "smtpd_tls_auth_only": "yes",
    "smtpd_relay_restrictions":
        "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination",
    "smtpd_client_restrictions": "check_client_access hash:/etc/postfix/access",
    "message_size_limit": "20480000",
    "mailbox_size_limit": "51200000",
    "relayhost": None,
}


def _ours_against_real(text, params):
    """(ours, real) with appended lines in the same order: postconf -e appends
    new names in hash-table order, ours in the order given."""
    ours = postconf_set(text, params).splitlines()
    real = postconf_e(text, params).splitlines()
    appended = sum(1 for name, value in params.items()
                   if value is not None and postconf_get(text, name) is None)
    if appended > 1:
        real = real[:-appended] + sorted(real[-appended:], key=ours[-appended:].index)
    return ours, real


@requires_postfix
@pytest.mark.realpostfix
@pytest.mark.parametrize("case", [c for c in POSTCONF_SET_CASES if c.real], ids=lambda c: c.id)
def test_postconf_set_matches_real_postconf_e(case):
    ours, real = _ours_against_real(case.text, case.params)
    assert ours == real


@requires_postfix
@pytest.mark.realpostfix
def test_postconf_set_matches_real_postconf_e_on_stock_main_cf():
    stock = stock_postfix_file("main.cf")
    ours, real = _ours_against_real(stock, MAIN_CF_EDITS)
    assert ours == real


@requires_postfix
@pytest.mark.realpostfix
def test_real_postconf_glues_unterminated_last_line_and_we_do_not():
    # Why the no-final-newline case is excluded from the comparison above.
    assert postconf_e("a = 1", {"b": "2"}) == "a = 1b = 2\n"
    assert postconf_set("a = 1", {"b": "2"}) == "a = 1\nb = 2\n"


@requires_postfix
@pytest.mark.realpostfix
def test_stock_main_cf_has_no_warnings():
    stdout, warnings = postconf_n(stock_postfix_file("main.cf"))
    assert warnings == []
    assert "config_directory" not in stdout
    assert "myhostname = " in stdout


@requires_postfix
@pytest.mark.realpostfix
@pytest.mark.parametrize("addition,expected", [
    ("smtpd_tls_auth_onyl = yes\n", "unused parameter: smtpd_tls_auth_onyl=yes"),
    ("mua_sender_restrictions = reject\n", "unused parameter: mua_sender_restrictions"),
    ("bogus line\n", "missing '=' after attribute name"),
])
def test_postconf_n_reports_bad_main_cf(addition, expected):
    _stdout, warnings = postconf_n(stock_postfix_file("main.cf") + addition)
    assert any(expected in line for line in warnings), warnings


@requires_postfix
@pytest.mark.realpostfix
def test_postconf_n_reports_bad_master_cf():
    master = stock_postfix_file("master.cf") + "submission inet n - y - -\n"
    _stdout, warnings = postconf_n(stock_postfix_file("main.cf"), master)
    assert any("bad field count" in line for line in warnings), warnings


@requires_postfix
@pytest.mark.realpostfix
def test_edited_stock_configs_pass_postconf_n():
    main = postconf_set(stock_postfix_file("main.cf"), MAIN_CF_EDITS)
    master = master_set_service(stock_postfix_file("master.cf"), SUBMISSION)
    stdout, warnings = postconf_n(main, master)
    assert warnings == []
    assert "smtpd_sasl_path = private/auth\n" in stdout
    assert "relayhost" not in stdout


@requires_postfix
@pytest.mark.realpostfix
def test_master_set_service_is_read_back_by_postconf():
    options = SUBMISSION.options + [("smtpd_client_restrictions", "permit_sasl_authenticated, reject")]
    svc = MasterService(**dict(vars(SUBMISSION), options=options))
    master = master_set_service(stock_postfix_file("master.cf"), svc)
    status, stdout, stderr = postconf_query(stock_postfix_file("main.cf"), master,
                                            ["-P", "submission/inet"])
    assert status == 0 and stderr == ""
    # postconf -P lists the options sorted by name.
    assert stdout.splitlines() == sorted("submission/inet/{} = {}".format(name, value).rstrip()
                                         for name, value in options)
    assert master_get_service(master, "submission", "inet") == svc


@requires_postfix_check
@pytest.mark.realpostfix
def test_stock_and_edited_configs_pass_postfix_check(real_postfix_check):
    stock_main, stock_master = stock_postfix_file("main.cf"), stock_postfix_file("master.cf")
    assert real_postfix_check(stock_main, stock_master) == (0, "")
    main = postconf_set(stock_main, MAIN_CF_EDITS)
    master = master_set_service(stock_master, SUBMISSION)
    assert real_postfix_check(main, master, {"access": "192.0.2.1 REJECT\n"},
                              postmap=["access"]) == (0, "")


@requires_postfix_check
@pytest.mark.realpostfix
# Postfix sleeps a second before exiting on a fatal error, so each fatal case
# costs 1 s: a broken master.cf is shown through postconf_n above.
@pytest.mark.parametrize("main_extra,master_extra,expected", [
    ("bogus line\n", "", "missing '=' after attribute name"),
])
def test_postfix_check_fails_on_broken_config(real_postfix_check, main_extra, master_extra,
                                              expected):
    status, output = real_postfix_check(stock_postfix_file("main.cf") + main_extra,
                                        stock_postfix_file("master.cf") + master_extra)
    assert status != 0
    assert expected in output


@requires_postfix_check
@pytest.mark.realpostfix
def test_postfix_check_reports_bad_map(real_postfix_check):
    status, output = real_postfix_check(stock_postfix_file("main.cf"),
                                        stock_postfix_file("master.cf"),
                                        {"access": "192.0.2.1\n"}, postmap=["access"])
    assert "expected format: key whitespace value" in output


@requires_postfix_check
@pytest.mark.realpostfix
def test_postfix_check_works_in_its_sandbox_only(postfix_sandbox):
    before = {p.name: (p.stat().st_mtime, p.read_bytes())
              for p in POSTFIX_CONFIG.iterdir() if p.is_file()}
    assert postfix_sandbox.check(stock_postfix_file("main.cf"),
                                 stock_postfix_file("master.cf")) == (0, "")
    after = {p.name: (p.stat().st_mtime, p.read_bytes())
             for p in POSTFIX_CONFIG.iterdir() if p.is_file()}
    assert after == before
    postfix_uid = pwd.getpwnam("postfix").pw_uid
    assert (postfix_sandbox.queue_directory / "active").stat().st_uid == postfix_uid
    assert postfix_sandbox.data_directory.stat().st_uid == postfix_uid
    assert str(postfix_sandbox.root) in postconf_get(
        (postfix_sandbox.root / "config{}".format(postfix_sandbox._count) / "main.cf").read_text(),
        "queue_directory")


@requires_postfix_check
@pytest.mark.realpostfix
def test_module_level_postfix_check():
    assert postfix_check(stock_postfix_file("main.cf"), stock_postfix_file("master.cf")) == (0, "")


# ---------------------------------------------------------------------------
# Dovecot


@requires_dovecot
@pytest.mark.realpostfix
def test_stock_dovecot_tree_passes_doveconf():
    status, output = doveconf_n(stock_dovecot_files())
    assert status == 0, output
    assert "passdb {" in output


@requires_dovecot
@pytest.mark.realpostfix
@pytest.mark.parametrize("path,addition,expected", [
    ("conf.d/10-auth.conf", "bogus_setting = 1\n", "Unknown setting: bogus_setting"),
    ("dovecot.conf", "service imap-login {\n", "Missing '}'"),
    ("dovecot.conf", "!include conf.d/missing.conf\n", "No matches"),
])
def test_doveconf_fails_on_broken_config(path, addition, expected):
    files = stock_dovecot_files()
    files[path] += addition
    status, output = doveconf_n(files)
    assert status != 0
    assert expected in output


@requires_dovecot
@pytest.mark.realpostfix
def test_doveconf_includes_are_relative_to_the_temp_tree():
    files = {"dovecot.conf": "!include conf.d/*.conf\n",
             "conf.d/10-mail.conf": "mail_location = maildir:~/Maildir\n"}
    status, output = doveconf_n(files)
    assert status == 0, output
    assert "mail_location = maildir:~/Maildir" in output


@requires_dovecot
@pytest.mark.realpostfix
def test_edited_stock_dovecot_passes_doveconf_with_cert(selfsigned_cert):
    cert, key = selfsigned_cert
    files = stock_dovecot_files()
    files["conf.d/10-auth.conf"] = dovecot_set(files["conf.d/10-auth.conf"], {
        "disable_plaintext_auth": "yes", "auth_mechanisms": "plain login"})
    files["conf.d/10-mail.conf"] = dovecot_set(files["conf.d/10-mail.conf"], {
        "mail_location": "maildir:~/Maildir"})
    files["conf.d/10-ssl.conf"] = dovecot_set(files["conf.d/10-ssl.conf"], {
        "ssl": "required", "ssl_cert": "<" + str(cert), "ssl_key": "<" + str(key)})
    status, output = doveconf_n(files, expand=True)
    assert status == 0, output
    for line in ("auth_mechanisms = plain login", "mail_location = maildir:~/Maildir",
                 "ssl = required"):
        assert line in output.splitlines()


@requires_dovecot
@pytest.mark.realpostfix
def test_doveconf_expand_needs_the_cert_files(tmp_path):
    files = stock_dovecot_files()
    files["conf.d/10-ssl.conf"] = dovecot_set(files["conf.d/10-ssl.conf"], {
        "ssl_cert": "<" + str(tmp_path / "missing.pem")})
    assert doveconf_n(files)[0] == 0
    status, output = doveconf_n(files, expand=True)
    assert status != 0 and "missing.pem" in output


def test_selfsigned_cert_is_a_pem_pair(selfsigned_cert):
    cert, key = selfsigned_cert
    assert Path(cert).read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert "PRIVATE KEY-----" in Path(key).read_text()
    assert os.path.getsize(key) > 0
