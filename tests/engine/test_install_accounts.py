"""InstallPackages and the system accounts the packages' scripts add.

Seen on booted Debian 12 and 13: after ``mailwiz rollback`` the packages were
gone but /etc/passwd, /etc/group, /etc/shadow and /etc/gshadow kept postfix,
postdrop, dovecot, dovenull and ssl-cert (Debian's purge leaves accounts).
Undo deletes exactly the accounts the install added; an account made after
the install (by the admin) stays.
"""
from __future__ import annotations

from installer import engine, profiles
from installer.actions import InstallPackages
from installer.root import TargetRoot
from installer.runner import Result, Runner

PASSWD = "root:x:0:0:root:/root:/bin/bash\nmwt:x:1000:1000::/home/mwt:/bin/sh\n"
GROUP = "root:x:0:\nmail:x:8:\nmwt:x:1000:\n"
# What the fake packages' scripts add (as Debian's postfix and dovecot-core do).
PACKAGE_USERS = {"postfix": ["postfix:x:103:104::/var/spool/postfix:/usr/sbin/nologin"],
                 "dovecot-core": ["dovecot:x:104:106::/usr/lib/dovecot:/usr/sbin/nologin",
                                  "dovenull:x:105:107::/nonexistent:/usr/sbin/nologin"]}
PACKAGE_GROUPS = {"postfix": ["postfix:x:104:", "postdrop:x:105:"],
                  "dovecot-core": ["ssl-cert:x:103:", "dovecot:x:106:", "dovenull:x:107:"]}


class FakeApt(Runner):
    """apt-get install adds the packages' accounts; purge leaves them, as on
    Debian; userdel/groupdel remove one line; dpkg-query lists what is installed."""

    def __init__(self, root: TargetRoot):
        super().__init__()
        self.root = root
        self.installed = {"base-files"}
        self.commands = []

    def _edit(self, path, change):
        lines = (self.root.read_text(path) or "").splitlines()
        self.root.path(path).write_text("".join(line + "\n" for line in change(lines)))

    def run(self, argv, *, check=True, timeout=None, input=None, env=None, on_output=None):
        self.commands.append(list(argv))
        if argv[:2] == ["apt-get", "install"]:
            for package in [a for a in argv[2:] if not a.startswith("-") and "::" not in a]:
                self.installed.add(package)
                self._edit("/etc/passwd", lambda lines, p=package: lines + PACKAGE_USERS.get(p, []))
                self._edit("/etc/group", lambda lines, p=package: lines + PACKAGE_GROUPS.get(p, []))
        elif argv[:2] == ["apt-get", "purge"]:
            self.installed -= set(argv[3:])
        elif argv[0] in ("userdel", "groupdel"):
            path = "/etc/passwd" if argv[0] == "userdel" else "/etc/group"
            self._edit(path, lambda lines: [line for line in lines if line.split(":")[0] != argv[1]])
        return Result(list(argv), 0)

    def query(self, argv, *, timeout=60):
        if argv[0] == "dpkg-query":
            return Result(list(argv), 0, "".join("ii  {}\n".format(p) for p in sorted(self.installed)))
        return Result(list(argv), 1)


def _world(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/passwd").write_text(PASSWD)
    (tmp_path / "etc/group").write_text(GROUP)
    root = TargetRoot(str(tmp_path))
    return root, FakeApt(root), profiles.get("debian-12")


def _apply(root, runner, profile):
    action = InstallPackages(packages=["postfix", "dovecot-core"])
    action.step = "packages"
    plan = engine.Plan(steps=[engine.PlannedStep("packages", "Install Postfix and Dovecot", [action])],
                       diffs={}, hidden=[], profile=profile, facts=None, answers={}, init="systemd")
    result = engine.apply(plan, root=root, runner=runner, answers_yaml="")
    assert result.status == "ok", result
    return result.run_id


def test_rollback_deletes_the_accounts_the_install_added(tmp_path):
    root, runner, profile = _world(tmp_path)
    run_id = _apply(root, runner, profile)
    assert "postfix:x:103" in root.read_text("/etc/passwd")
    engine.rollback(root, runner, profile, run_id)
    assert root.read_text("/etc/passwd") == PASSWD
    assert root.read_text("/etc/group") == GROUP
    deleted = [argv for argv in runner.commands if argv[0] in ("userdel", "groupdel")]
    assert deleted == [["userdel", "dovecot"], ["userdel", "dovenull"], ["userdel", "postfix"],
                       ["groupdel", "dovecot"], ["groupdel", "dovenull"], ["groupdel", "postdrop"],
                       ["groupdel", "postfix"], ["groupdel", "ssl-cert"]]


def test_an_account_added_after_the_install_stays(tmp_path):
    root, runner, profile = _world(tmp_path)
    run_id = _apply(root, runner, profile)
    with open(root.path("/etc/passwd"), "a") as handle:
        handle.write("alice:x:1001:1001::/home/alice:/bin/sh\n")
    with open(root.path("/etc/group"), "a") as handle:
        handle.write("alice:x:1001:\n")
    engine.rollback(root, runner, profile, run_id)
    assert root.read_text("/etc/passwd") == PASSWD + "alice:x:1001:1001::/home/alice:/bin/sh\n"
    assert root.read_text("/etc/group") == GROUP + "alice:x:1001:\n"
