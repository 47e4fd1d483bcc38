"""The Dealdeck app: one full-screen Textual app with a tab per half of the sales process."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.notifications import Notification
from textual.widgets import TabbedContent, TabPane

from store.agenda import due_today_count
from store.changes import Changes
from store.config import save_config_value, save_config_values
from store.database import Store
from store.errors import StoreError
from store.models import Customer, Lead
from sync.exchange import last_merge
from tui.clock import today
from tui.commands import ActionsProvider, RecordsProvider, SearchIndex
from tui.header import AppHeader, header_parts
from tui.loading import AGENDA_TABLES, ALL_TABLES, FIRST_TABLES, TAB_TABLES, BackgroundLoading
from tui.record_actions import RecordActions
from tui.screens.customer import CustomerScreen
from tui.screens.form import FormScreen
from tui.screens.help import HelpScreen
from tui.screens.import_plan import ChoiceTable, ColumnsTable, PlanStep
from tui.screens.importer import IMPORT_WORKERS, ImportScreen
from tui.screens.opportunity import OpportunityScreen
from tui.screens.present import PresentScreen
from tui.screens.records import RecordScreen
from tui.screens.rules import RulesScreen
from tui.screens.service import ServiceScreen
from tui.screens.settings import SettingsScreen
from tui.screens.today import TodayScreen, load_agenda
from tui.screens.welcome import EmptyDatabaseScreen, FirstRun, FirstRunScreen
from tui.sync_actions import SyncActions
from tui.tabs.board import BoardTab
from tui.tabs.customers import CustomersTab
from tui.tabs.leads import LeadsTab
from tui.tabs.review import ReviewTab
from tui.text import counted
from tui.themes import ANSI_THEME, DEFAULT_THEME, THEME_VARIABLE_DEFAULTS, has_16_colours, load_themes
from tui.widgets.board import KanbanBoard
from tui.widgets.cards import CardGrid
from tui.widgets.footer import AppFooter
from tui.widgets.table import VirtualTable

TABS = (("leads", "1 Lead funnel"), ("board", "2 Opportunities"), ("customers", "3 Customers"),
        ("review", "4 Weekly review"))
#: how often to look for changes made by another Dealdeck process on this folder
REFRESH_SECONDS = 3.0
#: how long after every table is read the review is prepared (the tabs build their rows first)
REVIEW_AFTER_TABLES_S = 1.5


class ChangesWaiting(Message):
    """The store has writes the views have not shown yet (posted from any thread that writes)."""


class DealdeckApp(SyncActions, RecordActions, BackgroundLoading, App[None]):
    TITLE = "Dealdeck"
    CSS_PATH = "dealdeck.tcss"
    COMMANDS = {RecordsProvider, ActionsProvider}
    BINDINGS = [
        # The tab bar shows these keys; the footer keeps its room for actions.
        Binding("1", "show_tab('leads')", "Lead funnel", show=False, id="app.tab_leads"),
        Binding("2", "show_tab('board')", "Opportunity board", show=False, id="app.tab_board"),
        Binding("3", "show_tab('customers')", "Customer cards", show=False, id="app.tab_customers"),
        Binding("4", "show_tab('review')", "Weekly review", show=False, id="app.tab_review"),
        Binding("t", "today", "Today", id="app.today"),
        Binding("s", "sync", "Sync", show=False, id="app.sync"),
        Binding("p", "present", "Present", show=False, id="app.present"),
        Binding("ctrl+z", "undo", "Undo", show=False, id="app.undo"),
        Binding("ctrl+y", "redo", "Redo", show=False, id="app.redo"),
        Binding("question_mark", "help", "Keys", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(self, store: Store, *, theme: str | None = None, read_rest: bool = True,
                 present: bool = False) -> None:
        """``read_rest``: read the tables the store was not opened with after the first
        frame (``tui.loading``); False leaves it to whoever calls ``load_the_rest``.
        ``present``: open in the weekly review's presentation (``dealdeck --present``)."""
        super().__init__()
        self.present_at_start = present
        self.store = store
        self.read_rest = read_rest
        #: the due counts were counted from every table they read (see ``tables_ready``)
        self._header_counted = False
        #: the damaged-records warning last given
        self._damaged_said: str | None = None
        self.requested_theme = theme
        self.dealdeck_themes: set[str] = set()
        self._saving_theme = False
        #: (due today, overdue) for the current rep, refreshed with the header
        self.due_counts = (0, 0)
        #: (when, from whom) of the last team merge, read with the counts: not on every repaint
        self.merged: tuple[str, list[str]] | None = None
        self.search_index = SearchIndex()
        #: the step a running sync is at ("" when none runs)
        self.sync_step = ""
        #: the change feed is to run after this refresh (``take_changes``)
        self._feed_waiting = False
        #: the "Syncing with the team…" toast, taken away when the sync ends
        self._syncing_note: Notification | None = None
        self.init_loading()

    # -- start ------------------------------------------------------------------------------
    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(THEME_VARIABLE_DEFAULTS)

    def compose(self) -> ComposeResult:
        yield AppHeader(id="app-header")
        with TabbedContent(id="tabs", initial="leads"):
            with TabPane(TABS[0][1], id="leads"):
                yield LeadsTab(self.store, id="leads-tab")
            with TabPane(TABS[1][1], id="board"):
                yield BoardTab(self.store, id="board-tab")
            with TabPane(TABS[2][1], id="customers"):
                yield CustomersTab(self.store, id="customers-tab")
            with TabPane(TABS[3][1], id="review"):
                yield ReviewTab(self.store, id="review-tab")
        yield AppFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self._register_themes()
        refusal = self.store.replica.sync_refusal(self.store.folder)
        if refusal:  # a copied data folder: local work goes on, sync is refused until fixed
            self.notify(refusal, severity="warning", timeout=30, markup=False)
        clock = self.store.clock_warning()
        if clock:  # stamps that ran ahead: nothing can be saved until the repair
            self.notify(clock, severity="warning", timeout=30, markup=False)
        self.set_keymap(self.store.config.keys)
        self._watch(self.store)
        self.update_header()
        self.query_one(LeadsTab).table.focus()
        self.set_interval(REFRESH_SECONDS, self.check_other_processes)
        if not self.store.has_any(Lead) and not self.store.has_any(Customer):
            if self._new_user():
                self.push_screen(FirstRunScreen(), self._first_run_done)
            else:
                self.push_screen(EmptyDatabaseScreen(), self._demo_answer)
        else:
            self.when_loaded(ALL_TABLES, self.start_of_day, say=False)  # its rules read every table
            if self.present_at_start:
                self.action_present()
        self.call_after_refresh(self._warn_damaged)
        if self.read_rest:
            self.call_after_refresh(self.load_the_rest)

    def _warn_damaged(self) -> None:
        """Once the tabs have read the tables (after the first frame, and again when every
        table is in): say if damaged records were left out, once for each count."""
        warning = self.store.damaged_warning()
        if warning and warning != self._damaged_said:
            self._damaged_said = warning
            self.notify(warning, severity="warning", timeout=30, markup=False)

    def _register_themes(self) -> None:
        themes, problems = load_themes(self.store.folder / "themes")
        for theme in themes:
            self.register_theme(theme)
            self.dealdeck_themes.add(theme.name)
        for problem in problems:
            self.notify(str(problem), severity="warning", markup=False)
        wanted = self.requested_theme or self.store.config.theme
        if self.requested_theme is None and not self.is_headless and has_16_colours(dict(os.environ)):
            wanted = ANSI_THEME  # 16 colours: the terminal's own palette reads best
        if wanted not in self.available_themes:
            self.notify(f"No theme named {wanted!r}; using {DEFAULT_THEME}.", severity="warning", markup=False)
            wanted = DEFAULT_THEME
        self._saving_theme = False
        self.theme = wanted
        self._saving_theme = True

    def watch_theme(self, theme: str) -> None:
        if self._saving_theme and theme in self.dealdeck_themes and theme != self.store.config.theme:
            try:
                save_config_value(self.store.folder, "theme", theme)
            except StoreError as exc:
                self.notify(str(exc), severity="error", markup=False)

    def switch_theme(self, name: str) -> None:
        self.theme = name

    def start_of_day(self) -> None:
        returned = self._run(self.store.sweep_pool, today())
        if returned:
            self.notify(f"{len(returned)} leads not followed up in time went back to the lead pool.")
            self.data_changed()
        for line in (self.store.settings_notice(), *self.store.settings_problems()):
            if line:  # the team's settings differ from config.yaml, or a value of theirs does not fit
                self.notify(line, title="Team settings", markup=False, timeout=10)
        acted = self._run(self.store.run_timed_rules, today())
        if acted:  # the feed brings the records they changed to the views
            self.notify(f"The team's rules acted on {counted(len(acted), 'record')} today "
                        "(ctrl+p, Rules, says what they did).", markup=False)
        due, overdue = self.due_counts
        if due or overdue:
            self.notify(f"{due} due today, {overdue} overdue. Press t to see them.", title="Today")

    def _new_user(self) -> bool:
        """A data folder nobody has said who they are in (the default config's ``me``)."""
        config = self.store.config
        return config.me == "me" and [r.id for r in config.reps] == ["me"]

    def _first_run_done(self, answer: FirstRun | None) -> None:
        """Who the user is goes in config.yaml, with the team folder (made when it is new)
        and the reps it already holds; joining syncs at once. Demo data is offered only to
        someone working alone: in a team folder its records would go to everyone."""
        if answer is None:
            self.push_screen(EmptyDatabaseScreen(), self._demo_answer)
            return
        try:
            teammates = self._join(answer)
        except (StoreError, OSError) as exc:
            self.notify(str(exc), severity="error", markup=False)
            self.push_screen(FirstRunScreen(), self._first_run_done)
            return
        folder = self.store.folder
        self.store.close()
        self._use_store(Store(folder, fold_at_close=True), None)
        if answer.team is None:
            self.push_screen(EmptyDatabaseScreen(), self._demo_answer)
        elif teammates:
            self.notify(f"Joining the team in {answer.team}: syncing…", markup=False)
            self.run_sync(answer.team, self.store.config.sync.transport)
        else:
            self.notify(f"Started a team folder at {answer.team}: teammates join by giving Dealdeck the same "
                        "folder. n adds a lead; ctrl+p → Import CSV… brings them from a file.", markup=False)

    def _join(self, answer: FirstRun) -> list[str]:
        """Save who the user is and the team folder; the team's reps found in it."""
        from sync.team import scan, team_reps

        teammates: list[str] = []
        sync = self.store.config.sync.model_dump(mode="json")
        if answer.team is not None:
            answer.team.mkdir(parents=True, exist_ok=True)
            teammates = team_reps(scan(answer.team))
            transport = "git" if (answer.team / ".git").exists() else "folder"
            sync |= {"folder": str(answer.team), "transport": transport}
        reps = [{"id": answer.rep_id, "name": answer.name, "email": answer.email}]
        reps += [{"id": rep, "name": rep} for rep in teammates if rep != answer.rep_id]
        save_config_values(self.store.folder, {"me": answer.rep_id, "reps": reps, "sync": sync})
        return teammates

    def _demo_answer(self, yes: bool | None) -> None:
        if yes:
            self.fill_demo()
        elif yes is None:  # import a CSV file
            self.push_screen(ImportScreen(self.store), self._first_import)
        else:
            self.notify("Press n on the lead tab to add your first lead.")

    def _first_import(self, report: object) -> None:
        if report is None:
            self.notify("Press n on the lead tab to add your first lead, or ctrl+p: Import CSV… later.")

    @work(thread=True, exclusive=True)
    def fill_demo(self) -> None:
        from store.demo import generate_demo

        folder = self.store.folder
        self.call_from_thread(self.notify, "Writing demo data…")
        self.store.close()
        try:
            summary = generate_demo(folder, today=today())
        except StoreError as exc:
            self.call_from_thread(self.notify, str(exc), severity="error", markup=False)
            summary = None
        store = Store(folder, fold_at_close=True)
        self.call_from_thread(self._use_store, store, summary)

    def _use_store(self, store: Store, summary: object) -> None:
        self.store = store
        self._watch(store)
        self.query_one(LeadsTab).store = store
        self.query_one(BoardTab).store = store
        self.query_one(CustomersTab).store = store
        self.query_one(ReviewTab).store = store
        if summary:
            self.notify(str(summary), markup=False)
        self.data_changed()
        self.start_of_day()

    # -- keeping the screen current ---------------------------------------------------------------
    def _watch(self, store: Store) -> None:
        """Every commit and every catch-up of ``store`` feeds the views (``apply_changes``)."""
        store.take_changes()  # what the views were built from
        store.storage.changes.listener = lambda: self.post_message(ChangesWaiting())

    def on_changes_waiting(self, _: ChangesWaiting) -> None:
        if not self._feed_waiting:
            self._feed_waiting = True  # several commits in one key press: one pass
            self.call_after_refresh(self.take_changes)

    def take_changes(self) -> None:
        self._feed_waiting = False
        if any(worker.group == IMPORT_WORKERS and not worker.is_finished for worker in self.workers):
            return  # mid-import the tables hold uncommitted rows: its commit feeds the views
        changes = self.store.take_changes()
        if changes:
            self.apply_changes(changes)

    def apply_changes(self, changes: Changes) -> None:
        """The one change feed: every write (here, by a sync, or by another process on this
        folder) reaches every tab, every screen open over them and the header, and each
        updates only what shows the records written."""
        if changes.touches("settings"):
            self.settings_changed(changes)
            return
        self.query_one(LeadsTab).apply_changes(changes)
        self.query_one(BoardTab).apply_changes(changes)
        self.query_one(CustomersTab).apply_changes(changes)
        self.query_one(ReviewTab).apply_changes(changes)
        for screen in self.screen_stack[1:]:
            apply = getattr(screen, "apply_changes", None)
            if apply is not None:
                apply(changes)
        if changes.touches(*AGENDA_TABLES):
            self.update_header()
        else:
            self.paint_header()

    def settings_changed(self, changes: Changes) -> None:
        """The team's settings changed (stages, reps, rules ...): every view is built again."""
        for problem in self.store.settings_problems():
            self.notify(problem, severity="warning", markup=False)
        self.query_one(BoardTab).stages_changed()
        self.query_one(LeadsTab).custom_changed()
        self.query_one(CustomersTab).custom_changed()
        self.data_changed()
        for screen in self.screen_stack[1:]:
            apply = getattr(screen, "apply_changes", None)
            if apply is not None:
                apply(changes)

    def data_changed(self) -> None:
        """Something was written: reload the views and the header."""
        self.query_one(LeadsTab).reload()
        self.query_one(BoardTab).reload()
        self.query_one(CustomersTab).reload()
        if self.query_one(TabbedContent).active == "review":  # else: when it is next shown
            self.query_one(ReviewTab).refresh_review()
        self.update_header()

    def check_other_processes(self) -> bool:
        """Pick up what another process (or the sync worker) wrote; True if anything had."""
        if any(worker.group == IMPORT_WORKERS and not worker.is_finished for worker in self.workers):
            return False  # it holds the folder's lock until it commits: the screen must not wait for it
        try:
            return self.store.refresh()  # what it picks up reaches the views through the feed
        except StoreError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return False

    def update_header(self) -> None:
        """Recount what is due (after every change), then repaint the header."""
        self._header_counted = self.loaded(AGENDA_TABLES)
        if self._header_counted:  # else counted when they are read (``tables_ready``)
            self.due_counts = due_today_count(load_agenda(self.store, today(), team=False), today())
        self.merged = last_merge(self.store)  # a file read: here, not in every repaint
        self.paint_header()

    def paint_header(self) -> None:
        """Who and where, what is due (as last counted), and the sync's state."""
        names = {r.id: r.name for r in self.store.config.reps}
        due, overdue = self.due_counts
        board = self.query_one(BoardTab)
        parts = header_parts(
            rep=names.get(self.store.me, self.store.me), rep_id=self.store.me,
            due=due if self._header_counted else None, overdue=overdue,
            at_risk=board.at_risk_count(self.store.me) if board.loaded_version >= 0 else None,
            folder=_short_path(self.store.folder),
            sync_step=self.sync_step, merged=self.merged, names=names, today=today())
        for screen in self.screen_stack:  # the tabs' header, and the one on a details screen
            for header in screen.query(AppHeader):
                header.show(parts)

    # -- actions ---------------------------------------------------------------------------------------
    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        self.when_loaded(TAB_TABLES[tab], lambda: self._focus_tab(tab))

    def _focus_tab(self, tab: str) -> None:
        if self.query_one(TabbedContent).active != tab:
            return  # the user went on to another tab while this one's tables were read
        if tab == "leads":
            self.query_one(LeadsTab).table.focus()
        elif tab == "board":
            self.query_one(BoardTab).focus_view()
        elif tab == "customers":
            self.query_one(CustomersTab).focus_view()
        elif tab == "review":
            review = self.query_one(ReviewTab)
            review.refresh_review()
            review.query_one("#review-body").focus()

    def action_import_csv(self) -> None:
        """The import screen; it refreshes every tab itself when it has written."""
        self.push_screen(ImportScreen(self.store))

    def action_team_settings(self) -> None:
        self.push_screen(SettingsScreen(self.store))

    def action_rules(self) -> None:
        self.push_screen(RulesScreen(self.store))

    def action_undo(self) -> None:
        """Undo this session's last change, on any record: a new change, which syncs."""
        self._step(self.store.undo_last, "Undid", "ctrl+y redoes it.", "Nothing to undo in this session.")

    def action_redo(self) -> None:
        self._step(self.store.redo_last, "Redid", "ctrl+z undoes it again.", "Nothing to redo.")

    def _step(self, step: Callable[[], str | None], verb: str, then: str, nothing: str) -> None:
        try:
            what = step()
        except StoreError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.notify(f"{verb}: {what}. {then}" if what else nothing, markup=False)

    def action_today(self) -> None:
        self.when_loaded(AGENDA_TABLES, lambda: self.push_screen(TodayScreen(self.store)))

    def action_help(self) -> None:
        sections = [("Everywhere", self.BINDINGS), ("Lead funnel", LeadsTab.BINDINGS),
                    ("Opportunity board", BoardTab.BINDINGS), ("Board cards", KanbanBoard.BINDINGS),
                    ("Opportunity details", OpportunityScreen.BINDINGS),
                    ("Customer cards", CustomersTab.BINDINGS), ("Cards", CardGrid.BINDINGS),
                    ("Customer details", CustomerScreen.BINDINGS), ("Service queue", ServiceScreen.BINDINGS),
                    ("Weekly review", ReviewTab.BINDINGS), ("Presentation", PresentScreen.BINDINGS),
                    ("Lists", VirtualTable.BINDINGS), ("Record details", RecordScreen.BINDINGS),
                    ("Today", TodayScreen.BINDINGS),
                    ("Import CSV", [*ImportScreen.BINDINGS, *PlanStep.BINDINGS, *ColumnsTable.BINDINGS,
                                    *ChoiceTable.BINDINGS[1:]]),
                    ("Forms", FormScreen.BINDINGS), ("Team settings", SettingsScreen.BINDINGS),
                    ("Rules", RulesScreen.BINDINGS)]
        sections.insert(1, ("Command palette", [Binding("ctrl+p", "command_palette",
                                                        "find any record, run any action")]))
        self.push_screen(HelpScreen(sections, dict(self.store.config.keys)))

    def action_present(self) -> None:
        """The weekly review on a projector: from any tab, with the review's week and rep;
        esc comes back to the tab you were on."""
        self.when_loaded(ALL_TABLES, self.query_one(ReviewTab).action_present)

    def present_theme(self, name: str) -> None:
        """Switch theme for the presentation only: not saved as the user's choice."""
        self._saving_theme = False
        self.theme = name if name in self.available_themes else DEFAULT_THEME
        self._saving_theme = True

    def tables_ready(self) -> None:
        """More tables were read (``load_the_rest``): the header's counts and the tabs that
        waited for them."""
        self.query_one(LeadsTab).tables_arrived()
        self.query_one(BoardTab).first_load()
        self.query_one(CustomersTab).first_load()
        if not self._header_counted and self.loaded(AGENDA_TABLES):
            self.update_header()
        review = self.query_one(ReviewTab)
        if review.is_on_screen:
            review.refresh_review()
        if self.loaded(ALL_TABLES):
            self.call_after_refresh(self._warn_damaged)  # what the tables read since held
            # Prepared a moment after the tables, as after start-up when they were in
            # before its timer: a big folder's review was otherwise computed only when shown.
            review.set_timer(REVIEW_AFTER_TABLES_S, review.refresh_review)  # the tab's: it goes with the tab

    def board_rows(self) -> list[Any] | None:
        """The board's deal rows, if it has built them (the review reuses them)."""
        board = self.query_one(BoardTab)
        if board.loaded_version < 0:
            return None
        lost = self.store.config.lost_stage.key
        return [row for row in board.rows_by_id.values() if row.stage != lost]

    def customer_rows(self) -> list[Any] | None:
        customers = self.query_one(CustomersTab)
        return list(customers.rows_by_id.values()) if customers.loaded_version >= 0 else None

    def _run(self, write: Callable[..., Any], *args: Any) -> Any:
        try:
            return write(*args)
        except StoreError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return None


def _short_path(folder: Path) -> str:
    home = Path.home()
    try:
        return "~/" + str(folder.resolve().relative_to(home))
    except ValueError:
        return str(folder)


def run_app(folder: Path, *, rep: str | None = None, theme: str | None = None, present: bool = False) -> int:
    # The journal is folded at exit when no other session is open; the tables the first
    # frame does not show are read after it (``tui.loading``).
    store = Store(folder, me=rep, fold_at_close=True, load=FIRST_TABLES)
    if store.me not in store.config.rep_ids():
        store.close()
        raise StoreError(f"{store.me!r} is not one of the reps in {folder / 'config.yaml'}")
    app = DealdeckApp(store, theme=theme, present=present)
    try:
        app.run()
    finally:
        store.close()
        if app.store is not store:  # first run or demo data: the app went on with a new one
            app.store.close()
    return app.return_code or 0



