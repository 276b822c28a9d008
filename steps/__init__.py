"""The steps of the flow, in order.  Each module has

- ``NAME`` (its id), ``TITLE`` (an ``N_()`` msgid), and
- ``plan(inp: StepInput) -> list[Action]``: pure, executes nothing.

``verify`` is last and different: ``checks(inp)`` returns the self-test,
which the engine runs after the changes are made.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Dict, List

ORDER = [
    "update", "packages", "mta", "postfix", "acme", "tls", "sasl", "relayhost", "dovecot",
    "aliases", "spam", "dkim", "firewall", "selinux", "services",
]


@dataclass
class StepInput:
    profile: object            # installer.profiles.Profile
    facts: object              # installer.facts.Facts
    answers: dict              # validated answers, defaults filled (see installer/answers.py)
    secrets: Dict[str, str] = field(default_factory=dict)   # e.g. {"relay_password": ...}; never journaled


def modules() -> List[object]:
    """The step modules, in flow order."""
    return [importlib.import_module(f"steps.{name}") for name in ORDER]
