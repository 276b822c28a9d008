"""Errors, the validated result, and the validation context that collects both."""
from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from installer.i18n import Msg, N_


FORMAT_VERSION = 1
MAX_BYTES = 256 * 1024
MAX_DEPTH = 16
MAX_ERRORS = 100
MAX_MESSAGE_SIZE_MB = 1024
Path_ = Tuple[Any, ...]


FORMAT_VERSION = 1


MAX_BYTES = 256 * 1024       # a complete answer file is about 3 KiB


MAX_DEPTH = 16               # the format nests 4 deep


MAX_ERRORS = 100


MAX_MESSAGE_SIZE_MB = 1024


Path_ = Tuple[Any, ...]      # a key path: ("postfix", "networks", 1)


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
