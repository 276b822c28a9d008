"""Checks of existing certificate files (certificate: existing): made here
with ``cryptography``, a CA, an intermediate and leaves good and bad."""
from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from installer import answers, certs
from installer.root import TargetRoot

NOW = datetime.datetime.now(datetime.timezone.utc)


def key():
    return ec.generate_private_key(ec.SECP256R1())


def cert(subject_key, cn, issuer_key=None, issuer_cn=None, names=(), days=(-1, 90), ca=False):
    issuer_key = issuer_key or subject_key
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_cn or cn)]))
               .public_key(subject_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(NOW + datetime.timedelta(days=days[0]))
               .not_valid_after(NOW + datetime.timedelta(days=days[1])))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), False)
    if ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
    return builder.sign(issuer_key, hashes.SHA256())


def pem(*items):
    out = b""
    for item in items:
        if isinstance(item, x509.Certificate):
            out += item.public_bytes(serialization.Encoding.PEM)
        else:
            out += item.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
    return out


@pytest.fixture(scope="module")
def pki():
    root_key, mid_key, leaf_key = key(), key(), key()
    root = cert(root_key, "Root", ca=True)
    mid = cert(mid_key, "Intermediate", root_key, "Root", ca=True)
    leaf = cert(leaf_key, "mail.example.com", mid_key, "Intermediate", names=["mail.example.com"])
    return {"root_key": root_key, "mid_key": mid_key, "leaf_key": leaf_key, "root": root, "mid": mid, "leaf": leaf}


def texts(found):
    return [m.render("en") for m in found]


def test_a_good_chain_passes(pki):
    assert certs.check_files(pem(pki["leaf"], pki["mid"]), pem(pki["leaf_key"]), "mail.example.com") == ([], [])
    # One file with key and chain, as some admins keep them.
    both = pem(pki["leaf_key"], pki["leaf"], pki["mid"])
    assert certs.check_files(both, both, "MAIL.example.com.") == ([], [])


def test_key_that_does_not_belong(pki):
    errors, _ = certs.check_files(pem(pki["leaf"], pki["mid"]), pem(key()), "mail.example.com")
    assert texts(errors) == ["the private key does not belong to the certificate"]


def test_wrong_name_and_wildcards(pki):
    errors, _ = certs.check_files(pem(pki["leaf"], pki["mid"]), pem(pki["leaf_key"]), "mx.example.com")
    assert "not for mx.example.com" in texts(errors)[0]
    wild = cert(pki["leaf_key"], "x", pki["mid_key"], "Intermediate", names=["*.example.com"])
    assert certs.check_files(pem(wild, pki["mid"]), pem(pki["leaf_key"]), "mx.example.com")[0] == []
    assert certs.check_files(pem(wild, pki["mid"]), pem(pki["leaf_key"]), "a.b.example.com")[0]


def test_expired_not_yet_valid_and_soon(pki):
    old = cert(pki["leaf_key"], "m", pki["mid_key"], "Intermediate", names=["mail.example.com"], days=(-90, -1))
    assert "expired" in texts(certs.check_files(pem(old, pki["mid"]), pem(pki["leaf_key"]), "mail.example.com")[0])[0]
    later = cert(pki["leaf_key"], "m", pki["mid_key"], "Intermediate", names=["mail.example.com"], days=(2, 90))
    assert "valid only from" in texts(certs.check_files(pem(later), pem(pki["leaf_key"]), "mail.example.com")[0])[0]
    soon = cert(pki["leaf_key"], "m", pki["mid_key"], "Intermediate", names=["mail.example.com"], days=(-1, 5))
    errors, warnings = certs.check_files(pem(soon, pki["mid"]), pem(pki["leaf_key"]), "mail.example.com")
    assert errors == [] and "expires soon" in texts(warnings)[0]


def test_broken_and_incomplete_chains(pki):
    stranger = cert(key(), "Stranger", ca=True)
    errors, _ = certs.check_files(pem(pki["leaf"], stranger), pem(pki["leaf_key"]), "mail.example.com")
    assert "chain is broken" in texts(errors)[0]
    errors, warnings = certs.check_files(pem(pki["leaf"]), pem(pki["leaf_key"]), "mail.example.com")
    assert errors == [] and "intermediate" in texts(warnings)[0]
    own = cert(pki["leaf_key"], "mail.example.com", names=["mail.example.com"])
    assert "self-signed" in texts(certs.check_files(pem(own), pem(pki["leaf_key"]), "mail.example.com")[1])[0]


def test_not_pem():
    errors, _ = certs.check_files(b"cert", b"key", "mail.example.com")
    assert "cannot be read" in texts(errors)[0]


def test_validation_reports_them_at_the_certificate(tmp_path, pki):
    (tmp_path / "etc/ssl").mkdir(parents=True)
    (tmp_path / "etc/ssl/mail.pem").write_bytes(pem(pki["leaf"], pki["mid"]))
    (tmp_path / "etc/ssl/other.key").write_bytes(pem(key()))
    text = ("version: 1\npostfix: {hostname: mail.example.com, domain: example.com}\nauth:\n  tls:\n"
            "    certificate: existing\n    cert_file: /etc/ssl/mail.pem\n    key_file: %s\n")
    with pytest.raises(answers.AnswerErrors) as caught:
        answers.loads(text % "/etc/ssl/other.key", root=TargetRoot(str(tmp_path)))
    assert [e.key_path for e in caught.value.errors] == ["auth.tls.cert_file"]
    assert "does not belong" in caught.value.errors[0].message.render("en")
    (tmp_path / "etc/ssl/mail.key").write_bytes(pem(pki["leaf_key"]))
    answers.loads(text % "/etc/ssl/mail.key", root=TargetRoot(str(tmp_path)))
