"""Team settings (from the command palette): the team's shared settings as YAML, edited in
place and saved with ctrl+s, checked as ``dealdeck team edit`` checks them. A bad save
says its line and problem, puts the cursor there and writes nothing."""

from __future__ import annotations

import re

import yaml
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from store.changes import Changes
from store.database import Store
from store.errors import StoreError
from store.team_settings import as_yaml, parse_team_yaml
from tui.header import PartsLine
from tui.screens.detail import HELP_KEY, keys_footer
from tui.screens.dialogs import ConfirmScreen
from tui.text import plain

LINE_OF_PROBLEM = r"^line (\d+): "


class SettingsScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="settings.save", priority=True),
        # priority: the text area would take esc to leave it (with tab indenting)
        Binding("escape", "close", "Close", id="settings.close", priority=True),
        HELP_KEY,
    ]
    DEFAULT_CSS = """
    SettingsScreen { align: center middle; }
    SettingsScreen > Vertical {
        width: 160; max-width: 100%; height: 100%; border: thick $primary; background: $surface;
    }
    SettingsScreen #settings-title { text-style: bold; padding: 0 1; }
    SettingsScreen #settings-status { padding: 0 1; height: auto; }
    SettingsScreen #settings-status.-problem { color: $error; text-style: bold; }
    SettingsScreen TextArea { height: 1fr; border: none; }
    SettingsScreen #settings-keys { padding: 0 1; background: $panel; }
    """

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.saved_text = as_yaml(store.config)
        self._own = self.saved_text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain("Team settings: shared with everyone who syncs with this team"), id="settings-title")
            yield Static("", id="settings-status")
            yield TextArea(self.saved_text, id="settings-text", show_line_numbers=True, tab_behavior="indent",
                           soft_wrap=True)
            yield PartsLine(["ctrl+s save", "esc close", "? keys"], id="settings-keys")
        yield keys_footer()

    def on_mount(self) -> None:
        self._tell(self._standing_words())
        self.query_one(TextArea).focus()

    def _standing_words(self) -> str:
        problems = self.store.settings_problems()
        if problems:
            return problems[0]
        return "Edit, then ctrl+s: saved here, they go to the team with the next sync."

    def _tell(self, text: str, *, problem: bool = False) -> None:
        status = self.query_one("#settings-status", Static)
        status.update(plain(text))
        status.set_class(problem, "-problem")

    @property
    def edited(self) -> bool:
        return self.query_one(TextArea).text != self.saved_text

    def action_save(self) -> None:
        text = self.query_one(TextArea).text
        try:
            values = parse_team_yaml(text, self.store.config)
            self.store.save_team_settings(values)
        except StoreError as exc:
            self._tell(f"Not saved: {exc}", problem=True)
            self._go_to_problem(str(exc))
            self.app.bell()
            return
        was = yaml.safe_load(self.saved_text) or {}
        changed = [key for key, value in values.items() if value != was.get(key)]  # what the rep edited
        self.saved_text = text
        self._own = as_yaml(self.store.config)  # the feed's news of this save is not news
        if changed:
            shown = ", ".join(changed) if len(changed) <= 4 else f"{len(changed)} settings"
            self._tell(f"Saved {shown}: they apply now, and go to the team with the next sync.")
        else:
            self._tell("Nothing changed.")

    def _go_to_problem(self, message: str) -> None:
        found = re.match(LINE_OF_PROBLEM, message)
        if found:
            area = self.query_one(TextArea)
            row = min(int(found.group(1)) - 1, area.document.line_count - 1)
            area.move_cursor((row, 0))
            area.scroll_cursor_visible(center=True)

    def action_close(self) -> None:
        if not self.edited:
            self.dismiss(None)
            return
        self.app.push_screen(ConfirmScreen("Close without saving your changes?", "Nothing you typed is saved."),
                             lambda yes: self.dismiss(None) if yes else None)

    def apply_changes(self, changes: Changes) -> None:
        """A sync or another process changed the team settings: show them, unless the rep
        is editing (their text stays; a save then sets what they typed)."""
        if not changes.touches("settings"):
            return
        fresh = as_yaml(self.store.config)
        if fresh == self._own:
            return
        self._own = fresh
        if not self.edited:
            self.saved_text = fresh
            self.query_one(TextArea).load_text(fresh)
            self._tell("The team's settings changed (a sync): shown as they are now.")
        else:
            self._tell("The team's settings changed while you edit: ctrl+s saves your text over them.")
