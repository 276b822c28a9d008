"""Modal questions: quit?, apply?, an interrupted run found, a step failed."""
from __future__ import annotations

from typing import List, Sequence, Tuple

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from installer.i18n import Msg, N_, _


class Choice(ModalScreen[str]):
    """A question with a few answers (buttons); Esc answers *cancel*."""

    BINDINGS = [Binding("escape", "cancel", show=False)]

    def __init__(self, question: str, choices: Sequence[Tuple[str, str]], *, cancel: str = "",
                 detail: str = "", dialog_id: str = "choice"):
        super().__init__(id=dialog_id)
        self.question = question
        self.choices: List[Tuple[str, str]] = list(choices)
        self.cancel = cancel
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.question, id="question")
            if self.detail:
                yield Static(self.detail, id="detail")
            with Horizontal(id="answers"):
                for index, (value, label) in enumerate(self.choices):
                    yield Button(label, id="answer-" + value, compact=True,
                                 variant="primary" if index == 0 else "default")

    def on_mount(self) -> None:
        self.query_one(Button).focus()

    @on(Button.Pressed)
    def _answered(self, event: Button.Pressed) -> None:
        self.dismiss((event.button.id or "").replace("answer-", "", 1))

    def action_cancel(self) -> None:
        if self.cancel:
            self.dismiss(self.cancel)


def quit_dialog(before_apply: bool) -> Choice:
    detail = _("Nothing on the target has been changed.") if before_apply else ""
    return Choice(_("Leave the wizard?"), [("stay", _("Stay")), ("quit", _("Quit"))],
                  cancel="stay", detail=detail, dialog_id="quit-dialog")


def apply_dialog(where: str) -> Choice:
    return Choice(_("Apply these changes now?"), [("no", _("Not yet")), ("apply", _("Apply"))],
                  cancel="no", detail=where, dialog_id="apply-dialog")


def interrupted_dialog(run_id: str) -> Choice:
    return Choice(_("A previous run on this target was interrupted before it finished."),
                  [("resume", _("Resume it")), ("rollback", _("Roll it back")), ("new", _("Start a new setup"))],
                  cancel="new", detail=Msg(N_("Run: {run}"), run=run_id).render(), dialog_id="interrupted-dialog")
