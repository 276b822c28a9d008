"""Where a new step and a new platform go (docs/architecture.md), shown:

- a throwaway step that exists only through its own module (declaring a
  package, a service, a file its package ships and an SELinux path) and one
  ORDER entry, registered at runtime with no other file edited;
- a throwaway profile: a made-up distribution of a third family with its own
  tool choices.

Both plan, apply, apply again (nothing to do) and roll back in the sandbox,
the root byte-identical afterwards, as tests/engine/test_flow.py does for the
real profiles."""
import json
import sys
import types
from dataclasses import replace

import pytest

import steps
from installer import cli, profiles
from installer.actions import BlockInFile
from installer.i18n import N_
from installer.needs import Daemon, Needs, PackageFile, direct
from tests.engine.test_flow import EXAMPLE, WORLD, run_cli, sandbox_args
from tests.engine.treesnap import differences, snapshot

DEMO_PACKAGE = "mailwiz-demo-daemon"
DEMO_CONF = "/etc/mailwiz-demo/demo.conf"
DEMO_STOCK = "# as the package ships it\ngreeting = hello\n"


def _demo_module():
    """A step module as a developer would write it in steps/demo.py."""
    module = types.ModuleType("steps.demo")
    module.NAME = "demo"
    module.TITLE = N_("Configure the demo daemon")

    def needs(profile, answers=None, facts=None):
        return Needs(packages=[DEMO_PACKAGE],
                     services=[Daemon("mailwiz-demo", packages=(DEMO_PACKAGE,),
                                      direct=direct(start=["mailwiz-demo"], stop=["mailwiz-demo", "--stop"]),
                                      watch=("/etc/mailwiz-demo/",))],
                     selinux=["/etc/mailwiz-demo/"],
                     files=[PackageFile(DEMO_CONF, DEMO_PACKAGE, DEMO_STOCK)])

    def plan(inp):
        return [BlockInFile(path=DEMO_CONF, block=f"greeting = {inp.answers['postfix']['hostname']}\n")]

    module.needs, module.plan = needs, plan
    return module


@pytest.fixture
def demo_step(monkeypatch):
    monkeypatch.setitem(sys.modules, "steps.demo", _demo_module())
    order = list(steps.ORDER)
    order.insert(order.index("firewall"), "demo")     # a config step: before the steps that react to changes
    monkeypatch.setattr(steps, "ORDER", order)


# A distribution mailwiz has never heard of, of a family it has never heard of,
# with tools chosen unlike any real profile: dnf with Debian's split Dovecot
# packages and /etc/mailname, no alternatives, its own certificate place.
EXAMPLE_LINUX = replace(
    profiles.get("debian-12"), id="examplelinux-1", name="Example Linux 1", family="example",
    distro="examplelinux", version="1", package_manager="dnf", init="systemd", rc_tool="update-rc.d",
    mta_switch="none", firewall="firewalld", selinux=False, stock="debian-12", note="",
    self_signed_cert="/etc/example/tls/mailwiz.crt", self_signed_key="/etc/example/tls/mailwiz.key",
    relay_sasl_packages=("example-sasl-plain",), package_leftovers=("/etc/aliases",))


@pytest.fixture
def example_linux(monkeypatch):
    monkeypatch.setitem(profiles.PROFILES, EXAMPLE_LINUX.id, EXAMPLE_LINUX)
    return EXAMPLE_LINUX.id


def _round_trip(tmp_path, capsys, profile_id):
    """plan, apply, apply again, rollback; returns (plan output, world after apply)."""
    root = tmp_path / "root"
    args = sandbox_args(root, profile_id)
    assert cli.main(["plan", "--answers", EXAMPLE, *args]) == 0       # seeds the sandbox
    before = snapshot(root)
    capsys.readouterr()
    code, plan_out, err = run_cli(capsys, "plan", "--answers", EXAMPLE, *args)
    assert code == 0, err
    assert snapshot(root) == before, "plan changed the target"

    code, out, err = run_cli(capsys, "apply", "--answers", EXAMPLE, "--yes", *args)
    assert code == 0, out + err
    applied_world = json.loads((root / WORLD).read_text())
    applied = snapshot(root)
    assert differences(before, applied)

    code, out, err = run_cli(capsys, "apply", "--answers", EXAMPLE, "--yes", *args)
    assert code == 0, err
    assert "Nothing to do" in out

    code, out, err = run_cli(capsys, "rollback", *args)
    assert code == 0, out + err
    assert differences(before, snapshot(root)) == []
    return plan_out, applied_world, root


def test_a_step_added_through_its_declarations_alone(tmp_path, capsys, demo_step):
    plan_out, world, root = _round_trip(tmp_path, capsys, "rocky-9")
    # its package goes into the one install call; its packaged file is diffed as shipped
    install = next(line for line in plan_out.splitlines() if line.strip().startswith("$ dnf install"))
    assert DEMO_PACKAGE in install.split()
    assert f"+++ b{DEMO_CONF}" in plan_out and "+greeting = mail.example.com" in plan_out
    # SELinux relabels its path; the services step starts its service after the others
    assert "$ restorecon -R /etc/mailwiz-demo" in plan_out
    assert plan_out.index("systemctl start mailwiz-demo") > plan_out.index("systemctl start postfix")
    assert DEMO_PACKAGE in world["packages"]
    assert world["services"]["mailwiz-demo"] == {"enabled": True, "running": True}
    # rollback took its package and service away again, and the file is as shipped
    after = json.loads((root / WORLD).read_text())
    assert DEMO_PACKAGE not in after["packages"] and "mailwiz-demo" not in after["services"]
    assert (root / DEMO_CONF.lstrip("/")).read_text() == DEMO_STOCK


def test_the_facts_read_a_declared_service(tmp_path, demo_step):
    from installer import facts, sandbox
    from installer.root import TargetRoot
    root = TargetRoot(str(tmp_path / "sb"))
    profile = profiles.get("debian-12")
    sandbox.seed(root, profile)
    runner = sandbox.make_runner(root, profile)
    runner.run(["apt-get", "install", "-y", DEMO_PACKAGE])
    found = facts.gather(profile, runner, root)
    # apt's maintainer scripts start what they install
    assert (found.service("mailwiz-demo").enabled, found.service("mailwiz-demo").running) == (True, True)


def test_a_profile_of_a_third_family_with_its_own_tools(tmp_path, capsys, example_linux):
    plan_out, world, root = _round_trip(tmp_path, capsys, example_linux)
    install = next(line for line in plan_out.splitlines() if line.strip().startswith("$ dnf install"))
    # (openssl is there already: the seed world is a minimal rpm-based install)
    assert install.split()[4:] == ["postfix", "dovecot-core", "dovecot-imapd", "dovecot-pop3d", "dovecot-lmtpd"]
    # its own certificate place, its mailname; nothing of the RHEL branch
    assert "/etc/example/tls/mailwiz.crt" in plan_out and "/etc/pki" not in plan_out
    assert "+++ b/etc/mailname" in plan_out
    commands = [line.strip()[2:].split() for line in plan_out.splitlines() if line.startswith("      $ ")]
    assert not [argv for argv in commands if argv[0] in ("alternatives", "restorecon", "debconf-set-selections",
                                                         "apt-get", "yum", "chkconfig")]
    assert ["firewall-cmd", "--permanent", "--add-port=25/tcp"] in commands
    assert {"postfix", "dovecot-core", "dovecot-imapd"} <= set(world["packages"])
    assert world["services"]["postfix"] == {"enabled": True, "running": True}


def test_a_profile_that_names_an_unknown_tool_fails_loudly(tmp_path, capsys, monkeypatch):
    odd = replace(EXAMPLE_LINUX, id="examplelinux-2", package_manager="zypper")
    monkeypatch.setitem(profiles.PROFILES, odd.id, odd)
    # The CLI turns an unforeseen error into a message (no traceback) and a failing exit.
    code = cli.main(["plan", "--answers", EXAMPLE, *sandbox_args(tmp_path / "root", odd.id)])
    assert code != 0
    assert "zypper" in capsys.readouterr().err
