"""Checks of certificate files an admin already has (``certificate: existing``).

Read with ``cryptography`` from the bytes on the target, before anything
changes: the private key belongs to the first certificate, each certificate
in the file is signed by the next one (the chain), the first one is valid now
and for a while yet, and it names the mail host (subjectAltName, wildcards as
clients match them).  A problem a client would refuse is an error; what only
some clients mind (a missing intermediate, expiry within a month) a warning.
"""
from __future__ import annotations

import datetime
from typing import List, Optional, Tuple

from installer.i18n import Msg, N_

SOON_DAYS = 30


def _blocks(data: bytes, kind: bytes) -> List[bytes]:
    """The PEM blocks of *kind* (b"CERTIFICATE", b"PRIVATE KEY") in a file that may hold both."""
    found, rest = [], data
    while b"-----BEGIN " in rest:
        start = rest.index(b"-----BEGIN ")
        label = rest[start + 11:rest.index(b"-----", start + 11)]
        end_mark = b"-----END " + label + b"-----"
        end = rest.find(end_mark, start)
        if end < 0:
            break
        if label.endswith(kind):
            found.append(rest[start:end + len(end_mark)] + b"\n")
        rest = rest[end + len(end_mark):]
    return found


def _load(cert_pem: bytes, key_pem: bytes):
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    chain = [x509.load_pem_x509_certificate(block) for block in _blocks(cert_pem, b"CERTIFICATE")]
    keys = _blocks(key_pem, b"PRIVATE KEY")
    if not keys:
        raise ValueError("no private key")
    return chain, load_pem_private_key(keys[0], password=None)


def _public_bytes(public_key) -> bytes:
    from cryptography.hazmat.primitives import serialization
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _not_after(cert) -> datetime.datetime:
    value = getattr(cert, "not_valid_after_utc", None)
    return value if value is not None else cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)


def _not_before(cert) -> datetime.datetime:
    value = getattr(cert, "not_valid_before_utc", None)
    return value if value is not None else cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)


def names_of(cert) -> List[str]:
    """DNS names the certificate is for (subjectAltName; the CN only without one)."""
    from cryptography import x509
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        return [name.lower() for name in san.get_values_for_type(x509.DNSName)]
    except x509.ExtensionNotFound:
        return [a.value.lower() for a in cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)]


def name_matches(pattern: str, hostname: str) -> bool:
    """RFC 6125: a wildcard stands for exactly one leftmost label."""
    pattern, hostname = pattern.lower().rstrip("."), hostname.lower().rstrip(".")
    if pattern.startswith("*."):
        head, _, rest = hostname.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == hostname


def _signed_by(cert, issuer) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except AttributeError:                      # cryptography < 40: compare names only
        return cert.issuer == issuer.subject
    except Exception:                           # wrong signature, wrong issuer name, unsupported key
        return False


def check_files(cert_pem: bytes, key_pem: bytes, hostname: str,
                now: Optional[datetime.datetime] = None) -> Tuple[List[Msg], List[Msg]]:
    """(errors, warnings) about a certificate file and its key file."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    try:
        chain, key = _load(cert_pem, key_pem)
    except (ValueError, TypeError) as exc:
        return [Msg(N_("the certificate or key file cannot be read as PEM: {error}"), error=str(exc)[:120])], []
    if not chain:
        return [Msg(N_("the certificate file holds no certificate"))], []
    errors: List[Msg] = []
    warnings: List[Msg] = []
    leaf = chain[0]
    if _public_bytes(leaf.public_key()) != _public_bytes(key.public_key()):
        errors.append(Msg(N_("the private key does not belong to the certificate")))
    if _not_after(leaf) < now:
        errors.append(Msg(N_("the certificate expired on {date}"), date=_not_after(leaf).strftime("%Y-%m-%d")))
    elif _not_before(leaf) > now:
        errors.append(Msg(N_("the certificate is valid only from {date}"),
                          date=_not_before(leaf).strftime("%Y-%m-%d")))
    elif _not_after(leaf) - now < datetime.timedelta(days=SOON_DAYS):
        warnings.append(Msg(N_("the certificate expires soon, on {date}"),
                            date=_not_after(leaf).strftime("%Y-%m-%d")))
    names = names_of(leaf)
    if not any(name_matches(name, hostname) for name in names):
        errors.append(Msg(N_("the certificate is for {names}, not for {hostname}"),
                          names=", ".join(names) or "-", hostname=hostname))
    for cert, issuer in zip(chain, chain[1:]):
        if not _signed_by(cert, issuer):
            errors.append(Msg(N_("the chain is broken: {subject} is not signed by the next certificate in the "
                                 "file ({issuer})"), subject=cert.subject.rfc4514_string(),
                              issuer=issuer.subject.rfc4514_string()))
    if len(chain) == 1 and leaf.issuer != leaf.subject:
        warnings.append(Msg(N_("the file holds only the certificate, without the intermediate certificate of "
                               "{issuer}: clients that lack it will refuse the certificate (put the chain after "
                               "it, as in fullchain.pem)"), issuer=leaf.issuer.rfc4514_string()))
    elif len(chain) == 1:
        warnings.append(Msg(N_("the certificate is self-signed: other servers and clients will not trust it")))
    return errors, warnings
