"""Runs on a target: their folders, the JSON journal, the human log, the lock.

The journal (``journal.jsonl``) is language-neutral: messages are stored as
msgid + parameters; the human log (``var/log/mailwiz/RUN.log``) is the same
events rendered in the run's language.  Every entry is flushed and fsync'd
before the action it describes runs and after it finishes.
"""
from __future__ import annotations

import datetime as _dt
import errno
import fcntl
import hashlib
import hmac
import json
import os
import re
from typing import Dict, Iterator, List, Optional

from installer.i18n import Msg, N_, translate

STATE_DIR = "/var/lib/mailwiz"
RUNS_DIR = STATE_DIR + "/runs"
LOG_DIR = "/var/log/mailwiz"
LOCK_PATH = STATE_DIR + "/lock"


def new_run_id() -> str:
    now = _dt.datetime.now(_dt.timezone.utc)
    return now.strftime("%Y%m%d-%H%M%S-") + f"{now.microsecond:06d}"


class Locked(Exception):
    """Another mailwiz run holds the lock on this target."""

    def __init__(self, path: str, pid: Optional[int] = None):
        super().__init__(path)
        self.pid = pid


def private_state(root) -> None:
    """mailwiz's state folders exist and are root's alone (0700), whatever the umask."""
    for folder in (STATE_DIR, RUNS_DIR, LOG_DIR):
        root.private_dir(folder)


class TargetLock:
    """An flock on ``var/lib/mailwiz/lock``: released by the kernel when the
    process ends, even by SIGKILL, so a lock left by a dead process is never
    in the way.  The file holds the pid of the process that took it (for the
    message); it is opened without following a link."""

    def __init__(self, root):
        self.root = root
        self.fd: Optional[int] = None

    def acquire(self) -> "TargetLock":
        self.root.private_dir(STATE_DIR)
        fd = self.root.open_file(LOCK_PATH, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            pid = _pid_in(fd)
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise Locked(str(self.root.path(LOCK_PATH)), pid) from None
            raise
        os.fchmod(fd, 0o600)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd
        return self

    @property
    def held(self) -> bool:
        return self.fd is not None

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


def _pid_in(fd: int) -> Optional[int]:
    try:
        return int(os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "x")
    except (OSError, ValueError):
        return None


def is_locked(root) -> bool:
    """Another process holds the lock (changes nothing on the target)."""
    try:
        fd = root.open_file(LOCK_PATH, os.O_RDONLY)
    except (FileNotFoundError, NotADirectoryError):
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


class JournalDamaged(Exception):
    """A run's journal or one of its backups cannot be trusted; ``message``
    says which entry or file and why."""

    def __init__(self, message: Msg):
        super().__init__(str(message))
        self.message = message


class Run:
    """One run's folder: journal, backups, undo pre-images, answers, meta.

    Every file in it is written through the target root (no link followed),
    0600 in folders of 0700."""

    def __init__(self, root, run_id: str):
        self.root = root
        if not _RUN_ID.match(run_id or ""):
            raise FileNotFoundError(run_id)
        self.id = run_id
        self.dir_target = f"{RUNS_DIR}/{run_id}"
        self.dir = root.path(self.dir_target)
        self.log_target = f"{LOG_DIR}/{run_id}.log"
        self.log_path = root.path(self.log_target)
        self._journal = None
        self._log = None
        self._key: Optional[bytes] = None
        self.lang = "en"

    # -- creating and opening

    @classmethod
    def create(cls, root, meta: dict, files: Optional[Dict[str, str]] = None, **start) -> "Run":
        """A new run whose journal starts with its ``run-start`` entry (*start*).
        It is made under a name no one lists and renamed into place whole, so a
        kill while it is made leaves no run with a missing or empty journal."""
        run = cls(root, new_run_id())
        final = run.dir_target
        private_state(root)
        run.dir_target = f"{RUNS_DIR}/.{run.id}.new"
        root.remove_tree(run.dir_target)
        root.private_dir(run.dir_target)
        for sub in ("backups", "undo"):
            root.private_dir(f"{run.dir_target}/{sub}")
        run.lang = meta.get("lang", "en")
        run.write_json("meta.json", meta)
        run.write_bytes("fingerprint.key", os.urandom(32))
        for name, text in (files or {}).items():
            run.write_text(name, text)
        run.append("run-start", run=run.id, **start)
        root.rename(run.dir_target, final)
        run.dir_target = final
        return run

    @classmethod
    def open(cls, root, run_id: str) -> "Run":
        run = cls(root, run_id)
        if not root.is_dir(run.dir_target):
            raise FileNotFoundError(run_id)
        run.lang = run.meta().get("lang", "en")
        return run

    def target(self, name: str) -> str:
        """The target path of *name* inside the run's folder."""
        return f"{self.dir_target}/{name}"

    def read_bytes(self, name: str) -> Optional[bytes]:
        return self.root.read_bytes(self.target(name))

    def meta(self) -> dict:
        try:
            data = json.loads(self.read_bytes("meta.json") or b"")
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def write_bytes(self, name: str, data: bytes) -> None:
        """A file of the run, written atomically, 0600 (folders made 0700)."""
        folder = os.path.dirname(self.target(name))
        if not self.root.exists(folder):
            self.root.makedirs(folder, mode=0o700)
        self.root.write_atomic(self.target(name), data, mode=0o600)

    def write_json(self, name: str, data) -> None:
        self.write_bytes(name, (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode())

    def write_text(self, name: str, text: str, mode: int = 0o600) -> None:
        self.write_bytes(name, text.encode("utf-8"))

    def fingerprint(self, data: Optional[bytes]) -> Optional[str]:
        """A keyed digest of a file's content (None: no file): tells whether a file
        changed, without putting even a hash of a secret where a key is not."""
        if data is None:
            return None
        if self._key is None:
            self._key = self.read_bytes("fingerprint.key") or b""
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()

    # -- the journal

    def _open_append(self, target: str):
        fd = self.root.open_file(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return os.fdopen(fd, "a", encoding="utf-8")

    def append(self, event: str, **data) -> dict:
        entry = {"t": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds"), "event": event}
        for key, value in data.items():
            entry[key] = value.to_json() if isinstance(value, Msg) else value
        if self._journal is None:
            self._journal = self._open_append(self.target("journal.jsonl"))
            self._log = self._open_append(self.log_target)
        self._journal.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
        self._journal.flush()
        os.fsync(self._journal.fileno())
        line = render_entry(entry, self.lang)
        if line is not None:
            self._log.write(line + "\n")
            self._log.flush()
        return entry

    def close(self) -> None:
        for handle in (self._journal, self._log):
            if handle is not None:
                try:
                    handle.close()
                except OSError:
                    pass
        self._journal = self._log = None

    def entries(self) -> List[dict]:
        """The journal as far as it can be read (for display and status); see
        :meth:`verified_entries` for what rollback and resume rely on."""
        try:
            data = self.read_bytes("journal.jsonl") or b""
        except OSError:
            return []
        out = []
        for line in data.splitlines():
            try:
                entry = json.loads(line.decode("utf-8"))
            except ValueError:
                continue
            if isinstance(entry, dict) and isinstance(entry.get("event"), str):
                out.append(entry)
        return out

    def verified_entries(self) -> List[dict]:
        """The journal, every line checked; raises :class:`JournalDamaged`
        naming the line.  Only a last line cut short by a kill (no newline at
        its end) is left out: it was written before its action ran."""
        try:
            data = self.read_bytes("journal.jsonl")
        except OSError as exc:
            raise JournalDamaged(Msg(N_("The journal of run {run} cannot be read: {error}"),
                                     run=self.id, error=_os_error(exc))) from None
        if data is None:
            raise JournalDamaged(Msg(N_("The journal of run {run} is missing."), run=self.id))
        if not data.strip():
            raise JournalDamaged(Msg(N_("The journal of run {run} is empty."), run=self.id))
        lines = data.split(b"\n")
        torn = lines.pop()          # after the last newline: "" unless cut short
        entries = []
        for number, line in enumerate(lines, 1):
            problem = None
            try:
                entry = json.loads(line.decode("utf-8"))
            except UnicodeDecodeError:
                problem = Msg(N_("it is not UTF-8 text"))
            except ValueError:
                problem = Msg(N_("it is not JSON"))
            else:
                problem = check_entry(entry)
            if problem is not None:
                raise JournalDamaged(Msg(N_("The journal of run {run} is damaged at line {line}: {problem}"),
                                         run=self.id, line=number, problem=problem))
            entries.append(entry)
        if torn.strip():
            try:
                entries.append(json.loads(torn.decode("utf-8")))
                if check_entry(entries[-1]) is not None:
                    entries.pop()
            except ValueError:
                pass
        if not entries or entries[0].get("event") != "run-start":
            raise JournalDamaged(Msg(N_("The journal of run {run} is damaged at line {line}: {problem}"),
                                     run=self.id, line=1, problem=Msg(N_("it does not start with the run's start"))))
        begun = set()
        for number, entry in enumerate(entries, 1):
            if entry["event"] == "begin":
                if entry["seq"] in begun:
                    raise JournalDamaged(Msg(N_("The journal of run {run} is damaged at line {line}: {problem}"),
                                             run=self.id, line=number,
                                             problem=Msg(N_("action {seq} begins twice"), seq=entry["seq"])))
                begun.add(entry["seq"])
            elif entry["event"] in ("done", "undo-begin", "undo-done") and entry["seq"] not in begun:
                raise JournalDamaged(Msg(N_("The journal of run {run} is damaged at line {line}: {problem}"),
                                         run=self.id, line=number,
                                         problem=Msg(N_("action {seq} never began"), seq=entry["seq"])))
        return entries

    def status(self) -> str:
        """ok | failed | rolled-back | interrupted"""
        ends = [e for e in self.entries() if e["event"] in ("run-end", "rollback-end")]
        if ends and isinstance(ends[-1].get("status"), str):
            return ends[-1]["status"]
        return "interrupted"

    def next_seq(self) -> int:
        seqs = [e["seq"] for e in self.entries() if e["event"] == "begin" and isinstance(e.get("seq"), int)]
        return max(seqs) + 1 if seqs else 0


_RUN_ID = re.compile(r"\A[0-9]{8}-[0-9]{6}-[0-9]{6}\Z")


def _os_error(exc: OSError):
    return getattr(exc, "message", None) or exc.strerror or str(exc)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# What each event needs to be usable (the rest is for people).
_ENTRY_KEYS = {
    "begin": {"seq": _is_int, "kind": lambda v: isinstance(v, str), "undo": lambda v: isinstance(v, dict),
              "desc": lambda v: isinstance(v, (dict, str))},
    "done": {"seq": _is_int},
    "undo-begin": {"seq": _is_int},
    "undo-done": {"seq": _is_int},
    "run-end": {"status": lambda v: isinstance(v, str)},
    "rollback-end": {"status": lambda v: isinstance(v, str)},
    "after-rollback": {"commands": lambda v: isinstance(v, list) and all(
        isinstance(c, list) and c and all(isinstance(a, str) for a in c) for c in v)},
}


def check_entry(entry) -> Optional[Msg]:
    """What is wrong with one journal entry, or None."""
    if not isinstance(entry, dict) or not isinstance(entry.get("event"), str):
        return Msg(N_("it is not a journal entry"))
    for key, valid in _ENTRY_KEYS.get(entry["event"], {}).items():
        if key not in entry or not valid(entry[key]):
            return Msg(N_("{event} entry without a valid {key}"), event=entry["event"], key=key)
    if entry["event"] == "begin":
        from installer import actions
        cls = actions.KINDS.get(entry["kind"])
        if cls is None:
            return Msg(N_("unknown action kind {kind}"), kind=entry["kind"])
        problem = cls.check_record(entry["undo"])
        if problem:
            return Msg(N_("action {seq}: {problem}"), seq=entry["seq"], problem=problem)
    return None


def list_runs(root) -> List[str]:
    return [name for name in root.listdir(RUNS_DIR) if _RUN_ID.match(name) and root.is_dir(f"{RUNS_DIR}/{name}")]


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
    "rollback-failed": N_("rollback did not finish"),
}


def iter_log(run: Run, lang: str) -> Iterator[str]:
    for entry in run.entries():
        line = render_entry(entry, lang)
        if line is not None:
            yield line
