"""The sandbox world: seeding, the queries it answers, the effects it applies."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

import steps
from installer import platform, profiles, sandbox, stockfiles
from installer.root import TargetRoot
from installer.runner import CommandFailed

ALL = sorted(profiles.PROFILES)
RHEL = [p for p in ALL if profiles.get(p).family == "rhel"]
DEBIAN = [p for p in ALL if profiles.get(p).family == "debian"]


def seeded(tmp_path, profile_id):
    root = TargetRoot(str(tmp_path / "root"))
    profile = profiles.get(profile_id)
    assert sandbox.seed(root, profile) is True
    return root, profile, sandbox.open_world(root, profile)


def tree(root: TargetRoot, skip_world=True):
    """{relative path: (bytes, mode)} of every file under the root."""
    files = {}
    for path in sorted(root.base.rglob("*")):
        rel = "/" + path.relative_to(root.base).as_posix()
        if path.is_file() and not (skip_world and rel == sandbox.WORLD_PATH):
            files[rel] = (path.read_bytes(), os.stat(path).st_mode & 0o777)
    return files


def install_everything(world, profile):
    """What a run installs: Postfix and Dovecot (with Debian's protocol packages)."""
    packages = list(profile.base_packages) + sorted(profile.dovecot_packages.values())
    result = world.effect(platform.install_cmd(profile, packages))
    assert result.ok, result.stderr
    return packages


# --- seeding --------------------------------------------------------------------

@pytest.mark.parametrize("profile_id", ALL)
def test_every_profile_seeds_once_with_stock_files_and_world(tmp_path, profile_id):
    root, profile, world = seeded(tmp_path, profile_id)
    assert sandbox.seed(root, profile) is False            # once only
    for path in ("/etc/postfix/main.cf", "/etc/postfix/master.cf", "/etc/dovecot/dovecot.conf",
                 "/etc/passwd", "/etc/group", "/etc/aliases"):
        assert root.exists(path), path
        assert root.meta(path).mode == 0o644, path
    master = root.read_text("/etc/postfix/master.cf")
    assert re.search(r"^#submission inet n", master, re.M), "commented-out submission block"
    assert re.search(r"^#  -o smtpd_sasl_auth_enable=yes", master, re.M)
    passwd_names = {line.split(":")[0] for line in root.read_text("/etc/passwd").splitlines()}
    assert {"root", "postfix", "dovecot", "dovenull", "alice"} <= passwd_names
    group_names = {line.split(":")[0] for line in root.read_text("/etc/group").splitlines()}
    assert {"root", "postfix", "postdrop", "dovecot", "mail"} <= group_names
    if profile.dovecot_layout == "confd":
        for name in ("10-auth.conf", "10-mail.conf", "10-master.conf", "10-ssl.conf", "auth-system.conf.ext"):
            assert root.exists(f"/etc/dovecot/conf.d/{name}"), name
        assert "!include conf.d/*.conf" in root.read_text("/etc/dovecot/dovecot.conf")
    else:
        assert not root.exists("/etc/dovecot/conf.d")
    if profile.dovecot24:
        first = [l for l in root.read_text("/etc/dovecot/dovecot.conf").splitlines()
                 if l.strip() and not l.startswith("#")][0]
        assert first.startswith("dovecot_config_version = ")
    # Nothing is installed in a seed world, so no protocol package has added itself.
    assert not root.exists("/usr/share/dovecot/protocols.d")
    # The world file is deterministic: what the world would write is what is there.
    text = root.read_text(sandbox.WORLD_PATH)
    assert text == world.dump() == sandbox._dump(json.loads(text))
    assert root.read_text(sandbox.SEED_MARKER).strip() == profile_id
    for rel, (data, _mode) in tree(root).items():
        assert b"@" + b"HOSTNAME@" not in data and not re.search(rb"@[A-Z]+@", data), rel


def test_main_cf_differs_per_family_and_release(tmp_path):
    def main_cf(profile_id):
        root = TargetRoot(str(tmp_path / profile_id))
        sandbox.seed(root, profiles.get(profile_id))
        return root.read_text("/etc/postfix/main.cf")

    c6, r9, r10, d11, d12, u24 = (main_cf(p) for p in
                                  ("centos-6", "rocky-9", "rhel-10", "debian-11", "debian-12", "ubuntu-24.04"))
    assert "compatibility_level" not in c6 and "postfix-2.6.6" in c6
    assert "inet_interfaces = localhost" in c6 and "inet_protocols = all" in c6
    assert "compatibility_level = 2" in r9 and "alias_maps = hash:/etc/aliases" in r9
    assert "alias_maps = lmdb:/etc/aliases" in r10
    assert "compatibility_level = 2" in d11 and "compatibility_level = 3.6" in d12
    assert "myhostname = debian" in d12 and "smtpd_tls_cert_file=/etc/ssl/certs/ssl-cert-snakeoil.pem" in d12
    assert "(Ubuntu)" in u24 and "myhostname = ubuntu" in u24


def test_debian_mailname_and_centos6_network_file(tmp_path):
    root, _, _ = seeded(tmp_path, "debian-12")
    assert root.read_text("/etc/mailname") == "debian\n"
    assert root.read_text("/etc/hostname") == "debian\n"
    root6 = TargetRoot(str(tmp_path / "c6"))
    sandbox.seed(root6, profiles.get("centos-6"))
    assert "HOSTNAME=localhost.localdomain" in root6.read_text("/etc/sysconfig/network")
    assert not root6.exists("/etc/hostname")


def test_a_root_seeded_for_one_profile_refuses_another(tmp_path):
    root, _, _ = seeded(tmp_path, "rocky-9")
    with pytest.raises(sandbox.SandboxProfileMismatch):
        sandbox.seed(root, profiles.get("debian-12"))
    with pytest.raises(sandbox.SandboxProfileMismatch):
        sandbox.open_world(root, profiles.get("debian-12"))


def test_interrupted_seeding_starts_again(tmp_path):
    root = TargetRoot(str(tmp_path / "root"))
    profile = profiles.get("debian-12")
    sandbox.seed(root, profile)
    root.remove(sandbox.SEED_MARKER)                  # as if killed before the marker
    root.write_atomic("/etc/postfix/main.cf", b"half\n")
    assert sandbox.seed(root, profile) is True
    assert root.read_text("/etc/postfix/main.cf").startswith("# Written by the package")


# --- stock files ----------------------------------------------------------------

@pytest.mark.parametrize("profile_id", ALL)
def test_stock_files_are_those_the_packages_create(profile_id):
    profile = profiles.get(profile_id)
    postfix_only = stockfiles.stock_files(profile, ["postfix"])
    assert {"/etc/postfix/main.cf", "/etc/postfix/master.cf"} <= set(postfix_only)
    assert not any(p.startswith("/etc/dovecot") for p in postfix_only)
    assert "/etc/passwd" not in stockfiles.stock_files(profile, profile.base_packages)   # base system, not a package
    dovecot = stockfiles.stock_files(profile, [profile.base_packages[1]])
    assert "/etc/dovecot/dovecot.conf" in dovecot
    assert all(isinstance(v, bytes) and not re.search(rb"@[A-Z]+@", v) for v in dovecot.values())
    if profile.family == "debian":
        with_imap = stockfiles.stock_files(profile, ["dovecot-core", "dovecot-imapd"])
        assert "/usr/share/dovecot/protocols.d/imapd.protocol" in with_imap
        assert "/usr/share/dovecot/protocols.d/pop3d.protocol" not in with_imap
    assert stockfiles.stock_files(profile, []) == {}


def test_stock_files_take_the_host_name():
    main_cf = stockfiles.stock_files(profiles.get("debian-12"), ["postfix"], hostname="mx.example.org")
    assert b"myhostname = mx.example.org" in main_cf["/etc/postfix/main.cf"]


def test_every_stock_set_is_used_and_every_profile_indexed():
    index = json.loads((stockfiles.STOCK_DIR / "index.json").read_text())
    used = set()
    for profile_id in ALL:
        used.update(stockfiles._profile_sets(profile_id))
    assert used == set(index["sets"]) == {p.name for p in stockfiles.STOCK_DIR.iterdir() if p.is_dir()}


@pytest.mark.realpostfix
@pytest.mark.parametrize("profile_id", ALL)
def test_stock_configs_pass_the_real_tools(profile_id):
    from tests import realtools

    profile = profiles.get(profile_id)
    files = stockfiles.stock_files(profile, [*profile.base_packages, *profile.dovecot_packages.values()])
    _out, warnings = realtools.postconf_n(files["/etc/postfix/main.cf"].decode(),
                                          files["/etc/postfix/master.cf"].decode())
    assert warnings == []
    if not profile.dovecot24:       # this host's doveconf is 2.3
        dovecot = {path[len("/etc/dovecot/"):]: data.decode() for path, data in files.items()
                   if path.startswith("/etc/dovecot/")}
        rc, out = realtools.doveconf_n(dovecot)
        assert rc == 0, out


# --- queries --------------------------------------------------------------------

# (profile, argv, rc, stdout pattern) for a fresh seed world.
FRESH_ANSWERS = [
    ("centos-6", ["rpm", "-qa", "--qf", "%{NAME}\n"], 0, r"(?m)^sendmail$"),
    ("centos-6", ["yum", "check-update", "-q"], 100, r"openssl\.x86_64"),
    ("centos-6", ["dnf", "check-update", "-q"], 127, r"^$"),
    ("centos-6", ["chkconfig", "sendmail"], 0, r"^$"),
    ("centos-6", ["chkconfig", "postfix"], 1, r"^$"),
    ("centos-6", ["service", "sendmail", "status"], 0, r"sendmail \(pid +\d+\) is running"),
    ("centos-6", ["service", "postfix", "status"], 1, r"^$"),
    ("centos-6", ["systemctl", "is-active", "sendmail"], 127, r"^$"),
    ("centos-6", ["alternatives", "--display", "mta"], 0,
     r"^mta - status is auto\.\n link currently points to /usr/sbin/sendmail\.sendmail\n"
     r"/usr/sbin/sendmail\.sendmail - priority 90\n slave mta-mailq"),
    ("centos-6", ["firewall-cmd", "--state"], 127, r"^$"),
    ("centos-6", ["getenforce"], 0, r"^Enforcing$"),
    ("centos-6", ["postconf", "-h", "mail_version"], 127, r"^$"),
    ("centos-6", ["dovecot", "--version"], 127, r"^$"),
    ("centos-6", ["hostname", "-f"], 0, r"^localhost\.localdomain$"),
    ("centos-7", ["alternatives", "--display", "mta"], 0, r"^mta - status is manual\."),
    ("centos-7", ["firewall-cmd", "--list-services"], 0, r"^dhcpv6-client ssh$"),
    ("centos-7", ["systemctl", "is-enabled", "sendmail"], 0, r"^enabled$"),
    ("centos-7", ["systemctl", "is-active", "sendmail"], 0, r"^active$"),
    ("rocky-9", ["systemctl", "is-enabled", "postfix"], 1, r"^$"),
    ("rocky-9", ["systemctl", "is-active", "postfix"], 3, r"^inactive$"),
    ("rocky-9", ["alternatives", "--display", "mta"], 2, r"^$"),
    ("rocky-9", ["dnf", "check-update", "-q"], 100, r"\.el9"),
    ("rocky-9", ["yum", "check-update", "-q"], 100, r"\.el9"),      # yum is dnf there
    ("rocky-9", ["firewall-cmd", "--state"], 0, r"^running$"),
    ("rocky-9", ["firewall-cmd", "--list-ports"], 0, r"^$"),
    ("rocky-9", ["firewall-cmd", "--list-services"], 0, r"^cockpit dhcpv6-client ssh$"),
    ("rocky-9", ["ufw", "status"], 127, r"^$"),
    ("rhel-10", ["ip", "-o", "addr", "show"], 0,
     r"^1: lo    inet 127\.0\.0\.1/8 scope host lo\\ .*\n2: eth0    inet 192\.0\.2\.10/24 brd 192\.0\.2\.255 scope global eth0\\"),
    ("fedora-43", ["hostname", "-f"], 0, r"^fedora$"),
    ("fedora-43", ["dnf", "check-update", "-q"], 100, r"\.fc43"),
    ("debian-12", ["dpkg-query", "-W", "-f", "${db:Status-Abbrev} ${Package}\n"], 0, r"(?m)^ii  exim4$"),
    ("debian-12", ["apt-get", "-s", "upgrade"], 0, r"(?m)^Inst openssl "),
    ("debian-12", ["rpm", "-qa", "--qf", "%{NAME}\n"], 127, r"^$"),
    ("debian-12", ["alternatives", "--display", "mta"], 127, r"^$"),
    ("debian-12", ["systemctl", "is-active", "exim4"], 0, r"^active$"),
    ("debian-12", ["service", "exim4", "status"], 0, r"^exim4 is running\.$"),
    ("debian-12", ["getenforce"], 127, r"^$"),
    ("debian-12", ["firewall-cmd", "--state"], 127, r"^$"),
    ("debian-12", ["ufw", "status"], 127, r"^$"),
    ("debian-12", ["hostname", "-f"], 0, r"^debian$"),
    ("ubuntu-24.04", ["ufw", "status"], 0, r"^Status: inactive$"),
    ("ubuntu-24.04", ["dpkg-query", "-W", "-f", "${db:Status-Abbrev} ${Package}\n"], 0, r"(?m)^ii  ufw$"),
]


@pytest.mark.parametrize("profile_id, argv, rc, pattern", FRESH_ANSWERS)
def test_fresh_world_answers_queries(tmp_path, profile_id, argv, rc, pattern):
    _root, _profile, world = seeded(tmp_path, profile_id)
    before = world.dump()
    result = world.answer(argv)
    assert result.rc == rc, (result.stdout, result.stderr)
    assert re.search(pattern, result.stdout), result.stdout
    assert world.dump() == before               # queries change nothing


# (profile, argv, rc, stdout pattern) once Postfix and Dovecot are installed.
INSTALLED_ANSWERS = [
    ("centos-6", ["postconf", "-h", "mail_version"], 0, r"^2\.6\.6$"),
    ("centos-6", ["postconf", "-h", "default_database_type"], 0, r"^hash$"),
    ("centos-6", ["dovecot", "--version"], 0, r"^2\.0\.9$"),
    ("centos-6", ["alternatives", "--display", "mta"], 0,
     r"status is auto\.\n link currently points to /usr/sbin/sendmail\.sendmail\n"
     r"/usr/sbin/sendmail\.postfix - priority 30\n"),
    ("rocky-9", ["alternatives", "--display", "mta"], 0,
     r"^mta - status is auto\.\n link currently points to /usr/sbin/sendmail\.postfix\n.*\n follower mta-mailq"),
    ("rhel-10", ["postconf", "-h", "default_database_type"], 0, r"^lmdb$"),
    ("rhel-10", ["postconf", "-h", "mail_version"], 0, r"^3\.8\.5$"),
    ("fedora-43", ["dovecot", "--version"], 0, r"^2\.4\.1 \([0-9a-f]+\)$"),
    ("debian-12", ["postconf", "-h", "mail_version"], 0, r"^3\.7\.11$"),
    ("debian-12", ["dovecot", "--version"], 0, r"^2\.3\.19\.1 \(9b53102964\)$"),
    ("debian-12", ["systemctl", "is-active", "postfix"], 0, r"^active$"),      # Debian starts what it installs
    ("debian-12", ["postfix", "status"], 0, r"^$"),
    ("debian-12", ["doveadm", "service", "status"], 0, r"(?m)^auth "),
    ("rocky-9", ["postfix", "status"], 1, r"^$"),                              # RHEL leaves it stopped
    ("rocky-9", ["doveadm", "service", "status"], 75, r"^$"),
    ("rocky-9", ["service", "postfix", "status"], 3, r"master is stopped"),
    ("debian-12", ["dpkg-query", "-W", "-f", "${db:Status-Abbrev} ${Package}\n"], 0, r"(?m)^ii  dovecot-imapd$"),
]


@pytest.mark.parametrize("profile_id, argv, rc, pattern", INSTALLED_ANSWERS)
def test_world_with_mail_packages_answers_queries(tmp_path, profile_id, argv, rc, pattern):
    _root, profile, world = seeded(tmp_path, profile_id)
    install_everything(world, profile)
    result = world.answer(argv)
    assert result.rc == rc, (result.stdout, result.stderr)
    assert re.search(pattern, result.stdout), result.stdout


@pytest.mark.parametrize("profile_id", ALL)
def test_system_queries_read_the_world(tmp_path, profile_id):
    """The query helpers of installer/system.py parse what the world answers."""
    root, profile, world = seeded(tmp_path, profile_id)
    runner = sandbox.SandboxRunner(world)
    assert platform.installed_packages(runner, profile) == world.packages
    assert platform.updates_pending(runner, profile) is True
    tool = platform.active_firewall(runner, profile)
    assert tool == ("firewalld" if profile.init == "systemd" and profile.family == "rhel" else None)
    if tool:
        assert platform.firewall_open_ports(runner, tool) == set()     # ssh is a service, not a mail port
    world.effect(platform.upgrade_cmd(profile))
    assert platform.updates_pending(runner, profile) is False


# --- effects --------------------------------------------------------------------

@pytest.mark.parametrize("profile_id", ALL)
def test_install_then_remove_restores_the_world_byte_identical(tmp_path, profile_id):
    root, profile, world = seeded(tmp_path, profile_id)
    before = root.read_bytes(sandbox.WORLD_PATH)
    packages = list(profile.base_packages) + sorted(profile.dovecot_packages.values())
    if profile.distro == "debian":
        packages.remove("postfix")       # installing postfix removes exim4 there: not a round trip
    world.effect(platform.install_cmd(profile, packages))
    assert root.read_bytes(sandbox.WORLD_PATH) != before
    assert set(packages) <= world.packages
    result = world.effect(platform.remove_cmd(profile, packages))
    assert result.ok, result.stderr
    assert root.read_bytes(sandbox.WORLD_PATH) == before


@pytest.mark.parametrize("profile_id", ALL)
def test_services_firewall_alternatives_round_trip(tmp_path, profile_id):
    """Every command form of the platform adapters, applied and then reversed."""
    root, profile, world = seeded(tmp_path, profile_id)
    install_everything(world, profile)
    after_install = world.dump()
    runner = sandbox.SandboxRunner(world)
    inits = ["none", "sysvinit"] + (["systemd"] if profile.init == "systemd" else [])
    needs = steps.declared(profile)      # without an init system, the steps' declarations name the commands
    for init in inits:
        for name in ("postfix", "dovecot"):
            daemon = needs.service(name)
            snapshot = world.dump()
            was = dict(world.state["services"][name])
            forward = ["disable" if was["enabled"] else "enable", "stop" if was["running"] else "start"]
            backward = ["enable" if was["enabled"] else "disable", "start" if was["running"] else "stop"]
            for verb in forward:
                for argv in platform.service_cmds(init, profile, name, verb, daemon):
                    runner.run(argv)
            state = platform.service_state(runner, root, init, profile, name, daemon)
            assert state.running is not was["running"], (init, name)
            if init == "systemd" or (init == "sysvinit" and profile.family == "rhel"):
                assert state.enabled is not was["enabled"], (init, name)
            for verb in backward:
                for argv in platform.service_cmds(init, profile, name, verb, daemon):
                    runner.run(argv)
            assert world.dump() == snapshot, (init, name)
        # A restart leaves a running Postfix running.
        world.state["services"]["postfix"]["running"] = True
        for argv in platform.service_cmds(init, profile, "postfix", "restart", needs.service("postfix")):
            runner.run(argv)
        assert world.state["services"]["postfix"]["running"] is True
        world.state["services"].update(json.loads(after_install)["services"])
        world.save()
    assert world.dump() == after_install

    tool = {"firewalld": "firewalld", "ufw": "ufw"}.get(profile.firewall)
    if tool == "firewalld" and profile.init == "systemd":
        for argv in platform.firewall_open_cmds(tool, "25/tcp") + platform.firewall_open_cmds(tool, "587/tcp"):
            runner.run(argv)
        assert platform.firewall_open_ports(runner, tool) == {"25/tcp", "587/tcp"}
        assert world.state["firewalld"]["permanent_ports"] == ["25/tcp", "587/tcp"]
        for argv in platform.firewall_close_cmds(tool, "25/tcp") + platform.firewall_close_cmds(tool, "587/tcp"):
            runner.run(argv)
        assert world.dump() == after_install
    if tool == "ufw":
        runner.run(["ufw", "enable"])
        for argv in platform.firewall_open_cmds(tool, "25/tcp"):
            runner.run(argv)
        assert platform.active_firewall(runner, profile) == "ufw"
        assert platform.firewall_open_ports(runner, tool) == {"25/tcp"}
        for argv in platform.firewall_close_cmds(tool, "25/tcp"):
            runner.run(argv)
        runner.run(["ufw", "disable"])
        assert world.dump() == after_install

    if profile.family == "rhel":
        current, mode = platform.alternative(runner, "mta")
        runner.run(platform.alternatives_set_cmd("mta", "/usr/sbin/sendmail.postfix"))
        assert platform.alternative(runner, "mta") == ("/usr/sbin/sendmail.postfix", "manual")
        if mode == "auto":
            runner.run(platform.alternatives_auto_cmd("mta"))
        else:
            runner.run(platform.alternatives_set_cmd("mta", current))
        assert platform.alternative(runner, "mta") == (current, mode)
        assert world.dump() == after_install


def test_effects_persist_across_reopening(tmp_path):
    root, profile, _ = seeded(tmp_path, "rocky-9")
    runner = sandbox.make_runner(root, profile)
    runner.run(platform.install_cmd(profile, ["postfix"]))
    runner.run(["systemctl", "enable", "postfix"])
    again = sandbox.open_world(root, profile)
    assert again.installed("postfix")
    assert again.state["services"]["postfix"] == {"enabled": True, "running": False}
    assert runner.recorded == [platform.install_cmd(profile, ["postfix"]), ["systemctl", "enable", "postfix"]]


@pytest.mark.parametrize("profile_id, rc, message", [
    ("debian-12", 100, "E: Unable to locate package no-such-package"),
    ("centos-6", 1, "No package no-such-package available."),
    ("rocky-9", 1, "Unable to find a match: no-such-package"),
])
def test_installing_an_unknown_package_fails_and_changes_nothing(tmp_path, profile_id, rc, message):
    root, profile, world = seeded(tmp_path, profile_id)
    before = world.dump()
    runner = sandbox.SandboxRunner(world)
    with pytest.raises(CommandFailed) as failed:
        runner.run(platform.install_cmd(profile, ["postfix", "no-such-package"]))
    assert failed.value.result.rc == rc and message in failed.value.result.stderr
    assert world.dump() == before == root.read_text(sandbox.WORLD_PATH)


@pytest.mark.parametrize("profile_id, rc", [("debian-12", 0), ("centos-7", 0), ("rocky-9", 0), ("fedora-43", 1)])
def test_removing_a_package_that_is_not_installed(tmp_path, profile_id, rc):
    """apt purge, yum and dnf 4 only say so; dnf 5 (Fedora) fails."""
    _root, profile, world = seeded(tmp_path, profile_id)
    before = world.dump()
    assert world.effect(platform.remove_cmd(profile, ["postfix"])).rc == rc
    assert world.dump() == before


def test_debian_postfix_replaces_exim4(tmp_path):
    _root, profile, world = seeded(tmp_path, "debian-12")
    assert "exim4" in world.state["services"]
    result = world.effect(platform.install_cmd(profile, ["postfix"]))
    assert "REMOVED" in result.stdout
    assert not world.packages & {"exim4", "exim4-daemon-light"}
    assert {"exim4-base", "exim4-config", "postfix"} <= world.packages
    assert "exim4" not in world.state["services"]
    assert world.state["services"]["postfix"] == {"enabled": True, "running": True}


def test_debian_dovecot_protocol_packages_pull_in_the_core(tmp_path):
    _root, profile, world = seeded(tmp_path, "debian-12")
    world.effect(platform.install_cmd(profile, ["dovecot-imapd"]))
    assert {"dovecot-core", "dovecot-imapd"} <= world.packages


def test_centos6_mta_switch(tmp_path):
    _root, profile, world = seeded(tmp_path, "centos-6")
    world.effect(platform.install_cmd(profile, ["postfix", "dovecot"]))
    mta = world.state["alternatives"]["mta"]
    assert mta["current"] == "/usr/sbin/sendmail.sendmail"      # priority 90 beats Postfix's 30
    assert mta["candidates"] == {"/usr/sbin/sendmail.postfix": 30, "/usr/sbin/sendmail.sendmail": 90}
    bad = world.effect(platform.alternatives_set_cmd("mta", "/usr/sbin/sendmail.exim"))
    assert bad.rc == 2 and "has not been configured" in bad.stderr
    assert world.effect(platform.alternatives_set_cmd("mta", "/usr/sbin/sendmail.postfix")).ok
    # Removing sendmail removes its candidate; the manual choice stays.
    world.effect(platform.remove_cmd(profile, ["sendmail"]))
    assert world.state["alternatives"]["mta"] == {
        "current": "/usr/sbin/sendmail.postfix", "mode": "manual", "candidates": {"/usr/sbin/sendmail.postfix": 30}}
    assert "sendmail" not in world.state["services"]


def test_centos7_removing_the_pinned_mta_falls_back_to_auto(tmp_path):
    _root, profile, world = seeded(tmp_path, "centos-7")
    world.effect(platform.install_cmd(profile, ["postfix"]))
    assert world.state["alternatives"]["mta"]["current"] == "/usr/sbin/sendmail.sendmail"
    world.effect(platform.remove_cmd(profile, ["sendmail"]))
    assert world.state["alternatives"]["mta"] == {
        "current": "/usr/sbin/sendmail.postfix", "mode": "auto", "candidates": {"/usr/sbin/sendmail.postfix": 30}}


def test_rhel9_postfix_removal_removes_the_group(tmp_path):
    _root, profile, world = seeded(tmp_path, "rocky-9")
    world.effect(platform.install_cmd(profile, ["postfix"]))
    assert world.state["alternatives"]["mta"]["current"] == "/usr/sbin/sendmail.postfix"
    world.effect(platform.remove_cmd(profile, ["postfix"]))
    assert world.state["alternatives"] == {}
    assert world.effect(platform.alternatives_auto_cmd("mta")).rc == 2


def test_service_commands_for_a_missing_service_fail_like_the_real_ones(tmp_path):
    _root, _profile, world = seeded(tmp_path, "rocky-9")
    assert world.effect(["systemctl", "start", "postfix"]).rc == 5
    assert world.effect(["systemctl", "enable", "postfix"]).rc == 1
    assert world.effect(["postfix", "start"]).rc == 127          # not installed: no such command
    _root6, _p6, world6 = seeded(tmp_path / "c6", "centos-6")
    assert world6.effect(["service", "postfix", "start"]).rc == 1
    assert world6.effect(["chkconfig", "postfix", "on"]).rc == 1


def test_direct_daemon_control_refuses_double_start_and_stop(tmp_path):
    _root, profile, world = seeded(tmp_path, "rocky-9")
    install_everything(world, profile)
    assert world.effect(["postfix", "stop"]).rc == 1
    assert world.effect(["postfix", "start"]).ok
    assert world.effect(["postfix", "start"]).rc == 1
    assert world.effect(["dovecot"]).ok
    assert world.effect(["dovecot"]).rc == 89
    assert world.effect(["doveadm", "stop"]).ok
    assert world.effect(["doveadm", "stop"]).rc == 75


def test_firewalld_must_run_for_firewall_cmd(tmp_path):
    _root, profile, world = seeded(tmp_path, "alma-8")
    world.effect(["systemctl", "stop", "firewalld"])
    result = world.effect(platform.firewall_open_cmds("firewalld", "25/tcp")[0])
    assert result.rc == 252
    assert world.answer(["firewall-cmd", "--state"]).stdout == "not running"


@pytest.mark.parametrize("argv", [
    ["postmap", "/etc/postfix/access"], ["newaliases"], ["postconf", "-e", "myhostname = mx.example.com"],
    ["doveconf", "-n"], ["openssl", "req", "-new", "-x509"], ["restorecon", "-R", "/home/alice/Maildir"],
    ["postfix", "check"],
])
def test_other_commands_are_recorded_without_effect(tmp_path, argv):
    _root, profile, world = seeded(tmp_path, "rocky-9")
    install_everything(world, profile)
    before = world.dump()
    result = world.effect(argv)
    assert result.ok and world.history[-1] == argv
    assert world.dump() == before


def test_debconf_preseed_is_accepted_on_debian_only(tmp_path):
    _root, _profile, world = seeded(tmp_path, "debian-12")
    assert world.effect(["debconf-set-selections"]).ok
    _r, _p, rhel = seeded(tmp_path / "r", "rocky-9")
    assert rhel.effect(["debconf-set-selections"]).rc == 127


@pytest.mark.parametrize("profile_id", ALL)
def test_the_world_writes_no_file_but_its_own(tmp_path, profile_id):
    root, profile, world = seeded(tmp_path, profile_id)
    before = tree(root)
    runner = sandbox.SandboxRunner(world)
    install_everything(world, profile)
    for argv in platform.service_cmds(profile.init, profile, "postfix", "enable"):
        runner.run(argv, check=False)
    runner.run(platform.upgrade_cmd(profile))
    if profile.family == "rhel":
        runner.run(platform.alternatives_set_cmd("mta", "/usr/sbin/sendmail.postfix"))
    runner.run(platform.remove_cmd(profile, list(profile.base_packages)))
    assert tree(root) == before
