"""Loading and validating answer files, and ``--set KEY=VALUE`` overrides."""
from __future__ import annotations

import copy
from typing import Any, Dict, Sequence

from installer.i18n import Msg, N_
from installer.answers.errors import (
    AnswerError, AnswerErrors, Answers, FORMAT_VERSION, MAX_BYTES, _Ctx, _describe_type, _is_secret_key,
    _safe_text, format_path)
from installer.answers.fields import Enum, Field, Map, Nullable, Text, _unknown_key_msg
from installer.answers.format_v1 import FORMAT
from installer.answers.rules import _check_rules, _check_secrets
from installer.answers.yamlread import _Failed, _decode, _parse_yaml


def _validate(data: Any, ctx: _Ctx) -> Answers:
    if data is None:
        ctx.error((), Msg(N_("the answer file is empty; it needs at least version: 1")), 1)
        ctx.raise_if_errors()
    if not isinstance(data, dict):
        ctx.error((), Msg(N_("the answer file must be a mapping of keys (version: 1, postfix: ...), found {found}"),
                          found=_describe_type(data)), ctx.locations.get((), (None, 1))[1] or 1)
        ctx.raise_if_errors()
    if "version" in data and (isinstance(data["version"], bool) or data["version"] != FORMAT_VERSION
                              or type(data["version"]) is not int):
        # Another version means other keys: checking them against version 1 would only add noise.
        FORMAT.fields["version"].check(data["version"], ("version",), ctx)
        ctx.raise_if_errors()
    _check_secrets(data, ctx)
    checked = FORMAT.check(data, (), ctx)
    if not ctx.errors or all(isinstance(checked.get(name), dict) for name in FORMAT.fields
                             if isinstance(FORMAT.fields[name], Map)):
        # Cross-key rules read every section; they run when each section is at least a mapping.
        try:
            _check_rules(checked, data, ctx)
        except (TypeError, KeyError, AttributeError):
            # A value of the wrong type (already reported) can make a rule meaningless; never a traceback.
            if not ctx.errors:
                raise
    ctx.raise_if_errors()
    return Answers(checked, ctx.warnings, ctx.filename, given=[k for k in data if isinstance(k, str)])


def validate_data(data: Any, *, filename: str = "answers", profile=None, root=None,
                  overrides: Sequence[str] = ()) -> Answers:
    """Validate answers given as Python data (e.g. from the wizard); fill in defaults."""
    ctx = _Ctx(filename, profile=profile, root=root)
    data = _apply_overrides(data, overrides, ctx)
    return _validate(data, ctx)


def loads(text: Any, filename: str = "answers.yaml", *, overrides: Sequence[str] = (), profile=None,
          root=None) -> Answers:
    """Parse and validate an answer file given as text (str or bytes)."""
    ctx = _Ctx(filename, profile=profile, root=root)
    try:
        if isinstance(text, str):
            text = text.encode("utf-8", "surrogatepass")
        if not isinstance(text, (bytes, bytearray)):
            raise TypeError("loads() takes str or bytes")
        data = _parse_yaml(_decode(bytes(text), ctx), ctx)
    except _Failed:
        ctx.raise_if_errors()
        raise AssertionError("a parse failure without an error")  # pragma: no cover
    if ctx.errors and data is None:
        ctx.raise_if_errors()
    data = _apply_overrides(data, overrides, ctx)
    return _validate(data, ctx)


def load(path, *, overrides: Sequence[str] = (), profile=None, root=None) -> Answers:
    """Read, parse and validate the answer file at *path*.  Raises AnswerErrors only."""
    import os
    import stat
    filename = os.fspath(path)
    try:
        # Non-blocking open, then a regular file only: a FIFO or a device must not hang us.
        fd = os.open(filename, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise AnswerErrors([AnswerError(filename, None, "", Msg(N_("this is not a regular file")))])
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise AnswerErrors([AnswerError(filename, None, "", Msg(N_("cannot read the file: {reason}"),
                                                                reason=_safe_text(exc.strerror or str(exc))))])
    return loads(data, filename, overrides=overrides, profile=profile, root=root)


OVERRIDE_FILE = "--set"


def _apply_overrides(data: Any, overrides: Sequence[str], ctx: _Ctx) -> Any:
    for text in overrides:
        data = _apply_one(data, text, ctx)
    return data


def _apply_one(data: Any, text: str, ctx: _Ctx) -> Any:
    own = _Ctx(OVERRIDE_FILE)
    key, sep, raw = str(text).partition("=")
    key = key.strip()
    if not sep or not key:
        ctx.errors.append(AnswerError(OVERRIDE_FILE, None, _safe_text(key, 60), Msg(
            N_("expected KEY=VALUE, e.g. postfix.hostname=mx2.example.com"))))
        return data
    path = tuple(key.split("."))
    field: Field = FORMAT
    for depth, part in enumerate(path):
        if isinstance(field, Nullable):
            field = field.inner
        if _is_secret_key(part):
            ctx.errors.append(AnswerError(OVERRIDE_FILE, None, format_path(path), Msg(N_(
                "secrets are never passed with --set: name an environment variable in relayhost.password_env, "
                "or let the wizard ask for the password"))))
            return data
        if not isinstance(field, Map):
            ctx.errors.append(AnswerError(OVERRIDE_FILE, None, format_path(path), Msg(
                N_("{key} holds a single value; set it whole: --set {key}=VALUE"),
                key=format_path(path[:depth]))))
            return data
        if part not in field.fields:
            ctx.errors.append(AnswerError(OVERRIDE_FILE, None, format_path(path),
                                          _unknown_key_msg(part, path[:depth], field)))
            return data
        field = field.fields[part]
    try:
        value = _parse_yaml(_decode(raw.encode("utf-8", "surrogatepass"), own), own, record=False)
    except _Failed:
        value = None
    leaf = field.inner if isinstance(field, Nullable) else field
    if isinstance(leaf, (Text, Enum)) and not isinstance(value, str) and not (
            value is None and isinstance(field, Nullable) and not own.errors):
        # A text key takes VALUE as written: "[smtp.example.net]:587" needs no YAML quoting.
        value, own.errors = raw, []
    if own.errors:
        for error in own.errors:
            ctx.errors.append(AnswerError(OVERRIDE_FILE, None, format_path(path), error.message))
        return data
    if not isinstance(data, dict):
        return data         # the file itself is wrong; that error is reported by validation
    target = data
    for part in path[:-1]:
        if not isinstance(target.get(part), dict):
            target[part] = {}
        target = target[part]
    target[path[-1]] = value
    for known in [p for p in ctx.locations if p[:len(path)] == path]:
        del ctx.locations[known]
    ctx.locations[path] = (OVERRIDE_FILE, None)
    ctx.suppressed.discard(path)
    return data


def apply_override(data: Dict[str, Any], assignment: str) -> Dict[str, Any]:
    """A copy of *data* with ``KEY=VALUE`` applied (VALUE is a YAML scalar or flow list).

    Raises AnswerErrors for an unknown key (with a suggestion), a secret, or a bad value.
    """
    ctx = _Ctx(OVERRIDE_FILE)
    result = _apply_one(copy.deepcopy(data) if data is not None else {}, assignment, ctx)
    ctx.raise_if_errors()
    return result
