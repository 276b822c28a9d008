"""TLS for Postfix: the server certificate, STARTTLS on port 25, TLS to other servers.

What the original notes got wrong, and what this step does instead:

- The notes say "Cyrus SASL & TLS" but configure no TLS at all, and then send
  passwords over SMTP AUTH.  Here the server offers STARTTLS
  (``smtpd_tls_security_level = may``: never ``encrypt`` on port 25, a public
  MX must accept mail from servers without TLS), and the sasl step allows AUTH
  only after it (``smtpd_tls_auth_only = yes``).
- Certificate files are named with the parameters each release knows:
  ``smtpd_tls_chain_files = KEY, CERT`` from Postfix 3.4 (the legacy
  ``smtpd_tls_cert_file``/``smtpd_tls_key_file``, which Postfix then ignores,
  are removed so that main.cf says one thing), ``smtpd_tls_cert_file`` and
  ``smtpd_tls_key_file`` before.

Certificates (``auth.tls.certificate``):

- ``self-signed``: one certificate for Postfix and Dovecot, in files owned by
  mailwiz rather than the packages' own (RHEL's postfix.pem and dovecot.pem,
  Debian's snakeoil, which package scripts may regenerate):
  ``/etc/pki/tls/certs/mailwiz.pem`` + ``/etc/pki/tls/private/mailwiz.key`` on
  RHEL (``cert_t`` there, readable by both daemons under SELinux), and
  ``/etc/ssl/certs/mailwiz.pem`` + ``/etc/ssl/private/mailwiz.key`` on Debian.
  Both daemons read the key as root before dropping privileges, so it is 0600
  root.  The key is never readable by others, not even for a moment: an empty
  key file is first created with mode 0600 (``install -m 0600 /dev/null``;
  OpenSSL before 1.1.0, as on CentOS 6/7, would otherwise create it under the
  umask), then ``openssl req`` writes into it, then a ``chmod 0600`` makes
  sure.  The commands run only while the certificate or key is missing: a
  second run keeps the certificate.
- ``existing``: the answers' files (validation checked they exist).
- ``none``: mailwiz sets up no certificate and leaves the server's TLS
  settings as they are (Debian's snakeoil STARTTLS keeps working; RHEL's
  stock settings too).  Without a certificate of ours, SMTP AUTH and the
  submission port cannot be offered safely (AUTH only after TLS; 587 requires
  TLS): answer validation must refuse ``auth.sasl``/``auth.submission`` with
  ``certificate: none``.  Should they reach the steps anyway, they fail closed
  (AUTH is never offered, 587 refuses to work), never open.

The Postfix SMTP client (``smtp_tls_security_level``) is owned here, for every
certificate choice: ``may`` (opportunistic TLS to other servers), or
``encrypt`` when mail goes through a relay host that gets our user name and
password (the relayhost step relies on it: the password never crosses the
network in clear).  A relay host without credentials keeps ``may``: an
internal smarthost without STARTTLS must not make all mail wait.

Dovecot's ssl settings are the dovecot step's; it takes the files from
:func:`cert_paths`.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from installer.actions import PostconfSet, RunCommand
from installer.i18n import Msg, N_
from installer.needs import Needs
from steps.postfix import MAIN_CF, version_of

NAME = "tls"
TITLE = N_("TLS certificate")

SELF_SIGNED_DAYS = "3650"

def cert_paths(profile, answers: dict) -> Tuple[Optional[str], Optional[str]]:
    """(certificate, key) paths that Postfix and Dovecot use; (None, None) with ``none``."""
    tls = answers["auth"]["tls"]
    kind = tls["certificate"]
    if kind == "existing":
        return tls["cert_file"], tls["key_file"]
    if kind == "self-signed":
        if not (profile.self_signed_cert and profile.self_signed_key):
            raise ValueError(f"profile {profile.id} names no place for a self-signed certificate")
        return profile.self_signed_cert, profile.self_signed_key
    if kind == "acme":
        from steps.acme import live_paths
        return live_paths(answers["postfix"]["hostname"])
    return None, None


def needs(profile, answers=None, facts=None) -> Needs:
    """``openssl`` to make a self-signed certificate; the certificate and key
    relabelled under SELinux when they changed."""
    if answers is None:
        return Needs(packages=["openssl"])
    paths = [p for p in cert_paths(profile, answers) if p]
    packages = ["openssl"] if answers["auth"]["tls"]["certificate"] == "self-signed" else []
    return Needs(packages=packages, selinux=paths)


def client_tls_level(answers: dict) -> str:
    """smtp_tls_security_level: encrypt towards a relay host we log in to, else may."""
    relay = answers.get("relayhost")
    return "encrypt" if relay and relay.get("username") else "may"


def server_params(version, cert: str, key: str) -> Dict[str, Optional[str]]:
    """smtpd TLS parameters naming cert and key, in the form *version* knows."""
    if tuple(version) >= (3, 4):
        # One file holding both (key first) is allowed; name it once then.
        chain = key if key == cert else "{}, {}".format(key, cert)
        return {"smtpd_tls_chain_files": chain, "smtpd_tls_cert_file": None, "smtpd_tls_key_file": None}
    return {"smtpd_tls_cert_file": cert, "smtpd_tls_key_file": key}


def self_signed_commands(hostname: str, cert: str, key: str) -> List[RunCommand]:
    """Make a key (0600 from its creation) and a self-signed certificate, only when missing."""
    return [
        RunCommand(argv=["install", "-m", "0600", "/dev/null", key], changes=[key], run_if="missing",
                   description=Msg(N_("Create the empty private key file {path}, readable by root only"),
                                   path=key).to_json()),
        RunCommand(argv=["openssl", "req", "-new", "-x509", "-nodes", "-days", SELF_SIGNED_DAYS,
                         "-newkey", "rsa:2048", "-subj", "/CN={}".format(hostname),
                         "-keyout", key, "-out", cert],
                   changes=[cert, key], run_if="missing",
                   description=Msg(N_("Make a self-signed certificate for {hostname} ({path})"),
                                   hostname=hostname, path=cert).to_json()),
        RunCommand(argv=["chmod", "0600", key], changes=[key], watch=[key], run_if="changed"),
    ]


def plan(inp) -> List[object]:
    answers = inp.answers
    cert, key = cert_paths(inp.profile, answers)
    actions: List[object] = []
    params: Dict[str, Optional[str]] = {}
    if cert and key:
        if answers["auth"]["tls"]["certificate"] == "self-signed":
            actions += self_signed_commands(answers["postfix"]["hostname"], cert, key)
        params.update(server_params(version_of(inp), cert, key))
        params["smtpd_tls_security_level"] = "may"
        # Log one line per TLS session: shows that STARTTLS works, at little cost.
        params["smtpd_tls_loglevel"] = "1"
    params["smtp_tls_security_level"] = client_tls_level(answers)
    actions.append(PostconfSet(path=MAIN_CF, params=params))
    return actions
