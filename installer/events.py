"""What the engine tells the faces while a run goes on: one small class per event.

The journal keeps every event as a JSON line (``installer/journal.py``, its
form unchanged); the engine's ``events`` callback gets the same event as one
of these classes, made from that journal entry, so that the CLI and the TUI
read ``event.step`` rather than ``entry.get("step")``.  ``event.entry`` is
the journal entry itself, for rendering it as a log line
(``journal.render_entry``).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Dict, Optional


@dataclass(frozen=True)
class Event:
    """An event of a kind no class below names (kept whole in ``entry``)."""

    KIND: ClassVar[str] = ""
    entry: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    seq: int = -1

    @property
    def kind(self) -> str:
        return self.entry.get("event", self.KIND)

    @property
    def time(self) -> str:
        """When it was journaled (ISO 8601, UTC)."""
        return self.entry.get("t", "")


@dataclass(frozen=True)
class RunStart(Event):
    KIND = "run-start"
    run: str = ""
    profile: str = ""
    sandbox: bool = False
    lang: str = ""
    actions: int = 0


@dataclass(frozen=True)
class StepStart(Event):
    KIND = "step"
    step: str = ""
    title: Optional[dict] = None       # Msg.to_json()


@dataclass(frozen=True)
class Begin(Event):
    """An action begins (its undo record is journaled first)."""

    KIND = "begin"
    index: int = 0
    step: str = ""
    action_kind: str = ""               # the journal's "kind"
    desc: Optional[dict] = None


@dataclass(frozen=True)
class Done(Event):
    KIND = "done"
    step: str = ""


@dataclass(frozen=True)
class Command(Event):
    KIND = "command"
    command: str = ""


@dataclass(frozen=True)
class Output(Event):
    KIND = "output"
    line: str = ""


@dataclass(frozen=True)
class Note(Event):
    KIND = "note"
    message: Optional[dict] = None


@dataclass(frozen=True)
class Failed(Event):
    KIND = "failed"
    step: str = ""
    error: Optional[dict] = None


@dataclass(frozen=True)
class Check(Event):
    KIND = "check"
    id: str = ""
    result: str = ""                    # pass | fail | skip
    title: Optional[dict] = None
    detail: Optional[dict] = None


@dataclass(frozen=True)
class AccountsAdded(Event):
    """The system users and groups a package install added (its undo deletes them)."""
    KIND = "accounts-added"
    users: Optional[list] = None
    groups: Optional[list] = None


@dataclass(frozen=True)
class RunEnd(Event):
    KIND = "run-end"
    status: str = ""


@dataclass(frozen=True)
class RollbackStart(Event):
    KIND = "rollback-start"
    run: str = ""


@dataclass(frozen=True)
class UndoBegin(Event):
    KIND = "undo-begin"
    desc: Optional[dict] = None


@dataclass(frozen=True)
class UndoDone(Event):
    KIND = "undo-done"


@dataclass(frozen=True)
class UndoFailed(Event):
    KIND = "undo-failed"
    error: Optional[dict] = None


@dataclass(frozen=True)
class RollbackEnd(Event):
    KIND = "rollback-end"
    status: str = ""


KINDS: Dict[str, type] = {cls.KIND: cls for cls in (
    RunStart, StepStart, Begin, Done, Command, Output, Note, Failed, Check, AccountsAdded, RunEnd, RollbackStart, UndoBegin,
    UndoDone, UndoFailed, RollbackEnd)}
# Journal keys that are named otherwise here ("kind" is the event's own kind).
_RENAMED = {"action_kind": "kind"}


def from_entry(entry: Dict[str, Any]) -> Event:
    """The event a journal entry records."""
    cls = KINDS.get(entry.get("event", ""), Event)
    values = {}
    for f in fields(cls):
        if f.name == "entry":
            continue
        key = _RENAMED.get(f.name, f.name)
        if key in entry:
            values[f.name] = entry[key]
    return cls(entry=entry, **values)
