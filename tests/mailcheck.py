"""What a user and an outsider see of a real mail server, as test helpers:
shared by the host end-to-end test (tests/e2e, server on 127.0.0.1, outsider
127.0.0.2) and the booted Debian machines (tests/targets, server on the
machine's address, outsider the host end of its veth).

Each helper raises AssertionError with what it saw; every network operation is
bounded by TIMEOUT.  Also here: the manifest of a tree (/etc before and after
a run) and how two manifests are compared.
"""
from __future__ import annotations

import hashlib
import imaplib
import os
import poplib
import smtplib
import socket
import ssl
import time
import uuid
from pathlib import Path
from typing import Dict, List, Optional, Tuple

TIMEOUT = 10                   # seconds for one network operation
SOFTWARE_NAMES = ("postfix", "dovecot", "debian", "ubuntu")


def tls_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False          # the servers have self-signed certificates
    context.verify_mode = ssl.CERT_NONE
    return context


def smtp(host: str, port: int, helo: str, source: Optional[str] = None) -> smtplib.SMTP:
    client = smtplib.SMTP(host, port, local_hostname=helo, timeout=TIMEOUT,
                          source_address=(source, 0) if source else None)
    client._host = host   # starttls() names the server from it
    return client


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def open_ports(host: str, ports) -> List[int]:
    return [port for port in ports if port_open(host, port)]


MAIL_PORTS = [25, 587, 143, 993, 110, 995]


# --- what the server shows ------------------------------------------------------------

def assert_banner_names_no_software(host: str, source: Optional[str] = None) -> str:
    """The 220 greeting on port 25 names no software; the greeting."""
    with socket.create_connection((host, 25), timeout=TIMEOUT,
                                  source_address=(source, 0) if source else None) as sock:
        greeting = sock.makefile("rb").readline().decode("utf-8", "replace").strip()
        sock.sendall(b"QUIT\r\n")
    assert greeting.startswith("220 "), greeting
    named = [name for name in SOFTWARE_NAMES if name in greeting.lower()]
    assert not named, "the greeting names {}: {}".format(named, greeting)
    return greeting


def send_with_auth_on_587(host: str, user: str, password: str, domain: str,
                          source: Optional[str] = None) -> str:
    """AUTH after STARTTLS on 587 (a wrong password refused with 535), then a
    message to the user; its Message-ID."""
    marker = "<mailwiz-test-{}@{}>".format(uuid.uuid4().hex, domain)
    address = "{}@{}".format(user, domain)
    message = ("From: {0}\r\nTo: {0}\r\nSubject: mailwiz test\r\nMessage-ID: {1}\r\n\r\nhello {1}\r\n"
               .format(address, marker))
    client = smtp(host, 587, "client." + domain, source)
    try:
        client.ehlo()
        client.starttls(context=tls_context())
        client.ehlo()
        client.user, client.password = user, "not-the-password"
        try:
            client.auth("PLAIN", client.auth_plain)
        except smtplib.SMTPAuthenticationError as wrong:
            assert wrong.smtp_code == 535, wrong
        else:
            raise AssertionError("AUTH with a wrong password succeeded")
        client.user, client.password = user, password
        code, _ = client.auth("PLAIN", client.auth_plain)
        assert code == 235
        assert client.sendmail(address, [address], message.encode()) == {}
    finally:
        client.quit()
    return marker


def read_back_over_imaps(host: str, user: str, password: str, marker: str, wait: float = 20) -> bytes:
    """The message *marker* in the user's INBOX over IMAPS (993); its bytes."""
    imap = imaplib.IMAP4_SSL(host, 993, ssl_context=tls_context(), timeout=TIMEOUT)
    try:
        imap.login(user, password)
        deadline = time.monotonic() + wait
        found: List[bytes] = []
        while not found and time.monotonic() < deadline:
            imap.select("INBOX")
            status, data = imap.search(None, "HEADER", "Message-ID", '"{}"'.format(marker))
            found = data[0].split() if status == "OK" else []
            if not found:
                time.sleep(0.5)
        assert found, "the message did not show in the IMAP INBOX within {} s".format(wait)
        status, data = imap.fetch(found[0], "(RFC822)")
        assert status == "OK" and marker.encode() in data[0][1]
        return data[0][1]
    finally:
        imap.logout()


def read_back_over_pop3s(host: str, user: str, password: str, marker: str) -> bytes:
    """The message *marker* among the user's messages over POP3S (995)."""
    pop = poplib.POP3_SSL(host, 995, context=tls_context(), timeout=TIMEOUT)
    try:
        pop.user(user)
        pop.pass_(password)
        count, _ = pop.stat()
        for number in range(1, count + 1):
            _, lines, _ = pop.retr(number)
            data = b"\r\n".join(lines)
            if marker.encode() in data:
                return data
        raise AssertionError("the message is not among the {} POP3 messages".format(count))
    finally:
        pop.quit()


def assert_no_relay(host: str, source: Optional[str], user: str, domain: str) -> None:
    """A client outside mynetworks, without AUTH, cannot send elsewhere."""
    client = smtp(host, 25, "client." + domain, source)
    try:
        client.ehlo()
        code, _ = client.mail("{}@{}".format(user, domain))
        assert code == 250
        code, reply = client.rcpt("victim@example.net")
        assert code in (454, 554), (code, reply)
        assert b"Relay access denied" in reply, reply
    finally:
        client.quit()


def assert_no_auth_without_tls(host: str, source: Optional[str], user: str, password: str, domain: str) -> None:
    """From outside: no AUTH before STARTTLS on 587 (nothing accepted there
    before TLS) nor on 25, AUTH PLAIN after STARTTLS on 25; and Dovecot refuses
    a cleartext IMAP login before STARTTLS."""
    client = smtp(host, 587, "client." + domain, source)
    try:
        client.ehlo()
        assert not client.has_extn("auth")
        code, reply = client.mail("{}@{}".format(user, domain))
        assert code == 530 and b"STARTTLS" in reply, (code, reply)
        code, _ = client.docmd("AUTH", "PLAIN AG13ZTJlAHg=")
        assert code >= 500
    finally:
        client.quit()
    client = smtp(host, 25, "client." + domain, source)
    try:
        client.ehlo()
        assert not client.has_extn("auth")
        client.starttls(context=tls_context())
        client.ehlo()
        assert "PLAIN" in client.esmtp_features.get("auth", "").upper()
    finally:
        client.quit()
    sock = socket.create_connection((host, 143), timeout=TIMEOUT, source_address=(source, 0) if source else None)
    try:
        reader = sock.makefile("rb")
        assert reader.readline().startswith(b"* OK")
        sock.sendall(b"a1 LOGIN " + user.encode() + b" \"" + password.encode() + b"\"\r\n")
        reply = reader.readline()
        while reply.startswith(b"*"):
            reply = reader.readline()
        assert reply.startswith(b"a1 NO") or reply.startswith(b"a1 BAD"), reply
    finally:
        sock.close()


# --- manifests of /etc ---------------------------------------------------------------------

Entry = Tuple
Manifest = Dict[str, Entry]


def manifest(root: str = "/", top: str = "/etc") -> Manifest:
    """{path: (kind, mode, uid, gid, content hash or link target)} for the tree
    *top* of the file system at *root* (a booted machine's root is a host folder);
    paths as seen from inside (``/etc/...``)."""
    base = os.path.join(root, top.lstrip("/"))
    out: Manifest = {}
    for folder, dirs, files in os.walk(base):
        for name in dirs + files:
            path = os.path.join(folder, name)
            key = "/" + os.path.relpath(path, root)
            st = os.lstat(path)
            if os.path.islink(path):
                out[key] = ("link", os.readlink(path))
            elif os.path.isdir(path):
                out[key] = ("dir", st.st_mode & 0o7777, st.st_uid, st.st_gid)
            else:
                digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
                out[key] = ("file", st.st_mode & 0o7777, st.st_uid, st.st_gid, digest)
    return out


# Files the system itself rewrites while packages come and go, whatever they
# were: the dynamic linker's cache (ldconfig trigger) and the "-" backups that
# useradd/userdel/groupdel keep of the account files.
VOLATILE = {"/etc/ld.so.cache", "/etc/passwd-", "/etc/group-", "/etc/shadow-", "/etc/gshadow-",
            "/etc/subuid-", "/etc/subgid-"}


def manifest_differences(before: Manifest, after: Manifest) -> List[tuple]:
    """Paths whose entry differs.  A Berkeley DB map (``X.db``) is judged by its
    source: postalias/postmap never write the same bytes twice (the package's
    postinst runs newaliases too), so X.db present on both sides with X
    unchanged counts as unchanged."""
    keys = (set(before) | set(after)) - VOLATILE
    out = []
    for path in sorted(keys):
        if before.get(path) == after.get(path):
            continue
        source = path[:-3] if path.endswith(".db") else None
        if (source and path in before and path in after and before.get(source) is not None
                and before.get(source) == after.get(source)):
            continue
        out.append((path, before.get(path), after.get(path)))
    return out


def file_count(entries: Manifest) -> int:
    return sum(1 for entry in entries.values() if entry[0] == "file")
