"""Running commands: for real over ``sh``, or recorded in the sandbox.

Commands are argument lists, never shell strings.  Every line of output goes
to ``on_output`` (the step log) with secrets redacted.  ``query`` is for
read-only fact queries: it never raises, and in the sandbox the sandbox world
answers it from the profile.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, List, Optional, Sequence

from installer.i18n import Msg, N_

OutputFn = Callable[[str], None]

REDACTED = "********"


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


@dataclass
class Result:
    argv: List[str]
    rc: int
    stdout: str = ""
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.rc == 0


class CommandFailed(Exception):
    """A command exited non-zero (or could not start, or timed out)."""

    def __init__(self, result: Result, message: Optional[Msg] = None):
        self.result = result
        self.message = message or Msg(
            N_("Command failed with exit code {rc}: {command}"),
            rc=result.rc, command=" ".join(result.argv))
        super().__init__(str(self.message))


@dataclass
class Runner:
    """Base runner; ``sandbox`` says whether commands really run."""

    secrets: List[str] = field(default_factory=list)
    sandbox: bool = False
    on_record: Optional[OutputFn] = None

    def add_secret(self, value: str) -> None:
        if value and value not in self.secrets:
            self.secrets.append(value)

    def display(self, argv: Sequence[str]) -> str:
        return redact(" ".join(argv), self.secrets)

    def run(self, argv: Sequence[str], *, check: bool = True, timeout: Optional[float] = 1800,
            input: Optional[str] = None, env: Optional[Dict[str, str]] = None,
            on_output: Optional[OutputFn] = None) -> Result:
        raise NotImplementedError

    def query(self, argv: Sequence[str], *, timeout: float = 60) -> Result:
        raise NotImplementedError


class RealRunner(Runner):
    """Runs commands on this host through ``sh``."""

    def _execute(self, argv, timeout, input, env, on_output) -> Result:
        import sh  # imported here: only a real run pays for it

        out_lines: List[str] = []
        err_lines: List[str] = []

        def sink(store):
            def take(line):
                line = line.rstrip("\n")
                store.append(line)
                if on_output:
                    on_output(redact(line, self.secrets))
            return take

        full_env = dict(os.environ)
        full_env.setdefault("LC_ALL", "C")
        if env:
            full_env.update(env)
        try:
            command = sh.Command(argv[0])
        except sh.CommandNotFound:
            return Result(list(argv), 127, "", f"{argv[0]}: command not found")
        # Line callbacks cost sh ~0.1 s a call (it polls them): queries, which
        # stream nothing, take the output whole instead.
        streams = dict(_out=sink(out_lines), _err=sink(err_lines)) if on_output else {}
        try:
            proc = command(*argv[1:], _in=input, _env=full_env, _timeout=timeout, _ok_code=list(range(256)),
                           _bg=False, _tty_out=False, _return_cmd=True, **streams)
            rc = proc.exit_code
            if not on_output:
                out_lines = proc.stdout.decode("utf-8", "replace").splitlines()
                err_lines = proc.stderr.decode("utf-8", "replace").splitlines()
        except sh.TimeoutException:
            rc = 124
            err_lines.append(f"timed out after {timeout} s")
        except sh.SignalException as exc:
            rc = 128 + abs(getattr(exc, "exit_code", 1))
        return Result(list(argv), rc, "\n".join(out_lines), "\n".join(err_lines))

    def run(self, argv, *, check=True, timeout=1800, input=None, env=None, on_output=None):
        result = self._execute(argv, timeout, input, env, on_output)
        if check and not result.ok:
            raise CommandFailed(result)
        return result

    def query(self, argv, *, timeout=60):
        return self._execute(argv, timeout, None, None, None)


class SandboxRunner(Runner):
    """Records commands instead of running them; the sandbox world keeps the
    pretend system state (packages, services, alternatives, firewall) so that
    plan, apply, a second apply and rollback behave as on a real host."""

    def __init__(self, world, **kwargs):
        super().__init__(sandbox=True, **kwargs)
        self.world = world
        self.recorded: List[List[str]] = []

    def run(self, argv, *, check=True, timeout=1800, input=None, env=None, on_output=None):
        self.recorded.append(list(argv))
        if on_output:
            on_output("[sandbox] " + self.display(argv))
        result = self.world.effect(list(argv))
        if check and not result.ok:
            raise CommandFailed(result)
        return result

    def query(self, argv, *, timeout=60):
        return self.world.answer(list(argv))
