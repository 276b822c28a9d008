"""The field library: typed fields that validate, fill defaults, dump and describe themselves."""
from __future__ import annotations

import copy
from typing import Any, Dict, List, Optional, Sequence, Tuple

from installer.i18n import Msg, N_
from installer.answers.errors import (
    Path_, _Ctx, _UNSAFE_CHARS, _closest, _describe_type, _is_secret_key, _safe_text, _show, format_path)
from installer.answers.values import KINDS, Kind, _ip


class Field:
    description = ""

    def __init__(self, default: Any = None, description: str = ""):
        self.default = default
        self.description = description

    def expected(self) -> Msg:
        raise NotImplementedError

    def check(self, value: Any, path: Path_, ctx: _Ctx) -> Any:
        raise NotImplementedError

    def json(self) -> Dict[str, Any]:
        raise NotImplementedError

    def json_schema(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {}
        if self.description:
            out["description"] = self.description
        out.update(self.json())
        return out

    def wrong_type(self, value: Any, path: Path_, ctx: _Ctx) -> None:
        ctx.error(path, Msg(N_("expected {expected}, found {found}"), expected=self.expected(),
                            found=_describe_type(value)))


class Bool(Field):
    def expected(self) -> Msg:
        return Msg(N_("true or false"))

    def check(self, value, path, ctx):
        if not isinstance(value, bool):
            self.wrong_type(value, path, ctx)
        return value

    def json(self):
        return {"type": "boolean"}


class Int(Field):
    def __init__(self, minimum: int, maximum: int, **kw):
        super().__init__(**kw)
        self.minimum, self.maximum = minimum, maximum

    def expected(self) -> Msg:
        return Msg(N_("a whole number from {minimum} to {maximum}"), minimum=self.minimum, maximum=self.maximum)

    def check(self, value, path, ctx):
        if isinstance(value, bool) or not isinstance(value, int):
            self.wrong_type(value, path, ctx)
        elif not self.minimum <= value <= self.maximum:
            ctx.error(path, Msg(N_("{value} is out of range: expected {expected}"), value=_show(value),
                                expected=self.expected()))
        return value

    def json(self):
        return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}


class Const(Field):
    def __init__(self, value: int, **kw):
        super().__init__(**kw)
        self.value = value

    def expected(self) -> Msg:
        return Msg(N_("the number {value}"), value=self.value)

    def check(self, value, path, ctx):
        if isinstance(value, bool) or value != self.value or type(value) is not type(self.value):
            ctx.error(path, Msg(N_("unsupported version {value}: this mailwiz reads version {supported}"),
                                value=_show(value), supported=self.value))
        return value

    def json(self):
        return {"const": self.value}


class Enum(Field):
    def __init__(self, values: Sequence[str], **kw):
        super().__init__(**kw)
        self.values = tuple(values)

    def expected(self) -> Msg:
        return Msg(N_("one of {values}"), values=", ".join(self.values))

    def check(self, value, path, ctx):
        if not isinstance(value, str):
            self.wrong_type(value, path, ctx)
        elif value not in self.values:
            lowered = value.lower()
            suggestion = lowered if lowered in self.values else _closest(value, self.values)
            if suggestion:
                ctx.error(path, Msg(N_("{value} is not valid: expected {expected}; did you mean {suggestion}?"),
                                    value=_show(value), expected=self.expected(), suggestion=suggestion))
            else:
                ctx.error(path, Msg(N_("{value} is not valid: expected {expected}"), value=_show(value),
                                    expected=self.expected()))
        return value

    def json(self):
        return {"enum": list(self.values)}


class Text(Field):
    def __init__(self, kind: str, **kw):
        super().__init__(**kw)
        self.kind = KINDS[kind]

    def expected(self) -> Msg:
        return self.kind.expected

    def check(self, value, path, ctx):
        if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str) and self.kind.name == "relayhost":
            ctx.error(path, Msg(N_("brackets start a YAML list: put the value in quotes, e.g. {example}"),
                                example='"[%s]:587"' % _safe_text(value[0], 60)))
            return value
        if not isinstance(value, str):
            self.wrong_type(value, path, ctx)
            return value
        problem = text_problem(value, self.kind)
        if problem is not None:
            ctx.error(path, problem)
            return value
        normal, problem = self.kind.validate(value)
        if problem is not None:
            ctx.error(path, problem)
        return normal

    def json(self):
        return {"type": "string", "minLength": 1, "maxLength": self.kind.max_length, "pattern": self.kind.pattern}


def text_problem(value: str, kind: Kind) -> Optional[Msg]:
    """Problems every text value shares: empty, too long, line breaks, non-ASCII."""
    if not value.strip():
        return Msg(N_("must not be empty; expected {expected}"), expected=kind.expected)
    if _UNSAFE_CHARS.search(value) or "\t" in value:
        return Msg(N_("{value} contains a line break or a control character, which could break out of its "
                      "line in the configuration; expected {expected}"), value=_show(value), expected=kind.expected)
    if not value.isascii():
        try:
            ascii_form = value.encode("idna").decode("ascii")
        except UnicodeError:
            ascii_form = ""
        if ascii_form and kind.name in ("hostname", "domain", "origin", "destination", "rbl"):
            return Msg(N_("{value} is not ASCII: write internationalised names in their xn-- form: {ascii}"),
                       value=_show(value), ascii=ascii_form)
        return Msg(N_("{value} contains characters other than ASCII; expected {expected}"), value=_show(value),
                   expected=kind.expected)
    if value != value.strip():
        return Msg(N_("{value} has spaces at the start or end"), value=_show(value))
    if len(value) > kind.max_length:
        return Msg(N_("too long ({length} characters; at most {limit})"), length=len(value), limit=kind.max_length)
    return None


class Nullable(Field):
    def __init__(self, inner: Field, **kw):
        super().__init__(**kw)
        self.inner = inner

    def expected(self) -> Msg:
        return Msg(N_("null or {inner}"), inner=self.inner.expected())

    def check(self, value, path, ctx):
        if value is None:
            return None
        return self.inner.check(value, path, ctx)

    def json(self):
        return {"anyOf": [{"type": "null"}, self.inner.json_schema()]}


class ListOf(Field):
    def __init__(self, item: Field, min_items: int = 0, unique_by: Optional[str] = None, **kw):
        super().__init__(**kw)
        self.item = item
        self.min_items = min_items
        self.unique_by = unique_by      # for lists of mappings: the key that must be unique

    def expected(self) -> Msg:
        if self.min_items:
            return Msg(N_("a non-empty list, each item {item}"), item=self.item.expected())
        return Msg(N_("a list ([] for none), each item {item}"), item=self.item.expected())

    def check(self, value, path, ctx):
        if not isinstance(value, list):
            if isinstance(value, str) and isinstance(self.item, (Text, Enum)) and not _UNSAFE_CHARS.search(value):
                ctx.error(path, Msg(N_("expected a list: write [{value}]"), value=_safe_text(value, 60)))
            else:
                self.wrong_type(value, path, ctx)
            return value
        if len(value) < self.min_items:
            ctx.error(path, Msg(N_("the list must not be empty; expected {expected}"), expected=self.expected()))
        out = []
        seen: Dict[Any, int] = {}
        for index, item in enumerate(value):
            checked = self.item.check(item, path + (index,), ctx)
            out.append(checked)
            marker = checked.get(self.unique_by) if self.unique_by and isinstance(checked, dict) else checked
            if isinstance(marker, (str, int)) and not isinstance(marker, bool):
                if marker in seen:
                    ctx.error(path + (index,), Msg(N_("{value} is listed twice (also at [{first}])"),
                                                   value=_show(marker), first=seen[marker]))
                else:
                    seen[marker] = index
        return out

    def json(self):
        out: Dict[str, Any] = {"type": "array", "items": self.item.json_schema()}
        if self.min_items:
            out["minItems"] = self.min_items
        if not self.unique_by:
            out["uniqueItems"] = True
        return out


class Choice(Field):
    """Either one of some words or a list (inet_interfaces: all | loopback-only | [addresses])."""

    def __init__(self, words: Sequence[str], alternative: ListOf, **kw):
        super().__init__(**kw)
        self.words = tuple(words)
        self.alternative = alternative

    def expected(self) -> Msg:
        return Msg(N_("{words} or {alternative}"), words=" | ".join(self.words), alternative=self.alternative.expected())

    def check(self, value, path, ctx):
        if isinstance(value, list):
            return self.alternative.check(value, path, ctx)
        if isinstance(value, str) and value in self.words:
            return value
        if isinstance(value, str) and not _UNSAFE_CHARS.search(value) and _ip(value) is not None:
            ctx.error(path, Msg(N_("a single address is written as a list: [{value}]"), value=value))
        elif isinstance(value, str):
            ctx.error(path, Msg(N_("{value} is not valid: expected {expected}"), value=_show(value),
                                expected=self.expected()))
        else:
            self.wrong_type(value, path, ctx)
        return value

    def json(self):
        return {"anyOf": [{"enum": list(self.words)}, self.alternative.json_schema()]}


class Map(Field):
    def __init__(self, fields: Sequence[Tuple[str, Field]], required: Sequence[str] = (), **kw):
        super().__init__(**kw)
        self.fields: Dict[str, Field] = dict(fields)
        self.required = tuple(required)

    def expected(self) -> Msg:
        return Msg(N_("a mapping with the keys {keys}"), keys=", ".join(self.fields))

    def defaults(self) -> Dict[str, Any]:
        return {name: (field.defaults() if isinstance(field, Map) else copy.deepcopy(field.default))
                for name, field in self.fields.items() if name not in self.required}

    def check(self, value, path, ctx):
        if not isinstance(value, dict):
            self.wrong_type(value, path, ctx)
            return value
        for key in value:
            if key not in self.fields and not _is_secret_key(key):
                ctx.error(path + (key,), _unknown_key_msg(key, path, self))
        out: Dict[str, Any] = {}
        for name, field in self.fields.items():
            if name in value:
                out[name] = field.check(value[name], path + (name,), ctx)
            elif name in self.required:
                ctx.error(path + (name,), Msg(N_("this key is required; expected {expected}"),
                                              expected=field.expected()), ctx.where(path)[1] or 1)
            else:
                out[name] = field.defaults() if isinstance(field, Map) else copy.deepcopy(field.default)
        return out

    def json(self):
        properties = {}
        for name, field in self.fields.items():
            prop = field.json_schema()
            if name not in self.required:
                prop["default"] = field.defaults() if isinstance(field, Map) else copy.deepcopy(field.default)
            properties[name] = prop
        out: Dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
        if self.required:
            out["required"] = list(self.required)
        return out


def _known_paths(field: Field, prefix: Path_ = ()) -> List[Path_]:
    if isinstance(field, Nullable):
        field = field.inner
    if not isinstance(field, Map):
        return []
    out = []
    for name, sub in field.fields.items():
        out.append(prefix + (name,))
        out.extend(_known_paths(sub, prefix + (name,)))
    return out


# The format's root table (format_v1 registers it): an unknown key's message
# looks for the key elsewhere in the format.
_ROOT: List[Field] = []


def set_root(field: Field) -> None:
    _ROOT[:] = [field]


def _unknown_key_msg(key: Any, path: Path_, mapping: Map) -> Msg:
    here = [name for name in mapping.fields]
    suggestion = _closest(str(key), here)
    if suggestion:
        return Msg(N_("unknown key; did you mean {suggestion}?"), suggestion=format_path(path + (suggestion,)))
    elsewhere = [p for p in _known_paths(_ROOT[0] if _ROOT else mapping) if p[-1] == key]
    if elsewhere:
        return Msg(N_("unknown key here; did you mean {suggestion}?"), suggestion=format_path(elsewhere[0]))
    return Msg(N_("unknown key; the keys here are {keys}"), keys=", ".join(here))
