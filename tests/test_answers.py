"""Tests of installer/answers/: the answer file contract (docs/answers-v1.md).

Bad files live in tests/answers_bad/; each starts with lines
``# expect: LINE KEYPATH ~ fragment`` (KEYPATH ``-`` for the whole file) naming
errors that must be reported, at that line and key, with that English text.
"""
from __future__ import annotations

import ast
import copy
import json
import random
import re
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from installer import answers, i18n
from installer.answers import AnswerError, AnswerErrors, Answers, DEFAULTS
from installer.i18n import Msg
from installer.root import TargetRoot

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "installer" / "answers.example.yaml"
BAD_DIR = Path(__file__).resolve().parent / "answers_bad"
BAD_FILES = sorted(BAD_DIR.glob("*.yaml"))


ANSWERS_SOURCES = sorted((REPO / "installer" / "answers").glob("*.py"))


def _source_msgids():
    """Every msgid written as N_("...") in installer/answers/ (what a catalog extractor finds)."""
    found = set()
    for path in ANSWERS_SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found |= {node.args[0].value for node in ast.walk(tree)
                  if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "N_"
                  and node.args and isinstance(node.args[0], ast.Constant)}
    return found


MSGIDS = _source_msgids()


def _all_msgs(msg):
    yield msg
    for value in msg.params.values():
        if isinstance(value, Msg):
            yield from _all_msgs(value)


def _errors_of(call, *args, **kwargs):
    with pytest.raises(AnswerErrors) as info:
        call(*args, **kwargs)
    return info.value.errors


def _doc(**sections):
    doc = {"version": 1}
    doc.update(copy.deepcopy(sections))
    return doc


def _set(doc, dotted, value):
    target = doc
    parts = dotted.split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value
    return doc


# --------------------------------------------------------------------------
# The bad-file corpus

def test_corpus_is_large_enough():
    assert len(BAD_FILES) >= 30


@pytest.mark.parametrize("path", BAD_FILES, ids=[p.name for p in BAD_FILES])
def test_bad_file(path):
    raw = path.read_bytes()[:4000]
    header = raw.decode("utf-16") if raw.startswith(b"\xff\xfe") else raw.decode("latin-1")
    expected = re.findall(r"^# expect: (\d+) (\S+) ~ (.*)$", header, re.M)
    assert expected, "the file names the errors it expects"
    errors = _errors_of(answers.load, path)
    for error in errors:
        assert error.file == str(path)
        assert isinstance(error.line, int) and error.line >= 1, error
        assert isinstance(error.message, Msg)
        for msg in _all_msgs(error.message):
            assert msg.msgid in MSGIDS, "not marked with N_(): %r" % msg.msgid
        for lang in ("en", "ja"):
            text = error.render(lang)
            assert text.startswith("%s:%d: " % (path, error.line))
            assert text.isprintable(), "control characters reach the terminal: %r" % text
    got = [(str(e.line), e.key_path or "-", e.message.render("en")) for e in errors]
    for line, key, fragment in expected:
        assert any(g[0] == line and g[1] == key and fragment in g[2] for g in got), (
            "missing %s:%s ~ %s in\n%s" % (line, key, fragment, "\n".join(map(str, got))))


def test_alias_bomb_fails_fast():
    levels = ["a: &a [" + ",".join(['"lol"'] * 20) + "]"]
    for index in range(1, 20):
        prev, name = chr(ord("a") + index - 1), chr(ord("a") + index)
        levels.append("%s: &%s [%s]" % (name, name, ",".join(["*" + prev] * 20)))
    text = "version: 1\n" + "\n".join(levels) + "\n"
    started = time.perf_counter()
    errors = _errors_of(answers.loads, text)
    assert time.perf_counter() - started < 1.0
    assert any("alias" in e.message.render("en") for e in errors)


def test_errors_are_sorted_by_line_and_capped():
    text = "version: 1\n" + "".join("unknown_%d: 1\n" % i for i in range(300))
    errors = _errors_of(answers.loads, text)
    lines = [e.line for e in errors if e.line is not None]
    assert lines == sorted(lines)
    assert len(errors) == answers.MAX_ERRORS + 1
    assert "too many errors" in errors[-1].message.render("en")


# --------------------------------------------------------------------------
# The example and the defaults

def test_example_is_valid_and_equals_the_defaults():
    result = answers.load(EXAMPLE)
    assert isinstance(result, Answers) and isinstance(result, dict)
    assert result.warnings == []
    assert result.source == str(EXAMPLE)
    expected = copy.deepcopy(DEFAULTS)
    expected["language"] = "en"
    assert dict(result) == expected
    assert result["postfix"]["hostname"] == "mail.example.com"
    assert result["postfix"]["networks"] == ["127.0.0.0/8"]
    assert result["relayhost"] is None and result["aliases"]["root"] is None
    assert len(result["spam"]["access"]) == 1


def test_defaults_follow_the_spec_order_and_values():
    assert list(DEFAULTS) == ["version", "language", "system", "postfix", "auth", "relayhost", "dovecot",
                              "aliases", "spam", "services", "verify", "dkim", "dmarc"]
    assert DEFAULTS["version"] == 1 and DEFAULTS["language"] == "ja"
    assert DEFAULTS["postfix"]["destinations"] == ["$myhostname", "localhost.$mydomain", "localhost", "$mydomain"]
    assert DEFAULTS["postfix"]["message_size_limit_mb"] == 10
    assert DEFAULTS["auth"]["tls"] == {"certificate": "self-signed", "cert_file": None, "key_file": None,
                                       "acme": {"email": None, "directory": None}}
    assert DEFAULTS["dkim"] == {"enabled": False, "selector": None}
    assert DEFAULTS["dmarc"] == {"policy": "none", "rua": None}
    assert DEFAULTS["dovecot"]["protocols"] == ["imap", "pop3", "lmtp"]
    assert DEFAULTS["spam"]["helo"] == ["reject_invalid_helo_hostname", "reject_non_fqdn_helo_hostname"]


def test_minimal_file_takes_defaults_with_warnings():
    result = answers.loads("version: 1\n")
    assert dict(result) == DEFAULTS
    texts = [str(w) for w in result.warnings]
    assert any("postfix.hostname" in t and "mail.example.com" in t for t in texts)


def test_defaults_are_not_shared_between_results():
    first = answers.loads("version: 1\n")
    first["postfix"]["networks"].append("10.0.0.0/8")
    assert answers.loads("version: 1\n")["postfix"]["networks"] == ["127.0.0.0/8"]
    assert DEFAULTS["postfix"]["networks"] == ["127.0.0.0/8"]


def test_answers_copy_and_pickle_keep_warnings():
    import pickle
    result = answers.loads("version: 1\nspam: {rbl: [zen.spamhaus.org]}\n")
    for clone in (copy.deepcopy(result), pickle.loads(pickle.dumps(result))):
        assert isinstance(clone, Answers) and clone == result
        assert clone.warnings == result.warnings and clone.source == result.source


def test_validate_data_accepts_the_wizard_dict_and_its_own_output():
    result = answers.validate_data(copy.deepcopy(DEFAULTS))
    assert dict(answers.validate_data(result)) == dict(result)


def test_load_missing_file_is_an_answer_error(tmp_path):
    errors = _errors_of(answers.load, tmp_path / "nope.yaml")
    assert errors[0].file == str(tmp_path / "nope.yaml")
    errors = _errors_of(answers.load, tmp_path)      # a folder
    assert len(errors) == 1


# --------------------------------------------------------------------------
# Values, table-driven: (key, value, None for valid or a fragment of the error)

VALUE_CASES = [
    ("postfix.hostname", "mail.example.com", None),
    ("postfix.hostname", "MX-1.Example.co.jp", None),
    ("postfix.hostname", "mail", "not fully qualified"),
    ("postfix.hostname", "mail.example.com.", "trailing dot"),
    ("postfix.hostname", "-mail.example.com", "must not start or end with a hyphen"),
    ("postfix.hostname", "mail..example.com", "empty label"),
    ("postfix.hostname", "192.0.2.1", "looks like an IP address"),
    ("postfix.hostname", "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + ".com", "253"),
    ("postfix.hostname", "mail.example.com #x", "letters, digits and hyphens"),
    ("postfix.hostname", " mail.example.com", "spaces at the start or end"),
    ("postfix.hostname", "", "must not be empty"),
    ("postfix.hostname", 42, "found a number"),
    ("postfix.hostname", None, "found null"),
    ("postfix.domain", "example.com", None),
    ("postfix.domain", "localdomain", "not fully qualified"),
    ("postfix.origin", "$myhostname", None),
    ("postfix.origin", "example.org", None),
    ("postfix.origin", "${mydomain}", "expected $mydomain"),
    ("postfix.inet_interfaces", "loopback-only", None),
    ("postfix.inet_interfaces", ["192.0.2.25", "::1"], None),
    ("postfix.inet_interfaces", [], "must not be empty"),
    ("postfix.inet_interfaces", ["mail.example.com"], "not an IP address"),
    ("postfix.inet_interfaces", ["fe80::1%eth0"], "not an IP address"),
    ("postfix.inet_interfaces", "::1", "written as a list"),
    ("postfix.destinations", ["$myhostname", "localhost.$mydomain", "mail.example.org"], None),
    ("postfix.destinations", [], None),
    ("postfix.destinations", ["$mynetworks"], "may use $"),
    ("postfix.destinations", ["a.example", "a.example"], "listed twice"),
    ("postfix.networks", ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7"], None),
    ("postfix.networks", ["203.0.113.0/24", "198.51.0.0/16", "2001:db8::/32"], None),
    ("postfix.networks", [], None),
    ("postfix.networks", ["0.0.0.0/1"], "trusts too much"),
    ("postfix.networks", ["10.0.0.0/7"], "trusts too much"),
    ("postfix.networks", ["198.0.0.0/15"], "trusts too much"),
    ("postfix.networks", ["2000::/3"], "trusts too much"),
    ("postfix.networks", ["fc00::/6"], "trusts too much"),
    ("postfix.networks", ["10.1.2.3/8"], "did you mean 10.0.0.0/8"),
    ("postfix.networks", ["::1"], "::1/128"),
    ("postfix.networks", ["127.0.0.0/33"], "not a network"),
    ("postfix.networks", ["127.0.0.0/8,0.0.0.0/0"], "not a network"),
    ("postfix.networks", ["127.0.0.0/8 0.0.0.0/0"], "not a network"),
    ("postfix.networks", "127.0.0.0/8", "write [127.0.0.0/8]"),
    ("postfix.relay_domains", ["example.org"], None),
    ("postfix.relay_domains", ["example.org, evil.example"], "letters, digits and hyphens"),
    ("postfix.home_mailbox", "Maildir/", None),
    ("postfix.home_mailbox", "Mailbox", None),
    ("postfix.home_mailbox", "mail/inbox", None),
    ("postfix.home_mailbox", "../root/", "without . or .."),
    ("postfix.home_mailbox", "Maildir//", "without . or .."),
    ("postfix.home_mailbox", "Mail dir/", "not valid here"),
    ("postfix.banner", "$myhostname ESMTP", None),
    ("postfix.banner", "$myhostname ESMTP ready (example.com)", None),
    ("postfix.banner", "$myhostname ESMTP $mydomain", None),
    ("postfix.banner", "ESMTP $myhostname", "must start with $myhostname"),
    ("postfix.banner", "$myhostnamefoo ESMTP", "must start with $myhostname"),
    ("postfix.banner", "$myhostname ESMTP $mail_name", "must not name the mail software"),
    ("postfix.banner", "$myhostname ESMTP POSTFIX", "must not name the mail software"),
    ("postfix.banner", "$myhostname ESMTP $mynetworks", "not valid here"),
    ("postfix.banner", "$myhostname ESMTP ${x}", "not valid here"),
    ("postfix.message_size_limit_mb", 1, None),
    ("postfix.message_size_limit_mb", 1024, None),
    ("postfix.message_size_limit_mb", 0, "out of range"),
    ("postfix.message_size_limit_mb", -5, "out of range"),
    ("postfix.message_size_limit_mb", 10.5, "found a decimal number"),
    ("postfix.message_size_limit_mb", "10", "found text"),
    ("auth.sasl", 1, "expected true or false"),
    ("auth.tls.certificate", "letsencrypt", "one of self-signed, existing, acme, none"),
    ("relayhost", {"host": "[smtp.example.net]:587", "username": "user@example.net",
                   "password_env": "MAILWIZ_RELAY_PASSWORD"}, None),
    ("relayhost", {"host": "smtp.example.net"}, None),
    ("relayhost", {"host": "[192.0.2.1]:25"}, None),
    ("relayhost", {"host": "[2001:db8::1]:587"}, None),
    ("relayhost", {"host": "192.0.2.1:25"}, "[192.0.2.1]:25"),
    ("relayhost", {"host": "[smtp.example.net]:0"}, "out of range"),
    ("relayhost", {"host": "smtp.example.net:587 extra"}, "not a relay host"),
    ("relayhost", {"host": "[smtp]:587"}, "not fully qualified"),
    ("relayhost", {"username": "user"}, "required"),
    ("relayhost", {"host": "smtp.example.net", "password_env": "RELAY_PW"}, "needs a user name"),
    ("relayhost", {"host": "smtp.example.net", "username": "u:p"}, "not valid here"),
    ("relayhost", {"host": "smtp.example.net", "password_env": "lower"}, "environment variable"),
    ("relayhost", "smtp.example.net", "found text"),
    ("dovecot.protocols", ["imap"], None),
    ("dovecot.protocols", ["lmtp", "pop3"], None),
    ("dovecot.protocols", ["IMAP"], "did you mean imap"),
    ("dovecot.listen", ["*", "::"], None),
    ("dovecot.listen", ["192.0.2.10"], None),
    ("dovecot.listen", [], "must not be empty"),
    ("dovecot.listen", ["any"], "not \"*\""),
    ("dovecot.mail_location", "maildir:~/Maildir", None),
    ("dovecot.mail_location", "mdbox:/srv/mail/%d/%n", None),
    ("dovecot.mail_location", "maildir:~/../Maildir", "no .. parts"),
    ("dovecot.mail_location", "maildir:~/Mail%{user}", "only %u"),
    ("dovecot.mail_location", "Maildir", "not valid here"),
    ("aliases.root", "admin@example.com", None),
    ("aliases.root", "alice", None),
    ("aliases.root", "root", "root itself"),
    ("aliases.root", "/var/log/root-mail", "neither a mail address"),
    ("aliases.root", ":include:/etc/evil", "neither a mail address"),
    ("aliases.root", "alice, bob", "neither a mail address"),
    ("aliases.root", "alice@", "not a mail address"),
    ("spam.access", [{"key": "spammer.example", "action": "REJECT"},
                     {"key": ".spam.example", "action": "DISCARD"},
                     {"key": "bad@example.net", "action": "REJECT no thanks"},
                     {"key": "postmaster@", "action": "OK"},
                     {"key": "192.0.2.1", "action": "550 5.7.1 go away"},
                     {"key": "198.51.100.0/24", "action": "HOLD"},
                     {"key": "2001:db8::/32", "action": "DUNNO"},
                     {"key": "10.0.0.0/8", "action": "OK"},
                     {"key": "ham.example", "action": "WARN looks odd"}], None),
    ("spam.access", [{"key": "0.0.0.0/0", "action": "REJECT"}], None),
    ("spam.access", [{"key": "0.0.0.0/0", "action": "OK"}], "trusts too much"),
    ("spam.access", [{"key": "spammer.example"}], "required"),
    ("spam.access", [{"key": "spammer.example", "action": "REJECT", "note": "x"}], "unknown key"),
    ("spam.access", [{"key": "spammer.example", "action": "OK go"}], "takes no text"),
    ("spam.access", [{"key": "spammer.example", "action": "550"}], "needs a text"),
    ("spam.access", [{"key": "spammer.example", "action": "REJECT a#b"}], "not valid here"),
    ("spam.access", [{"key": "spammer.example", "action": "REJECT ${x}"}], "not valid here"),
    ("spam.access", [{"key": "spam mer.example", "action": "REJECT"}], "letters, digits"),
    ("spam.access", [{"key": "192.0.2.1/24", "action": "REJECT"}], "host bits"),
    ("spam.access", [{"key": "192.0.2", "action": "REJECT"}], "CIDR"),
    ("spam.access", [], None),
    ("spam.client", ["reject_unknown_client_hostname", "reject_unknown_reverse_client_hostname"], None),
    ("spam.client", ["reject_unknown_client"], "write reject_unknown_client_hostname"),
    ("spam.client", ["reject_unauth_destination"], "writes the relay rules"),
    ("spam.client", ["permit_sasl_authenticated"], "writes the relay rules"),
    ("spam.client", ["check_client_access hash:/etc/postfix/access"], "spam.access"),
    ("spam.helo", ["reject_unknown_helo_hostname"], None),
    ("spam.helo", ["reject_invalid_hostname"], "write reject_invalid_helo_hostname"),
    ("spam.sender", ["reject_unlisted_sender"], None),
    ("spam.sender", ["reject_unknown_sender_domian"], "did you mean reject_unknown_sender_domain"),
    ("spam.sender", ["reject_non_fqdn_recipient"], "belongs in spam.recipient"),
    ("spam.recipient", ["reject_unauth_pipelining", "reject_unknown_recipient_domain"], None),
    ("spam.recipient", ["frobnicate"], "not a restriction mailwiz knows"),
    ("spam.rbl", ["zen.spamhaus.org", "bl.spamcop.net"], None),
    ("spam.rbl", ["dnsbl.sorbs.net"], "must not be used"),
    ("spam.rbl", ["combined.njabl.org"], "must not be used"),
    ("spam.rbl", ["dnsbl.ahbl.org"], "must not be used"),
    ("spam.rbl", ["zen"], "not fully qualified"),
    ("services.start", "true", "expected true or false"),
    ("verify", None, "expected true or false"),
    ("language", "EN", "did you mean en"),
    ("system.existing_mta", "alternatives", None),
]


@pytest.mark.parametrize("key,value,problem", VALUE_CASES,
                         ids=["%s=%s" % (k, str(v)[:30]) for k, v, _ in VALUE_CASES])
def test_value(key, value, problem):
    doc = _set(_doc(postfix={"hostname": "mail.example.com", "domain": "example.com"}), key, value)
    if problem is None:
        result = answers.validate_data(doc)
        assert _schema_problems(dict(result)) == []
        return
    errors = _errors_of(answers.validate_data, doc)
    assert any(e.key_path.startswith(key) and problem in e.message.render("en") for e in errors), (
        [e.render("en") for e in errors])


def test_networks_are_normalised_to_plain_cidr():
    result = answers.validate_data(_doc(postfix={"networks": ["[::1]/128", "2001:DB8::/32"]}))
    assert result["postfix"]["networks"] == ["::1/128", "2001:db8::/32"]


def test_every_text_value_refuses_line_breaks_and_control_characters():
    """Whatever the key, a value must not be able to break out of its line or its parameter."""
    keys = ["postfix.hostname", "postfix.domain", "postfix.origin", "postfix.home_mailbox", "postfix.banner",
            "dovecot.mail_location", "aliases.root", "auth.tls.cert_file"]
    for key in keys:
        for bad in ("\n", "\r", "\x00", "\x1b", "\u2028", "\x85", "\t"):
            doc = _set(_doc(), key, "$myhostname x" + bad + "smtpd_client_restrictions = permit")
            errors = _errors_of(answers.validate_data, doc)
            assert any(e.key_path == key for e in errors), (key, repr(bad))
            for error in errors:
                assert error.render("en").isprintable()
    for key, item in (("postfix.networks", "127.0.0.0/8\nx"), ("postfix.destinations", "a.example\nb"),
                      ("spam.rbl", "zen.spamhaus.org\nx"), ("dovecot.listen", "*\n"),
                      ("spam.recipient", "reject_non_fqdn_recipient\npermit")):
        errors = _errors_of(answers.validate_data, _set(_doc(), key, [item]))
        assert any(e.key_path == key + "[0]" for e in errors), key


# --------------------------------------------------------------------------
# Secrets

def test_password_key_is_refused_and_its_value_never_shown():
    secret = "hunter2-do-not-print"
    text = ("version: 1\nrelayhost:\n  host: smtp.example.net\n  username: u\n  password: %s\n"
            "spam:\n  PassWord: %s\n" % (secret, secret))
    with pytest.raises(AnswerErrors) as info:
        answers.loads(text)
    rendered = answers.format_errors(info.value.errors) + str(info.value)
    assert secret not in rendered
    keys = {e.key_path for e in info.value.errors}
    assert {"relayhost.password", "spam.PassWord"} <= keys
    assert all("password_env" in e.message.render("en") for e in info.value.errors)


def test_dump_never_writes_secrets_or_unknown_keys():
    data = copy.deepcopy(DEFAULTS)
    data["relayhost"] = {"host": "smtp.example.net", "username": "u", "password_env": "RELAY_PW",
                         "password": "hunter2"}
    data["extra"] = {"password": "hunter2"}
    text = answers.dump(data)
    assert "hunter2" not in text and "password:" not in text and "extra" not in text
    assert "password_env: RELAY_PW" in text


# --------------------------------------------------------------------------
# Rules between keys, warnings, profile and target root

def test_rules_between_keys():
    cases = [
        (dict(auth={"sasl": False, "submission": True}), "auth.submission", "needs SMTP AUTH"),
        (dict(auth={"tls": {"certificate": "none"}}), "auth.tls.certificate", "need TLS"),
        (dict(postfix={"relay_domains": ["localhost"]}), "postfix.relay_domains[0]", "not both"),
        (dict(postfix={"hostname": "mx.example.org", "relay_domains": ["mx.example.org"]}),
         "postfix.relay_domains[0]", "not both"),
    ]
    for sections, key, fragment in cases:
        errors = _errors_of(answers.validate_data, _doc(**sections))
        assert any(e.key_path == key and fragment in e.message.render("en") for e in errors), sections
    # TLS none is fine when nothing needs it.
    answers.validate_data(_doc(auth={"sasl": False, "submission": False, "tls": {"certificate": "none"}}))


def test_warnings_are_not_errors():
    result = answers.validate_data(_doc(
        postfix={"hostname": "mail.example.com", "domain": "example.org"},
        auth={"tls": {"certificate": "self-signed", "cert_file": "/etc/ssl/x.pem"}},
        dovecot={"mail_location": "maildir:~/Mail"},
        spam={"rbl": ["all.rbl.jp", "zen.spamhaus.org"], "helo_required": False},
        services={"start": False},
    ))
    texts = [m.render("en") for m in result.warnings]
    assert all(isinstance(m, Msg) for m in result.warnings)
    for fragment in ("not inside the domain", "used only with certificate: existing", "users will not see",
                     "all.rbl.jp", "public DNS resolvers", "skip HELO", "self-test is skipped"):
        assert any(fragment in t for t in texts), fragment
    assert any(t.startswith("answers: spam.rbl[0]: ") for t in texts)
    for msg in result.warnings:
        assert all(m.msgid in MSGIDS for m in _all_msgs(msg))
        assert msg.render("ja")


def test_existing_mta_alternatives_depends_on_the_profile():
    doc = _doc(system={"existing_mta": "alternatives"})
    debian = SimpleNamespace(id="debian-12", mta_switch="none")
    rocky = SimpleNamespace(id="rocky-9", mta_switch="alternatives")
    errors = _errors_of(answers.validate_data, doc, profile=debian)
    assert errors[0].key_path == "system.existing_mta" and "debian-12" in errors[0].message.render("en")
    answers.validate_data(doc, profile=rocky)
    answers.validate_data(doc)                      # no profile: nothing to check against
    answers.validate_data(_doc(), profile=debian)   # remove is fine everywhere


def _key_and_certificate(hostname: str) -> bytes:
    """One PEM file with a key and its self-signed certificate for *hostname*."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=90))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), False).sign(key, hashes.SHA256()))
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()) + cert.public_bytes(serialization.Encoding.PEM)


def test_existing_certificate_files_are_checked_on_the_target(tmp_path):
    root = TargetRoot(str(tmp_path))
    (tmp_path / "etc" / "ssl").mkdir(parents=True)
    (tmp_path / "etc" / "ssl" / "mail.pem").write_bytes(_key_and_certificate("mail.example.com"))
    (tmp_path / "etc" / "ssl" / "key.d").mkdir()
    text = ("version: 1\nauth:\n  tls:\n    certificate: existing\n    cert_file: /etc/ssl/mail.pem\n"
            "    key_file: %s\n")
    answers.loads(text % "/etc/ssl/mail.pem", root=root)
    errors = _errors_of(answers.loads, text % "/etc/ssl/missing.key", root=root)
    assert [(e.line, e.key_path) for e in errors] == [(6, "auth.tls.key_file")]
    assert "does not exist" in errors[0].message.render("en")
    errors = _errors_of(answers.loads, text % "/etc/ssl/key.d", root=root)
    assert "folder" in errors[0].message.render("en")
    errors = _errors_of(answers.loads, text % "/etc/../../etc/passwd", root=root)
    assert "no . or .. parts" in errors[0].message.render("en")
    answers.loads(text % "/etc/ssl/missing.key")    # without a root, paths are only checked for form


# --------------------------------------------------------------------------
# --set KEY=VALUE

def test_apply_override_sets_scalars_lists_and_null():
    data = copy.deepcopy(DEFAULTS)
    out = answers.apply_override(data, "postfix.hostname=mx2.example.com")
    assert out["postfix"]["hostname"] == "mx2.example.com"
    assert data["postfix"]["hostname"] == "mail.example.com", "the input is not changed"
    out = answers.apply_override(out, "postfix.networks=[127.0.0.0/8, 192.168.0.0/16]")
    assert out["postfix"]["networks"] == ["127.0.0.0/8", "192.168.0.0/16"]
    out = answers.apply_override(out, "postfix.message_size_limit_mb=25")
    assert out["postfix"]["message_size_limit_mb"] == 25
    out = answers.apply_override(out, "services.start=false")
    assert out["services"]["start"] is False
    out = answers.apply_override(out, "relayhost.host=[smtp.example.net]:587")
    assert out["relayhost"] == {"host": "[smtp.example.net]:587"}
    out = answers.apply_override(out, "relayhost=null")
    assert out["relayhost"] is None
    out = answers.apply_override(out, "aliases.root='admin@example.com'")
    assert out["aliases"]["root"] == "admin@example.com"
    answers.validate_data(out)


def test_apply_override_errors():
    cases = [
        ("postfix.hostnme=x.example.com", "did you mean postfix.hostname"),
        ("hostname=x.example.com", "did you mean postfix.hostname"),
        ("relayhost.password=hunter2", "password_env"),
        ("postfix.networks.0=10.0.0.0/8", "set it whole"),
        ("postfix.hostname", "KEY=VALUE"),
        ("=x", "KEY=VALUE"),
        ("postfix.networks=[a, b", "not valid YAML"),
        ("postfix.networks=[a, &x b]", "anchors"),
        ("postfix.networks=[*x]", "alias"),
    ]
    for assignment, fragment in cases:
        errors = _errors_of(answers.apply_override, copy.deepcopy(DEFAULTS), assignment)
        assert errors[0].file == "--set"
        assert fragment in errors[0].render("en"), (assignment, errors[0].render("en"))
        assert "hunter2" not in errors[0].render("en")


def test_load_with_overrides_reports_the_override_as_the_source():
    result = answers.load(EXAMPLE, overrides=["postfix.hostname=mx2.example.com", "language=ja"])
    assert result["postfix"]["hostname"] == "mx2.example.com" and result["language"] == "ja"
    errors = _errors_of(answers.load, EXAMPLE, overrides=["postfix.networks=[0.0.0.0/0]"])
    assert [(e.file, e.line, e.key_path) for e in errors] == [("--set", None, "postfix.networks[0]")]
    assert errors[0].render("en").startswith("--set: postfix.networks[0]: ")
    errors = _errors_of(answers.load, EXAMPLE, overrides=["postfix.hostnme=a.example.com"])
    assert errors[0].key_path == "postfix.hostnme"


# --------------------------------------------------------------------------
# dump

def test_dump_round_trips_in_spec_order():
    loaded = answers.load(EXAMPLE)
    text = answers.dump(loaded)
    assert text.startswith("# mailwiz answer file")
    again = answers.loads(text)
    assert dict(again) == dict(loaded) and again.warnings == []
    top_keys = [line.split(":")[0] for line in text.splitlines() if re.match(r"[a-z]", line)]
    assert top_keys == list(DEFAULTS)
    assert answers.dump(again) == text, "stable"


def test_dump_round_trips_unusual_values():
    data = answers.validate_data(_doc(
        language="en",
        postfix={"hostname": "mail.example.com", "domain": "example.com", "inet_interfaces": ["::1", "127.0.0.1"],
                 "networks": ["[::1]/128", "10.0.0.0/8"], "banner": "$myhostname ESMTP: ready, go!"},
        relayhost={"host": "[smtp.example.net]:587", "username": "user@example.net", "password_env": "RELAY_PW"},
        aliases={"root": "admin@example.com"},
        spam={"access": [{"key": "192.0.2.0/24", "action": "554 5.7.1 no"}], "rbl": ["zen.spamhaus.org"]},
    ))
    again = answers.loads(answers.dump(data))
    assert dict(again) == dict(data)


# --------------------------------------------------------------------------
# JSON Schema

def test_committed_schema_is_up_to_date():
    committed = (REPO / "installer" / "answers.schema.json").read_text(encoding="utf-8")
    assert committed == answers.schema_json(), (
        "run: python -c 'from installer.answers import write_schema; write_schema()'")


def test_schema_is_draft_2020_12_and_closed():
    doc = answers.schema()
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert doc["required"] == ["version"] and doc["additionalProperties"] is False
    assert list(doc["properties"]) == list(DEFAULTS)
    json.loads(answers.schema_json())


def _published_schema() -> dict:
    return json.loads((REPO / "installer" / "answers.schema.json").read_text(encoding="utf-8"))


def _schema_problems(value) -> list:
    """Where *value* breaks the published JSON Schema, as the jsonschema package (draft 2020-12) says."""
    import jsonschema
    validator = jsonschema.Draft202012Validator(_published_schema())
    return ["%s: %s" % ("/".join(map(str, error.absolute_path)) or "$", error.message)
            for error in validator.iter_errors(value)]


def test_published_schema_is_a_valid_draft_2020_12_schema():
    import jsonschema
    jsonschema.Draft202012Validator.check_schema(_published_schema())


def test_example_and_its_dump_pass_the_schema():
    import yaml
    raw = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert _schema_problems(raw) == []
    loaded = answers.load(EXAMPLE)
    assert _schema_problems(dict(loaded)) == []
    assert _schema_problems(yaml.safe_load(answers.dump(loaded))) == []
    assert _schema_problems(DEFAULTS) == []


def test_schema_checker_can_fail():
    for bad in ({"version": 2}, {}, {"version": 1, "hostname": "x"}, {"version": 1, "verify": "yes"},
                {"version": 1, "postfix": {"networks": "127.0.0.0/8"}},
                {"version": 1, "postfix": {"hostname": "mail\nx"}},
                {"version": 1, "dovecot": {"protocols": []}},
                {"version": 1, "postfix": {"message_size_limit_mb": True}},
                {"version": 1, "relayhost": {"username": "u"}}):
        assert _schema_problems(bad), bad


# --------------------------------------------------------------------------
# Robustness: no input produces anything but Answers or AnswerErrors

def _must_not_crash(text):
    try:
        result = answers.loads(text)
        assert isinstance(result, Answers)
        return None
    except AnswerErrors as exc:
        assert exc.errors
        for error in exc.errors:
            rendered = error.render("en")
            assert "\n" not in rendered and "\x1b" not in rendered
            error.render("ja")
        return exc.errors


def test_fuzz_random_bytes():
    rng = random.Random(20240501)
    for _ in range(400):
        size = rng.choice([0, 1, 2, 5, 20, 100, 1000])
        _must_not_crash(bytes(rng.randrange(256) for _ in range(size)))


def test_fuzz_truncated_and_mutated_example():
    text = EXAMPLE.read_text(encoding="utf-8")
    for cut in range(0, len(text), 7):
        _must_not_crash(text[:cut])
    rng = random.Random(7)
    alphabet = "\n\t :-[]{}&*!|>'\"#%@`,?0123456789abcxyz\\\x00\x1b\u3042"
    for _ in range(600):
        chars = list(text)
        for _ in range(rng.randint(1, 6)):
            position = rng.randrange(len(chars))
            action = rng.random()
            if action < 0.4:
                chars[position] = rng.choice(alphabet)
            elif action < 0.7:
                del chars[position]
            else:
                chars.insert(position, rng.choice(alphabet))
        _must_not_crash("".join(chars))


def test_fuzz_structures():
    rng = random.Random(11)
    scalars = ["1", "-1", "0x1F", "1e400", "9" * 5000, ".inf", ".nan", "~", "null", "yes", "no", "on",
               "2024-01-01", "'q'", '"\\x00"', '"\\u2028"', "!!binary aGk=", "!!set {a}", "!!omap [a: 1]",
               "!!int x", "!!float y", "!!bool maybe", "!!timestamp 2001-12-14", "<<", "=", "&a x", "*a",
               "!local x", "? complex", "[1, [2, [3]]]", "{a: {b: {c: d}}}"]
    keys = ["version", "postfix", "hostname", "networks", "spam", "access", "key", "action", "1", "true", "null",
            "'password'", "[a]", "{a: b}", "? [x]", "<<", "relayhost", "host"]
    for _ in range(500):
        lines = []
        for _ in range(rng.randint(1, 8)):
            indent = "  " * rng.randint(0, 3)
            if rng.random() < 0.3:
                lines.append("%s- %s" % (indent, rng.choice(scalars)))
            else:
                lines.append("%s%s: %s" % (indent, rng.choice(keys), rng.choice(scalars + [""])))
        if rng.random() < 0.5:
            lines.insert(0, "version: 1")
        _must_not_crash("\n".join(lines) + "\n")


def test_deep_nesting_and_big_inputs():
    for text in ("x: " + "[" * 5000 + "]" * 5000, "x: " + "{a: " * 3000 + "1" + "}" * 3000,
                 "[" * 100000, "- " * 20000 + "x", "version: 1\n" + "k: v\n" * 20000,
                 "version: 1\nx: '" + "a" * 200000 + "'\n", "version: 1\n" + "#" * (answers.MAX_BYTES + 10)):
        started = time.perf_counter()
        assert _must_not_crash(text)
        assert time.perf_counter() - started < 2.0


def test_surrogates_and_odd_unicode_do_not_crash():
    _must_not_crash("version: 1\npostfix:\n  hostname: \udcff.example.com\n")
    _must_not_crash("\ufeffversion: 1\n")
    _must_not_crash("version: 1\nlanguage: \ud800\n")
    errors = _errors_of(answers.validate_data, {"version": 1}, overrides=["postfix.hostname=\ud800.example.com"])
    assert [(e.file, e.key_path) for e in errors] == [("--set", "postfix.hostname")]
    assert errors[0].render("en").isprintable()
    _must_not_crash("version: 1\nlanguage: en\u202e\n")
    assert answers.loads("\ufeffversion: 1\n")["version"] == 1


# --------------------------------------------------------------------------
# Messages and languages

def test_format_errors_shape():
    errors = _errors_of(answers.loads, "version: 1\npostfix:\n  networks:\n    - 127.0.0.0/8\n    - 0.0.0.0/0\n")
    text = answers.format_errors(errors, "en")
    assert text.startswith("answers.yaml:5: postfix.networks[1]: ")
    assert answers.format_errors([AnswerError("f.yaml", None, "", Msg("x"))]) == "f.yaml: x"


def test_messages_render_in_japanese_and_use_the_catalog(monkeypatch):
    errors = _errors_of(answers.loads, "version: 1\npostfix:\n  hostnme: x\n  networks: [0.0.0.0/0]\n")
    # Without a catalog entry a message falls back to English.
    monkeypatch.setitem(i18n._catalogs, "ja", {})
    for error in errors:
        assert error.message.render("ja") == error.message.render("en")
    # With a catalog, every message (and its nested messages) goes through it, placeholders intact.
    fake = {msgid: "JA[" + msgid + "]" for msgid in MSGIDS}
    monkeypatch.setitem(i18n._catalogs, "ja", fake)
    for error in errors:
        rendered = error.message.render("ja")
        assert rendered.startswith("JA[") and "{" not in rendered.replace("{a", "")
    assert answers.format_errors(errors, "ja").count("JA[") >= len(errors)


def test_msgids_have_placeholders_that_match_their_params():
    """Each N_() msgid names only placeholders its Msg() call passes: a translation can rely on them."""
    trees = [ast.parse(path.read_text(encoding="utf-8")) for path in ANSWERS_SOURCES]
    for node in (node for tree in trees for node in ast.walk(tree)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Msg" and node.args \
                and isinstance(node.args[0], ast.Call) and getattr(node.args[0].func, "id", None) == "N_":
            msgid = node.args[0].args[0].value
            names = set(re.findall(r"\{(\w+)\}", msgid))
            given = {kw.arg for kw in node.keywords}
            assert names == given, (msgid, names, given)


# --------------------------------------------------------------------------
# Cost

def test_import_is_light():
    code = ("import sys, installer.answers; "
            "print(sorted(m for m in ('yaml', 'textual', 'difflib', 'json') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=str(REPO), capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_load_of_the_example_is_fast():
    answers.load(EXAMPLE)       # first use imports yaml
    best = min(_timed(lambda: answers.load(EXAMPLE)) for _ in range(5))
    assert best < 0.05


def _timed(fn):
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started
