"""Shared helpers for step tests: facts and answers without any system.

    facts_for("rocky-9", installed={"sendmail"}, firewall="firewalld")
    answers_with(**{"system.update": False, "services.start": False})
    plan_of(steps.update, "debian-12", facts=..., answers=...)

Facts start from what a fresh install of the profile looks like (nothing of
ours installed, no firewall running, SELinux as the platform ships it, updates
pending); overrides replace whole attributes.  Answers start from
``installer.answers.DEFAULTS``; dotted keys replace single values.
"""
from __future__ import annotations

import copy
from typing import List

from installer import profiles
from installer.answers import DEFAULTS
from installer.facts import Facts
from installer.platform import ServiceState


def answers_with(**dotted) -> dict:
    """Defaults with ``{"a.b.c": value}`` (or ``a__b__c=value``) replaced."""
    answers = copy.deepcopy(DEFAULTS)
    for key, value in dotted.items():
        parts = key.replace("__", ".").split(".")
        node = answers
        for part in parts[:-1]:
            if node.get(part) is None:
                node[part] = {}
            node = node[part]
        if parts[-1] not in node and parts[0] != "relayhost":
            raise KeyError(f"not an answer key: {key}")
        node[parts[-1]] = copy.deepcopy(value)
    return answers


def facts_for(profile_id: str, **overrides) -> Facts:
    """Facts for *profile_id*.  Sets become frozensets; services may be given
    as ``{"postfix": (enabled, running)}``; ``postfix_effective`` and
    ``dovecot_effective`` may be overridden too."""
    profile = profiles.get(profile_id)
    effective = {k: overrides.pop(k) for k in ("postfix_effective", "dovecot_effective") if k in overrides}
    values = dict(
        profile=profile, sandbox=True, is_root=True, init=profile.init, map_type=profile.map_type,
        selinux="enforcing" if profile.selinux else "absent", updates_pending=True,
        hostname="mail.example.com", addresses=["192.0.2.25/24"])
    values.update(overrides)
    for name in ("installed", "firewall_open", "mta_packages", "users"):
        values[name] = frozenset(values.get(name, ()))
    values["services"] = {name: state if isinstance(state, ServiceState) else ServiceState(*state)
                          for name, state in dict(values.get("services", {})).items()}
    facts = Facts(**values)
    for name, value in effective.items():
        setattr(facts, name, value)
    return facts


def step_input(profile_id: str, facts=None, answers=None, secrets=None):
    from steps import StepInput
    return StepInput(profile=profiles.get(profile_id), facts=facts or facts_for(profile_id),
                     answers=answers or answers_with(), secrets=dict(secrets or {}))


def plan_of(module, profile_id: str, facts=None, answers=None, secrets=None) -> List[object]:
    """``module.plan()`` for the profile (the raw actions, not simulated)."""
    return module.plan(step_input(profile_id, facts, answers, secrets))


def summary(actions) -> List[tuple]:
    """(kind, fields that differ from the action's defaults) per action, without
    the description: easy to compare in a table."""
    out = []
    for action in actions:
        data, defaults = action.to_json(), type(action)().to_json()
        kind = data.pop("kind")
        out.append((kind, {k: v for k, v in data.items() if k != "description" and v != defaults.get(k)}))
    return out
