"""The steps of the flow, in order.  Each module has

- ``NAME`` (its id), ``TITLE`` (an ``N_()`` msgid), and
- ``plan(inp: StepInput) -> list[Action]``: pure, executes nothing;
- optionally ``needs(profile, answers) -> installer.needs.Needs``: the
  packages, services, SELinux paths and packaged files it needs (see
  ``installer/needs.py``); :func:`declared` folds them for the steps, facts
  and the sandbox that derive their lists from them.

``verify`` is last and different: ``checks(inp)`` returns the self-test,
which the engine runs after the changes are made.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Dict, List, Optional

ORDER = [
    "update", "packages", "mta", "postfix", "acme", "tls", "sasl", "relayhost", "dovecot",
    "aliases", "spam", "dkim", "firewall", "selinux", "services",
]


@dataclass
class StepInput:
    profile: object            # installer.profiles.Profile
    facts: object              # installer.facts.Facts
    answers: dict              # validated answers, defaults filled (see installer/answers/)
    secrets: Dict[str, str] = field(default_factory=dict)   # e.g. {"relay_password": ...}; never journaled


def modules() -> List[object]:
    """The step modules, in flow order."""
    return [importlib.import_module(f"steps.{name}") for name in ORDER]


def declared(profile, answers: Optional[dict] = None, facts=None):
    """Every step's needs, folded in flow order; ``answers=None``: all a step could need on *profile*.

    Every step in ORDER declares, whichever steps a plan is made of.  *facts*,
    when given, lets a declaration follow the host (the installed Postfix's map type)."""
    from installer.needs import Needs
    total = Needs()
    for module in [importlib.import_module(f"steps.{name}") for name in ORDER]:
        needs = getattr(module, "needs", None)
        if needs is not None:
            total.add(needs(profile, answers, facts))
    return total
