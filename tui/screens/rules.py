"""Rules (from the command palette): the team's rules, each with how often it acted in the
last 30 days; ``d`` shows what they would do on the data as it is (``dealdeck rules test``),
``e`` opens the team settings, where they are edited."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from store.changes import Changes
from store.database import Store
from store.rules import TIMED
from tui.clock import today
from tui.header import PartsLine
from tui.screens.detail import HELP_KEY, keys_footer
from tui.text import counted, plain, plain_lines

#: the tables whose records hold rules' history entries
RULE_RECORDS = ("leads", "opportunities", "customers", "contacts", "tickets")


class RulesScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close", id="rules.close"),
        Binding("d", "dry_run", "Dry run", id="rules.dry_run"),
        Binding("e", "edit", "Edit in team settings", id="rules.edit"),
        HELP_KEY,
    ]
    DEFAULT_CSS = """
    RulesScreen { align: center middle; }
    RulesScreen > Vertical {
        width: 160; max-width: 100%; height: 100%; border: thick $primary; background: $surface;
    }
    RulesScreen #rules-title { text-style: bold; padding: 0 1; }
    RulesScreen VerticalScroll { height: 1fr; padding: 0 1; }
    RulesScreen #rules-keys { padding: 0 1; background: $panel; }
    """

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.dry = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("", id="rules-title")
            with VerticalScroll():
                yield Static("", id="rules-body")
            yield PartsLine(["d dry run", "e edit (team settings)", "esc close", "? keys"], id="rules-keys")
        yield keys_footer()

    def on_mount(self) -> None:
        self.show()

    def show(self) -> None:
        rules = self.store.config.rules
        title = self.query_one("#rules-title", Static)
        body = self.query_one("#rules-body", Static)
        if self.dry:
            title.update(plain("What the rules would do now (nothing is changed): d goes back"))
            body.update(plain_lines(self.store.rules_dry_run(today()) or ["No rules."]))
            return
        counts = self.store.rule_counts(today())
        title.update(plain(f"The team's {counted(len(rules), 'rule')}, and how often each acted in the last 30 days"))
        lines: list[str] = []
        for rule in rules:
            state = "" if rule.enabled else "  (off)"
            timed = "  (timed: checked at start and by `dealdeck rules run`)" if rule.when.trigger in TIMED else ""
            lines += [f"{rule.name}{state}", f"  when {rule.trigger_words()}{timed}"]
            lines += [f"  → {action.words()}" for action in rule.do]
            lines += [f"  acted {counted(counts.get(rule.name, 0), 'time')} in the last 30 days", ""]
        body.update(plain_lines(lines or ["No rules yet: e opens the team settings, where `rules:` declares them."]))

    def action_dry_run(self) -> None:
        self.dry = not self.dry
        self.show()

    def action_edit(self) -> None:
        from tui.screens.settings import SettingsScreen

        self.app.push_screen(SettingsScreen(self.store))

    def action_close(self) -> None:
        self.dismiss(None)

    def apply_changes(self, changes: Changes) -> None:
        """New counts after a write here, a sync or another process; new rules after a settings change."""
        if changes.touches("settings", *RULE_RECORDS):
            self.show()
