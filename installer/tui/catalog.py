"""The wizard's Japanese messages until they are merged into the project's
catalog (``locale/ja/LC_MESSAGES/mailwiz.po``): ``ja.po`` beside this file
fills only the entries that catalog lacks, so the project's catalog wins."""
from __future__ import annotations

from pathlib import Path

from installer import i18n

_merged = False


def merge_tui_catalog() -> None:
    global _merged
    if _merged:
        return
    _merged = True
    path = Path(__file__).with_name("ja.po")
    try:
        extra = i18n.parse_po(path.read_text(encoding="utf-8"))
    except (OSError, i18n.PoSyntaxError):
        return
    catalog = i18n.catalog("ja")
    for key, value in extra.items():
        catalog.setdefault(key, value)
