"""Small reversible actions: the only things that change a target.

Steps return lists of these; the engine plans, runs, journals and reverses
them.  Each action

- ``simulate(sim)``: applies itself to the in-memory :class:`Simulation` and
  says whether it changes anything (actions that change nothing drop out of
  the plan, so a second apply plans nothing);
- ``commands(ctx_or_sim)``: the commands it runs, for the plan;
- ``prepare(ctx)``: captures what undo needs (file pre-images, previous
  package/service state) *before* it runs; the engine journals that record
  first, so a run killed halfway can still be reversed;
- ``execute(ctx)``; and ``undo(ctx, record)`` (a classmethod: rollback works
  from the journal alone, without re-planning).

File changes are generic: every action that touches files names them
(``FileAction.path`` or ``RunCommand.changes``), and undo restores their
pre-images.  No per-step special cases.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Callable, ClassVar, Dict, Iterable, List, Optional, Sequence, Set

from installer import confedit, platform
from installer.i18n import Msg, N_
from installer.profiles import Profile
from installer.needs import Daemon
from installer.platform.services import ServiceState

Argv = List[str]

KINDS: Dict[str, type] = {}


def register(cls):
    KINDS[cls.kind] = cls
    return cls


class Simulation:
    """The target as the plan would leave it, built up action by action."""

    def __init__(self, root, facts, profile: Profile, stock_provider: Callable = None):
        self.root = root
        self.facts = facts
        self.profile = profile
        self.files: Dict[str, Optional[bytes]] = {}
        self.modes: Dict[str, Optional[int]] = {}
        self.original: Dict[str, Optional[bytes]] = {}
        self.original_modes: Dict[str, Optional[int]] = {}
        # What each file read held when the plan was made: apply checks the
        # target still holds it (a plan made stale by another run is refused).
        self.seen: Dict[str, Optional[tuple]] = {}
        self.changed: Set[str] = set()
        self.packages: Set[str] = set(facts.installed)
        self.services: Dict[str, ServiceState] = {
            name: ServiceState(state.enabled, state.running) for name, state in facts.services.items()}
        self.alternatives: Dict[str, Optional[str]] = {"mta": facts.mta}
        self.firewall_open: Set[str] = set(facts.firewall_open)
        self.stock_provider = stock_provider

    def _load(self, path: str) -> None:
        if path not in self.files:
            data = self.root.read_bytes(path)
            meta = self.root.meta(path)
            self.seen[path] = None if data is None else (data, meta.mode if meta else None)
            self.files[path] = self.original[path] = data
            self.modes[path] = self.original_modes[path] = meta.mode if meta else None

    def read(self, path: str) -> Optional[bytes]:
        self._load(path)
        return self.files[path]

    def exists(self, path: str) -> bool:
        if path in self.files:
            return self.files[path] is not None
        # Not read: a file another tool keeps may be a link inside the root
        # (certbot's live/ names point into archive/), which exists but is never read.
        return self.root.is_file(path)

    def write(self, path: str, data: Optional[bytes], mode: Optional[int] = None) -> bool:
        """Record a write; True if content or mode differ from what is there."""
        self._load(path)
        old, old_mode = self.files[path], self.modes[path]
        new_mode = mode if mode is not None else (old_mode if old_mode is not None else 0o644)
        if data is None:
            new_mode = None
        if old == data and (data is None or old_mode == new_mode):
            return False
        self.files[path] = data
        self.modes[path] = new_mode
        self.changed.add(path)
        return True

    def provide(self, path: str, data: bytes) -> None:
        """A package that the plan installs will create *path* (stock content)."""
        self._load(path)
        if self.files[path] is None:
            self.files[path] = self.original[path] = data
            self.modes[path] = self.original_modes[path] = 0o644

    def touched_files(self) -> List[str]:
        return sorted(p for p in self.changed
                      if self.files.get(p) != self.original.get(p) or self.modes.get(p) != self.original_modes.get(p))


def watched(changed: Iterable[str], watch: Sequence[str]) -> bool:
    """True when a changed path is watched: an entry ending in "/" watches
    everything under that folder (a service's whole config tree), any other
    entry that exact path."""
    folders = tuple(w for w in watch if w.endswith("/"))
    exact = set(w for w in watch if not w.endswith("/"))
    return any(p in exact or (folders and p.startswith(folders)) for p in changed)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _list_of(kind):
    return lambda v: isinstance(v, list) and all(isinstance(x, kind) for x in v)


def _text(value) -> bool:
    return isinstance(value, str)


def _file_record_problem(record) -> Optional[Msg]:
    if not isinstance(record, dict) or not _text(record.get("path")) or not record["path"].startswith("/"):
        return Msg(N_("a file record without a path"))
    if not isinstance(record.get("existed"), bool) or not _list_of(str)(record.get("missing_dirs", [])):
        return Msg(N_("the file record of {path} is incomplete"), path=record["path"])
    if record["existed"]:
        preimage = record.get("preimage")
        if not _text(preimage) or not preimage.startswith("undo/") or ".." in preimage.split("/"):
            return Msg(N_("the file record of {path} names no backup"), path=record["path"])
        if not all(_is_int(record.get(k)) for k in ("mode", "uid", "gid")):
            return Msg(N_("the file record of {path} has no mode or owner"), path=record["path"])
    return None


class Action:
    kind: ClassVar[str] = ""
    step: str = ""          # set by the engine: the step that planned it
    # The undo record's keys and how each must look (checked before a rollback uses it).
    RECORD_KEYS: ClassVar[Dict[str, Callable]] = {"files": list}

    @classmethod
    def check_record(cls, record: dict) -> Optional[Msg]:
        """What makes *record* (from the journal) unusable for undo, or None."""
        for key, valid in cls.RECORD_KEYS.items():
            if valid is list:
                valid = lambda v: isinstance(v, list)   # noqa: E731
            if key not in record or not valid(record[key]):
                return Msg(N_("the undo record has no valid {key}"), key=key)
        for file_record in record.get("files", []):
            problem = _file_record_problem(file_record)
            if problem:
                return problem
        return None

    def describe(self) -> Msg:
        raise NotImplementedError

    def simulate(self, sim: Simulation) -> bool:
        raise NotImplementedError

    def commands(self, profile: Profile, init: str) -> List[Argv]:
        return []

    def files(self) -> List[str]:
        """Target paths this action may change (backed up before it runs)."""
        return []

    def prepare(self, ctx) -> dict:
        return {"files": ctx.snapshot(self.files())}

    def execute(self, ctx) -> None:
        raise NotImplementedError

    @classmethod
    def undo(cls, ctx, record: dict) -> None:
        ctx.restore(record.get("files", []))

    def to_json(self) -> dict:
        data = {"kind": self.kind}
        for f in fields(self):
            if f.name.startswith("_") or f.metadata.get("secret"):
                continue
            data[f.name] = getattr(self, f.name)
        return json.loads(json.dumps(data, default=_jsonable))


def _jsonable(value):
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value) if isinstance(value, (set, frozenset)) else list(value)
    if hasattr(value, "to_json"):
        return value.to_json()
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: getattr(value, f.name) for f in fields(value)}
    raise TypeError(type(value))


# --- files --------------------------------------------------------------------

@dataclass
class FileAction(Action):
    """Base of actions that compute a file's new content from its current one."""

    path: str = ""
    mode: Optional[int] = None       # None: keep the file's mode (0644 for a new file)
    owner: Optional[str] = None
    group: Optional[str] = None

    def new_content(self, old: Optional[bytes]) -> Optional[bytes]:
        """The file's bytes after this action (None: no file); editors of text
        files implement :meth:`edit_text` instead."""
        text = old.decode("utf-8", "surrogateescape") if old is not None else None
        new = self.edit_text(text)
        return None if new is None else new.encode("utf-8", "surrogateescape")

    def edit_text(self, text: Optional[str]) -> Optional[str]:
        raise NotImplementedError

    def files(self) -> List[str]:
        return [self.path]

    def simulate(self, sim: Simulation) -> bool:
        return sim.write(self.path, self.new_content(sim.read(self.path)), self.mode)

    def execute(self, ctx) -> None:
        new = self.new_content(ctx.root.read_bytes(self.path))
        ctx.write_file(self.path, new, self.mode, self.owner, self.group)


@register
@dataclass
class WriteFile(FileAction):
    """Write a whole file (ours: a drop-in, a map, a certificate request...)."""

    kind: ClassVar[str] = "write_file"
    content: str = ""
    secret: bool = False             # content never shown, journaled or diffed

    def describe(self) -> Msg:
        return Msg(N_("Write {path}"), path=self.path)

    def new_content(self, old):
        return self.content.encode("utf-8")

    def to_json(self) -> dict:
        data = super().to_json()
        if self.secret:
            data["content"] = None
        return data


@register
@dataclass
class RemoveFile(FileAction):
    kind: ClassVar[str] = "remove_file"

    def describe(self) -> Msg:
        return Msg(N_("Remove {path}"), path=self.path)

    def new_content(self, old):
        return None


@register
@dataclass
class PostconfSet(FileAction):
    """Set (or, with None, remove) main.cf parameters with ``postconf -e`` semantics."""

    kind: ClassVar[str] = "postconf_set"
    params: Dict[str, Optional[str]] = field(default_factory=dict)

    def describe(self) -> Msg:
        return Msg(N_("Set {names} in {path}"), names=", ".join(self.params), path=self.path)

    def edit_text(self, text):
        return confedit.postconf_set(text, self.params)


@register
@dataclass
class MasterService(FileAction):
    """Add or replace one master.cf service entry."""

    kind: ClassVar[str] = "master_service"
    service: Optional[dict] = None   # confedit.MasterService fields
    remove: bool = False

    def describe(self) -> Msg:
        return Msg(N_("Set the {name} service in {path}"), name=self.service["name"], path=self.path)

    def edit_text(self, text):
        svc = confedit.MasterService(**{k: (list(map(tuple, v)) if k == "options" else v)
                                        for k, v in self.service.items()})
        if self.remove:
            return confedit.master_remove_service(text or "", svc.name, svc.type)
        return confedit.master_set_service(text or "", svc)


@register
@dataclass
class DovecotSet(FileAction):
    """Set top-level ``key = value`` settings in a Dovecot config file."""

    kind: ClassVar[str] = "dovecot_set"
    settings: Dict[str, Optional[str]] = field(default_factory=dict)

    def describe(self) -> Msg:
        return Msg(N_("Set {names} in {path}"), names=", ".join(self.settings), path=self.path)

    def edit_text(self, text):
        return confedit.dovecot_set(text, self.settings)


@register
@dataclass
class AliasSet(FileAction):
    kind: ClassVar[str] = "alias_set"
    name: str = ""
    value: Optional[str] = None

    def describe(self) -> Msg:
        return Msg(N_("Set the alias {name} in {path}"), name=self.name, path=self.path)

    def edit_text(self, text):
        return confedit.aliases_set(text, self.name, self.value)


@register
@dataclass
class BlockInFile(FileAction):
    """Keep one block of lines between ``# BEGIN <marker>`` and ``# END <marker>``
    in a file we share with the package (like Ansible's blockinfile): replaced
    in place when present, appended at the end otherwise; ``block=None``
    removes it.  The rest of the file is left as it is."""

    kind: ClassVar[str] = "block_in_file"
    block: Optional[str] = None
    marker: str = "mailwiz"

    def describe(self) -> Msg:
        if self.block is None:
            return Msg(N_("Remove the {marker} block from {path}"), marker=self.marker, path=self.path)
        return Msg(N_("Set the {marker} block in {path}"), marker=self.marker, path=self.path)

    def edit_text(self, text):
        if text is None and self.block is None:
            return None
        return block_in_text(text, self.block, self.marker)


def block_in_text(text: Optional[str], block: Optional[str], marker: str) -> str:
    """*text* with the marked block set to *block* (None: removed)."""
    begin, end = f"# BEGIN {marker}", f"# END {marker}"
    lines = (text or "").splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    stripped = [line.rstrip("\r\n") for line in lines]
    wanted = []
    if block is not None:
        body = block if block.endswith("\n") or not block else block + "\n"
        wanted = [begin + "\n", *body.splitlines(keepends=True), end + "\n"]
    if begin in stripped and end in stripped[stripped.index(begin):]:
        first = stripped.index(begin)
        last = stripped.index(end, first)
        lines[first:last + 1] = wanted
    else:
        lines.extend(wanted)
    return "".join(lines)


# --- commands -------------------------------------------------------------------

@register
@dataclass
class RunCommand(Action):
    """A command with its undo.  Files it changes are named in ``changes`` and
    restored on undo.  ``run_if``: "always"; "changed" (one of ``watch`` changed
    earlier in the plan, e.g. postmap after its map; "/etc/postfix/" watches the
    folder); "missing" (one of ``changes`` does not exist yet, e.g. a certificate)."""

    kind: ClassVar[str] = "run_command"
    argv: Argv = field(default_factory=list)
    undo_argv: Optional[Argv] = None
    changes: List[str] = field(default_factory=list)
    watch: List[str] = field(default_factory=list)
    run_if: str = "always"
    env: Dict[str, str] = field(default_factory=dict)
    stdin: Optional[str] = None
    description: Optional[dict] = None   # Msg.to_json(); default: "Run <command>"
    reversible: bool = True              # False: undo cannot take it back (a package update)
    RECORD_KEYS: ClassVar[Dict[str, Callable]] = {
        "files": list, "argv": _list_of(str),
        "undo_argv": lambda v: v is None or (_list_of(str)(v) and bool(v))}

    def describe(self) -> Msg:
        if self.description:
            return Msg.from_json(self.description)
        return Msg(N_("Run {command}"), command=" ".join(self.argv))

    def files(self) -> List[str]:
        return list(self.changes)

    def simulate(self, sim: Simulation) -> bool:
        if self.run_if == "changed":
            needed = watched(sim.changed, self.watch)
        elif self.run_if == "missing":
            needed = any(not sim.exists(p) for p in self.changes)
        else:
            needed = True
        if needed:
            sim.changed.update(self.changes)
        return needed

    def commands(self, profile, init):
        return [self.argv]

    def prepare(self, ctx) -> dict:
        record = super().prepare(ctx)
        record["argv"] = self.argv
        record["undo_argv"] = self.undo_argv
        record["reversible"] = self.reversible
        return record

    def execute(self, ctx) -> None:
        ctx.run(self.argv, env=self.env or None, input=self.stdin)
        if ctx.runner.sandbox:
            # Nothing really ran: leave a placeholder for each file the command
            # makes, so the sandbox looks like a host where it did (a second
            # apply then plans nothing; undo removes them like any new file).
            for path in self.changes:
                if not ctx.root.exists(path):
                    ctx.write_file(path, f"# sandbox placeholder: {' '.join(self.argv)}\n".encode(), 0o600)

    @classmethod
    def undo(cls, ctx, record):
        if record.get("undo_argv"):
            ctx.run(record["undo_argv"], check=False)
        elif not record.get("reversible", True):
            ctx.note(Msg(N_("This change cannot be undone and stays: {command}"),
                         command=" ".join(record.get("argv", []))))
        super().undo(ctx, record)


# --- packages -----------------------------------------------------------------

ACCOUNT_FILES = {"users": "/etc/passwd", "groups": "/etc/group"}


def account_names(root) -> Dict[str, List[str]]:
    """The user and group names of the target, from its account files."""
    names = {}
    for kind, path in ACCOUNT_FILES.items():
        text = root.read_text(path) or ""
        names[kind] = sorted({line.split(":", 1)[0] for line in text.splitlines()
                              if ":" in line and not line.startswith("#")})
    return names


@register
@dataclass
class InstallPackages(Action):
    """Install what is missing, in one package-manager call.  Undo removes
    exactly what this run installed (dependencies included), nothing else, and
    puts back what the install displaced (a conflicting MTA).

    The packages' scripts also add system users and groups (postfix, postdrop,
    dovecot, dovenull, ssl-cert...), which no removal takes away: the accounts
    the install added are journaled right after it (an ``accounts-added``
    event), and undo deletes exactly those (``userdel``, ``groupdel``), so the
    account files are as before.  A run killed during the install has no such
    event: then the accounts that are new since ``prepare`` go."""

    kind: ClassVar[str] = "install_packages"
    packages: List[str] = field(default_factory=list)
    env: Dict[str, str] = field(default_factory=dict)
    # What the packages' own scripts create and a purge leaves behind (a
    # certificate made at install, /etc/aliases from newaliases, a folder dpkg
    # could not remove while it held those).  Files are restored to their
    # pre-images; a folder ("/"-ended) that did not exist before goes entirely.
    leaves: List[str] = field(default_factory=list)
    RECORD_KEYS: ClassVar[Dict[str, Callable]] = {
        "before": _list_of(str), "requested": _list_of(str), "files": list,
        "folders": lambda v: isinstance(v, list) and all(
            isinstance(f, dict) and _text(f.get("path")) and isinstance(f.get("existed"), bool) for f in v)}

    def describe(self) -> Msg:
        return Msg(N_("Install packages: {packages}"), packages=" ".join(self.packages))

    def simulate(self, sim):
        missing = [p for p in self.packages if p not in sim.packages]
        self.packages = missing
        if not missing:
            return False
        sim.packages.update(missing)
        if sim.stock_provider:
            for path, data in sim.stock_provider(sim.profile, missing).items():
                sim.provide(path, data)
        return True

    def commands(self, profile, init):
        return [platform.install_cmd(profile, self.packages)]

    def prepare(self, ctx):
        files = [p for p in self.leaves if not p.endswith("/")]
        folders = [{"path": p.rstrip("/"), "existed": ctx.root.exists(p.rstrip("/"))}
                   for p in self.leaves if p.endswith("/")]
        return {"before": sorted(ctx.installed_packages()), "requested": self.packages,
                "files": ctx.snapshot(files), "folders": folders, "accounts": account_names(ctx.root)}

    def execute(self, ctx):
        env = {**platform.package_env(ctx.profile), **self.env}
        before = account_names(ctx.root)
        ctx.run(platform.install_cmd(ctx.profile, self.packages), env=env, stream=True)
        after = account_names(ctx.root)
        ctx.emit("accounts-added", seq=ctx.seq, **{kind: sorted(set(after[kind]) - set(before[kind]))
                                                   for kind in ACCOUNT_FILES})

    @classmethod
    def undo(cls, ctx, record):
        before = set(record["before"])
        now = ctx.installed_packages()
        added = sorted(now - before)
        if added:
            ctx.run(platform.remove_cmd(ctx.profile, added), env=platform.package_env(ctx.profile), stream=True)
        cls._remove_accounts(ctx, record)
        # What the install pushed out (Debian: postfix conflicts with exim4) comes back.
        displaced = sorted(before - ctx.installed_packages()) if added else []
        if displaced:
            ctx.run(platform.install_cmd(ctx.profile, displaced), env=platform.package_env(ctx.profile), stream=True)
        ctx.restore(record.get("files", []))
        for folder in record.get("folders", []):
            if not folder["existed"]:
                ctx.remove_tree(folder["path"])

    @staticmethod
    def _remove_accounts(ctx, record) -> None:
        """Delete the users and groups the install added (see the class docstring);
        users first: ``userdel`` may take the user's own group with it."""
        if "accounts" not in record:
            return          # journaled by a mailwiz that did not track accounts
        events = [e for e in ctx.run_obj.entries() if e.get("event") == "accounts-added" and e.get("seq") == ctx.seq]
        for kind, argv0 in (("users", "userdel"), ("groups", "groupdel")):
            now = set(account_names(ctx.root)[kind])
            wanted = set(events[-1].get(kind, [])) if events else now - set(record["accounts"][kind])
            for name in sorted(wanted & now):
                ctx.run([argv0, name], check=False)


@register
@dataclass
class RemovePackages(Action):
    """Remove installed packages; undo installs them again."""

    kind: ClassVar[str] = "remove_packages"
    packages: List[str] = field(default_factory=list)
    RECORD_KEYS: ClassVar[Dict[str, Callable]] = {"removed": _list_of(str)}

    def describe(self) -> Msg:
        return Msg(N_("Remove packages: {packages}"), packages=" ".join(self.packages))

    def simulate(self, sim):
        present = [p for p in self.packages if p in sim.packages]
        self.packages = present
        if not present:
            return False
        sim.packages.difference_update(present)
        return True

    def commands(self, profile, init):
        return [platform.remove_cmd(profile, self.packages)]

    def prepare(self, ctx):
        installed = ctx.installed_packages()
        return {"removed": [p for p in self.packages if p in installed]}

    def execute(self, ctx):
        ctx.run(platform.remove_cmd(ctx.profile, self.packages), env=platform.package_env(ctx.profile), stream=True)

    @classmethod
    def undo(cls, ctx, record):
        missing = sorted(set(record["removed"]) - ctx.installed_packages())
        if missing:
            ctx.run(platform.install_cmd(ctx.profile, missing), env=platform.package_env(ctx.profile), stream=True)


# --- services -----------------------------------------------------------------

VERB_TEXT = {
    "enable": N_("enable at boot"),
    "disable": N_("disable at boot"),
    "start": N_("start"),
    "stop": N_("stop"),
    "restart": N_("restart"),
}


def verbs_text(verbs: Sequence[str]) -> Msg:
    """"start, enable at boot" as a message that stays translatable in the journal."""
    if not verbs:
        return Msg(N_("nothing"))
    text = Msg(VERB_TEXT.get(verbs[-1], verbs[-1]))
    for verb in reversed(verbs[:-1]):
        text = Msg(N_("{first}, {rest}"), first=Msg(VERB_TEXT.get(verb, verb)), rest=text)
    return text


@dataclass
class _ServiceAction(Action):
    """What Service and StopService share: the verbs the plan chose (enable,
    start, stop, ...), their commands for the init system, and the state
    before, which undo works from."""

    name: str = ""
    init: str = "systemd"
    # The step's declaration of the service (installer.needs.Daemon, as JSON):
    # without an init system only it knows the commands.
    daemon: Optional[dict] = None
    _verbs: List[str] = field(default_factory=list, repr=False)
    RECORD_KEYS: ClassVar[Dict[str, Callable]] = {
        "name": _text, "init": _text, "was_enabled": lambda v: isinstance(v, bool),
        "was_running": lambda v: isinstance(v, bool), "verbs": _list_of(str)}

    def describe(self) -> Msg:
        return Msg(N_("Service {name}: {verbs}"), name=self.name, verbs=verbs_text(self._verbs))

    def _cmds(self, profile, verb: str) -> List[Argv]:
        return platform.service_cmds(self.init, profile, self.name, verb, Daemon.from_json(self.daemon))

    def commands(self, profile, init):
        return [argv for verb in self._verbs for argv in self._cmds(profile, verb)]

    def to_json(self):
        data = super().to_json()
        data["verbs"] = list(self._verbs)
        return data

    def prepare(self, ctx):
        state = ctx.service_state(self.init, self.name, self.daemon)
        record = {"name": self.name, "init": self.init, "was_enabled": state.enabled,
                  "was_running": state.running, "verbs": list(self._verbs)}
        if self.daemon:
            record["daemon"] = self.daemon
        return record


def _record_cmds(ctx, record: dict, verb: str) -> List[Argv]:
    """A service's commands for *verb*, from its journal record alone."""
    return platform.service_cmds(record["init"], ctx.profile, record["name"], verb,
                                 Daemon.from_json(record.get("daemon")))


@register
@dataclass
class Service(_ServiceAction):
    """Enable and/or start a service; restart it when a watched file changed
    (``watch`` entries ending in "/" watch a whole folder, see :func:`watched`).
    Undo returns it to how it was; a service that ran before is started again
    after every file is restored (``after_rollback``)."""

    kind: ClassVar[str] = "service"
    enable: bool = True
    start: bool = True
    watch: List[str] = field(default_factory=list)
    _running_now: Optional[bool] = field(default=None, repr=False)   # found by prepare()

    def simulate(self, sim):
        state = sim.services.setdefault(self.name, ServiceState())
        verbs = []
        if self.enable and not state.enabled and self.init != "none":
            verbs.append("enable")
        if self.start:
            if not state.running:
                verbs.append("start")
            elif watched(sim.changed, self.watch):
                verbs.append("restart")
        self._verbs = verbs
        if self.enable:
            state.enabled = True
        if self.start:
            state.running = True
        return bool(verbs)

    def prepare(self, ctx):
        record = super().prepare(ctx)
        self._running_now = record["was_running"]
        return record

    def execute(self, ctx):
        for verb in self._verbs:
            # The plan was made from facts; the host may differ by now: a package
            # install that started the service with its stock config needs a
            # restart, and a service that stopped cannot be restarted, only started.
            if verb == "start" and self._running_now:
                verb = "restart"
            elif verb == "restart" and self._running_now is False:
                verb = "start"
            for argv in self._cmds(ctx.profile, verb):
                ctx.run(argv)

    @classmethod
    def undo(cls, ctx, record):
        if "enable" in record["verbs"] and not record["was_enabled"]:
            for argv in _record_cmds(ctx, record, "disable"):
                ctx.run(argv, check=False)
        for argv in _record_cmds(ctx, record, "stop"):
            ctx.run(argv, check=False)
        if record["was_running"]:
            ctx.after_rollback(_record_cmds(ctx, record, "start"))


@register
@dataclass
class StopService(_ServiceAction):
    """Stop a service and keep it from starting at boot (sendmail kept beside
    postfix would hold port 25).  Undo enables it again if it was enabled and
    starts it again, after every file is restored, if it was running.  A
    service the facts know nothing about is assumed to run: stopping a stopped
    service is harmless, leaving one running is not."""

    kind: ClassVar[str] = "stop_service"

    def simulate(self, sim):
        state = sim.services.get(self.name) or ServiceState(enabled=True, running=True)
        wanted = (["stop"] if state.running else []) + (["disable"] if state.enabled else [])
        # Without an init system there may be no command for a foreign service.
        self._verbs = [v for v in wanted if self._cmds(sim.profile, v)]
        sim.services[self.name] = ServiceState(enabled=False, running=False)
        return bool(self._verbs)

    def execute(self, ctx):
        for argv in self.commands(ctx.profile, self.init):
            ctx.run(argv)

    @classmethod
    def undo(cls, ctx, record):
        if "disable" in record["verbs"] and record["was_enabled"]:
            for argv in _record_cmds(ctx, record, "enable"):
                ctx.run(argv, check=False)
        if "stop" in record["verbs"] and record["was_running"]:
            ctx.after_rollback(_record_cmds(ctx, record, "start"))


# --- alternatives and firewall ----------------------------------------------------

@register
@dataclass
class SetAlternative(Action):
    kind: ClassVar[str] = "set_alternative"
    group: str = "mta"
    path: str = ""
    RECORD_KEYS: ClassVar[Dict[str, Callable]] = {
        "group": _text, "previous": lambda v: v is None or _text(v), "mode": lambda v: v is None or _text(v)}

    def describe(self) -> Msg:
        return Msg(N_("Make {path} the system {group}"), path=self.path, group=self.group)

    def simulate(self, sim):
        if sim.alternatives.get(self.group) == self.path:
            return False
        sim.alternatives[self.group] = self.path
        return True

    def commands(self, profile, init):
        return [platform.alternatives_set_cmd(self.group, self.path)]

    def prepare(self, ctx):
        current, mode = platform.alternative(ctx.runner, self.group)
        return {"group": self.group, "previous": current, "mode": mode}

    def execute(self, ctx):
        ctx.run(platform.alternatives_set_cmd(self.group, self.path))

    @classmethod
    def undo(cls, ctx, record):
        if record["mode"] == "auto" or not record["previous"]:
            ctx.run(platform.alternatives_auto_cmd(record["group"]), check=False)
        else:
            ctx.run(platform.alternatives_set_cmd(record["group"], record["previous"]), check=False)


@register
@dataclass
class OpenPorts(Action):
    """Open ports in the active firewall; undo closes only those it opened."""

    kind: ClassVar[str] = "open_ports"
    tool: str = "firewalld"
    ports: List[str] = field(default_factory=list)
    RECORD_KEYS: ClassVar[Dict[str, Callable]] = {"tool": _text, "opened": _list_of(str)}

    def describe(self) -> Msg:
        return Msg(N_("Open ports in {tool}: {ports}"), tool=self.tool, ports=" ".join(self.ports))

    def simulate(self, sim):
        self.ports = [p for p in self.ports if p not in sim.firewall_open]
        sim.firewall_open.update(self.ports)
        return bool(self.ports)

    def commands(self, profile, init):
        return [argv for port in self.ports for argv in platform.firewall_open_cmds(self.tool, port)]

    def prepare(self, ctx):
        already = platform.firewall_open_ports(ctx.runner, self.tool)
        return {"tool": self.tool, "opened": [p for p in self.ports if p not in already]}

    def execute(self, ctx):
        for argv in self.commands(ctx.profile, ""):
            ctx.run(argv)

    @classmethod
    def undo(cls, ctx, record):
        for port in record["opened"]:
            for argv in platform.firewall_close_cmds(record["tool"], port):
                ctx.run(argv, check=False)


def from_json(data: dict) -> Action:
    """Rebuild an action from its journal entry (for display)."""
    cls = KINDS[data["kind"]]
    names = {f.name for f in fields(cls)}
    action = cls(**{k: v for k, v in data.items() if k in names and not k.startswith("_")})
    if isinstance(action, _ServiceAction):
        action._verbs = list(data.get("verbs", []))
    return action
