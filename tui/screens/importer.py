"""Import a CSV file (palette: "Import CSV…"; offered on an empty database).

Four steps, keyboard only, each undone by esc without writing anything:
the file and what its rows are; the preview (encoding, delimiter, the first
rows, each column's field with a sample, the values of choice columns and what
each becomes), which the keys change; the dry run (would add / update / skip,
the first problems by line, the values that took a default); the import, with
a progress bar, in a thread with a Store of its own (the file lock and the
journal keep it consistent with the app's, as for two processes).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import ContentSwitcher, Footer, Input, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option

from store.config import load_config
from store.database import Store
from store.errors import StoreError
from store.imports import ImportOptions, ImportReport, import_csv
from store.imports.mappings import save_mapping
from store.imports.preview import Preview
from store.imports.reading import Refused
from tui.screens.dialogs import AskScreen
from tui.screens.help import HelpScreen
from tui.screens.import_plan import ColumnsTable, PlanStep, planned_preview
from tui.screens.import_steps import PathInput, listed, report_content, rows_words, shown_folder, typed_path
from tui.text import plain, plain_lines

if TYPE_CHECKING:
    from tui.app import DealdeckApp

STEPS = {"step-file": "1 file", "step-preview": "2 columns", "step-dry": "3 dry run", "step-run": "4 import"}
TABLE_CHOICES = (("leads", "leads: people and companies to follow up"),
                 ("customers", "customers: company cards"),
                 ("contacts", "contacts: people at a customer (the file names the company)"))
#: this screen's section of the app's key list (``?``)
HELP_SECTION = "Import CSV"
#: the dry run's and the import's thread workers
IMPORT_WORKERS = "import-run"
#: the screen lays the columns and values side by side from this width
WIDE = 150
#: below this height the first rows shown are fewer, for room to change the columns
TALL = 32
#: below this height (under the supported 24) the first rows give their room to the columns
TINY = 20


class Cancelled(Exception):
    """esc while the import runs: raised from its progress callback, so the
    transaction is abandoned and nothing is written."""


class ImportScreen(ModalScreen[ImportReport | None]):
    """Returns the import's report, or None when nothing was imported."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="import.close"),
        Binding("escape", "back", "Back", id="import.back"),
        Binding("escape", "stop", "Stop", id="import.stop"),
        Binding("o", "owner", "Owner", id="import.owner"),
        Binding("d", "dry_run", "Dry run", id="import.dry_run"),
        Binding("i", "import", "Import", id="import.run"),
        # One key, two meanings: the footer shows the one that applies (see check_action).
        Binding("b", "skip_bad(True)", "Skip bad rows", id="import.skip_bad"),
        Binding("b", "skip_bad(False)", "Stop at a bad row", id="import.stop_at_bad"),
        Binding("m", "save_mapping", "Save mapping", id="import.save_mapping"),
        Binding("enter", "close", "Close", id="import.done"),
        # The path field does not use up and down: they choose what the rows are.
        Binding("up", "choose_table(-1)", "Previous kind of rows", show=False, id="import.table_up"),
        Binding("down", "choose_table(1)", "Next kind of rows", show=False, id="import.table_down"),
        Binding("question_mark", "help", "Keys", id="import.help"),
    ]
    #: the step each key works on
    STEP_KEYS = {"close": ("step-file", "step-result"), "back": ("step-preview", "step-dry"), "stop": ("step-run",),
                 "owner": ("step-preview",), "dry_run": ("step-preview",), "import": ("step-dry",),
                 "skip_bad": ("step-dry",), "choose_table": ("step-file",)}
    DEFAULT_CSS = """
    ImportScreen { background: $background; }
    ImportScreen #import-body { height: 1fr; border: round $primary; border-title-style: bold; padding: 0 1; }
    ImportScreen #import-steps, ImportScreen #import-steps > * { height: 1fr; }
    ImportScreen .import-label { color: $text-muted; }
    ImportScreen .import-error { color: $error; height: auto; }
    ImportScreen .import-note { height: auto; }
    ImportScreen #file-path { margin-bottom: 0; }
    ImportScreen #file-table { height: auto; max-height: 5; margin-bottom: 1; }
    ImportScreen #preview-rows { height: auto; max-height: 7; }
    ImportScreen.-short #preview-rows { max-height: 5; }
    ImportScreen.-tiny #preview-rows { display: none; }
    ImportScreen.-tiny #preview-plan > #preview-columns-box { height: 2fr; }
    ImportScreen #preview-plan { height: 1fr; layout: vertical; }
    ImportScreen #preview-plan > Vertical { height: 1fr; width: 100%; }
    ImportScreen.-wide #preview-plan { layout: horizontal; }
    ImportScreen.-wide #preview-plan > Vertical { height: 100%; width: 1fr; }
    ImportScreen.-wide #preview-values-box { margin-left: 2; }
    ImportScreen DataTable { height: 1fr; }
    ImportScreen #run-report { height: 1fr; }
    ImportScreen ProgressBar { margin: 1 0; }
    ImportScreen .-hidden { display: none; }
    """

    def __init__(self, store: Store, *, cwd: Path | None = None) -> None:
        super().__init__()
        self.store = store
        self.cwd = cwd or Path.cwd()
        self.path: Path | None = None
        self.table = "leads"
        self.skip_bad = False
        self.dry: ImportReport | None = None
        self.result: ImportReport | None = None
        self.step = "step-file"
        #: what a running worker's answer is for ("" when none is awaited)
        self.awaiting = ""
        self.cancel = threading.Event()

    @property
    def plan(self) -> PlanStep:
        return self.query_one(PlanStep)

    @property
    def dealdeck(self) -> DealdeckApp:
        return self.app  # type: ignore[return-value]

    # -- layout ----------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Vertical(id="import-body"), ContentSwitcher(initial="step-file", id="import-steps"):
            with Vertical(id="step-file"):
                yield Static(plain("The CSV file (tab completes it; → takes the suggestion):"),
                             classes="import-label")
                yield PathInput(shown_folder(self.cwd), self.cwd, id="file-path")
                yield Static("", id="file-matches", classes="import-note")
                yield Static(plain("What are its rows? (↑/↓, enter goes on)"), classes="import-label")
                yield OptionList(*[Option(plain(label), id=name) for name, label in TABLE_CHOICES],
                                 id="file-table")
                yield Static("", id="file-error", classes="import-error")
                yield Static(plain_lines([
                    "Next: where each column goes and what its values become, then a dry run that",
                    "checks every row. Nothing is written until the last step; esc goes back."]),
                    classes="import-label", id="file-help")
            yield PlanStep(self.store, id="step-preview")
            with VerticalScroll(id="step-dry"):
                yield Static("", id="dry-report")
            with Vertical(id="step-run"):
                yield Static("", id="run-title")
                yield ProgressBar(id="run-progress", show_eta=False)
                with VerticalScroll(id="run-report"):
                    yield Static("", id="run-lines")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#file-table", OptionList).highlighted = 0
        self.query_one("#file-path", PathInput).focus()
        self._show_step("step-file")

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width >= WIDE, "-wide")
        self.set_class(event.size.height < TALL, "-short")
        self.set_class(event.size.height < TINY, "-tiny")

    def _show_step(self, step: str) -> None:
        self.step = step
        shown = "step-run" if step == "step-result" else step
        self.query_one("#import-steps", ContentSwitcher).current = shown
        marks = [f"[{title}]" if key == shown else title for key, title in STEPS.items()]
        self.query_one("#import-body").border_title = Content("Import CSV: " + " › ".join(marks))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "save_mapping":
            return self.step == "step-dry" or (self.step == "step-result" and self._written())
        if action == "import" and (self.dry is None or self.dry.refused or self.awaiting):
            return False
        if action == "help":  # the path field takes ? as a character
            return not isinstance(self.focused, Input)
        if action == "skip_bad":  # offered only when it changes something; b then says what it does
            can = self.dry is not None and self._can_skip(self.dry) and not self.awaiting
            return self.step == "step-dry" and can and parameters == (not self.skip_bad,)
        return action not in self.STEP_KEYS or self.step in self.STEP_KEYS[action]

    def _can_skip(self, report: ImportReport) -> bool:
        """b is offered when there are bad rows and good ones to import without them
        (or to go back to stopping at a bad row)."""
        return report.bad > 0 and (report.good > 0 or self.skip_bad)

    def _written(self) -> bool:
        return self.result is not None and not self.result.refused

    # -- 1. the file -----------------------------------------------------------------------------
    @on(PathInput.Listed)
    def _listed(self, event: PathInput.Listed) -> None:
        self.query_one("#file-matches", Static).update(listed(event.matches, event.typed, event.missing))

    @on(Input.Changed, "#file-path")
    def _typed(self) -> None:
        self.query_one("#file-error", Static).update("")
        self.query_one("#file-matches", Static).update("")

    def action_choose_table(self, step: int) -> None:
        """↑/↓ in the path field: what the rows are."""
        options = self.query_one("#file-table", OptionList)
        options.highlighted = ((options.highlighted or 0) + step) % options.option_count

    @on(Input.Submitted, "#file-path")
    def _path_entered(self) -> None:
        options = self.query_one("#file-table", OptionList)
        self._open(TABLE_CHOICES[options.highlighted or 0][0])

    @on(OptionList.OptionSelected, "#file-table")
    def _table_chosen(self, event: OptionList.OptionSelected) -> None:
        self._open(str(event.option.id))

    def _open(self, table: str) -> None:
        text = self.query_one("#file-path", PathInput).value
        if not text.strip() or text.endswith("/"):
            self._file_error("Type the path of a CSV file (tab completes it).")
            return
        path = typed_path(text, self.cwd)
        same = table == self.table and path == self.path and self.plan.preview is not None
        self.path, self.table = path, table
        self.query_one("#file-error", Static).update(plain(f"Reading {path.name}…"))
        self._load(self.plan.options if same else ImportOptions())

    def _file_error(self, message: str) -> None:
        self.query_one("#file-error", Static).update(plain(message))
        self.query_one("#file-path", PathInput).focus()

    # -- 2. the preview --------------------------------------------------------------------------
    def _load(self, options: ImportOptions) -> None:
        assert self.path is not None
        self.awaiting = "preview"
        self.load_preview(self.path, self.table, options)

    @work(thread=True, exclusive=True, group="import-preview")
    def load_preview(self, path: Path, table: str, options: ImportOptions) -> None:
        try:
            preview, missing = planned_preview(self.store, path, table, options)
        except (Refused, StoreError, ValueError) as exc:
            self.app.call_from_thread(self._preview_failed, str(exc))
            return
        self.app.call_from_thread(self._preview_ready, preview, options, missing)

    def _preview_failed(self, message: str) -> None:
        if self.awaiting != "preview":
            return
        self.awaiting = ""
        if self.step == "step-file":
            self._file_error(message)
        else:  # the change is not kept
            self.plan.refused(message)

    def _preview_ready(self, preview: Preview, options: ImportOptions, missing: tuple[str, ...] = ()) -> None:
        if self.awaiting != "preview" or self.path is None:
            return
        self.awaiting = ""
        self.query_one("#file-error", Static).update("")
        self.plan.show(self.path, preview, options, missing)
        if self.step == "step-file":
            self._show_step("step-preview")
            self.query_one(ColumnsTable).focus()

    @on(PlanStep.Replan)
    def _replan(self, event: PlanStep.Replan) -> None:
        self._load(event.options)

    # -- 3. the dry run --------------------------------------------------------------------------
    def action_dry_run(self) -> None:
        if self.plan.preview is None or self.awaiting:
            return
        if self.plan.missing:
            self.app.bell()
            self.plan.say(f"First choose a column for {' and '.join(self.plan.missing)}: "
                          "the records cannot be stored without it.")
            return
        self.awaiting = "dry"
        self.dry = None
        self._paint_report("#dry-report", None, "Checking every row…")
        self._show_step("step-dry")
        self.query_one("#step-dry").focus()
        self.run_import(dry_run=True)

    def action_skip_bad(self, skip: bool) -> None:
        self.skip_bad = skip
        self.action_dry_run_again()

    def action_dry_run_again(self) -> None:
        self.awaiting = ""
        self.action_dry_run()

    def _paint_report(self, where: str, report: ImportReport | None, waiting: str = "") -> None:
        shown = plain(waiting) if report is None else report_content(report, skip_bad=self.skip_bad,
                                                                     keys=self._next_words(report))
        self.query_one(where, Static).update(shown)

    def _next_words(self, report: ImportReport) -> str:
        if not report.dry_run:
            return "enter: close · m: save this mapping for next time" if report.written else "enter: close"
        skip = ("b: stop at a bad row · " if self.skip_bad else "b: skip bad rows · ") if self._can_skip(report) else ""
        go = "i: import · " if not report.refused else ""
        return f"{go}{skip}m: save this mapping · esc: back"

    # -- 4. the import ---------------------------------------------------------------------------
    def action_import(self) -> None:
        if self.dry is None or self.dry.refused or self.awaiting:
            return
        self.awaiting = "import"
        self.cancel.clear()
        bar = self.query_one(ProgressBar)
        bar.update(total=max(self.dry.rows, 1), progress=0)
        self.query_one("#run-title", Static).update(plain(
            f"Importing {rows_words(self.dry.rows)} into {self.table}… esc stops it (then nothing is written)"))
        self.query_one("#run-lines", Static).update("")
        self._show_step("step-run")
        self.run_import(dry_run=False)

    @work(thread=True, exclusive=True, group=IMPORT_WORKERS)
    def run_import(self, *, dry_run: bool) -> None:
        assert self.path is not None
        progress: Callable[[int, int], None] | None = None if dry_run else self._progress
        try:
            with Store(self.store.folder, me=self.store.me) as store:
                if progress is not None and self.cancel.is_set():
                    raise Cancelled
                report = import_csv(store, self.path, self.table, self.plan.options,  # type: ignore[arg-type]
                                    dry_run=dry_run, skip_bad=self.skip_bad, progress=progress)
        except Cancelled:
            self.app.call_from_thread(self._stopped, "Stopped: nothing was imported.")
            return
        except StoreError as exc:
            self.app.call_from_thread(self._stopped, str(exc))
            return
        self.app.call_from_thread(self._reported, report)

    def _progress(self, rows_done: int, file_size: int) -> None:
        """Called in the worker; ``file_size`` is in bytes, the bar counts rows."""
        if self.cancel.is_set():
            raise Cancelled
        self.app.call_from_thread(self.query_one(ProgressBar).update, progress=rows_done)

    def _stopped(self, message: str) -> None:
        self.awaiting = ""
        self._show_step("step-dry")
        self.query_one("#step-dry").focus()
        self.notify(message, severity="warning", markup=False)

    def _reported(self, report: ImportReport) -> None:
        if report.dry_run:
            if self.awaiting == "dry":
                self.awaiting, self.dry = "", report
                self._paint_report("#dry-report", report)
                self.refresh_bindings()
            return
        self.awaiting, self.result = "", report
        bar = self.query_one(ProgressBar)
        bar.update(progress=bar.total or 0)
        self.query_one("#run-title", Static).update(plain(f"{self.path.name if self.path else ''} into "
                                                          f"{self.table}:"))
        self._paint_report("#run-lines", report)
        self._show_step("step-result")
        self.query_one("#run-report").focus()
        if report.written:
            self._refresh_app()

    def _refresh_app(self) -> None:
        """Every tab shows the new records at once."""
        try:
            self.dealdeck.store.refresh()
        except StoreError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.dealdeck.data_changed()

    def action_save_mapping(self) -> None:
        def parse(text: str) -> str:
            if not text.strip() or len(text.strip()) > 60:
                raise ValueError("A name of 1 to 60 characters.")
            return text.strip()

        self.app.push_screen(AskScreen("Save this mapping as (next time: --mapping NAME)", parse=parse,
                                       placeholder="e.g. zoho weekly"), self._save_mapping)

    def _save_mapping(self, name: str | None) -> None:
        if name is None:
            return
        try:
            save_mapping(self.store.folder, load_config(self.store.folder), name, self.table, self.plan.options)
        except StoreError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.notify(f"Saved the mapping {name!r}: dealdeck import csv FILE --mapping {name!r}", markup=False)

    # -- leaving ---------------------------------------------------------------------------------
    def action_help(self) -> None:
        """Every key, as ``?`` shows them on the tabs, opened at this screen's."""
        self.dealdeck.action_help()
        shown = self.app.screen
        if isinstance(shown, HelpScreen):
            shown.call_after_refresh(self._help_at_this_screen, shown)

    @staticmethod
    def _help_at_this_screen(shown: HelpScreen) -> None:
        lines = str(shown.query_one(Static).render()).splitlines()
        if HELP_SECTION in lines:
            shown.query_one(VerticalScroll).scroll_to(y=lines.index(HELP_SECTION), animate=False)

    def action_close(self) -> None:
        self.awaiting = ""
        self.dismiss(self.result if self._written() else None)

    def action_back(self) -> None:
        self.awaiting = ""
        if self.step == "step-preview":
            self._show_step("step-file")
            self.query_one("#file-path", PathInput).focus()
        else:
            self._show_step("step-preview")
            self.query_one(ColumnsTable).focus()

    def action_stop(self) -> None:
        self.cancel.set()
        self.query_one("#run-title", Static).update(plain("Stopping… nothing will be written."))
