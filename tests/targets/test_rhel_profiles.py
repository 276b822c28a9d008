"""The RHEL 8 and 9 profiles' main.cf, master.cf and Dovecot tree, checked by
the real Postfix 3.5 and Dovecot 2.3.13 of a booted Debian 11: the same
upstream versions RHEL 8/9 ship (Postfix 3.5, Dovecot 2.3.x), which this
project has no RHEL machine to run.

The files are what ``mailwiz plan --sandbox --profile rhel-N`` plans
(``tests.test_postfix_real.planned_files``: the example answers and a
variation with a relay host, blocklists and an access map).  On the machine
they replace /etc/postfix's main.cf, master.cf and maps and the whole
/etc/dovecot tree (the machine is thrown away afterwards), and then:

- ``postconf -n`` prints no warning (unknown or unused parameters, undefined
  ``$names``: what 3.5 knows, RHEL's Postfix knows);
- ``postfix check`` passes (the notice about a compatibility_level below the
  current one aside: RHEL 8's stock main.cf has ``compatibility_level = 2``);
- ``doveconf -n`` exits 0 and prints no warning.

Paths that differ between RHEL and Debian are mapped, and only those
(:data:`RHEL_LAYOUT`): Postfix's install layout, which the Debian binaries
must find.  Everything mailwiz writes is checked as written.
"""
from __future__ import annotations

from installer import confedit
from tests.targets import flow
from tests.test_postfix_real import ANSWER_SETS, COMPATIBILITY_NOTICE, planned_files

pytestmark = flow.PYTESTMARK

PROFILES = ["rhel-8", "rhel-9"]

# Postfix's install layout as RHEL's stock main.cf sets it, by parameter: on
# the Debian machine each is set to Debian's compiled-in default instead (``postconf
# -dh NAME`` there), so that Debian's binaries find their own programs.  Not
# mailwiz settings; nothing else is mapped.
RHEL_LAYOUT = {
    "daemon_directory": "/usr/libexec/postfix",
    "shlib_directory": "/usr/lib64/postfix",
    "meta_directory": "/etc/postfix",
    "command_directory": "/usr/sbin",
    "sendmail_path": "/usr/sbin/sendmail.postfix",
    "newaliases_path": "/usr/bin/newaliases.postfix",
    "mailq_path": "/usr/bin/mailq.postfix",
    "manpage_directory": "/usr/share/man",
    "sample_directory": "/usr/share/doc/postfix/samples",
    "readme_directory": "/usr/share/doc/postfix/README_FILES",
    "html_directory": "no",
}
DEBIAN_PACKAGES = ["postfix", "dovecot-core", "dovecot-imapd", "dovecot-pop3d", "dovecot-lmtpd"]


def _layout_lines(main_cf: str) -> dict:
    """The install-layout parameters as the RHEL main.cf sets them."""
    values = {}
    for line in main_cf.splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip() in RHEL_LAYOUT:
            values[name.strip()] = value.strip()
    return values


def test_rhel_configs_pass_postfix_35_and_dovecot_2313(boot, tmp_path):
    machine = boot("11")
    machine.run(["apt-get", "update", "-qq"], timeout=300)
    machine.run(["debconf-set-selections"], input="postfix postfix/main_mailer_type select Internet Site\n"
                                                  "postfix postfix/mailname string mail.example.com\n")
    machine.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *DEBIAN_PACKAGES],
                env={"DEBIAN_FRONTEND": "noninteractive"}, timeout=900)
    versions = machine.run(["dpkg-query", "-W", "-f", "${Package} ${Version}\n", "postfix", "dovecot-core"]).stdout
    assert "postfix 3.5." in versions and "dovecot-core 1:2.3.13" in versions, versions
    machine.run(["systemctl", "stop", "postfix", "dovecot"])
    machine.run(["cp", "-a", "/etc/postfix", "/root/postfix.debian"])
    names = sorted(RHEL_LAYOUT)
    debian = dict(zip(names, machine.run(["postconf", "-dh", *names], stderr_apart=True).stdout.splitlines()))
    assert set(debian) == set(names), debian

    problems = {}
    for profile_id in PROFILES:
        for answer_set, make in ANSWER_SETS.items():
            case = "{} {}".format(profile_id, answer_set)
            files, plan = planned_files(profile_id, make(), tmp_path / case.replace(" ", "-"))
            main_cf = files["/etc/postfix/main.cf"]
            # Every layout value mapped is one RHEL's stock file really names (or none).
            assert _layout_lines(main_cf) == RHEL_LAYOUT, case

            machine.run(["rm", "-rf", "/etc/postfix", "/etc/dovecot"])
            machine.run(["cp", "-a", "/root/postfix.debian", "/etc/postfix"])
            for path, text in files.items():
                if path.startswith(("/etc/postfix/", "/etc/dovecot/")):
                    machine.write(path, confedit.postconf_set(text, debian) if path.endswith("/main.cf") else text)
            for path in files:
                if path.startswith("/etc/postfix/") and path.rsplit("/", 1)[1] in ("access", "sasl_passwd"):
                    machine.run(["postmap", "{}:{}".format(plan.facts.map_type, path)])

            postconf = machine.run(["postconf", "-n"], check=False, stderr_apart=True)
            if postconf.returncode or postconf.stderr.strip():
                problems[case + ": postconf -n"] = postconf.stderr.strip() or "exit {}".format(postconf.returncode)
            check = machine.run(["postfix", "check"], check=False)
            lines = [line for line in check.stdout.splitlines() if not line.startswith(COMPATIBILITY_NOTICE)]
            if check.returncode or lines:
                problems[case + ": postfix check"] = "\n".join(lines) or "exit {}".format(check.returncode)
            doveconf = machine.run(["doveconf", "-n"], check=False, stderr_apart=True)
            if doveconf.returncode or doveconf.stderr.strip():
                problems[case + ": doveconf -n"] = doveconf.stderr.strip() or "exit {}".format(doveconf.returncode)
            assert "auth_mechanisms = plain login" in doveconf.stdout, (case, doveconf.stdout)
    assert problems == {}, "\n".join("{}: {}".format(k, v) for k, v in problems.items())
