"""What the wizard knows and decides, without any UI: answers being edited,
per-field validation, the plan, where the replay file goes.

Kept free of textual so it can be tested (and read) on its own; the screens
only read and write a :class:`WizardState`.
"""
from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from installer.i18n import Msg, N_, _

RELAY_PASSWORD_ENV = "MAILWIZ_RELAY_PASSWORD"
REPLAY_NAME = "mailwiz-answers.yaml"

# The answer keys each page edits: a page's Next is disabled while any error
# falls under one of its prefixes.
PAGE_KEYS: Dict[str, Tuple[str, ...]] = {
    "packages": ("system.update",),
    "mta": ("system.existing_mta",),
    "identity": ("postfix",),
    "auth": ("auth", "relayhost"),
    "dkim": ("dkim", "dmarc"),
    "dovecot": ("dovecot",),
    "spam": ("spam",),
    "aliases": ("aliases",),
}


def split_list(text: str) -> List[str]:
    """``"a, b c"`` -> ``["a", "b", "c"]``: lists are typed comma- or space-separated."""
    return [item for item in text.replace(",", " ").split() if item]


def join_list(items: Optional[Sequence[str]]) -> str:
    return ", ".join(items or [])


def under(key_path: str, prefix: str) -> bool:
    """Whether *key_path* (``postfix.networks[1]``) is *prefix* or inside it."""
    return key_path == prefix or key_path.startswith(prefix + ".") or key_path.startswith(prefix + "[")


def display_path(path, cwd: Optional[str] = None) -> str:
    """A path as people read it: relative to the current folder when inside it
    (shorter on an 80-column screen, and the same on every machine)."""
    path = Path(path)
    here = Path(cwd or os.getcwd()).resolve()
    try:
        rel = path.resolve().relative_to(here)
    except ValueError:
        return str(path)
    return "./" + str(rel) if str(rel) != "." else "."


class WizardState:
    """The answers being edited and everything the pages show about the target."""

    def __init__(self, target, *, lang: str, failpoint: Optional[str] = None):
        self.target = target
        self.profile = target.profile
        self.sandbox = target.sandbox
        self.failpoint = failpoint
        self.lang = lang
        self._answers: Optional[dict] = None
        self.relay_password = ""          # typed masked; never in answers, never saved
        self.facts = None
        self.facts_error: Optional[str] = None
        self.plan = None
        self.result = None                # engine.RunResult of the last apply/resume/rollback
        self.rollback_result = None
        self.replay_path = display_path(self.default_replay_path())
        self.replay_written: Optional[str] = None
        self.interrupted: List[str] = []
        self.plan_error: Optional[str] = None
        self.run_error: Optional[str] = None
        # Raw text of list/number fields as typed, so an invalid entry stays on
        # screen (and through a language switch) instead of being reformatted.
        self.raw: Dict[str, str] = {}
        self.domain_typed = False         # the domain follows the host name until typed by hand

    @property
    def answers(self) -> dict:
        """The answers being edited: the answer file's defaults at first.  Made
        on first use, so the first page does not wait for the answers module."""
        if self._answers is None:
            from installer import answers as answers_mod
            self._answers = copy.deepcopy(answers_mod.DEFAULTS)
            self._answers["language"] = self.lang
        return self._answers

    # -- the target ---------------------------------------------------------------

    def target_notes(self) -> List[str]:
        """Why this is a sandbox (not root, unknown platform), as the CLI said it."""
        return list(getattr(self.target, "notes", []) or [])

    def banner(self) -> str:
        """Sandbox or real, said first (as the CLI's first line says it)."""
        return self.target.banner(self.root_display())

    def root_display(self) -> str:
        return display_path(self.target.root.base)

    def default_replay_path(self) -> Path:
        if self.sandbox:
            return Path(self.target.root.base) / REPLAY_NAME
        return Path("/root") / REPLAY_NAME

    def gather_facts(self) -> None:
        """Read the target (slow on a real host: call from a worker thread)."""
        from installer import engine, facts as facts_mod
        self.facts = facts_mod.gather(self.profile, self.target.runner, self.target.root)
        hostname = facts_mod.suggest_hostname(self.facts)
        if hostname:
            self.answers["postfix"]["hostname"] = hostname
            domain = derive_domain(hostname)
            if domain:
                self.answers["postfix"]["domain"] = domain
        networks = facts_mod.suggest_networks(self.facts)
        if networks:
            self.answers["postfix"]["networks"] = list(networks)
        self.interrupted = engine.interrupted_runs(self.target.root)

    @property
    def has_other_mta(self) -> bool:
        return bool(self.facts is not None and getattr(self.facts, "mta_packages", None))

    def packages_to_install(self) -> List[Tuple[str, bool]]:
        """(package, already installed) for what the plan will want."""
        wanted = list(self.profile.base_packages)
        dovecot_packages = getattr(self.profile, "dovecot_packages", {}) or {}
        for protocol in self.answers["dovecot"].get("protocols") or []:
            name = dovecot_packages.get(protocol)
            if name and name not in wanted:
                wanted.append(name)
        installed = set(getattr(self.facts, "installed", ()) or ())
        return [(name, name in installed) for name in wanted]

    # -- validation ---------------------------------------------------------------

    def secrets(self) -> Dict[str, str]:
        """The typed relay password under the CLI's rule (raises session.UsageError)."""
        from installer import session
        return session.secrets(self.answers, typed=self.relay_password)

    def answers_for_validation(self) -> dict:
        data = copy.deepcopy(self.answers)
        relay = data.get("relayhost")
        if relay is not None:
            relay = {k: v for k, v in relay.items() if v not in (None, "")}
            if self.relay_password:
                relay["password_env"] = RELAY_PASSWORD_ENV
            data["relayhost"] = relay
        return data

    def errors(self) -> List[Tuple[str, str]]:
        """Every validation error as (key path, message in the current language)."""
        from installer import answers as answers_mod
        from installer import session
        problems: List[Tuple[str, str]] = []
        for key, text in self.raw_errors().items():
            problems.append((key, text))
        problem = session.password_problem(self.relay_password) if self.answers.get("relayhost") else None
        if problem:
            problems.append(("relayhost.password", problem))
        try:
            answers_mod.validate_data(self.answers_for_validation(), profile=self.profile,
                                      root=self.target.root)
        except answers_mod.AnswerErrors as exc:
            for error in exc.errors:
                problems.append((error.key_path, str(error.message)))
        return problems

    def raw_errors(self) -> Dict[str, str]:
        """Errors the answer file cannot have: text typed into a number field."""
        out = {}
        raw = self.raw.get("postfix.message_size_limit_mb")
        if raw is not None:
            try:
                int(raw.strip())
            except ValueError:
                out["postfix.message_size_limit_mb"] = _("Type a whole number of MiB, e.g. 10.")
        return out

    def errors_under(self, prefixes: Sequence[str], errors=None) -> List[Tuple[str, str]]:
        """The errors under *prefixes*; of *errors* when given (already computed), else of errors()."""
        return [(key, text) for key, text in (self.errors() if errors is None else errors)
                if any(under(key, p) for p in prefixes)]

    def page_valid(self, page: str, errors=None) -> bool:
        return not self.errors_under(PAGE_KEYS.get(page, ()), errors)

    def validated(self) -> dict:
        """The answers as the engine takes them (defaults filled, checked)."""
        from installer import answers as answers_mod
        return answers_mod.validate_data(self.answers_for_validation(), profile=self.profile,
                                         root=self.target.root)

    # -- plan, save ----------------------------------------------------------------

    def make_plan(self):
        from installer import session
        self.plan = session.make_plan(self.target, self.validated(), self.secrets(), self.facts)
        return self.plan

    def try_make_plan(self) -> None:
        """make_plan(), keeping what went wrong for the Review page instead of raising."""
        self.plan, self.plan_error = None, None
        try:
            self.make_plan()
        except Exception as exc:   # a step's bug must not end the wizard with a traceback
            from installer import answers as answers_mod, session
            if isinstance(exc, session.UsageError):
                self.plan_error = exc.message
            elif isinstance(exc, answers_mod.AnswerErrors):
                self.plan_error = "\n".join(f"{e.key_path}: {e.message}" for e in exc.errors)
            else:
                self.plan_error = Msg(N_("The plan could not be made: {error}"),
                                      error=f"{type(exc).__name__}: {exc}").render()

    def plan_for_run(self, run_id: str):
        """A fresh plan from a run's own saved answers (resume, retry): what was
        already done plans as nothing."""
        from installer import answers as answers_mod, session
        from installer.journal import Run
        run = Run.open(self.target.root, run_id)
        loaded = answers_mod.load(str(run.dir / "answers.yaml"), profile=self.profile, root=self.target.root)
        return session.make_plan(self.target, loaded, session.secrets(loaded, typed=self.relay_password))

    def verifier(self, plan):
        """The self-test to run after the changes (none in the sandbox)."""
        from installer import session
        return session.verifier(self.target, plan)

    def dns_records(self) -> str:
        """The records to publish for what was applied, as zone-file lines ("" without a plan)."""
        if self.plan is None:
            return ""
        from installer import dns
        return dns.zone_text(dns.for_target(self.plan.answers, self.profile, self.plan.facts,
                                            self.target.root)).rstrip("\n")

    def answers_yaml(self) -> str:
        from installer import answers as answers_mod
        return answers_mod.dump(self.validated())

    def write_replay(self) -> str:
        """Write the replay file where the user chose; returns its path."""
        path = Path(self.replay_path).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(self.answers_yaml())
        self.replay_written = str(path)
        return self.replay_written

    def replay_written_display(self) -> str:
        return display_path(self.replay_written) if self.replay_written else ""

    def replay_command(self) -> str:
        parts = []
        if self.answers.get("relayhost") and self.relay_password:
            parts.append(f"{RELAY_PASSWORD_ENV}=…")
        parts += ["mailwiz", "apply", "--answers", display_path(self.replay_written or self.replay_path)]
        if self.sandbox:
            parts += ["--sandbox", "--root", display_path(self.target.root.base), "--profile", self.profile.id]
        return " ".join(parts)

    def run_paths(self) -> Dict[str, str]:
        """Where the last run's log, backups and answers are."""
        if self.result is None:
            return {}
        from installer.journal import LOG_DIR, RUNS_DIR
        root = self.target.root
        run_dir = f"{RUNS_DIR}/{self.result.run_id}"
        return {
            "log": display_path(root.path(f"{LOG_DIR}/{self.result.run_id}.log")),
            "backups": display_path(root.path(run_dir + "/backups")),
            "answers": display_path(root.path(run_dir + "/answers.yaml")),
            "journal": display_path(root.path(run_dir + "/journal.jsonl")),
        }


def derive_domain(hostname: str) -> str:
    """``mail.example.com`` -> ``example.com`` (a name with fewer than three labels is its own domain)."""
    labels = [label for label in (hostname or "").strip(".").split(".") if label]
    if len(labels) >= 3:
        return ".".join(labels[1:])
    return ".".join(labels) if len(labels) == 2 else ""


def status_text(status: str) -> str:
    from installer.journal import STATUS_TEXT
    return _(STATUS_TEXT.get(status, status))


def check_lines(checks: Sequence[dict]) -> List[str]:
    """Self-test results as lines: ``[pass] SMTP: ...``."""
    lines = []
    for check in checks:
        title = check.get("title")
        title_text = str(Msg.from_json(title)) if isinstance(title, dict) else str(title or "")
        detail = check.get("detail")
        detail_text = str(Msg.from_json(detail)) if isinstance(detail, dict) else str(detail or "")
        lines.append(Msg(N_("[{result}] {title}: {detail}"), result=status_text(check.get("result", "")),
                         title=title_text, detail=detail_text).render())
    return lines
