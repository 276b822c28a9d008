"""DKIM and an ACME certificate for real, on a clean Debian booted with systemd:
``mailwiz apply`` with ``dkim.enabled`` and ``certificate: acme`` against
Pebble (an ACME test CA) running on the host end of the machine's veth, its
challenge server answering that the mail host is the machine.  certbot in the
machine answers the http-01 challenge on the machine's real port 80.

Then, from outside: the certificate served on 25 (STARTTLS), 587 (STARTTLS)
and 993 is the one Pebble issued; a message sent through the built server
arrives with a DKIM-Signature that dkimpy verifies against the key in the
record ``mailwiz dns --json`` prints; a second apply changes nothing; rollback
leaves /etc as it was and the packages gone.
"""
from __future__ import annotations

import json
import socket
import ssl
import smtplib
import time

import pytest

from tests import mailcheck, pebble as pebble_server
from tests.targets import flow
from tests.targets.flow import ANSWERS, ANSWERS_INSIDE, DOMAIN, USER, Target

pytestmark = flow.PYTESTMARK

CA_INSIDE = "/root/pebble-ca.pem"
HOSTNAME = "mail." + DOMAIN
PACKAGES = ["opendkim", "opendkim-tools", "certbot"]


def deliverability_answers(directory: str) -> str:
    text = ANSWERS.read_text()
    assert "    certificate: self-signed\n" in text
    text = text.replace("    certificate: self-signed\n",
                        "    certificate: acme\n    acme:\n      email: postmaster@{}\n      directory: \"{}\"\n"
                        .format(DOMAIN, directory))
    # No package upgrade first: it cannot be undone, and /etc is compared after rollback.
    assert "  update: true\n" in text
    text = text.replace("  update: true\n", "  update: false\n", 1)
    return text + "\ndkim:\n  enabled: true\n  selector: mwtest\n"


def served_certificate(host: str, port: int, source: str) -> bytes:
    """The DER certificate the server shows on *port* (STARTTLS on 25 and 587)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if port == 993:
        with socket.create_connection((host, port), timeout=20, source_address=(source, 0)) as raw:
            with context.wrap_socket(raw) as tls:
                return tls.getpeercert(binary_form=True)
    client = smtplib.SMTP(host, port, local_hostname="client." + DOMAIN, timeout=20, source_address=(source, 0))
    try:
        client.ehlo()
        client.starttls(context=context)
        return client.sock.getpeercert(binary_form=True)
    finally:
        client.quit()


@pytest.mark.parametrize("release", ["12"])
def test_dkim_signed_mail_and_the_pebble_certificate(release, boot, figures, tmp_path):
    import dkim as dkimpy
    from cryptography import x509

    missing = pebble_server.missing()
    assert not missing, "missing: {} (tests/run.sh installs them)".format(", ".join(missing))
    machine = boot(release)
    with pebble_server.running(tmp_path, address=machine.host_address, answer_ipv4=machine.address,
                               http_port=80) as pebble:
        answers = tmp_path / "answers.yaml"
        answers.write_text(deliverability_answers(pebble["directory"]))
        target = Target(machine).prepare(answers)
        with open(pebble["ca"]) as handle:
            machine.write(CA_INSIDE, handle.read())
        env = {"REQUESTS_CA_BUNDLE": CA_INSIDE}       # certbot trusts the test CA's HTTPS
        before = target.manifest()

        started = time.monotonic()
        proc = target.mailwiz("apply", "--answers", ANSWERS_INSIDE, "--yes", env=env)
        apply_seconds = time.monotonic() - started
        assert proc.returncode == 0, proc.stdout[-8000:]
        run_id = target.runs()[-1]
        assert flow.failed_checks(target.checks(run_id)) == {}
        assert target.installed(PACKAGES) == set(PACKAGES)
        assert target.unit("opendkim") == ("enabled", "active")

        # The certificate served on 25, 587 and 993 is Pebble's, for the mail host.
        for port in (25, 587, 993):
            cert = x509.load_der_x509_certificate(served_certificate(target.address, port, target.outside))
            assert "Pebble" in cert.issuer.rfc4514_string(), (port, cert.issuer.rfc4514_string())
            names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            assert names.get_values_for_type(x509.DNSName) == [HOSTNAME], port

        # A message through the built server arrives signed; the printed record verifies it.
        dns_out = machine.run(["/opt/mailwiz/bin/mailwiz", "dns", "--json", "--lang", "en"], stderr_apart=True)
        records = json.loads(dns_out.stdout)["records"]
        dkim_record = next(r for r in records if r["name"] == "mwtest._domainkey.{}.".format(DOMAIN))
        assert not dkim_record["pending"] and all(len(s.encode()) <= 255 for s in dkim_record["strings"])
        verified = 0
        for _ in range(3):
            marker = mailcheck.send_with_auth_on_587(target.address, USER, target.password, DOMAIN, target.outside)
            message = mailcheck.read_back_over_imaps(target.address, USER, target.password, marker)
            assert b"DKIM-Signature:" in message, message[:2000]
            assert dkimpy.verify(message, dnsfunc=lambda name, timeout=5: "".join(dkim_record["strings"]).encode())
            verified += 1

        again = target.mailwiz("apply", "--answers", ANSWERS_INSIDE, "--yes", env=env)
        assert again.returncode == 0 and "Nothing to do" in again.stdout, again.stdout[-3000:]

        undo = target.mailwiz("rollback", run_id)
        assert undo.returncode == 0, undo.stdout[-8000:]
        assert target.installed(PACKAGES + flow.PACKAGES) == set()
        differences = mailcheck.manifest_differences(before, target.manifest())
        assert differences == [], "\n".join(map(str, differences))
    figures("Debian {}: DKIM + ACME apply {:.0f} s (certificate from Pebble), {} DKIM signatures verified "
            "through the built server".format(release, apply_seconds, verified))
