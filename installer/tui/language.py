"""Page 1: the language (日本語 / English), and which target this is."""
from __future__ import annotations

from textual import on
from textual.widgets import RadioButton, RadioSet, Static

from installer import i18n
from installer.i18n import N_, _
from installer.tui.base import Page


class LanguagePage(Page):
    TITLE_MSG = N_("Language")

    def body(self):
        yield Static(self.state.banner(), id="banner")
        for note in self.state.target_notes():
            yield Static(note, classes="warning")
        # Shown in English on purpose: whoever cannot read Japanese here must still understand it.
        for reason in self.app.japanese_blocked:
            yield Static(reason + " Use English, or a terminal that shows UTF-8 Japanese.",
                         classes="warning")
        yield Static(_("Choose the language of the wizard and of the step log (F2 switches it later)."))
        current = i18n.get_language()
        with RadioSet(id="language"):
            yield RadioButton("日本語", value=current == "ja", id="lang-ja",
                              disabled=bool(self.app.japanese_blocked))
            yield RadioButton("English", value=current == "en", id="lang-en")

    @on(RadioSet.Changed, "#language")
    async def _chosen(self, event: RadioSet.Changed) -> None:
        lang = "ja" if event.pressed.id == "lang-ja" else "en"
        if lang != i18n.get_language():
            await self.app.switch_language(lang)
