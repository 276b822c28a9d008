"""Page 10: the plan: steps, commands, a highlighted diff per file, and where
the answers will be saved.  Apply asks once more."""
from __future__ import annotations

from rich.syntax import Syntax
from textual.widgets import Static

from installer.i18n import Msg, N_, _
from installer.tui.base import Page
from installer.tui.dialogs import apply_dialog
from installer.tui.model import display_path


class ReviewPage(Page):
    PAGE = "review"
    TITLE_MSG = N_("Review")
    NEXT_MSG = N_("Apply…")

    def body(self):
        plan = self.state.plan
        if plan is None:
            yield Static(self.state.plan_error or "", classes="warning")
            return
        if plan.empty:
            yield Static(_("Nothing to do: the target already matches the answers."), classes="notice")
        else:
            yield Static(Msg(N_("Plan: {steps} steps, {actions} actions, {files} files"), steps=len(plan.steps),
                             actions=len(plan.actions), files=len(plan.diffs)).render(), classes="notice")
        yield from self.field("replay", _("Save the answers for replay in"), self.state.replay_path)
        index = 0
        for step in plan.steps:
            yield Static(_(step.title), classes="section")
            lines = []
            for action in step.actions:
                lines.append(f"[{index}] " + str(action.describe()))
                for argv in action.commands(plan.profile, plan.init):
                    lines.append("    $ " + " ".join(argv))
                index += 1
            yield Static("\n".join(lines), classes="plan-step", markup=False)
        for path, diff in plan.diffs.items():
            yield Static(path, classes="section")
            if path in plan.hidden:
                yield Static(_("Content hidden: this file holds a secret."), classes="field-help")
            elif diff:
                yield Static(Syntax(diff.rstrip("\n"), "diff", theme="ansi_dark", word_wrap=True),
                             classes="diff")

    def set_answer(self, key: str, text: str) -> None:
        self.state.replay_path = text.strip()

    def can_go_next(self) -> bool:
        return self.state.plan is not None and bool(self.state.replay_path)

    def action_next(self) -> None:
        if not self.can_go_next():
            self.app.bell()
            return
        where = Msg(N_("Target: {root}. The answers are saved to {file}."), root=self.state.root_display(),
                    file=display_path(self.state.replay_path)).render()

        def answered(choice) -> None:
            if choice == "apply":
                self.dismiss("next")

        self.app.push_screen(apply_dialog(where), answered)
