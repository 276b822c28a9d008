"""The dkim and acme steps as data (facts and answers in, actions out), and
both through the whole engine in the sandbox for every profile: plan, apply,
a second apply that plans nothing, rollback back to the seeded bytes."""
from __future__ import annotations

import os

import pytest

from installer import cli, facts as facts_mod, profiles
from steps import StepInput, acme, dkim, packages
from tests.engine.treesnap import differences, snapshot
from tests.stepkit import answers_with, facts_for, plan_of, step_input

DKIM_ON = {"dkim.enabled": True}


def argvs(actions):
    return [a.argv for a in actions if hasattr(a, "argv")]


# --- dkim --------------------------------------------------------------------------

def test_dkim_off_plans_nothing_and_declares_nothing():
    inp = step_input("debian-12")
    assert dkim.plan(inp) == []
    declared = dkim.needs(inp.profile, inp.answers)
    assert declared.packages == [] and declared.leaves == [] and declared.from_extra_repo == []


@pytest.mark.parametrize("profile_id,key_dir", [("debian-12", "/etc/dkimkeys"), ("rocky-9", "/etc/opendkim/keys")])
def test_dkim_plan(profile_id, key_dir):
    facts = facts_for(profile_id, today="20261202", installed={"postfix", "opendkim"})
    actions = plan_of(dkim, profile_id, facts=facts, answers=answers_with(**DKIM_ON))
    key = f"{key_dir}/202612.private"
    assert argvs(actions)[:3] == [
        ["install", "-m", "0600", "-o", "opendkim", "-g", "opendkim", "/dev/null", key],
        ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key],
        ["openssl", "pkey", "-in", key, "-pubout", "-out", f"{key_dir}/202612.public"]]
    assert all(a.run_if == "missing" for a in actions[:3])
    conf = next(a for a in actions if getattr(a, "path", "") == "/etc/opendkim.conf")
    lines = dict(line.split("\t", 1) for line in conf.content.splitlines() if "\t" in line)
    assert lines["Domain"] == "example.com" and lines["Selector"] == "202612" and lines["KeyFile"] == key
    assert lines["Socket"] == "inet:8891@127.0.0.1" and lines["UserID"] == "opendkim"
    main = next(a for a in actions if getattr(a, "params", None))
    assert main.params == {"smtpd_milters": "inet:127.0.0.1:8891", "non_smtpd_milters": "inet:127.0.0.1:8891",
                           "milter_default_action": "accept"}
    # The service is declared; the services step starts it and restarts it on a change of config or key.
    from steps import services
    inp = step_input(profile_id, facts, answers_with(**DKIM_ON))
    service = next(a for a in services.plan(inp) if a.name == "opendkim")
    assert "/etc/opendkim.conf" in service.watch and key_dir + "/" in service.watch
    assert dkim.needs(profiles.get(profile_id), answers_with(**DKIM_ON)).selinux == [key_dir + "/"]
    assert dkim.needs(profiles.get(profile_id), answers_with()).services == []


def test_selector_answers_then_configured_then_date():
    answers = answers_with(**DKIM_ON)
    assert dkim.selector(step_input("debian-12", facts_for("debian-12", today="20270105"), answers)) == "202701"
    configured = facts_for("debian-12", today="20270105", dkim_selector="202612")
    assert dkim.selector(step_input("debian-12", configured, answers)) == "202612"
    answers["dkim"]["selector"] = "mx1"
    assert dkim.selector(step_input("debian-12", configured, answers)) == "mx1"


def test_facts_read_the_selector_only_from_our_config():
    conf = dkim.opendkim_conf(profiles.get("debian-12"), answers_with(**DKIM_ON), "202612")
    assert facts_mod.dkim_selector(conf) == "202612"
    assert facts_mod.dkim_selector("Selector 2020\n") is None        # the admin's own config is not ours


@pytest.mark.parametrize("profile_id,epel", [("rocky-9", "epel-release"), ("centos-7", "epel-release"),
                                             ("rhel-9", "epel-release-latest-9"), ("fedora-43", None),
                                             ("debian-12", None)])
def test_epel_said_in_the_plan_where_needed(profile_id, epel):
    inp = step_input(profile_id, answers=answers_with(**DKIM_ON))
    actions = packages.plan(inp)
    install = next(a for a in actions if a.kind == "install_packages")
    assert set(profiles.get(profile_id).opendkim_packages) <= set(install.packages)
    repo = [a for a in actions if a.kind == "run_command" and "epel" in " ".join(a.argv)]
    if epel is None:
        assert repo == []
        return
    assert len(repo) == 1 and epel in repo[0].argv[-1]
    assert actions.index(repo[0]) < actions.index(install)
    text = str(repo[0].describe())
    assert "EPEL" in text and "opendkim" in text
    assert repo[0].undo_argv[-1] == "epel-release"


def test_debian_installs_opendkim_tools_too():
    install = next(a for a in packages.plan(step_input("debian-12", answers=answers_with(**DKIM_ON)))
                   if a.kind == "install_packages")
    assert {"opendkim", "opendkim-tools"} <= set(install.packages)
    assert "/etc/dkimkeys/" in install.leaves


def test_no_family_tests_in_new_steps():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for name in ("steps/dkim.py", "steps/acme.py", "installer/dns.py", "installer/certs.py"):
        with open(os.path.join(here, name)) as handle:
            assert ".family" not in handle.read(), name


# --- acme --------------------------------------------------------------------------

def acme_answers(**more):
    return answers_with(**{"auth.tls.certificate": "acme", "auth.tls.acme": {"email": "admin@example.com",
                                                                            "directory": None}, **more})


def test_acme_plan_with_firewalld_and_timer():
    facts = facts_for("rocky-9", firewall="firewalld", init="systemd")
    actions = plan_of(acme, "rocky-9", facts=facts, answers=acme_answers())
    hooks = {a.path: a.content for a in actions if a.kind == "write_file"}
    assert set(hooks) == {"/etc/mailwiz/acme/pre-hook", "/etc/mailwiz/acme/post-hook",
                          "/etc/mailwiz/acme/deploy-hook"}
    assert "firewall-cmd --add-port=80/tcp" in hooks["/etc/mailwiz/acme/pre-hook"]
    assert "--permanent" not in hooks["/etc/mailwiz/acme/pre-hook"]           # runtime only: for the challenge
    assert "firewall-cmd --remove-port=80/tcp" in hooks["/etc/mailwiz/acme/post-hook"]
    assert "systemctl reload postfix" in hooks["/etc/mailwiz/acme/deploy-hook"]
    assert "systemctl reload dovecot" in hooks["/etc/mailwiz/acme/deploy-hook"]
    certbot = next(a for a in actions if a.kind == "run_command")
    assert certbot.argv[:3] == ["certbot", "certonly", "--standalone"]
    assert certbot.argv[certbot.argv.index("--server") + 1] == acme.LETS_ENCRYPT
    assert certbot.changes == ["/etc/letsencrypt/live/mail.example.com/fullchain.pem",
                               "/etc/letsencrypt/live/mail.example.com/privkey.pem"]
    from steps import services
    timer = next(a for a in services.plan(step_input("rocky-9", facts, acme_answers()))
                 if a.name == "certbot-renew.timer")
    assert timer.enable and timer.start


def test_acme_on_debian_without_firewall_without_systemd():
    facts = facts_for("debian-12", init="sysvinit")
    actions = plan_of(acme, "debian-12", facts=facts, answers=acme_answers())
    assert [a.path for a in actions if a.kind == "write_file"] == ["/etc/mailwiz/acme/deploy-hook"]
    deploy = actions[0].content
    assert "service postfix reload || true" in deploy and "service dovecot reload || true" in deploy
    # Debian's certbot package renews by itself (timer, or cron without systemd).
    assert [a.kind for a in actions] == ["write_file", "run_command"]
    assert acme.needs(profiles.get("debian-12"), acme_answers()).services == []


def test_acme_cron_where_no_systemd_runs_the_timer():
    actions = plan_of(acme, "centos-6", facts=facts_for("centos-6"), answers=acme_answers())
    assert actions[-1].path == acme.CRON_FILE and "certbot -q renew" in actions[-1].content


def test_ufw_hooks():
    pre, post = acme.firewall_hooks("ufw")
    assert "ufw allow 80/tcp" in pre and "ufw delete allow 80/tcp" in post
    assert acme.firewall_hooks(None) is None


def test_tls_uses_the_acme_files():
    from steps import tls
    assert tls.cert_paths(profiles.get("debian-12"), acme_answers()) == (
        "/etc/letsencrypt/live/mail.example.com/fullchain.pem", "/etc/letsencrypt/live/mail.example.com/privkey.pem")


# --- the whole engine, sandbox, every profile ------------------------------------------

ANSWERS = """version: 1
language: en
postfix: {hostname: mail.example.com, domain: example.com}
auth:
  tls:
    certificate: acme
    acme: {email: admin@example.com, directory: "https://127.0.0.1:14000/dir"}
dkim: {enabled: true}
dmarc: {policy: quarantine}
"""


@pytest.mark.parametrize("profile_id", sorted(profiles.PROFILES))
def test_sandbox_plan_apply_again_rollback(tmp_path, capsys, profile_id):
    answers = tmp_path / "answers.yaml"
    answers.write_text(ANSWERS)
    root = tmp_path / "root"
    args = ["--answers", str(answers), "--sandbox", "--profile", profile_id, "--root", str(root)]
    assert cli.main(["plan", *args]) == 0
    before = snapshot(root)
    out = capsys.readouterr().out
    assert "opendkim" in out and "certbot certonly" in out
    assert "_dmarc.example.com.\t3600\tIN\tTXT\t\"v=DMARC1; p=quarantine" in out
    if profiles.get(profile_id).extra_repo:
        assert "EPEL" in out
    assert cli.main(["apply", "--yes", *args]) == 0
    assert (root / "etc/opendkim.conf").exists()
    capsys.readouterr()
    assert cli.main(["apply", "--yes", *args]) == 0
    assert "Nothing to do" in capsys.readouterr().out
    assert cli.main(["rollback", "--yes", "--sandbox", "--profile", profile_id, "--root", str(root)]) == 0
    assert differences(before, snapshot(root)) == []


def test_certbot_keeps_live_files_as_links_and_a_second_apply_plans_nothing(tmp_path, capsys):
    """certbot's live/HOST/*.pem are links into archive/: a re-run must see them, not refuse them."""
    answers = tmp_path / "answers.yaml"
    answers.write_text(ANSWERS)
    root = tmp_path / "root"
    args = ["--answers", str(answers), "--sandbox", "--profile", "debian-12", "--root", str(root)]
    assert cli.main(["apply", "--yes", *args]) == 0
    live = root / "etc/letsencrypt/live/mail.example.com"
    archive = root / "etc/letsencrypt/archive/mail.example.com"
    archive.mkdir(parents=True)
    for name in ("fullchain", "privkey"):
        os.replace(live / f"{name}.pem", archive / f"{name}1.pem")
        os.symlink(f"../../archive/mail.example.com/{name}1.pem", live / f"{name}.pem")
    capsys.readouterr()
    assert cli.main(["apply", "--yes", *args]) == 0
    assert "Nothing to do" in capsys.readouterr().out
