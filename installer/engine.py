"""Plan, apply, rollback and resume: the flow of a run, in one file.

The CLI and the TUI both call these functions; nothing here prints or asks.
Progress goes to an optional ``events`` callback (called from the thread that
runs the plan) as typed events (``installer/events.py``), each made from the
entry the journal gets.
"""
from __future__ import annotations

import difflib
import errno
import os
import re
import signal
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

from installer import actions as actions_mod
from installer import platform
from installer.actions import Action, Simulation
from installer.events import Event, from_entry
from installer.i18n import Msg, N_
from installer.journal import JournalDamaged, Run, TargetLock, is_locked, list_runs
from installer.needs import Daemon
from installer.root import TargetRefused
from installer.runner import CommandFailed

EventFn = Callable[[Event], None]

# Kept out of every plan diff and every comparison of a target before/after.
OWN_PATHS = ("/var/lib/mailwiz", "/var/log/mailwiz")


# --- planning ------------------------------------------------------------------

@dataclass
class PlannedStep:
    name: str
    title: str                   # N_() msgid
    actions: List[Action]


@dataclass
class Plan:
    steps: List[PlannedStep]
    diffs: Dict[str, str]        # target path -> unified diff ("" for hidden secrets)
    hidden: List[str]            # files whose content is secret
    profile: object
    facts: object
    answers: dict
    init: str
    # Each file the plan read, as it was then ((content, mode), None: no file).
    seen: Dict[str, Optional[tuple]] = field(default_factory=dict)

    @property
    def actions(self) -> List[Action]:
        """Every action in plan order: failpoint N counts in this list."""
        return [a for step in self.steps for a in step.actions]

    @property
    def empty(self) -> bool:
        return not self.actions

    def commands(self) -> List[List[str]]:
        return [argv for a in self.actions for argv in a.commands(self.profile, self.init)]


def make_plan(answers: dict, profile, facts, root, secrets: Optional[Dict[str, str]] = None,
              stock_provider: Optional[Callable] = None, changed: Sequence[str] = ()) -> Plan:
    """Ask every step for its actions, simulate them, and keep those that change something.

    *changed*: files an interrupted run already changed (see :func:`run_changed_files`):
    the work derived from a change (postmap of a map, a restart after a config
    change) is planned as if the change were still to come, so a resumed run
    ends where an uninterrupted one would."""
    import steps
    from steps import StepInput

    inp = StepInput(profile=profile, facts=facts, answers=answers, secrets=dict(secrets or {}))
    sim = Simulation(root, facts, profile, stock_provider)
    sim.changed.update(changed)
    planned: List[PlannedStep] = []
    hidden: List[str] = []
    for module in steps.modules():
        kept = []
        for action in module.plan(inp):
            action.step = module.NAME
            if action.simulate(sim):
                kept.append(action)
            if getattr(action, "secret", False):
                hidden.append(action.path)
        if kept:
            planned.append(PlannedStep(module.NAME, module.TITLE, kept))
    diffs = {}
    for path in sim.touched_files():
        if path in hidden:
            diffs[path] = ""
            continue
        diffs[path] = unified_diff(path, sim.original.get(path), sim.files.get(path),
                                   sim.original_modes.get(path), sim.modes.get(path))
    return Plan(planned, diffs, hidden, profile, facts, answers, facts.init, dict(sim.seen))


def unified_diff(path: str, old: Optional[bytes], new: Optional[bytes],
                 old_mode: Optional[int] = None, new_mode: Optional[int] = None) -> str:
    def lines(data):
        if data is None:
            return []
        return data.decode("utf-8", "replace").splitlines(keepends=True)

    text = "".join(difflib.unified_diff(
        lines(old), lines(new),
        fromfile="/dev/null" if old is None else f"a{path}",
        tofile="/dev/null" if new is None else f"b{path}"))
    # A target file may hold terminal control sequences: shown, never sent to the terminal.
    text = _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)
    if old is not None and new is not None and old_mode != new_mode and new_mode is not None:
        text = f"mode {old_mode:o} -> {new_mode:o}\n" + text
    if text and not text.endswith("\n"):
        text += "\n"
    return text


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


# --- the context actions run in -----------------------------------------------------

class StepFailed(Exception):
    def __init__(self, message: Msg, seq: int = -1, step: str = ""):
        self.message = message
        self.seq = seq
        self.step = step
        super().__init__(str(message))


class Context:
    """What actions use to change the target: files, commands, queries, the journal."""

    def __init__(self, root, runner, profile, run: Run, events: Optional[EventFn] = None):
        self.root = root
        self.runner = runner
        self.profile = profile
        self.run_obj = run
        self.events = events
        self.seq = -1

    # journal and progress
    def emit(self, event: str, **data) -> dict:
        entry = self.run_obj.append(event, **data)
        if self.events:
            self.events(from_entry(entry))
        return entry

    def note(self, message: Msg) -> None:
        self.emit("note", seq=self.seq, message=message)

    # commands
    def run(self, argv: Sequence[str], *, check: bool = True, env=None, input=None, stream: bool = False):
        self.emit("command", seq=self.seq, command=self.runner.display(argv))

        def out(line):
            self.emit("output", seq=self.seq, line=line)

        return self.runner.run(list(argv), check=check, env=env, input=input, on_output=out)

    def installed_packages(self):
        return platform.installed_packages(self.runner, self.profile)

    def service_state(self, init: str, name: str, daemon: Optional[dict] = None):
        return platform.service_state(self.runner, self.root, init, self.profile, name, Daemon.from_json(daemon))

    def after_rollback(self, commands: List[List[str]]) -> None:
        """Commands to run once every file is restored (a service started again).
        Journaled, so that a rollback interrupted and run again still runs them."""
        self.emit("after-rollback", seq=self.seq, commands=[list(argv) for argv in commands])

    # files
    def snapshot(self, paths: Sequence[str]) -> List[dict]:
        """Save pre-images of *paths* (and the run's first-change backups).  A
        link, a folder or a special file where a file is expected is refused
        (the action fails before it begins)."""
        run = self.run_obj
        records = []
        for path in paths:
            meta = self.root.meta(path)
            record = {"path": path, "existed": meta is not None}
            missing_dirs = []
            parent = os.path.dirname(path)
            while parent not in ("/", "") and not self.root.exists(parent):
                missing_dirs.append(parent)
                parent = os.path.dirname(parent)
            record["missing_dirs"] = missing_dirs
            if meta is not None:
                data = self.root.read_bytes(path)
                rel = f"undo/{self.seq:04d}{path}"
                run.write_bytes(rel, data)
                record.update(preimage=rel, mode=meta.mode, uid=meta.uid, gid=meta.gid,
                              digest=run.fingerprint(data))
                backup = f"backups{path}"
                if not self.root.exists(run.target(backup)):
                    run.write_bytes(backup, data)
                    index = self._backup_index()
                    index[path] = {"mode": meta.mode, "uid": meta.uid, "gid": meta.gid}
                    run.write_json("backups/index.json", index)
            records.append(record)
        return records

    def _backup_index(self) -> dict:
        import json
        try:
            data = json.loads(self.run_obj.read_bytes("backups/index.json") or b"{}")
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def fingerprints(self, paths: Sequence[str]) -> Dict[str, Optional[str]]:
        """Each file as the action left it (to see later edits by hand)."""
        out = {}
        for path in paths:
            try:
                out[path] = self.run_obj.fingerprint(self.root.read_bytes(path))
            except OSError:
                out[path] = "?"
        return out

    def restore(self, records: Sequence[dict]) -> None:
        for record in records:
            path = record["path"]
            if record["existed"]:
                data = self.run_obj.read_bytes(record["preimage"])
                if data is None:
                    raise FileNotFoundError(errno.ENOENT, "backup missing", record["preimage"])
                meta = self.root.meta(path)
                if (meta is not None and (meta.mode, meta.uid, meta.gid) == (record["mode"], record["uid"], record["gid"])
                        and self.root.read_bytes(path) == data):
                    self.root.remove_temp(path)     # a kill may have left one
                    continue        # as it was: nothing to write (a full disk needs no room for this)
                self.root.makedirs(os.path.dirname(path))
                self.root.write_atomic(path, data, record["mode"], record["uid"], record["gid"])
                self.root.set_meta(path, record["mode"], record["uid"], record["gid"])
            else:
                self.root.remove(path)
                for folder in record.get("missing_dirs", []):
                    self.root.rmdir_if_empty(folder)

    def remove_tree(self, path: str) -> None:
        """Remove a folder this run brought into being, with what is left in it."""
        self.root.remove_tree(path)

    def write_file(self, path: str, data: Optional[bytes], mode=None, owner=None, group=None) -> None:
        if data is None:
            self.root.remove(path)
            return
        self.root.makedirs(os.path.dirname(path))
        uid, gid = self.root.resolve_owner(owner, group)
        self.root.write_atomic(path, data, mode, uid, gid)
        if mode is not None:
            self.root.set_meta(path, mode, uid, gid)


# --- failpoints -----------------------------------------------------------------------

class FailpointError(Exception):
    pass


class Failpoints:
    """Failure and crash injection for tests; the engine is given one (the CLI
    reads ``MAILWIZ_FAILPOINT`` once and passes it on):

    - ``N:error`` / ``N:kill``: action N of the plan (counting from 0) fails as
      if its command had failed / the process kills itself with SIGKILL just
      before action N completes;
    - ``undo:N:error`` / ``undo:N:kill``: the same for the N-th undo of a
      rollback (counting from 0, newest change first);
    - ``write:N:kill``: SIGKILL in the N-th file write of a run or rollback,
      after its temporary file is written and before it is renamed.
    """

    def __init__(self, phase: str, index: int, mode: str):
        self.phase, self.index, self.mode = phase, index, mode
        self._writes = 0

    @classmethod
    def parse(cls, value) -> Optional["Failpoints"]:
        if isinstance(value, Failpoints) or value is None:
            return value
        parts = str(value).split(":")
        if len(parts) == 2:
            parts.insert(0, "action")
        if len(parts) != 3 or parts[0] not in ("action", "undo", "write"):
            return None
        try:
            index = int(parts[1])
        except ValueError:
            return None
        if parts[2] not in ("error", "kill") or (parts[0] == "write" and parts[2] != "kill"):
            return None
        return cls(parts[0], index, parts[2])

    def hit(self, phase: str, index: int, mode: str) -> None:
        """Fail or die here if this is the failpoint."""
        if (phase, index, mode) != (self.phase, self.index, self.mode):
            return
        if mode == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        raise FailpointError(index)

    def watch_writes(self, root) -> None:
        if self.phase == "write":
            root.write_hook = self._on_write

    def _on_write(self, stage: str, path: str) -> None:
        if stage == "temp-written":
            self.hit("write", self._writes, "kill")
            self._writes += 1


def parse_failpoint(value):
    """``N:error``, ``N:kill``, ``undo:N:...``, ``write:N:kill`` -> Failpoints, or None."""
    return Failpoints.parse(value)


class _NoFailpoints(Failpoints):
    def __init__(self):
        super().__init__("", -1, "")

    def hit(self, phase, index, mode):
        pass


def _failpoints(value) -> Failpoints:
    return Failpoints.parse(value) or _NoFailpoints()


# --- apply, rollback, resume ---------------------------------------------------------------

@dataclass
class RunResult:
    run_id: str
    status: str                           # ok | nothing | rolled-back | failed (not rolled back) |
    #                                       rollback-failed (a rollback did not finish)
    error: Optional[Msg] = None
    failed_step: str = ""
    checks: List[dict] = field(default_factory=list)
    undo_errors: List[Msg] = field(default_factory=list)   # what a rollback could not undo


class StalePlan(Exception):
    """The target changed after the plan was made (another run, an admin): plan again."""

    def __init__(self, paths: List[str]):
        self.paths = paths
        super().__init__(", ".join(paths))


class NewerRuns(Exception):
    """Rolling back a run that later runs built on: roll those back first (a chain)."""

    def __init__(self, run_id: str, newer: List[str]):
        self.run_id, self.newer = run_id, newer
        super().__init__(", ".join(newer))


class EditedSince(Exception):
    """Files changed after the run(s) being rolled back: rollback would lose those edits."""

    def __init__(self, edited: List[tuple]):
        self.edited = edited            # [(run id, target path)]
        super().__init__(", ".join(p for _, p in edited))


def _hold(root, lock: Optional[TargetLock]) -> tuple:
    if lock is not None and lock.held:
        return lock, False
    return TargetLock(root).acquire(), True


def check_fresh(plan: Plan, root) -> None:
    """Raise :class:`StalePlan` if a file the plan read is not as it was."""
    stale = []
    for path, was in plan.seen.items():
        try:
            data = root.read_bytes(path)
            meta = root.meta(path) if data is not None else None
        except OSError:
            stale.append(path)
            continue
        now = None if data is None else (data, meta.mode if meta else None)
        if now != was:
            stale.append(path)
    if stale:
        raise StalePlan(sorted(stale))


def apply(plan: Plan, *, root, runner, answers_yaml: str, lang: str = "en", sandbox: bool = False,
          events: Optional[EventFn] = None, no_rollback: bool = False, verify: Optional[Callable] = None,
          failpoint=None, lock: Optional[TargetLock] = None) -> RunResult:
    """Run *plan* under the target lock; on failure roll back newest first.

    Give *lock* held since the plan was made; without it the lock is taken
    here and the plan must still match the target (else :class:`StalePlan`).
    Raises ``journal.Locked`` when another run holds the lock.
    """
    lock, own_lock = _hold(root, lock)
    failpoints = _failpoints(failpoint)
    try:
        check_fresh(plan, root)
        failpoints.watch_writes(root)
        meta = {"lang": lang, "profile": plan.profile.id, "sandbox": sandbox, "init": plan.init,
                "root": str(root.base)}
        run = Run.create(root, meta, {"answers.yaml": answers_yaml}, profile=plan.profile.id, sandbox=sandbox,
                         lang=lang, actions=len(plan.actions))
        ctx = Context(root, runner, plan.profile, run, events)
        if events:
            events(from_entry(run.entries()[0]))
        return _execute(plan, ctx, start_seq=0, no_rollback=no_rollback, verify=verify, failpoints=failpoints)
    finally:
        root.write_hook = None
        if own_lock:
            lock.release()


def _as_failure(exc: BaseException, seq: int, step: str) -> "StepFailed":
    if isinstance(exc, StepFailed):
        return exc
    if isinstance(exc, CommandFailed):
        return StepFailed(exc.message, seq, step)
    if isinstance(exc, FailpointError):
        return StepFailed(Msg(N_("Failpoint: action {index} made to fail"), index=exc.args[0]), seq, step)
    if isinstance(exc, (TargetRefused, JournalDamaged)):
        return StepFailed(exc.message, seq, step)
    if isinstance(exc, OSError):
        return StepFailed(Msg(N_("Could not change {path}: {error}"),
                              path=getattr(exc, "filename", "") or "", error=exc.strerror or str(exc)), seq, step)
    # Not foreseen: said as it is, and handled like any failed step (no traceback).
    return StepFailed(Msg(N_("Unexpected error: {error}"), error=f"{type(exc).__name__}: {exc}"), seq, step)


def _execute(plan: Plan, ctx: Context, *, start_seq: int, no_rollback: bool, verify,
             failpoints: Failpoints) -> RunResult:
    run = ctx.run_obj
    current_step = None
    seq = start_seq
    step_name = ""
    try:
        try:
            for index, action in enumerate(plan.actions):
                step_name = action.step
                if action.step != current_step:
                    current_step = action.step
                    title = next(s.title for s in plan.steps if s.name == action.step)
                    ctx.emit("step", step=action.step, title=Msg(title))
                ctx.seq = seq
                record = action.prepare(ctx)
                ctx.emit("begin", seq=seq, index=index, step=action.step, kind=action.kind,
                         desc=action.describe(), action=action.to_json(), undo=record)
                failpoints.hit("action", index, "error")
                action.execute(ctx)
                failpoints.hit("action", index, "kill")
                ctx.emit("done", seq=seq, step=action.step, after=ctx.fingerprints(action.files()))
                seq += 1
            checks = []
            if verify is not None:
                step_name = "verify"
                ctx.seq = seq
                checks = verify(ctx)
                failed = [c for c in checks if c.get("result") == "fail"]
                if failed:
                    raise StepFailed(Msg(N_("The self-test failed: {titles}"),
                                         titles=", ".join(str(Msg.from_json(c["title"])) for c in failed)),
                                     seq, "verify")
        except Exception as exc:    # every failure ends the same way: journaled, rolled back
            raise _as_failure(exc, seq, step_name) from exc
        status = "ok" if plan.actions else "nothing"
        ctx.emit("run-end", status="ok")
        run.close()
        return RunResult(run.id, status, checks=checks)
    except StepFailed as exc:
        ctx.emit("failed", seq=exc.seq, step=exc.step, error=exc.message)
        ctx.emit("run-end", status="failed")
        if no_rollback:
            run.close()
            return RunResult(run.id, "failed", exc.message, exc.step)
        try:
            problems = _rollback(ctx, run.verified_entries(), failpoints)
        except JournalDamaged as damaged:
            problems = [damaged.message]
        run.close()
        if problems:
            return RunResult(run.id, "rollback-failed", exc.message, exc.step, undo_errors=problems)
        return RunResult(run.id, "rolled-back", exc.message, exc.step)


def check_backups(run: Run, entries: List[dict]) -> None:
    """Every pre-image that undoing the run still needs is there, a regular
    file, with the content it had; raises :class:`JournalDamaged` naming it."""
    undone = {e["seq"] for e in entries if e["event"] == "undo-done"}
    for entry in entries:
        if entry["event"] != "begin" or entry["seq"] in undone:
            continue
        for record in entry["undo"].get("files", []):
            if not record["existed"]:
                continue
            try:
                data = run.read_bytes(record["preimage"])
            except OSError as exc:
                data, reason = None, Msg(N_("it cannot be read: {error}"),
                                         error=getattr(exc, "message", None) or exc.strerror or str(exc))
            else:
                reason = Msg(N_("it is missing"))
            if data is not None and "digest" in record and run.fingerprint(data) != record["digest"]:
                data, reason = None, Msg(N_("its content is not what was saved"))
            if data is None:
                raise JournalDamaged(Msg(N_("Run {run}: the backup of {path} for action {seq} ({file}) cannot be "
                                            "used: {reason}"), run=run.id, path=record["path"], seq=entry["seq"],
                                         file=record["preimage"], reason=reason))


def _rollback(ctx: Context, entries: List[dict], failpoints: Failpoints) -> List[Msg]:
    """Undo every action of the run that began and is not undone yet, newest
    first, from verified *entries*; returns what could not be undone.  Safe to
    interrupt and run again: what was undone is journaled and not done twice,
    and the commands that wait for the end (services started again) are
    journaled too."""
    run = ctx.run_obj
    check_backups(run, entries)
    undone = {e["seq"] for e in entries if e["event"] == "undo-done"}
    begun = [e for e in entries if e["event"] == "begin" and e["seq"] not in undone]
    ctx.emit("rollback-start", run=run.id)
    problems: List[Msg] = []
    for number, entry in enumerate(reversed(begun)):
        ctx.seq = entry["seq"]
        ctx.emit("undo-begin", seq=entry["seq"], desc=entry["desc"])
        try:
            failpoints.hit("undo", number, "error")
            actions_mod.KINDS[entry["kind"]].undo(ctx, entry["undo"])
            failpoints.hit("undo", number, "kill")
            ctx.emit("undo-done", seq=entry["seq"])
        except Exception as exc:
            # Stop here: older changes are undone only after newer ones (a file
            # changed twice goes back step by step).  Run again, it goes on from here.
            failure = _as_failure(exc, entry["seq"], entry.get("step", ""))
            ctx.emit("undo-failed", seq=entry["seq"], error=failure.message)
            desc = entry["desc"]
            problems.append(Msg(N_("action {seq} ({desc}): {error}"), seq=entry["seq"],
                                desc=Msg.from_json(desc) if isinstance(desc, dict) else desc,
                                error=failure.message))
            ctx.emit("rollback-end", status="failed")
            return problems
    waiting: List[List[str]] = []
    for entry in run.entries():
        if entry["event"] == "after-done":
            waiting = []
        elif entry["event"] == "after-rollback" and isinstance(entry.get("commands"), list):
            waiting.extend(entry["commands"])
    for argv in waiting:
        try:
            ctx.run(argv, check=False)
        except Exception as exc:
            problems.append(Msg(N_("{command}: {error}"), command=" ".join(argv), error=str(exc)))
    ctx.emit("after-done")
    ctx.emit("rollback-end", status="failed" if problems else "rolled-back")
    if not problems:
        _forget_secrets(run, entries)
    return problems


def _forget_secrets(run: Run, entries: List[dict]) -> None:
    """A run rolled back needs its pre-images no more: those of files that hold
    secrets (a password map, a key: written as secret, or not readable by
    others) are removed, so an old password does not outlive its use."""
    for entry in entries:
        if entry["event"] != "begin":
            continue
        secret = bool(entry.get("action", {}).get("secret")) if isinstance(entry.get("action"), dict) else False
        for record in entry["undo"].get("files", []):
            if record["existed"] and (secret or not record["mode"] & 0o044):
                for name in (record["preimage"], "backups" + record["path"]):
                    try:
                        run.root.remove(run.target(name))
                    except OSError:
                        pass


def last_live_run(root) -> Optional[str]:
    """The newest run that is not rolled back (what ``rollback`` undoes by default)."""
    live = [r for r in list_runs(root) if Run.open(root, r).status() != "rolled-back"]
    return live[-1] if live else None


def newer_live_runs(root, run_id: str) -> List[str]:
    """Runs after *run_id* that are not rolled back (they built on it)."""
    return [r for r in list_runs(root) if r > run_id and Run.open(root, r).status() != "rolled-back"]


_UNKNOWN = object()


def edited_files(root, runs: List[tuple]) -> List[tuple]:
    """[(run id, path)] of files not as the newest of *runs* (newest first,
    (Run, entries) pairs) left them: changed since, by hand or otherwise."""
    edited, seen = [], set()
    for run, entries in runs:
        if any(e["event"] == "rollback-start" for e in entries):
            # A rollback began already (and was interrupted or failed): the files
            # are somewhere between; it was asked about then and now goes on.
            continue
        undone = {e["seq"] for e in entries if e["event"] == "undo-done"}
        begun = {e["seq"] for e in entries if e["event"] == "begin" and e["seq"] not in undone}
        left: Dict[str, Optional[str]] = {}
        for entry in entries:
            if entry["seq" if "seq" in entry else "event"] not in begun:
                continue
            if entry["event"] == "begin":
                # Until its "done", what the action left is not known (a kill): not checked.
                left.update({r["path"]: _UNKNOWN for r in entry["undo"].get("files", [])})
            elif entry["event"] == "done" and isinstance(entry.get("after"), dict):
                left.update(entry["after"])
        for path, digest in sorted(left.items()):
            if path in seen:
                continue
            seen.add(path)
            if digest is _UNKNOWN:
                continue
            try:
                now = run.fingerprint(root.read_bytes(path))
            except OSError:
                now = "?"
            if now != digest:
                edited.append((run.id, path))
    return edited


def rollback(root, runner, profile, run_id: Optional[str] = None, *, events: Optional[EventFn] = None,
             failpoint=None, lock: Optional[TargetLock] = None, force: bool = False,
             chain: bool = False) -> RunResult:
    """Reverse a run (default: the newest) from its journal alone.

    Before anything changes, every journal and every backup needed is
    checked (:class:`journal.JournalDamaged`), runs newer than *run_id* must
    be rolled back too (*chain*, newest first; else :class:`NewerRuns`), and
    files edited since are reported (:class:`EditedSince`) unless *force*.
    """
    lock, own_lock = _hold(root, lock)
    failpoints = _failpoints(failpoint)
    try:
        run_id = run_id or last_live_run(root)
        if run_id is None:
            raise FileNotFoundError("no run")
        target_run = Run.open(root, run_id)
        newer = newer_live_runs(root, run_id)
        if newer and not chain:
            raise NewerRuns(run_id, newer)
        prepared = []
        for run in [Run.open(root, r) for r in reversed(newer)] + [target_run]:
            entries = run.verified_entries()
            check_backups(run, entries)
            prepared.append((run, entries))
        if not force:
            edited = edited_files(root, prepared)
            if edited:
                raise EditedSince(edited)
        failpoints.watch_writes(root)
        for run, entries in prepared:
            ctx = Context(root, runner, profile, run, events)
            problems = _rollback(ctx, entries, failpoints)
            run.close()
            if problems:
                return RunResult(run.id, "rollback-failed", undo_errors=problems)
        return RunResult(run_id, "rolled-back")
    finally:
        root.write_hook = None
        if own_lock:
            lock.release()


def run_changed_files(root, run_id: str) -> List[str]:
    """Files that an interrupted run began to change (for :func:`make_plan`'s *changed*)."""
    paths: List[str] = []
    for entry in Run.open(root, run_id).entries():
        if entry["event"] == "begin" and isinstance(entry.get("undo"), dict):
            for record in entry["undo"].get("files", []):
                if isinstance(record, dict) and record.get("path") not in paths:
                    paths.append(record.get("path"))
    return [p for p in paths if isinstance(p, str)]


def resume(plan: Plan, *, root, runner, run_id: str, events: Optional[EventFn] = None,
           no_rollback: bool = False, verify=None, failpoint=None,
           lock: Optional[TargetLock] = None) -> RunResult:
    """Finish an interrupted run: *plan* is made again from the run's own answers
    (what was done plans as nothing; give make_plan ``changed=run_changed_files()``
    so derived work is not lost) and continues the same journal, after its
    journal and backups are checked (:class:`journal.JournalDamaged`)."""
    lock, own_lock = _hold(root, lock)
    failpoints = _failpoints(failpoint)
    try:
        run = Run.open(root, run_id)
        check_backups(run, run.verified_entries())
        check_fresh(plan, root)
        failpoints.watch_writes(root)
        ctx = Context(root, runner, plan.profile, run, events)
        ctx.emit("note", seq=-1, message=Msg(N_("Resuming run {run}"), run=run_id))
        return _execute(plan, ctx, start_seq=run.next_seq(), no_rollback=no_rollback, verify=verify,
                        failpoints=failpoints)
    finally:
        root.write_hook = None
        if own_lock:
            lock.release()


def interrupted_runs(root, lock: Optional[TargetLock] = None) -> List[str]:
    """Runs that neither ended nor were rolled back (a kill, a lost SSH session).
    While another process holds the lock, none: that run may be alive."""
    if not (lock is not None and lock.held) and is_locked(root):
        return []
    return [r for r in list_runs(root) if Run.open(root, r).status() == "interrupted"]
