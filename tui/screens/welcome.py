"""The offer on an empty database: demo data, a CSV file of one's own, or start empty."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from tui.screens.dialogs import DIALOG_CSS, ConfirmScreen
from tui.text import plain, plain_lines


class EmptyDatabaseScreen(ConfirmScreen):
    """True: fill it with demo data; False: start empty; None: import a CSV file."""

    BINDINGS = [
        Binding("y,enter", "answer(True)", "Demo data", id="confirm.yes"),
        Binding("i", "answer(None)", "Import a CSV file", id="welcome.import"),
        Binding("n,escape", "answer(False)", "Start empty", id="confirm.no"),
    ]
    DEFAULT_CSS = DIALOG_CSS.format(name="EmptyDatabaseScreen")

    def __init__(self) -> None:
        super().__init__("This database is empty.",
                         "Fill it with demo data to look around (a team, leads, deals, customers; your "
                         "own data can go in a fresh folder later), import your own CSV file (another "
                         "CRM's export, a spreadsheet), or start empty?")

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(self.question), classes="dialog-title")
            yield Static(plain(self.detail))
            yield Static(plain_lines(["", "y / enter  demo data", "i          import a CSV file",
                                      "n / esc    start empty"]))

    def action_answer(self, answer: bool | None) -> None:  # type: ignore[override]
        self.dismiss(answer)
