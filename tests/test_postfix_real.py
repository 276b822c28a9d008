"""The Postfix configuration mailwiz plans, checked with the real Postfix tools of this host (3.7).

For every profile, the plan is made the way ``mailwiz plan --sandbox`` makes it: a
sandbox root seeded with the profile's stock files, facts gathered through the
sandbox runner, the example answers (and a variation with a relay host, a DNS
blocklist and an access map with domain, address and network keys) validated by
``installer.answers``, then ``engine.make_plan``.  The resulting main.cf and
master.cf are the plan's simulation of those files (checked to be what the
plan's own diff shows), and go through:

- ``postconf -c DIR -n`` (Postfix 3.7): proves main.cf parses, every parameter
  name exists and is used (3.7 warns about unknown and unused parameters), no
  ``$name`` is undefined, and master.cf's ``-o`` options parse.  The 2.6 and
  2.10 forms written for CentOS 6/7 (``smtpd_tls_cert_file``, relay rules in
  ``smtpd_recipient_restrictions``) are still valid for 3.7 in this sense; that
  they are *right* for 2.6 (no ``smtpd_relay_restrictions``, no
  ``[2..11]`` reply filter) is the unit tests' business.
- ``postfix check`` on a full copy of /etc/postfix with these files: proves the
  config directory, master.cf services and the queue set-up pass Postfix's own
  start-up checks.  The distribution's install-layout parameters
  (``daemon_directory`` & co., RHEL's /usr/libexec/postfix) are pointed at this
  host's, since this host's binaries run the check, and the notice about a
  stock ``compatibility_level`` below 3.6 is not counted as a problem.  It does not check restriction names (a misspelt one only
  shows at run time); the unit tests pin those.
- ``postmap`` and ``postmap -q`` on the maps the plan writes: proves the access
  map, the cidr table and sasl_passwd build and that their keys match what
  Postfix looks up (a domain, a client network, the relay host).

Without Postfix (or, for ``postfix check``, without root) these tests skip.
"""
from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from installer import answers as answers_mod
from installer import confedit
from installer import engine, facts as facts_mod, profiles, sandbox, stockfiles
from installer.actions import Simulation
from installer.root import TargetRoot
from tests.realtools import postconf_n, postfix_check, requires_postfix, requires_postfix_check

import steps

EXAMPLE = Path(__file__).resolve().parent.parent / "installer" / "answers.example.yaml"
ALL_PROFILES = sorted(profiles.PROFILES)
SECRETS = {"relay_password": "s3cret pass"}
MAIN_CF, MASTER_CF = "/etc/postfix/main.cf", "/etc/postfix/master.cf"


def _example() -> dict:
    return yaml.safe_load(EXAMPLE.read_text())


def _variation() -> dict:
    data = _example()
    data["relayhost"] = {"host": "[smtp.example.net]:587", "username": "mailer", "password_env": "RELAY_PW"}
    data["spam"]["rbl"] = ["zen.spamhaus.org", "bl.spamcop.net"]
    data["spam"]["access"] = [
        {"key": "spammer.example", "action": "REJECT"},
        {"key": "friend@example.org", "action": "OK"},
        {"key": "192.0.2.0/24", "action": "REJECT"},
        {"key": "2001:db8::/32", "action": "DUNNO"},
    ]
    data["spam"]["client"] = ["reject_unknown_reverse_client_hostname"]
    data["aliases"]["root"] = "admin@example.com"
    data["postfix"]["networks"] = ["127.0.0.0/8", "::1/128"]
    data["postfix"]["message_size_limit_mb"] = 60
    return data


ANSWER_SETS = {"example": _example, "variation": _variation}


def planned_files(profile_id: str, data: dict, tmp_path: Path):
    """(simulated files {path: text}, plan) for the answers on a fresh sandbox of the profile."""
    profile = profiles.get(profile_id)
    root = TargetRoot(str(tmp_path / "root"))
    sandbox.seed(root, profile)
    runner = sandbox.make_runner(root, profile)
    facts = facts_mod.gather(profile, runner, root, check_updates=False)
    loaded = answers_mod.loads(yaml.safe_dump(data), profile=profile, root=root)
    plan = engine.make_plan(loaded, profile, facts, root, SECRETS, stock_provider=stockfiles.stock_files)

    # The same simulation make_plan runs, kept to read the files it leaves.
    inp = steps.StepInput(profile=profile, facts=facts, answers=loaded, secrets=dict(SECRETS))
    sim = Simulation(root, facts, profile, stockfiles.stock_files)
    for module in steps.modules():
        for action in module.plan(inp):
            action.simulate(sim)
    for path in (MAIN_CF, MASTER_CF):
        assert engine.unified_diff(path, sim.original.get(path), sim.files.get(path),
                                   sim.original_modes.get(path), sim.modes.get(path)) == plan.diffs[path]
    files = {path: data.decode("utf-8") for path, data in sim.files.items() if data is not None}
    return files, plan


CASES = [(p, name) for p in ALL_PROFILES for name in ANSWER_SETS]


@requires_postfix
@pytest.mark.parametrize("profile_id, answer_set", CASES)
def test_postconf_reads_the_planned_main_cf_without_a_warning(profile_id, answer_set, tmp_path):
    files, _plan = planned_files(profile_id, ANSWER_SETS[answer_set](), tmp_path)
    out, warnings = postconf_n(files[MAIN_CF], files[MASTER_CF])
    assert warnings == []
    # What the steps set is what postconf reads back (no later duplicate wins).
    effective = dict(line.split(" = ", 1) if " = " in line else (line.rstrip(" ="), "")
                     for line in out.splitlines())
    assert effective["myhostname"] == "mail.example.com"
    assert effective["smtpd_tls_security_level"] == "may"
    assert effective["smtpd_sasl_type"] == "dovecot"
    relay = "smtpd_relay_restrictions" if profiles.get(profile_id).has_relay_restrictions \
        else "smtpd_recipient_restrictions"
    assert effective[relay].startswith("permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination")
    if answer_set == "variation":
        assert effective["relayhost"] == "[smtp.example.net]:587"
        assert effective["mailbox_size_limit"] == effective["message_size_limit"] == str(60 * 1048576)


# Where the distribution installed Postfix: RHEL's stock main.cf names /usr/libexec/postfix
# and friends, which this host's Postfix binaries do not have.  Not mailwiz settings.
HOST_LAYOUT = ("daemon_directory", "command_directory", "meta_directory", "shlib_directory",
               "sendmail_path", "newaliases_path", "mailq_path", "setgid_group", "mail_owner",
               "manpage_directory", "sample_directory", "readme_directory", "html_directory")

# postfix check's notice for a stock main.cf below the current compatibility_level
# (CentOS and RHEL set none or an old one; mailwiz leaves it as the distribution set it).
COMPATIBILITY_NOTICE = ("postfix: Postfix is using backwards-compatible default settings",
                        "postfix: See http://www.postfix.org/COMPATIBILITY_README.html for details",
                        "postfix: To disable backwards compatibility use ")


def on_this_host(main_cf: str) -> str:
    """main.cf with the install-layout parameters of this host's Postfix."""
    postconf = shutil.which("postconf", path="/usr/sbin:/sbin:/usr/bin")
    values = subprocess.run([postconf, "-h"] + list(HOST_LAYOUT), stdout=subprocess.PIPE,
                            universal_newlines=True, check=True).stdout.splitlines()
    return confedit.postconf_set(main_cf, dict(zip(HOST_LAYOUT, values)))


@requires_postfix_check
@pytest.mark.parametrize("profile_id, answer_set", CASES)
def test_postfix_check_passes_on_the_planned_files(profile_id, answer_set, tmp_path):
    files, _plan = planned_files(profile_id, ANSWER_SETS[answer_set](), tmp_path)
    status, output = postfix_check(on_this_host(files[MAIN_CF]), files[MASTER_CF])
    problems = [line for line in output.splitlines() if not line.startswith(COMPATIBILITY_NOTICE)]
    assert (status, problems) == (0, [])


# --- the maps ------------------------------------------------------------------------------------

def _postmap(*args) -> subprocess.CompletedProcess:
    return subprocess.run([shutil.which("postmap", path="/usr/sbin:/sbin:/usr/bin")] + list(args),
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=60)


def _indexed_type(planned: str) -> str:
    """The planned map type, or hash where this host's Postfix lacks it (lmdb on Debian without postfix-lmdb)."""
    available = subprocess.run([shutil.which("postconf", path="/usr/sbin:/sbin:/usr/bin"), "-m"],
                               stdout=subprocess.PIPE, universal_newlines=True).stdout.split()
    return planned if planned in available else "hash"


@requires_postfix
@pytest.mark.parametrize("profile_id", ["centos-6", "debian-12", "rhel-10"])
def test_the_planned_maps_build_and_match(profile_id, tmp_path):
    files, plan = planned_files(profile_id, _variation(), tmp_path)
    map_type = _indexed_type(plan.facts.map_type)
    work = tmp_path / "maps"
    work.mkdir()
    for name in ("access", "access.cidr", "sasl_passwd"):
        (work / name).write_text(files["/etc/postfix/" + name])
    for name in ("access", "sasl_passwd"):
        proc = _postmap("{}:{}".format(map_type, work / name))
        assert (proc.returncode, proc.stderr) == (0, "")

    def lookup(key, table):
        proc = _postmap("-q", key, table)
        return proc.stdout.strip() if proc.returncode == 0 else None

    access = "{}:{}".format(map_type, work / "access")
    cidr = "cidr:{}".format(work / "access.cidr")
    assert lookup("spammer.example", access) == "REJECT"
    assert lookup("friend@example.org", access) == "OK"
    assert lookup("192.0.2.77", cidr) == "REJECT"          # a client inside the network
    assert lookup("2001:db8:1::25", cidr) == "DUNNO"
    assert lookup("198.51.100.1", cidr) is None
    assert lookup("192.0.2.77", access) is None            # networks are not in the indexed map
    assert lookup("[smtp.example.net]:587", "{}:{}".format(map_type, work / "sasl_passwd")) == \
        "mailer:s3cret pass"
