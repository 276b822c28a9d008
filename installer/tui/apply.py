"""Page 11: the run: each step's status, a progress bar, the streamed output,
the elapsed time.  The engine runs in a thread worker that only posts
messages; bursts of journal entries are coalesced into one message.

On failure the run was left as it is (``no_rollback=True``) and the user
chooses: roll back, retry (resume the same run from the failed action), or
leave it as it is.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Dict, List, Optional

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, ProgressBar, RichLog, Static

from installer import events, i18n
from installer.i18n import Msg, N_, _
from installer.journal import render_entry
from installer.tui.base import NEXT, Page

ICONS = {"waiting": "·", "running": "▶", "done": "✓", "failed": "✗", "undone": "↺"}
EXCERPT_LINES = 6


def entry_line(entry: dict) -> Optional[str]:
    """A journal entry for the output pane: as in the log, without the clock
    (the page shows the elapsed time)."""
    line = render_entry(entry, i18n.get_language())
    if line is None:
        return None
    clock = entry.get("t", "")[11:19]
    return line[len(clock) + 1:] if clock and line.startswith(clock + " ") else line


class ApplyPage(Page):
    TITLE_MSG = N_("Apply")
    clock = staticmethod(time.monotonic)     # replaced in snapshot tests for a steady picture
    NEXT_MSG = N_("Next")

    @dataclass
    class Entries(Message):
        """Journal entries that arrived since the last such message."""

    @dataclass
    class Finished(Message):
        result: object
        error: str = ""

    def __init__(self, state, number=0, total=0, *, mode: str = "apply", run_id: str = "", **kwargs):
        super().__init__(state, number, total, first=True)
        self.mode = mode                 # apply | resume | rollback
        self.run_id = run_id
        plan = state.plan
        # The step list of the plan being applied; a retry or rollback keeps showing it.
        self.steps = [(step.name, step.title) for step in plan.steps] if (mode == "apply" and plan) else []
        self.action_count = len(plan.actions) if (mode == "apply" and plan) else 1
        self.step_state: Dict[str, str] = {}
        self.lines: List[str] = []       # everything shown in the output pane, for recompose
        self.done_actions = 0
        self.started = self.clock()
        self.finished_at: Optional[float] = None
        self.running = False
        self.failure: Optional[object] = None
        self._lock = threading.Lock()
        self._pending: List[events.Event] = []
        self._posted = False

    # -- layout --------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        mode = _("sandbox") if self.state.sandbox else _("real host")
        yield Static(Msg(N_("{n}/{total}  {title}"), n=self.number, total=self.total,
                         title=_(self.TITLE_MSG)).render(), id="page-title")
        yield Static(f"{self.state.profile.id} · {mode}", id="page-mode")
        with Horizontal(id="run"):
            with VerticalScroll(id="steps"):
                for name, title in self.step_titles():
                    yield Static(self.step_text(name, title), id="step-" + name, classes="step")
            log = RichLog(id="output", wrap=True, markup=False, highlight=False, max_lines=2000)
            yield log
        with Horizontal(id="progress-row"):
            yield ProgressBar(total=max(1, self.total_actions()), show_eta=False, id="progress")
            yield Static(self.elapsed_text(), id="elapsed")
        yield Static(self.status_text(), id="status")
        with Horizontal(id="failure", classes="hidden" if self.failure is None else ""):
            yield Button(_("Roll back"), id="do-rollback", compact=True, variant="warning")
            yield Button(_("Retry the step"), id="do-retry", compact=True)
            yield Button(_("Leave as is"), id="do-leave", compact=True)
        with Horizontal(id="nav"):
            yield Static(self.hints(), id="hint")
            yield Button(_(self.NEXT_MSG), id="next", variant="primary", compact=True)

    def hints(self) -> str:
        return _("F2 language · Ctrl+Q quit (after the run)")

    def step_titles(self):
        return self.steps

    def total_actions(self) -> int:
        return self.action_count

    def step_text(self, name: str, title: str) -> str:
        return ICONS[self.step_state.get(name, "waiting")] + " " + _(title)

    def elapsed_text(self) -> str:
        end = self.finished_at if self.finished_at is not None else self.clock()
        seconds = int(end - self.started)
        return f"{seconds // 60}:{seconds % 60:02d}"

    def status_text(self) -> str:
        if self.failure is not None:
            result = self.failure
            return Msg(N_("Step {step} failed: {error}. Choose what to do:"), step=result.failed_step,
                       error=str(result.error)).render()
        if self.running:
            return {"apply": _("Applying…"), "resume": _("Resuming the interrupted run…"),
                    "rollback": _("Rolling back…")}[self.mode]
        if self.finished_at is not None:
            return _("Finished. Next shows the results.")
        return ""

    def on_mount(self) -> None:
        log = self.query_one("#output", RichLog)
        for line in self.lines:
            log.write(line)
        self.query_one("#progress", ProgressBar).progress = self.done_actions
        self.query_one("#next", Button).disabled = self.running or self.failure is not None
        self.set_interval(1.0, self._tick)
        if not self.running and self.finished_at is None and self.failure is None and not self._started_once:
            self._started_once = True
            self.start(self.mode)

    _started_once = False

    def _tick(self) -> None:
        if self.finished_at is None:
            self.query_one("#elapsed", Static).update(self.elapsed_text())

    def can_go_next(self) -> bool:
        return not self.running and self.failure is None and self.finished_at is not None

    def revalidate(self) -> None:
        for button in self.query("#next"):
            button.disabled = not self.can_go_next()

    # -- running -------------------------------------------------------------------

    def start(self, mode: str) -> None:
        self.running = True
        self.app.run_in_progress = True
        self.query_one("#status", Static).update(self.status_text())
        self.revalidate()
        self.run_engine(mode)

    def _events(self, event) -> None:
        """Called in the worker thread for every event of the run (installer/events.py)."""
        with self._lock:
            self._pending.append(event)
            if self._posted:
                return
            self._posted = True
        self.post_message(self.Entries())

    @work(thread=True, exclusive=True, group="engine")
    def run_engine(self, mode: str) -> None:
        """Runs in a thread: calls the engine, posts messages, touches no widget."""
        from installer import engine
        state = self.state
        target = state.target
        try:
            if mode == "apply":
                result = engine.apply(state.plan, root=target.root, runner=target.runner,
                                      answers_yaml=state.answers_yaml(), lang=i18n.get_language(),
                                      sandbox=state.sandbox, events=self._events, no_rollback=True,
                                      verify=state.verifier(state.plan), failpoint=state.failpoint)
            elif mode == "rollback":
                result = engine.rollback(target.root, target.runner, state.profile, self.run_id,
                                         events=self._events)
            else:   # resume (an interrupted run) or retry (the failed one): same journal, fresh plan
                plan = state.plan_for_run(self.run_id)
                result = engine.resume(plan, root=target.root, runner=target.runner, run_id=self.run_id,
                                       events=self._events, no_rollback=True, verify=state.verifier(plan),
                                       failpoint="")
        except Exception as exc:   # shown on the page: a traceback would vanish with the terminal
            from installer.journal import JournalDamaged, Locked
            from installer.root import TargetRefused
            if isinstance(exc, Locked):
                text = _("Another mailwiz run holds the lock on this target.")
            elif isinstance(exc, engine.StalePlan):
                text = Msg(N_("The target changed after this plan was made ({paths}); go back to the review "
                              "page for a new plan."), paths=", ".join(exc.paths)).render()
            elif isinstance(exc, (TargetRefused, JournalDamaged)):
                text = str(exc.message)
            else:
                text = f"{type(exc).__name__}: {exc}"
            self.post_message(self.Finished(None, text))
            return
        self.post_message(self.Finished(result))

    @on(Entries)
    def _entries(self, message: Entries) -> None:
        with self._lock:
            entries, self._pending = self._pending, []
            self._posted = False
        log = self.query_one("#output", RichLog)
        for event in entries:
            self._track(event)
            line = entry_line(event.entry)
            if line is not None:
                self.lines.append(line)
                log.write(line)
        self.query_one("#progress", ProgressBar).progress = self.done_actions

    def _track(self, event) -> None:
        step = getattr(event, "step", None)
        if isinstance(event, events.RunStart) and event.run:
            self.run_id = event.run
        if isinstance(event, events.Begin) and step:
            self._set_step(step, "running")
        elif isinstance(event, events.Done):
            self.done_actions += 1
        elif isinstance(event, events.Failed) and step:
            self._set_step(step, "failed")
        elif isinstance(event, events.UndoDone):
            for name, value in list(self.step_state.items()):
                if value in ("done", "running", "failed"):
                    self._set_step(name, "undone")
        if isinstance(event, (events.Begin, events.RunEnd)):
            # a step is done once the next one begins or the run ends
            for name, value in list(self.step_state.items()):
                if value == "running" and name != step:
                    self._set_step(name, "done")
            if isinstance(event, events.RunEnd) and event.status == "ok":
                for name, value in list(self.step_state.items()):
                    if value == "running":
                        self._set_step(name, "done")

    def _set_step(self, name: str, value: str) -> None:
        self.step_state[name] = value
        title = dict(self.step_titles()).get(name)
        if title is not None:
            for box in self.query("#step-" + name):
                box.update(self.step_text(name, title))

    @on(Finished)
    def _finished(self, message: Finished) -> None:
        self.running = False
        result = message.result
        if result is None:
            self.failure = None
            self.finished_at = self.clock()
            self.state.run_error = message.error
            self.lines.append("!! " + message.error)
            self.query_one("#output", RichLog).write("!! " + message.error)
        elif self.mode == "rollback":
            self.state.rollback_result = result
            self.finished_at = self.clock()
            self.failure = None
        else:
            self.state.result = result
            self.run_id = result.run_id
            if result.status == "failed":
                self.failure = result
                self.query_one("#failure").remove_class("hidden")
                self.query_one("#do-rollback", Button).focus()
            else:
                self.failure = None
                self.finished_at = self.clock()
        self.app.run_in_progress = self.running
        self.query_one("#status", Static).update(self.status_text())
        self.query_one("#elapsed", Static).update(self.elapsed_text())
        self.revalidate()
        if self.finished_at is not None:
            self.query_one("#next", Button).focus()
        self.query_one("#output", RichLog).scroll_end(animate=False, immediate=True)
        self.app.run_finished()

    @on(Button.Pressed, "#do-rollback")
    def _rollback(self) -> None:
        self._choose("rollback")

    @on(Button.Pressed, "#do-retry")
    def _retry(self) -> None:
        self._choose("resume")

    @on(Button.Pressed, "#do-leave")
    def _leave(self) -> None:
        self.failure = None
        self.finished_at = self.clock()
        self.query_one("#failure").add_class("hidden")
        self.query_one("#status", Static).update(self.status_text())
        self.revalidate()
        self.query_one("#next", Button).focus()

    def _choose(self, mode: str) -> None:
        self.failure = None
        self.mode = mode
        self.query_one("#failure").add_class("hidden")
        self.start(mode)

    def action_next(self) -> None:
        if self.can_go_next():
            self.dismiss(NEXT)

    def action_back(self) -> None:
        """No way back once the run has begun."""
