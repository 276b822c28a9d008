"""Plan, apply, rollback and resume: the flow of a run, in one file.

The CLI and the TUI both call these functions; nothing here prints or asks.
Progress goes to an optional ``events`` callback (called from the thread that
runs the plan) as small dicts, the same entries that the journal gets.
"""
from __future__ import annotations

import difflib
import os
import signal
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

from installer import actions as actions_mod
from installer import platform
from installer.actions import Action, Simulation
from installer.i18n import Msg, N_
from installer.journal import Run, TargetLock, last_run, list_runs
from installer.needs import Daemon
from installer.runner import CommandFailed

EventFn = Callable[[dict], None]

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
              stock_provider: Optional[Callable] = None) -> Plan:
    """Ask every step for its actions, simulate them, and keep those that change something."""
    import steps
    from steps import StepInput

    inp = StepInput(profile=profile, facts=facts, answers=answers, secrets=dict(secrets or {}))
    sim = Simulation(root, facts, profile, stock_provider)
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
    return Plan(planned, diffs, hidden, profile, facts, answers, facts.init)


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
    if old is not None and new is not None and old_mode != new_mode and new_mode is not None:
        text = f"mode {old_mode:o} -> {new_mode:o}\n" + text
    if text and not text.endswith("\n"):
        text += "\n"
    return text


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
        self._after: List[List[str]] = []

    # journal and progress
    def emit(self, event: str, **data) -> dict:
        entry = self.run_obj.append(event, **data)
        if self.events:
            self.events(entry)
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
        self._after.extend(commands)

    # files
    def snapshot(self, paths: Sequence[str]) -> List[dict]:
        """Save pre-images of *paths* (and the run's first-change backups)."""
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
                self._save(rel, data)
                record.update(preimage=rel, mode=meta.mode, uid=meta.uid, gid=meta.gid)
                backup = f"backups{path}"
                if not self.run_obj.dir.joinpath(backup).exists():
                    self._save(backup, data)
                    index = self._backup_index()
                    index[path] = {"mode": meta.mode, "uid": meta.uid, "gid": meta.gid}
                    self.run_obj.write_json("backups/index.json", index)
            records.append(record)
        return records

    def _backup_index(self) -> dict:
        import json
        try:
            return json.loads(self.run_obj.dir.joinpath("backups/index.json").read_text())
        except (OSError, ValueError):
            return {}

    def _save(self, rel: str, data: bytes) -> None:
        target = self.run_obj.dir / rel
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

    def restore(self, records: Sequence[dict]) -> None:
        for record in records:
            path = record["path"]
            if record["existed"]:
                data = (self.run_obj.dir / record["preimage"]).read_bytes()
                self.root.makedirs(os.path.dirname(path))
                self.root.write_atomic(path, data, record["mode"], record["uid"], record["gid"])
                self.root.set_meta(path, record["mode"], record["uid"], record["gid"])
            else:
                self.root.remove(path)
                for folder in record.get("missing_dirs", []):
                    self.root.rmdir_if_empty(folder)

    def remove_tree(self, path: str) -> None:
        """Remove a folder this run brought into being, with what is left in it."""
        import shutil
        real = self.root.path(path)
        if real.is_dir() and not real.is_symlink():
            shutil.rmtree(real)

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

def parse_failpoint(value: Optional[str]):
    """``N:error`` or ``N:kill`` -> (N, mode), or None."""
    if not value:
        return None
    try:
        index, mode = value.split(":", 1)
        index = int(index)
    except ValueError:
        return None
    return (index, mode) if mode in ("error", "kill") else None


# --- apply, rollback, resume ---------------------------------------------------------------

@dataclass
class RunResult:
    run_id: str
    status: str                           # ok | nothing | failed | rolled-back
    error: Optional[Msg] = None
    failed_step: str = ""
    checks: List[dict] = field(default_factory=list)


def apply(plan: Plan, *, root, runner, answers_yaml: str, lang: str = "en", sandbox: bool = False,
          events: Optional[EventFn] = None, no_rollback: bool = False, verify: Optional[Callable] = None,
          failpoint: Optional[str] = None, lock: Optional[TargetLock] = None) -> RunResult:
    """Run *plan* under the target lock; on failure roll back newest first.

    Raises ``journal.Locked`` when another run holds the lock.
    """
    own_lock = lock is None
    lock = lock or TargetLock(root).acquire()
    try:
        meta = {"lang": lang, "profile": plan.profile.id, "sandbox": sandbox, "init": plan.init,
                "root": str(root.base)}
        run = Run.create(root, meta)
        run.write_text("answers.yaml", answers_yaml)
        ctx = Context(root, runner, plan.profile, run, events)
        ctx.emit("run-start", run=run.id, profile=plan.profile.id, sandbox=sandbox, lang=lang,
                 actions=len(plan.actions))
        return _execute(plan, ctx, start_seq=0, no_rollback=no_rollback, verify=verify,
                        failpoint=parse_failpoint(failpoint if failpoint is not None
                                                  else os.environ.get("MAILWIZ_FAILPOINT")))
    finally:
        if own_lock:
            lock.release()


def _execute(plan: Plan, ctx: Context, *, start_seq: int, no_rollback: bool, verify, failpoint) -> RunResult:
    run = ctx.run_obj
    current_step = None
    seq = start_seq
    try:
        for index, action in enumerate(plan.actions):
            if action.step != current_step:
                current_step = action.step
                title = next(s.title for s in plan.steps if s.name == action.step)
                ctx.emit("step", step=action.step, title=Msg(title))
            ctx.seq = seq
            record = action.prepare(ctx)
            ctx.emit("begin", seq=seq, index=index, step=action.step, kind=action.kind,
                     desc=action.describe(), action=action.to_json(), undo=record)
            if failpoint and failpoint[0] == index and failpoint[1] == "error":
                raise _failpoint_error(index, seq, action.step)
            try:
                action.execute(ctx)
            except CommandFailed as exc:
                raise StepFailed(exc.message, seq, action.step) from exc
            except OSError as exc:
                raise StepFailed(Msg(N_("Could not change {path}: {error}"),
                                     path=getattr(exc, "filename", "") or "", error=exc.strerror or str(exc)),
                                 seq, action.step) from exc
            if failpoint and failpoint[0] == index and failpoint[1] == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            ctx.emit("done", seq=seq, step=action.step)
            seq += 1
        checks = []
        if verify is not None:
            ctx.seq = seq
            checks = verify(ctx)
            failed = [c for c in checks if c.get("result") == "fail"]
            if failed:
                raise StepFailed(Msg(N_("The self-test failed: {titles}"),
                                     titles=", ".join(str(Msg.from_json(c["title"])) for c in failed)),
                                 seq, "verify")
        status = "ok" if plan.actions else "nothing"
        ctx.emit("run-end", status="ok")
        run.close()
        return RunResult(run.id, status, checks=checks)
    except StepFailed as exc:
        ctx.emit("failed", seq=exc.seq, step=exc.step, error=exc.message)
        if no_rollback:
            ctx.emit("run-end", status="failed")
            run.close()
            return RunResult(run.id, "failed", exc.message, exc.step)
        ctx.emit("run-end", status="failed")
        _rollback(ctx)
        run.close()
        return RunResult(run.id, "rolled-back", exc.message, exc.step)


def _failpoint_error(index: int, seq: int, step: str) -> StepFailed:
    return StepFailed(Msg(N_("Failpoint: action {index} made to fail"), index=index), seq, step)


def _rollback(ctx: Context) -> bool:
    """Undo every action of the run that began and is not undone yet, newest first."""
    entries = ctx.run_obj.entries()
    undone = {e["seq"] for e in entries if e["event"] == "undo-done"}
    begun = [e for e in entries if e["event"] == "begin" and e["seq"] not in undone]
    ctx.emit("rollback-start", run=ctx.run_obj.id)
    ok = True
    for entry in reversed(begun):
        ctx.seq = entry["seq"]
        ctx.emit("undo-begin", seq=entry["seq"], desc=entry["desc"])
        try:
            actions_mod.KINDS[entry["kind"]].undo(ctx, entry["undo"])
            ctx.emit("undo-done", seq=entry["seq"])
        except (CommandFailed, OSError, KeyError) as exc:
            ok = False
            message = exc.message if isinstance(exc, CommandFailed) else Msg(N_("{error}"), error=str(exc))
            ctx.emit("undo-failed", seq=entry["seq"], error=message)
    for argv in ctx._after:
        try:
            ctx.run(argv, check=False)
        except OSError:
            ok = False
    ctx._after.clear()
    ctx.emit("rollback-end", status="rolled-back" if ok else "failed")
    return ok


def rollback(root, runner, profile, run_id: Optional[str] = None, *, events: Optional[EventFn] = None) -> RunResult:
    """Reverse a run (default: the newest) from its journal alone."""
    run_id = run_id or last_run(root)
    if run_id is None:
        raise FileNotFoundError("no run")
    with TargetLock(root):
        run = Run.open(root, run_id)
        ctx = Context(root, runner, profile, run, events)
        ok = _rollback(ctx)
        run.close()
    return RunResult(run_id, "rolled-back" if ok else "failed")


def resume(plan: Plan, *, root, runner, run_id: str, events: Optional[EventFn] = None,
           no_rollback: bool = False, verify=None, failpoint: Optional[str] = None) -> RunResult:
    """Finish an interrupted run: *plan* is made again from the run's own answers
    (what was done plans as nothing) and continues the same journal."""
    with TargetLock(root):
        run = Run.open(root, run_id)
        ctx = Context(root, runner, plan.profile, run, events)
        ctx.emit("note", seq=-1, message=Msg(N_("Resuming run {run}"), run=run_id))
        return _execute(plan, ctx, start_seq=run.next_seq(), no_rollback=no_rollback, verify=verify,
                        failpoint=parse_failpoint(failpoint if failpoint is not None
                                                  else os.environ.get("MAILWIZ_FAILPOINT")))


def interrupted_runs(root) -> List[str]:
    """Runs that neither ended nor were rolled back (a kill, a lost SSH session)."""
    from installer.journal import is_locked
    if is_locked(root):
        return []
    return [r for r in list_runs(root) if Run.open(root, r).status() == "interrupted"]
