"""Pure editors of mail configuration text: main.cf, master.cf, dovecot.conf, aliases.

Every function takes the file's text (``None`` when the file does not exist)
and returns new text; nothing here reads or writes files or runs commands.
Edits keep comments, blank lines and unrelated settings as they are, and
setting the same values twice returns identical text, so an unchanged file
drops out of a plan.

Line handling follows the tools that read the files:

* Postfix (main.cf, master.cf, aliases): a line whose first non-white-space
  character is ``#`` is a comment, a line starting with white space continues
  the logical line above it, and comment or blank lines do not end a logical
  line (Postfix's ``readllines``).
* Dovecot: ``#`` starts a comment outside quotes, a trailing ``\\`` continues
  the line, ``name {`` opens a section and ``}`` closes it.

Only ``\\n`` separates lines; the text we write never contains ``\\r``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Tuple

# C isspace() in the "C" locale, which Postfix uses to classify lines.
_WS = " \t\r\n\v\f"


def _split_lines(text: Optional[str]) -> List[str]:
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def _join_lines(lines: List[str]) -> str:
    return "".join(line + "\n" for line in lines)


def _is_postfix_comment_or_blank(line: str) -> bool:
    stripped = line.lstrip(_WS)
    return stripped == "" or stripped.startswith("#")


def _postfix_logical_lines(lines: List[str]) -> List[Tuple[int, List[int]]]:
    """(index of first line, indexes of its continuation lines) per logical line.

    Comment and blank lines between a logical line and its continuation lines
    belong to no logical line, as in Postfix's readllines().
    """
    entries: List[Tuple[int, List[int]]] = []
    for index, line in enumerate(lines):
        if _is_postfix_comment_or_blank(line):
            continue
        if line[:1] in _WS:
            if entries:
                entries[-1][1].append(index)
            continue
        entries.append((index, []))
    return entries


def _check_one_line(kind: str, value: str) -> None:
    if "\n" in value or "\r" in value:
        raise ValueError("{} must be a single line: {!r}".format(kind, value))


# ---------------------------------------------------------------------------
# main.cf


def _check_postconf_name(name: str) -> None:
    if not name or name.startswith("#") or any(c in _WS or c == "=" for c in name):
        raise ValueError("not a Postfix parameter name: {!r}".format(name))


def _postconf_key(line: str) -> str:
    # postconf -e takes the key up to white space or "=" (strcspn " \t\r\n=").
    return re.match(r"[^ \t\r\n=]*", line).group(0)


def postconf_get(text: Optional[str], name: str) -> Optional[str]:
    """The value Postfix uses for ``name`` in main.cf ``text``, or None if unset.

    The last uncommented assignment wins; continuation lines are joined with
    single spaces.
    """
    lines = _split_lines(text)
    value: Optional[str] = None
    for first, continuations in _postfix_logical_lines(lines):
        match = re.match(r"([^ \t\r\n\v\f=]+)[ \t\r\v\f]*=(.*)$", lines[first])
        if match is None or match.group(1) != name:
            continue
        pieces = [match.group(2)] + [lines[i] for i in continuations]
        value = " ".join(p.strip(_WS) for p in pieces if p.strip(_WS))
    return value


def postconf_set(text: Optional[str], params: Mapping[str, Optional[str]]) -> str:
    """Edit main.cf ``text`` like ``postconf -e name=value`` (``postconf -X`` for None).

    Every uncommented ``name =`` line of a given parameter, with its
    continuation lines, becomes one ``name = value`` line (all of them when a
    name appears twice, as postconf -e does); names not found are appended in
    the order given; a value of None removes the parameter.  Comments, also
    those between continuation lines, stay.  Values are trimmed like postconf
    trims them.  Unlike postconf -e, a missing file counts as empty and a
    last line without a newline is not glued to an appended one.
    """
    wanted: Dict[str, Optional[str]] = {}
    for name, value in params.items():
        _check_postconf_name(name)
        if value is not None:
            _check_one_line("value of " + name, value)
            value = value.strip(_WS)
        wanted[name] = value

    out: List[str] = []
    found = set()
    editing = False  # inside a logical line being replaced or removed
    for line in _split_lines(text):
        if _is_postfix_comment_or_blank(line):
            out.append(line)
        elif line[:1] in _WS:
            if not editing:
                out.append(line)
        else:
            key = _postconf_key(line)
            editing = key in wanted
            if not editing:
                out.append(line)
                continue
            found.add(key)
            if wanted[key] is not None:
                out.append("{} = {}".format(key, wanted[key]))
    for name, value in wanted.items():
        if name not in found and value is not None:
            out.append("{} = {}".format(name, value))
    return _join_lines(out)


# ---------------------------------------------------------------------------
# master.cf


@dataclass
class MasterService:
    """One master.cf entry.

    ``command`` is the program name; ``options`` are its ``-o name=value``
    overrides in order; ``args`` are any further arguments (pipe's
    ``flags=... argv=...``), written after the options because the daemons
    stop reading options at the first other argument.
    """

    name: str
    type: str
    private: str
    unpriv: str
    chroot: str
    wakeup: str
    maxproc: str
    command: str
    options: List[Tuple[str, str]] = field(default_factory=list)
    args: List[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.options = [(str(n), str(v)) for n, v in self.options]
        self.args = list(self.args)


_MASTER_FIELDS = ("name", "type", "private", "unpriv", "chroot", "wakeup", "maxproc", "command")


def _master_tokens(text: str) -> List[str]:
    """Split master.cf text into fields; ``{ a b }`` is one field ``a b`` (Postfix 3.0+)."""
    tokens: List[str] = []
    i = 0
    while i < len(text):
        if text[i] in _WS:
            i += 1
            continue
        if text[i] == "{":
            depth, j = 0, i
            while j < len(text):
                if text[j] == "{":
                    depth += 1
                elif text[j] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            if depth:
                raise ValueError("unbalanced '{' in master.cf: " + text.strip())
            tokens.append(text[i + 1:j].strip(_WS))
            i = j + 1
            continue
        j = i
        while j < len(text) and text[j] not in _WS:
            j += 1
        tokens.append(text[i:j])
        i = j
    return tokens


def _parse_master_entry(lines: List[str], first: int, continuations: List[int]) -> MasterService:
    tokens = _master_tokens(" ".join([lines[first]] + [lines[i] for i in continuations]))
    if len(tokens) < len(_MASTER_FIELDS):
        raise ValueError("master.cf entry has fewer than 8 fields: " + lines[first].strip())
    head = dict(zip(_MASTER_FIELDS, tokens))
    options: List[Tuple[str, str]] = []
    args: List[str] = []
    rest = tokens[len(_MASTER_FIELDS):]
    operands = False  # the daemon's getopt() stops at the first non-option
    i = 0
    while i < len(rest):
        token = rest[i]
        if operands or not token.startswith("-"):
            operands = True
            args.append(token)
        elif token == "-o" and i + 1 < len(rest):
            i += 1
            name, _sep, value = rest[i].partition("=")
            options.append((name.strip(_WS), value.strip(_WS)))
        elif token.startswith("-o") and len(token) > 2:
            name, _sep, value = token[2:].partition("=")
            options.append((name.strip(_WS), value.strip(_WS)))
        else:
            args.append(token)
        i += 1
    return MasterService(options=options, args=args, **head)


def _master_field(value: str) -> str:
    if value == "" or any(c in _WS for c in value):
        return "{ " + value + " }"
    return value


def _render_master_service(svc: MasterService) -> List[str]:
    for name in _MASTER_FIELDS:
        value = getattr(svc, name)
        _check_one_line("master.cf " + name, value)
        if not value or any(c in _WS for c in value):
            raise ValueError("master.cf {} must be one word: {!r}".format(name, value))
    lines = ["{:<9} {:<5} {:<7} {:<7} {:<7} {:<7} {:<7} {}".format(
        svc.name, svc.type, svc.private, svc.unpriv, svc.chroot, svc.wakeup, svc.maxproc,
        svc.command)]
    for name, value in svc.options:
        _check_one_line("master.cf option", name + value)
        if not name or "=" in name or any(c in _WS for c in name):
            raise ValueError("not a parameter name: {!r}".format(name))
        if any(c in _WS for c in value):
            # Postfix 3.0+ grouping; a plain "-o name=a b" would split the value.
            lines.append("  -o {{ {} = {} }}".format(name, value))
        else:
            lines.append("  -o {}={}".format(name, value))
    if svc.args:
        for arg in svc.args:
            _check_one_line("master.cf argument", arg)
        lines.append("  " + " ".join(_master_field(arg) for arg in svc.args))
    return lines


def _master_entries_named(lines: List[str], name: str, type_: str) -> List[Tuple[int, List[int]]]:
    matches = []
    for first, continuations in _postfix_logical_lines(lines):
        fields = lines[first].split()
        if len(fields) >= 2 and fields[0] == name and fields[1] == type_:
            matches.append((first, continuations))
    return matches


def _commented_master_block_end(lines: List[str], name: str, type_: str) -> Optional[int]:
    """Index just past a commented-out entry for name/type and its commented ``-o`` lines."""
    head = re.compile(r"#[ \t]*" + re.escape(name) + r"[ \t]+" + re.escape(type_) + r"[ \t]")
    # Commented continuation lines keep their indentation after "#" ("#  -o ...",
    # "#     Instead of ..."); a one-space "# Choose one: ..." is prose again.
    continued = re.compile(r"#([ \t]{2,}|[ \t]*-o\b)")
    for index, line in enumerate(lines):
        if head.match(line) and len(line[1:].split()) >= len(_MASTER_FIELDS):
            end = index + 1
            while end < len(lines) and continued.match(lines[end]):
                end += 1
            return end
    return None


def master_get_service(text: Optional[str], name: str, type: str) -> Optional[MasterService]:
    """The uncommented master.cf entry ``name``/``type``, or None."""
    lines = _split_lines(text)
    matches = _master_entries_named(lines, name, type)
    if not matches:
        return None
    return _parse_master_entry(lines, *matches[0])


def _replace_logical_lines(lines: List[str], matches: List[Tuple[int, List[int]]],
                           replacement: Optional[List[str]]) -> List[str]:
    """Remove the logical lines in ``matches`` (comment lines among them stay).

    ``replacement`` goes where the first of them was.
    """
    dropped = set()
    for first, continuations in matches:
        dropped.add(first)
        dropped.update(continuations)
    out: List[str] = []
    for index, line in enumerate(lines):
        if index == matches[0][0] and replacement is not None:
            out.extend(replacement)
        if index not in dropped:
            out.append(line)
    return out


def master_set_service(text: Optional[str], svc: MasterService) -> str:
    """Write ``svc`` into master.cf ``text``.

    Replaces the uncommented entry with the same name and type (with its
    continuation lines; later duplicates are removed).  An entry that already
    means the same is left as written.  Without one, the entry goes right after
    a commented-out entry of that name and type (Debian's and RHEL's
    ``#submission inet ...`` block), else at the end.
    """
    rendered = _render_master_service(svc)
    lines = _split_lines(text)
    matches = _master_entries_named(lines, svc.name, svc.type)
    if matches:
        if len(matches) == 1:
            try:
                if _parse_master_entry(lines, *matches[0]) == MasterService(**vars(svc)):
                    return _join_lines(lines)
            except ValueError:
                pass  # a malformed entry is simply replaced
        return _join_lines(_replace_logical_lines(lines, matches, rendered))
    end = _commented_master_block_end(lines, svc.name, svc.type)
    if end is None:
        return _join_lines(lines + rendered)
    return _join_lines(lines[:end] + rendered + lines[end:])


def master_remove_service(text: Optional[str], name: str, type: str) -> str:
    """Remove every uncommented master.cf entry ``name``/``type``; commented ones stay."""
    lines = _split_lines(text)
    matches = _master_entries_named(lines, name, type)
    if not matches:
        return _join_lines(lines)
    return _join_lines(_replace_logical_lines(lines, matches, None))


# ---------------------------------------------------------------------------
# Dovecot


@dataclass
class _DovecotLine:
    indexes: List[int]  # physical lines of this logical line
    depth: int  # section depth the line is at (before a "{" it opens)
    key: Optional[str] = None  # set for "key = value"
    value: str = ""


def _strip_dovecot_comment(line: str) -> str:
    quote = None
    i = 0
    while i < len(line):
        c = line[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "#":
            return line[:i]
        i += 1
    return line


def _dovecot_lines(lines: List[str]) -> List[_DovecotLine]:
    """Logical Dovecot lines with their section depth, as config-parser.c reads them."""
    parsed: List[_DovecotLine] = []
    depth = 0
    pending: List[int] = []
    pending_text = ""
    for index, raw in enumerate(lines):
        stripped = raw.strip(" \t\r")
        if stripped == "" or stripped.startswith("#"):
            continue  # also between continued lines, as config-parser.c does
        content = _strip_dovecot_comment(stripped).rstrip(" \t\r")
        pending.append(index)
        if content.endswith("\\"):
            pending_text += content[:-1].rstrip(" \t") + " "
            continue
        logical = (pending_text + content).strip()
        entry = _DovecotLine(indexes=pending, depth=depth)
        pending, pending_text = [], ""
        match = re.match(r"([^ \t=]+)[ \t]*=[ \t]*(.*)$", logical)
        if logical == "}":
            depth = max(depth - 1, 0)
        elif match and not logical.startswith("!"):
            entry.key, entry.value = match.group(1), match.group(2).strip()
        elif logical.endswith("{"):
            depth += 1
        parsed.append(entry)
    if pending:
        parsed.append(_DovecotLine(indexes=pending, depth=depth))
    return parsed


def _unquote_dovecot(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def dovecot_get(text: Optional[str], key: str) -> Optional[str]:
    """The top-level value of ``key`` (outside ``{ }`` sections), or None.

    The last assignment wins; surrounding quotes are removed; ``<file`` and
    ``$var`` values are returned as written.
    """
    lines = _split_lines(text)
    value: Optional[str] = None
    for entry in _dovecot_lines(lines):
        if entry.depth == 0 and entry.key == key:
            value = _unquote_dovecot(entry.value)
    return value


def dovecot_set(text: Optional[str], settings: Mapping[str, Optional[str]]) -> str:
    """Set top-level ``key = value`` lines of a Dovecot config file.

    Each top-level assignment of a key (outside ``{ }`` sections, with any
    ``\\`` continuation lines) is replaced by ``key = value``, keeping its
    indentation; keys not found are appended at the end; None removes the
    key.  Values are written as given: quote a value that holds ``#``.
    """
    wanted: Dict[str, Optional[str]] = {}
    for key, value in settings.items():
        if not re.match(r"[A-Za-z0-9_.\-/]+$", key):
            raise ValueError("not a Dovecot setting name: {!r}".format(key))
        if value is not None:
            _check_one_line("value of " + key, value)
            value = value.strip()
            if value.endswith("\\"):
                raise ValueError("a trailing backslash would continue the line: {!r}".format(value))
        wanted[key] = value

    lines = _split_lines(text)
    replace_at: Dict[int, Optional[str]] = {}
    dropped = set()
    found = set()
    for entry in _dovecot_lines(lines):
        if entry.depth != 0 or entry.key not in wanted:
            continue
        found.add(entry.key)
        first = entry.indexes[0]
        value = wanted[entry.key]
        dropped.update(entry.indexes)
        if value is not None:
            indent = lines[first][:len(lines[first]) - len(lines[first].lstrip(" \t"))]
            replace_at[first] = indent + "{} = {}".format(entry.key, value).rstrip()
    out: List[str] = []
    for index, line in enumerate(lines):
        if replace_at.get(index) is not None:
            out.append(replace_at[index])
        elif index not in dropped:
            out.append(line)
    for key, value in wanted.items():
        if key not in found and value is not None:
            out.append("{} = {}".format(key, value).rstrip())
    return _join_lines(out)


# ---------------------------------------------------------------------------
# /etc/aliases


def _alias_key(line: str) -> Optional[str]:
    """The lower-cased name of an ``name: value`` line, or None when it has no colon."""
    if line.startswith('"'):
        match = re.match(r'"((?:[^"\\]|\\.)*)"[ \t]*:', line)
        return re.sub(r"\\(.)", r"\1", match.group(1)).lower() if match else None
    name, sep, _rest = line.partition(":")
    return name.strip(_WS).lower() if sep else None


def _alias_value(lines: List[str], first: int, continuations: List[int]) -> str:
    line = lines[first]
    if line.startswith('"'):
        head = re.match(r'"(?:[^"\\]|\\.)*"[ \t]*:(.*)$', line).group(1)
    else:
        head = line.partition(":")[2]
    pieces = [head] + [lines[i] for i in continuations]
    return " ".join(p.strip(_WS) for p in pieces if p.strip(_WS))


def aliases_get(text: Optional[str], name: str) -> Optional[str]:
    """The value of alias ``name`` (case-insensitive), or None.

    The first entry wins, as with postalias/newaliases; continuation lines are
    joined with single spaces.
    """
    lines = _split_lines(text)
    for first, continuations in _postfix_logical_lines(lines):
        if _alias_key(lines[first]) == name.lower():
            return _alias_value(lines, first, continuations)
    return None


def aliases_set(text: Optional[str], name: str, value: Optional[str]) -> str:
    """Set alias ``name`` to ``value`` (e.g. ``"user1, user2"``) in aliases ``text``.

    Replaces the first entry for the name (with its continuation lines) and
    removes later ones, which newaliases would ignore; appends when there is
    none; None removes the alias.
    """
    _check_one_line("alias name", name)
    if not name.strip(_WS):
        raise ValueError("empty alias name")
    if value is not None:
        _check_one_line("alias value", value)
        value = value.strip(_WS)
    if re.match(r"[^\s:#\"@,]+$", name):
        rendered_name = name
    else:
        rendered_name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    new_line = None if value is None else "{}: {}".format(rendered_name, value)

    lines = _split_lines(text)
    matches = [(first, continuations)
               for first, continuations in _postfix_logical_lines(lines)
               if _alias_key(lines[first]) == name.lower()]
    if not matches:
        return _join_lines(lines + ([new_line] if new_line is not None else []))
    if len(matches) == 1 and value is not None and _alias_value(lines, *matches[0]) == value:
        return _join_lines(lines)
    return _join_lines(_replace_logical_lines(lines, matches, [new_line] if new_line else None))
