"""The DNS records mailwiz prints (plan, apply, ``mailwiz dns``) and
``mailwiz verify`` against a tiny name server on loopback, started here and
answering from a dict with dnspython's message API; offline (nobody answers)
verify says so and does not fail."""
from __future__ import annotations

import json
import socket
import threading

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from installer import cli, dns as mdns
from tests.stepkit import answers_with, facts_for

ANSWERS = """version: 1
language: en
postfix: {hostname: mail.example.com, domain: example.com}
dkim: {enabled: true, selector: s1}
"""


def pem_public_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


# --- the records ------------------------------------------------------------------------

def test_records_for_defaults_and_dkim():
    answers = answers_with(**{"dkim.enabled": True, "postfix.domain": "example.com",
                              "postfix.hostname": "mail.example.com"})
    facts = facts_for("debian-12", addresses=["127.0.0.1/8", "203.0.113.7/24", "2001:db8::25/64", "fe80::1/64"])
    b64 = mdns.public_key_b64(pem_public_key())
    found = mdns.records(answers, facts, b64, "202612")
    by = {(r.name, r.type): r for r in found}
    assert by[("example.com.", "MX")].value == "10 mail.example.com."
    assert by[("example.com.", "TXT")].value == "v=spf1 mx -all"
    assert by[("_dmarc.example.com.", "TXT")].value == "v=DMARC1; p=none; rua=mailto:postmaster@example.com"
    assert by[("mail.example.com.", "A")].value == "203.0.113.7"
    assert by[("mail.example.com.", "AAAA")].value == "2001:db8::25"
    assert by[("7.113.0.203.in-addr.arpa.", "PTR")].value == "mail.example.com."
    assert ("1.0.0.127.in-addr.arpa.", "PTR") not in by          # loopback and link-local are not published
    dkim = by[("202612._domainkey.example.com.", "TXT")]
    assert dkim.value == "v=DKIM1; k=rsa; p=" + b64
    assert "".join(dkim.strings) == dkim.value
    assert [len(s) for s in dkim.strings[:-1]] == [255] * (len(dkim.strings) - 1) and len(dkim.strings) == 2
    line = dkim.zone_line()
    assert line.startswith("202612._domainkey.example.com.\t3600\tIN\tTXT\t( \"v=DKIM1; k=rsa; p=")
    # The zone line parses back, with dnspython, to the same value.
    rdata = dns.rrset.from_text("x.", 300, "IN", "TXT", line.split("\tTXT\t", 1)[1].strip("() "))
    assert b"".join(next(iter(rdata)).strings).decode() == dkim.value


def test_dmarc_policy_and_rua_from_answers_and_no_dkim_when_off():
    answers = answers_with(**{"dmarc.policy": "quarantine", "dmarc.rua": "reports@example.net"})
    found = mdns.records(answers, facts_for("rocky-9"), None, None)
    assert not any("_domainkey" in r.name for r in found)
    dmarc = next(r for r in found if r.name.startswith("_dmarc."))
    assert dmarc.value == "v=DMARC1; p=quarantine; rua=mailto:reports@example.net"


def test_split_txt_limits():
    assert mdns.split_txt("a" * 600) == ["a" * 255, "a" * 255, "a" * 90]
    assert mdns.split_txt("short") == ["short"]


# --- mailwiz dns ----------------------------------------------------------------------

@pytest.fixture
def sandbox(tmp_path):
    answers = tmp_path / "answers.yaml"
    answers.write_text(ANSWERS)
    root = tmp_path / "root"
    assert cli.main(["apply", "--yes", "--answers", str(answers), "--sandbox", "--profile", "debian-12",
                     "--root", str(root)]) == 0
    return answers, root


def test_dns_command_zone_and_json(sandbox, capsys):
    answers, root = sandbox
    capsys.readouterr()
    # The sandbox makes no key; put a real public key where the dkim step writes it.
    public = root / "etc/dkimkeys/s1.public"
    public.write_text(pem_public_key())
    assert cli.main(["dns", "--sandbox", "--root", str(root)]) == 0     # the newest run's answers
    out = capsys.readouterr().out
    assert "example.com.\t3600\tIN\tMX\t10 mail.example.com." in out
    assert "s1._domainkey.example.com.\t3600\tIN\tTXT\t( \"v=DKIM1; k=rsa; p=" in out
    assert cli.main(["dns", "--json", "--sandbox", "--root", str(root), "--answers", str(answers)]) == 0
    captured = capsys.readouterr()
    document = json.loads(captured.out)                     # one JSON document, nothing else
    assert "Sandbox" in captured.err
    types = sorted({r["type"] for r in document["records"]})
    assert types == ["A", "MX", "PTR", "TXT"]
    dkim = next(r for r in document["records"] if r["name"] == "s1._domainkey.example.com.")
    assert dkim["value"] == "v=DKIM1; k=rsa; p=" + mdns.public_key_b64(public.read_text())


# --- mailwiz verify against a name server on loopback ------------------------------------

class TinyDNS:
    """Answers A/AAAA/MX/TXT/PTR from ``zone`` {(name, type): [rdata text]} over UDP on loopback."""

    def __init__(self, zone):
        self.zone = {(name.lower(), rtype): values for (name, rtype), values in zone.items()}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.queries = []
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while self.running:
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            query = dns.message.from_wire(data)
            response = dns.message.make_response(query)
            question = query.question[0]
            key = (question.name.to_text().lower(), dns.rdatatype.to_text(question.rdtype))
            self.queries.append(key)
            if key in self.zone:
                response.answer.append(dns.rrset.from_text_list(question.name, 300, "IN", key[1], self.zone[key]))
            elif not any(name == key[0] for name, _ in self.zone):
                response.set_rcode(dns.rcode.NXDOMAIN)
            self.sock.sendto(response.to_wire(), peer)

    def close(self):
        self.running = False
        self.thread.join(timeout=2)
        self.sock.close()


def published(root, records, *, skip=(), change=None):
    zone = {}
    for record in records:
        if (record.name, record.type) in skip:
            continue
        value = record.value
        if record.type == "TXT":
            value = " ".join('"%s"' % s for s in record.strings)
        zone.setdefault((record.name, record.type), []).append(value)
    zone.update(change or {})
    return zone


def expected_records(root, answers_file):
    from installer import answers, facts, profiles, sandbox as sb
    from installer.root import TargetRoot
    target = TargetRoot(str(root))
    profile = profiles.get("debian-12")
    loaded = answers.load(str(answers_file))
    found = facts.gather(profile, sb.make_runner(target, profile), target, check_updates=False)
    return mdns.for_target(loaded, profile, found, target)


def test_verify_all_published(sandbox, capsys):
    answers, root = sandbox
    (root / "etc/dkimkeys/s1.public").write_text(pem_public_key())
    server = TinyDNS(published(root, expected_records(root, answers)))
    try:
        capsys.readouterr()
        code = cli.main(["verify", "--sandbox", "--root", str(root), "--resolver", f"127.0.0.1:{server.port}"])
        out = capsys.readouterr().out
    finally:
        server.close()
    assert code == 0, out
    assert "The DNS records are published as they should be." in out
    assert "[ok] s1._domainkey.example.com.: the DKIM key matches" in out
    assert ("s1._domainkey.example.com.", "TXT") in server.queries


def test_verify_says_what_is_missing_or_wrong_in_japanese(sandbox, capsys):
    answers, root = sandbox
    (root / "etc/dkimkeys/s1.public").write_text(pem_public_key())
    other_key = mdns.public_key_b64(pem_public_key())
    records = expected_records(root, answers)
    zone = published(root, records, skip={("_dmarc.example.com.", "TXT")}, change={
        ("example.com.", "TXT"): ['"v=spf1 a -all"'],
        ("s1._domainkey.example.com.", "TXT"): [" ".join('"%s"' % s for s in mdns.split_txt(
            "v=DKIM1; k=rsa; p=" + other_key))]})
    server = TinyDNS(zone)
    try:
        capsys.readouterr()
        code = cli.main(["verify", "--lang", "ja", "--json", "--sandbox", "--root", str(root),
                         "--resolver", f"127.0.0.1:{server.port}"])
        out = capsys.readouterr().out
    finally:
        server.close()
    assert code == 1
    document = json.loads(out)
    results = {(f["name"], f["type"]): f for f in document["findings"]}
    assert results[("_dmarc.example.com.", "TXT")]["result"] == "missing"
    assert results[("example.com.", "TXT")]["result"] == "wrong"
    assert results[("s1._domainkey.example.com.", "TXT")]["result"] == "wrong"
    assert results[("example.com.", "MX")]["result"] == "ok"
    assert "DMARC" in results[("_dmarc.example.com.", "TXT")]["text"]
    # In the run's language.
    assert any(ord(c) > 0x3000 for c in results[("_dmarc.example.com.", "TXT")]["text"])


def test_verify_offline_says_so(sandbox, capsys):
    answers, root = sandbox
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]            # bound, never answers: as a host without network
        capsys.readouterr()
        code = cli.main(["verify", "--sandbox", "--root", str(root), "--resolver", f"127.0.0.1:{port}"])
    out = capsys.readouterr().out
    assert code == 0
    assert "No name server answered" in out and "were not checked" in out
