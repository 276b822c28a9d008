"""Writing answer files (the format's key order, comments, flow style for short lists)."""
from __future__ import annotations

import copy
from typing import Any, Dict

from installer.answers.fields import Choice, Field, ListOf, Map, Nullable
from installer.answers.format_v1 import FORMAT
from installer.answers.yamlread import _yaml, _yaml_tools


DUMP_HEADER = """\
# mailwiz answer file, format version 1.
# Replay it with: mailwiz apply --answers FILE  (check it with: mailwiz validate FILE)
# Secrets are never stored here: the relay password comes from the environment
# variable named in relayhost.password_env, or from the wizard's prompt.
"""


class _FlowList(list):
    """A list written on one line: [a, b]."""


class _FlowDict(dict):
    """A mapping written on one line: {key: a, action: b}."""


def _ordered(field: Field, value: Any, inline: bool = False) -> Any:
    """*value* with only the format's keys, in the format's order, marked for the layout of dump()."""
    if isinstance(field, Nullable):
        return None if value is None else _ordered(field.inner, value, inline)
    if isinstance(field, Map) and isinstance(value, dict):
        items = {name: _ordered(sub, value[name]) for name, sub in field.fields.items() if name in value}
        return _FlowDict(items) if inline else items
    if isinstance(field, (ListOf, Choice)) and isinstance(value, list):
        item = field.item if isinstance(field, ListOf) else field.alternative.item
        items = [_ordered(item, v, inline=True) for v in value]
        return items if isinstance(item, Map) else _FlowList(items)
    return copy.deepcopy(value)


def _dumper():
    if "Dumper" not in _yaml_tools:
        yaml = _yaml()["yaml"]

        class Dumper(yaml.SafeDumper):
            pass

        Dumper.add_representer(_FlowList, lambda d, v: d.represent_sequence(
            "tag:yaml.org,2002:seq", v, flow_style=True))
        Dumper.add_representer(_FlowDict, lambda d, v: d.represent_mapping(
            "tag:yaml.org,2002:map", v.items(), flow_style=True))
        _yaml_tools["Dumper"] = Dumper
    return _yaml_tools["Dumper"]


def dump(answers: Dict[str, Any]) -> str:
    """YAML text of *answers* (validated), keys in the spec's order; unknown and secret keys are dropped."""
    yaml = _yaml()["yaml"]
    body = yaml.dump(_ordered(FORMAT, answers), Dumper=_dumper(), sort_keys=False, default_flow_style=False,
                     width=1000, allow_unicode=False)
    # A blank line before each section, as in the spec.
    lines = body.splitlines()
    out = []
    for index, line in enumerate(lines):
        if index > 1 and line[:1].isalpha() and not line.startswith(("language:",)):
            out.append("")
        out.append(line)
    return DUMP_HEADER + "\n" + "\n".join(out) + "\n"
