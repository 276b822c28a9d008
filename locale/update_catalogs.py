#!/usr/bin/env python3
"""Extract mailwiz's messages and merge them into the translations.

    python3 locale/update_catalogs.py           # refresh mailwiz.pot, merge into every LANG/…/mailwiz.po
    python3 locale/update_catalogs.py --check   # change nothing; exit 1 if the .pot is stale
                                                # or a catalog is incomplete, fuzzy or has obsolete entries

Uses the GNU gettext tools (xgettext, msgmerge, msgattrib, msginit), so the
catalogs are ordinary .po files for any translation tool.  Then translate the
empty or fuzzy entries in locale/ja/LC_MESSAGES/mailwiz.po and remove the
``fuzzy`` flag; ``pytest tests/test_i18n.py`` says what is still missing.

The runtime reads the .po files directly (installer/i18n.py), so there is no
.mo to build.
"""
from __future__ import annotations

import argparse
import importlib.util
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List, Optional, Set, Tuple

LOCALE = Path(__file__).resolve().parent
ROOT = LOCALE.parent
DOMAIN = "mailwiz"
POT = LOCALE / f"{DOMAIN}.pot"
SOURCE_DIRS = ("installer", "steps")
# Exactly the project's marking functions (installer/i18n.py); xgettext's
# defaults (gettext, dgettext, ...) are switched off so nothing else sneaks in.
KEYWORDS = ("_", "N_", "ngettext:1,2", "pgettext:1c,2")

MessageKey = Tuple[Optional[str], str, Optional[str]]  # (msgctxt, msgid, msgid_plural)


def _i18n():
    """installer/i18n.py loaded by path: this script must run without the package installed."""
    spec = importlib.util.spec_from_file_location("_mailwiz_i18n", ROOT / "installer" / "i18n.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def source_files(root: Path = ROOT) -> List[str]:
    """The Python files to extract from, relative to *root*, in a stable order."""
    files = []
    for folder in SOURCE_DIRS:
        files += sorted(p.relative_to(root).as_posix() for p in (root / folder).rglob("*.py")
                        if "__pycache__" not in p.parts)
    return files


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SystemExit(f"{name} not found: install GNU gettext (apt-get install gettext / dnf install gettext)")
    return path


def extract(output: Path, root: Path = ROOT) -> None:
    """Run xgettext over the sources into *output* (a .pot)."""
    argv = [tool("xgettext"), "--language=Python", "--from-code=UTF-8",
            "--add-comments=Translators:", "--add-location=file", "--force-po",
            f"--package-name={DOMAIN}", "--copyright-holder=the mailwiz authors",
            "--keyword="]
    argv += [f"--keyword={k}" for k in KEYWORDS]
    argv += ["--output", str(output)]
    argv += source_files(root)
    done = subprocess.run(argv, cwd=root, stderr=subprocess.PIPE, text=True)
    # mailwiz has no bug-report address to put in the header: drop that nag.
    warnings = re.sub(r"^.*--msgid-bugs-address was not specified\.\n(?:\s{10,}.*\n)*", "",
                      done.stderr, flags=re.M)
    sys.stderr.write(warnings)
    if done.returncode != 0:
        raise subprocess.CalledProcessError(done.returncode, argv, stderr=done.stderr)


def message_keys(po_text: str) -> Set[MessageKey]:
    """The messages of a .po/.pot text, header excluded."""
    return {(e.msgctxt, e.msgid, e.msgid_plural) for e in _i18n().iter_po(po_text) if not e.is_header}


def _without_date(text: str) -> str:
    return re.sub(r'^"POT-Creation-Date: .*\n', "", text, flags=re.M)


def update_pot() -> bool:
    """Re-extract mailwiz.pot; return whether it changed (a new date alone is no change)."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / f"{DOMAIN}.pot"
        extract(fresh)
        new_text = fresh.read_text(encoding="utf-8")
    old_text = POT.read_text(encoding="utf-8") if POT.exists() else ""
    if _without_date(new_text) == _without_date(old_text):
        return False
    POT.write_text(new_text, encoding="utf-8")
    return True


def catalogs() -> List[Path]:
    return sorted(LOCALE.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def merge(po: Path) -> None:
    """Bring *po* in line with the .pot: new messages empty (or fuzzy when a
    near match exists, with the previous msgid kept for the translator), the
    removed ones deleted rather than kept as obsolete ``#~`` entries."""
    subprocess.run([tool("msgmerge"), "--quiet", "--update", "--backup=none", "--previous",
                    str(po), str(POT)], check=True)
    subprocess.run([tool("msgattrib"), "--no-obsolete", "--output-file", str(po), str(po)], check=True)


def init(lang: str) -> Path:
    """Start a catalog for *lang* from the .pot."""
    po = LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    po.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([tool("msginit"), "--no-translator", f"--locale={lang}.UTF-8",
                    "--input", str(POT), "--output-file", str(po)], check=True)
    # The runtime reads .po files as UTF-8; msginit picks the charset from the build locale.
    text = po.read_text(encoding="utf-8")
    po.write_text(re.sub(r"charset=[\w-]+", "charset=UTF-8", text, count=1), encoding="utf-8")
    return po


def problems(po: Path, pot_keys: Set[MessageKey]) -> List[str]:
    """What keeps *po* from being a complete translation of the .pot."""
    i18n = _i18n()
    text = po.read_text(encoding="utf-8")
    found: List[str] = []
    if re.search(r"^#~", text, flags=re.M):
        found.append(f"{po}: obsolete (#~) entries; run this script to drop them")
    keys = set()
    for entry in i18n.iter_po(text):
        if entry.is_header:
            continue
        keys.add((entry.msgctxt, entry.msgid, entry.msgid_plural))
        if entry.fuzzy:
            found.append(f"{po}: fuzzy: {entry.msgid!r}")
        elif not all(entry.msgstr.values()):
            found.append(f"{po}: untranslated: {entry.msgid!r}")
    for key in sorted(pot_keys - keys, key=repr):
        found.append(f"{po}: missing (merge needed): {key[1]!r}")
    for key in sorted(keys - pot_keys, key=repr):
        found.append(f"{po}: no longer in the sources: {key[1]!r}")
    return found


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; report what is out of date")
    parser.add_argument("--init", metavar="LANG", help="start a new catalog for LANG")
    args = parser.parse_args(argv)

    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            fresh = Path(tmp) / f"{DOMAIN}.pot"
            extract(fresh)
            pot_keys = message_keys(fresh.read_text(encoding="utf-8"))
        found = []
        if not POT.exists() or message_keys(POT.read_text(encoding="utf-8")) != pot_keys:
            found.append(f"{POT}: stale; run python3 {Path(__file__).name}")
        for po in catalogs():
            found += problems(po, pot_keys)
        for line in found:
            print(line)
        return 1 if found else 0

    changed = update_pot()
    print(f"{POT.relative_to(ROOT)}: {'updated' if changed else 'up to date'}")
    if args.init:
        init(args.init)
    pot_keys = message_keys(POT.read_text(encoding="utf-8"))
    for po in catalogs():
        merge(po)
        todo = problems(po, pot_keys)
        print(f"{po.relative_to(ROOT)}: {len(todo)} to translate or review")
    return 0


if __name__ == "__main__":
    sys.exit(main())
