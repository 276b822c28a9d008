"""Translation for every string a user sees.

`_` is imported explicitly (``from installer.i18n import _``), never installed
into builtins.  The catalogs are the ``.po`` files in ``locale/`` (shipped in
the wheel as ``installer/_locale``); they are parsed at first use, so a fresh
clone needs no build step.  :func:`parse_po` follows ``msgfmt``: fuzzy and
untranslated entries are left out, C escapes are decoded, plural entries
(``ngettext``) and contexts (``pgettext``) are keyed as in
``gettext.GNUTranslations``.

Marking text:

* ``_("Apply the plan?")`` translates now, in the current language.
* ``N_("Postfix")`` only marks text for extraction; translate it where shown.
* ``ngettext("{n} file changed", "{n} files changed", n).format(n=n)``.
* ``Msg(N_("Wrote {path}"), path=p)`` stays language-neutral (the journal) and
  renders in any language later.

Placeholders are ``str.format`` names (``{path}``); the tests check that every
translation keeps the same ones.  Catalogs are updated with
``python3 locale/update_catalogs.py`` (xgettext + msgmerge).

Pseudo-locale: with ``MAILWIZ_PSEUDO=1`` in the environment (or
``set_pseudo(True)``), every translated message is shown as ``⟦text⟧``, in
Japanese or English as the language says.  Run the TUI that way, e.g.
``MAILWIZ_PSEUDO=1 mailwiz --sandbox --lang ja``, and any text on screen
outside ``⟦ ⟧`` never went through ``_``/``ngettext``/``Msg``: it is an
unmarked string (values such as host names inside ``{}`` placeholders sit
inside the brackets of their message).  :func:`pseudo_unmarked` finds such
text in a screen's text, e.g. in a TUI test::

    i18n.set_pseudo(True)
    ...
    assert i18n.pseudo_unmarked(screen_text) == []
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Mapping, Optional, Set, Tuple

DOMAIN = "mailwiz"
LANGUAGES = ("en", "ja")
PSEUDO_OPEN = "\u27e6"   # ⟦
PSEUDO_CLOSE = "\u27e7"  # ⟧
_CONTEXT_SEP = "\x04"    # msgctxt and msgid are joined with EOT, as in .mo files

_current = "en"
_pseudo = os.environ.get("MAILWIZ_PSEUDO", "") not in ("", "0")
_catalogs: Dict[str, "Catalog"] = {}


def locale_dir() -> Path:
    """The catalog folder: ``locale/`` in a checkout, ``installer/_locale`` in a wheel."""
    here = Path(__file__).resolve().parent
    checkout = here.parent / "locale"
    if (checkout / "ja").is_dir():
        return checkout
    return here / "_locale"


def _english_plural(n: int) -> int:
    return int(n != 1)


class Catalog(dict):
    """A parsed .po file: the same keys and values as ``GNUTranslations._catalog``
    without the header entry: ``msgid -> msgstr``, ``(msgid, i) -> msgstr[i]``
    for plural entries, ``"ctxt\\x04msgid"`` for entries with a context.
    ``plural(n)`` is the index of the plural form for *n* (from Plural-Forms)."""

    def __init__(self):
        super().__init__()
        self.headers: Dict[str, str] = {}
        self.plural: Callable[[int], int] = _english_plural


class PoSyntaxError(ValueError):
    pass


_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
            "v": "\v", "\\": "\\", '"': '"'}
_ESCAPE_RE = re.compile(r'\\(?:([0-7]{1,3})|x([0-9A-Fa-f]+)|(.))')
_STRING_RE = re.compile(r'"((?:[^"\\]|\\.)*)"\s*$')


def _decode_escape(match: "re.Match[str]") -> str:
    octal, hexa, char = match.groups()
    if octal or hexa:
        # msgfmt writes these as raw bytes; keep bytes >= 0x80 as surrogates so
        # the final UTF-8 decode joins them exactly as msgfmt's bytes would be.
        value = int(octal, 8) if octal else int(hexa, 16) & 0xFF
        return chr(value) if value < 0x80 else chr(0xDC00 + value)
    if char in _ESCAPES:
        return _ESCAPES[char]
    raise PoSyntaxError(f"invalid escape \\{char}")


def _unquote(token: str, lineno: int) -> str:
    """The text of one C string token of a .po line (``"..."``)."""
    match = _STRING_RE.match(token.strip())
    if not match:
        raise PoSyntaxError(f"line {lineno}: expected a quoted string: {token.strip()!r}")
    body = match.group(1)
    if "\\" not in body:
        return body
    try:
        text = _ESCAPE_RE.sub(_decode_escape, body)
    except PoSyntaxError as exc:
        raise PoSyntaxError(f"line {lineno}: {exc}") from None
    if any("\udc80" <= c <= "\udcff" for c in text):
        text = text.encode("utf-8", "surrogateescape").decode("utf-8")
    return text


def _parse_headers(text: str) -> Dict[str, str]:
    headers: Dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers


def _plural_function(plural_forms: str) -> Callable[[int], int]:
    match = re.search(r"plural\s*=\s*([^;]+)", plural_forms)
    if not match:
        return _english_plural
    expression = match.group(1).strip()
    if expression.isdigit():  # one form only (Japanese): skip importing gettext
        index = int(expression)
        return lambda n: index
    import gettext  # its c2py safely compiles the C expression of Plural-Forms
    return gettext.c2py(expression)


class PoEntry:
    """One entry of a .po file as written (translated or not, fuzzy or not)."""

    __slots__ = ("msgctxt", "msgid", "msgid_plural", "msgstr", "flags", "field")

    def __init__(self):
        self.msgctxt: Optional[str] = None
        self.msgid: Optional[str] = None
        self.msgid_plural: Optional[str] = None
        self.msgstr: Dict[int, str] = {}    # form index -> text; 0 for a singular entry
        self.flags: Set[str] = set()        # from "#," lines: fuzzy, python-brace-format, ...
        self.field: Optional[Tuple[str, int]] = None  # where continuation lines go

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None

    def append(self, text: str) -> None:
        kind, index = self.field  # type: ignore[misc]
        if kind == "msgstr":
            self.msgstr[index] = self.msgstr.get(index, "") + text
        else:
            setattr(self, kind, (getattr(self, kind) or "") + text)


_KEYWORD_RE = re.compile(r'(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(".*)$')


def iter_po(text: str) -> Iterator[PoEntry]:
    """Every live entry of a .po file, header included; obsolete (``#~``)
    entries and comments are skipped.  Raises :class:`PoSyntaxError` on text
    msgfmt would reject as malformed."""
    entry = PoEntry()
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            if entry.msgstr:  # a comment after a msgstr begins the next entry
                yield entry
                entry = PoEntry()
            if line.startswith("#,"):
                entry.flags.update(f.strip() for f in line[2:].split(",") if f.strip())
            continue
        if line.startswith('"'):
            if entry.field is None:
                raise PoSyntaxError(f"line {lineno}: string outside an entry")
            entry.append(_unquote(line, lineno))
            continue
        match = _KEYWORD_RE.match(line)
        if not match:
            raise PoSyntaxError(f"line {lineno}: unexpected {line!r}")
        keyword, index, rest = match.groups()
        if keyword in ("msgctxt", "msgid") and entry.msgstr:
            yield entry
            entry = PoEntry()
        value = _unquote(rest, lineno)
        if keyword == "msgstr":
            slot = int(index) if index is not None else 0
            entry.msgstr[slot] = value
            entry.field = ("msgstr", slot)
        else:
            setattr(entry, keyword, value)
            entry.field = (keyword, 0)
    if entry.msgid is not None and entry.msgstr:
        yield entry


def parse_po(text: str) -> Catalog:
    """The translated, non-fuzzy entries of a .po file, as msgfmt compiles them.

    A fuzzy header still gives the plural rule (msgfmt keeps it too); a plural
    entry counts as translated when its first form is.
    """
    catalog = Catalog()
    for entry in iter_po(text):
        if entry.is_header:
            catalog.headers = _parse_headers(entry.msgstr.get(0, ""))
            catalog.plural = _plural_function(catalog.headers.get("plural-forms", ""))
            continue
        first = entry.msgstr.get(0, "")
        if entry.fuzzy or not first or entry.msgid is None:
            continue
        key = entry.msgid if entry.msgctxt is None else entry.msgctxt + _CONTEXT_SEP + entry.msgid
        if entry.msgid_plural is None:
            catalog[key] = first
        else:
            for index in sorted(entry.msgstr):
                catalog[(key, index)] = entry.msgstr[index]
    return catalog


def catalog(lang: str) -> Catalog:
    """The parsed catalog of *lang* (empty for English and unknown languages)."""
    if lang not in _catalogs:
        path = locale_dir() / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        try:
            _catalogs[lang] = parse_po(path.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, PoSyntaxError):
            # A missing or damaged catalog must not stop the program: show English.
            # (tests/test_i18n.py keeps the shipped catalogs well-formed.)
            _catalogs[lang] = Catalog()
    return _catalogs[lang]


def detect_language(environ: Optional[Mapping[str, str]] = None) -> str:
    """ja or en from LC_ALL, LC_MESSAGES, LANG (first one set wins), as gettext does."""
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name)
        if value:
            return "ja" if value.lower().startswith("ja") else "en"
    return "en"


def set_language(lang: str) -> None:
    global _current
    _current = lang if lang in LANGUAGES else "en"


def get_language() -> str:
    return _current


def set_pseudo(enabled: bool) -> None:
    """Turn the pseudo-locale markers (``⟦…⟧``) on or off (see the module docstring)."""
    global _pseudo
    _pseudo = bool(enabled)


def is_pseudo() -> bool:
    return _pseudo


_MARKED_RE = re.compile(PSEUDO_OPEN + "[^" + PSEUDO_OPEN + PSEUDO_CLOSE + "]*" + PSEUDO_CLOSE)


def pseudo_unmarked(text: str) -> List[str]:
    """The pieces of *text* (one per line) that hold letters outside ``⟦…⟧``:
    text shown without going through translation, while the pseudo-locale is on."""
    found = []
    for line in text.splitlines():
        previous = None
        while previous != line:  # innermost first, for messages inside messages
            previous, line = line, _MARKED_RE.sub(" ", line)
        line = line.replace(PSEUDO_OPEN, " ").replace(PSEUDO_CLOSE, " ").strip()
        if any(ch.isalpha() for ch in line):
            found.append(line)
    return found


def _mark(text: str) -> str:
    return PSEUDO_OPEN + text + PSEUDO_CLOSE if _pseudo and text else text


def translate(message: str, lang: Optional[str] = None) -> str:
    lang = lang or _current
    if lang == "en" or not message:
        return _mark(message)
    return _mark(catalog(lang).get(message, message))


def ngettext(singular: str, plural: str, n: int, lang: Optional[str] = None) -> str:
    """The form of *singular*/*plural* for the count *n*, translated."""
    lang = lang or _current
    english = singular if n == 1 else plural
    if lang == "en":
        return _mark(english)
    found = catalog(lang)
    plural = getattr(found, "plural", _english_plural)  # tests may install a plain dict
    return _mark(found.get((singular, plural(n)), english))


def pgettext(context: str, message: str, lang: Optional[str] = None) -> str:
    """Translate *message* in *context* (for one English word with two meanings)."""
    lang = lang or _current
    if lang == "en" or not message:
        return _mark(message)
    return _mark(catalog(lang).get(context + _CONTEXT_SEP + message, message))


def _(message: str) -> str:
    """Translate *message* into the current language."""
    return translate(message)


def N_(message: str) -> str:
    """Mark *message* for extraction; translate it later, where it is shown."""
    return message


class _KeepMissing(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Msg:
    """A translatable message with parameters, rendered when shown.

    ``Msg(N_("Wrote {path}"), path="/etc/postfix/main.cf")``; ``str(msg)``
    renders it in the current language, ``msg.render("ja")`` in another.
    ``to_json()`` keeps it language-neutral for the journal.
    """

    __slots__ = ("msgid", "params")

    def __init__(self, msgid: str, **params):
        self.msgid = msgid
        self.params = params

    def render(self, lang: Optional[str] = None) -> str:
        params = {k: (v.render(lang) if isinstance(v, Msg) else v) for k, v in self.params.items()}
        lang = lang or _current
        text = self.msgid if lang == "en" else catalog(lang).get(self.msgid, self.msgid)
        try:
            return _mark(text.format(**params))
        except (KeyError, IndexError, ValueError, AttributeError):
            pass
        # A broken translation must never hide the message: fall back to English,
        # and show a missing parameter as its {name} rather than fail.
        try:
            return _mark(self.msgid.format_map(_KeepMissing(params)))
        except (IndexError, ValueError, AttributeError):
            return _mark(self.msgid)

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"Msg({self.msgid!r}, **{self.params!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Msg) and (self.msgid, self.params) == (other.msgid, other.params)

    def to_json(self) -> dict:
        return {"msgid": self.msgid, "params": {k: (v.to_json() if isinstance(v, Msg) else v) for k, v in self.params.items()}}

    @classmethod
    def from_json(cls, data: dict) -> "Msg":
        params = {k: (cls.from_json(v) if isinstance(v, dict) and "msgid" in v else v) for k, v in data.get("params", {}).items()}
        return cls(data["msgid"], **params)
