"""The system-level steps (update, packages, mta, firewall, selinux, services)
on every profile family, as tables: (profile, facts, answers) -> actions."""
from __future__ import annotations

import re

import pytest

from installer import actions as actions_mod
from installer import engine, profiles
from installer.actions import (InstallPackages, RemovePackages, RunCommand, Service, Simulation, StopService,
                               WriteFile, watched)
from installer.root import TargetRoot
from installer.platform import ServiceState
from steps import firewall, mta, packages, selinux, services, tls, update
from tests.stepkit import answers_with, facts_for, plan_of, summary

SYSTEM_STEPS = [update, packages, mta, firewall, selinux, services]

# The families the brief names; debian-12 twice: booted with systemd, and this CI host (sysvinit scripts).
FAMILIES = [
    ("centos-6", {}), ("centos-7", {}), ("rocky-9", {}), ("rhel-10", {}), ("fedora-43", {}),
    ("debian-12", {}), ("debian-12", {"init": "sysvinit"}), ("ubuntu-24.04", {"firewall": "ufw"}),
]
FAMILY_IDS = [pid + ("-" + "-".join(str(v) for v in f.values()) if f else "") for pid, f in FAMILIES]

APT_ENV = {"DEBIAN_FRONTEND": "noninteractive", "NEEDRESTART_MODE": "a"}
APT_OPTS = ["-y", "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"]
APT_UPGRADE = ["apt-get", "upgrade", *APT_OPTS]
DEBIAN_ALL = ["postfix", "dovecot-core", "dovecot-imapd", "dovecot-pop3d", "dovecot-lmtpd", "openssl"]
RELAY = {"host": "[smtp.example.net]:587", "username": "user", "password_env": "MAILWIZ_RELAY_PASSWORD"}


def argvs(actions):
    return [a.argv for a in actions if isinstance(a, RunCommand)]


# --- update ------------------------------------------------------------------------

@pytest.mark.parametrize("profile_id, update_answer, pending, expected", [
    ("centos-6", True, True, [["yum", "update", "-y"]]),
    ("centos-7", True, True, [["yum", "update", "-y"]]),
    ("rocky-9", True, True, [["dnf", "upgrade", "-y"]]),
    ("rhel-10", True, True, [["dnf", "upgrade", "-y"]]),
    ("fedora-43", True, True, [["dnf", "upgrade", "-y"]]),
    ("debian-12", True, True, [["apt-get", "update"], APT_UPGRADE]),
    ("ubuntu-24.04", True, True, [["apt-get", "update"], APT_UPGRADE]),
    ("rocky-9", False, True, []),
    ("debian-12", False, True, []),
    ("rocky-9", True, False, []),          # nothing pending: a second apply plans nothing
    ("debian-12", True, False, []),
])
def test_update(profile_id, update_answer, pending, expected):
    actions = plan_of(update, profile_id, facts=facts_for(profile_id, updates_pending=pending),
                      answers=answers_with(**{"system.update": update_answer}))
    assert argvs(actions) == expected
    if expected:
        upgrade = actions[-1]
        assert upgrade.reversible is False
        assert "cannot be undone" in str(upgrade.describe())
        assert upgrade.env == (APT_ENV if profile_id.startswith(("debian", "ubuntu")) else {})


def test_an_update_is_never_undone_but_said_so():
    notes, ran = [], []

    class Ctx:
        def run(self, argv, **kw):
            ran.append(argv)

        def note(self, message):
            notes.append(str(message))

        def restore(self, records):
            pass

    upgrade = plan_of(update, "rocky-9")[-1]
    RunCommand.undo(Ctx(), {"argv": upgrade.argv, "undo_argv": None, "reversible": upgrade.reversible, "files": []})
    assert ran == [] and notes == ["This change cannot be undone and stays: dnf upgrade -y"]


# --- packages ----------------------------------------------------------------------

PRESEED = ["debconf-set-selections"]
REFRESH = ["apt-get", "update"]


@pytest.mark.parametrize("profile_id, facts, answers, expected_commands, expected_packages", [
    # RHEL family: one package per server, no preseed, no index refresh.
    ("centos-6", {}, {}, [], ["postfix", "dovecot", "openssl"]),
    ("centos-7", {}, {}, [], ["postfix", "dovecot", "openssl"]),
    ("rocky-9", {}, {}, [], ["postfix", "dovecot", "openssl"]),
    ("rhel-10", {}, {}, [], ["postfix", "dovecot", "openssl"]),
    ("fedora-43", {}, {}, [], ["postfix", "dovecot", "openssl"]),
    ("rocky-9", {}, {"relayhost": RELAY}, [], ["postfix", "dovecot", "cyrus-sasl", "cyrus-sasl-plain", "openssl"]),
    ("rocky-9", {}, {"relayhost": {"host": "[relay.internal]"}}, [], ["postfix", "dovecot", "openssl"]),
    ("rocky-9", {}, {"auth.tls.certificate": "existing"}, [], ["postfix", "dovecot"]),
    # Debian/Ubuntu: the update step refreshes the index (update on, updates pending).
    ("debian-12", {}, {}, [PRESEED], DEBIAN_ALL),
    ("debian-12", {"init": "sysvinit"}, {}, [PRESEED], DEBIAN_ALL),
    ("ubuntu-24.04", {"firewall": "ufw"}, {}, [PRESEED], DEBIAN_ALL),
    # ... else this step refreshes it before installing.
    ("debian-12", {}, {"system.update": False}, [REFRESH, PRESEED], DEBIAN_ALL),
    ("debian-12", {"updates_pending": False}, {}, [REFRESH, PRESEED], DEBIAN_ALL),
    ("debian-12", {}, {"dovecot.protocols": ["imap"]}, [PRESEED],
     ["postfix", "dovecot-core", "dovecot-imapd", "openssl"]),
    ("debian-12", {}, {"dovecot.protocols": ["lmtp", "pop3"]}, [PRESEED],
     ["postfix", "dovecot-core", "dovecot-pop3d", "dovecot-lmtpd", "openssl"]),
    ("debian-12", {}, {"relayhost": RELAY}, [PRESEED], DEBIAN_ALL[:-1] + ["libsasl2-modules", "openssl"]),
    # postfix already there: its questions were answered when it was installed.
    ("debian-12", {"installed": {"postfix"}}, {}, [], DEBIAN_ALL),
    # all there: nothing at all, not even a refresh.
    ("debian-12", {"installed": set(DEBIAN_ALL)}, {"system.update": False}, None, None),
    ("rocky-9", {"installed": {"postfix", "dovecot", "openssl"}}, {}, None, None),
])
def test_packages(profile_id, facts, answers, expected_commands, expected_packages):
    actions = plan_of(packages, profile_id, facts=facts_for(profile_id, **facts), answers=answers_with(**answers))
    if expected_packages is None:
        assert actions == []
        return
    assert argvs(actions) == expected_commands
    installs = [a for a in actions if isinstance(a, InstallPackages)]
    assert len(installs) == 1 and actions[-1] is installs[0]
    assert installs[0].packages == expected_packages


def test_debconf_preseed_names_the_mail_name():
    actions = plan_of(packages, "debian-12", answers=answers_with(**{"postfix.hostname": "mx2.example.org"}))
    preseed = next(a for a in actions if a.argv == PRESEED)
    assert preseed.stdin == ("postfix postfix/main_mailer_type select Internet Site\n"
                             "postfix postfix/mailname string mx2.example.org\n")


def test_install_asks_nothing_on_debian():
    install = plan_of(packages, "debian-12")[-1]
    cmd = install.commands(profiles.get("debian-12"), "systemd")[0]
    assert cmd[:2] == ["apt-get", "install"] and "-y" in cmd
    from installer import platform
    assert platform.package_env(profiles.get("debian-12"))["DEBIAN_FRONTEND"] == "noninteractive"


# --- mta ---------------------------------------------------------------------------

TO_POSTFIX = ("set_alternative", {"path": "/usr/sbin/sendmail.postfix"})

@pytest.mark.parametrize("profile_id, facts, mode, expected", [
    ("centos-6", {"installed": {"sendmail", "sendmail-cf"}}, "remove",
     [("stop_service", {"name": "sendmail", "init": "sysvinit"}), TO_POSTFIX,
      ("remove_packages", {"packages": ["sendmail", "sendmail-cf"]})]),
    ("centos-6", {"installed": {"sendmail"}}, "alternatives",
     [("stop_service", {"name": "sendmail", "init": "sysvinit"}),
      TO_POSTFIX]),
    ("centos-7", {"installed": {"sendmail"}}, "remove",
     [("stop_service", {"name": "sendmail"}), TO_POSTFIX,
      ("remove_packages", {"packages": ["sendmail", "sendmail-cf"]})]),
    ("rocky-9", {"installed": {"sendmail"}}, "alternatives",
     [("stop_service", {"name": "sendmail"}), TO_POSTFIX]),
    ("rhel-10", {"installed": {"sendmail"}, "init": "none"}, "remove",
     [("stop_service", {"name": "sendmail", "init": "none"}), TO_POSTFIX,
      ("remove_packages", {"packages": ["sendmail", "sendmail-cf"]})]),
    ("fedora-43", {"installed": {"sendmail"}}, "alternatives",
     [("stop_service", {"name": "sendmail"}), TO_POSTFIX]),
    # no sendmail: postfix is the MTA once installed.
    ("rocky-9", {}, "remove", []),
    ("centos-6", {}, "alternatives", []),
    # Debian/Ubuntu: installing postfix removed exim4 (a package conflict).
    ("debian-12", {"installed": {"exim4", "exim4-daemon-light"}}, "remove", []),
    ("ubuntu-24.04", {"installed": {"sendmail"}}, "remove", []),
])
def test_mta(profile_id, facts, mode, expected):
    actions = plan_of(mta, profile_id, facts=facts_for(profile_id, **facts),
                      answers=answers_with(**{"system.existing_mta": mode}))
    assert summary(actions) == expected


def test_sendmail_goes_only_after_postfix_is_installed():
    from steps import ORDER
    assert ORDER.index("packages") < ORDER.index("mta")


# --- firewall ----------------------------------------------------------------------

ALL_PORTS = ["25/tcp", "587/tcp", "143/tcp", "993/tcp", "110/tcp", "995/tcp"]


@pytest.mark.parametrize("profile_id, tool, answers, expected", [
    ("rocky-9", "firewalld", {}, ALL_PORTS),
    ("centos-7", "firewalld", {}, ALL_PORTS),
    ("fedora-43", "firewalld", {"auth.submission": False}, ["25/tcp", "143/tcp", "993/tcp", "110/tcp", "995/tcp"]),
    ("ubuntu-24.04", "ufw", {}, ALL_PORTS),
    ("debian-12", "ufw", {"dovecot.protocols": ["imap", "lmtp"]}, ["25/tcp", "587/tcp", "143/tcp", "993/tcp"]),
    ("rhel-10", "firewalld", {"dovecot.protocols": ["pop3"]}, ["25/tcp", "587/tcp", "110/tcp", "995/tcp"]),
    ("rocky-9", "firewalld", {"dovecot.protocols": ["lmtp"], "auth.submission": False}, ["25/tcp"]),
    ("rocky-9", "firewalld", {"system.firewall": False}, None),
    ("ubuntu-24.04", "ufw", {"system.firewall": False}, None),
    ("rocky-9", None, {}, None),                # no firewall running
    ("centos-6", None, {}, None),               # plain iptables rules: not ours to edit
    ("debian-12", "iptables", {}, None),
])
def test_firewall(profile_id, tool, answers, expected):
    actions = plan_of(firewall, profile_id, facts=facts_for(profile_id, firewall=tool), answers=answers_with(**answers))
    wanted = [] if expected is None else [("open_ports", tool, expected)]
    assert [(a.kind, a.tool, a.ports) for a in actions] == wanted


@pytest.mark.parametrize("profile_id, facts", FAMILIES, ids=FAMILY_IDS)
@pytest.mark.parametrize("tool", ["firewalld", "ufw"])
def test_firewall_never_touches_ssh(profile_id, facts, tool):
    facts = dict(facts, firewall=tool)
    action = plan_of(firewall, profile_id, facts=facts_for(profile_id, **facts))[0]
    commands = action.commands(profiles.get(profile_id), facts.get("init", "systemd"))
    assert commands
    for argv in commands:
        text = " ".join(argv)
        assert "ssh" not in text.lower() and not re.search(r"\b22\b", text), argv
        assert not any(word in text for word in ("reload", "--set-default", "default deny", "disable", "reset"))


def test_ports_already_open_drop_out():
    profile = profiles.get("rocky-9")
    facts = facts_for("rocky-9", firewall="firewalld", firewall_open={"25/tcp", "587/tcp"})
    action = plan_of(firewall, "rocky-9", facts=facts)[0]
    assert action.simulate(Simulation(TargetRoot("/nonexistent"), facts, profile))
    assert action.ports == ["143/tcp", "993/tcp", "110/tcp", "995/tcp"]


# --- selinux -----------------------------------------------------------------------

RHEL_CERTS = ["/etc/pki/tls/certs/mailwiz.pem", "/etc/pki/tls/private/mailwiz.key"]


@pytest.mark.parametrize("profile_id, state, answer, expected", [
    ("centos-6", "enforcing", True, ["/etc/postfix", "/etc/dovecot", "/etc/aliases", "/etc/aliases.db"] + RHEL_CERTS),
    ("rocky-9", "permissive", True, ["/etc/postfix", "/etc/dovecot", "/etc/aliases", "/etc/aliases.db"] + RHEL_CERTS),
    ("rhel-10", "enforcing", True, ["/etc/postfix", "/etc/dovecot", "/etc/aliases", "/etc/aliases.lmdb"] + RHEL_CERTS),
    ("fedora-43", "enforcing", True, ["/etc/postfix", "/etc/dovecot", "/etc/aliases", "/etc/aliases.db"] + RHEL_CERTS),
    ("centos-7", "disabled", True, []),
    ("centos-7", "absent", True, []),
    ("rocky-9", "enforcing", False, []),
    ("debian-12", "enforcing", True, []),     # restorecon is not part of a Debian install
    ("ubuntu-24.04", "absent", True, []),
])
def test_selinux(profile_id, state, answer, expected):
    facts = facts_for(profile_id, selinux=state, map_type="lmdb" if profile_id == "rhel-10" else "hash")
    actions = plan_of(selinux, profile_id, facts=facts, answers=answers_with(**{"system.selinux": answer}))
    assert [a.argv for a in actions] == [["restorecon", "-R", path] for path in expected]
    for action in actions:
        assert action.run_if == "changed"
        assert action.watch == [action.argv[-1] + "/" if action.argv[-1] in ("/etc/postfix", "/etc/dovecot")
                                else action.argv[-1]]


def test_selinux_with_existing_certificate_watches_those_files():
    answers = answers_with(**{"auth.tls.certificate": "existing", "auth.tls.cert_file": "/etc/ssl/mx.crt",
                              "auth.tls.key_file": "/etc/ssl/mx.key"})
    actions = plan_of(selinux, "rocky-9", answers=answers)
    assert [a.argv[-1] for a in actions][-2:] == ["/etc/ssl/mx.crt", "/etc/ssl/mx.key"]


@pytest.mark.parametrize("profile_id, facts", FAMILIES, ids=FAMILY_IDS)
@pytest.mark.parametrize("state", ["enforcing", "permissive", "disabled", "absent"])
def test_selinux_is_never_switched_off(profile_id, facts, state):
    every = []
    for module in SYSTEM_STEPS:
        every += module.plan(_input(profile_id, facts_for(profile_id, **dict(facts, selinux=state))))
    for action in every:
        for argv in action.commands(profiles.get(profile_id), "systemd"):
            assert argv[0] not in ("setenforce", "setsebool", "semanage", "chcon"), argv
        assert not any(getattr(action, "path", "") == p for p in ("/etc/selinux/config", "/etc/sysconfig/selinux"))


def _input(profile_id, facts, answers=None):
    from steps import StepInput
    return StepInput(profile=profiles.get(profile_id), facts=facts, answers=answers or answers_with())


# --- services ----------------------------------------------------------------------

@pytest.mark.parametrize("profile_id, facts", FAMILIES, ids=FAMILY_IDS)
@pytest.mark.parametrize("enable, start", [(True, True), (True, False), (False, True), (False, False)])
def test_services(profile_id, facts, enable, start):
    facts = facts_for(profile_id, **facts)
    actions = plan_of(services, profile_id, facts=facts,
                      answers=answers_with(**{"services.enable": enable, "services.start": start}))
    assert [(a.name, a.enable, a.start, a.init) for a in actions] == [
        ("dovecot", enable, start, facts.init), ("postfix", enable, start, facts.init)]
    cert, key = tls.cert_paths(profiles.get(profile_id), answers_with())
    assert actions[0].watch == ["/etc/dovecot/", cert, key]
    assert actions[1].watch == ["/etc/postfix/", "/etc/mailname", cert, key]


SERVICE_CASES = [
    # init, before (enabled, running), enable, start, config changed -> commands
    ("systemd", (False, False), True, True, False,
     [["systemctl", "enable", "postfix"], ["systemctl", "start", "postfix"]]),
    ("systemd", (True, True), True, True, True, [["systemctl", "restart", "postfix"]]),
    ("systemd", (True, True), True, True, False, []),
    ("systemd", (True, True), True, False, True, []),          # start: false means no restart either
    ("systemd", (False, False), False, True, False, [["systemctl", "start", "postfix"]]),
    ("systemd", (False, False), True, False, False, [["systemctl", "enable", "postfix"]]),
    ("sysvinit", (False, False), True, True, False, [["chkconfig", "postfix", "on"], ["service", "postfix", "start"]]),
    ("sysvinit", (True, True), True, True, True, [["service", "postfix", "stop"], ["service", "postfix", "start"]]),
    ("none", (False, False), True, True, False, [["postfix", "start"]]),
    ("none", (False, True), True, True, True, [["postfix", "stop"], ["postfix", "start"]]),
]


@pytest.mark.parametrize("init, before, enable, start, changed, expected", SERVICE_CASES)
def test_service_commands_in_a_plan(init, before, enable, start, changed, expected):
    profile_id = "centos-6" if init == "sysvinit" else "rocky-9"
    facts = facts_for(profile_id, init=init, services={"postfix": before})
    answers = answers_with(**{"services.enable": enable, "services.start": start})
    sim = Simulation(TargetRoot("/nonexistent"), facts, profiles.get(profile_id))
    if changed:
        sim.changed.add("/etc/postfix/master.cf")
    action = plan_of(services, profile_id, facts=facts, answers=answers)[1]
    assert action.simulate(sim) == bool(expected)
    assert action.commands(profiles.get(profile_id), init) == expected


def test_debian_sysvinit_uses_the_init_scripts():
    facts = facts_for("debian-12", init="sysvinit")
    action = plan_of(services, "debian-12", facts=facts)[0]
    action.simulate(Simulation(TargetRoot("/nonexistent"), facts, profiles.get("debian-12")))
    assert action.commands(profiles.get("debian-12"), "sysvinit") == [
        ["update-rc.d", "dovecot", "enable"], ["service", "dovecot", "start"]]


# --- actions this work added: folder watches, StopService, Service's second look ---------

@pytest.mark.parametrize("changed, watch, expected", [
    ({"/etc/postfix/main.cf"}, ["/etc/postfix/"], True),
    ({"/etc/postfix/sasl/sasl_passwd"}, ["/etc/postfix/"], True),
    ({"/etc/postfix.orig/main.cf"}, ["/etc/postfix/"], False),
    ({"/etc/postfix"}, ["/etc/postfix/"], False),
    ({"/etc/mailname"}, ["/etc/postfix/", "/etc/mailname"], True),
    ({"/etc/mailname.bak"}, ["/etc/mailname"], False),
    (set(), ["/etc/postfix/"], False),
])
def test_watched(changed, watch, expected):
    assert watched(changed, watch) is expected


class FakeCtx:
    def __init__(self, profile_id, state=ServiceState()):
        self.profile = profiles.get(profile_id)
        self.state = state
        self.ran, self.after = [], []

    def service_state(self, init, name, daemon=None):
        return self.state

    def run(self, argv, **kw):
        self.ran.append(list(argv))

    def after_rollback(self, commands):
        self.after.extend(commands)


@pytest.mark.parametrize("profile_id, init, before, expected", [
    ("rocky-9", "systemd", (True, True), [["systemctl", "stop", "sendmail"], ["systemctl", "disable", "sendmail"]]),
    ("centos-6", "sysvinit", (True, True), [["service", "sendmail", "stop"], ["chkconfig", "sendmail", "off"]]),
    ("rocky-9", "systemd", (True, False), [["systemctl", "disable", "sendmail"]]),
    ("rocky-9", "systemd", (False, False), []),
    ("rocky-9", "systemd", None, [["systemctl", "stop", "sendmail"], ["systemctl", "disable", "sendmail"]]),
    ("rocky-9", "none", (False, True), []),     # no init system: no generic way to stop sendmail
])
def test_stop_service_plan(profile_id, init, before, expected):
    services_now = {} if before is None else {"sendmail": before}
    facts = facts_for(profile_id, init=init, services=services_now)
    sim = Simulation(TargetRoot("/nonexistent"), facts, profiles.get(profile_id))
    action = StopService(name="sendmail", init=init)
    assert action.simulate(sim) == bool(expected)
    assert action.commands(profiles.get(profile_id), init) == expected
    assert sim.services["sendmail"] == ServiceState(False, False)
    again = actions_mod.from_json(action.to_json())
    assert again.commands(profiles.get(profile_id), init) == expected


def test_stop_service_undo_restores_how_it_was():
    facts = facts_for("centos-6", init="sysvinit", services={"sendmail": (True, True)})
    action = StopService(name="sendmail", init="sysvinit")
    action.simulate(Simulation(TargetRoot("/nonexistent"), facts, profiles.get("centos-6")))
    ctx = FakeCtx("centos-6", ServiceState(True, True))
    record = action.prepare(ctx)
    action.execute(ctx)
    assert ctx.ran == [["service", "sendmail", "stop"], ["chkconfig", "sendmail", "off"]]
    ctx.ran.clear()
    StopService.undo(ctx, record)
    assert ctx.ran == [["chkconfig", "sendmail", "on"]]
    assert ctx.after == [["service", "sendmail", "start"]]


def test_stop_service_undo_leaves_a_stopped_service_stopped():
    ctx = FakeCtx("rocky-9")
    StopService.undo(ctx, {"name": "sendmail", "init": "systemd", "was_enabled": False, "was_running": False,
                           "verbs": []})
    assert ctx.ran == [] and ctx.after == []


@pytest.mark.parametrize("planned, running_now, expected", [
    (["enable", "start"], False, [["systemctl", "enable", "postfix"], ["systemctl", "start", "postfix"]]),
    # the package install started it with its stock config: restart to load ours
    (["enable", "start"], True, [["systemctl", "enable", "postfix"], ["systemctl", "restart", "postfix"]]),
    (["restart"], True, [["systemctl", "restart", "postfix"]]),
    (["restart"], False, [["systemctl", "start", "postfix"]]),
])
def test_service_looks_again_before_it_runs(planned, running_now, expected):
    action = Service(name="postfix", init="systemd")
    action._verbs = list(planned)
    ctx = FakeCtx("rocky-9", ServiceState(True, running_now))
    action.prepare(ctx)
    action.execute(ctx)
    assert ctx.ran == expected


def test_sysvinit_restart_of_a_stopped_postfix_only_starts_it():
    action = Service(name="postfix", init="sysvinit")
    action._verbs = ["restart"]
    ctx = FakeCtx("centos-6", ServiceState(True, False))
    action.prepare(ctx)
    action.execute(ctx)
    assert ctx.ran == [["service", "postfix", "start"]]


# --- the whole system part through engine.make_plan ------------------------------------

CERT_STEP_NAME = "fakeconfig"


class FakeConfigStep:
    """Stands for the config steps (postfix, dovecot, tls): changes one file of each."""
    NAME = CERT_STEP_NAME
    TITLE = "config"

    @staticmethod
    def plan(inp):
        cert, _key = tls.cert_paths(inp.profile, inp.answers)
        return [WriteFile(path="/etc/postfix/main.cf", content="myhostname = mail.example.com\n"),
                WriteFile(path="/etc/dovecot/conf.d/99-mailwiz.conf", content="protocols = imap\n"),
                WriteFile(path=cert, content="CERT\n")]


def _make_plan(monkeypatch, tmp_path, profile_id, facts, answers=None, config=True):
    import steps as steps_pkg
    modules = [update, packages, mta] + ([FakeConfigStep] if config else []) + [firewall, selinux, services]
    monkeypatch.setattr(steps_pkg, "modules", lambda: modules)
    return engine.make_plan(answers or answers_with(), profiles.get(profile_id), facts, TargetRoot(str(tmp_path)))


EXPECTED_PLANS = {
    "centos-6": [
        ("update", [["yum", "update", "-y"]]),
        ("packages", [["yum", "install", "-y", "postfix", "dovecot", "openssl"]]),
        ("mta", [["service", "sendmail", "stop"], ["chkconfig", "sendmail", "off"],
                 ["alternatives", "--set", "mta", "/usr/sbin/sendmail.postfix"], ["yum", "remove", "-y", "sendmail"]]),
        ("selinux", [["restorecon", "-R", "/etc/postfix"], ["restorecon", "-R", "/etc/dovecot"],
                     ["restorecon", "-R", "/etc/pki/tls/certs/mailwiz.pem"]]),
        ("services", [["chkconfig", "dovecot", "on"], ["service", "dovecot", "start"],
                      ["chkconfig", "postfix", "on"], ["service", "postfix", "start"]]),
    ],
    "rocky-9": [
        ("update", [["dnf", "upgrade", "-y"]]),
        ("packages", [["dnf", "install", "-y", "postfix", "dovecot", "openssl"]]),
        ("mta", [["systemctl", "stop", "sendmail"], ["systemctl", "disable", "sendmail"],
                 ["alternatives", "--set", "mta", "/usr/sbin/sendmail.postfix"], ["dnf", "remove", "-y", "sendmail"]]),
        ("firewall", [["firewall-cmd", "--permanent", "--add-port=25/tcp"], ["firewall-cmd", "--add-port=25/tcp"],
                      ["firewall-cmd", "--permanent", "--add-port=587/tcp"], ["firewall-cmd", "--add-port=587/tcp"],
                      ["firewall-cmd", "--permanent", "--add-port=143/tcp"], ["firewall-cmd", "--add-port=143/tcp"],
                      ["firewall-cmd", "--permanent", "--add-port=993/tcp"], ["firewall-cmd", "--add-port=993/tcp"],
                      ["firewall-cmd", "--permanent", "--add-port=110/tcp"], ["firewall-cmd", "--add-port=110/tcp"],
                      ["firewall-cmd", "--permanent", "--add-port=995/tcp"], ["firewall-cmd", "--add-port=995/tcp"]]),
        ("selinux", [["restorecon", "-R", "/etc/postfix"], ["restorecon", "-R", "/etc/dovecot"],
                     ["restorecon", "-R", "/etc/pki/tls/certs/mailwiz.pem"]]),
        ("services", [["systemctl", "enable", "dovecot"], ["systemctl", "start", "dovecot"],
                      ["systemctl", "enable", "postfix"], ["systemctl", "start", "postfix"]]),
    ],
    "debian-12": [
        ("update", [["apt-get", "update"], APT_UPGRADE]),
        ("packages", [PRESEED, ["apt-get", "install", "--no-install-recommends", *APT_OPTS, *DEBIAN_ALL]]),
        ("services", [["update-rc.d", "dovecot", "enable"], ["service", "dovecot", "start"],
                      ["update-rc.d", "postfix", "enable"], ["service", "postfix", "start"]]),
    ],
    "ubuntu-24.04": [
        ("update", [["apt-get", "update"], APT_UPGRADE]),
        ("packages", [PRESEED, ["apt-get", "install", "--no-install-recommends", *APT_OPTS, *DEBIAN_ALL]]),
        ("firewall", [["ufw", "allow", p] for p in ALL_PORTS]),
        ("services", [["systemctl", "enable", "dovecot"], ["systemctl", "start", "dovecot"],
                      ["systemctl", "enable", "postfix"], ["systemctl", "start", "postfix"]]),
    ],
}
FIRST_FACTS = {
    "centos-6": dict(installed={"sendmail"}, services={"sendmail": (True, True)}),
    "rocky-9": dict(installed={"sendmail"}, services={"sendmail": (True, True)}, firewall="firewalld"),
    "debian-12": dict(init="sysvinit"),
    "ubuntu-24.04": dict(firewall="ufw", installed={"exim4"}),
}


@pytest.mark.parametrize("profile_id", sorted(EXPECTED_PLANS))
def test_make_plan_orders_the_system_steps(monkeypatch, tmp_path, profile_id):
    facts = facts_for(profile_id, **FIRST_FACTS[profile_id])
    plan = _make_plan(monkeypatch, tmp_path, profile_id, facts)
    got = [(step.name, [argv for a in step.actions for argv in a.commands(plan.profile, plan.init)])
           for step in plan.steps if step.name != CERT_STEP_NAME]
    assert got == EXPECTED_PLANS[profile_id]


@pytest.mark.parametrize("profile_id", sorted(EXPECTED_PLANS))
def test_a_second_apply_plans_nothing(monkeypatch, tmp_path, profile_id):
    """Facts as the first apply left the host: the system steps plan nothing."""
    first = facts_for(profile_id, **FIRST_FACTS[profile_id])
    plan = _make_plan(monkeypatch, tmp_path, profile_id, first, config=False)
    installed = (set(first.installed) | {p for a in plan.actions if isinstance(a, InstallPackages)
                                         for p in a.packages}) - {"sendmail"}
    after = facts_for(profile_id, **dict(
        FIRST_FACTS[profile_id], installed=installed, updates_pending=False,
        services={"sendmail": (False, False), "postfix": (True, True), "dovecot": (True, True)},
        firewall_open=set(ALL_PORTS)))
    again = _make_plan(monkeypatch, tmp_path, profile_id, after, config=False)
    assert again.empty, [(s.name, [a.to_json() for a in s.actions]) for s in again.steps]


def test_alternatives_plan_keeps_sendmail_and_switches_the_link(monkeypatch, tmp_path):
    facts = facts_for("centos-6", installed={"sendmail"}, services={"sendmail": (True, True)},
                      mta="/usr/sbin/sendmail.sendmail")
    plan = _make_plan(monkeypatch, tmp_path, "centos-6", facts,
                      answers_with(**{"system.existing_mta": "alternatives", "system.update": False}))
    step = next(s for s in plan.steps if s.name == "mta")
    assert [a.commands(plan.profile, plan.init) for a in step.actions] == [
        [["service", "sendmail", "stop"], ["chkconfig", "sendmail", "off"]],
        [["alternatives", "--set", "mta", "/usr/sbin/sendmail.postfix"]]]
    assert not any(isinstance(a, RemovePackages) for a in plan.actions)
    already = facts_for("centos-6", installed={"sendmail", "postfix", "dovecot", "openssl"},
                        services={"sendmail": (False, False)}, mta="/usr/sbin/sendmail.postfix")
    again = _make_plan(monkeypatch, tmp_path, "centos-6", already,
                       answers_with(**{"system.existing_mta": "alternatives", "system.update": False}), config=False)
    assert "mta" not in [s.name for s in again.steps]


def test_config_change_restarts_running_services(monkeypatch, tmp_path):
    facts = facts_for("rocky-9", installed={"postfix", "dovecot", "openssl"}, updates_pending=False,
                      services={"postfix": (True, True), "dovecot": (True, True)})
    plan = _make_plan(monkeypatch, tmp_path, "rocky-9", facts)
    step = next(s for s in plan.steps if s.name == "services")
    assert [a.commands(plan.profile, plan.init) for a in step.actions] == [
        [["systemctl", "restart", "dovecot"]], [["systemctl", "restart", "postfix"]]]


@pytest.mark.parametrize("module", SYSTEM_STEPS, ids=lambda m: m.NAME)
def test_step_module_shape(module):
    from steps import ORDER
    assert module.__name__ == "steps." + module.NAME and module.NAME in ORDER
    assert module.TITLE and "original notes" in module.__doc__


# --- the system steps alone through the CLI, in the sandbox world ---------------------

EXAMPLE_ANSWERS = "installer/answers.example.yaml"
WORLD_JSON = "var/lib/mailwiz/sandbox/world.json"


def _cli(*argv):
    from installer import cli
    return cli.main(list(argv))


def _world(root):
    import json
    return json.loads((root / WORLD_JSON).read_text())


@pytest.mark.parametrize("profile_id, mode", [
    ("centos-6", "remove"), ("centos-6", "alternatives"), ("centos-7", "remove"), ("centos-7", "alternatives"),
    ("rocky-9", "remove"), ("fedora-43", "remove"), ("ubuntu-24.04", "remove"),
    ("debian-12", "remove"),  # exim4, displaced by postfix, comes back
])
def test_sandbox_apply_then_rollback(monkeypatch, tmp_path, capsys, profile_id, mode):
    import os
    import steps as steps_pkg
    monkeypatch.setattr(steps_pkg, "modules", lambda: list(SYSTEM_STEPS))
    project = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    root = tmp_path / "root"
    common = ["--sandbox", "--profile", profile_id, "--root", str(root), "--set", f"system.existing_mta={mode}"]
    answers = ["--answers", os.path.join(project, EXAMPLE_ANSWERS)]
    assert _cli("plan", *answers, *common) == 0
    seeded = _world(root)
    assert _cli("apply", "--yes", *answers, *common) == 0
    applied = _world(root)
    assert {"postfix", "dovecot"} <= set(applied["packages"]) or {"postfix", "dovecot-core"} <= set(applied["packages"])
    for name in ("postfix", "dovecot"):
        assert applied["services"][name] == {"enabled": True, "running": True}
    if profiles.get(profile_id).family == "rhel":
        assert applied["alternatives"]["mta"]["current"] == "/usr/sbin/sendmail.postfix"
        assert ("sendmail" in applied["packages"]) == (mode == "alternatives" and "sendmail" in seeded["packages"])
        assert applied["services"].get("sendmail", {"running": False})["running"] is False
    capsys.readouterr()
    assert _cli("plan", *answers, *common) == 0
    assert "Nothing to do" in capsys.readouterr().out
    assert _cli("rollback", "--yes", *common) == 0
    after = _world(root)
    seeded.pop("updates_pending"), after.pop("updates_pending")   # an update cannot be undone
    assert after == seeded
