"""The merge report after ``s``: what came in from each teammate, concurrent edits, double follow-ups."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.text import plain, plain_lines


class SyncReportScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,enter,q", "close", "Close", id="sync_report.close")]
    DEFAULT_CSS = """
    SyncReportScreen { align: center middle; }
    SyncReportScreen > VerticalScroll {
        width: 100; max-width: 100%; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    SyncReportScreen .report-title { text-style: bold; margin-bottom: 1; }
    """

    def __init__(self, title: str, lines: list[str]) -> None:
        super().__init__()
        self.report_title, self.lines = title, lines

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(plain(self.report_title), classes="report-title")
            yield Static(plain_lines(self.lines or ["Nothing new from the team."]))
            yield Static(plain("\nesc: close"))

    def action_close(self) -> None:
        self.dismiss(None)
