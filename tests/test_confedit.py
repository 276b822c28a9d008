"""Table-driven tests of the pure configuration editors (no system touched).

POSTCONF_SET_CASES is also replayed against the real ``postconf -e`` in
test_realtools.py, so every expected text here is what postconf writes
(except where ``real`` is False, with the reason).
"""
from __future__ import annotations

from typing import Dict, NamedTuple, Optional

import pytest

from installer.confedit import (
    MasterService,
    aliases_get,
    aliases_set,
    dovecot_get,
    dovecot_set,
    master_get_service,
    master_remove_service,
    master_set_service,
    postconf_get,
    postconf_set,
)


class PostconfCase(NamedTuple):
    id: str
    text: Optional[str]
    params: Dict[str, Optional[str]]
    expected: str
    real: bool = True  # False: deliberately unlike postconf -e (see id)


POSTCONF_SET_CASES = [
    PostconfCase("replace", "a = 1\nb = 2\n", {"a": "9"}, "a = 9\nb = 2\n"),
    PostconfCase("comments-kept", "# a = 1\na = 2\n# tail\n", {"a": "3"},
                 "# a = 1\na = 3\n# tail\n"),
    PostconfCase("continuation-collapsed",
                 "smtpd_recipient_restrictions =\n    permit_mynetworks,\n"
                 "\treject_unauth_destination\nbiff = no\n",
                 {"smtpd_recipient_restrictions": "permit_mynetworks, reject"},
                 "smtpd_recipient_restrictions = permit_mynetworks, reject\nbiff = no\n"),
    PostconfCase("comment-inside-continuation-stays", "a = 1\n  x\n# c\n  y\nb = 2\n",
                 {"a": "9"}, "a = 9\n# c\nb = 2\n"),
    PostconfCase("indented-comment-inside-continuation", "a = 1\n   # note\n  x\n",
                 {"a": "2"}, "a = 2\n   # note\n"),
    PostconfCase("blank-line-inside-continuation", "a = 1\n\n  y\nb = 2\n", {"a": "9"},
                 "a = 9\n\nb = 2\n"),
    PostconfCase("duplicates-all-replaced", "a = 1\nb = 2\na = 3\n", {"a": "9"},
                 "a = 9\nb = 2\na = 9\n"),
    PostconfCase("append-missing", "a = 1\n", {"z": "1"}, "a = 1\nz = 1\n"),
    PostconfCase("append-several", "a = 1\n", {"z": "1", "y": "2", "x": "3"},
                 "a = 1\nz = 1\ny = 2\nx = 3\n"),
    PostconfCase("commented-assignment-untouched", "#myorigin = /etc/mailname\n",
                 {"myorigin": "$mydomain"},
                 "#myorigin = /etc/mailname\nmyorigin = $mydomain\n"),
    PostconfCase("missing-file", None, {"a": "1"}, "a = 1\n"),
    PostconfCase("empty-value", "a = 1\n", {"a": ""}, "a = \n"),
    PostconfCase("value-trimmed", "a=1\n", {"a": "  spaced  value  "}, "a = spaced  value\n"),
    PostconfCase("no-spaces-around-equals", "a=1\n", {"a": "2"}, "a = 2\n"),
    PostconfCase("tabs", "a\t=\t1\n\tcontinued\nb = 2\n", {"a": "2"}, "a = 2\nb = 2\n"),
    PostconfCase("prefix-names-differ", "ab = 1\na_b = 2\n", {"a": "3"},
                 "ab = 1\na_b = 2\na = 3\n"),
    PostconfCase("orphan-indented-line-is-not-a-setting", "  lead = 1\nb = 2\n",
                 {"lead": "3"}, "  lead = 1\nb = 2\nlead = 3\n"),
    PostconfCase("crlf-input-only-edited-line-loses-cr", "a = 1\r\nb = 2\r\n", {"a": "9"},
                 "a = 9\nb = 2\r\n"),
    PostconfCase("remove-with-continuation", "a = 1\n  x\n# c\nb = 2\na=5\n", {"a": None},
                 "# c\nb = 2\n"),
    PostconfCase("remove-absent", "b = 2\n", {"a": None}, "b = 2\n"),
    PostconfCase("set-and-remove", "a = 1\nb = 2\n", {"a": None, "c": "3"}, "b = 2\nc = 3\n"),
    PostconfCase("dollar-and-commas", "x = 1\n", {"mydestination": "$myhostname, localhost"},
                 "x = 1\nmydestination = $myhostname, localhost\n"),
    # postconf -e glues the appended line onto an unterminated last line ("a = 1b = 2").
    PostconfCase("no-final-newline-not-glued", "a = 1", {"b": "2"}, "a = 1\nb = 2\n",
                 real=False),
]


@pytest.mark.parametrize("case", POSTCONF_SET_CASES, ids=lambda c: c.id)
def test_postconf_set(case):
    assert postconf_set(case.text, case.params) == case.expected


@pytest.mark.parametrize("case", POSTCONF_SET_CASES, ids=lambda c: c.id)
def test_postconf_set_is_idempotent(case):
    once = postconf_set(case.text, case.params)
    assert postconf_set(once, case.params) == once


@pytest.mark.parametrize("name,value", [
    ("bad name", "1"), ("a=b", "1"), ("", "1"), ("#a", "1"), ("a", "1\nb = 2"), ("a", "1\r"),
])
def test_postconf_set_rejects_what_postconf_cannot_write(name, value):
    with pytest.raises(ValueError):
        postconf_set("", {name: value})


def test_postconf_set_nothing_on_missing_file_is_empty():
    assert postconf_set(None, {}) == ""
    assert postconf_set(None, {"a": None}) == ""


@pytest.mark.parametrize("text,name,expected", [
    (None, "a", None),
    ("", "a", None),
    ("a = 1\n", "a", "1"),
    ("a = 1\na = 2\n", "a", "2"),
    ("#a = 1\n", "a", None),
    ("a = x,\n    y\n# c\n\n\t z  \n", "a", "x, y z"),
    ("a =\n", "a", ""),
    ("a\t=\t1\n", "a", "1"),
    ("ab = 1\n", "a", None),
    ("  a = 1\n", "a", None),
    ("a = $b, c", "a", "$b, c"),
])
def test_postconf_get(text, name, expected):
    assert postconf_get(text, name) == expected


def test_postconf_get_reads_what_postconf_set_wrote():
    text = postconf_set("# x\nmynetworks = 10.0.0.0/8\n  192.168.0.0/16\n",
                        {"mynetworks": "127.0.0.0/8", "relayhost": ""})
    assert postconf_get(text, "mynetworks") == "127.0.0.0/8"
    assert postconf_get(text, "relayhost") == ""


# ---------------------------------------------------------------------------
# master.cf

DEBIAN_MASTER_HEAD = """\
smtp      inet  n       -       y       -       -       smtpd
#smtp      inet  n       -       y       -       1       postscreen
# Choose one: enable submission for loopback clients only, or for any client.
#127.0.0.1:submission inet n -   y       -       -       smtpd
#submission inet n       -       y       -       -       smtpd
#  -o syslog_name=postfix/submission
#  -o smtpd_tls_security_level=encrypt
#     Instead of specifying complex smtpd_<xxx>_restrictions here,
#     "<xxx>" is "client", "helo", "sender", "relay", or "recipient").
#  -o smtpd_relay_restrictions=
#  -o milter_macro_daemon_name=ORIGINATING
# Choose one: enable submissions for loopback clients only, or for any client.
#submissions     inet  n       -       y       -       -       smtpd
pickup    unix  n       -       y       60      1       pickup
"""

RHEL_MASTER_HEAD = """\
smtp      inet  n       -       n       -       -       smtpd
#submission inet n       -       n       -       -       smtpd
#  -o syslog_name=postfix/submission
#  -o smtpd_tls_security_level=encrypt
#smtps     inet  n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
"""

SUBMISSION = MasterService(
    "submission", "inet", "n", "-", "y", "-", "-", "smtpd",
    [("syslog_name", "postfix/submission"), ("smtpd_tls_security_level", "encrypt"),
     ("smtpd_relay_restrictions", ""),
     ("smtpd_recipient_restrictions", "permit_sasl_authenticated,reject")])

SUBMISSION_LINES = """\
submission inet  n       -       y       -       -       smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_relay_restrictions=
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
"""


def _insert_after(text: str, marker: str, insertion: str) -> str:
    index = text.index(marker) + len(marker)
    return text[:index] + insertion + text[index:]


def test_master_set_goes_after_debian_commented_block():
    expected = _insert_after(DEBIAN_MASTER_HEAD, "#  -o milter_macro_daemon_name=ORIGINATING\n",
                             SUBMISSION_LINES)
    assert master_set_service(DEBIAN_MASTER_HEAD, SUBMISSION) == expected


def test_master_set_goes_after_rhel_commented_block():
    expected = _insert_after(RHEL_MASTER_HEAD, "#  -o smtpd_tls_security_level=encrypt\n",
                             SUBMISSION_LINES)
    assert master_set_service(RHEL_MASTER_HEAD, SUBMISSION) == expected


def test_master_set_appends_without_commented_block():
    text = "smtp      inet  n       -       y       -       -       smtpd\n"
    assert master_set_service(text, SUBMISSION) == text + SUBMISSION_LINES
    assert master_set_service(None, SUBMISSION) == SUBMISSION_LINES


def test_master_set_replaces_entry_with_continuation_lines_and_keeps_comments():
    text = ("smtp      inet  n       -       y       -       -       smtpd\n"
            "submission inet n - n - - smtpd\n"
            "  -o syslog_name=old\n"
            "#  -o smtpd_tls_auth_only=yes\n"
            "\t-o smtpd_sasl_auth_enable=yes\n"
            "pickup    unix  n       -       y       60      1       pickup\n")
    expected = ("smtp      inet  n       -       y       -       -       smtpd\n"
                + SUBMISSION_LINES
                + "#  -o smtpd_tls_auth_only=yes\n"
                "pickup    unix  n       -       y       60      1       pickup\n")
    assert master_set_service(text, SUBMISSION) == expected


def test_master_set_is_idempotent_and_keeps_equivalent_entry_as_written():
    once = master_set_service(DEBIAN_MASTER_HEAD, SUBMISSION)
    assert master_set_service(once, SUBMISSION) == once
    hand_written = ("submission\tinet\tn\t-\ty\t-\t-\tsmtpd -o syslog_name=postfix/submission\n"
                    "    -o smtpd_tls_security_level=encrypt -o smtpd_relay_restrictions=\n"
                    "    -o { smtpd_recipient_restrictions = permit_sasl_authenticated,reject }\n")
    assert master_set_service(hand_written, SUBMISSION) == hand_written


def test_master_set_removes_duplicate_entries():
    text = SUBMISSION_LINES + "x unix - - n - - error\n" + SUBMISSION_LINES.replace("y", "n", 1)
    assert master_set_service(text, SUBMISSION) == SUBMISSION_LINES + "x unix - - n - - error\n"


def test_master_set_matches_name_and_type():
    text = "submission unix - - n - - smtpd\n127.0.0.1:submission inet n - y - - smtpd\n"
    assert master_set_service(text, SUBMISSION) == text + SUBMISSION_LINES


def test_master_remove_service():
    with_it = master_set_service(DEBIAN_MASTER_HEAD, SUBMISSION)
    assert master_remove_service(with_it, "submission", "inet") == DEBIAN_MASTER_HEAD
    assert master_remove_service(DEBIAN_MASTER_HEAD, "submission", "inet") == DEBIAN_MASTER_HEAD
    assert master_remove_service(None, "submission", "inet") == ""
    without_smtp = master_remove_service(DEBIAN_MASTER_HEAD, "smtp", "inet")
    assert without_smtp == DEBIAN_MASTER_HEAD.split("\n", 1)[1]


@pytest.mark.parametrize("text,expected", [
    (DEBIAN_MASTER_HEAD, MasterService("smtp", "inet", "n", "-", "y", "-", "-", "smtpd")),
    ("smtp inet n - y - - smtpd\n  -o a=b\n\n# c\n\t-oc=d -o { e = f g }\n",
     MasterService("smtp", "inet", "n", "-", "y", "-", "-", "smtpd",
                   [("a", "b"), ("c", "d"), ("e", "f g")])),
    ("smtp inet n - y - - smtpd -v -o a=\n",
     MasterService("smtp", "inet", "n", "-", "y", "-", "-", "smtpd", [("a", "")], ["-v"])),
    ("#smtp inet n - y - - smtpd\n", None),
    ("smtp unix n - y - - smtpd\n", None),
])
def test_master_get_service(text, expected):
    assert master_get_service(text, "smtp", "inet") == expected


def test_master_get_service_keeps_pipe_arguments_after_options():
    text = ("maildrop  unix  -       n       n       -       -       pipe\n"
            "  flags=DRXhu user=vmail argv=/usr/bin/maildrop -d ${recipient}\n")
    svc = master_get_service(text, "maildrop", "unix")
    assert svc.command == "pipe" and svc.options == []
    assert svc.args == ["flags=DRXhu", "user=vmail", "argv=/usr/bin/maildrop", "-d",
                        "${recipient}"]
    assert master_set_service(text, svc) == text


def test_master_set_renders_spaces_in_values_with_braces():
    svc = MasterService("submission", "inet", "n", "-", "y", "-", "-", "smtpd",
                        [("smtpd_recipient_restrictions", "permit_sasl_authenticated, reject")],
                        ["-v"])
    text = master_set_service(None, svc)
    assert text == ("submission inet  n       -       y       -       -       smtpd\n"
                    "  -o { smtpd_recipient_restrictions = permit_sasl_authenticated, reject }\n"
                    "  -v\n")
    assert master_get_service(text, "submission", "inet") == svc


@pytest.mark.parametrize("svc", [
    MasterService("submission", "inet", "n", "-", "y", "-", "-", ""),
    MasterService("sub mission", "inet", "n", "-", "y", "-", "-", "smtpd"),
    MasterService("submission", "inet", "n", "-", "y", "-", "-", "smtpd", [("a b", "1")]),
    MasterService("submission", "inet", "n", "-", "y", "-", "-", "smtpd", [("a", "1\n")]),
])
def test_master_set_rejects_unwritable_services(svc):
    with pytest.raises(ValueError):
        master_set_service("", svc)


# ---------------------------------------------------------------------------
# Dovecot

DOVECOT_CONF = """\
# comment: ssl = no
!include_try /usr/share/dovecot/protocols.d/*.protocol
ssl = yes # trailing comment
protocol imap {
  ssl = no
  mail_plugins = $mail_plugins imap_quota
}
service auth {
  unix_listener auth-userdb {
    mode = 0600
  }
  mode = 0
}
mode = top
!include conf.d/*.conf
"""


@pytest.mark.parametrize("text,settings,expected", [
    (DOVECOT_CONF, {"ssl": "required"},
     DOVECOT_CONF.replace("ssl = yes # trailing comment", "ssl = required")),
    (DOVECOT_CONF, {"mode": "1"}, DOVECOT_CONF.replace("mode = top", "mode = 1")),
    (DOVECOT_CONF, {"mode": None}, DOVECOT_CONF.replace("mode = top\n", "")),
    (DOVECOT_CONF, {"auth_mechanisms": "plain login"},
     DOVECOT_CONF + "auth_mechanisms = plain login\n"),
    (DOVECOT_CONF, {"absent": None}, DOVECOT_CONF),
    (None, {"ssl": "required"}, "ssl = required\n"),
    ("  ssl=yes\n", {"ssl": "no"}, "  ssl = no\n"),
    ("a = 1\na = 2\n", {"a": "3"}, "a = 3\na = 3\n"),
    ("a = 1 \\\n  2 \\\n  3\nb = 4\n", {"a": "5"}, "a = 5\nb = 4\n"),
    ("a = 1 \\\n# c\n  2\nb = 4\n", {"a": None}, "# c\nb = 4\n"),
    ("login_greeting = x\n", {"login_greeting": ""}, "login_greeting =\n"),
    ("x {\n  y {\n  }\n  a = 1\n}\n", {"a": "2"}, "x {\n  y {\n  }\n  a = 1\n}\na = 2\n"),
])
def test_dovecot_set(text, settings, expected):
    result = dovecot_set(text, settings)
    assert result == expected
    assert dovecot_set(result, settings) == result


@pytest.mark.parametrize("text,key,expected", [
    (DOVECOT_CONF, "ssl", "yes"),
    (DOVECOT_CONF, "mail_plugins", None),
    (DOVECOT_CONF, "mode", "top"),
    (DOVECOT_CONF, "absent", None),
    (None, "ssl", None),
    ('a = "x # y"\n', "a", "x # y"),
    ("ssl_cert = </etc/ssl/a.pem\n", "ssl_cert", "</etc/ssl/a.pem"),
    ("a = 1\na = 2\n", "a", "2"),
    ("a = 1 \\\n  2\n", "a", "1 2"),
    ("a=\n", "a", ""),
])
def test_dovecot_get(text, key, expected):
    assert dovecot_get(text, key) == expected


@pytest.mark.parametrize("key,value", [("a b", "1"), ("", "1"), ("a", "1\n2"), ("a", "1 \\")])
def test_dovecot_set_rejects_bad_input(key, value):
    with pytest.raises(ValueError):
        dovecot_set("", {key: value})


# ---------------------------------------------------------------------------
# /etc/aliases

ALIASES = """\
# See man 5 aliases for format
postmaster:    root
Root: admin,
\tops
# trailing
"""


@pytest.mark.parametrize("text,name,value,expected", [
    (ALIASES, "root", "alice", ALIASES.replace("Root: admin,\n\tops\n", "root: alice\n")),
    (ALIASES, "postmaster", None, ALIASES.replace("postmaster:    root\n", "")),
    (ALIASES, "abuse", "root", ALIASES + "abuse: root\n"),
    (ALIASES, "ROOT", "admin, ops", ALIASES),
    (None, "root", "alice", "root: alice\n"),
    (None, "root", None, ""),
    ("root: a\nx: y\nroot: b\n", "root", "c", "root: c\nx: y\n"),
    ('"a b": c\n', "a b", "d", '"a b": d\n'),
    ("x: y\n", "a b", "d", 'x: y\n"a b": d\n'),
])
def test_aliases_set(text, name, value, expected):
    result = aliases_set(text, name, value)
    assert result == expected
    assert aliases_set(result, name, value) == result


@pytest.mark.parametrize("text,name,expected", [
    (ALIASES, "root", "admin, ops"),
    (ALIASES, "ROOT", "admin, ops"),
    (ALIASES, "postmaster", "root"),
    (ALIASES, "abuse", None),
    (None, "root", None),
    ("root: a\nroot: b\n", "root", "a"),
    ("# root: a\n", "root", None),
    ('"a b": c\n', "a b", "c"),
])
def test_aliases_get(text, name, expected):
    assert aliases_get(text, name) == expected


@pytest.mark.parametrize("name,value", [("", "a"), ("a\nb", "c"), ("a", "b\nc: d")])
def test_aliases_set_rejects_bad_input(name, value):
    with pytest.raises(ValueError):
        aliases_set("", name, value)


def test_editors_never_write_carriage_returns():
    assert "\r" not in postconf_set(None, {"a": "1"})
    assert "\r" not in master_set_service(None, SUBMISSION)
    assert "\r" not in dovecot_set(None, {"a": "1"})
    assert "\r" not in aliases_set(None, "a", "b")
