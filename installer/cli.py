"""The ``mailwiz`` command line (see docs/cli.md).

Headless commands never import textual: only the bare ``mailwiz`` (the
wizard) loads the TUI.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import List, Optional

from installer import answers, i18n, session
from installer.i18n import Msg, N_, _

from installer.session import (  # noqa: F401  (these names are the CLI's too)
    DEFAULT_SANDBOX_ROOT, EXIT_BAD_INPUT, EXIT_FAILED, EXIT_LOCKED, EXIT_OK, FALLBACK_PROFILE, Target, UsageError, say)


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def _peek_lang(argv: List[str]) -> str:
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return i18n.detect_language()


# argparse's own words, which it passes through its module-level gettext
# alias: routed to our catalogs (see _argparse_speaks_our_language).
ARGPARSE_TEXT = (
    N_("usage: "), N_("options"), N_("positional arguments"), N_("show this help message and exit"),
    N_("the following arguments are required: %s"), N_("unrecognized arguments: %s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"), N_("argument %(argument_name)s: %(message)s"),
    N_("expected one argument"), N_("ambiguous option: %(option)s could match %(matches)s"),
)


def _argparse_speaks_our_language() -> None:
    argparse._ = i18n.translate


def build_parser() -> argparse.ArgumentParser:
    _argparse_speaks_our_language()
    # Defaults are SUPPRESSed so that options given before the command are not
    # overwritten by the subcommand's defaults; fill_defaults() adds them after.
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("--root", metavar="DIR", help=_("the target's root: every file lives under DIR (default /)"))
    common.add_argument("--profile", metavar="ID", help=_("skip detection and use this platform profile"))
    common.add_argument("--sandbox", action="store_true",
                        help=_("record commands instead of running them; files go under --root"))
    common.add_argument("--lang", choices=["ja", "en"], help=_("language of messages (default: from the locale)"))
    common.add_argument("--set", dest="overrides", action="append", metavar="KEY=VALUE",
                        help=_("override one answer, e.g. postfix.hostname=mx2.example.com (repeatable)"))
    common.add_argument("--yes", action="store_true", help=_("apply without asking"))
    common.add_argument("--no-rollback", action="store_true",
                        help=_("when a step fails, leave the target as it is instead of rolling back"))

    parser = Parser(prog="mailwiz", parents=[common],
                    description=_("Set up Postfix and Dovecot safely: plan, apply, roll back."),
                    epilog=_("Without a command, mailwiz starts the interactive wizard."))
    sub = parser.add_subparsers(dest="command", metavar=_("COMMAND"), parser_class=Parser)
    p = sub.add_parser("plan", parents=[common], help=_("show what apply would do; change nothing"))
    p.add_argument("--answers", required=True, metavar="FILE", help=_("the answer file (YAML)"))
    p = sub.add_parser("apply", parents=[common], help=_("apply an answer file (headless)"))
    p.add_argument("--answers", required=True, metavar="FILE", help=_("the answer file (YAML)"))
    for name, text in (("rollback", _("undo the last run (or RUN), newest change first")),
                       ("resume", _("finish a run that was interrupted"))):
        p = sub.add_parser(name, parents=[common], help=text)
        p.add_argument("run", nargs="?", metavar="RUN", help=_("the run id (default: the newest)"))
        if name == "rollback":
            p.add_argument("--chain", action="store_true",
                           help=_("also roll back every later run that is not rolled back, newest first"))
            p.add_argument("--force", action="store_true",
                           help=_("roll back even files changed since the run, losing those changes"))
    p = sub.add_parser("log", parents=[common], help=_("a run's step log; without RUN, the list of runs"))
    p.add_argument("run", nargs="?", metavar="RUN", help=_("the run id"))
    p.add_argument("--json", action="store_true", help=_("print the JSON journal"))
    p = sub.add_parser("validate", parents=[common], help=_("check an answer file and nothing else"))
    p.add_argument("file", metavar="FILE", help=_("the answer file (YAML)"))
    sub.add_parser("schema", parents=[common], help=_("print the JSON Schema of the answer file"))
    sub.add_parser("profiles", parents=[common], help=_("list the platforms mailwiz knows"))
    p = sub.add_parser("dns", parents=[common], help=_("the DNS records the target needs, as zone-file lines"))
    p.add_argument("--answers", metavar="FILE", help=_("the answer file (default: the newest run's answers)"))
    p.add_argument("--json", action="store_true", help=_("print one JSON document"))
    p = sub.add_parser("verify", parents=[common], help=_("check the DNS records that are published"))
    p.add_argument("--answers", metavar="FILE", help=_("the answer file (default: the newest run's answers)"))
    p.add_argument("--resolver", metavar="ADDRESS[:PORT]",
                   help=_("the name server to ask (default: the system's resolver)"))
    p.add_argument("--json", action="store_true", help=_("print one JSON document"))
    return parser


COMMON_DEFAULTS = {"root": None, "profile": None, "sandbox": False, "lang": None, "overrides": None,
                   "yes": False, "no_rollback": False}


def fill_defaults(args):
    for name, value in COMMON_DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, value)
    args.overrides = args.overrides or []
    return args


def _load_answers(path: str, overrides, target: Optional["Target"], lang_given: bool = True):
    loaded = answers.load(path, overrides=overrides, profile=target.profile if target else None,
                          root=target.root if target else None)
    if not lang_given and "language" in loaded.given:
        # An answer file that names its language speaks it (messages and step
        # log), unless --lang says otherwise.
        i18n.set_language(loaded["language"])
    return loaded


# --- commands --------------------------------------------------------------------------

def cmd_profiles(args) -> int:
    from installer import profiles
    for profile in profiles.PROFILES.values():
        line = f"{profile.id:14} {profile.name}"
        if profile.note:
            line += "  (" + _(profile.note) + ")"
        say(line)
    return EXIT_OK


def cmd_schema(args) -> int:
    sys.stdout.write(answers.schema_json())
    return EXIT_OK


def cmd_validate(args) -> int:
    loaded = _load_answers(args.file, args.overrides, None)
    for warning in getattr(loaded, "warnings", []) or []:
        say(_("warning: ") + str(warning), err=True)
    say(Msg(N_("{file}: valid"), file=args.file).render())
    return EXIT_OK


def _plan_for(target, loaded, changed=()):
    return session.make_plan(target, loaded, session.secrets(loaded), changed=changed)


def print_plan(plan, root=None) -> None:
    if plan.empty:
        say(_("Nothing to do: the target already matches the answers."))
        return
    say(Msg(N_("Plan: {steps} steps, {actions} actions, {files} files"), steps=len(plan.steps),
            actions=len(plan.actions), files=len(plan.diffs)).render())
    index = 0
    for step in plan.steps:
        say("")
        say("== " + _(step.title))
        for action in step.actions:
            say(f"  [{index}] " + str(action.describe()))
            for argv in action.commands(plan.profile, plan.init):
                say("      $ " + " ".join(argv))
            index += 1
    for path, diff in plan.diffs.items():
        say("")
        if path in plan.hidden:
            say(Msg(N_("--- {path}: content hidden (it holds a secret)"), path=path).render())
        else:
            say(diff.rstrip("\n"))
    if root is not None:
        print_records(plan.answers, plan.profile, plan.facts, root)


def print_records(loaded, profile, found_facts, root) -> None:
    """The DNS records to publish, after the plan and after a run."""
    from installer import dns
    say("")
    say("== " + _("DNS records to publish (mailwiz dns prints them again; mailwiz verify checks them)"))
    say(dns.zone_text(dns.for_target(loaded, profile, found_facts, root)).rstrip("\n"))


def cmd_plan(args, target) -> int:
    loaded = _load_answers(args.answers, args.overrides, target, lang_given=bool(args.lang))
    print_plan(_plan_for(target, loaded), target.root)
    return EXIT_OK


def _confirm(args) -> bool:
    if args.yes:
        return True
    if not sys.stdin or not sys.stdin.isatty():
        raise UsageError(_("Refusing to apply without confirmation: no terminal to ask on. Use --yes."))
    reply = input(_("Apply these changes? [y/N] ")).strip().lower()
    return reply in ("y", "yes", "はい")


def _progress(event) -> None:
    from installer.events import Output
    from installer.journal import render_entry
    if isinstance(event, Output):
        return
    line = render_entry(event.entry, i18n.get_language())
    if line:
        say(line)


def _lock(target):
    """The target lock, held by this command until it ends (the plan it shows
    is the plan it runs: no other run can change the target in between)."""
    from installer.journal import TargetLock
    target.runner          # a sandbox root is seeded first
    return TargetLock(target.root).acquire()


def _locked_message(exc) -> str:
    if exc.pid:
        return Msg(N_("Another mailwiz run (process {pid}) holds the lock on this target."), pid=exc.pid).render()
    return _("Another mailwiz run holds the lock on this target.")


def cmd_apply(args, target) -> int:
    from installer import engine
    from installer.journal import Locked
    loaded = _load_answers(args.answers, args.overrides, target, lang_given=bool(args.lang))
    session.secrets(loaded)      # a missing password is bad input, before anything is seeded
    try:
        lock = _lock(target)
    except Locked as exc:
        say(_locked_message(exc), err=True)
        return EXIT_LOCKED
    try:
        plan = _plan_for(target, loaded)
        print_plan(plan, target.root)
        if plan.empty:
            return EXIT_OK
        if not _confirm(args):
            say(_("Nothing was changed."))
            return EXIT_OK
        result = engine.apply(plan, root=target.root, runner=target.runner, answers_yaml=answers.dump(loaded),
                              lang=i18n.get_language(), sandbox=target.sandbox, events=_progress,
                              no_rollback=args.no_rollback, verify=session.verifier(target, plan),
                              failpoint=args.failpoint, lock=lock)
    finally:
        lock.release()
    code = _report(result, target)
    if code == EXIT_OK and result.status == "ok":
        from installer import facts
        print_records(loaded, target.profile, facts.gather(target.profile, target.runner, target.root,
                                                           check_updates=False), target.root)
    return code


def _report(result, target) -> int:
    log = target.root.path(f"/var/log/mailwiz/{result.run_id}.log")
    if result.status in ("ok", "nothing"):
        say(Msg(N_("Done. Run {run}; log: {log}"), run=result.run_id, log=str(log)).render())
        return EXIT_OK
    say(Msg(N_("Step {step} failed: {error}"), step=result.failed_step, error=str(result.error)).render(), err=True)
    if result.status == "rolled-back":
        say(_("The run was rolled back."), err=True)
    elif result.status == "rollback-failed":
        _say_undo_errors(result)
    say(Msg(N_("Log: {log}"), log=str(log)).render(), err=True)
    return EXIT_FAILED


def _say_undo_errors(result) -> None:
    say(_("The rollback did not finish; these changes are still on the target:"), err=True)
    for problem in result.undo_errors:
        say("  " + str(problem), err=True)


def _ask(question: str) -> bool:
    if not sys.stdin or not sys.stdin.isatty():
        return False
    return input(question).strip().lower() in ("y", "yes", "はい")


def cmd_rollback(args, target) -> int:
    from installer import engine
    from installer.journal import JournalDamaged, Locked
    try:
        lock = _lock(target)
    except Locked as exc:
        say(_locked_message(exc), err=True)
        return EXIT_LOCKED
    try:
        run_id = args.run or engine.last_live_run(target.root)
        if run_id is None:
            say(_("There is no run to roll back."), err=True)
            return EXIT_BAD_INPUT
        force = getattr(args, "force", False)
        while True:
            try:
                result = engine.rollback(target.root, target.runner, target.profile, run_id, events=_progress,
                                         failpoint=args.failpoint, lock=lock, force=force,
                                         chain=getattr(args, "chain", False))
                break
            except engine.EditedSince as exc:
                say(_("These files were changed after the run; rolling back loses those changes:"), err=True)
                for changed_by, path in exc.edited:
                    say(f"  {path}", err=True)
                if not _ask(_("Roll back anyway? [y/N] ")):
                    say(_("Nothing was changed. Use --force to roll back anyway."), err=True)
                    return EXIT_BAD_INPUT
                force = True
    except FileNotFoundError:
        say(Msg(N_("No such run: {run}"), run=run_id).render(), err=True)
        return EXIT_BAD_INPUT
    except engine.NewerRuns as exc:
        say(Msg(N_("Later runs build on run {run}: {runs}. Roll them back first, or use --chain to roll back "
                   "all of them, newest first. Nothing was changed."), run=exc.run_id,
                runs=", ".join(exc.newer)).render(), err=True)
        return EXIT_BAD_INPUT
    except JournalDamaged as exc:
        say(str(exc.message), err=True)
        say(_("Nothing was rolled back: the target is as it was."), err=True)
        return EXIT_FAILED
    finally:
        lock.release()
    if result.status == "rolled-back":
        say(Msg(N_("Run {run} was rolled back."), run=run_id).render())
        return EXIT_OK
    say(Msg(N_("Rollback of run {run} did not finish cleanly; see the log."), run=result.run_id).render(), err=True)
    _say_undo_errors(result)
    return EXIT_FAILED


def cmd_resume(args, target) -> int:
    from installer import engine
    from installer.journal import JournalDamaged, Locked, Run
    try:
        lock = _lock(target)
    except Locked as exc:
        say(_locked_message(exc), err=True)
        return EXIT_LOCKED
    try:
        runs = engine.interrupted_runs(target.root, lock=lock)
        run_id = args.run or (runs[-1] if runs else None)
        if run_id is None:
            say(_("There is no interrupted run to resume."), err=True)
            return EXIT_BAD_INPUT
        try:
            run = Run.open(target.root, run_id)
        except FileNotFoundError:
            say(Msg(N_("No such run: {run}"), run=run_id).render(), err=True)
            return EXIT_BAD_INPUT
        loaded = _load_answers(str(run.dir / "answers.yaml"), [], target, lang_given=bool(args.lang))
        plan = _plan_for(target, loaded, changed=engine.run_changed_files(target.root, run_id))
        try:
            result = engine.resume(plan, root=target.root, runner=target.runner, run_id=run_id, events=_progress,
                                   no_rollback=args.no_rollback, verify=session.verifier(target, plan),
                                   failpoint=args.failpoint, lock=lock)
        except JournalDamaged as exc:
            say(str(exc.message), err=True)
            say(_("Nothing was changed."), err=True)
            return EXIT_FAILED
    finally:
        lock.release()
    return _report(result, target)


def cmd_log(args, target) -> int:
    from installer.journal import STATUS_TEXT, Run, iter_log, summaries
    if not args.run:
        for run_id, profile, status in summaries(target.root):
            say(f"{run_id}  {profile:14} {_(STATUS_TEXT.get(status, status))}")
        return EXIT_OK
    try:
        run = Run.open(target.root, args.run)
    except FileNotFoundError:
        say(Msg(N_("No such run: {run}"), run=args.run).render(), err=True)
        return EXIT_BAD_INPUT
    if args.json:
        for entry in run.entries():
            say(json.dumps(entry, ensure_ascii=False, sort_keys=True))
    else:
        for line in iter_log(run, i18n.get_language()):
            say(line)
    return EXIT_OK


def _answers_for_records(args, target):
    """--answers FILE, else the answers of the newest run on the target."""
    if args.answers:
        return _load_answers(args.answers, args.overrides, target, lang_given=bool(args.lang))
    from installer.journal import Run, last_run
    run_id = last_run(target.root)
    if run_id is None:
        raise UsageError(_("There is no run on this target yet: give --answers FILE."))
    return _load_answers(str(Run.open(target.root, run_id).dir / "answers.yaml"), args.overrides, target,
                         lang_given=bool(args.lang))


def cmd_dns(args, target) -> int:
    from installer import dns, facts
    loaded = _answers_for_records(args, target)
    found = dns.for_target(loaded, target.profile,
                           facts.gather(target.profile, target.runner, target.root, check_updates=False),
                           target.root)
    sys.stdout.write(dns.json_text(loaded, found) if args.json else dns.zone_text(found))
    return EXIT_OK


def cmd_verify(args, target) -> int:
    from installer import dns, facts
    loaded = _answers_for_records(args, target)
    found = dns.for_target(loaded, target.profile,
                           facts.gather(target.profile, target.runner, target.root, check_updates=False),
                           target.root)
    try:
        findings = dns.check(found, dns.make_resolver(getattr(args, "resolver", None)))
    except dns.Offline as exc:
        message = Msg(N_("No name server answered ({error}): the DNS records were not checked. "
                         "Run mailwiz verify again when the host is online."), error=str(exc)[:200])
        if args.json:
            sys.stdout.write(json.dumps({"offline": True, "message": message.render(), "findings": []},
                                        ensure_ascii=False, indent=2) + "\n")
        else:
            say(message.render())
        return EXIT_OK
    bad = [f for f in findings if f.result in ("missing", "wrong")]
    if args.json:
        sys.stdout.write(json.dumps({"offline": False, "ok": not bad,
                                     "findings": [dict(f.to_json(), text=f.message.render()) for f in findings]},
                                    ensure_ascii=False, indent=2) + "\n")
    else:
        marks = {"ok": _("ok"), "missing": _("MISSING"), "wrong": _("WRONG"), "unknown": _("not checked")}
        for finding in findings:
            say(f"[{marks[finding.result]}] {finding.message.render()}")
        if bad:
            say(Msg(N_("{count} of {total} records are missing or wrong; `mailwiz dns` prints what to publish."),
                    count=len(bad), total=len(findings)).render())
        else:
            say(_("The DNS records are published as they should be."))
    return EXIT_FAILED if bad else EXIT_OK


COMMANDS = {"plan": cmd_plan, "apply": cmd_apply, "rollback": cmd_rollback, "resume": cmd_resume,
            "log": cmd_log, "dns": cmd_dns, "verify": cmd_verify}


def _never_fail_to_print() -> None:
    """A terminal or pipe that cannot show a character (PYTHONIOENCODING=ascii
    with Japanese) gets an escape for it instead of an exception."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError):
            pass


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    _never_fail_to_print()
    i18n.set_language(_peek_lang(argv))
    from installer.root import TargetRefused
    try:
        args = fill_defaults(build_parser().parse_args(argv))
        # Read once, here: the engine is given the failpoint, it never reads the environment.
        args.failpoint = os.environ.get("MAILWIZ_FAILPOINT") or None
        if args.lang:
            i18n.set_language(args.lang)
        if args.command is None:
            from installer.tui import run_wizard   # the only place the TUI is imported
            return run_wizard(args)
        if args.command == "profiles":
            return cmd_profiles(args)
        if args.command == "schema":
            return cmd_schema(args)
        if args.command == "validate":
            return cmd_validate(args)
        target = Target(args)
        # A --json document is all that goes to stdout (shared/spec/cli.md).
        to_stderr = bool(getattr(args, "json", False))
        say(target.banner(), err=to_stderr)
        for note in target.notes:
            say(note, err=to_stderr)
        return COMMANDS[args.command](args, target)
    except UsageError as exc:
        say("mailwiz: " + exc.message, err=True)
        return EXIT_BAD_INPUT
    except answers.AnswerErrors as exc:
        say(answers.format_errors(exc.errors), err=True)
        return EXIT_BAD_INPUT
    except TargetRefused as exc:
        say("mailwiz: " + str(exc.message), err=True)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        say(_("Interrupted."), err=True)
        return EXIT_FAILED
    except BrokenPipeError:
        # The reader went away (`mailwiz log | head`): stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:     # not foreseen: said plainly, never a traceback
        say(Msg(N_("mailwiz: unexpected error: {error}. See `mailwiz log` for what the last run did."),
                error=f"{type(exc).__name__}: {exc}").render(), err=True)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
