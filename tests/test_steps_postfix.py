"""The Postfix steps (postfix, tls, sasl, relayhost, aliases, spam): facts and
answers in, exact main.cf parameters, master.cf entries, files and commands out,
per profile family and Postfix release (2.6 CentOS 6, 2.10 CentOS 7, 3.5, 3.7,
3.8, 3.10), plus an open-relay regression over every profile."""
from __future__ import annotations

import re

import pytest

from installer import confedit, profiles, stockfiles
from installer.actions import AliasSet, FileAction, MasterService, PostconfSet, RunCommand, WriteFile
from steps import aliases, postfix, relayhost, sasl, spam, tls
from tests.stepkit import answers_with, facts_for, plan_of, step_input

ALL_PROFILES = sorted(profiles.PROFILES)
MY_STEPS = [postfix, tls, sasl, relayhost, aliases, spam]      # in steps.ORDER order
SECRETS = {"relay_password": "s3cret pass"}
RELAY = {"host": "[smtp.example.net]:587", "username": "mailer", "password_env": "RELAY_PW"}

# One profile per Postfix release the steps distinguish.
BY_VERSION = {
    (2, 6): "centos-6", (2, 10): "centos-7", (3, 5): "rocky-9", (3, 7): "debian-12",
    (3, 8): "ubuntu-24.04", (3, 10): "debian-13",
}

RHEL_CERT, RHEL_KEY = "/etc/pki/tls/certs/mailwiz.pem", "/etc/pki/tls/private/mailwiz.key"
DEB_CERT, DEB_KEY = "/etc/ssl/certs/mailwiz.pem", "/etc/ssl/private/mailwiz.key"


def postconf_params(actions):
    """The params of the one PostconfSet in *actions* ({} when there is none)."""
    sets = [a for a in actions if isinstance(a, PostconfSet)]
    assert len(sets) <= 1
    for action in sets:
        assert action.path == "/etc/postfix/main.cf"
    return sets[0].params if sets else {}


def commands(actions):
    return [(a.argv, a.run_if, a.watch, a.changes) for a in actions if isinstance(a, RunCommand)]


def final_files(profile_id, answers, facts=None, secrets=SECRETS):
    """Stock files of the profile's postfix package with every file action of these steps applied."""
    profile = profiles.get(profile_id)
    files = dict(stockfiles.stock_files(profile, ["postfix"]))
    inp = step_input(profile_id, facts, answers, secrets)
    for module in MY_STEPS:
        for action in module.plan(inp):
            if isinstance(action, FileAction):
                files[action.path] = action.new_content(files.get(action.path))
    return {path: data.decode() for path, data in files.items() if data is not None}


def words(value):
    return [w for w in re.split(r"[\s,]+", value or "") if w]


# --- postfix: the basics ---------------------------------------------------------------

BASIC = {
    "myhostname": "mail.example.com",
    "mydomain": "example.com",
    "myorigin": "$mydomain",
    "inet_interfaces": "all",
    "mydestination": "$myhostname, localhost.$mydomain, localhost, $mydomain",
    "mynetworks": "127.0.0.0/8",
    "relay_domains": "",
    "home_mailbox": "Maildir/",
    "smtpd_banner": "$myhostname ESMTP",
    "message_size_limit": "10485760",
    "mailbox_size_limit": "51200000",
}


@pytest.mark.parametrize("profile_id", ALL_PROFILES)
def test_basic_main_cf_on_every_profile(profile_id):
    actions = plan_of(postfix, profile_id)
    assert postconf_params(actions) == BASIC
    files = [(a.path, a.content, a.mode) for a in actions if isinstance(a, WriteFile)]
    if profiles.get(profile_id).family == "debian":
        assert files == [("/etc/mailname", "example.com\n", 0o644)]
    else:
        assert files == []


@pytest.mark.parametrize("overrides, expected", [
    ({"postfix.inet_interfaces": "loopback-only"}, {"inet_interfaces": "loopback-only"}),
    ({"postfix.inet_interfaces": ["192.0.2.25", "::1"]}, {"inet_interfaces": "192.0.2.25, ::1"}),
    ({"postfix.networks": ["127.0.0.0/8", "::1/128", "2001:db8::/48", "[fe80::]/10"]},
     {"mynetworks": "127.0.0.0/8, [::1]/128, [2001:db8::]/48, [fe80::]/10"}),
    ({"postfix.relay_domains": ["example.net", "example.org"]}, {"relay_domains": "example.net, example.org"}),
    ({"postfix.destinations": ["$myhostname", "localhost"]}, {"mydestination": "$myhostname, localhost"}),
    ({"postfix.home_mailbox": "Mailbox"}, {"home_mailbox": "Mailbox"}),
    # mailbox_size_limit is never below message_size_limit (local(8) would stop).
    ({"postfix.message_size_limit_mb": 1}, {"message_size_limit": "1048576", "mailbox_size_limit": "51200000"}),
    ({"postfix.message_size_limit_mb": 48}, {"message_size_limit": "50331648", "mailbox_size_limit": "51200000"}),
    ({"postfix.message_size_limit_mb": 49}, {"message_size_limit": "51380224", "mailbox_size_limit": "51380224"}),
    ({"postfix.message_size_limit_mb": 1024},
     {"message_size_limit": "1073741824", "mailbox_size_limit": "1073741824"}),
])
@pytest.mark.parametrize("profile_id", ["centos-6", "debian-12"])
def test_basic_answer_variations(profile_id, overrides, expected):
    params = postconf_params(plan_of(postfix, profile_id, answers=answers_with(**overrides)))
    assert params == {**BASIC, **expected}
    assert int(params["mailbox_size_limit"]) >= int(params["message_size_limit"])


@pytest.mark.parametrize("origin, mailname", [
    ("$mydomain", "example.com"),
    ("$myhostname", "mail.example.com"),
    ("example.org", "example.org"),
    ("${mydomain}", "example.com"),
    ("$myorigin_other", None),      # not expandable without Postfix: /etc/mailname left alone
])
def test_debian_mailname_follows_the_origin(origin, mailname):
    answers = answers_with(**{"postfix.origin": origin})
    written = [a.content for a in plan_of(postfix, "debian-12", answers=answers) if isinstance(a, WriteFile)]
    assert written == ([mailname + "\n"] if mailname else [])
    assert [a for a in plan_of(postfix, "rocky-9", answers=answers) if isinstance(a, WriteFile)] == []


# --- tls ----------------------------------------------------------------------------------

def self_signed(cert, key):
    return [
        (["install", "-m", "0600", "/dev/null", key], "missing", [], [key]),
        (["openssl", "req", "-new", "-x509", "-nodes", "-days", "3650", "-newkey", "rsa:2048",
          "-subj", "/CN=mail.example.com", "-keyout", key, "-out", cert], "missing", [], [cert, key]),
        (["chmod", "0600", key], "changed", [key], [key]),
    ]


LEGACY = "legacy"   # smtpd_tls_cert_file + smtpd_tls_key_file (before 3.4)
CHAIN = "chain"     # smtpd_tls_chain_files (3.4 and later)


def server_tls(style, cert, key):
    if style == LEGACY:
        files = {"smtpd_tls_cert_file": cert, "smtpd_tls_key_file": key}
    else:
        files = {"smtpd_tls_chain_files": key if key == cert else "{}, {}".format(key, cert),
                 "smtpd_tls_cert_file": None, "smtpd_tls_key_file": None}
    return {**files, "smtpd_tls_security_level": "may", "smtpd_tls_loglevel": "1"}


@pytest.mark.parametrize("profile_id, style, cert, key", [
    ("centos-6", LEGACY, RHEL_CERT, RHEL_KEY),
    ("centos-7", LEGACY, RHEL_CERT, RHEL_KEY),
    ("rocky-9", CHAIN, RHEL_CERT, RHEL_KEY),
    ("rhel-10", CHAIN, RHEL_CERT, RHEL_KEY),
    ("fedora-43", CHAIN, RHEL_CERT, RHEL_KEY),
    ("debian-11", CHAIN, DEB_CERT, DEB_KEY),
    ("debian-12", CHAIN, DEB_CERT, DEB_KEY),
    ("debian-13", CHAIN, DEB_CERT, DEB_KEY),
    ("ubuntu-22.04", CHAIN, DEB_CERT, DEB_KEY),
    ("ubuntu-24.04", CHAIN, DEB_CERT, DEB_KEY),
])
def test_self_signed_certificate_per_profile(profile_id, style, cert, key):
    actions = plan_of(tls, profile_id)
    assert commands(actions) == self_signed(cert, key)
    assert postconf_params(actions) == {**server_tls(style, cert, key), "smtp_tls_security_level": "may"}
    assert tls.cert_paths(profiles.get(profile_id), answers_with()) == (cert, key)


def test_the_key_is_never_created_readable_by_others():
    """The 0600 empty key exists before openssl writes into it; a chmod follows any change."""
    argvs = [c[0] for c in commands(plan_of(tls, "centos-6"))]
    install, openssl, chmod = argvs
    assert install[:4] == ["install", "-m", "0600", "/dev/null"]
    assert openssl[openssl.index("-keyout") + 1] == install[-1] == chmod[-1]
    assert chmod[:2] == ["chmod", "0600"]


@pytest.mark.parametrize("profile_id, installed, style", [
    ("debian-12", (3, 3), LEGACY),      # an older Postfix on the host wins over the profile's
    ("centos-7", (3, 4), CHAIN),
    ("rocky-9", None, CHAIN),
])
def test_tls_parameters_follow_the_installed_release(profile_id, installed, style):
    facts = facts_for(profile_id, postfix_version=installed)
    cert, key = tls.cert_paths(profiles.get(profile_id), answers_with())
    params = postconf_params(plan_of(tls, profile_id, facts=facts))
    assert params == {**server_tls(style, cert, key), "smtp_tls_security_level": "may"}


@pytest.mark.parametrize("profile_id, cert, key, style", [
    ("centos-6", "/etc/pki/tls/certs/mx.crt", "/etc/pki/tls/private/mx.key", LEGACY),
    ("rocky-9", "/etc/pki/tls/certs/mx.crt", "/etc/pki/tls/private/mx.key", CHAIN),
    ("debian-13", "/etc/letsencrypt/live/mx/fullchain.pem", "/etc/letsencrypt/live/mx/privkey.pem", CHAIN),
    ("debian-12", "/etc/ssl/private/mx-combined.pem", "/etc/ssl/private/mx-combined.pem", CHAIN),
])
def test_existing_certificate(profile_id, cert, key, style):
    answers = answers_with(**{"auth.tls.certificate": "existing", "auth.tls.cert_file": cert,
                              "auth.tls.key_file": key})
    actions = plan_of(tls, profile_id, answers=answers)
    assert commands(actions) == []
    assert postconf_params(actions) == {**server_tls(style, cert, key), "smtp_tls_security_level": "may"}
    assert tls.cert_paths(profiles.get(profile_id), answers) == (cert, key)


@pytest.mark.parametrize("profile_id", ["centos-6", "rocky-9", "debian-12"])
def test_no_certificate_leaves_server_tls_alone(profile_id):
    answers = answers_with(**{"auth.tls.certificate": "none", "auth.sasl": False, "auth.submission": False})
    actions = plan_of(tls, profile_id, answers=answers)
    assert postconf_params(actions) == {"smtp_tls_security_level": "may"}
    assert commands(actions) == []
    assert tls.cert_paths(profiles.get(profile_id), answers) == (None, None)


@pytest.mark.parametrize("relay, level", [
    (None, "may"),
    (RELAY, "encrypt"),                                           # our password goes there
    ({"host": "relay.internal", "username": None, "password_env": None}, "may"),
])
def test_client_tls_level(relay, level):
    answers = answers_with(relayhost=relay)
    assert postconf_params(plan_of(tls, "rocky-9", answers=answers))["smtp_tls_security_level"] == level


# --- sasl: SMTP AUTH, relay control, submission -----------------------------------------------

SASL_MAIN = {"smtpd_sasl_type": "dovecot", "smtpd_sasl_path": "private/auth",
             "smtpd_sasl_auth_enable": "yes", "smtpd_tls_auth_only": "yes"}
SUBMISSION_HEAD = [["syslog_name", "postfix/submission"], ["smtpd_tls_security_level", "encrypt"],
                   ["smtpd_sasl_auth_enable", "yes"], ["smtpd_tls_auth_only", "yes"]]
SUBMISSION_TAIL = [["smtpd_recipient_restrictions", "permit_sasl_authenticated,reject"],
                   ["milter_macro_daemon_name", "ORIGINATING"]]


@pytest.mark.parametrize("version, profile_id", sorted(BY_VERSION.items()))
def test_sasl_and_submission_per_release(version, profile_id):
    actions = plan_of(sasl, profile_id)
    relay = {} if version < (2, 10) else {
        "smtpd_relay_restrictions": "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination"}
    assert postconf_params(actions) == {**SASL_MAIN, **relay}
    masters = [a for a in actions if isinstance(a, MasterService)]
    assert len(masters) == 1 and masters[0].path == "/etc/postfix/master.cf"
    service = masters[0].service
    middle = [] if version < (2, 10) else [["smtpd_relay_restrictions", ""]]
    assert service["options"] == SUBMISSION_HEAD + middle + SUBMISSION_TAIL
    chroot = "y" if profiles.get(profile_id).family == "debian" else "n"
    assert {k: v for k, v in service.items() if k not in ("options", "args")} == {
        "name": "submission", "type": "inet", "private": "n", "unpriv": "-", "chroot": chroot,
        "wakeup": "-", "maxproc": "-", "command": "smtpd"}
    # No macro that only some main.cf files define.
    assert not any("$" in value for _name, value in service["options"])


@pytest.mark.parametrize("profile_id, sasl_on, submission, params, has_master", [
    ("centos-6", False, False, {}, False),
    ("centos-7", False, False, {"smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination"}, False),
    ("debian-13", False, False, {"smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination"}, False),
    ("rocky-9", True, False, {**SASL_MAIN, "smtpd_relay_restrictions":
                              "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination"}, False),
    ("centos-6", True, False, SASL_MAIN, False),
])
def test_sasl_answer_variations(profile_id, sasl_on, submission, params, has_master):
    answers = answers_with(**{"auth.sasl": sasl_on, "auth.submission": submission})
    actions = plan_of(sasl, profile_id, answers=answers)
    assert postconf_params(actions) == params
    assert any(isinstance(a, MasterService) for a in actions) == has_master
    assert "smtpd_recipient_restrictions" not in params      # the spam step's, only


@pytest.mark.parametrize("version, expected", [
    ((2, 6), ["permit_mynetworks", "permit_sasl_authenticated", "reject_unauth_destination"]),
    ((3, 10), ["permit_mynetworks", "permit_sasl_authenticated", "reject_unauth_destination"]),
])
def test_relay_rules_api(version, expected):
    assert sasl.relay_rules(version, answers_with()) == expected
    assert sasl.relay_rules(profiles.get(BY_VERSION[version]), answers_with(**{"auth.sasl": False})) == [
        "permit_mynetworks", "reject_unauth_destination"]
    assert sasl.has_relay_restrictions(version) == (version >= (2, 10))


# --- relayhost ------------------------------------------------------------------------------

RELAY_SASL = {"smtp_sasl_auth_enable": "yes", "smtp_sasl_security_options": "noanonymous",
              "smtp_sasl_tls_security_options": "noanonymous"}


@pytest.mark.parametrize("profile_id, map_type, db", [
    ("centos-6", "hash", "/etc/postfix/sasl_passwd.db"),
    ("debian-12", "hash", "/etc/postfix/sasl_passwd.db"),
    ("rhel-10", "lmdb", "/etc/postfix/sasl_passwd.lmdb"),
])
def test_relayhost_with_login(profile_id, map_type, db):
    actions = plan_of(relayhost, profile_id, answers=answers_with(relayhost=RELAY), secrets=SECRETS)
    assert postconf_params(actions) == {"relayhost": "[smtp.example.net]:587", **RELAY_SASL,
                                        "smtp_sasl_password_maps": map_type + ":/etc/postfix/sasl_passwd"}
    written = [a for a in actions if isinstance(a, WriteFile)]
    assert [(a.path, a.mode, a.owner, a.secret) for a in written] == [("/etc/postfix/sasl_passwd", 0o600, "root", True)]
    assert written[0].content == "[smtp.example.net]:587 mailer:s3cret pass\n"
    assert written[0].to_json()["content"] is None                 # never journaled
    assert commands(actions) == [(["postmap", map_type + ":/etc/postfix/sasl_passwd"], "changed",
                                  ["/etc/postfix/sasl_passwd"], [db])]


def test_the_relay_password_comes_only_from_secrets():
    answers = answers_with(relayhost=RELAY)
    with pytest.raises(relayhost.MissingSecret):
        plan_of(relayhost, "rocky-9", answers=answers, secrets={})
    with pytest.raises(ValueError):
        plan_of(relayhost, "rocky-9", answers=answers, secrets={"relay_password": "two\nlines"})


@pytest.mark.parametrize("profile_id, host, expected", [
    ("rocky-9", "relay.internal", {"relayhost": "relay.internal"}),
    ("rocky-9", "[smtp.example.net]:465", {"relayhost": "[smtp.example.net]:465", "smtp_tls_wrappermode": "yes"}),
    ("centos-7", "[smtp.example.net]:465", {"relayhost": "[smtp.example.net]:465"}),   # no wrappermode in 2.10
    ("debian-12", "[2001:db8::25]", {"relayhost": "[2001:db8::25]"}),
])
def test_relayhost_without_login(profile_id, host, expected):
    answers = answers_with(relayhost={"host": host, "username": None, "password_env": None})
    actions = plan_of(relayhost, profile_id, answers=answers)
    assert postconf_params(actions) == expected
    assert commands(actions) == [] and not [a for a in actions if isinstance(a, WriteFile)]


@pytest.mark.parametrize("profile_id", ["centos-6", "debian-13"])
def test_no_relayhost_changes_nothing(profile_id):
    assert plan_of(relayhost, profile_id) == []


# --- aliases --------------------------------------------------------------------------------------

@pytest.mark.parametrize("profile_id, db", [
    ("centos-6", "/etc/aliases.db"), ("debian-12", "/etc/aliases.db"), ("rhel-10", "/etc/aliases.lmdb"),
    ("alma-10", "/etc/aliases.lmdb"),
])
def test_root_alias_and_newaliases(profile_id, db):
    actions = plan_of(aliases, profile_id, answers=answers_with(**{"aliases.root": "admin@example.com"}))
    assert [(type(a), a.path, a.name, a.value) for a in actions if isinstance(a, AliasSet)] == [
        (AliasSet, "/etc/aliases", "root", "admin@example.com")]
    assert commands(actions) == [(["newaliases"], "changed", ["/etc/aliases"], [db])]


def test_no_root_alias_changes_nothing():
    assert plan_of(aliases, "rocky-9") == []


# --- spam -------------------------------------------------------------------------------------

PERMITS = "permit_mynetworks, permit_sasl_authenticated"
ACCESS_BOTH = [{"key": "spammer.example", "action": "REJECT"}, {"key": "192.0.2.0/24", "action": "OK"},
               {"key": "friend@example.org", "action": "OK"}, {"key": "2001:db8::7", "action": "REJECT go away"}]


def spam_expected(version, map_type="hash", sasl_on=True, access=True, cidr=False, rbl=""):
    permits = PERMITS if sasl_on else "permit_mynetworks"
    acc = "{}:/etc/postfix/access".format(map_type)
    client = []
    if cidr:
        client.append("check_client_access cidr:/etc/postfix/access.cidr")
    if access:
        client.append("check_client_access " + acc)
    if rbl:
        client.append(rbl)
    helo = (["check_helo_access " + acc] if access else []) + ["reject_invalid_helo_hostname",
                                                                 "reject_non_fqdn_helo_hostname"]
    sender = (["check_sender_access " + acc] if access else []) + ["reject_unknown_sender_domain",
                                                                     "reject_non_fqdn_sender"]
    recipient = (["check_recipient_access " + acc] if access else []) + ["reject_non_fqdn_recipient"]
    relay = permits + ", reject_unauth_destination"
    return {
        "smtpd_helo_required": "yes",
        "smtpd_client_restrictions": ", ".join([permits] + client) if client else "",
        "smtpd_helo_restrictions": ", ".join([permits] + helo),
        "smtpd_sender_restrictions": ", ".join([permits] + sender),
        "smtpd_recipient_restrictions": ", ".join(([permits] if version >= (2, 10) else [relay]) + recipient),
    }


ZEN_26 = ", ".join("reject_rbl_client zen.spamhaus.org=127.0.0.{}".format(n) for n in range(2, 12))
ZEN_28 = "reject_rbl_client zen.spamhaus.org=127.0.0.[2..11]"


@pytest.mark.parametrize("version, profile_id", sorted(BY_VERSION.items()))
def test_spam_defaults_per_release(version, profile_id):
    actions = plan_of(spam, profile_id)
    assert postconf_params(actions) == spam_expected(version)
    assert [(a.path, a.content, a.mode) for a in actions if isinstance(a, WriteFile)] == [
        ("/etc/postfix/access", spam._HEADER + "spammer.example REJECT\n", 0o644)]
    assert commands(actions) == [(["postmap", "hash:/etc/postfix/access"], "changed", ["/etc/postfix/access"],
                                  ["/etc/postfix/access.db"])]


@pytest.mark.parametrize("version, profile_id", sorted(BY_VERSION.items()))
def test_spam_rbl_and_access_per_release(version, profile_id):
    answers = answers_with(**{"spam.access": ACCESS_BOTH, "spam.rbl": ["zen.spamhaus.org", "bl.spamcop.net"]})
    actions = plan_of(spam, profile_id, answers=answers)
    zen = ZEN_26 if version < (2, 8) else ZEN_28
    assert postconf_params(actions) == spam_expected(version, cidr=True,
                                                     rbl=zen + ", reject_rbl_client bl.spamcop.net")
    assert [(a.path, a.content) for a in actions if isinstance(a, WriteFile)] == [
        ("/etc/postfix/access", spam._HEADER + "spammer.example REJECT\nfriend@example.org OK\n"),
        ("/etc/postfix/access.cidr", spam._HEADER + "192.0.2.0/24 OK\n2001:db8::7 REJECT go away\n"),
    ]


@pytest.mark.parametrize("profile_id, overrides, expected", [
    # lmdb on RHEL 10: the map type follows the platform
    ("rhel-10", {}, spam_expected((3, 8), map_type="lmdb")),
    ("centos-6", {"auth.sasl": False, "auth.submission": False}, spam_expected((2, 6), sasl_on=False)),
    ("debian-12", {"auth.sasl": False, "auth.submission": False}, spam_expected((3, 7), sasl_on=False)),
    # no access map: no check_*_access anywhere, an empty client list
    ("rocky-9", {"spam.access": []}, spam_expected((3, 5), access=False)),
    ("centos-6", {"spam.access": []}, spam_expected((2, 6), access=False)),
    ("rocky-9", {"spam.helo_required": False}, {**spam_expected((3, 5)), "smtpd_helo_required": "no"}),
    ("rocky-9", {"spam.access": [], "spam.client": ["reject_unknown_client_hostname"]},
     {**spam_expected((3, 5), access=False), "smtpd_client_restrictions": PERMITS + ", reject_unknown_client_hostname"}),
    ("rocky-9", {"spam.access": [], "spam.helo": [], "spam.sender": [], "spam.recipient": []},
     {"smtpd_helo_required": "yes", "smtpd_client_restrictions": "", "smtpd_helo_restrictions": "",
      "smtpd_sender_restrictions": "", "smtpd_recipient_restrictions": ""}),
    # before 2.10 the relay rules stay even when every check is gone
    ("centos-6", {"spam.access": [], "spam.helo": [], "spam.sender": [], "spam.recipient": []},
     {"smtpd_helo_required": "yes", "smtpd_client_restrictions": "", "smtpd_helo_restrictions": "",
      "smtpd_sender_restrictions": "", "smtpd_recipient_restrictions": PERMITS + ", reject_unauth_destination"}),
])
def test_spam_answer_variations(profile_id, overrides, expected):
    actions = plan_of(spam, profile_id, answers=answers_with(**overrides))
    assert postconf_params(actions) == expected
    if profile_id == "rhel-10":
        assert commands(actions)[0][0] == ["postmap", "lmdb:/etc/postfix/access"]
        assert commands(actions)[0][3] == ["/etc/postfix/access.lmdb"]


@pytest.mark.parametrize("zone, version, expected", [
    ("zen.spamhaus.org", (2, 8), [ZEN_28]),
    ("xbl.spamhaus.org", (3, 7), ["reject_rbl_client xbl.spamhaus.org=127.0.0.[2..11]"]),
    ("zen.spamhaus.org", (2, 7), ZEN_26.split(", ")),
    ("bl.spamcop.net", (2, 6), ["reject_rbl_client bl.spamcop.net"]),
    ("dbl.spamhaus.org", (3, 7), ["reject_rbl_client dbl.spamhaus.org"]),   # not an IP zone
])
def test_rbl_filters(zone, version, expected):
    assert spam.rbl_restrictions(version, [zone]) == expected


# --- across the steps: one owner per parameter, no open relay ------------------------------------

ALL_ON = {"relayhost": RELAY, "spam.access": ACCESS_BOTH, "spam.rbl": ["zen.spamhaus.org"],
          "aliases.root": "admin@example.com"}


@pytest.mark.parametrize("profile_id", ALL_PROFILES)
def test_each_main_cf_parameter_has_one_owner(profile_id):
    owners = {}
    inp = step_input(profile_id, answers=answers_with(**ALL_ON), secrets=SECRETS)
    for module in MY_STEPS:
        for name in postconf_params(module.plan(inp)):
            assert name not in owners, "{} written by {} and {}".format(name, owners[name], module.NAME)
            owners[name] = module.NAME


def relay_control_problems(version, main_cf, master_cf):
    """Why an unauthenticated stranger could relay through this config ([] when none).

    Relay control is ``permit_mynetworks``/``permit_sasl_authenticated`` and then
    ``reject_unauth_destination``, with nothing else ahead of it, in
    smtpd_relay_restrictions (2.10+) or smtpd_recipient_restrictions (before).
    """
    problems = []
    allowed_ahead = {"permit_mynetworks", "permit_sasl_authenticated"}
    name = "smtpd_relay_restrictions" if version >= (2, 10) else "smtpd_recipient_restrictions"
    rules = words(confedit.postconf_get(main_cf, name))
    if "reject_unauth_destination" not in rules:
        problems.append("{} has no reject_unauth_destination: {}".format(name, rules))
    else:
        ahead = rules[:rules.index("reject_unauth_destination")]
        if set(ahead) - allowed_ahead:
            problems.append("{} has {} ahead of reject_unauth_destination".format(
                name, sorted(set(ahead) - allowed_ahead)))
    if not confedit.postconf_get(main_cf, "mynetworks"):
        problems.append("mynetworks is not written (before 3.0 the default trusts the subnet)")
    if confedit.postconf_get(main_cf, "relay_domains") not in ("",):
        problems.append("relay_domains is not empty")
    submission = confedit.master_get_service(master_cf, "submission", "inet")
    if submission is not None:
        options = dict(submission.options)
        if options.get("smtpd_recipient_restrictions") != "permit_sasl_authenticated,reject":
            problems.append("submission accepts unauthenticated clients")
        if version >= (2, 10) and options.get("smtpd_relay_restrictions", "unset") not in ("", "unset"):
            problems.append("submission relay restrictions are not empty")
    return problems


NOTES_26_MAIN_CF = """\
mynetworks = 192.168.0.0/24, 127.0.0.0/8
relay_domains =
smtpd_recipient_restrictions =
    permit_mynetworks,
    permit_sasl_authenticated,
    check_recipient_access hash:/etc/postfix/access,
    reject_non_fqdn_recipient,
    reject_unauth_destination
    permit_auth_destination,
    reject
"""


def test_the_relay_checker_catches_the_notes_open_relay():
    """The checker below is not vacuous: the original notes' list fails it on 2.6."""
    assert relay_control_problems((2, 6), NOTES_26_MAIN_CF, "") == [
        "smtpd_recipient_restrictions has ['check_recipient_access', 'hash:/etc/postfix/access', "
        "'reject_non_fqdn_recipient'] ahead of reject_unauth_destination"]
    # Debian's stock (no mailwiz) defers rather than rejects: flagged too.
    stock = stockfiles.stock_files(profiles.get("debian-12"), ["postfix"])["/etc/postfix/main.cf"].decode()
    assert relay_control_problems((3, 7), stock, "")


VARIATIONS = [
    {},
    {"auth.sasl": False, "auth.submission": False},
    {"auth.submission": False},
    {**ALL_ON, "spam.access": ACCESS_BOTH + [{"key": "example.net", "action": "OK"},
                                               {"key": "10.0.0.0/8", "action": "OK"}]},
]


@pytest.mark.parametrize("variation", range(len(VARIATIONS)))
@pytest.mark.parametrize("profile_id", ALL_PROFILES)
def test_no_open_relay_on_any_profile(profile_id, variation):
    """For every profile, the final main.cf and master.cf (stock + these steps) keep relay control first."""
    files = final_files(profile_id, answers_with(**VARIATIONS[variation]))
    version = profiles.get(profile_id).postfix_version
    assert relay_control_problems(version, files["/etc/postfix/main.cf"], files["/etc/postfix/master.cf"]) == []


@pytest.mark.parametrize("version", sorted(BY_VERSION))
def test_no_open_relay_with_any_installed_release(version):
    """The installed release decides, whatever the profile says (a backport, an old host)."""
    facts = facts_for("rocky-9", postfix_version=version)
    files = final_files("rocky-9", answers_with(**VARIATIONS[-1]), facts=facts)
    assert relay_control_problems(version, files["/etc/postfix/main.cf"], files["/etc/postfix/master.cf"]) == []
    main_cf = files["/etc/postfix/main.cf"]
    assert (confedit.postconf_get(main_cf, "smtpd_relay_restrictions") is not None) == (version >= (2, 10))
