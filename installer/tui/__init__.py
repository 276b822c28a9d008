"""The interactive wizard (Textual).  Imported only by ``run_wizard``'s caller
(``installer.cli`` when ``mailwiz`` runs without a command): the headless
commands never load textual.

If the terminal goes away during a run (SSH disconnect, SIGHUP), the run goes
on: the engine works in a thread, the journal and the log record everything,
and the wizard exits when the engine returns (see ``run_wizard``).
"""
from __future__ import annotations

import os
import signal


def run_wizard(args) -> int:
    """Start the wizard for the parsed command-line *args*; returns the exit code."""
    from installer import i18n, session
    from installer.tui.terminal import choose_language

    lang, blocked = choose_language(args.lang, i18n.get_language())
    i18n.set_language(lang)
    try:
        target = session.Target(args)
    except session.UsageError as exc:
        session.say("mailwiz: " + exc.message, err=True)
        return session.EXIT_BAD_INPUT

    from installer.tui.app import make_app
    app = make_app(target, lang=lang, japanese_blocked=blocked)
    previous = signal.getsignal(signal.SIGHUP)

    def hangup(signum, frame):
        # The terminal is gone.  Writing to it now would fail, so output goes
        # to /dev/null; a run in progress finishes (its thread is not
        # interrupted) and the app exits after it.  Before a run, quitting
        # changes nothing.
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            try:
                os.dup2(null, fd)
            except OSError:
                pass
        if app.run_in_progress:
            app.exit_after_run = True
        else:
            app.call_later(app.exit, app.exit_code() if app.applied else 0)

    signal.signal(signal.SIGHUP, hangup)
    try:
        code = app.run()
    finally:
        signal.signal(signal.SIGHUP, previous)
    return code if isinstance(code, int) else 0
