"""Where and how a run works, shared by the two faces (the CLI and the TUI).

- :class:`Target`: the root, the profile, sandbox or real, and the runner;
- the relay host password: one rule for where it comes from (the environment
  variable ``relayhost.password_env`` names, or the wizard's masked prompt)
  and what it may be (a single line);
- the plan and the self-test for a target.

Nothing here draws or parses command lines: the CLI and the TUI call it and
show what it returns.  It never imports textual.
"""
from __future__ import annotations

import os
import sys
from typing import Dict, List, Optional

from installer.i18n import Msg, N_, _

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_LOCKED = 0, 1, 2, 3
DEFAULT_SANDBOX_ROOT = "./mailwiz-sandbox"
# A host whose platform mailwiz does not know still gets a sandbox to try things in.
FALLBACK_PROFILE = "rocky-9"
# The one secret there is, under the name steps take it by (steps/relayhost.py).
RELAY_PASSWORD = "relay_password"


class UsageError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def say(text: str = "", err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    stream.write(text + "\n")
    stream.flush()


# --- the target ------------------------------------------------------------------------

class Target:
    """Where and how a command works: root, profile, sandbox or real, runner.

    *args* needs ``profile``, ``sandbox`` and ``root`` (the CLI's parsed options)."""

    def __init__(self, args):
        from installer import profiles
        from installer.root import TargetRoot

        self.notes: List[str] = []
        is_root = os.geteuid() == 0
        if args.profile:
            try:
                self.profile = profiles.get(args.profile)
            except profiles.UnknownProfile:
                raise UsageError(Msg(N_("Unknown profile {id}. Known profiles: {known}"), id=args.profile,
                                     known=", ".join(profiles.PROFILES)).render())
            detected = self.profile
        else:
            detected = profiles.detect()
            self.profile = detected or profiles.get(FALLBACK_PROFILE)
        self.sandbox = bool(args.sandbox)
        if detected is None:
            self.sandbox = True
            self.notes.append(Msg(N_("This platform is not one mailwiz knows; using the sandbox with profile {id}."),
                                  id=self.profile.id).render())
        elif not is_root and not self.sandbox:
            self.sandbox = True
            self.notes.append(_("Not running as root; using the sandbox."))
        elif args.profile and not self.sandbox and profiles.detect() != self.profile:
            self.sandbox = True
            self.notes.append(Msg(N_("Profile {id} is not this host's platform; using the sandbox."),
                                  id=self.profile.id).render())
        root_dir = args.root or (DEFAULT_SANDBOX_ROOT if self.sandbox else "/")
        if self.sandbox and os.path.abspath(root_dir) == "/":
            raise UsageError(_("The sandbox cannot use / as its root; give --root DIR."))
        self.root_dir = root_dir
        self.root = TargetRoot(root_dir)
        self._runner = None

    @property
    def runner(self):
        """The runner; a sandbox root is created and seeded on first use (after
        the answers were validated, so bad input changes nothing)."""
        if self._runner is None:
            if self.sandbox:
                from installer import sandbox
                os.makedirs(self.root_dir, exist_ok=True)
                try:
                    sandbox.seed(self.root, self.profile)
                    self._runner = sandbox.make_runner(self.root, self.profile)
                except sandbox.SandboxProfileMismatch as exc:
                    raise UsageError(str(exc.message)) from None
            else:
                from installer.runner import RealRunner
                self._runner = RealRunner()
        return self._runner

    def banner(self, root_text: Optional[str] = None) -> str:
        """Sandbox or real, said first; *root_text* shows the root another way (the wizard's)."""
        root = root_text if root_text is not None else str(self.root.base)
        if self.sandbox:
            return Msg(N_("Sandbox ({profile}): commands are recorded, not run; files are written under {root}"),
                       profile=self.profile.id, root=root).render()
        return Msg(N_("Real host ({profile}): commands run on this machine; root {root}"),
                   profile=self.profile.id, root=root).render()


# --- secrets --------------------------------------------------------------------------

def password_problem(value: str) -> Optional[str]:
    """Why *value* cannot be the relay host password, or None.

    One line only: it goes into a ``host user:password`` line of sasl_passwd."""
    if any(c in value for c in "\r\n\0"):
        return _("The relay host password must be a single line.")
    return None


def secrets(loaded, typed: str = "") -> Dict[str, str]:
    """The secrets a run needs: the password *typed* in the wizard, else the one
    in the environment variable ``relayhost.password_env`` names.

    Raises :class:`UsageError` when the variable is named but not set, or when
    the password breaks :func:`password_problem`'s rule (wherever it came from)."""
    relay = (loaded.get("relayhost") or {}) if hasattr(loaded, "get") else {}
    if not relay:
        return {}
    if typed:
        value = typed
    else:
        env_name = relay.get("password_env") if isinstance(relay, dict) else None
        if not env_name:
            return {}
        value = os.environ.get(env_name)
        if not value:
            raise UsageError(Msg(N_("The relay host password is read from the environment variable {name}, "
                                    "which is not set."), name=env_name).render())
        if password_problem(value):
            raise UsageError(Msg(N_("The environment variable {name} must hold a single line."),
                                 name=env_name).render())
    problem = password_problem(value)
    if problem:
        raise UsageError(problem)
    return {RELAY_PASSWORD: value}


# --- plan and self-test -------------------------------------------------------------------

def gather_facts(target):
    from installer import facts
    return facts.gather(target.profile, target.runner, target.root)


def make_plan(target, loaded, found_secrets: Dict[str, str], found_facts=None):
    """The plan for *target*: facts read now unless given; the secrets are
    redacted from every command the runner shows from now on."""
    from installer import engine, stockfiles
    from steps.relayhost import MissingSecret
    for value in found_secrets.values():
        target.runner.add_secret(value)
    if found_facts is None:
        found_facts = gather_facts(target)
    try:
        return engine.make_plan(loaded, target.profile, found_facts, target.root, found_secrets,
                                stock_provider=stockfiles.stock_files)
    except MissingSecret as exc:
        raise UsageError(str(exc)) from None


def verifier(target, plan):
    """The self-test to run after the changes (none in the sandbox, none when the answers say so)."""
    if target.sandbox or not plan.answers.get("verify", True):
        return None
    from steps import verify
    return verify.runner_for(target.profile, plan.facts, plan.answers)
