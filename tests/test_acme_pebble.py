"""ACME for real: the acme step's certbot command against Pebble (Debian's
``pebble``, an ACME test CA) on loopback, with ``pebble-challtestsrv``
answering Pebble's DNS questions (every name is 127.0.0.1): no internet.

certbot's standalone server answers the http-01 challenge on a free loopback
port (Pebble's ``httpPort`` set to it; in production both are 80), and keeps
its state in a temporary folder (``--config-dir`` ...) instead of
/etc/letsencrypt.  The hooks are the test's own scripts that log their call,
so that renewal is seen to run them without reloading this host's mail
servers; the step's hook scripts are checked in tests/test_steps_acme.py.

Skipped unless pebble, pebble-challtestsrv and certbot are installed
(tests/run.sh installs them as root).
"""
from __future__ import annotations

import datetime
import os
import shutil
import subprocess
import time

import pytest

from installer import certs
from steps import StepInput, acme
from tests import pebble as pebble_server
from tests.stepkit import answers_with, facts_for

HOST = "mail.example.com"

pytestmark = pytest.mark.skipif(bool(pebble_server.missing()) or not shutil.which("certbot"),
                                reason="needs pebble, pebble-challtestsrv, certbot and openssl")


@pytest.fixture
def pebble(tmp_path):
    with pebble_server.running(tmp_path) as found:
        yield found


def hook_calls(log):
    return [tuple((line + " ").split(" ", 1)[0:1] + [line.partition(" ")[2]]) for line in log.read_text().splitlines()]


def without_hooks(argv):
    return [a for i, a in enumerate(argv) if not a.endswith("-hook") and not (i and argv[i - 1].endswith("-hook"))]


def certbot_state(folder):
    return ["--config-dir", os.path.join(folder, "config"), "--work-dir", os.path.join(folder, "work"),
            "--logs-dir", os.path.join(folder, "logs")]


def test_certbot_gets_a_certificate_from_pebble_and_renews_with_hooks(pebble, tmp_path):
    answers = answers_with(**{"postfix.hostname": HOST, "auth.tls.certificate": "acme",
                              "auth.tls.acme": {"email": "admin@example.com", "directory": pebble["directory"]}})
    inp = StepInput(profile=facts_for("debian-12").profile, facts=facts_for("debian-12"), answers=answers)
    command = next(a for a in acme.plan(inp) if getattr(a, "argv", [""])[0] == "certbot")
    assert command.undo_argv[:2] == ["certbot", "delete"] and command.run_if == "missing"

    state = str(tmp_path / "le")
    log = tmp_path / "hooks.log"
    hooks = {}
    for name in ("pre", "post", "deploy"):
        script = tmp_path / f"{name}.sh"
        script.write_text(f"#!/bin/sh\necho {name} \"$RENEWED_LINEAGE\" >> {log}\n")
        script.chmod(0o755)
        hooks[name] = str(script)
    argv = acme.certbot_argv(answers, hooks)
    assert without_hooks(argv) == without_hooks(command.argv)      # the step's command, hooks aside
    argv += ["--http-01-port", str(pebble["http_port"]), "--http-01-address", "127.0.0.1", *certbot_state(state)]
    env = dict(os.environ, REQUESTS_CA_BUNDLE=pebble["ca"])

    start = time.monotonic()
    issued = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    seconds = time.monotonic() - start
    assert issued.returncode == 0, issued.stdout + issued.stderr
    print(f"\nACME: certificate for {HOST} issued by Pebble in {seconds:.2f} s")

    live = os.path.join(state, "config/live", HOST)
    with open(os.path.join(live, "fullchain.pem"), "rb") as handle:
        chain = handle.read()
    with open(os.path.join(live, "privkey.pem"), "rb") as handle:
        key = handle.read()
    errors, warnings = certs.check_files(chain, key, HOST)
    assert errors == [] and warnings == []
    from cryptography import x509
    leaf = x509.load_pem_x509_certificates(chain)[0]
    assert "Pebble" in leaf.issuer.rfc4514_string()
    assert certs.names_of(leaf) == [HOST]
    # The same certificate for another name is refused by the existing-files check.
    assert certs.check_files(chain, key, "other.example.com")[0]
    assert hook_calls(log) == [("pre", ""), ("deploy", live), ("post", live)]

    # Renewal runs the hooks certbot stored with the certificate (deploy: reload the servers).
    log.write_text("")
    renewed = subprocess.run(["certbot", "renew", "--force-renewal", "--non-interactive", "--no-random-sleep-on-renew",
                              "--http-01-port", str(pebble["http_port"]), "--http-01-address", "127.0.0.1",
                              *certbot_state(state)], env=env, capture_output=True, text=True, timeout=120)
    assert renewed.returncode == 0, renewed.stdout + renewed.stderr
    assert hook_calls(log) == [("pre", ""), ("deploy", live), ("post", live)]
    with open(os.path.join(live, "fullchain.pem"), "rb") as handle:
        new_leaf = x509.load_pem_x509_certificates(handle.read())[0]
    assert new_leaf.serial_number != leaf.serial_number
    assert certs._not_after(new_leaf) > datetime.datetime.now(datetime.timezone.utc)

    # Undo as the journal would: certbot delete.
    deleted = subprocess.run(command.undo_argv + certbot_state(state), env=env, capture_output=True, text=True,
                             timeout=60)
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    assert not os.path.exists(live)
