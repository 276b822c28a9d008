"""The alternatives system (Red Hat's ``alternatives``), which picks the
``mta`` (/usr/sbin/sendmail and friends), and its absence (Debian: the MTA
packages conflict, so the one installed is the one there is).

Holds the commands, the parser of ``alternatives --display``, and the pretend
version for the sandbox.
"""
from __future__ import annotations

from typing import ClassVar, Optional, Tuple

from installer.platform.world import Argv, fail, ok

# package -> (alternatives path, priority) of the "mta" group, as the packages register them.
MTA_ALTERNATIVES = {
    "sendmail": ("/usr/sbin/sendmail.sendmail", 90),
    "postfix": ("/usr/sbin/sendmail.postfix", 30),
    "exim": ("/usr/sbin/sendmail.exim", 10),
}
_MTA_SLAVES = ("mailq", "newaliases", "rmail")


class NoAlternatives:
    name: ClassVar[str] = "none"
    COMMANDS: ClassVar[Tuple[str, ...]] = ()

    def __init__(self, profile):
        self.profile = profile

    def current(self, runner, group: str) -> Tuple[Optional[str], str]:
        return None, "auto"

    # --- pretend ---
    def package_added(self, world, name: str) -> None:
        pass

    def package_removed(self, world, name: str) -> None:
        pass

    def effect(self, world, argv):
        return None

    def answer(self, world, argv):
        return None


class Alternatives(NoAlternatives):
    name = "alternatives"
    COMMANDS = ("alternatives",)

    @staticmethod
    def set_cmd(group: str, path: str) -> Argv:
        return ["alternatives", "--set", group, path]

    @staticmethod
    def auto_cmd(group: str) -> Argv:
        return ["alternatives", "--auto", group]

    def current(self, runner, group):
        """(the path the link points to, "auto" | "manual"), or (None, "auto") without one."""
        result = runner.query(["alternatives", "--display", group])
        if not result.ok:
            return None, "auto"
        mode = "manual" if "status is manual" in result.stdout else "auto"
        for line in result.stdout.splitlines():
            if "link currently points to" in line:
                return line.split("link currently points to", 1)[1].strip(), mode
        return None, mode

    # --- pretend ---

    def _uses_followers(self) -> bool:
        """alternatives(8) says "follower" instead of "slave" from RHEL 9."""
        profile = self.profile
        return profile.distro == "fedora" or (profile.version.isdigit() and int(profile.version) >= 9)

    def package_added(self, world, name):
        if name in MTA_ALTERNATIVES:
            self.add(world, "mta", *MTA_ALTERNATIVES[name])

    def package_removed(self, world, name):
        if name in MTA_ALTERNATIVES:
            self.remove(world, "mta", MTA_ALTERNATIVES[name][0])

    def add(self, world, group: str, path: str, priority: int) -> None:
        entry = world.state["alternatives"].setdefault(group, {"current": None, "mode": "auto", "candidates": {}})
        entry["candidates"][path] = priority
        if entry["mode"] == "auto" or entry["current"] is None:
            entry["current"] = self.best(entry)

    def remove(self, world, group: str, path: str) -> None:
        entry = world.state["alternatives"].get(group)
        if not entry or path not in entry["candidates"]:
            return
        del entry["candidates"][path]
        if not entry["candidates"]:
            del world.state["alternatives"][group]
            return
        if entry["current"] == path:
            entry["mode"] = "auto"      # what alternatives(8) does when the manual choice goes away
        if entry["mode"] == "auto":
            entry["current"] = self.best(entry)

    @staticmethod
    def best(entry: dict) -> str:
        return max(entry["candidates"].items(), key=lambda item: (item[1], item[0]))[0]

    def effect(self, world, argv):
        if len(argv) >= 4 and argv[1] == "--set":
            group, path = argv[2], argv[3]
            entry = world.state["alternatives"].get(group)
            if entry is None:
                return fail(argv, 2, f"cannot access /var/lib/alternatives/{group}: No such file or directory")
            if path not in entry["candidates"]:
                return fail(argv, 2, f"{path} has not been configured as an alternative for {group}")
            entry["current"], entry["mode"] = path, "manual"
            return ok(argv)
        if len(argv) >= 3 and argv[1] == "--auto":
            entry = world.state["alternatives"].get(argv[2])
            if entry is None:
                return fail(argv, 2, f"cannot access /var/lib/alternatives/{argv[2]}: No such file or directory")
            entry["mode"], entry["current"] = "auto", self.best(entry)
            return ok(argv)
        return None

    def answer(self, world, argv):
        if len(argv) < 3 or argv[1] != "--display":
            return None
        group = argv[2]
        entry = world.state["alternatives"].get(group)
        if entry is None:
            return fail(argv, 2, f"cannot access /var/lib/alternatives/{group}: No such file or directory")
        word = "follower" if self._uses_followers() else "slave"
        lines = [f"{group} - status is {entry['mode']}.", f" link currently points to {entry['current']}"]
        for path in sorted(entry["candidates"]):
            suffix = path.rsplit(".", 1)[-1]
            lines.append(f"{path} - priority {entry['candidates'][path]}")
            lines += [f" {word} {group}-{s}: /usr/bin/{s}.{suffix}" for s in _MTA_SLAVES]
        lines.append(f"Current `best' version is {self.best(entry)}.")
        return ok(argv, "\n".join(lines))


TOOLS = {tool.name: tool for tool in (NoAlternatives, Alternatives)}
