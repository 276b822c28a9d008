"""facts.gather on sandbox worlds of every profile and on this host; the parsers and proposals."""
from __future__ import annotations

import ipaddress
import os

import pytest

from installer import facts, platform, profiles, sandbox, stockfiles
from installer.root import TargetRoot
from installer.platform import ServiceState

ALL = sorted(profiles.PROFILES)

OFF = ServiceState(False, False)
ON = ServiceState(True, True)


def sandbox_facts(tmp_path, profile_id, prepare=None):
    root = TargetRoot(str(tmp_path / "root"))
    profile = profiles.get(profile_id)
    sandbox.seed(root, profile)
    runner = sandbox.make_runner(root, profile)
    if prepare:
        prepare(runner, profile)
    return facts.gather(profile, runner, root)


# What a fresh seed world of each profile is, as facts:
# init, MTA alternative (path, mode), MTA packages, services on, firewall, open ports, selinux, hostname
EL_SENDMAIL = "/usr/sbin/sendmail.sendmail"
EXPECTED = {
    "centos-6": ("sysvinit", (EL_SENDMAIL, "auto"), {"sendmail"}, {"sendmail"}, None, set(), "enforcing",
                 "localhost.localdomain"),
    "centos-7": ("systemd", (EL_SENDMAIL, "manual"), {"sendmail"}, {"sendmail"}, "firewalld", set(), "enforcing",
                 "localhost.localdomain"),
    "rhel-7": ("systemd", (EL_SENDMAIL, "manual"), {"sendmail"}, {"sendmail"}, "firewalld", set(), "enforcing",
               "localhost.localdomain"),
    "debian-12": ("systemd", (None, "auto"), {"exim4", "exim4-daemon-light"}, {"exim4"}, None, set(), "absent",
                  "debian"),
    "ubuntu-24.04": ("systemd", (None, "auto"), set(), set(), None, set(), "absent", "ubuntu"),
    "fedora-43": ("systemd", (None, "auto"), set(), set(), "firewalld", set(), "enforcing", "fedora"),
}
for _id in ("rhel", "rocky", "alma"):
    for _v in ("8", "9", "10"):
        EXPECTED[f"{_id}-{_v}"] = ("systemd", (None, "auto"), set(), set(), "firewalld", set(), "enforcing",
                                   "localhost.localdomain")
EXPECTED["fedora-42"] = EXPECTED["fedora-43"]
EXPECTED["debian-11"] = EXPECTED["debian-13"] = EXPECTED["debian-12"]
EXPECTED["ubuntu-22.04"] = EXPECTED["ubuntu-24.04"]


def test_the_table_covers_every_profile():
    assert set(EXPECTED) == set(ALL)


@pytest.mark.parametrize("profile_id", ALL)
def test_gather_on_a_fresh_sandbox(tmp_path, profile_id):
    init, mta, mta_packages, running, firewall, open_ports, selinux, hostname = EXPECTED[profile_id]
    profile = profiles.get(profile_id)
    found = sandbox_facts(tmp_path, profile_id)
    assert found.sandbox is True and found.profile is profile
    assert found.is_root is (os.geteuid() == 0)
    assert found.init == init
    assert "postfix" not in found.installed and "openssl" in found.installed
    assert found.postfix_version is None and found.dovecot_version is None
    assert found.postfix_effective == profile.postfix_version
    assert found.dovecot_effective == profile.dovecot_version
    assert found.map_type == profile.map_type
    assert (found.mta, found.mta_mode) == mta
    assert found.mta_packages == frozenset(mta_packages)
    # The services the steps declare: certbot's renewal timer where it is one to enable (RHEL family, systemd).
    timer = {profile.certbot_timer} if profile.certbot_timer and profile.init == "systemd" else set()
    assert set(found.services) == {"postfix", "dovecot", "sendmail", "exim4", "opendkim"} | timer
    assert {name for name, state in found.services.items() if state == ON} == running
    assert found.firewall == firewall and found.firewall_open == frozenset(open_ports)
    assert found.selinux == selinux
    assert found.updates_pending is True
    assert found.hostname == hostname
    assert found.addresses == ["127.0.0.1/8", "192.0.2.10/24"]
    assert {"root", "postfix", "dovecot", "dovenull", "alice"} <= found.users
    assert len(found.today) == 8 and found.today.isdigit() and found.dkim_selector is None
    data = found.to_json()
    assert data["profile"] == profile_id and data["services"]["postfix"] == {"enabled": False, "running": False}
    assert data["installed"] == sorted(data["installed"])


def _install_mail(runner, profile):
    runner.run(platform.install_cmd(profile, [*profile.base_packages, *profile.dovecot_packages.values()]))


@pytest.mark.parametrize("profile_id", ALL)
def test_gather_after_installing_postfix_and_dovecot(tmp_path, profile_id):
    profile = profiles.get(profile_id)
    found = sandbox_facts(tmp_path, profile_id, _install_mail)
    postfix, dovecot = stockfiles.package_versions(profile)
    assert found.postfix_version == facts.parse_version(postfix)
    assert found.postfix_version[:2] == profile.postfix_version
    assert found.dovecot_version[:2] == profile.dovecot_version
    assert found.postfix_effective == found.postfix_version
    assert found.map_type == profile.map_type
    debian = profile.family == "debian"
    assert found.services["postfix"] == (ON if debian else OFF)
    assert found.services["dovecot"] == (ON if debian else OFF)
    if profile.distro == "debian":
        assert found.mta_packages == frozenset() and found.services["exim4"] == OFF
    if profile.family == "rhel" and profile.version not in ("6", "7"):
        assert (found.mta, found.mta_mode) == ("/usr/sbin/sendmail.postfix", "auto")


def test_gather_sees_opened_ports_and_finished_updates(tmp_path):
    def prepare(runner, profile):
        for port in ("25/tcp", "587/tcp"):
            for argv in platform.firewall_open_cmds("firewalld", port):
                runner.run(argv)
        runner.run(platform.upgrade_cmd(profile))
    found = sandbox_facts(tmp_path, "rocky-9", prepare)
    assert found.firewall_open == {"25/tcp", "587/tcp"}
    assert found.updates_pending is False


def test_gather_sees_an_active_ufw(tmp_path):
    def prepare(runner, profile):
        runner.run(["ufw", "enable"])
        runner.run(platform.firewall_open_cmds("ufw", "993/tcp")[0])
    found = sandbox_facts(tmp_path, "ubuntu-22.04", prepare)
    assert (found.firewall, found.firewall_open) == ("ufw", {"993/tcp"})


def test_gather_can_skip_the_update_check(tmp_path):
    root = TargetRoot(str(tmp_path / "root"))
    profile = profiles.get("debian-12")
    sandbox.seed(root, profile)
    runner = sandbox.make_runner(root, profile)
    calls = []
    answer = runner.world.answer
    runner.world.answer = lambda argv: calls.append(argv) or answer(argv)
    found = facts.gather(profile, runner, root, check_updates=False)
    assert found.updates_pending is False
    assert ["apt-get", "-s", "upgrade"] not in calls and calls


def test_gather_makes_no_change_to_the_sandbox(tmp_path):
    root = TargetRoot(str(tmp_path / "root"))
    profile = profiles.get("centos-6")
    sandbox.seed(root, profile)
    before = root.read_bytes(sandbox.WORLD_PATH)
    runner = sandbox.make_runner(root, profile)
    facts.gather(profile, runner, root)
    assert runner.recorded == []                 # queries only, nothing run
    assert root.read_bytes(sandbox.WORLD_PATH) == before


# --- this host ------------------------------------------------------------------

class SubprocessQueries:
    """Just enough of a runner for queries, independent of installer.runner."""

    sandbox = False

    def query(self, argv, *, timeout=60):
        import subprocess
        from installer.runner import Result

        env = dict(os.environ, LC_ALL="C", PATH=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))
        try:
            done = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, env=env)
        except FileNotFoundError:
            return Result(list(argv), 127, "", f"{argv[0]}: command not found")
        return Result(list(argv), done.returncode, done.stdout, done.stderr)


def _real_runner():
    from installer.runner import RealRunner

    runner = RealRunner()
    try:
        runner.query(["true"])
    except AttributeError as exc:
        # sh 2.x returns a str from a call unless _return_cmd=True is given.
        pytest.xfail(f"installer.runner.RealRunner cannot run a command here: {exc}")
    return runner


@pytest.mark.parametrize("make_runner", [SubprocessQueries, _real_runner], ids=["subprocess", "RealRunner"])
def test_gather_on_this_host(make_runner):
    """The real host (Debian 12 without systemd as PID 1 in this project's machines)."""
    profile = profiles.detect()
    if profile is None:
        pytest.skip("a platform mailwiz does not know")
    root = TargetRoot("/")
    found, seconds = facts.timed_gather(profile, make_runner(), root)
    assert found.sandbox is False
    assert found.init == facts.detect_init(root)
    if not os.path.isdir("/run/systemd/system") and os.path.exists("/usr/sbin/service"):
        assert found.init == "sysvinit"
    assert found.installed and "root" in found.users
    # Other tests install and purge Postfix on this host, so only what gather itself ties together:
    if found.postfix_version is not None:
        assert "postfix" in found.installed and found.postfix_version[:2] == profile.postfix_version
    assert found.hostname
    assert "127.0.0.1/8" in found.addresses
    assert found.selinux in ("enforcing", "permissive", "disabled", "absent")
    if profile.family == "debian":
        assert found.selinux == "absent" and found.mta is None
    assert seconds < 30


# --- init detection -------------------------------------------------------------

@pytest.mark.parametrize("present, expected", [
    (["run/systemd/system/"], "systemd"),
    (["run/systemd/system/", "usr/sbin/service"], "systemd"),
    (["usr/sbin/service", "usr/bin/systemctl"], "sysvinit"),      # systemctl alone proves nothing
    (["sbin/service"], "sysvinit"),
    (["etc/init.d/postfix"], "sysvinit"),
    (["usr/bin/systemctl"], "none"),
    ([], "none"),
])
def test_detect_init(tmp_path, present, expected):
    for rel in present:
        path = tmp_path / rel
        if rel.endswith("/"):
            path.mkdir(parents=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("")
    assert facts.detect_init(TargetRoot(str(tmp_path))) == expected


# --- parsers --------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("3.7.11", (3, 7, 11)),
    ("2.6.6\n", (2, 6, 6)),
    ("2.3.19.1 (9b53102964)", (2, 3, 19, 1)),
    ("2.4.1-4 (7d8c0e5759)", (2, 4, 1)),
    ("2.0.9", (2, 0, 9)),
    ("", None),
    ("postconf: warning: unknown parameter", None),
])
def test_parse_version(text, expected):
    assert facts.parse_version(text) == expected


def test_parse_ip_addresses_keeps_host_prefixes_and_drops_link_local():
    output = (
        "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n"
        "1: lo    inet6 ::1/128 scope host \\       valid_lft forever preferred_lft forever\n"
        "4: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\\       valid_lft forever\n"
        "4: eth0    inet6 fd00::2/64 scope global nodad \\       valid_lft forever preferred_lft forever\n"
        "4: eth0    inet6 fe80::fc:ff:fe00:1/64 scope link \\       valid_lft forever preferred_lft forever\n"
    )
    assert facts.parse_ip_addresses(output) == ["127.0.0.1/8", "::1/128", "192.0.2.2/24", "fd00::2/64"]
    assert facts.parse_ip_addresses("") == []


def test_parse_passwd():
    text = "root:x:0:0:root:/root:/bin/bash\n# comment\n\nalice:x:1000:1000::/home/alice:/bin/sh\n"
    assert facts.parse_passwd(text) == {"root", "alice"}
    assert facts.parse_passwd(None) == frozenset()


# --- proposals ------------------------------------------------------------------

@pytest.mark.parametrize("addresses, expected", [
    (["127.0.0.1/8", "192.0.2.10/24"], ["127.0.0.0/8", "192.0.2.0/24"]),
    (["127.0.0.1/8", "::1/128", "192.168.1.20/24", "fd00::2/64"], ["127.0.0.0/8", "192.168.1.0/24", "fd00::/64"]),
    (["10.1.2.3/8", "172.20.0.5/16"], ["127.0.0.0/8", "10.0.0.0/8", "172.20.0.0/16"]),
    (["8.8.8.8/24", "2a00:1450::1/64"], ["127.0.0.0/8"]),             # public networks are never trusted
    (["192.168.1.20/24", "192.168.1.21/24"], ["127.0.0.0/8", "192.168.1.0/24"]),
    (["0.0.0.0/0", "::/0", "garbage"], ["127.0.0.0/8"]),
    ([], ["127.0.0.0/8"]),
])
def test_suggest_networks(addresses, expected):
    proposed = facts.suggest_networks(facts.Facts(addresses=addresses))
    assert proposed == expected
    assert all(ipaddress.ip_network(n).prefixlen > 0 for n in proposed)


@pytest.mark.parametrize("hostname, expected", [
    ("mx1.example.org", "mx1.example.org"),
    ("MX1.Example.ORG.", "mx1.example.org"),
    ("localhost.localdomain", "mail.example.com"),
    ("debian", "mail.example.com"),
    ("vm", "mail.example.com"),
    ("host.localdomain", "mail.example.com"),
    ("", "mail.example.com"),
])
def test_suggest_hostname(hostname, expected):
    found = facts.Facts(hostname=hostname)
    assert facts.suggest_hostname(found) == expected
    assert facts.suggest_domain(found) == expected.split(".", 1)[1]


def test_effective_versions_without_a_profile_can_be_given():
    found = facts.Facts()
    found.postfix_effective = (3, 5)
    assert found.postfix_effective == (3, 5)
    found.postfix_version = (3, 7, 11)
    assert found.postfix_effective == (3, 7, 11)
