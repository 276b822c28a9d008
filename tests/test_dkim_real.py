"""DKIM for real: the dkim step's own key commands and opendkim.conf, run by a
real ``opendkim`` process on a loopback port, fed messages by ``miltertest``
(the milter client from OpenDKIM's sources, speaking to it as Postfix does);
each DKIM-Signature it adds is verified with dkimpy against the key in the TXT
record that ``installer.dns`` prints.

Root only (opendkim drops to its ``opendkim`` user, which must own the key);
skipped where opendkim or miltertest is missing (tests/run.sh installs them).
Nothing of the host's OpenDKIM is touched: the key and config live in a
temporary folder, the socket is on a free loopback port, the pid file there.
"""
from __future__ import annotations

import dataclasses
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from installer import dns, profiles
from steps import dkim
from tests.stepkit import answers_with, facts_for

MESSAGES = 20

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("opendkim", path="/usr/sbin:/usr/bin")
    or not shutil.which("miltertest"),
    reason="needs root, opendkim and miltertest")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, proc, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"opendkim exited with {proc.returncode}: {proc.stderr.read()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("opendkim did not listen")


LUA = """
conn = mt.connect("inet:{port}@127.0.0.1")
if conn == nil then error("mt.connect() failed") end
if mt.conninfo(conn, "localhost", "127.0.0.1") ~= nil then error("conninfo") end
mt.macro(conn, SMFIC_MAIL, "i", "Q{n}")
if mt.mailfrom(conn, "<user@example.com>") ~= nil then error("mailfrom") end
if mt.rcptto(conn, "<someone@example.org>") ~= nil then error("rcptto") end
mt.header(conn, "From", "User <user@example.com>")
mt.header(conn, "To", "someone@example.org")
mt.header(conn, "Subject", "test {n}")
mt.header(conn, "Date", "Wed, 02 Dec 2026 12:00:00 +0000")
mt.header(conn, "Message-ID", "<{n}.mailwiz@example.com>")
if mt.eoh(conn) ~= nil then error("eoh") end
mt.bodystring(conn, "Hello {n}.\\r\\nSigned by OpenDKIM.\\r\\n")
if mt.eom(conn) ~= nil then error("eom") end
if not mt.eom_check(conn, MT_HDRINSERT, "DKIM-Signature") and
   not mt.eom_check(conn, MT_HDRADD, "DKIM-Signature") then
  error("no DKIM-Signature added")
end
print("SIG:" .. mt.getheader(conn, "DKIM-Signature", 0))
mt.disconnect(conn)
"""


def message_bytes(n: int, signature: str) -> bytes:
    headers = [("DKIM-Signature", signature), ("From", "User <user@example.com>"), ("To", "someone@example.org"),
               ("Subject", f"test {n}"), ("Date", "Wed, 02 Dec 2026 12:00:00 +0000"),
               ("Message-ID", f"<{n}.mailwiz@example.com>")]
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    return (head + "\r\n" + f"Hello {n}.\r\nSigned by OpenDKIM.\r\n").encode()


@pytest.fixture
def workdir():
    # Not under pytest's tmp_path or /tmp: opendkim refuses a config or key in a
    # folder others may write to (/tmp), and reads the key as its own user
    # (tmp_path's parents are 0700 root).  /run is root's and 0755.
    path = tempfile.mkdtemp(prefix="mailwiz-dkim-", dir="/run")
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_opendkim_signs_and_the_printed_record_verifies(workdir):
    import dkim as dkimpy

    keys = os.path.join(workdir, "keys")
    os.mkdir(keys, 0o700)
    shutil.chown(keys, "opendkim", "opendkim")
    profile = dataclasses.replace(profiles.get("debian-12"), dkim_key_dir=keys)
    answers = answers_with(**{"dkim.enabled": True, "postfix.domain": "example.com",
                              "postfix.hostname": "mail.example.com"})
    facts = facts_for("debian-12", today="20261202")
    from steps import StepInput
    chosen = dkim.selector(StepInput(profile=profile, facts=facts, answers=answers))
    assert chosen == "202612"

    # The step's own commands, for real, in plan order.
    for command in dkim.key_commands(profile, chosen):
        subprocess.run(command.argv, check=True, capture_output=True, timeout=60)
    key, public = dkim.key_paths(profile, chosen)
    st = os.stat(key)
    assert (st.st_mode & 0o777, st.st_uid) == (0o600, pwd.getpwnam("opendkim").pw_uid)

    conf = os.path.join(workdir, "opendkim.conf")
    with open(conf, "w") as handle:
        handle.write(dkim.opendkim_conf(profile, answers, chosen))
    check = subprocess.run(["/usr/sbin/opendkim", "-n", "-x", conf], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr

    port = free_port()
    proc = subprocess.Popen(["/usr/sbin/opendkim", "-f", "-x", conf, "-p", f"inet:{port}@127.0.0.1",
                             "-P", os.path.join(workdir, "pid")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_port(port, proc)
        with open(public) as handle:
            b64 = dns.public_key_b64(handle.read())
        record = next(r for r in dns.records(answers, facts, b64, chosen) if "_domainkey" in r.name)
        assert all(len(s.encode()) <= 255 for s in record.strings) and len(record.strings) > 1
        txt = "".join(record.strings).encode()

        def dnsfunc(name, timeout=5):
            assert name.decode().rstrip(".") == f"{chosen}._domainkey.example.com"
            return txt

        verified = 0
        for n in range(MESSAGES):
            script = os.path.join(workdir, f"t{n}.lua")
            with open(script, "w") as handle:
                handle.write(LUA.format(port=port, n=n))
            out = subprocess.run(["miltertest", "-s", script], capture_output=True, text=True, timeout=30)
            assert out.returncode == 0, out.stdout + out.stderr
            # The header as opendkim folded it (lines joined by newline + tab).
            signature = out.stdout.split("SIG:", 1)[1].rstrip("\n").replace("\r\n", "\n").replace("\n", "\r\n")
            assert f"s={chosen}" in signature and "d=example.com" in signature
            assert dkimpy.verify(message_bytes(n, signature), dnsfunc=dnsfunc), signature
            verified += 1
        print(f"\nDKIM: {verified} signatures by real opendkim verified with dkimpy against the printed record")
        assert verified == MESSAGES
        # A changed body must not verify: the check is not a rubber stamp.
        tampered = message_bytes(n, signature).replace(f"Hello {n}.".encode(), b"Hello X.")
        assert not dkimpy.verify(tampered, dnsfunc=dnsfunc)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
