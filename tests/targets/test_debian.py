"""The whole real run on clean Debian 11, 12 and 13, booted with systemd:
mailwiz installed as the README says, ``mailwiz apply`` for real, the mail
server as a user and an outsider see it from outside the machine, and
``mailwiz rollback`` leaving /etc as it was.

One test per release; it fails when any step or any server check fails.  Per
release it reports (at the end of the session): apply and rollback time, and
how many files of /etc were compared.
"""
from __future__ import annotations

import time

import pytest

from tests import mailcheck
from tests.targets import flow
from tests.targets.flow import DOMAIN, PACKAGES, SELF_TEST, UNITS, USER, Target

pytestmark = flow.PYTESTMARK

# What each release ships (the test checks the machine has them: a Debian
# point release that changed one would show here first).
VERSIONS = {
    "11": {"postfix": "3.5.", "dovecot": "2.3.13"},
    "12": {"postfix": "3.7.", "dovecot": "2.3.19"},
    "13": {"postfix": "3.10.", "dovecot": "2.4."},
}


@pytest.mark.parametrize("release", ["11", "12", "13"])
def test_real_run_and_rollback(release, boot, figures):
    machine = boot(release)
    target = Target(machine).prepare()
    before = target.manifest()
    assert target.installed() == set(), "the clean machine has a mail server already"

    # -- apply, for real ---------------------------------------------------------------------
    started_at = time.time()
    proc, apply_seconds = target.apply()
    assert proc.returncode == 0, proc.stdout[-8000:]
    assert proc.stdout.splitlines()[0].startswith("Real host (debian-{})".format(release)), proc.stdout[:500]
    run_id = target.runs()[-1]
    checks = target.checks(run_id)
    assert SELF_TEST <= set(checks), sorted(checks)
    assert flow.failed_checks(checks) == {}
    assert "seen in the IMAP INBOX" in proc.stdout       # the self-test read its message back over IMAP

    assert target.installed() == set(PACKAGES)
    for unit in UNITS:
        assert target.unit(unit) == ("enabled", "active"), unit
    versions = machine.run(["dpkg-query", "-W", "-f", "${Package} ${Version}\n", "postfix", "dovecot-core"]).stdout
    assert "postfix " + VERSIONS[release]["postfix"] in versions, versions
    assert "dovecot-core 1:" + VERSIONS[release]["dovecot"] in versions, versions

    # Both servers read mailwiz's configuration without a word of complaint.
    assert target.config_complaints() == {"postconf -n (stderr)": "", "doveconf -n (stderr)": "",
                                          "postfix check": ""}
    troubles = target.unit_troubles(started_at)
    assert troubles == [], "\n".join(troubles)

    # -- a second apply changes nothing ------------------------------------------------------
    again, _ = target.apply()
    assert again.returncode == 0 and "Nothing to do" in again.stdout, again.stdout[-3000:]

    # -- from outside: the machine's own address, the host as an outsider ------------------
    host, outside = target.address, target.outside
    mailcheck.assert_banner_names_no_software(host, outside)
    marker = mailcheck.send_with_auth_on_587(host, USER, target.password, DOMAIN, outside)
    mailcheck.read_back_over_imaps(host, USER, target.password, marker)
    mailcheck.read_back_over_pop3s(host, USER, target.password, marker)
    assert list(machine.host_path("/home/{}/Maildir".format(USER)).glob("*/*")), "no Maildir"
    mailcheck.assert_no_relay(host, outside, USER, DOMAIN)
    mailcheck.assert_no_auth_without_tls(host, outside, USER, target.password, DOMAIN)

    # -- rollback ------------------------------------------------------------------------------
    started = time.monotonic()
    undo = target.mailwiz("rollback", run_id)
    rollback_seconds = time.monotonic() - started
    assert undo.returncode == 0, undo.stdout[-8000:]
    for unit in UNITS:
        enabled, active = target.unit(unit)
        assert enabled in ("not-found", "disabled") and active in ("inactive", "unknown"), (unit, enabled, active)
    assert mailcheck.open_ports(host, mailcheck.MAIL_PORTS) == []
    assert target.installed() == set()
    after = target.manifest()
    differences = mailcheck.manifest_differences(before, after)
    assert differences == [], "\n".join(map(str, differences))
    figures("Debian {}: apply {:.0f} s, rollback {:.0f} s, {} files of /etc compared ({} entries); "
            "mailwiz installed in {:.0f} s, booted in {:.1f} s".format(
                release, apply_seconds, rollback_seconds, mailcheck.file_count(before), len(before),
                target.install_seconds, machine.boot_seconds))
