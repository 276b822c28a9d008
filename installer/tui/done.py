"""Page 12: how it ended: self-test results, where the log, backups and saved
answers are, and the line that replays this setup."""
from __future__ import annotations

from textual.widgets import Static

from installer.i18n import Msg, N_, _
from installer.tui.base import Page
from installer.tui.model import check_lines, status_text


class DonePage(Page):
    TITLE_MSG = N_("Done")
    NEXT_MSG = N_("Finish")
    AUTO_FOCUS = "#next"          # Enter finishes, as the hint says

    def __init__(self, state, number=0, total=0, **kwargs):
        super().__init__(state, number, total, first=True)

    def hints(self) -> str:
        return _("F2 language · Enter finish")

    def body(self):
        state = self.state
        result = state.result
        if state.run_error:
            yield Static(state.run_error, classes="warning")
        if result is not None:
            status = result.status
            if state.rollback_result is not None:
                status = "rolled-back" if state.rollback_result.status == "rolled-back" else "failed"
            yield Static(Msg(N_("Run {run}: {status}"), run=result.run_id, status=status_text(status)).render(),
                         classes="notice" if status in ("ok", "nothing") else "warning")
            if result.error is not None:
                yield Static(Msg(N_("Step {step} failed: {error}"), step=result.failed_step,
                                 error=str(result.error)).render(), classes="warning")
            if status == "failed":
                yield Static(_("The target was left as it is. `mailwiz rollback` undoes the run later."),
                             classes="warning")
        elif state.rollback_result is not None:
            yield Static(Msg(N_("Run {run}: {status}"), run=state.rollback_result.run_id,
                             status=status_text(state.rollback_result.status)).render(), classes="notice")
        checks = check_lines(result.checks) if result is not None else []
        yield Static(_("Self-test"), classes="section")
        if checks:
            yield Static("\n".join(checks), markup=False)
        elif state.sandbox:
            yield Static(_("Not run in the sandbox: nothing is really running to test."), classes="field-help")
        else:
            yield Static(_("Not run."), classes="field-help")
        paths = state.run_paths() if result is not None else {}
        if paths:
            yield Static(_("Where things are"), classes="section")
            for label, key in ((_("Step log"), "log"), (_("Backups"), "backups"),
                               (_("Answers of this run"), "answers")):
                yield Static(Msg(N_("{label}: {value}"), label=label, value=paths[key]).render(), markup=False)
        if state.replay_written:
            yield Static(Msg(N_("{label}: {value}"), label=_("Answers for replay"),
                             value=state.replay_written_display()).render(), markup=False)
            yield Static(_("To set up another host the same way:"), classes="section")
            yield Static(state.replay_command(), classes="command", markup=False)
        # Last: the run's own results and paths stay on the first screen.
        records = state.dns_records() if result is not None else ""
        if records:
            yield Static(_("DNS records to publish"), classes="section")
            yield Static(_("`mailwiz dns` prints them again; `mailwiz verify` checks what is published."),
                         classes="field-help")
            yield Static(records, id="dns-records", classes="command", markup=False)

    def action_next(self) -> None:
        self.dismiss("finish")
