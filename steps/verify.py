"""The self-test after apply: does the configured mail server behave as asked?

The original notes stopped after editing files (``postconf -a`` to see that
Dovecot SASL is compiled in was the only check); nothing showed whether the
server answers, hides its software name, offers TLS, keeps passwords off clear
connections or delivers mail.  This step changes nothing (``plan`` returns no
actions, and it is not in ``steps.ORDER``): the engine calls the function from
``runner_for`` after the last action, and a failed check rolls the run back.

Every check talks to 127.0.0.1 only, with the standard library (smtplib for
SMTP, small line clients for IMAP and POP3, ssl without certificate checks,
since the certificate may be self-signed), with bounded timeouts, and needs no
user password:

- port 25: a 220 greeting without the software name; EHLO offers STARTTLS;
  with SASL, AUTH only after STARTTLS (``smtpd_tls_auth_only``);
- port 587 (submission): before TLS no AUTH and ``MAIL`` refused with 530;
  after STARTTLS, AUTH offered;
- IMAP 143 and POP3 110: STARTTLS/STLS offered and cleartext login refused
  before it, logins offered after it; IMAPS 993 and POP3S 995 answer over TLS.
  Dovecot treats a client on 127.0.0.1 as secure and allows cleartext there,
  so these come from 127.0.0.2 (any 127/8 address is local on Linux);
- the Dovecot auth socket Postfix uses exists and is a socket;
- a message to a local user (the one root's mail goes to, else root) is
  accepted on port 25 and shows up in that user's mailbox within seconds;
  with IMAP on, it must also be in the INBOX the user sees over IMAP: the
  check opens an IMAP session as that user (``doveadm exec imap -u USER``,
  pre-authenticated, no password) and searches INBOX for the message.  A file
  in ~/Maildir/new that IMAP does not show is a failure (Dovecot 2.4 with an
  empty ``mail_inbox_path`` kept INBOX in ~/Maildir/.INBOX).

Each result is a dict ``{"id", "title", "result": pass|fail|skip, "detail",
"hint"}`` (title, detail and hint as ``Msg.to_json()``; the hint says what to
do when the check fails) and is also journaled as a ``check`` event.
"""
from __future__ import annotations

import os
import re
import smtplib
import socket
import ssl
import stat
import time
import uuid
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

from installer import confedit
from installer.i18n import Msg, N_

NAME = "verify"
TITLE = N_("Self-test")

HOST = "127.0.0.1"
OUTSIDE = "127.0.0.2"     # a loopback address Dovecot does not trust as local
AUTH_SOCKET = "/var/spool/postfix/private/auth"
PORTS = {"smtp": 25, "submission": 587, "imap": 143, "imaps": 993, "pop3": 110, "pop3s": 995}
SOFTWARE_NAMES = ("postfix", "dovecot")

Result = Tuple[str, Msg]     # ("pass" | "fail" | "skip", detail)


def plan(inp) -> list:
    return []


class CheckFailed(Exception):
    def __init__(self, detail: Msg):
        super().__init__(str(detail))
        self.detail = detail


@dataclass
class Settings:
    """How the checks connect; tests point them at their own servers."""

    host: str = HOST
    outside: str = OUTSIDE
    ports: Optional[Dict[str, int]] = None
    timeout: float = 5.0          # one network operation
    connect_wait: float = 10.0    # a service that was just (re)started may need a moment
    delivery_wait: float = 15.0
    socket_wait: float = 5.0      # Dovecot makes its sockets a moment after it starts
    # An IMAP session as a user, on stdin/stdout, pre-authenticated: the user name follows.
    user_imap: Tuple[str, ...] = ("doveadm", "exec", "imap", "-u")

    def port(self, name: str) -> int:
        return (self.ports or PORTS)[name]


@dataclass
class Check:
    id: str
    title: Msg
    hint: Msg
    run: Callable[[], Result]


def _pause(deadline: float) -> None:
    """Wait a little before trying again, never past *deadline*."""
    time.sleep(min(0.25, max(0.0, deadline - time.monotonic())))


# --- connections ---------------------------------------------------------------------

def _tls_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False          # a self-signed certificate is expected
    context.verify_mode = ssl.CERT_NONE
    return context


def _connect(cfg: Settings, port: int, source: Optional[str] = None) -> socket.socket:
    """A TCP connection, retried while the port refuses (a service starting)."""
    deadline = time.monotonic() + cfg.connect_wait
    while True:
        try:
            return socket.create_connection((cfg.host, port), timeout=cfg.timeout,
                                            source_address=(source, 0) if source else None)
        except ConnectionRefusedError as exc:
            if time.monotonic() >= deadline:
                raise CheckFailed(Msg(N_("nothing answers on {host} port {port}: {error}"),
                                      host=cfg.host, port=port, error=exc.strerror or str(exc)))
            _pause(deadline)
        except OSError as exc:
            raise CheckFailed(Msg(N_("cannot connect to {host} port {port}: {error}"),
                                  host=cfg.host, port=port, error=exc.strerror or str(exc)))


class LineClient:
    """Just enough of a text protocol client for IMAP and POP3 capabilities."""

    def __init__(self, sock: socket.socket, tls: bool = False):
        self.sock = _tls_context().wrap_socket(sock) if tls else sock
        self.buffer = b""

    def readline(self) -> str:
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise CheckFailed(Msg(N_("the server closed the connection")))
            self.buffer += chunk
            if len(self.buffer) > 65536:
                raise CheckFailed(Msg(N_("the server sent an overlong line")))
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode("utf-8", "replace").rstrip("\r")

    def send(self, line: str) -> None:
        self.sock.sendall(line.encode("ascii") + b"\r\n")

    def starttls(self) -> None:
        self.sock = _tls_context().wrap_socket(self.sock)
        self.buffer = b""

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def _imap_capabilities(client: LineClient, tag: str) -> List[str]:
    client.send(tag + " CAPABILITY")
    caps: List[str] = []
    while True:
        line = client.readline()
        if line.upper().startswith("* CAPABILITY "):
            caps = line.split()[2:]
        elif line.startswith(tag + " "):
            if not line[len(tag) + 1:].upper().startswith("OK"):
                raise CheckFailed(Msg(N_("the server refused {command}: {reply}"), command="CAPABILITY", reply=line))
            return [cap.upper() for cap in caps]


def _pop3_capabilities(client: LineClient) -> List[str]:
    client.send("CAPA")
    first = client.readline()
    if not first.startswith("+OK"):
        raise CheckFailed(Msg(N_("the server refused {command}: {reply}"), command="CAPA", reply=first))
    caps = []
    while True:
        line = client.readline()
        if line == ".":
            return caps
        caps.append(line.upper())


def _outside_source(cfg: Settings) -> Optional[str]:
    """127.0.0.2 when this host can use it as a source address, else None."""
    try:
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            probe.bind((cfg.outside, 0))
        finally:
            probe.close()
        return cfg.outside
    except OSError:
        return None


# --- SMTP ------------------------------------------------------------------------------

def _smtp(cfg: Settings, port: int, helo: str) -> smtplib.SMTP:
    deadline = time.monotonic() + cfg.connect_wait
    while True:
        client = smtplib.SMTP(timeout=cfg.timeout, local_hostname=helo)
        client._host = cfg.host   # starttls() names the server from it; connect() does not set it
        try:
            code, banner = client.connect(cfg.host, port)
            break
        except ConnectionRefusedError as exc:
            client.close()
            if time.monotonic() >= deadline:
                raise CheckFailed(Msg(N_("nothing answers on {host} port {port}: {error}"),
                                      host=cfg.host, port=port, error=exc.strerror or str(exc)))
            _pause(deadline)
        except (OSError, smtplib.SMTPException) as exc:
            client.close()
            raise CheckFailed(Msg(N_("cannot connect to {host} port {port}: {error}"),
                                  host=cfg.host, port=port, error=str(exc)))
    if code != 220:
        client.close()
        raise CheckFailed(Msg(N_("the greeting is {code} {reply}, not 220"), code=code,
                              reply=banner.decode("utf-8", "replace")))
    client.greeting = banner.decode("utf-8", "replace")
    return client


def _ehlo(client: smtplib.SMTP) -> None:
    code, reply = client.ehlo()
    if code != 250:
        raise CheckFailed(Msg(N_("EHLO was answered {code} {reply}"), code=code, reply=reply.decode("utf-8", "replace")))


def _starttls(client: smtplib.SMTP) -> None:
    if not client.has_extn("starttls"):
        raise CheckFailed(Msg(N_("EHLO does not offer STARTTLS")))
    try:
        client.starttls(context=_tls_context())
    except (ssl.SSLError, smtplib.SMTPException, OSError) as exc:
        raise CheckFailed(Msg(N_("STARTTLS failed: {error}"), error=str(exc)))
    _ehlo(client)


def _quit(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()


def check_banner(cfg: Settings, helo: str) -> Result:
    client = _smtp(cfg, cfg.port("smtp"), helo)
    try:
        banner = client.greeting
        named = [name for name in SOFTWARE_NAMES if name in banner.lower()]
        if named:
            return "fail", Msg(N_("the greeting names the software: {banner}"), banner=banner)
        return "pass", Msg(N_("220 {banner}"), banner=banner)
    finally:
        _quit(client)


def check_starttls(cfg: Settings, helo: str) -> Result:
    client = _smtp(cfg, cfg.port("smtp"), helo)
    try:
        _ehlo(client)
        _starttls(client)
        return "pass", Msg(N_("STARTTLS works ({version})"), version=client.sock.version() or "TLS")
    finally:
        _quit(client)


def check_auth_after_tls(cfg: Settings, helo: str, port_name: str, must_encrypt: bool) -> Result:
    """AUTH hidden before STARTTLS and offered after it (and, for submission,
    nothing accepted before TLS)."""
    port = cfg.port(port_name)
    client = _smtp(cfg, port, helo)
    try:
        _ehlo(client)
        if client.has_extn("auth"):
            return "fail", Msg(N_("port {port} offers AUTH before STARTTLS: passwords could cross in clear text"),
                               port=port)
        if must_encrypt:
            code, reply = client.mail("")
            if code != 530:
                return "fail", Msg(N_("port {port} accepted MAIL before STARTTLS ({code} {reply})"),
                                   port=port, code=code, reply=reply.decode("utf-8", "replace"))
            client.rset()
        _starttls(client)
        mechanisms = client.esmtp_features.get("auth", "").upper().split()
        if "PLAIN" not in mechanisms:
            return "fail", Msg(N_("after STARTTLS port {port} does not offer AUTH PLAIN (offers: {mechanisms})"),
                               port=port, mechanisms=" ".join(mechanisms) or "-")
        if must_encrypt:
            return "pass", Msg(N_("MAIL refused with 530 before STARTTLS; AUTH {mechanisms} after it"),
                               mechanisms=" ".join(mechanisms))
        return "pass", Msg(N_("no AUTH before STARTTLS; AUTH {mechanisms} after it"),
                           mechanisms=" ".join(mechanisms))
    finally:
        _quit(client)


# --- IMAP and POP3 -----------------------------------------------------------------------

def check_imap(cfg: Settings, tls: bool) -> Result:
    source = _outside_source(cfg)
    client = LineClient(_connect(cfg, cfg.port("imap"), source))
    try:
        greeting = client.readline()
        if not greeting.startswith("* OK"):
            return "fail", Msg(N_("the greeting is {reply}"), reply=greeting)
        caps = _imap_capabilities(client, "a1")
        if source and "LOGINDISABLED" not in caps:
            return "fail", Msg(N_("cleartext login is allowed before STARTTLS (no LOGINDISABLED)"))
        if not tls:
            return "pass", Msg(N_("IMAP answers; cleartext login refused (no TLS configured)"))
        if "STARTTLS" not in caps:
            return "fail", Msg(N_("IMAP does not offer STARTTLS"))
        client.send("a2 STARTTLS")
        reply = client.readline()
        if not reply.upper().startswith("A2 OK"):
            return "fail", Msg(N_("STARTTLS failed: {error}"), error=reply)
        client.starttls()
        caps = _imap_capabilities(client, "a3")
        if "AUTH=PLAIN" not in caps or "LOGINDISABLED" in caps:
            return "fail", Msg(N_("after STARTTLS IMAP does not offer AUTH=PLAIN (offers: {caps})"),
                               caps=" ".join(caps))
        client.send("a4 LOGOUT")
        if source:
            return "pass", Msg(N_("login refused before STARTTLS, offered after it"))
        return "pass", Msg(N_("STARTTLS works (cleartext refusal not tested: 127.0.0.2 unusable)"))
    finally:
        client.close()


def _check_tls_service(cfg: Settings, port: str, ready: str, goodbye: str, answers_msgid: str) -> Result:
    """A service spoken over TLS from the first byte (993, 995): the handshake
    and the greeting (*ready*), then a polite *goodbye*."""
    try:
        client = LineClient(_connect(cfg, cfg.port(port)), tls=True)
    except (ssl.SSLError, OSError) as exc:
        return "fail", Msg(N_("TLS handshake failed: {error}"), error=str(exc))
    try:
        greeting = client.readline()
        if not greeting.startswith(ready):
            return "fail", Msg(N_("the greeting is {reply}"), reply=greeting)
        client.send(goodbye)
        return "pass", Msg(answers_msgid, version=client.sock.version() or "TLS")
    finally:
        client.close()


def check_imaps(cfg: Settings) -> Result:
    return _check_tls_service(cfg, "imaps", "* OK", "a1 LOGOUT", N_("IMAP over TLS answers ({version})"))


def check_pop3(cfg: Settings, tls: bool) -> Result:
    source = _outside_source(cfg)
    client = LineClient(_connect(cfg, cfg.port("pop3"), source))
    try:
        greeting = client.readline()
        if not greeting.startswith("+OK"):
            return "fail", Msg(N_("the greeting is {reply}"), reply=greeting)
        caps = _pop3_capabilities(client)
        if source and "USER" in caps:
            return "fail", Msg(N_("cleartext login (USER) is offered before STLS"))
        if not tls:
            return "pass", Msg(N_("POP3 answers; cleartext login refused (no TLS configured)"))
        if "STLS" not in caps:
            return "fail", Msg(N_("POP3 does not offer STLS"))
        client.send("STLS")
        reply = client.readline()
        if not reply.startswith("+OK"):
            return "fail", Msg(N_("STARTTLS failed: {error}"), error=reply)
        client.starttls()
        caps = _pop3_capabilities(client)
        if not any(cap == "USER" or (cap.startswith("SASL") and "PLAIN" in cap.split()) for cap in caps):
            return "fail", Msg(N_("after STLS POP3 offers no login (offers: {caps})"), caps=", ".join(caps))
        client.send("QUIT")
        return "pass", Msg(N_("login refused before STLS, offered after it"))
    finally:
        client.close()


def check_pop3s(cfg: Settings) -> Result:
    return _check_tls_service(cfg, "pop3s", "+OK", "QUIT", N_("POP3 over TLS answers ({version})"))


# --- the auth socket and delivery ----------------------------------------------------------

def check_auth_socket(cfg: Settings, root) -> Result:
    deadline = time.monotonic() + cfg.socket_wait
    while True:
        try:
            mode = os.stat(root.path(AUTH_SOCKET)).st_mode
            break
        except FileNotFoundError:
            if time.monotonic() >= deadline:
                return "fail", Msg(N_("{path} does not exist"), path=AUTH_SOCKET)
            _pause(deadline)
    if not stat.S_ISSOCK(mode):
        return "fail", Msg(N_("{path} exists but is not a socket"), path=AUTH_SOCKET)
    return "pass", Msg(N_("{path} is a socket"), path=AUTH_SOCKET)


def passwd_entry(passwd_text: Optional[str], user: str) -> Optional[Tuple[int, str]]:
    """(uid, home) of *user* in an /etc/passwd text."""
    for line in (passwd_text or "").splitlines():
        fields = line.split(":")
        if len(fields) >= 7 and fields[0] == user:
            try:
                return int(fields[2]), fields[5]
            except ValueError:
                return None
    return None


_LOCAL_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def root_mail_user(aliases_text: Optional[str], passwd_text: Optional[str],
                   local_domains: List[str]) -> Tuple[Optional[str], Optional[str]]:
    """The local user that root's mail ends up with: (user, None), or
    (None, where it goes instead) when it leaves the host or is not a plain user."""
    user = "root"
    for _ in range(8):   # alias chains are short; this also stops loops
        target = confedit.aliases_get(aliases_text, user)
        if target is None:
            break
        targets = [t.strip() for t in target.split(",") if t.strip()]
        if len(targets) != 1:
            return None, target
        name = targets[0]
        if "@" in name:
            local, _, domain = name.rpartition("@")
            if domain.lower() not in local_domains:
                return None, name
            name = local
        if not _LOCAL_NAME.match(name):
            return None, targets[0]
        if name == user:
            break
        user = name
    if passwd_entry(passwd_text, user) is None:
        return None, user
    return user, None


def _expand(name: str, answers: dict) -> str:
    pf = answers["postfix"]
    return name.replace("$myhostname", pf["hostname"]).replace("$mydomain", pf["domain"])


def local_domains(answers: dict) -> List[str]:
    """mydestination as plain names, the FQDN host name first when it is one of them."""
    names = [_expand(d, answers).lower() for d in answers["postfix"]["destinations"]]
    names = [n for n in names if "$" not in n]
    hostname = answers["postfix"]["hostname"].lower()
    return ([hostname] if hostname in names else []) + [n for n in names if n != hostname]


def _mailbox_files(root, home: str, home_mailbox: str) -> List[str]:
    """Target paths where a new message for this user may be."""
    if home_mailbox.endswith("/"):
        base = home.rstrip("/") + "/" + home_mailbox.rstrip("/")
        found = []
        for sub in ("new", "cur"):
            folder = root.path(base + "/" + sub)
            try:
                found += [base + "/" + sub + "/" + name for name in os.listdir(folder)]
            except OSError:
                pass
        return found
    if home_mailbox:
        return [home.rstrip("/") + "/" + home_mailbox]
    return []


def _find_message(root, paths: List[str], marker: bytes) -> Optional[str]:
    for path in paths:
        data = root.read_bytes(path)
        if data is not None and marker in data:
            return path
    return None


def imap_inbox_shows(runner, cfg: Settings, user: str, message_id: str) -> Optional[Msg]:
    """None when *user*'s IMAP INBOX holds the message *message_id*; else why not.
    EXAMINE (read-only): the session changes no flag and moves no file."""
    script = ('a1 EXAMINE INBOX\r\na2 SEARCH HEADER Message-ID "{}"\r\na3 LOGOUT\r\n'.format(message_id))
    argv = [*cfg.user_imap, user]
    result = runner.run(argv, check=False, input=script, timeout=30)
    lines = [line.rstrip("\r") for line in result.stdout.splitlines()]
    if not any(line.startswith("* PREAUTH") for line in lines):
        output = " ".join((result.stdout + " " + result.stderr).split())[:300]
        return Msg(N_("no IMAP session as {user} ({command} exited {rc}): {output}"), user=user,
                   command=" ".join(argv), rc=result.rc, output=output)
    for tag, command in (("a1", "EXAMINE INBOX"), ("a2", "SEARCH")):
        reply = next((line for line in lines if line.startswith(tag + " ")), None)
        if reply is None or not reply[len(tag) + 1:].upper().startswith("OK"):
            return Msg(N_("the server refused {command}: {reply}"), command=command, reply=reply or "-")
    found = [n for line in lines if line.upper().startswith("* SEARCH") for n in line.split()[2:]]
    if not found:
        return Msg(N_("{user}'s IMAP INBOX does not show it"), user=user)
    return None


def check_delivery(cfg: Settings, root, answers: dict, helo: str, runner=None) -> Result:
    domains = [d for d in local_domains(answers) if "." in d]
    if not domains:
        return "skip", Msg(N_("no fully qualified local domain in mydestination to send to"))
    domain = domains[0]
    user, elsewhere = root_mail_user(root.read_text("/etc/aliases"), root.read_text("/etc/passwd"),
                                     local_domains(answers))
    if user is None:
        return "skip", Msg(N_("root's mail goes to {target}, not to a local mailbox"), target=elsewhere)
    entry = passwd_entry(root.read_text("/etc/passwd"), user)
    home_mailbox = answers["postfix"]["home_mailbox"] or ""
    if not home_mailbox:
        return "skip", Msg(N_("mail goes to the system mail spool, not a mailbox under the home folder"))
    message_id = "<mailwiz-verify-{}@{}>".format(uuid.uuid4().hex, domain)
    recipient = "{}@{}".format(user, domain)
    # The sender is in a local domain: reject_unknown_sender_domain skips those,
    # so the check needs no DNS.
    sender = "root@{}".format(domain)
    message = ("From: {sender}\r\nTo: {recipient}\r\nSubject: mailwiz self-test\r\n"
               "Message-ID: {mid}\r\n\r\nThis message was sent by the mailwiz self-test.\r\n"
               ).format(sender=sender, recipient=recipient, mid=message_id)
    client = _smtp(cfg, cfg.port("smtp"), helo)
    try:
        _ehlo(client)
        if client.has_extn("starttls"):
            _starttls(client)
        try:
            refused = client.sendmail(sender, [recipient], message.encode("ascii"))
        except smtplib.SMTPResponseException as exc:
            return "fail", Msg(N_("the message was refused: {code} {reply}"), code=exc.smtp_code,
                               reply=exc.smtp_error.decode("utf-8", "replace"))
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = exc.recipients[recipient]
            return "fail", Msg(N_("the message was refused: {code} {reply}"), code=code,
                               reply=reply.decode("utf-8", "replace"))
        if refused:
            return "fail", Msg(N_("the message was refused: {code} {reply}"), code=refused[recipient][0],
                               reply=refused[recipient][1].decode("utf-8", "replace"))
    finally:
        _quit(client)
    marker = message_id.encode("ascii")
    deadline = time.monotonic() + cfg.delivery_wait
    while True:
        found = _find_message(root, _mailbox_files(root, entry[1], home_mailbox), marker)
        if found:
            break
        if time.monotonic() >= deadline:
            return "fail", Msg(N_("accepted for {recipient}, but not in {mailbox} after {seconds} s"),
                               recipient=recipient, mailbox=entry[1].rstrip("/") + "/" + home_mailbox,
                               seconds=int(cfg.delivery_wait))
        _pause(deadline)
    try:
        if runner is not None and "imap" in answers["dovecot"]["protocols"]:
            problem = imap_inbox_shows(runner, cfg, user, message_id)
            if problem is not None:
                return "fail", Msg(N_("delivered to {recipient} in {path}, but not seen over IMAP: {problem}"),
                                   recipient=recipient, path=found, problem=problem)
            return "pass", Msg(N_("delivered to {recipient} in {path} and seen in the IMAP INBOX"),
                               recipient=recipient, path=found)
        return "pass", Msg(N_("delivered to {recipient} in {path}"), recipient=recipient, path=found)
    finally:
        if home_mailbox.endswith("/"):
            # Our test message only: the self-test leaves the mailbox as it found it.
            try:
                os.unlink(root.path(found))
            except OSError:
                pass


# --- which checks, and running them ---------------------------------------------------------

def _postfix_on_loopback(answers: dict) -> bool:
    value = answers["postfix"]["inet_interfaces"]
    if isinstance(value, str):
        value = [v.strip() for v in value.replace(",", " ").split()]
    return any(v in ("all", "loopback-only", "localhost", HOST) for v in value)


def _dovecot_on_loopback(answers: dict) -> bool:
    return any(v in ("*", HOST) for v in answers["dovecot"]["listen"])


_HINT_POSTFIX = N_("Is Postfix running? See `service postfix status` (or `systemctl status postfix`), "
                   "`postfix check` and the mail log (/var/log/mail.log or /var/log/maillog).")
_HINT_DOVECOT = N_("Is Dovecot running? `doveconf -n` shows configuration errors; check the ssl_cert/ssl_key "
                   "files and the mail log (/var/log/mail.log or /var/log/maillog).")


def checks_for(answers: dict, root, cfg: Settings, runner=None) -> List[Tuple[Check, Optional[Msg]]]:
    """Each check with the reason to skip it (None: run it).  *runner* runs the
    IMAP session of the delivery check (None: the file check alone)."""
    helo = answers["postfix"]["hostname"]
    tls = answers["auth"]["tls"]["certificate"] != "none"
    sasl = bool(answers["auth"]["sasl"])
    protocols = answers["dovecot"]["protocols"]
    started = bool(answers["services"]["start"])
    not_started = Msg(N_("the services were not started (services.start: false)"))
    no_tls = Msg(N_("no certificate configured (auth.tls.certificate: none)"))
    pf_skip = None if _postfix_on_loopback(answers) else Msg(N_("Postfix does not listen on {host}"), host=HOST)
    dv_skip = None if _dovecot_on_loopback(answers) else Msg(N_("Dovecot does not listen on {host}"), host=HOST)

    def first(*reasons):
        return next((r for r in reasons if r is not None), None)

    def off(condition: bool, reason: Msg) -> Optional[Msg]:
        return None if condition else reason

    smtp = cfg.port("smtp")
    items = [
        (Check("smtp-banner", Msg(N_("SMTP greeting on port {port}"), port=smtp),
               Msg(N_("Set smtpd_banner in /etc/postfix/main.cf to start with $myhostname and leave the software "
                      "name out; if nothing answers: {more}"), more=Msg(_HINT_POSTFIX)),
               lambda: check_banner(cfg, helo)),
         first(off(started, not_started), pf_skip)),
        (Check("smtp-starttls", Msg(N_("STARTTLS on port {port}"), port=smtp),
               Msg(N_("Check smtpd_tls_security_level = may and the certificate and key files named in main.cf; "
                      "the mail log says why TLS is off.")),
               lambda: check_starttls(cfg, helo)),
         first(off(started, not_started), pf_skip, off(tls, no_tls))),
        (Check("smtp-auth", Msg(N_("AUTH only after STARTTLS on port {port}"), port=smtp),
               Msg(N_("Check smtpd_sasl_auth_enable = yes, smtpd_tls_auth_only = yes, smtpd_sasl_type = dovecot and "
                      "smtpd_sasl_path = private/auth in main.cf, and Dovecot's auth socket.")),
               lambda: check_auth_after_tls(cfg, helo, "smtp", must_encrypt=False)),
         first(off(started, not_started), pf_skip, off(sasl, Msg(N_("SMTP AUTH is off (auth.sasl: false)"))),
               off(tls, no_tls))),
        (Check("submission", Msg(N_("Submission on port {port}: TLS and AUTH required"), port=cfg.port("submission")),
               Msg(N_("Check the submission entry in /etc/postfix/master.cf (-o smtpd_tls_security_level=encrypt, "
                      "-o smtpd_sasl_auth_enable=yes) and reload Postfix.")),
               lambda: check_auth_after_tls(cfg, helo, "submission", must_encrypt=True)),
         first(off(started, not_started), pf_skip,
               off(bool(answers["auth"]["submission"]), Msg(N_("submission is off (auth.submission: false)"))),
               off(tls, no_tls))),
    ]
    no_imap = Msg(N_("IMAP is not among dovecot.protocols"))
    no_pop3 = Msg(N_("POP3 is not among dovecot.protocols"))
    dovecot_hint = Msg(_HINT_DOVECOT)
    items += [
        (Check("imap", Msg(N_("IMAP on port {port}: login only after STARTTLS"), port=cfg.port("imap")),
               dovecot_hint, lambda: check_imap(cfg, tls)),
         first(off(started, not_started), dv_skip, off("imap" in protocols, no_imap))),
        (Check("imaps", Msg(N_("IMAP over TLS on port {port}"), port=cfg.port("imaps")),
               dovecot_hint, lambda: check_imaps(cfg)),
         first(off(started, not_started), dv_skip, off("imap" in protocols, no_imap), off(tls, no_tls))),
        (Check("pop3", Msg(N_("POP3 on port {port}: login only after STLS"), port=cfg.port("pop3")),
               dovecot_hint, lambda: check_pop3(cfg, tls)),
         first(off(started, not_started), dv_skip, off("pop3" in protocols, no_pop3))),
        (Check("pop3s", Msg(N_("POP3 over TLS on port {port}"), port=cfg.port("pop3s")),
               dovecot_hint, lambda: check_pop3s(cfg)),
         first(off(started, not_started), dv_skip, off("pop3" in protocols, no_pop3), off(tls, no_tls))),
        (Check("auth-socket", Msg(N_("Dovecot's authentication socket for Postfix")),
               Msg(N_("Dovecot makes {path} from the service auth section of its configuration "
                      "(unix_listener {path}); check `doveconf -n` and restart Dovecot."), path=AUTH_SOCKET),
               lambda: check_auth_socket(cfg, root)),
         first(off(started, not_started), off(sasl, Msg(N_("SMTP AUTH is off (auth.sasl: false)"))))),
        (Check("delivery", Msg(N_("Delivery of a test message to a local mailbox")),
               Msg(N_("See the mail queue (`mailq`) and the mail log for the message; check home_mailbox in main.cf "
                      "and that the user's home folder exists and belongs to the user.  Delivered but not seen over "
                      "IMAP: Dovecot's mail location (`doveconf mail_location`, 2.4: mail_path and mail_inbox_path) "
                      "must name the folder Postfix delivers to.")),
               lambda: check_delivery(cfg, root, answers, helo, runner)),
         first(off(started, not_started), pf_skip)),
    ]
    return items


def run_check(check: Check) -> Result:
    """A check's result; it never raises (a crash here would skip the rollback)."""
    try:
        return check.run()
    except CheckFailed as exc:
        return "fail", exc.detail
    except (OSError, ssl.SSLError, smtplib.SMTPException) as exc:
        return "fail", Msg(N_("{error}"), error=str(exc) or type(exc).__name__)
    except Exception as exc:   # noqa: BLE001 - report any bug as a failed check, never crash the run
        return "fail", Msg(N_("unexpected error: {error}"), error="{}: {}".format(type(exc).__name__, exc))


def runner_for(profile, facts, answers: dict, settings: Optional[Settings] = None):
    """The function the engine calls after apply: ``verify(ctx) -> [check dicts]``."""
    cfg = settings or Settings()

    def verify(ctx) -> List[dict]:
        results = []
        for check, skip_reason in checks_for(answers, ctx.root, cfg, ctx.runner):
            if skip_reason is not None:
                result, detail = "skip", skip_reason
            else:
                result, detail = run_check(check)
            ctx.emit("check", id=check.id, title=check.title, result=result, detail=detail, hint=check.hint)
            results.append({"id": check.id, "title": check.title.to_json(), "result": result,
                            "detail": detail.to_json(), "hint": check.hint.to_json()})
        return results

    return verify
