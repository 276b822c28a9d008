"""The frame every wizard page shares: a title line, a scrolling body, and a
navigation line (Back, key hints, Next).

Pages are composed entirely from the :class:`~installer.tui.model.WizardState`
and ``_()`` at compose time, so switching the language is a ``recompose()``.
"""
from __future__ import annotations

from typing import ClassVar, Dict, Iterable, Tuple

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Static

from installer.i18n import Msg, N_, _
from installer.tui.model import WizardState, under

BACK = "back"
NEXT = "next"


class Page(Screen):
    """One page of the wizard; ends with ``dismiss(NEXT)`` or ``dismiss(BACK)``."""

    PAGE: ClassVar[str] = ""
    TITLE_MSG: ClassVar[str] = ""
    NEXT_MSG: ClassVar[str] = N_("Next")
    BINDINGS = [
        Binding("escape", "back", show=False),
        Binding("ctrl+n", "next", show=False, priority=True),
    ]

    def __init__(self, state: WizardState, number: int = 0, total: int = 0, *, first: bool = False):
        super().__init__()
        self.state = state
        self.number = number
        self.total = total
        self.first = first
        # input id -> answer key path, for marking errors at the field
        self.fields: Dict[str, str] = {}
        # input id -> (its Input, its error line), kept from compose: a keystroke
        # then marks the fields without searching the screen for them
        self.field_widgets: Dict[str, Tuple[Input, Static]] = {}

    # -- composition -------------------------------------------------------------

    def compose(self) -> ComposeResult:
        mode = _("sandbox") if self.state.sandbox else _("real host")
        yield Static(Msg(N_("{n}/{total}  {title}"), n=self.number, total=self.total,
                         title=_(self.TITLE_MSG)).render(), id="page-title")
        yield Static(f"{self.state.profile.id} · {mode}", id="page-mode")
        with VerticalScroll(id="body"):
            yield from self.body()
        with Horizontal(id="nav"):
            back = Button(_("Back"), id="back", compact=True, disabled=self.first)
            back.display = not (self.first and self.number > 1)   # no way back after Apply
            yield back
            yield Static(self.hints(), id="hint")
            yield Button(_(self.NEXT_MSG), id="next", variant="primary", compact=True)

    def body(self) -> Iterable[Widget]:
        return []

    def hints(self) -> str:
        return _("Esc back · Ctrl+N next · F2 language · Ctrl+Q quit")

    def field(self, key: str, label: str, value: str, *, help: str = "", password: bool = False,
              placeholder: str = "") -> Iterable[Widget]:
        """A labelled input bound to an answer key, with its error line below."""
        widget_id = "f-" + key.replace(".", "-").replace("_", "-")
        self.fields[widget_id] = key
        box = Input(value=value, id=widget_id, password=password, placeholder=placeholder, classes="field-input")
        error_line = Static("", id="err-" + widget_id, classes="field-error")
        self.field_widgets[widget_id] = (box, error_line)
        yield Label(label, classes="field-label")
        yield box
        if help:
            yield Static(help, classes="field-help")
        yield error_line

    # -- validation --------------------------------------------------------------

    def on_mount(self) -> None:
        self.revalidate()

    def revalidate(self) -> None:
        """Mark each field with its errors; Next only while the page is valid.

        Runs on every keystroke: the answers are validated once, and only a
        field whose errors changed is redrawn."""
        errors = self.state.errors() if self.PAGE else []
        for widget_id, key in self.fields.items():
            texts = "\n".join(text for path, text in errors if under(path, key))
            box, error_line = self.field_widgets[widget_id]
            if getattr(error_line, "shown_text", None) != texts:
                error_line.shown_text = texts
                error_line.update(texts)
                error_line.display = bool(texts)
            box.set_class(bool(texts), "-invalid-answer")
        self.errors_now = self.last_errors = errors
        try:
            self.query_one("#next", Button).disabled = not self.can_go_next()
        finally:
            self.errors_now = None

    errors_now = None     # the errors revalidate() just computed, while it runs
    last_errors = None    # and after it ran (for pages that mark more than fields)

    def can_go_next(self) -> bool:
        return self.state.page_valid(self.PAGE, self.errors_now) if self.PAGE else True

    def set_answer(self, key: str, text: str) -> None:
        """Store typed text into the answers; pages override for typed values."""

    @on(Input.Submitted)
    def _input_submitted(self) -> None:
        """Enter in a field goes on, as in a form (only while the page is valid)."""
        self.action_next()

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        key = self.fields.get(event.input.id or "")
        if key is None:
            return
        self.state.raw[key] = event.value
        self.set_answer(key, event.value)
        self.revalidate()

    # -- navigation --------------------------------------------------------------

    def commit(self) -> None:
        """Hook run before going forward."""

    @on(Button.Pressed, "#next")
    def _next_pressed(self) -> None:
        self.action_next()

    @on(Button.Pressed, "#back")
    def _back_pressed(self) -> None:
        self.action_back()

    def action_next(self) -> None:
        if self.can_go_next():
            self.commit()
            self.dismiss(NEXT)
        else:
            self.app.bell()

    def action_back(self) -> None:
        if not self.first:
            self.dismiss(BACK)

