"""Runs on a target: their folders, the JSON journal, the human log, the lock.

The journal (``journal.jsonl``) is language-neutral: messages are stored as
msgid + parameters; the human log (``var/log/mailwiz/RUN.log``) is the same
events rendered in the run's language.  Every entry is flushed as it is
written; the entries that record a change of state (an action begun, done,
failed or undone, a run or rollback started or ended) are also fsync'd, which
makes the lines before them durable too: an action's ``begin`` is on disk
before the action runs.  A sandbox root (``TargetRoot.durable`` false) is
never fsync'd.
"""
from __future__ import annotations

import datetime as _dt
import errno
import fcntl
import json
import os
from typing import Dict, Iterator, List, Optional, Tuple

from installer.i18n import Msg, N_, translate

STATE_DIR = "/var/lib/mailwiz"
RUNS_DIR = STATE_DIR + "/runs"
LOG_DIR = "/var/log/mailwiz"
LOCK_PATH = STATE_DIR + "/lock"
# One line per run start and end: what `mailwiz log` lists, without reading
# every journal (see summaries()).
INDEX_PATH = STATE_DIR + "/runs.jsonl"
END_EVENTS = ("run-end", "rollback-end")
# Entries fsync'd when written (the others -- step titles, commands, their
# output, notes, checks -- become durable with the next of these).
DURABLE_EVENTS = frozenset({"run-start", "begin", "done", "failed", "undo-begin", "undo-done", "undo-failed",
                            "rollback-start"} | set(END_EVENTS))


def new_run_id() -> str:
    now = _dt.datetime.now(_dt.timezone.utc)
    return now.strftime("%Y%m%d-%H%M%S-") + f"{now.microsecond:06d}"


class Locked(Exception):
    """Another mailwiz run holds the lock on this target."""


class TargetLock:
    """An flock on ``var/lib/mailwiz/lock``: released by the kernel even after SIGKILL."""

    def __init__(self, root):
        self.root = root
        self.fd: Optional[int] = None

    def acquire(self) -> "TargetLock":
        self.root.makedirs(STATE_DIR)
        path = self.root.path(LOCK_PATH)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise Locked(str(path)) from None
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


def is_locked(root) -> bool:
    try:
        TargetLock(root).acquire().release()
        return False
    except Locked:
        return True


class Run:
    """One run's folder: journal, backups, undo pre-images, answers, meta."""

    def __init__(self, root, run_id: str):
        self.root = root
        self.id = run_id
        self.dir_target = f"{RUNS_DIR}/{run_id}"
        self.dir = root.path(self.dir_target)
        self.log_path = root.path(f"{LOG_DIR}/{run_id}.log")
        self._journal = None
        self._log = None
        self.lang = "en"

    # -- creating and opening

    @classmethod
    def create(cls, root, meta: dict) -> "Run":
        run = cls(root, new_run_id())
        root.makedirs(run.dir_target, mode=0o700)
        root.makedirs(LOG_DIR, mode=0o750)
        for sub in ("backups", "undo"):
            run.dir.joinpath(sub).mkdir(mode=0o700, exist_ok=True)
        run.lang = meta.get("lang", "en")
        run.write_json("meta.json", meta)
        run._index(meta.get("profile", "?"), "interrupted", 0)
        return run

    @classmethod
    def open(cls, root, run_id: str) -> "Run":
        run = cls(root, run_id)
        if not run.dir.is_dir():
            raise FileNotFoundError(run_id)
        run.lang = run.meta().get("lang", "en")
        return run

    def meta(self) -> dict:
        try:
            return json.loads(self.dir.joinpath("meta.json").read_text())
        except (OSError, ValueError):
            return {}

    def write_json(self, name: str, data) -> None:
        path = self.dir / name
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        os.replace(tmp, path)

    def write_text(self, name: str, text: str, mode: int = 0o600) -> None:
        path = self.dir / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)

    # -- the journal

    def append(self, event: str, **data) -> dict:
        entry = {"t": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds"), "event": event}
        for key, value in data.items():
            entry[key] = value.to_json() if isinstance(value, Msg) else value
        if self._journal is None:
            self._journal = open(self.dir / "journal.jsonl", "a", encoding="utf-8")
            self._log = open(self.log_path, "a", encoding="utf-8")
        self._journal.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
        self._journal.flush()
        if event in DURABLE_EVENTS:
            self.root.sync(self._journal.fileno())
        line = render_entry(entry, self.lang)
        if line is not None:
            self._log.write(line + "\n")
            self._log.flush()
        if event in END_EVENTS:
            self._index(self.meta().get("profile", "?"), entry["status"], os.fstat(self._journal.fileno()).st_size)
        return entry

    def _index(self, profile: str, status: str, journal_size: int) -> None:
        """Record the run's status in the index, with the journal's size it was read from."""
        line = json.dumps({"run": self.id, "profile": profile, "status": status, "size": journal_size})
        with open(self.root.path(INDEX_PATH), "a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    def close(self) -> None:
        for handle in (self._journal, self._log):
            if handle is not None:
                handle.close()
        self._journal = self._log = None

    def entries(self) -> List[dict]:
        path = self.dir / "journal.jsonl"
        out = []
        try:
            with open(path, encoding="utf-8") as handle:
                for line in handle:
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        break   # a torn last line after a kill
        except FileNotFoundError:
            pass
        return out

    def status(self) -> str:
        """ok | failed | rolled-back | interrupted | running"""
        entries = self.entries()
        ends = [e for e in entries if e["event"] in ("run-end", "rollback-end")]
        if ends:
            return ends[-1]["status"]
        return "interrupted"

    def next_seq(self) -> int:
        seqs = [e["seq"] for e in self.entries() if e["event"] == "begin"]
        return max(seqs) + 1 if seqs else 0


def list_runs(root) -> List[str]:
    folder = root.path(RUNS_DIR)
    try:
        return sorted(p.name for p in folder.iterdir() if p.is_dir())
    except FileNotFoundError:
        return []


def summaries(root) -> List[Tuple[str, str, str]]:
    """(run id, profile, status) of every run, oldest first.

    From the index where its line was written at the journal's present size
    (one stat per run); else, for a run killed between its journal and the
    index, or made by a mailwiz without the index, from the run's own files.
    """
    index: Dict[str, dict] = {}
    try:
        with open(root.path(INDEX_PATH), encoding="utf-8") as handle:
            for line in handle:
                try:
                    item = json.loads(line)
                except ValueError:
                    continue      # a torn last line after a kill
                index[item["run"]] = item
    except FileNotFoundError:
        pass
    out = []
    for run_id in list_runs(root):
        item = index.get(run_id)
        try:
            size = root.path(f"{RUNS_DIR}/{run_id}/journal.jsonl").stat().st_size
        except FileNotFoundError:
            size = 0
        if item is not None and item.get("size") == size:
            out.append((run_id, item["profile"], item["status"]))
        else:
            run = Run.open(root, run_id)
            out.append((run_id, run.meta().get("profile", "?"), run.status()))
    return out


def last_run(root) -> Optional[str]:
    runs = list_runs(root)
    return runs[-1] if runs else None


# -- rendering for people ------------------------------------------------------

_EVENT_TEXT: Dict[str, str] = {
    "run-start": N_("Run {run} started ({mode}, profile {profile})"),
    "step": N_("== {title}"),
    "begin": N_("-> {desc}"),
    "done": N_("   done"),
    "failed": N_("!! failed: {error}"),
    "undo-begin": N_("<- undo: {desc}"),
    "undo-done": N_("   undone"),
    "undo-failed": N_("!! undo failed: {error}"),
    "note": N_("   {message}"),
    "check": N_("[{result}] {title}: {detail}"),
    "run-end": N_("Run ended: {status}"),
    "rollback-start": N_("Rolling back run {run}"),
    "rollback-end": N_("Rollback ended: {status}"),
}


def _value(value, lang):
    if isinstance(value, dict) and "msgid" in value:
        return Msg.from_json(value).render(lang)
    return value


def render_entry(entry: dict, lang: str) -> Optional[str]:
    """One journal entry as a line of the human log, in *lang*."""
    event = entry.get("event")
    if event == "output":
        return "   | " + entry.get("line", "")
    if event == "command":
        return "   $ " + entry.get("command", "")
    template = _EVENT_TEXT.get(event)
    if template is None:
        return None
    params = {k: _value(v, lang) for k, v in entry.items()}
    if event == "run-start":
        params["mode"] = translate(N_("sandbox"), lang) if entry.get("sandbox") else translate(N_("real host"), lang)
    if event in ("run-end", "rollback-end", "check") and isinstance(entry.get("status", entry.get("result")), str):
        key = "status" if "status" in entry else "result"
        params[key] = translate(STATUS_TEXT.get(entry[key], entry[key]), lang)
    try:
        return entry.get("t", "")[11:19] + " " + translate(template, lang).format(**params)
    except (KeyError, IndexError, ValueError):
        return entry.get("t", "")[11:19] + " " + template.format_map(_Missing(params))


class _Missing(dict):
    def __missing__(self, key):
        return "?"


STATUS_TEXT = {
    "ok": N_("succeeded"),
    "failed": N_("failed"),
    "rolled-back": N_("rolled back"),
    "interrupted": N_("interrupted"),
    "pass": N_("pass"),
    "fail": N_("FAIL"),
    "skip": N_("skipped"),
    "nothing": N_("nothing to do"),
}


def iter_log(run: Run, lang: str) -> Iterator[str]:
    for entry in run.entries():
        line = render_entry(entry, lang)
        if line is not None:
            yield line
