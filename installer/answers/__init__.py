"""The answer file (``docs/answers-v1.md``): read, validate, write, describe.

The package is split by concern; every public name (and those the tests
reach for) is importable from ``installer.answers`` as before:

- ``errors``: AnswerError(s), Answers, the validation context;
- ``yamlread``: YAML read safely, with the line of every key;
- ``values``: value kinds (host names, networks, restrictions, blocklists);
- ``fields``: the field library (Bool, Int, Text, ListOf, Map, ...);
- ``format_v1``: the v1 format table (FORMAT, DEFAULTS);
- ``rules``: rules across keys, secrets;
- ``validate``: load, loads, validate_data, --set overrides;
- ``dump`` and ``schema``: writing answer files, the JSON Schema.

Public API::

    load(path, *, overrides=(), profile=None, root=None) -> Answers
    loads(text, filename="answers.yaml", *, overrides=(), profile=None, root=None) -> Answers
    validate_data(data, *, filename="answers", profile=None, root=None, overrides=()) -> Answers
    apply_override(data, "postfix.hostname=mx2.example.com") -> dict
    dump(answers) -> str
    schema() -> dict;  schema_json() -> str;  write_schema(path=None)
    format_errors(errors, lang=None) -> str
    DEFAULTS, AnswerError, AnswerErrors, Answers

:class:`Answers` is the validated nested dict with every key of the format
present (defaults filled in), so steps read ``answers["postfix"]["hostname"]``.
Its ``warnings`` attribute lists non-fatal :class:`Msg` objects.  Values are
kept as written, except ``postfix.networks`` (and network keys of
``spam.access``), which are normalised to plain CIDR (``::1/128``): the steps
add the brackets Postfix wants around IPv6 addresses.

Every problem is an :class:`AnswerError` (file, line, key path, Msg); all of
them are raised together in one :class:`AnswerErrors`.  No input raises
anything else.

One table (``FORMAT``) drives the validator, the defaults, :func:`dump` and
:func:`schema`.  The JSON Schema is coarser than the validator: every file the
validator accepts passes the schema, but semantic rules (host bits in a network,
dead blocklists, cross-key rules) exist only in the validator.

Decisions the spec leaves open:

* ``message_size_limit_mb`` is at most 1024.  The format has no mailbox size
  key; the steps raise ``mailbox_size_limit`` to at least the message size
  limit, so "message size above the mailbox size limit" cannot arise from a
  valid answer file and is not checked here.
* ``postfix.networks`` refuses networks that trust too much of the internet:
  private ranges (10/8, 172.16/12, 192.168/16, 127/8, 169.254/16, 100.64/10,
  fc00::/7, fe80::/10) may be as wide as their whole block but never wider
  than /8; any other network must be /16 or narrower for IPv4 and /32 or
  narrower for IPv6 (an ISP's allocation).  IPv4-mapped IPv6 networks count
  as IPv4.  The same rule applies to network keys with action ``OK`` in
  ``spam.access``.
* Network keys in ``spam.access`` are CIDR: the steps must write them to a
  ``cidr:`` table, the other keys to the ordinary access map.
* Spamhaus lists (``*.spamhaus.org``) are accepted with a warning that they need
  a local resolver; the steps add the ``=127.0.0.[2..11]`` reply filter.
"""
from __future__ import annotations

from installer.answers.errors import (
    FORMAT_VERSION, MAX_BYTES, MAX_DEPTH, MAX_ERRORS, MAX_MESSAGE_SIZE_MB, AnswerError, AnswerErrors, Answers,
    format_errors, format_path)
from installer.answers.fields import (
    Bool, Choice, Const, Enum, Field, Int, ListOf, Map, Nullable, Text, text_problem)
from installer.answers.values import KINDS, Kind
from installer.answers.format_v1 import DEFAULTS, FORMAT
from installer.answers.validate import OVERRIDE_FILE, apply_override, load, loads, validate_data
from installer.answers.dump import dump
from installer.answers.schema import SCHEMA_PATH, schema, schema_json, write_schema

__all__ = [
    "FORMAT_VERSION", "MAX_BYTES", "MAX_DEPTH", "MAX_ERRORS", "MAX_MESSAGE_SIZE_MB", "AnswerError", "AnswerErrors",
    "Answers", "format_errors", "format_path", "Bool", "Choice", "Const", "Enum", "Field", "Int", "ListOf", "Map",
    "Nullable", "Text", "text_problem", "KINDS", "Kind", "DEFAULTS", "FORMAT", "OVERRIDE_FILE", "apply_override",
    "load", "loads", "validate_data", "dump", "SCHEMA_PATH", "schema", "schema_json", "write_schema",
]
