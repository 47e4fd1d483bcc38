"""The merge report after ``s``: what came in from each teammate, concurrent edits, and
the double follow-ups, each record of which opens with ``enter``."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from store.database import Store
from store.models import BY_TABLE
from sync.report import DoubleFollowUp, MergeReport
from tui.screens.detail import HELP_KEY, UNDO_KEYS, keys_footer
from tui.text import counted, plain, plain_lines


def report_lines(report: MergeReport, store: Store) -> list[str]:
    """The report as a rep reads it: teammates and records by name, no replica ids; the
    double follow-ups are listed apart (``SyncReportScreen`` opens them)."""
    names = {rep.id: rep.name for rep in store.config.reps}

    def label(table: str, record_id: str) -> str:
        cls = BY_TABLE.get(table)
        record = store.get(cls, record_id) if cls is not None else None
        return record.label() if record is not None else f"(not here: {record_id[:8]})"

    return report.lines(names, label, doubles=False)


class SyncReportScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,enter,q", "close", "Close", id="sync_report.close"), *UNDO_KEYS, HELP_KEY]
    DEFAULT_CSS = """
    SyncReportScreen { align: center middle; }
    SyncReportScreen > VerticalScroll {
        width: 100; max-width: 100%; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    SyncReportScreen .report-title { text-style: bold; margin-bottom: 1; }
    SyncReportScreen #doubles-title { margin-top: 1; }
    SyncReportScreen #doubles { height: auto; max-height: 12; border: none; padding: 0; }
    """

    def __init__(self, title: str, lines: list[str], doubles: Sequence[DoubleFollowUp] = (),
                 names: dict[str, str] | None = None) -> None:
        super().__init__()
        self.report_title, self.lines = title, lines
        self.doubles, self.names = list(doubles), names or {}

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(plain(self.report_title), classes="report-title")
            yield Static(plain_lines(self.lines or ["Nothing new from the team."]))
            if self.doubles:
                worked = counted(len(self.doubles), "person or company", "people or companies")
                yield Static(plain(f"Double follow-up: {worked} worked by two reps (enter opens one)"),
                             id="doubles-title")
                yield OptionList(*self._options(), id="doubles")
            yield Static(plain("\nesc: close" + (" · enter: open the record" if self.doubles else "") + " · ?: keys"))
        yield keys_footer()

    def _options(self) -> list[Option]:
        options = []
        for number, double in enumerate(self.doubles):
            options.append(Option(plain(double.what or double.key), disabled=True))
            for table, record_id, name, owner in double.records:
                who = plain(f"{table[:-1]} {name} ({self.names.get(owner, owner)})")
                options.append(Option(Content.assemble("  ", who), id=f"{number}:{table}:{record_id}"))
        return options

    def on_mount(self) -> None:
        if self.doubles:
            doubles = self.query_one(OptionList)
            doubles.highlighted = 1  # the first record (0 says what the first two share)
            doubles.focus()

    @on(OptionList.OptionSelected, "#doubles")
    def _open(self, event: OptionList.OptionSelected) -> None:
        """The record's details, over this report (esc comes back to it)."""
        _, table, record_id = str(event.option.id).split(":", 2)
        store: Store = self.app.store  # type: ignore[attr-defined]
        cls = BY_TABLE.get(table)
        if cls is None or store.get(cls, record_id) is None:
            self.app.notify("That record is no longer there.", severity="warning")
            return
        self.app.open_record(table, record_id)  # type: ignore[attr-defined]

    def action_close(self) -> None:
        self.dismiss(None)
