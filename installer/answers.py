"""The answer file (``shared/spec/answers-v1.md``): read, validate, write, describe.

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

import copy
import re
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from installer.i18n import Msg, N_

FORMAT_VERSION = 1
MAX_BYTES = 256 * 1024       # a complete answer file is about 3 KiB
MAX_DEPTH = 16               # the format nests 4 deep
MAX_ERRORS = 100
MAX_MESSAGE_SIZE_MB = 1024

Path_ = Tuple[Any, ...]      # a key path: ("postfix", "networks", 1)


# --------------------------------------------------------------------------
# Errors and results

class AnswerError:
    """One problem: where it is and what is wrong (``Msg``, rendered later)."""

    __slots__ = ("file", "line", "key_path", "message")

    def __init__(self, file: str, line: Optional[int], key_path: str, message: Msg):
        self.file = file
        self.line = line
        self.key_path = key_path
        self.message = message

    def location(self) -> str:
        where = _safe_text(self.file, 200)
        if self.line is not None:
            where += ":%d" % self.line
        if self.key_path:
            where += ": " + self.key_path
        return where

    def render(self, lang: Optional[str] = None) -> str:
        return self.location() + ": " + self.message.render(lang)

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return "AnswerError(%r, %r, %r, %r)" % (self.file, self.line, self.key_path, self.message)

    def __eq__(self, other) -> bool:
        return isinstance(other, AnswerError) and (self.file, self.line, self.key_path, self.message) == (
            other.file, other.line, other.key_path, other.message)


class AnswerErrors(Exception):
    """All the problems of one answer file; ``errors`` is never empty."""

    def __init__(self, errors: List[AnswerError], warnings: Sequence[Msg] = ()):
        self.errors = list(errors)
        self.warnings = list(warnings)
        super().__init__(format_errors(self.errors, "en"))


def format_errors(errors: Iterable[AnswerError], lang: Optional[str] = None) -> str:
    """One line per error: ``answers.yaml:12: postfix.networks[1]: ...``."""
    return "\n".join(error.render(lang) for error in errors)


class Answers(dict):
    """The validated answers as a plain nested dict, defaults filled in.

    ``warnings``: non-fatal problems (``Msg``, each prefixed with its location);
    ``source``: the file name the answers came from.
    """

    def __init__(self, data=(), warnings: Sequence[Msg] = (), source: str = "", given: Sequence[str] = ()):
        super().__init__(data)
        self.warnings: List[Msg] = list(warnings)
        self.source = source
        # Top-level keys the file itself wrote (not filled from the defaults):
        # the CLI lets a written `language` choose the step log's language.
        self.given = frozenset(given)


# --------------------------------------------------------------------------
# Small helpers

_UNSAFE_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_LABEL_RE = re.compile(_LABEL + r"\Z")


def _safe_text(text: str, limit: int = 80) -> str:
    """Text that is safe to print on a terminal: control characters escaped, bounded."""
    if len(text) > limit:
        text = text[:limit] + "..."
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape", "backslashreplace").decode("ascii")
                   for ch in text)


def _show(value: Any) -> str:
    """A user value for a message: quoted, escaped, short."""
    if isinstance(value, str):
        return '"' + _safe_text(value, 60) + '"'
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _safe_text(repr(value), 40)
    return _safe_text(type(value).__name__, 40)


def format_path(path: Path_) -> str:
    """("postfix", "networks", 1) -> "postfix.networks[1]"."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += "[%d]" % part
        else:
            out += ("." if out else "") + _safe_text(str(part), 60)
    return out


def _describe_type(value: Any) -> Msg:
    if value is None:
        return Msg(N_("null (nothing)"))
    if isinstance(value, bool):
        return Msg(N_("true/false"))
    if isinstance(value, int):
        return Msg(N_("a number"))
    if isinstance(value, float):
        return Msg(N_("a decimal number"))
    if isinstance(value, str):
        return Msg(N_("text"))
    if isinstance(value, list):
        return Msg(N_("a list"))
    if isinstance(value, dict):
        return Msg(N_("a mapping"))
    return Msg(N_("a value of another kind"))


def _closest(word: str, choices: Iterable[str]) -> Optional[str]:
    import difflib
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def _is_secret_key(key: Any) -> bool:
    if not isinstance(key, str):
        return False
    lowered = key.lower()
    if lowered == "password_env":
        return False
    return "password" in lowered or "passwd" in lowered


# --------------------------------------------------------------------------
# Validation context

class _Ctx:
    def __init__(self, filename: str, locations: Optional[Dict[Path_, Tuple[str, Optional[int]]]] = None,
                 profile=None, root=None):
        self.filename = filename
        self.locations = locations if locations is not None else {}
        self.profile = profile
        self.root = root
        self.errors: List[AnswerError] = []
        self.warnings: List[Msg] = []
        self.suppressed: set = set()     # paths whose value is already reported (alias, duplicate)
        self.truncated = False

    def where(self, path: Path_) -> Tuple[str, Optional[int]]:
        for size in range(len(path), -1, -1):
            found = self.locations.get(tuple(path[:size]))
            if found is not None:
                return found
        return self.filename, None

    def error(self, path: Path_, message: Msg, line: Optional[int] = None) -> None:
        path = tuple(path)
        if any(path[:size] in self.suppressed for size in range(len(path) + 1)):
            return
        if len(self.errors) >= MAX_ERRORS:
            self.truncated = True
            return
        file, found_line = self.where(path)
        self.errors.append(AnswerError(file, line if line is not None else found_line, format_path(path), message))

    def warn(self, path: Path_, message: Msg) -> None:
        file, line = self.where(tuple(path))
        location = file + (":%d" % line if line is not None else "") + (": " + format_path(path) if path else "")
        self.warnings.append(Msg(N_("{location}: {message}"), location=_safe_text(location, 200), message=message))

    def errors_at(self, path: Path_) -> int:
        text = format_path(path)
        return sum(1 for error in self.errors if error.key_path == text)

    def raise_if_errors(self) -> None:
        if not self.errors:
            return
        errors = sorted(self.errors, key=lambda e: (e.file != self.filename, e.line is None, e.line or 0))
        if self.truncated:
            errors.append(AnswerError(self.filename, None, "", Msg(
                N_("too many errors: only the first {count} are shown"), count=MAX_ERRORS)))
        raise AnswerErrors(errors, self.warnings)


# --------------------------------------------------------------------------
# Reading YAML safely

class _Failed(Exception):
    """Parsing cannot go on; the reason is already in the context."""


_NOKEY = object()
_BADKEY = object()


class _Frame:
    __slots__ = ("is_map", "value", "path", "discard", "key", "key_line", "key_lines", "start_line")

    def __init__(self, is_map: bool, path: Optional[Path_], discard: bool):
        self.is_map = is_map
        self.value: Any = {} if is_map else []
        self.path = path
        self.discard = discard
        self.key: Any = _NOKEY
        self.key_line: Optional[int] = None
        self.key_lines: Dict[str, int] = {}
        self.start_line: Optional[int] = None


_CORE_TAGS = {
    "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null",
}
_COLLECTION_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}

_yaml_tools: Dict[str, Any] = {}


def _yaml():
    """yaml, the fastest safe loader class, a resolver and a constructor (imported on first use)."""
    if not _yaml_tools:
        import yaml
        _yaml_tools["yaml"] = yaml
        _yaml_tools["Loader"] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        _yaml_tools["resolver"] = yaml.resolver.Resolver()
        _yaml_tools["constructor"] = yaml.constructor.SafeConstructor()
    return _yaml_tools


def _scalar_value(event, line: int, path: Optional[Path_], ctx: _Ctx):
    tools = _yaml()
    yaml = tools["yaml"]
    tag = event.tag
    if tag == "!":
        tag = "tag:yaml.org,2002:str"
    elif tag is None:
        tag = tools["resolver"].resolve(yaml.ScalarNode, event.value, event.implicit)
    elif tag not in _CORE_TAGS:
        ctx.error(path or (), Msg(N_("YAML tags such as {tag} are not allowed; write a plain value"),
                                  tag=_short_tag(tag)), line)
        if path is not None:
            ctx.suppressed.add(path)
        return None
    if tag == "tag:yaml.org,2002:str" or tag not in _CORE_TAGS:
        # Dates and other implicit YAML types stay text, as written.
        return event.value
    node = yaml.ScalarNode(tag, event.value)
    constructor = tools["constructor"]
    try:
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag == "tag:yaml.org,2002:bool":
            return constructor.construct_yaml_bool(node)
        if tag == "tag:yaml.org,2002:int":
            return constructor.construct_yaml_int(node)
        return constructor.construct_yaml_float(node)
    except Exception:  # a value its tag cannot read, e.g. "!!int abc" or a 5000-digit number
        ctx.error(path or (), Msg(N_("{value} cannot be read as a {kind} value"), value=_show(event.value),
                                  kind=tag.rsplit(":", 1)[-1]), line)
        return None


def _short_tag(tag: str) -> str:
    if tag.startswith("tag:yaml.org,2002:"):
        tag = "!!" + tag[len("tag:yaml.org,2002:"):]
    return _safe_text(tag, 60)


def _parse_yaml(text: str, ctx: _Ctx, base_path: Path_ = (), record: bool = True):
    """The one document in *text* as plain Python values, with key lines recorded in ctx.

    Refuses anchors, aliases, tags other than the core ones, duplicate keys,
    non-text keys, more than one document and nesting deeper than MAX_DEPTH.
    Returns None for an empty document; raises _Failed on a syntax error.
    """
    tools = _yaml()
    yaml = tools["yaml"]
    ev = yaml.events
    loader = tools["Loader"](text)
    frames: List[_Frame] = []
    root: Any = None
    documents = 0

    def child_path() -> Tuple[Optional[Path_], bool]:
        if not frames:
            return base_path, False
        top = frames[-1]
        if top.discard or top.path is None:
            return None, True
        if not top.is_map:
            return top.path + (len(top.value),), False
        if top.key is _NOKEY or top.key is _BADKEY:
            return None, True
        return top.path + (top.key,), False

    def attach(value: Any, line: int, path: Optional[Path_]) -> None:
        nonlocal root
        if not frames:
            root = value
            if record:
                ctx.locations[base_path] = (ctx.filename, line)
            return
        top = frames[-1]
        if not top.is_map:
            if not top.discard:
                if record and path is not None:
                    ctx.locations[path] = (ctx.filename, line)
                top.value.append(value)
            return
        if top.key is _NOKEY:
            if not isinstance(value, str):
                ctx.error(top.path or (), Msg(
                    N_("a key must be text, found {found}; put the key in quotes"),
                    found=_describe_type(value)), line)
                top.key = _BADKEY
            elif value in top.key_lines:
                dup_path = (top.path or ()) + (value,)
                ctx.error(dup_path, Msg(N_("duplicate key: it is already set on line {first}"),
                                        first=top.key_lines[value]), line)
                top.key = _BADKEY
            else:
                top.key = value
                top.key_line = line
                top.key_lines[value] = line
            return
        if top.key is not _BADKEY and not top.discard:
            top.value[top.key] = value
            if record and top.path is not None:
                ctx.locations[top.path + (top.key,)] = (ctx.filename, top.key_line)
        top.key = _NOKEY

    reported = set()    # one error for anchors, one for aliases: an alias bomb has thousands

    def refuse_anchor(event, line: int, path: Optional[Path_]) -> None:
        if getattr(event, "anchor", None) and "anchor" not in reported:
            reported.add("anchor")
            ctx.error(path or base_path, Msg(
                N_("YAML anchors (&{name}) and aliases are not allowed; write each value out"),
                name=_safe_text(event.anchor, 40)), line)

    try:
        while loader.check_event():
            event = loader.get_event()
            line = event.start_mark.line + 1 if event.start_mark is not None else None
            if isinstance(event, ev.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    ctx.error(base_path, Msg(N_("only one YAML document is allowed; remove the second one (---)")),
                              line)
                    raise _Failed()
            elif isinstance(event, ev.ScalarEvent):
                path, _discard = child_path()
                refuse_anchor(event, line, path)
                attach(_scalar_value(event, line, path, ctx), line, path)
            elif isinstance(event, ev.AliasEvent):
                path, _discard = child_path()
                if "alias" not in reported:
                    reported.add("alias")
                    ctx.error(path or base_path, Msg(
                        N_("YAML aliases (*{name}) and anchors are not allowed; write each value out"),
                        name=_safe_text(event.anchor or "", 40)), line)
                if path is not None:
                    ctx.suppressed.add(path)
                attach(None, line, path)
            elif isinstance(event, (ev.MappingStartEvent, ev.SequenceStartEvent)):
                path, discard = child_path()
                refuse_anchor(event, line, path)
                if event.tag is not None and event.tag not in _COLLECTION_TAGS and event.tag != "!":
                    ctx.error(path or base_path, Msg(N_("YAML tags such as {tag} are not allowed; write a plain value"),
                                                     tag=_short_tag(event.tag)), line)
                    if path is not None:
                        ctx.suppressed.add(path)
                if len(frames) >= MAX_DEPTH:
                    ctx.error((path or base_path)[:1], Msg(N_("nested too deeply (more than {depth} levels)"),
                                                           depth=MAX_DEPTH), line)
                    raise _Failed()
                frame = _Frame(isinstance(event, ev.MappingStartEvent), path, discard)
                frame.start_line = line
                frames.append(frame)
            elif isinstance(event, (ev.MappingEndEvent, ev.SequenceEndEvent)):
                frame = frames.pop()
                attach(frame.value, frame.start_line or line, frame.path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or str(exc)
        ctx.error(base_path, Msg(N_("not valid YAML: {problem}"), problem=_safe_text(str(problem), 120)),
                  mark.line + 1 if mark is not None else None)
        raise _Failed()
    finally:
        loader.dispose()
    return root


def _decode(data: bytes, ctx: _Ctx) -> str:
    """UTF-8 text from *data*, refusing huge, binary and badly encoded input."""
    if len(data) > MAX_BYTES:
        ctx.error((), Msg(N_("the file is too large: an answer file is at most {limit} bytes"), limit=MAX_BYTES), 1)
        raise _Failed()
    if b"\x00" in data:
        ctx.error((), Msg(N_("this is a binary file, not a YAML answer file")),
                  data[:data.index(b"\x00")].count(b"\n") + 1)
        raise _Failed()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        ctx.error((), Msg(N_("the file is not UTF-8 text; save it as UTF-8")),
                  data[:exc.start].count(b"\n") + 1)
        raise _Failed()
    bad = re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]", text)
    if bad:
        ctx.error((), Msg(N_("the file contains a control character ({char}); only text is allowed"),
                          char=_safe_text(bad.group(), 10)), text.count("\n", 0, bad.start()) + 1)
        raise _Failed()
    return text


# --------------------------------------------------------------------------
# Value kinds: checks shared by the validator and the JSON Schema

def _fqdn_problem(value: str, min_labels: int = 2) -> Optional[Msg]:
    if value.endswith("."):
        return Msg(N_("{value}: write the name without the trailing dot"), value=_show(value))
    if len(value) > 253:
        return Msg(N_("a domain name is at most 253 characters long"))
    labels = value.split(".")
    if any(not label for label in labels):
        return Msg(N_("{value} has an empty label (two dots in a row, or a dot at the start)"), value=_show(value))
    for label in labels:
        if len(label) > 63:
            return Msg(N_("the label {label} is longer than 63 characters"), label=_show(label))
        if not _LABEL_RE.match(label):
            return Msg(N_("the label {label} may contain only letters, digits and hyphens, and must not start "
                          "or end with a hyphen"), label=_show(label))
    if labels[-1].isdigit():
        return Msg(N_("{value} looks like an IP address; a domain name is expected here"), value=_show(value))
    if len(labels) < min_labels:
        return Msg(N_("{value} is not fully qualified: add its domain, e.g. {example}"), value=_show(value),
                   example=value + ".example.com")
    return None


def _ip(value: str):
    """An ipaddress object, or None.  Scope ids (fe80::1%eth0) are refused."""
    import ipaddress
    if "%" in value:
        return None
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


_PRIVATE_BLOCKS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16",
                   "100.64.0.0/10", "fc00::/7", "fe80::/10", "::1/128")


def _too_broad(net) -> bool:
    """True when trusting *net* would trust too much of the internet (see the module docstring)."""
    import ipaddress
    if net.version == 6:
        mapped = ipaddress.ip_network("::ffff:0:0/96")
        if net.prefixlen >= 96 and net.subnet_of(mapped):
            net = ipaddress.ip_network("%s/%d" % (ipaddress.ip_address(int(net.network_address) & 0xFFFFFFFF),
                                                  net.prefixlen - 96))
        elif net.prefixlen < 96 and net.supernet_of(mapped):
            return True
    private = any(net.version == block.version and net.subnet_of(block)
                  for block in (ipaddress.ip_network(b) for b in _PRIVATE_BLOCKS))
    if net.version == 4:
        return net.prefixlen < 8 or (not private and net.prefixlen < 16)
    return net.prefixlen < 7 or (not private and net.prefixlen < 32)


_BROAD_MSG = N_("{value} trusts too much of the internet: hosts in it may relay mail anywhere (an open relay). "
                "Private ranges may be as wide as their block (10.0.0.0/8, fc00::/7); other networks at most "
                "/16 for IPv4 and /32 for IPv6")


def _network(value: str) -> Tuple[Optional[str], Optional[Msg]]:
    """Normalised CIDR text, or a problem."""
    import ipaddress
    text = value
    bracketed = re.match(r"\[([0-9A-Fa-f:.]+)\](/\d+)?\Z", text)
    if bracketed:
        text = bracketed.group(1) + (bracketed.group(2) or "")
    if "/" not in text:
        address = _ip(text)
        if address is not None:
            return None, Msg(N_("{value} needs a prefix length in CIDR form, e.g. {example}"), value=_show(value),
                             example="%s/%d" % (address, address.max_prefixlen))
        return None, Msg(N_("{value} is not a network in CIDR form, e.g. 192.168.1.0/24 or 2001:db8::/48"),
                         value=_show(value))
    if "%" in text:
        return None, Msg(N_("{value}: scope ids (%...) are not allowed"), value=_show(value))
    try:
        loose = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None, Msg(N_("{value} is not a network in CIDR form, e.g. 192.168.1.0/24 or 2001:db8::/48"),
                         value=_show(value))
    if loose.network_address != ipaddress.ip_interface(text).ip:
        return None, Msg(N_("{value} has host bits set; did you mean {network}?"), value=_show(value),
                         network=str(loose))
    return str(loose), None


class Kind:
    """A kind of text value: its JSON Schema pattern, what is valid, and its own checks."""

    def __init__(self, name: str, pattern: str, expected: Msg, check=None, max_length: int = 255):
        self.name = name
        self.pattern = pattern
        self._regex = None          # compiled on first use: importing this module stays cheap
        self.expected = expected
        self.check = check            # value -> (normalised value, Optional[Msg])
        self.max_length = max_length

    def validate(self, value: str) -> Tuple[str, Optional[Msg]]:
        if self.check is not None:
            normal, problem = self.check(value)
            if problem is not None:
                return value, problem
            value = normal
        if self._regex is None:
            self._regex = re.compile(self.pattern)
        if not self._regex.search(value):
            return value, Msg(N_("{value} is not valid here; expected {expected}"), value=_show(value),
                              expected=self.expected)
        return value, None


def _plain(problem_fn):
    """A check that only finds problems (does not normalise)."""
    def check(value: str):
        return value, problem_fn(value)
    return check


_HOST_PATTERN = r"^%s(\.%s)+$" % (_LABEL, _LABEL)
_DOMAIN1_PATTERN = r"^%s(\.%s)*$" % (_LABEL, _LABEL)
_TEXT_CHARS = r"[A-Za-z0-9 .,:;()_@!?/=+'-]"


def _origin_problem(value: str) -> Optional[Msg]:
    if value in ("$mydomain", "$myhostname"):
        return None
    if "$" in value:
        return Msg(N_("{value} is not valid here; expected $mydomain, $myhostname or a domain name"),
                   value=_show(value))
    return _fqdn_problem(value, 1)


def _destination_problem(value: str) -> Optional[Msg]:
    if value in ("$mydomain", "$myhostname"):
        return None
    if value.endswith(".$mydomain"):
        return _fqdn_problem(value[:-len(".$mydomain")], 1)
    if "$" in value:
        return Msg(N_("{value}: only $myhostname, $mydomain and name.$mydomain may use $"), value=_show(value))
    if ":" in value or "/" in value:
        return Msg(N_("{value}: lookup tables and files are not allowed here; list domain names"),
                   value=_show(value))
    return _fqdn_problem(value, 1)


def _ip_problem(value: str) -> Optional[Msg]:
    if _ip(value) is None:
        return Msg(N_("{value} is not an IP address"), value=_show(value))
    return None


def _listen_problem(value: str) -> Optional[Msg]:
    if value in ("*", "::"):
        return None
    if _ip(value) is None:
        return Msg(N_("{value} is not \"*\", \"::\" or an IP address"), value=_show(value))
    return None


def _mailbox_problem(value: str) -> Optional[Msg]:
    parts = (value[:-1] if value.endswith("/") else value).split("/")
    if value.startswith("/") or any(part in ("", ".", "..") for part in parts):
        return Msg(N_("{value}: expected a path relative to the home folder, e.g. Maildir/ (a Maildir) or "
                      "Mailbox (a file), without . or .. parts"), value=_show(value))
    return None


_BANNER_VAR = r"\$(myhostname|mydomain)(?![A-Za-z0-9_])"


def _banner_problem(value: str) -> Optional[Msg]:
    if not re.match(r"\$myhostname(?![A-Za-z0-9_])", value):
        return Msg(N_("the banner must start with $myhostname (the SMTP protocol requires it), e.g. "
                      "\"$myhostname ESMTP\""))
    lowered = value.lower()
    if "postfix" in lowered or "$mail_name" in lowered or "$mail_version" in lowered or "${mail_" in lowered:
        return Msg(N_("the banner must not name the mail software or its version; e.g. \"$myhostname ESMTP\""))
    return None


def _mail_location_problem(value: str) -> Optional[Msg]:
    driver, _, where = value.partition(":")
    path = where[1:] if where.startswith("~") else where
    if ".." in path.split("/") or re.search(r"%(?![udnh])", path):
        return Msg(N_("{value}: no .. parts, and only %u, %n, %d, %h may follow %"), value=_show(value))
    return None


def _relayhost_problem(value: str) -> Optional[Msg]:
    match = re.match(r"(\[([^\]]*)\]|([^:\[\]]*))(:(\d{1,5}))?\Z", value)
    if not match:
        return Msg(N_("{value} is not a relay host: write \"[smtp.example.net]:587\" or \"smtp.example.net\""),
                   value=_show(value))
    host = match.group(2) if match.group(2) is not None else match.group(3)
    port = match.group(5)
    if port is not None and not 1 <= int(port) <= 65535:
        return Msg(N_("port {port} is out of range (1-65535)"), port=port)
    if match.group(2) is not None:
        if _ip(host) is not None:
            return None
        return _fqdn_problem(host, 2)
    if _ip(host) is not None:
        return Msg(N_("put an IP address in brackets so that no MX lookup is done: {example}"),
                   example="[%s]%s" % (host, ":" + port if port else ""))
    return _fqdn_problem(host, 2)


def _local_part_ok(local: str) -> bool:
    return bool(re.match(r"[A-Za-z0-9_%+=-]+(\.[A-Za-z0-9_%+=-]+)*\Z", local))


def _alias_target_problem(value: str) -> Optional[Msg]:
    if "@" in value:
        local, _, domain = value.rpartition("@")
        if not _local_part_ok(local) or _fqdn_problem(domain, 1) is not None:
            return Msg(N_("{value} is not a mail address such as admin@example.com"), value=_show(value))
        return None
    if value == "root":
        return Msg(N_("root's mail cannot go to root itself; give another user or an address"))
    if not re.match(r"[A-Za-z_][A-Za-z0-9_.-]{0,31}\Z", value):
        return Msg(N_("{value} is neither a mail address nor a local user name"), value=_show(value))
    return None


def _access_key_check(value: str) -> Tuple[str, Optional[Msg]]:
    if "@" in value:
        local, _, domain = value.rpartition("@")
        if not local or not _local_part_ok(local) or (domain and _fqdn_problem(domain, 1) is not None):
            return value, Msg(N_("{value} is not a mail address (user@example.com) or user@"), value=_show(value))
        return value, None
    if "/" in value:
        return _network_checked(value)
    if ":" in value or re.match(r"[\d.]+\Z", value):
        if _ip(value) is None:
            return value, Msg(N_("{value} is not an IP address; write networks in CIDR form, e.g. 192.0.2.0/24"),
                              value=_show(value))
        return value, None
    return value, _fqdn_problem(value[1:] if value.startswith(".") else value, 1)


def _network_checked(value: str) -> Tuple[str, Optional[Msg]]:
    normal, problem = _network(value)
    return (normal if normal is not None else value), problem


_ACTION_WORDS = ("OK", "DUNNO", "REJECT", "DEFER", "DISCARD", "HOLD", "WARN")


def _action_problem(value: str) -> Optional[Msg]:
    word, _, text = value.partition(" ")
    if word.upper() in _ACTION_WORDS and word != word.upper():
        return Msg(N_("write the action in capitals: {suggestion}"), suggestion=_show(word.upper()))
    if word in ("OK", "DUNNO") and text:
        return Msg(N_("{word} takes no text"), word=word)
    if word not in _ACTION_WORDS and not re.match(r"[45]\d\d\Z", word):
        return Msg(N_("{value} is not an access action: OK, REJECT, DISCARD, DUNNO, HOLD, DEFER, "
                      "\"REJECT text\", \"554 text\" or \"WARN text\""), value=_show(value))
    if (word == "WARN" or word[0] in "45") and not text.strip():
        return Msg(N_("{word} needs a text, e.g. \"{word} go away\""), word=word)
    return None


def _rbl_problem(value: str) -> Optional[Msg]:
    return _fqdn_problem(value, 2)


KINDS: Dict[str, Kind] = {k.name: k for k in (
    Kind("hostname", _HOST_PATTERN, Msg(N_("a fully qualified host name such as mail.example.com")),
         _plain(_fqdn_problem), 253),
    Kind("domain", _HOST_PATTERN, Msg(N_("a domain name such as example.com")), _plain(_fqdn_problem), 253),
    Kind("origin", r"^(\$mydomain|\$myhostname|%s)$" % _DOMAIN1_PATTERN[1:-1],
         Msg(N_("$mydomain, $myhostname or a domain name")), _plain(_origin_problem), 253),
    Kind("destination", r"^(\$mydomain|\$myhostname|(%s\.)*\$mydomain|%s)$" % (_LABEL, _DOMAIN1_PATTERN[1:-1]),
         Msg(N_("a domain name, $myhostname, $mydomain or a name like localhost.$mydomain")),
         _plain(_destination_problem), 253),
    Kind("ip", r"^[0-9A-Fa-f:.]+$", Msg(N_("an IP address such as 192.0.2.1 or 2001:db8::1")),
         _plain(_ip_problem), 45),
    Kind("network", r"^\[?[0-9A-Fa-f:.]+\]?/[0-9]{1,3}$",
         Msg(N_("a network in CIDR form such as 192.168.1.0/24 or 2001:db8::/48")), _network_checked, 60),
    Kind("home_mailbox", r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*/?$",
         Msg(N_("a path relative to the home folder: Maildir/ (ends in /) or a mailbox file name")),
         _plain(_mailbox_problem), 255),
    Kind("banner", r"^\$myhostname(?![A-Za-z0-9_])(%s|%s)*$" % (_TEXT_CHARS, _BANNER_VAR),
         Msg(N_("$myhostname followed by plain text (letters, digits, spaces, .,:;()_@!?/=+'-)")),
         _plain(_banner_problem), 200),
    Kind("path", r"^(/[A-Za-z0-9_+@=-][A-Za-z0-9._+@=-]*)+$",
         Msg(N_("an absolute file path on the target, e.g. /etc/pki/tls/certs/mail.pem")),
         _plain(lambda v: Msg(N_("{value}: no . or .. parts are allowed in the path"), value=_show(v))
                if any(p in (".", "..") for p in v.split("/")) else None), 1024),
    Kind("relayhost", r"^(\[[A-Za-z0-9.:-]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$",
         Msg(N_("a host such as \"[smtp.example.net]:587\" or smtp.example.net")), _plain(_relayhost_problem), 260),
    Kind("username", r"^[A-Za-z0-9._@+=%-]+$",
         Msg(N_("a user name of letters, digits and ._@+=%-")), None, 256),
    Kind("env_name", r"^[A-Z_][A-Z0-9_]*$",
         Msg(N_("an environment variable name such as MAILWIZ_RELAY_PASSWORD")), None, 128),
    Kind("listen", r"^(\*|[0-9A-Fa-f:.]+)$", Msg(N_("\"*\", \"::\" or an IP address")), _plain(_listen_problem), 45),
    Kind("mail_location", r"^(maildir|mbox|sdbox|mdbox):(~/|/)[A-Za-z0-9._/%-]*$",
         Msg(N_("a driver and a path such as maildir:~/Maildir (drivers: maildir, mbox, sdbox, mdbox)")),
         _plain(_mail_location_problem), 255),
    Kind("alias_target", r"^([A-Za-z0-9_%+=.-]+@[A-Za-z0-9.-]+|[A-Za-z_][A-Za-z0-9_.-]*)$",
         Msg(N_("a mail address such as admin@example.com or a local user name")), _plain(_alias_target_problem),
         254),
    Kind("access_key", r"^[A-Za-z0-9._%+=@:/\[\]-]+$",
         Msg(N_("a domain, a mail address, an IP address or a network (CIDR)")), _access_key_check, 254),
    Kind("access_action", r"^(OK|DUNNO|((REJECT|DEFER|DISCARD|HOLD)( %s+)?)|((WARN|[45][0-9][0-9]) %s+))$"
         % (_TEXT_CHARS, _TEXT_CHARS),
         Msg(N_("OK, REJECT, DISCARD, DUNNO, HOLD, DEFER, \"REJECT text\", \"554 text\" or \"WARN text\"")),
         _plain(_action_problem), 200),
    Kind("rbl", _HOST_PATTERN, Msg(N_("a DNS blocklist zone such as zen.spamhaus.org")), _plain(_rbl_problem), 253),
    Kind("selector", r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$",
         Msg(N_("a DKIM selector: one DNS label of letters, digits and -, e.g. 202612")), None, 63),
    Kind("email", r"^[A-Za-z0-9_%%+=.-]+@%s(\.%s)+$" % (_LABEL, _LABEL),
         Msg(N_("a mail address such as admin@example.com")), None, 254),
    Kind("url", r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%/+-]*)?$",
         Msg(N_("an ACME directory address such as https://acme-v02.api.letsencrypt.org/directory")), None, 500),
)}


# --------------------------------------------------------------------------
# Postfix restriction names, per list of spam.*

RESTRICTIONS: Dict[str, Tuple[str, ...]] = {
    "client": ("reject_unknown_client_hostname", "reject_unknown_reverse_client_hostname"),
    "helo": ("reject_invalid_helo_hostname", "reject_non_fqdn_helo_hostname", "reject_unknown_helo_hostname"),
    "sender": ("reject_non_fqdn_sender", "reject_unknown_sender_domain", "reject_unlisted_sender"),
    "recipient": ("reject_non_fqdn_recipient", "reject_unknown_recipient_domain", "reject_unlisted_recipient",
                  "reject_unauth_pipelining", "reject_multi_recipient_bounce"),
}

# Renamed in Postfix 2.3; the old names are gone from current releases.
RENAMED_RESTRICTIONS = {
    "reject_invalid_hostname": "reject_invalid_helo_hostname",
    "reject_unknown_hostname": "reject_unknown_helo_hostname",
    "reject_non_fqdn_hostname": "reject_non_fqdn_helo_hostname",
    "reject_unknown_client": "reject_unknown_client_hostname",
}

# Relay control is written by the steps (smtpd_relay_restrictions, or the head of
# the recipient list before 2.10): a user-given permit could open the relay.
RELAY_RESTRICTIONS = ("permit", "reject", "defer", "permit_mynetworks", "permit_sasl_authenticated",
                      "permit_auth_destination", "reject_unauth_destination", "defer_unauth_destination",
                      "check_relay_domains", "permit_mx_backup", "permit_tls_clientcerts",
                      "permit_tls_all_clientcerts", "permit_inet_interfaces")


def _restriction_problem(value: str, list_name: str) -> Optional[Msg]:
    if value in RESTRICTIONS[list_name]:
        return None
    name = value.split()[0] if value.split() else value   # "check_client_access hash:..." -> its name
    if name in RENAMED_RESTRICTIONS:
        return Msg(N_("{name} was renamed in Postfix 2.3: write {new}"), name=_show(name),
                   new=RENAMED_RESTRICTIONS[name])
    if name in RELAY_RESTRICTIONS or name.startswith("permit"):
        return Msg(N_("{name} is not allowed here: mailwiz writes the relay rules (permit_mynetworks, "
                      "permit_sasl_authenticated, reject_unauth_destination) itself"), name=_show(name))
    if name.startswith("check_") and name.endswith("_access"):
        return Msg(N_("{name} is not allowed here: put access entries in spam.access and mailwiz adds the "
                      "access map"), name=_show(name))
    if "rbl" in name or "dnswl" in name:
        return Msg(N_("{name} is not allowed here: list DNS blocklists in spam.rbl"), name=_show(name))
    for other, names in RESTRICTIONS.items():
        if name in names:
            return Msg(N_("{name} belongs in spam.{other}"), name=_show(name), other=other)
    suggestion = _closest(name, [n for names in RESTRICTIONS.values() for n in names])
    if suggestion:
        return Msg(N_("{name} is not a restriction mailwiz knows; did you mean {suggestion}? Valid here: {valid}"),
                   name=_show(name), suggestion=suggestion, valid=", ".join(RESTRICTIONS[list_name]))
    return Msg(N_("{name} is not a restriction mailwiz knows; valid here: {valid}"), name=_show(name),
               valid=", ".join(RESTRICTIONS[list_name]))


def _restriction_kind(list_name: str) -> Kind:
    names = RESTRICTIONS[list_name]

    def check(value: str):
        return value, _restriction_problem(value, list_name)

    return Kind("restriction_" + list_name, "^(%s)$" % "|".join(names),
                Msg(N_("one of {names}"), names=", ".join(names)), check, 64)


for _list_name in RESTRICTIONS:
    KINDS["restriction_" + _list_name] = _restriction_kind(_list_name)


# --------------------------------------------------------------------------
# DNS blocklists

DEAD_RBLS: Dict[str, str] = {
    # zone (or parent zone) -> why it is refused
    "dsbl.org": N_("DSBL closed in 2008 and its zone later listed every address"),
    "sbl-xbl.spamhaus.org": N_("Spamhaus retired this zone"),
    "ordb.org": N_("ORDB closed in 2006"),
    "njabl.org": N_("NJABL closed in 2013"),
    "ahbl.org": N_("AHBL closed in 2015 and its zone then listed every address"),
    "sorbs.net": N_("SORBS was shut down in 2024"),
    "spamcannibal.org": N_("SpamCannibal is gone and its domain was taken over"),
}


def _rbl_verdict(zone: str) -> Tuple[Optional[str], Optional[Msg]]:
    """(reason it is dead or None, warning or None)."""
    lowered = zone.lower()
    for dead, reason in DEAD_RBLS.items():
        if lowered == dead or lowered.endswith("." + dead):
            return reason, None
    if lowered == "all.rbl.jp" or lowered.endswith(".rbl.jp"):
        return None, Msg(N_("{zone}: the list's status is unknown and its site stopped updating in 2008; "
                            "make sure it still works before relying on it"), zone=zone)
    if lowered.endswith(".spamhaus.org"):
        return None, Msg(N_("{zone}: Spamhaus does not answer queries that come through public DNS resolvers; "
                            "the server needs its own resolver"), zone=zone)
    return None, None


# --------------------------------------------------------------------------
# The format: one table for validation, defaults, dump and schema

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


def _unknown_key_msg(key: Any, path: Path_, mapping: Map) -> Msg:
    here = [name for name in mapping.fields]
    suggestion = _closest(str(key), here)
    if suggestion:
        return Msg(N_("unknown key; did you mean {suggestion}?"), suggestion=format_path(path + (suggestion,)))
    elsewhere = [p for p in _known_paths(FORMAT) if p[-1] == key]
    if elsewhere:
        return Msg(N_("unknown key here; did you mean {suggestion}?"), suggestion=format_path(elsewhere[0]))
    return Msg(N_("unknown key; the keys here are {keys}"), keys=", ".join(here))


_RELAYHOST = Map([
    ("host", Text("relayhost", description="smarthost: \"[smtp.example.net]:587\" (no MX lookup) or a host name")),
    ("username", Nullable(Text("username"), default=None, description="user name for SMTP AUTH at the relay")),
    ("password_env", Nullable(Text("env_name"), default=None,
                              description="name of the environment variable that holds the relay password")),
], required=("host",))

FORMAT = Map([
    ("version", Const(FORMAT_VERSION, description="format version; must be 1")),
    ("language", Enum(("ja", "en"), default="ja", description="language of messages and of the step log")),
    ("system", Map([
        ("update", Bool(default=True, description="full package update first")),
        ("existing_mta", Enum(("remove", "alternatives"), default="remove",
                              description="what to do with sendmail (RHEL family)")),
        ("firewall", Bool(default=True, description="open the enabled mail ports in the active firewall")),
        ("selinux", Bool(default=True, description="RHEL family: keep SELinux enforcing and fix labels")),
    ])),
    ("postfix", Map([
        ("hostname", Text("hostname", default="mail.example.com", description="myhostname")),
        ("domain", Text("domain", default="example.com", description="mydomain")),
        ("origin", Text("origin", default="$mydomain", description="myorigin")),
        ("inet_interfaces", Choice(("all", "loopback-only"), ListOf(Text("ip"), min_items=1), default="all",
                                   description="all | loopback-only | a list of addresses")),
        ("destinations", ListOf(Text("destination"),
                              default=["$myhostname", "localhost.$mydomain", "localhost", "$mydomain"],
                              description="mydestination")),
        ("networks", ListOf(Text("network"), default=["127.0.0.0/8"],
                          description="mynetworks: IPv4/IPv6 networks in CIDR form")),
        ("relay_domains", ListOf(Text("domain"), default=[], description="domains this server relays for")),
        ("home_mailbox", Text("home_mailbox", default="Maildir/",
                              description="Maildir/ (ends in /) or a mailbox file, relative to the home folder")),
        ("banner", Text("banner", default="$myhostname ESMTP",
                        description="smtpd_banner: starts with $myhostname, does not name the software")),
        ("message_size_limit_mb", Int(1, MAX_MESSAGE_SIZE_MB, default=10, description="message_size_limit in MiB")),
    ])),
    ("auth", Map([
        ("sasl", Bool(default=True, description="SMTP AUTH for users, through Dovecot SASL")),
        ("submission", Bool(default=True, description="port 587: STARTTLS and AUTH required")),
        ("tls", Map([
            ("certificate", Enum(("self-signed", "existing", "acme", "none"), default="self-signed")),
            ("cert_file", Nullable(Text("path"), default=None, description="with existing: path on the target")),
            ("key_file", Nullable(Text("path"), default=None, description="with existing: path on the target")),
            ("acme", Map([
                ("email", Nullable(Text("email"), default=None,
                                   description="with acme: the account's address for expiry notices")),
                ("directory", Nullable(Text("url"), default=None,
                                       description="with acme: the ACME directory; null: Let's Encrypt")),
            ])),
        ])),
    ])),
    ("relayhost", Nullable(_RELAYHOST, default=None, description="null, or a smarthost for outgoing mail")),
    ("dovecot", Map([
        ("protocols", ListOf(Enum(("imap", "pop3", "lmtp")), min_items=1, default=["imap", "pop3", "lmtp"],
                           description="a non-empty subset of imap, pop3, lmtp")),
        ("listen", ListOf(Text("listen"), min_items=1, default=["*"],
                        description="addresses; \"*\" all IPv4, \"::\" all IPv6")),
        ("mail_location", Text("mail_location", default="maildir:~/Maildir")),
    ])),
    ("aliases", Map([
        ("root", Nullable(Text("alias_target"), default=None,
                          description="where root's mail goes: an address or a local user; null leaves it")),
    ])),
    ("spam", Map([
        ("helo_required", Bool(default=True)),
        ("access", ListOf(Map([("key", Text("access_key")), ("action", Text("access_action"))],
                            required=("key", "action")),
                        unique_by="key", default=[{"key": "spammer.example", "action": "REJECT"}],
                        description="entries of the access map; empty: no map is used")),
        ("client", ListOf(Text("restriction_client"), default=[], description="extra client checks")),
        ("helo", ListOf(Text("restriction_helo"),
                      default=["reject_invalid_helo_hostname", "reject_non_fqdn_helo_hostname"])),
        ("sender", ListOf(Text("restriction_sender"),
                        default=["reject_unknown_sender_domain", "reject_non_fqdn_sender"])),
        ("recipient", ListOf(Text("restriction_recipient"), default=["reject_non_fqdn_recipient"])),
        ("rbl", ListOf(Text("rbl"), default=[], description="DNS blocklists for reject_rbl_client")),
    ])),
    ("services", Map([
        ("enable", Bool(default=True, description="start postfix and dovecot at boot")),
        ("start", Bool(default=True, description="start (or restart) them now")),
    ])),
    ("verify", Bool(default=True, description="after start: the self-test")),
    # Added compatibly in v1 (absent: as before).
    ("dkim", Map([
        ("enabled", Bool(default=False, description="OpenDKIM signing for postfix.domain")),
        ("selector", Nullable(Text("selector"), default=None,
                              description="DKIM selector; null: from the date of the first run, e.g. 202612")),
    ])),
    ("dmarc", Map([
        ("policy", Enum(("none", "quarantine", "reject"), default="none",
                        description="p= of the printed _dmarc record")),
        ("rua", Nullable(Text("email"), default=None,
                         description="address for aggregate reports; null: postmaster@DOMAIN")),
    ])),
], required=("version",))


DEFAULTS: Dict[str, Any] = {"version": FORMAT_VERSION, **FORMAT.defaults()}


# --------------------------------------------------------------------------
# Rules that span several keys

def _check_secrets(data: Any, ctx: _Ctx) -> None:
    """A key named like a password anywhere (even under unknown keys) is an error; its value is never shown."""
    stack: List[Tuple[Path_, Any]] = [((), data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key, sub in value.items():
                if _is_secret_key(key):
                    ctx.error(path + (key,), Msg(N_(
                        "secrets are never read from an answer file: remove this key and name an environment "
                        "variable in relayhost.password_env, or let the wizard ask for the password")))
                else:
                    stack.append((path + (key,), sub))
        elif isinstance(value, list):
            stack.extend((path + (index,), sub) for index, sub in enumerate(value))


def _check_rules(data: Dict[str, Any], given: Dict[str, Any], ctx: _Ctx) -> None:
    """Rules between keys and rules about mail service; *given* is the data as written (before defaults)."""
    postfix, auth, spam = data["postfix"], data["auth"], data["spam"]
    # A section of the wrong type is already reported; its rules are skipped.
    tls = auth["tls"] if isinstance(auth["tls"], dict) else {"certificate": None, "cert_file": None, "key_file": None,
                                                             "acme": {}}

    if data["system"]["existing_mta"] == "alternatives" and ctx.profile is not None \
            and getattr(ctx.profile, "mta_switch", None) != "alternatives":
        ctx.error(("system", "existing_mta"), Msg(
            N_("{profile} has no alternatives mechanism for the MTA; write existing_mta: remove"),
            profile=_safe_text(str(getattr(ctx.profile, "id", "?")), 40)))

    given_postfix = given.get("postfix") if isinstance(given.get("postfix"), dict) else {}
    for key in ("hostname", "domain"):
        if key not in given_postfix:
            ctx.warn(("postfix", key), Msg(N_("not given: the example value {value} is used"),
                                           value=_show(postfix[key])))
    hostname, domain = postfix["hostname"], postfix["domain"]
    names_ok = not ctx.errors_at(("postfix", "hostname")) and not ctx.errors_at(("postfix", "domain"))
    if names_ok and not hostname.lower().endswith("." + domain.lower()):
        ctx.warn(("postfix", "hostname"), Msg(N_("{hostname} is not inside the domain {domain}"),
                                              hostname=_show(hostname), domain=_show(domain)))

    networks = postfix["networks"]
    if isinstance(networks, list):
        import ipaddress
        for index, value in enumerate(networks):
            if not isinstance(value, str):
                continue
            try:
                net = ipaddress.ip_network(value)
            except ValueError:
                continue        # already reported
            if _too_broad(net):
                ctx.error(("postfix", "networks", index), Msg(_BROAD_MSG, value=_show(value)))

    def expand(name: str) -> str:
        return name.replace("$myhostname", str(hostname)).replace("$mydomain", str(domain)).lower()

    if isinstance(postfix["destinations"], list) and isinstance(postfix["relay_domains"], list):
        local = {expand(d) for d in postfix["destinations"] if isinstance(d, str)}
        for index, value in enumerate(postfix["relay_domains"]):
            if isinstance(value, str) and value.lower() in local:
                ctx.error(("postfix", "relay_domains", index), Msg(
                    N_("{value} is also in postfix.destinations: a domain is either delivered here or relayed, "
                       "not both"), value=_show(value)))

    if auth["submission"] is True and auth["sasl"] is False:
        ctx.error(("auth", "submission"), Msg(N_("submission needs SMTP AUTH: set auth.sasl: true or "
                                                 "auth.submission: false")))
    if tls["certificate"] == "none" and (auth["sasl"] is True or auth["submission"] is True):
        ctx.error(("auth", "tls", "certificate"), Msg(
            N_("SMTP AUTH and submission need TLS, or passwords would cross the network in clear text: choose "
               "self-signed, existing or acme, or set auth.sasl and auth.submission to false")))
    if tls["certificate"] == "existing":
        for key in ("cert_file", "key_file"):
            path = tls[key]
            if path is None:
                ctx.error(("auth", "tls", key), Msg(N_("certificate: existing needs the path of the file on the "
                                                       "target host")), ctx.where(("auth", "tls", "certificate"))[1])
            elif isinstance(path, str) and ctx.root is not None and ctx.errors_at(("auth", "tls", key)) == 0:
                try:
                    found = ctx.root.exists(path)
                    is_dir = found and ctx.root.path(path).is_dir()
                except (OSError, ValueError):
                    found, is_dir = False, False
                if not found:
                    ctx.error(("auth", "tls", key), Msg(N_("{path} does not exist on the target"),
                                                        path=_show(path)))
                elif is_dir:
                    ctx.error(("auth", "tls", key), Msg(N_("{path} is a folder, not a file"), path=_show(path)))
        if ctx.root is not None and not ctx.errors_at(("auth", "tls")):
            _check_existing_certificate(tls, str(hostname), ctx)
    else:
        for key in ("cert_file", "key_file"):
            if tls[key] is not None:
                ctx.warn(("auth", "tls", key), Msg(N_("ignored: used only with certificate: existing")))

    acme = tls.get("acme") if isinstance(tls.get("acme"), dict) else {}
    if tls["certificate"] == "acme" and acme.get("email") is None and not ctx.errors_at(("auth", "tls", "acme")):
        ctx.error(("auth", "tls", "acme", "email"), Msg(N_("certificate: acme needs an address for the ACME "
                                                           "account (expiry notices)")),
                  ctx.where(("auth", "tls", "certificate"))[1])
    elif tls["certificate"] != "acme":
        for key in ("email", "directory"):
            if acme.get(key) is not None:
                ctx.warn(("auth", "tls", "acme", key), Msg(N_("ignored: used only with certificate: acme")))

    relay = data["relayhost"]
    if isinstance(relay, dict) and relay.get("password_env") is not None and relay.get("username") is None:
        ctx.error(("relayhost", "password_env"), Msg(N_("a password needs a user name: set relayhost.username")))

    home, location = postfix["home_mailbox"], data["dovecot"]["mail_location"]
    if isinstance(home, str) and isinstance(location, str):
        if home.endswith("/"):
            expected_location = "maildir:~/" + home.rstrip("/")
            if location.rstrip("/") != expected_location:
                ctx.warn(("dovecot", "mail_location"), Msg(
                    N_("Postfix delivers to ~/{home} but Dovecot reads {location}: users will not see their mail; "
                       "expected {expected}"), home=home, location=_show(location), expected=expected_location))
        elif location.startswith("maildir:"):
            ctx.warn(("dovecot", "mail_location"), Msg(
                N_("Postfix delivers to the mailbox file ~/{home} but Dovecot reads a Maildir"), home=home))

    if spam["helo_required"] is False and spam["helo"]:
        ctx.warn(("spam", "helo"), Msg(N_("HELO checks do not apply to clients that skip HELO; "
                                          "consider spam.helo_required: true")))

    if isinstance(spam["access"], list):
        import ipaddress
        for index, entry in enumerate(spam["access"]):
            if isinstance(entry, dict) and entry.get("action") == "OK" and "/" in str(entry.get("key", "")):
                try:
                    net = ipaddress.ip_network(entry["key"])
                except ValueError:
                    continue
                if _too_broad(net):
                    ctx.error(("spam", "access", index, "key"), Msg(_BROAD_MSG, value=_show(entry["key"])))

    if isinstance(spam["rbl"], list):
        for index, zone in enumerate(spam["rbl"]):
            if not isinstance(zone, str) or ctx.errors_at(("spam", "rbl", index)):
                continue
            reason, warning = _rbl_verdict(zone)
            if reason is not None:
                ctx.error(("spam", "rbl", index), Msg(N_("{zone} must not be used: {reason}; use zen.spamhaus.org"),
                                                      zone=_show(zone), reason=Msg(reason)))
            elif warning is not None:
                ctx.warn(("spam", "rbl", index), warning)

    if data["verify"] is True and data["services"]["start"] is False:
        ctx.warn(("verify",), Msg(N_("the self-test is skipped because services.start is false")))


def _check_existing_certificate(tls: Dict[str, Any], hostname: str, ctx: _Ctx) -> None:
    """certificate: existing: the key matches, the chain holds, not expired, names the host."""
    from installer import certs
    try:
        cert_pem = ctx.root.read_bytes(tls["cert_file"])
        key_pem = ctx.root.read_bytes(tls["key_file"])
    except (OSError, ValueError):
        return                  # unreadable: reported by the existence checks or at apply
    if cert_pem is None or key_pem is None:
        return
    problems, warnings = certs.check_files(cert_pem, key_pem, hostname)
    for problem in problems:
        ctx.error(("auth", "tls", "cert_file"), problem)
    for warning in warnings:
        ctx.warn(("auth", "tls", "cert_file"), warning)


# --------------------------------------------------------------------------
# Public functions

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
    filename = os.fspath(path)
    try:
        with open(filename, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise AnswerErrors([AnswerError(filename, None, "", Msg(N_("cannot read the file: {reason}"),
                                                                reason=_safe_text(exc.strerror or str(exc))))])
    return loads(data, filename, overrides=overrides, profile=profile, root=root)


# --------------------------------------------------------------------------
# --set KEY=VALUE

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


# --------------------------------------------------------------------------
# Writing answer files

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


# --------------------------------------------------------------------------
# JSON Schema

SCHEMA_PATH = "answers.schema.json"


def schema() -> Dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the answer file, generated from FORMAT."""
    out: Dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:mailwiz:answers:1",
        "title": "mailwiz answer file, version 1",
        "description": "Answers for a headless mailwiz run. The validator (mailwiz validate) also checks rules "
                       "this schema cannot express: host bits in networks, networks that trust the internet, "
                       "dead blocklists, and rules between keys.",
    }
    out.update(FORMAT.json())
    return out


def schema_json() -> str:
    import json
    return json.dumps(schema(), indent=2, ensure_ascii=True) + "\n"


def write_schema(path=None) -> str:
    """Write the committed copy (installer/answers.schema.json); returns the path written."""
    import os
    target = os.fspath(path) if path is not None else os.path.join(os.path.dirname(__file__), SCHEMA_PATH)
    with open(target, "w", encoding="utf-8") as handle:
        handle.write(schema_json())
    return target
