"""Property-based tests (hypothesis) of the configuration editors and the
answer-file validator: parse -> edit -> parse round trips, comments and
unrelated settings kept, edits idempotent; the validator never lets a line
break, a control character or an open-relay network through, and never fails
with anything but its own errors.

Examples per test: MAILWIZ_PROPERTY_EXAMPLES (default 400: 2,400 cases in all,
about 40 s on the test machines).  Derandomized, so a run
is reproducible and CI is not flaky.
"""
import copy
import ipaddress
import os
import string

import hypothesis
from hypothesis import given, settings, strategies as st

from installer import answers, confedit

EXAMPLES = int(os.environ.get("MAILWIZ_PROPERTY_EXAMPLES", "400"))
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(hypothesis.HealthCheck))

# --- main.cf ---------------------------------------------------------------------------------

NAMES = st.sampled_from(["myhostname", "mydomain", "mynetworks", "relay_domains", "smtpd_banner",
                         "inet_interfaces", "home_mailbox", "x_y", "a"])
VALUE_CHARS = string.ascii_letters + string.digits + " ,.:/$=#{}[]-_\t"
VALUES = st.text(VALUE_CHARS, max_size=30)


def main_cf_line():
    return st.one_of(
        st.builds(lambda n, v: f"{n} = {v}", NAMES, VALUES),
        st.builds(lambda n, v: f"{n}={v}", NAMES, VALUES),
        st.builds(lambda v: "# " + v, VALUES),
        st.builds(lambda v: "    " + v.strip() if v.strip() else "    x", VALUES),   # continuation
        st.just(""),
        st.builds(lambda v: "#" + v, NAMES),
    )


MAIN_CF = st.builds(lambda lines, end: "\n".join(lines) + end, st.lists(main_cf_line(), max_size=25),
                    st.sampled_from(["", "\n"]))
PARAMS = st.dictionaries(NAMES, st.one_of(st.none(), st.text(VALUE_CHARS.replace("\t", ""), max_size=20)),
                         max_size=4)


def comments(text, prefix="#"):
    return [line for line in text.split("\n") if line.lstrip().startswith(prefix)]


def is_subsequence(small, big):
    it = iter(big)
    return all(any(x == y for y in it) for x in small)


@PROPERTY
@given(MAIN_CF, PARAMS)
def test_postconf_set_round_trip(text, params):
    edited = confedit.postconf_set(text, params)
    for name, value in params.items():
        got = confedit.postconf_get(edited, name)
        assert got == (None if value is None else value.strip(confedit._WS) or got), (name, value, got)
        if value is not None and value.strip():
            assert got == value.strip()
    for name in {"myhostname", "mydomain", "mynetworks", "a", "x_y"} - set(params):
        assert confedit.postconf_get(edited, name) == confedit.postconf_get(text, name), name
    assert confedit.postconf_set(edited, params) == edited, "not idempotent"
    assert is_subsequence(comments(text), comments(edited)), "a comment was lost"


# --- master.cf -----------------------------------------------------------------------------

TOKEN = st.text(string.ascii_letters + string.digits + "_-./", min_size=1, max_size=10)
SERVICE = st.builds(
    confedit.MasterService,
    name=st.sampled_from(["smtp", "submission", "smtps", "pickup", "relay", "10.0.0.1:2525"]),
    type=st.sampled_from(["inet", "unix", "fifo", "pass"]),
    private=st.sampled_from(["n", "y", "-"]), unpriv=st.sampled_from(["n", "y", "-"]),
    chroot=st.sampled_from(["n", "y", "-"]), wakeup=st.sampled_from(["-", "60", "300?"]),
    maxproc=st.sampled_from(["-", "1", "100"]), command=st.sampled_from(["smtpd", "pickup", "smtp", "pipe"]),
    options=st.lists(st.tuples(st.sampled_from(["syslog_name", "smtpd_tls_security_level", "smtpd_sasl_auth_enable",
                                                "smtpd_client_restrictions"]),
                               st.text(string.ascii_letters + string.digits + "/_$,", min_size=1, max_size=15)),
                     max_size=4),
    args=st.just([]),
)


def master_line():
    return st.one_of(
        st.builds(lambda s: " ".join(confedit._render_master_service(s)).replace(" -o", "\n  -o"), SERVICE),
        st.builds(lambda v: "# " + v, VALUES),
        st.builds(lambda v: "#smtp      inet  n       -       y       -       -       smtpd" + v[:0], VALUES),
        st.just(""),
    )


MASTER_CF = st.builds(lambda lines: "\n".join(lines) + "\n", st.lists(master_line(), max_size=12))


@PROPERTY
@given(MASTER_CF, SERVICE)
def test_master_set_service_round_trip(text, svc):
    edited = confedit.master_set_service(text, svc)
    assert confedit.master_get_service(edited, svc.name, svc.type) == svc
    assert confedit.master_set_service(edited, svc) == edited, "not idempotent"
    for other in ("smtp", "submission", "pickup", "relay"):
        for kind in ("inet", "unix"):
            if (other, kind) != (svc.name, svc.type):
                assert (confedit.master_get_service(edited, other, kind)
                        == confedit.master_get_service(text, other, kind)), (other, kind)
    removed = confedit.master_remove_service(edited, svc.name, svc.type)
    assert confedit.master_get_service(removed, svc.name, svc.type) is None
    assert is_subsequence([c for c in comments(text) if not c.startswith("#smtp ")], comments(edited))


# --- dovecot ---------------------------------------------------------------------------------

DKEYS = st.sampled_from(["protocols", "listen", "mail_location", "ssl", "auth_mechanisms", "disable_plaintext_auth"])
DVALUE_CHARS = string.ascii_letters + string.digits + " ,.:/*~=_-"


def dovecot_line():
    return st.one_of(
        st.builds(lambda k, v: f"{k} = {v}", DKEYS, st.text(DVALUE_CHARS, max_size=20)),
        st.builds(lambda v: "# " + v, VALUES),
        st.builds(lambda k, v: f"  {k} = {v}  # a note", DKEYS, st.text(DVALUE_CHARS, max_size=10)),
        st.just(""),
    )


def dovecot_section():
    return st.builds(lambda name, body: "\n".join([f"{name} {{"] + body + ["}"]),
                     st.sampled_from(["service auth", "protocol imap", "ssl_server", "namespace inbox"]),
                     st.lists(dovecot_line(), max_size=4))


DOVECOT_CONF = st.builds(lambda parts: "\n".join(parts) + "\n", st.lists(st.one_of(dovecot_line(), dovecot_section()),
                                                                         max_size=15))
SETTINGS = st.dictionaries(DKEYS, st.one_of(st.none(), st.text(DVALUE_CHARS, max_size=20)), max_size=3)


def sections(text):
    """The text of every { } section, which top-level edits never touch."""
    out, current = [], None
    for line in text.split("\n"):
        if line.endswith("{"):
            current = [line]
        elif current is not None:
            current.append(line)
            if line.strip() == "}":
                out.append("\n".join(current))
                current = None
    return out


@PROPERTY
@given(DOVECOT_CONF, SETTINGS)
def test_dovecot_set_round_trip(text, wanted):
    edited = confedit.dovecot_set(text, wanted)
    for key, value in wanted.items():
        got = confedit.dovecot_get(edited, key)
        assert got == (None if value is None else value.strip()), (key, value, got)
    for key in {"protocols", "listen", "mail_location", "ssl"} - set(wanted):
        assert confedit.dovecot_get(edited, key) == confedit.dovecot_get(text, key), key
    assert confedit.dovecot_set(edited, wanted) == edited, "not idempotent"
    assert sections(edited) == sections(text), "a section changed"
    assert is_subsequence([c for c in comments(text) if c.startswith("#")], comments(edited))


# --- the answer-file validator ------------------------------------------------------------------

EXAMPLE = answers.load(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                    "installer", "answers.example.yaml"))
BASE = answers.dump(EXAMPLE)
TEXT_KEYS = [("postfix", "hostname"), ("postfix", "domain"), ("postfix", "origin"), ("postfix", "banner"),
             ("postfix", "home_mailbox"), ("dovecot", "mail_location"), ("aliases", "root")]
NASTY = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40) | st.sampled_from(
    ["a\nb", "x\r\ny", "mx.example.com\n", "$myhostname ESMTP\x1b[2J", "a=b", "{", "}", "a,b", "x\0y",
     "mx.example.com, evil=1", "mail_location = x", "\u2028", "\t"])
CONTROL = {chr(c) for c in range(0x20)} | {"\x7f", "\u2028", "\u2029", "\x85"}


def _plain(data):
    import yaml
    return yaml.safe_load(answers.dump(data))


PLAIN_EXAMPLE = _plain(EXAMPLE)


def plain(_data):
    """The example as the plain data an answer file holds (a fresh copy)."""
    return copy.deepcopy(PLAIN_EXAMPLE)


@PROPERTY
@given(st.sampled_from(TEXT_KEYS), NASTY)
def test_validator_never_lets_a_line_break_or_control_character_through(key, value):
    data = plain(EXAMPLE)
    data[key[0]][key[1]] = value
    try:
        valid = answers.validate_data(data)
    except answers.AnswerErrors as errors:
        assert errors.errors
        return
    accepted = valid[key[0]][key[1]]
    assert not (set(str(accepted)) & CONTROL), repr(accepted)
    # what was accepted survives a dump and a load unchanged
    assert answers.validate_data(_plain(valid))[key[0]][key[1]] == accepted


PRIVATE = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8",
                                             "169.254.0.0/16", "100.64.0.0/10", "fc00::/7", "fe80::/10", "::1/128")]


def networks():
    v4 = st.builds(lambda a, p: ipaddress.ip_network((a, p), strict=False),
                   st.integers(0, 2 ** 32 - 1), st.integers(0, 32))
    v6 = st.builds(lambda a, p: ipaddress.ip_network((a, p), strict=False),
                   st.integers(0, 2 ** 128 - 1), st.integers(0, 128))
    special = st.builds(lambda base, extra: ipaddress.ip_network(
        (int(ipaddress.ip_network(base).network_address) + extra, 96 + (extra % 33)), strict=False),
        st.sampled_from(["::ffff:0:0/96", "64:ff9b::/96", "2001::/32"]), st.integers(0, 2 ** 32 - 1))
    return st.one_of(v4, v6, special)


def trusts_the_internet(net) -> bool:
    """An independent oracle: more than a /16 of public IPv4 (or /32 of public
    IPv6) is too much; an IPv6 form of IPv4 counts as the IPv4 it stands for;
    Teredo carries any IPv4 client."""
    if net.version == 6:
        if net.overlaps(ipaddress.ip_network("2001::/32")):
            return True
        for block in ("::ffff:0:0/96", "64:ff9b::/96"):
            block = ipaddress.ip_network(block)
            if net.overlaps(block):
                if net.prefixlen < 96:
                    return True
                net = ipaddress.ip_network((int(net.network_address) & 0xFFFFFFFF, net.prefixlen - 96))
                break
    private = any(net.version == p.version and net.subnet_of(p) for p in PRIVATE)
    limit = 16 if net.version == 4 else 32
    return net.prefixlen < (8 if net.version == 4 else 7) or (not private and net.prefixlen < limit)


@PROPERTY
@given(networks())
def test_validator_never_accepts_a_network_that_trusts_the_internet(net):
    data = plain(EXAMPLE)
    data["postfix"]["networks"] = [str(net)]
    try:
        answers.validate_data(data)
        accepted = True
    except answers.AnswerErrors:
        accepted = False
    if accepted:
        assert not trusts_the_internet(net), net


@PROPERTY
@given(st.dictionaries(st.sampled_from(["postfix", "dovecot", "auth", "spam", "system", "services", "aliases",
                                        "relayhost", "version", "verify", "language", "zz"]),
                       st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                                    lambda inner: st.lists(inner, max_size=3)
                                    | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=10),
                       max_size=5))
def test_validator_fails_only_with_its_own_errors(data):
    try:
        valid = answers.validate_data(copy.deepcopy(data))
    except answers.AnswerErrors as errors:
        assert errors.errors and all(str(e) for e in errors.errors)
        return
    assert answers.loads(answers.dump(valid)) == valid
