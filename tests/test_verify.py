"""steps/verify.py: which checks run for which answers, the pure helpers, and
the whole self-test against small fake SMTP/IMAP/POP3 servers on 127.0.0.1
(the real servers are the e2e test's business)."""
from __future__ import annotations

import socket
import socketserver
import ssl
import threading
from pathlib import Path

import pytest

import steps
from installer.i18n import Msg
from installer.journal import render_entry
from installer.root import TargetRoot
from installer.runner import Result
from steps import verify
from tests.realtools import selfsigned_cert  # noqa: F401 (fixture)
from tests.stepkit import answers_with, step_input

ALL_IDS = ["smtp-banner", "smtp-starttls", "smtp-auth", "submission", "imap", "imaps", "pop3", "pop3s",
           "auth-socket", "delivery"]


def test_verify_plans_nothing_and_is_not_a_step():
    assert verify.plan(step_input("debian-12")) == []
    assert "verify" not in steps.ORDER
    assert verify.NAME == "verify" and verify.TITLE


# --- which checks run ------------------------------------------------------------------

def skipped(answers):
    return {check.id for check, reason in verify.checks_for(answers, None, verify.Settings()) if reason is not None}


@pytest.mark.parametrize("overrides, expected_skips", [
    ({}, set()),
    ({"services.start": False}, set(ALL_IDS)),
    ({"auth.sasl": False}, {"smtp-auth", "auth-socket"}),
    ({"auth.submission": False}, {"submission"}),
    ({"dovecot.protocols": ["imap", "lmtp"]}, {"pop3", "pop3s"}),
    ({"dovecot.protocols": ["pop3"]}, {"imap", "imaps"}),
    ({"auth.sasl": False, "auth.submission": False, "auth.tls.certificate": "none"},
     {"smtp-starttls", "smtp-auth", "submission", "imaps", "pop3s", "auth-socket"}),
    ({"postfix.inet_interfaces": ["192.0.2.25"]}, {"smtp-banner", "smtp-starttls", "smtp-auth", "submission",
                                                   "delivery"}),
    ({"postfix.inet_interfaces": "loopback-only"}, set()),
    ({"dovecot.listen": ["::"]}, {"imap", "imaps", "pop3", "pop3s"}),
])
def test_checks_for_answers(overrides, expected_skips):
    answers = answers_with(**overrides)
    assert [c.id for c, _ in verify.checks_for(answers, None, verify.Settings())] == ALL_IDS
    assert skipped(answers) == expected_skips


# --- helpers --------------------------------------------------------------------------------

PASSWD = "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n"


@pytest.mark.parametrize("aliases, expected", [
    (None, ("root", None)),
    ("postmaster: root\n", ("root", None)),
    ("root: alice\n", ("alice", None)),
    ("root: admin\nadmin: alice\n", ("alice", None)),
    ("root: alice@mail.example.com\n", ("alice", None)),
    ("root: boss@elsewhere.example\n", (None, "boss@elsewhere.example")),
    ("root: alice, bob\n", (None, "alice, bob")),
    ("root: |/usr/bin/procmail\n", (None, "|/usr/bin/procmail")),
    ("root: nobody-here\n", (None, "nobody-here")),
    ("root: a\na: root\n", ("root", None)),
])
def test_root_mail_user(aliases, expected):
    assert verify.root_mail_user(aliases, PASSWD, ["mail.example.com", "localhost"]) == expected


def test_local_domains_puts_the_host_name_first():
    answers = answers_with(**{"postfix.destinations": ["localhost", "$mydomain", "$myhostname"]})
    assert verify.local_domains(answers) == ["mail.example.com", "localhost", "example.com"]


def test_passwd_entry():
    assert verify.passwd_entry(PASSWD, "alice") == (1000, "/home/alice")
    assert verify.passwd_entry(PASSWD, "bob") is None


# --- fake servers ------------------------------------------------------------------------------

class Conn:
    def __init__(self, sock, server_ctx):
        self.sock, self.ctx, self.buf = sock, server_ctx, b""

    def readline(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise EOFError
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode().rstrip("\r")

    def send(self, *lines):
        self.sock.sendall("".join(line + "\r\n" for line in lines).encode())

    def starttls(self):
        self.sock = self.ctx.wrap_socket(self.sock, server_side=True)
        self.buf = b""


def smtp_script(world, submission=False):
    def run(conn, peer):
        conn.send("220 " + world["banner"])
        tls = False
        while True:
            line = conn.readline()
            verb = line.split(" ")[0].upper()
            if verb == "EHLO":
                caps = ["250-mail.example.com"]
                if not tls:
                    caps.append("250-STARTTLS")
                if tls or world["auth_before_tls"]:
                    caps.append("250-AUTH PLAIN LOGIN")
                caps.append("250 8BITMIME")
                conn.send(*caps)
            elif verb == "STARTTLS":
                conn.send("220 2.0.0 Ready to start TLS")
                conn.starttls()
                tls = True
            elif verb == "MAIL":
                if submission and not tls:
                    conn.send("530 5.7.0 Must issue a STARTTLS command first")
                else:
                    conn.send("250 2.1.0 Ok")
            elif verb == "RCPT":
                conn.send("250 2.1.5 Ok")
            elif verb == "DATA":
                conn.send("354 End data with <CR><LF>.<CR><LF>")
                body = []
                while True:
                    data = conn.readline()
                    if data == ".":
                        break
                    body.append(data)
                if world["deliver_to"]:
                    folder = world["deliver_to"]
                    folder.mkdir(parents=True, exist_ok=True)
                    (folder / "1.fake").write_text("\n".join(body))
                conn.send("250 2.0.0 Ok: queued")
            elif verb == "RSET":
                conn.send("250 2.0.0 Ok")
            elif verb == "QUIT":
                conn.send("221 2.0.0 Bye")
                return
            else:
                conn.send("502 5.5.2 Error: command not recognized")
    return run


def imap_script(world, direct_tls=False):
    def run(conn, peer):
        if direct_tls:
            conn.starttls()
        conn.send("* OK [CAPABILITY IMAP4rev1] ready")
        tls = direct_tls
        while True:
            tag, _, command = conn.readline().partition(" ")
            command = command.upper()
            if command == "CAPABILITY":
                caps = ["IMAP4rev1"]
                if not tls:
                    caps.append("STARTTLS")
                    if peer != "127.0.0.1" and world["logindisabled"]:
                        caps.append("LOGINDISABLED")
                else:
                    caps.append("AUTH=PLAIN")
                conn.send("* CAPABILITY " + " ".join(caps), tag + " OK done")
            elif command == "STARTTLS":
                conn.send(tag + " OK Begin TLS negotiation now.")
                conn.starttls()
                tls = True
            elif command == "LOGOUT":
                conn.send("* BYE", tag + " OK bye")
                return
    return run


def pop3_script(world, direct_tls=False):
    def run(conn, peer):
        if direct_tls:
            conn.starttls()
        conn.send("+OK Dovecot ready.")
        tls = direct_tls
        while True:
            command = conn.readline().upper()
            if command == "CAPA":
                caps = ["TOP", "UIDL"]
                if not tls:
                    caps.append("STLS")
                if tls or peer == "127.0.0.1":
                    caps += ["USER", "SASL PLAIN LOGIN"]
                conn.send("+OK", *caps, ".")
            elif command == "STLS":
                conn.send("+OK Begin TLS negotiation now.")
                conn.starttls()
                tls = True
            elif command == "QUIT":
                conn.send("+OK Logging out.")
                return
    return run


class FakeServers:
    """One thread per listening socket; each connection runs a protocol script."""

    def __init__(self, cert, key):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(str(cert), str(key))
        self.servers = []
        self.ports = {}

    def add(self, name, script):
        ctx = self.ctx

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                try:
                    script(Conn(self.request, ctx), self.client_address[0])
                except (EOFError, OSError, ssl.SSLError):
                    pass

        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
        self.servers.append(server)
        self.ports[name] = server.server_address[1]

    def close(self):
        for server in self.servers:
            server.shutdown()
            server.server_close()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PreauthImap:
    """Stands in for ``doveadm exec imap -u USER``: an IMAP session on stdin and
    stdout whose INBOX is the Maildir ``world["imap_inbox"]`` (its new/ and cur/),
    which need not be where the fake SMTP server delivers."""

    def __init__(self, world):
        self.world = world
        self.sessions = []

    def run(self, argv, *, check=True, timeout=None, input=None, env=None, on_output=None):
        assert argv == ["doveadm", "exec", "imap", "-u", "alice"], argv
        self.sessions.append(input)
        out = ["* PREAUTH [CAPABILITY IMAP4rev1] Logged in as alice"]
        inbox = self.world["imap_inbox"]
        for line in input.splitlines():
            tag, _, command = line.strip().partition(" ")
            upper = command.upper()
            if upper == "EXAMINE INBOX":
                out.append(tag + " OK [READ-ONLY] Examine completed")
            elif upper.startswith("SEARCH HEADER MESSAGE-ID "):
                wanted = command.split(None, 3)[3].strip('"').encode()
                files = sorted(f for sub in ("new", "cur") for f in (inbox / sub).glob("*"))
                out.append("* SEARCH" + "".join(" {}".format(n) for n, f in enumerate(files, 1)
                                                 if wanted in f.read_bytes()))
                out.append(tag + " OK Search completed")
            elif upper == "LOGOUT":
                out += ["* BYE Logging out", tag + " OK Logout completed"]
        return Result(list(argv), 0, "\r\n".join(out), "")


class Ctx:
    def __init__(self, root, runner=None):
        self.root = root
        self.runner = runner
        self.events = []

    def emit(self, event, **data):
        entry = {"event": event, **{k: (v.to_json() if isinstance(v, Msg) else v) for k, v in data.items()}}
        self.events.append(entry)
        return entry


@pytest.fixture
def world(tmp_path, selfsigned_cert):  # noqa: F811
    cert, key = selfsigned_cert
    target = tmp_path / "target"
    (target / "etc").mkdir(parents=True)
    (target / "etc/passwd").write_text(PASSWD.replace("/home/alice", str("/home/alice")))
    (target / "etc/aliases").write_text("postmaster: root\nroot: alice\n")
    sock_dir = target / "var/spool/postfix/private"
    sock_dir.mkdir(parents=True)
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(str(sock_dir / "auth"))
    state = {"banner": "mail.example.com ESMTP", "auth_before_tls": False, "logindisabled": True,
             "deliver_to": target / "home/alice/Maildir/new", "imap_inbox": target / "home/alice/Maildir",
             "target": target}
    servers = FakeServers(cert, key)
    servers.add("smtp", smtp_script(state))
    servers.add("submission", smtp_script(state, submission=True))
    servers.add("imap", imap_script(state))
    servers.add("imaps", imap_script(state, direct_tls=True))
    servers.add("pop3", pop3_script(state))
    servers.add("pop3s", pop3_script(state, direct_tls=True))
    state["settings"] = verify.Settings(ports=servers.ports, timeout=3, connect_wait=0.5, delivery_wait=0.3)
    yield state
    servers.close()
    unix.close()


def run_verify(world, answers=None):
    world["imap"] = PreauthImap(world)
    ctx = Ctx(TargetRoot(str(world["target"])), world["imap"])
    results = verify.runner_for(None, None, answers or answers_with(), world["settings"])(ctx)
    return {r["id"]: r for r in results}, ctx


def test_all_checks_pass_against_well_behaved_servers(world):
    results, ctx = run_verify(world)
    assert {k: r["result"] for k, r in results.items()} == {k: "pass" for k in ALL_IDS}, \
        {k: Msg.from_json(r["detail"]).render() for k, r in results.items()}
    assert "alice@mail.example.com" in Msg.from_json(results["delivery"]["detail"]).render()
    assert "IMAP INBOX" in Msg.from_json(results["delivery"]["detail"]).render()
    assert len(world["imap"].sessions) == 1 and "EXAMINE INBOX" in world["imap"].sessions[0]
    # The test message is removed once found.
    assert list((world["target"] / "home/alice/Maildir/new").iterdir()) == []
    checks = [e for e in ctx.events if e["event"] == "check"]
    assert [e["id"] for e in checks] == ALL_IDS
    line = render_entry({"t": "2024-01-01T00:00:00.000+00:00", **checks[0]}, "en")
    assert line.startswith("00:00:00 [pass] SMTP greeting on port ")
    for result in results.values():
        assert set(result) == {"id", "title", "result", "detail", "hint"}
        Msg.from_json(result["hint"]).render("ja")


def test_software_name_in_banner_fails(world):
    world["banner"] = "mail.example.com ESMTP Postfix (Debian/GNU)"
    results, _ = run_verify(world)
    assert results["smtp-banner"]["result"] == "fail"
    assert "smtpd_banner" in Msg.from_json(results["smtp-banner"]["hint"]).render()


def test_auth_before_tls_fails_on_25_and_587(world):
    world["auth_before_tls"] = True
    results, _ = run_verify(world)
    assert results["smtp-auth"]["result"] == "fail"
    assert results["submission"]["result"] == "fail"
    assert "before STARTTLS" in Msg.from_json(results["smtp-auth"]["detail"]).render()


def test_cleartext_imap_from_outside_fails(world):
    world["logindisabled"] = False
    results, _ = run_verify(world)
    assert results["imap"]["result"] == "fail"
    assert "LOGINDISABLED" in Msg.from_json(results["imap"]["detail"]).render()


def test_message_not_delivered_fails(world):
    world["deliver_to"] = None
    results, _ = run_verify(world)
    assert results["delivery"]["result"] == "fail"
    assert "not in" in Msg.from_json(results["delivery"]["detail"]).render()


def test_delivered_but_not_in_the_imap_inbox_fails(world):
    """Dovecot 2.4 with an empty mail_inbox_path: the message is in ~/Maildir/new,
    the user's IMAP INBOX (~/Maildir/.INBOX) is empty."""
    world["imap_inbox"] = world["target"] / "home/alice/Maildir/.INBOX"
    results, _ = run_verify(world)
    assert results["delivery"]["result"] == "fail"
    detail = Msg.from_json(results["delivery"]["detail"]).render()
    assert "not seen over IMAP" in detail and "alice's IMAP INBOX does not show it" in detail
    assert list((world["target"] / "home/alice/Maildir/new").iterdir()) == []   # the test message is gone


def test_without_imap_delivery_is_judged_by_the_file(world):
    world["imap_inbox"] = world["target"] / "home/alice/Maildir/.INBOX"
    results, _ = run_verify(world, answers_with(**{"dovecot.protocols": ["pop3", "lmtp"]}))
    assert results["delivery"]["result"] == "pass"
    assert world["imap"].sessions == []


def test_missing_auth_socket_fails(world):
    (world["target"] / "var/spool/postfix/private/auth").unlink()
    world["settings"].socket_wait = 0.05
    results, _ = run_verify(world)
    assert results["auth-socket"]["result"] == "fail"


def test_nothing_listening_fails_without_raising(world):
    world["settings"].ports = {name: free_port() for name in verify.PORTS}
    world["settings"].connect_wait = 0.05
    results, _ = run_verify(world)
    for check_id in ("smtp-banner", "imap", "imaps", "pop3", "pop3s", "delivery"):
        assert results[check_id]["result"] == "fail", check_id
        assert "port" in Msg.from_json(results[check_id]["detail"]).render()


def test_a_file_in_place_of_the_auth_socket_fails(world):
    path = world["target"] / "var/spool/postfix/private/auth"
    path.unlink()
    path.write_text("")
    results, _ = run_verify(world)
    assert results["auth-socket"]["result"] == "fail"
    assert "not a socket" in Msg.from_json(results["auth-socket"]["detail"]).render()


def test_root_mail_off_the_host_skips_delivery(world):
    (world["target"] / "etc/aliases").write_text("root: boss@elsewhere.example\n")
    results, _ = run_verify(world)
    assert results["delivery"]["result"] == "skip"


def test_a_crashing_check_is_a_failed_check():
    check = verify.Check("x", Msg("x"), Msg("y"), lambda: 1 / 0)
    result, detail = verify.run_check(check)
    assert result == "fail" and "ZeroDivisionError" in detail.render()
