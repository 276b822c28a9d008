"""Translations: the catalogs are complete and current, the runtime reads them
as msgfmt would, and no user-visible text in the code escapes translation.

When a test here fails after a code change, run

    python3 locale/update_catalogs.py

then translate the empty or fuzzy entries of locale/ja/LC_MESSAGES/mailwiz.po
(and remove their ``fuzzy`` flag).  An "unmarked string" failure means a
literal shown to users is missing ``_()`` / ``N_()`` / ``Msg(N_())``.
"""
from __future__ import annotations

import ast
import builtins
import gettext
import importlib.util
import os
import re
import shutil
import string
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple, Union

import pytest

from installer import i18n
from installer.i18n import Msg, N_, PoSyntaxError, iter_po, ngettext, parse_po, pgettext

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "locale"
POT = LOCALE / "mailwiz.pot"
JA_PO = LOCALE / "ja" / "LC_MESSAGES" / "mailwiz.po"
SOURCE_DIRS = ("installer", "steps")

needs_msgfmt = pytest.mark.skipif(shutil.which("msgfmt") is None, reason="msgfmt (GNU gettext) not installed")
needs_xgettext = pytest.mark.skipif(shutil.which("xgettext") is None, reason="xgettext (GNU gettext) not installed")


def _load_update_catalogs():
    # locale/ is not an importable package (the name would shadow the stdlib's locale).
    spec = importlib.util.spec_from_file_location("update_catalogs", LOCALE / "update_catalogs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


update_catalogs = _load_update_catalogs()


@pytest.fixture
def language():
    """Set the language for one test and restore it (and the pseudo flag) after."""
    before, pseudo = i18n.get_language(), i18n.is_pseudo()
    yield i18n.set_language
    i18n.set_language(before)
    i18n.set_pseudo(pseudo)


def ja_entries():
    return [e for e in iter_po(JA_PO.read_text(encoding="utf-8")) if not e.is_header]


def entry_name(entry) -> str:
    return repr(entry.msgid) if entry.msgctxt is None else f"{entry.msgctxt}|{entry.msgid!r}"


# ---------------------------------------------------------------------------
# parse_po against msgfmt + gettext.GNUTranslations

TRICKY_PO = r'''# A comment
#, fuzzy
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\n"

#. Translators: a note
#: installer/x.py
#, python-brace-format
msgid "Wrote {path}"
msgstr "{path} を書き込みました"

msgid ""
"multi "
"line\n"
"text"
msgstr ""
"複数"
"行\n"
"です"

msgid "esc \a\b\f\v\r\t q\"\\ \101\x41 \343\201\202"
msgstr "エスケープ \x41\101 \"\\"

#, fuzzy
msgid "fuzzy one"
msgstr "あいまい"

#, python-format, fuzzy
msgid "fuzzy %s"
msgstr "あいまい %s"

msgid "untranslated"
msgstr ""

msgctxt "verb"
msgid "Open"
msgstr "開く"

msgctxt "adjective"
msgid "Open"
msgstr "開いている"

msgid "{n} file"
msgid_plural "{n} files"
msgstr[0] "ファイル {n} 個"
msgstr[1] "ファイル {n} 個たち"

msgid "half {n}"
msgid_plural "halves {n}"
msgstr[0] "半分 {n}"
msgstr[1] ""

msgid "second-form-only"
msgid_plural "second-forms-only"
msgstr[0] ""
msgstr[1] "二番目"
#~ msgid "obsolete"
#~ msgstr "廃止"
msgid "after obsolete"
msgstr "廃止の後"
'''


def compile_with_msgfmt(po_text: str, tmp_path: Path) -> Dict:
    po = tmp_path / "x.po"
    mo = tmp_path / "x.mo"
    po.write_text(po_text, encoding="utf-8")
    subprocess.run(["msgfmt", "--output-file", str(mo), str(po)], check=True)
    with mo.open("rb") as handle:
        translations = gettext.GNUTranslations(handle)
    found = dict(translations._catalog)  # the only way to see every entry msgfmt kept
    found.pop("", None)  # the header: parse_po keeps it in .headers instead
    return found


@needs_msgfmt
def test_parse_po_matches_msgfmt_on_tricky_po(tmp_path):
    expected = compile_with_msgfmt(TRICKY_PO, tmp_path)
    parsed = parse_po(TRICKY_PO)
    assert dict(parsed) == expected
    # the cases this file is about are really in it, so the comparison means something
    assert parsed["esc \a\b\f\v\r\t q\"\\ AA あ"] == 'エスケープ AA "\\'
    assert parsed["multi line\ntext"] == "複数行\nです"
    assert parsed["verb\x04Open"] == "開く" and parsed[("{n} file", 1)] == "ファイル {n} 個たち"
    assert "fuzzy one" not in parsed and "untranslated" not in parsed
    assert parsed.plural(1) == 0 and parsed.plural(5) == 1


@needs_msgfmt
def test_parse_po_matches_msgfmt_on_the_japanese_catalog(tmp_path):
    text = JA_PO.read_text(encoding="utf-8")
    assert dict(parse_po(text)) == compile_with_msgfmt(text, tmp_path)


@needs_msgfmt
def test_msgfmt_check_accepts_the_japanese_catalog(tmp_path):
    # -c checks the header and that each python-format/python-brace-format
    # translation uses the same directives as its msgid.
    done = subprocess.run(["msgfmt", "--check", "--output-file", str(tmp_path / "ja.mo"), str(JA_PO)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("bad", [
    'msgid "x\\?"\nmsgstr "y"\n',          # msgfmt rejects \? and \e
    'msgid "x\\e"\nmsgstr "y"\n',
    'msgid "x"\nmsgstr y\n',               # unquoted
    'msgid "x"\n"stray"\nmsgstr "y"\nbogus "z"\n',
    '"string outside an entry"\n',
])
def test_parse_po_rejects_what_msgfmt_rejects(bad):
    with pytest.raises(PoSyntaxError):
        parse_po(bad)


def test_ja_header_says_japanese_utf8_one_plural_form():
    headers = parse_po(JA_PO.read_text(encoding="utf-8")).headers
    assert headers["language"] == "ja"
    assert "charset=UTF-8" in headers["content-type"]
    assert headers["plural-forms"].replace(" ", "") == "nplurals=1;plural=0;"


# ---------------------------------------------------------------------------
# Completeness of the Japanese catalog


@needs_xgettext
def test_pot_is_up_to_date_with_the_sources(tmp_path):
    fresh = tmp_path / "mailwiz.pot"
    update_catalogs.extract(fresh)
    extracted = update_catalogs.message_keys(fresh.read_text(encoding="utf-8"))
    committed = update_catalogs.message_keys(POT.read_text(encoding="utf-8"))
    new = sorted(k[1] for k in extracted - committed)
    gone = sorted(k[1] for k in committed - extracted)
    assert not new and not gone, (
        f"locale/mailwiz.pot is stale (run python3 locale/update_catalogs.py): new {new}, removed {gone}")


def test_japanese_catalog_has_exactly_the_messages_of_the_pot():
    pot_keys = update_catalogs.message_keys(POT.read_text(encoding="utf-8"))
    ja_keys = {(e.msgctxt, e.msgid, e.msgid_plural) for e in ja_entries()}
    missing = sorted(k[1] for k in pot_keys - ja_keys)
    extra = sorted(k[1] for k in ja_keys - pot_keys)
    assert not missing and not extra, (
        f"run python3 locale/update_catalogs.py: not merged {missing}, no longer in the .pot {extra}")


def test_every_message_has_a_japanese_translation():
    untranslated = [entry_name(e) for e in ja_entries() if not e.msgstr or not all(e.msgstr.values())]
    assert not untranslated, f"untranslated in {JA_PO.relative_to(ROOT)}: {untranslated}"


def test_no_fuzzy_entries():
    fuzzy = [entry_name(e) for e in iter_po(JA_PO.read_text(encoding="utf-8")) if e.fuzzy]
    assert not fuzzy, f"review these and remove their fuzzy flag: {fuzzy}"


def test_no_obsolete_entries():
    obsolete = [line for line in JA_PO.read_text(encoding="utf-8").splitlines() if line.startswith("#~")]
    assert not obsolete, "obsolete #~ entries remain; run python3 locale/update_catalogs.py"


# Messages whose Japanese is rightly the same as the English (no words to translate).
SAME_IN_JAPANESE: Set[str] = {"Postfix", "Dovecot"}   # product names


def test_translations_are_not_copies_of_the_english():
    def words(text: str) -> str:
        return re.sub(r"\{[^{}]*\}|%[-#0 +]*\d*(?:\.\d+)?[a-zA-Z%]", "", text)

    copied = [entry_name(e) for e in ja_entries()
              if e.msgstr.get(0) == e.msgid and re.search(r"[A-Za-z]", words(e.msgid))
              and e.msgid not in SAME_IN_JAPANESE]
    assert not copied, f"English left as the translation: {copied}"


def brace_fields(text: str) -> List[str]:
    """The str.format fields of *text* ({name}, {0}, {x!r:>5}), sorted; raises ValueError on bad braces."""
    return sorted(field + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "")
                  for _lit, field, spec, conv in string.Formatter().parse(text) if field is not None)


PERCENT_RE = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")


def percent_directives(text: str) -> List[str]:
    return sorted(d for d in PERCENT_RE.findall(text) if d != "%%")


def placeholder_problems(entry) -> List[str]:
    problems = []
    sources = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural is not None else [])
    for index, text in sorted(entry.msgstr.items()):
        if not text:
            continue
        try:
            wanted = brace_fields(sources[0])
            if entry.msgid_plural is not None:
                # a one-form language may drop the count only if the English singular does
                wanted = sorted(set(wanted) | set(brace_fields(sources[1])))
            got = brace_fields(text)
            if entry.msgid_plural is not None:
                got = sorted(set(got))
        except ValueError as exc:
            problems.append(f"{entry_name(entry)}: bad braces ({exc}) in {text!r}")
            continue
        if got != wanted:
            problems.append(f"{entry_name(entry)}: fields {got} in msgstr[{index}], {wanted} in msgid")
        if "python-format" in entry.flags and percent_directives(text) != percent_directives(sources[0]):
            problems.append(f"{entry_name(entry)}: % directives differ in msgstr[{index}]")
        for edge in (lambda s: s[:len(s) - len(s.lstrip())], lambda s: s[len(s.rstrip()):]):
            if edge(text) != edge(sources[0]):
                problems.append(f"{entry_name(entry)}: leading/trailing whitespace differs in msgstr[{index}]")
    return problems


def test_placeholders_are_the_same_in_every_translation():
    problems = [p for e in ja_entries() for p in placeholder_problems(e)]
    assert not problems, "\n".join(problems)


def test_placeholder_check_catches_mismatches():
    po = '''msgid "Wrote {path} for {user}"
msgstr "{path} を書き込みました"

msgid "{n} done"
msgstr "{m} 完了"

#, python-format
msgid "%s of %d"
msgstr "%d の %s %s"

msgid "   done"
msgstr "完了"

msgid "ok {x}"
msgstr "ok {x"
'''
    problems = [p for e in iter_po(po) for p in placeholder_problems(e)]
    assert len(problems) == 5, problems


# ---------------------------------------------------------------------------
# Runtime behaviour


def _some_ja_message() -> Tuple[str, str]:
    for entry in ja_entries():
        if entry.msgid_plural is None and entry.msgctxt is None and entry.msgstr.get(0):
            return entry.msgid, entry.msgstr[0]
    pytest.skip("the Japanese catalog has no singular messages yet")


def test_underscore_and_msg_render_in_the_current_language(language):
    msgid, msgstr = _some_ja_message()
    language("ja")
    assert i18n._(msgid) == msgstr
    params = {name: "X" for name in brace_fields(msgid)}
    assert str(Msg(msgid, **params)) == msgstr.format(**params)
    assert Msg(msgid, **params).render("en") == msgid.format(**params)
    language("en")
    assert i18n._(msgid) == msgid
    assert i18n._("not a message of mailwiz") == "not a message of mailwiz"


def test_msg_survives_a_json_round_trip_and_renders_in_both_languages():
    inner = Msg(N_("Run {run}"), run="r1")
    msg = Msg(N_("{error}"), error=inner)
    again = Msg.from_json(msg.to_json())
    assert again == msg
    assert again.render("en") == "Run r1"


def test_broken_translation_falls_back_to_english(monkeypatch, language):
    broken = i18n.Catalog()
    broken["Wrote {path}"] = "{pth} を書き込みました"
    monkeypatch.setitem(i18n._catalogs, "ja", broken)
    assert Msg("Wrote {path}", path="/etc/x").render("ja") == "Wrote /etc/x"


def test_msg_with_a_missing_parameter_still_renders(language):
    assert Msg("Wrote {path} as {user}", path="/etc/x").render("ja") == "Wrote /etc/x as {user}"
    assert Msg("Broken {", path="/etc/x").render("en") == "Broken {"


def test_ngettext_and_pgettext(monkeypatch, language):
    catalog = parse_po('msgid ""\nmsgstr "Plural-Forms: nplurals=1; plural=0;\\n"\n\n'
                       'msgid "{n} file"\nmsgid_plural "{n} files"\nmsgstr[0] "{n} 個のファイル"\n\n'
                       'msgctxt "verb"\nmsgid "Open"\nmsgstr "開く"\n')
    monkeypatch.setitem(i18n._catalogs, "ja", catalog)
    language("en")
    assert ngettext("{n} file", "{n} files", 1) == "{n} file"
    assert ngettext("{n} file", "{n} files", 2) == "{n} files"
    assert pgettext("verb", "Open") == "Open"
    language("ja")
    assert ngettext("{n} file", "{n} files", 1) == ngettext("{n} file", "{n} files", 7) == "{n} 個のファイル"
    assert pgettext("verb", "Open") == "開く"
    assert pgettext("noun", "Open") == "Open"
    assert ngettext("{n} dir", "{n} dirs", 3) == "{n} dirs"


def test_pseudo_locale_marks_every_translated_message(language):
    msgid, msgstr = _some_ja_message()
    i18n.set_pseudo(True)
    language("ja")
    assert i18n._(msgid) == f"\u27e6{msgstr}\u27e7"
    params = {name: "X" for name in brace_fields(msgid)}
    assert str(Msg(msgid, **params)) == f"\u27e6{msgstr.format(**params)}\u27e7"
    language("en")
    assert i18n._("Anything") == "\u27e6Anything\u27e7"
    assert ngettext("{n} file", "{n} files", 2) == "\u27e6{n} files\u27e7"
    assert i18n._("") == ""
    i18n.set_pseudo(False)
    assert i18n._("Anything") == "Anything"


def test_pseudo_unmarked_finds_text_outside_the_markers():
    screen = ("\u27e6Step \u27e6Postfix\u27e7 failed: disk full\u27e7\n"
              "  12:01  \u27e6done\u27e7\n"
              "Host name: \u27e6mail.example.com\u27e7\n"
              "\u27e6Next\u27e7  Quit")
    assert i18n.pseudo_unmarked(screen) == ["Host name:", "Quit"]


def test_pseudo_locale_is_switched_on_by_the_environment():
    code = "from installer import i18n; print(i18n.is_pseudo(), i18n._('Hi'))"
    env = dict(os.environ, MAILWIZ_PSEUDO="1", PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    assert out.strip() == "True \u27e6Hi\u27e7"


@pytest.mark.parametrize("environ, expected", [
    ({}, "en"),
    ({"LANG": "ja_JP.UTF-8"}, "ja"),
    ({"LANG": "C.UTF-8"}, "en"),
    ({"LANG": "ja_JP.UTF-8", "LC_ALL": "C"}, "en"),
    ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "ja_JP.eucJP"}, "ja"),
    ({"LC_ALL": "", "LANG": "ja_JP"}, "ja"),
    ({"LANG": "de_DE.UTF-8"}, "en"),
])
def test_detect_language(environ, expected):
    assert i18n.detect_language(environ) == expected


def test_unknown_language_falls_back_to_english(language):
    language("fr")
    assert i18n.get_language() == "en"


def test_a_damaged_catalog_falls_back_to_english(tmp_path, monkeypatch, language):
    folder = tmp_path / "ja" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "mailwiz.po").write_text('msgid "Next"\nmsgstr "\\q"\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "locale_dir", lambda: tmp_path)
    monkeypatch.delitem(i18n._catalogs, "ja", raising=False)
    language("ja")
    assert i18n._("Next") == "Next"   # monkeypatch then restores the real catalog


def test_locale_dir_holds_the_catalogs():
    assert (i18n.locale_dir() / "ja" / "LC_MESSAGES" / "mailwiz.po").is_file()


# ---------------------------------------------------------------------------
# Unmarked user-visible strings
#
# The checker walks the AST of installer/ and steps/ and flags string literals
# (and f-strings) with letters in them that reach a display sink without going
# through a marking function.  The sinks are data: add a new one here when the
# code grows a new way of showing text.

MARKERS = {"_", "N_", "ngettext", "pgettext"}   # functions that mark text for xgettext
TEXT_MARKERS = {"_": (0,), "N_": (0,), "ngettext": (0, 1), "pgettext": (1,)}

ALL = "*"  # every positional argument
# callee (last dotted name, or a full dotted name) -> positional indexes or ALL, plus keyword names
CALL_SINKS: Dict[str, Tuple[Union[str, Tuple[int, ...]], Tuple[str, ...]]] = {
    # terminal output
    "print": (ALL, ()),
    "echo": (ALL, ("message",)),
    "secho": (ALL, ("message",)),
    "sys.stdout.write": ((0,), ()),
    "sys.stderr.write": ((0,), ()),
    "sys.exit": ((0,), ()),
    "SystemExit": ((0,), ()),
    "input": ((0,), ()),
    "getpass": ((0,), ("prompt",)),
    # journal messages: the msgid must be N_()-marked
    "Msg": ((0,), ("msgid",)),
    # argparse
    "ArgumentParser": ((), ("description", "epilog", "usage")),
    "Parser": ((), ("description", "epilog", "usage")),
    "add_argument": ((), ("help",)),
    "add_parser": ((), ("help", "description", "epilog")),
    "add_subparsers": ((), ("title", "description", "help")),
    "add_argument_group": ((0, 1), ("title", "description")),
    "add_mutually_exclusive_group": ((), ("title", "description")),
    "error": ((0,), ("message",)),          # parser.error(...)
    # textual widgets and app methods
    "Label": ((0,), ("renderable", "content")),
    "Static": ((0,), ("renderable", "content")),
    "Button": ((0,), ("label",)),
    "Input": ((), ("placeholder",)),
    "Checkbox": ((0,), ("label",)),
    "RadioButton": ((0,), ("label",)),
    "ToggleButton": ((0,), ("label",)),
    "Select": ((), ("prompt",)),
    "Option": ((0,), ("prompt",)),
    "Selection": ((0,), ("prompt",)),
    "Collapsible": ((), ("title",)),
    "TabPane": ((0,), ("title",)),
    "Tab": ((0,), ("label",)),
    "TabbedContent": (ALL, ()),
    "Markdown": ((0,), ("markdown",)),
    "Link": ((0,), ("text",)),
    "Binding": ((2,), ("description", "tooltip")),
    "Placeholder": ((0,), ("label",)),
    "Tree": ((0,), ("label",)),
    "update": ((0,), ("content", "renderable")),   # Static.update / Label.update
    "notify": ((0,), ("message", "title")),
    "add_column": ((0,), ("label",)),
    "add_columns": (ALL, ()),
    "write_line": ((0,), ()),                 # Log.write_line
    "exit": ((), ("message",)),               # App.exit(message=...)
    # rich renderables
    "Text": ((0,), ("text",)),
    "Panel": ((), ("title", "subtitle")),
}
# The project's own display helpers; unlike the library sinks above, these
# are sinks in the module that defines them too.
PROJECT_SINKS: Dict[str, Tuple[Union[str, Tuple[int, ...]], Tuple[str, ...]]] = {
    "say": (ALL, ()),                       # installer/cli.py: print a line
    "self.field": ((1,), ("label", "help", "placeholder")),   # installer/tui/base.py: a labelled input
}
# keyword arguments that show text whatever the callee (every textual widget takes tooltip=)
ANY_CALL_KEYWORDS = {"tooltip", "border_title", "border_subtitle"}
# assignments whose value is shown: class attributes and attributes of self
ASSIGN_NAME_SINKS = {"TITLE", "SUB_TITLE"}            # textual's Header shows App.TITLE / SUB_TITLE
ASSIGN_NAME_PATTERN = re.compile(r"^[A-Z_]*_MSG$")   # TITLE_MSG, NEXT_MSG: msgids shown by a base class
ASSIGN_ATTRIBUTE_SINKS = {"title", "sub_title", "border_title", "border_subtitle", "tooltip"}
# Files not scanned, with why.
SKIP_FILES = {
    # The translation machinery itself: its errors describe broken .po syntax
    # to translators, and cannot be translated (the catalog is what is broken).
    "installer/i18n.py",
}
# Literals with letters that are not prose (exact text), each with its reason.
ALLOWED_LITERALS: Dict[str, str] = {
    "mailwiz": "the program's name (the TUI's title)",
    "spammer.example REJECT": "installer/tui/spam.py: an example access entry (placeholder), not prose",
    "postmaster@": "installer/tui/auth.py, dkim.py: the local part of an example address (placeholder), not prose",
    "mailwiz: ": "the program name before an error line, as Unix tools print it",
    "日本語": "a language's own name, shown as is so that its readers find it",
    "English": "a language's own name, shown as is so that its readers find it",
    " Use English, or a terminal that shows UTF-8 Japanese.":
        "installer/tui/language.py: shown when the terminal cannot display Japanese, so English on purpose",
}
# Shapes of literals that are never prose.
ALLOWED_PATTERNS = [
    re.compile(r"^/[\w./{}*+-]*$"),            # a path on the target
    re.compile(r"^[#.][A-Za-z][\w-]*$"),       # a CSS id or class
    re.compile(r"^--?[A-Za-z][\w-]*$"),        # a command-line option
    re.compile(r"^[\w.+-]+@[a-z0-9.-]+$"),      # an example mail address
    re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$"), # an example host or domain name
]


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    rule: str
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.text!r}"


def _callee(func: ast.expr) -> Tuple[str, str]:
    """(last name, full dotted name) of a call's function; ("", "") when it is not a plain name."""
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    elif not parts:
        return "", ""
    return parts[0], ".".join(reversed(parts))


def _has_letters(text: str) -> bool:
    """Whether *text* has words in it, not counting {fields} and %-directives."""
    words = PERCENT_RE.sub("", re.sub(r"\{[^{}]*\}", "", text))
    return any(ch.isalpha() for ch in words)


def _allowed(text: str) -> bool:
    return text in ALLOWED_LITERALS or any(p.match(text) for p in ALLOWED_PATTERNS)


def _fstring_text(node: ast.JoinedStr) -> str:
    return "".join(v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "{…}"
                   for v in node.values)


def _fstring_literal_part(node: ast.JoinedStr) -> str:
    return "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))


def unmarked_texts(node: ast.expr) -> List[Tuple[int, str]]:
    """Literals with letters that *node* shows without a marking function."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
        return [(node.lineno, text)] if _has_letters(text) and not _allowed(text) else []
    if isinstance(node, ast.JoinedStr):
        return [(node.lineno, _fstring_text(node))] if _has_letters(_fstring_literal_part(node)) else []
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Mod):   # "text %s" % args: the format string is the text
            return unmarked_texts(node.left)
        return unmarked_texts(node.left) + unmarked_texts(node.right)
    if isinstance(node, ast.IfExp):
        return unmarked_texts(node.body) + unmarked_texts(node.orelse)
    if isinstance(node, ast.BoolOp):
        return [found for value in node.values for found in unmarked_texts(value)]
    if isinstance(node, ast.Call):
        last, _dotted = _callee(node.func)
        if last in MARKERS:
            return []
        if isinstance(node.func, ast.Attribute) and last == "format":   # "text {x}".format(...)
            return unmarked_texts(node.func.value)
        if isinstance(node.func, ast.Attribute) and last == "join":     # ", ".join(["a", "b"])
            items = node.args[0].elts if node.args and isinstance(node.args[0], (ast.List, ast.Tuple)) else []
            return unmarked_texts(node.func.value) + [f for item in items for f in unmarked_texts(item)]
    return []   # names, attributes, other calls: not literal text


def _built_text(node: ast.expr) -> bool:
    """Text assembled in place (f-string, "a" + b, "…".format(), "…" % x): xgettext
    cannot extract it, and the runtime would look up the assembled result."""
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return any(isinstance(n, (ast.Constant, ast.JoinedStr)) and not isinstance(getattr(n, "value", ""), (int, float))
                   for n in ast.walk(node))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return True
    return False


def _sink_arguments(call: ast.Call, positions, keywords: Sequence[str]) -> List[ast.expr]:
    chosen: List[ast.expr] = []
    if positions == ALL:
        chosen += [a for a in call.args if not isinstance(a, ast.Starred)]
    else:
        chosen += [call.args[i] for i in positions if i < len(call.args)]
    chosen += [k.value for k in call.keywords if k.arg in keywords]
    return chosen


def _project_exceptions(trees: Iterable[ast.AST]) -> Set[str]:
    """Names of exception classes defined in the project code (its user-facing errors)."""
    builtin_errors = {name for name, value in vars(builtins).items()
                      if isinstance(value, type) and issubclass(value, BaseException)}
    classes = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                classes[node.name] = {_callee(base)[0] for base in node.bases}
    found: Set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, bases in classes.items():
            if name not in found and bases & (builtin_errors | found):
                found.add(name)
                changed = True
    return found


def _field_names(text: str) -> Set[str]:
    try:
        return {re.split(r"[.\[]", field)[0] for _lit, field, _spec, _conv in string.Formatter().parse(text)
                if field is not None}
    except ValueError:
        return set()


def _missing_parameters(call: ast.Call) -> str:
    """For Msg(N_("…{x}…"), …) and _("…{x}…").format(…): the fields no keyword fills."""
    last, _dotted = _callee(call.func)
    if last == "Msg" and call.args:
        marked = call.args[0]
    elif last == "format" and isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Call):
        marked = call.func.value
    else:
        return ""
    if not (isinstance(marked, ast.Call) and _callee(marked.func)[0] in MARKERS and marked.args
            and isinstance(marked.args[0], ast.Constant) and isinstance(marked.args[0].value, str)):
        return ""
    if any(k.arg is None for k in call.keywords) or (last == "format" and call.args):
        return ""   # **params or positional values: cannot tell statically
    texts = [a.value for a in marked.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    fields = set().union(*(_field_names(t) for t in texts))
    missing = fields - {k.arg for k in call.keywords}
    return ", ".join(sorted(missing))


def check_source(source: str, path: str, error_classes: Set[str]) -> List[Finding]:
    """Every unmarked user-visible literal in one file, and every misuse of a marking function."""
    tree = ast.parse(source, filename=path)
    findings: List[Finding] = []

    def flag(rule: str, node: ast.expr) -> None:
        findings.extend(Finding(path, line, rule, text) for line, text in unmarked_texts(node))

    imported_from_i18n: Set[str] = set()
    used_markers: Dict[str, int] = {}
    # A module's own class or function named like a library sink (answers.Text) is not that sink,
    # nor is one the project's own modules define (installer.answers.fields.Text).
    defined_here = {n.name for n in ast.walk(tree) if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
    defined_here |= {alias.asname or alias.name for n in ast.walk(tree)
                     if isinstance(n, ast.ImportFrom) and (n.module or "").startswith(("installer.", "steps."))
                     and n.module != "installer.i18n" for alias in n.names}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "installer.i18n":
            imported_from_i18n.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.Call):
            last, dotted = _callee(node.func)
            if isinstance(node.func, ast.Name) and last in MARKERS | {"Msg"}:
                used_markers.setdefault(last, node.lineno)
            if isinstance(node.func, ast.Name) and last in TEXT_MARKERS:
                # xgettext sees only plain literals; f-strings are formatted before translation
                for index in TEXT_MARKERS[last]:
                    if index < len(node.args) and _built_text(node.args[index]):
                        findings.append(Finding(path, node.lineno, f"not a plain literal inside {last}()",
                                                ast.unparse(node.args[index])))
            missing = _missing_parameters(node)
            if missing:
                findings.append(Finding(path, node.lineno, "placeholders without a value", missing))
            spec = PROJECT_SINKS.get(dotted) or PROJECT_SINKS.get(last)
            if spec is None and not (isinstance(node.func, ast.Name) and last in defined_here):
                spec = CALL_SINKS.get(dotted) or CALL_SINKS.get(last)
            if spec is not None:
                for arg in _sink_arguments(node, *spec):
                    flag(f"unmarked text in {last}()", arg)
            elif last in error_classes:   # by convention the message comes first
                for arg in _sink_arguments(node, (0,), ("message", "msg")):
                    flag(f"unmarked text in {last}()", arg)
            for keyword in node.keywords:
                if keyword.arg in ANY_CALL_KEYWORDS and not (spec and keyword.arg in spec[1]):
                    flag(f"unmarked {keyword.arg}=", keyword.value)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and (target.id in ASSIGN_NAME_SINKS or ASSIGN_NAME_PATTERN.match(target.id)):
                    flag(f"unmarked {target.id}", node.value)
                elif isinstance(target, ast.Attribute) and target.attr in ASSIGN_ATTRIBUTE_SINKS | ASSIGN_NAME_SINKS:
                    flag(f"unmarked .{target.attr}", node.value)
                elif isinstance(target, ast.Name) and target.id == "BINDINGS" and isinstance(node.value, (ast.List, ast.Tuple)):
                    # ("key", "action", "description"): only the description is shown
                    for item in node.value.elts:
                        if isinstance(item, ast.Tuple) and len(item.elts) >= 3:
                            flag("unmarked binding description", item.elts[2])
    for name, line in sorted(used_markers.items()):
        if name not in imported_from_i18n:
            findings.append(Finding(path, line, "not imported from installer.i18n", name))
    return findings


def project_sources() -> Dict[str, str]:
    files = {}
    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "__pycache__" not in path.parts and relative not in SKIP_FILES:
                files[relative] = path.read_text(encoding="utf-8")
    return files


def test_no_unmarked_user_visible_strings():
    sources = project_sources()
    error_classes = _project_exceptions(ast.parse(text) for text in sources.values())
    findings = [f for path, text in sources.items() for f in check_source(text, path, error_classes)]
    assert not findings, ("wrap these in _() / N_() / Msg(N_()) (or, if not prose, add them to "
                          "ALLOWED_LITERALS in tests/test_i18n.py with a reason):\n"
                          + "\n".join(str(f) for f in findings))


CHECKER_SNIPPET = '''
import sys
from installer.i18n import _, N_, Msg

class MailwizError(Exception):
    pass

class AnswerError(MailwizError):
    pass

class Text:
    def __init__(self, kind):
        self.kind = kind

KIND = Text("hostname")

def say(text):
    print(text)

class Wizard:
    TITLE = "Mail setup"
    NEXT_MSG = "Review"
    BACK_MSG = N_("Back")
    BINDINGS = [("q", "quit", "Quit"), ("h", "help", _("Help"))]

    def compose(self):
        yield Label("Welcome")
        yield Label(_("Welcome"))
        yield Input(placeholder="host name", id="hostname")
        yield Button(_("Next"), id="next", tooltip="Go on")
        yield Static("/etc/postfix/main.cf")
        yield from self.field("aliases.root", "Forward root's mail", "", placeholder="admin@example.com")
        yield from self.field("spam.rbl", _("Blocklists"), "", placeholder="one zone a line")

    def on_mount(self):
        self.sub_title = f"Step {self.n}"
        self.notify(_("Saved"), title="Saved")


def run(n):
    print("Hello world")
    print(_("Hello world"))
    print("== " + _("Title"))
    print("%s: %s" % (n, n))
    sys.stderr.write("error: " + str(n) + "\\n")
    print(_("Done {n}").format(n=n))
    print(_(f"Bad {n}"))
    print(_("Bad " + n))
    print(_(STATUS_TEXT.get(n, n)))
    print(Msg("Wrote {path}", path=n))
    print(Msg(N_("Wrote {path}"), path=n))
    print(Msg(N_("Wrote {path} for {user}"), path=n))
    print(_("{count} files in {folder}").format(count=n))
    print(_("{count} files").format(**locals()))
    print(("Yes" if n else _("No")))
    print("\\n".join(["Line one", _("Line two")]))
    ctx.error(("postfix", "networks"), Msg(N_("bad network")))
    say("Saying hello")
    raise AnswerError("bad answer")
'''

EXPECTED_SNIPPET_FINDINGS = {
    ("unmarked TITLE", "Mail setup"),
    ("unmarked NEXT_MSG", "Review"),
    ("unmarked text in field()", "Forward root's mail"),
    ("unmarked text in field()", "one zone a line"),
    ("unmarked binding description", "Quit"),
    ("unmarked text in Label()", "Welcome"),
    ("unmarked text in Input()", "host name"),
    ("unmarked tooltip=", "Go on"),
    ("unmarked .sub_title", "Step {…}"),
    ("unmarked text in notify()", "Saved"),
    ("unmarked text in print()", "Hello world"),
    ("unmarked text in write()", "error: "),
    ("not a plain literal inside _()", "f'Bad {n}'"),
    ("not a plain literal inside _()", "'Bad ' + n"),
    ("unmarked text in Msg()", "Wrote {path}"),
    ("placeholders without a value", "user"),
    ("placeholders without a value", "folder"),
    ("unmarked text in print()", "Yes"),
    ("unmarked text in print()", "Line one"),
    ("unmarked text in AnswerError()", "bad answer"),
    ("unmarked text in say()", "Saying hello"),
}


def test_checker_flags_unmarked_strings_in_a_snippet():
    tree = ast.parse(CHECKER_SNIPPET)
    found = {(f.rule, f.text) for f in check_source(CHECKER_SNIPPET, "snippet.py", _project_exceptions([tree]))}
    assert found == EXPECTED_SNIPPET_FINDINGS


def test_checker_flags_a_plain_unmarked_print():
    findings = check_source('print("Hello world")\n', "new.py", set())
    assert [(f.line, f.text) for f in findings] == [(1, "Hello world")]


def test_checker_flags_marking_functions_not_imported_from_i18n():
    findings = check_source('print(_("Hello"))\n', "new.py", set())
    assert [(f.rule, f.text) for f in findings] == [("not imported from installer.i18n", "_")]
