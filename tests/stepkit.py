"""Shared helpers for step tests: facts and answers without any system.

    facts_for("rocky-9", installed={"sendmail"}, firewall="firewalld")
    answers_with(**{"system.update": False, "services.start": False})
    plan_of(steps.update, "debian-12", facts=..., answers=...)

Facts start from what a fresh install of the profile looks like (nothing of
ours installed, no firewall, SELinux as the platform ships it); overrides
replace whole attributes.  Answers start from the answer-file defaults
(``installer.answers.DEFAULTS``; until that module exists, from the spec's
defaults below) and dotted keys replace single values.
"""
from __future__ import annotations

import copy
import dataclasses
from types import SimpleNamespace
from typing import Dict, List

from installer import profiles
from installer.system import ServiceState

# The defaults of /work/shared/spec/answers-v1.md, used only while
# installer.answers is not importable.
_SPEC_DEFAULTS = {
    "version": 1,
    "language": "ja",
    "system": {"update": True, "existing_mta": "remove", "firewall": True, "selinux": True},
    "postfix": {
        "hostname": "mail.example.com", "domain": "example.com", "origin": "$mydomain",
        "inet_interfaces": "all",
        "destinations": ["$myhostname", "localhost.$mydomain", "localhost", "$mydomain"],
        "networks": ["127.0.0.0/8"], "relay_domains": [], "home_mailbox": "Maildir/",
        "banner": "$myhostname ESMTP", "message_size_limit_mb": 10,
    },
    "auth": {"sasl": True, "submission": True,
             "tls": {"certificate": "self-signed", "cert_file": None, "key_file": None}},
    "relayhost": None,
    "dovecot": {"protocols": ["imap", "pop3", "lmtp"], "listen": ["*"], "mail_location": "maildir:~/Maildir"},
    "aliases": {"root": None},
    "spam": {"helo_required": True, "access": [], "client": [],
             "helo": ["reject_invalid_helo_hostname", "reject_non_fqdn_helo_hostname"],
             "sender": ["reject_unknown_sender_domain", "reject_non_fqdn_sender"],
             "recipient": ["reject_non_fqdn_recipient"], "rbl": []},
    "services": {"enable": True, "start": True},
    "verify": True,
}


def default_answers() -> dict:
    try:
        from installer.answers import DEFAULTS
    except ImportError:
        DEFAULTS = _SPEC_DEFAULTS
    return copy.deepcopy(DEFAULTS)


def answers_with(**dotted) -> dict:
    """Defaults with ``{"a.b.c": value}`` (or ``a__b__c=value``) replaced."""
    answers = default_answers()
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


def _fresh_facts(profile) -> Dict[str, object]:
    return dict(
        sandbox=True, is_root=True, init=profile.init,
        installed=frozenset(), postfix_version=None, dovecot_version=None,
        postfix_effective=profile.postfix_version, dovecot_effective=profile.dovecot_version,
        map_type=profile.map_type, mta=None, mta_mode="auto", mta_packages=frozenset(),
        services={}, firewall=None, firewall_open=frozenset(),
        selinux="enforcing" if profile.selinux else None,
        updates_pending=True, hostname="mail.example.com", addresses=["192.0.2.25"], users=[],
    )


def facts_for(profile_id: str, **overrides):
    """Facts for *profile_id*; sets become frozensets, services may be given as
    ``{"postfix": (enabled, running)}``."""
    profile = profiles.get(profile_id)
    values = _fresh_facts(profile)
    unknown = set(overrides) - set(values)
    if unknown:
        raise KeyError(f"not a fact: {sorted(unknown)}")
    values.update(overrides)
    for name in ("installed", "firewall_open", "mta_packages"):
        values[name] = frozenset(values[name])
    values["services"] = {name: state if isinstance(state, ServiceState) else ServiceState(*state)
                          for name, state in dict(values["services"]).items()}
    if "postfix_version" in overrides and "postfix_effective" not in overrides:
        values["postfix_effective"] = values["postfix_version"] or profile.postfix_version
    if "dovecot_version" in overrides and "dovecot_effective" not in overrides:
        values["dovecot_effective"] = values["dovecot_version"] or profile.dovecot_version
    return _as_facts(values)


def _as_facts(values: dict):
    """The real Facts type when it can hold these values, else a namespace."""
    try:
        from installer.facts import Facts
    except ImportError:
        return SimpleNamespace(**values)
    if not dataclasses.is_dataclass(Facts):
        return SimpleNamespace(**values)
    init_names = {f.name for f in dataclasses.fields(Facts) if f.init}
    try:
        facts = Facts(**{k: v for k, v in values.items() if k in init_names})
    except TypeError:
        return SimpleNamespace(**values)
    for name, value in values.items():
        if name not in init_names:
            try:
                object.__setattr__(facts, name, value)
            except AttributeError:   # a property computed from the fields
                pass
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
