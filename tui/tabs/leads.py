"""Tab 1, the lead funnel: funnel chart beside a fast, filterable lead list with saved
views and marks for bulk actions; new, edit and activity here, the other actions on
leads in ``tui.lead_actions``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, replace
from datetime import date
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Static

from store.changes import Changes
from store.config import SavedLeadView
from store.database import Store
from store.funnel import LEAD_STEPS, PERIODS, Period, funnel
from store.gc_pause import collector_paused
from store.models import GRADES, LEAD_STATUSES, Lead, Opportunity
from store.records import is_live, required_keys
from tui import views
from tui.bulk import Marks, mark_bindings
from tui.clock import today
from tui.custom import CustomList
from tui.forms import custom_defaults, custom_fields, of, with_flag
from tui.lead_actions import LeadActions
from tui.lead_filters import NO_LEADS, LeadFilter, LeadFiltering
from tui.loading import DETAIL_TABLES
from tui.rows import LeadRow
from tui.screens.form import Field, FormScreen
from tui.screens.records import DuplicateScreen, RecordScreen
from tui.text import counted, labelled
from tui.widgets.funnel import FunnelChart
from tui.widgets.table import Cell, Column, VirtualTable

#: more rows written than this (an import, a merge) and a tab rebuilds rather than patches
PATCH_LIMIT = 500
GRADE_STYLE = {"A": "grade-a", "B": "grade-b", "C": "grade-c", "D": "grade-d"}
COLUMNS = [
    Column("name", "Name", 16, flex=True),
    Column("company", "Company", 16, flex=True, priority=3),
    Column("grade", "Gr", 2, order=("A first", "D first"), noun="grade"),
    Column("source", "Source", 10, priority=5),
    Column("status", "Status", 9, order=("new first", "furthest first")),
    Column("owner", "Owner", 8, priority=2),
    Column("follow_up", "Follow-up", 11, order=("soonest first", "latest first")),
    Column("age", "Age", 4, align="right", priority=4, order=("newest first", "oldest first")),
]


def lead_cells(row: LeadRow, today_: date) -> list[Cell]:
    follow = row.follow_up.isoformat() if row.follow_up else ""
    status = "pool" if row.in_pool else row.status
    return [
        (row.name, None), (row.company, None), (row.grade, GRADE_STYLE.get(row.grade)),
        (row.source, None), (status, "quiet" if row.in_pool else None), (row.owner, None),
        (follow, "overdue" if row.overdue(today_) else None),
        (f"{(today_ - row.created).days}d", None),
    ]


#: time for a frame to reach the screen (Textual's 60 a second, and some to spare)
FRAME_SECONDS = 0.05


class LeadsTab(LeadFiltering, LeadActions, Vertical):
    BINDINGS = [
        Binding("n", "new", "New", id="leads.new"),
        Binding("e", "edit", "Edit", id="leads.edit"),
        Binding("a", "activity", "Activity", id="leads.activity"),
        Binding("f", "follow_up", "Follow-up", id="leads.follow_up"),
        Binding("c", "convert", "Convert", id="leads.convert"),
        Binding("x", "disqualify", "Disqualify", id="leads.disqualify"),
        Binding("A", "assign", "Assign", show=False, id="leads.assign"),
        Binding("m", "claim", "Claim from pool", show=False, id="leads.claim"),
        Binding("plus,equals_sign", "grade(-1)", "Grade up", show=False, id="leads.grade_up"),
        Binding("minus", "grade(1)", "Grade down", show=False, id="leads.grade_down"),
        Binding("slash", "search", "Filter", id="leads.search"),
        Binding("escape", "clear_search", "Clear", show=False, id="leads.clear"),
        Binding("G", "cycle_grade", "Grade filter", show=False, id="leads.filter_grade"),
        Binding("S", "cycle_status", "Status filter", show=False, id="leads.filter_status"),
        Binding("O", "cycle_owner", "Owner", show=False, id="leads.filter_owner"),
        Binding("D", "toggle_overdue", "Overdue", show=False, id="leads.filter_overdue"),
        Binding("L", "toggle_pool", "Pool", show=False, id="leads.filter_pool"),
        Binding("F", "custom_filter", "Custom field filter", show=False, id="leads.filter_custom"),
        Binding("P", "cycle_period", "Period", show=False, id="leads.period"),
        Binding("v", "toggle_funnel", "Funnel", show=False, id="leads.toggle_funnel"),
        *mark_bindings("leads"),
        Binding("number_sign", "tag", "Tag", show=False, id="leads.tag"),
        Binding("X", "export", "Export CSV", show=False, id="leads.export"),
        Binding("V", "pick_view", "Saved views", show=False, id="leads.views"),
        Binding("W", "save_view", "Save view", show=False, id="leads.save_view"),
    ]
    DEFAULT_CSS = """
    LeadsTab { height: 1fr; }
    LeadsTab #leads-body { height: 1fr; }
    LeadsTab #funnel-panel { width: 46; border-right: solid $panel; padding-right: 1; }
    LeadsTab #funnel-panel.hidden { display: none; }
    LeadsTab #funnel-title { text-style: bold; padding: 0 1; }
    LeadsTab #funnel-hint { color: $text-muted; padding: 0 1; margin-top: 1; }
    LeadsTab #lead-panel { width: 1fr; }
    LeadsTab #lead-filters { height: auto; max-height: 2; padding: 0 1; background: $panel; }
    LeadsTab #lead-search { display: none; height: 1; border: none; padding: 0 1; }
    LeadsTab #lead-search.shown { display: block; }
    """

    def __init__(self, store: Store, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.store = store
        self.filter = LeadFilter()
        self.period: Period = "month"
        #: the funnel counted the deal steps (they wait for the deals to be read)
        self.funnel_complete = False
        self.rows_by_id: dict[str, LeadRow] = {}
        #: the stored document each row was built from: the feed skips rows still current
        self._docs: dict[str, object] = {}
        self.all_rows: list[LeadRow] = []
        #: stored leads whose rows wait until after the first frame (``reload``), and the
        #: filter key (owner first) the rows built so far were chosen for
        self._unbuilt: list[Mapping[str, Any]] = []
        self._built_for: tuple[Any, ...] | None = None
        self._base: list[LeadRow] = []
        self._base_key: tuple[Any, ...] | None = None
        #: the rows found for each prefix of the filter text among ``_searched_in``, in the
        #: list's order and in the order they were made (``_matching``)
        self._searched_in: list[LeadRow] | None = None
        self._searched: dict[str, tuple[list[LeadRow], list[LeadRow] | None]] = {}
        self.today = today()
        self.marks = Marks()
        self.view: SavedLeadView | None = None
        self.custom = CustomList(store, Lead.table, self._docs.get)
        self.table: VirtualTable[LeadRow] = VirtualTable(
            [*COLUMNS, *self.custom.columns()],
            lambda row: [*lead_cells(row, self.today), *self.custom.cells(row.id)], sort_keys={
                "name": lambda r: r.name.casefold(), "company": lambda r: r.company.casefold(),
                "grade": lambda r: r.grade or "Z", "source": lambda r: r.source,
                "status": lambda r: LEAD_STATUSES.index(r.status), "owner": lambda r: r.owner,
                "follow_up": lambda r: r.follow_up or date.max, "age": lambda r: (self.today - r.created).days,
                **self.custom.sort_keys(),
            }, empty_text=NO_LEADS, id="lead-table")
        self.table.is_marked = lambda row: row.id in self.marks

    # -- layout ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal(id="leads-body"):
            with Vertical(id="funnel-panel"):
                yield Static("", id="funnel-title")
                yield FunnelChart(id="funnel")
                yield Static("P period · O owner · v hide", id="funnel-hint")
            with Vertical(id="lead-panel"):
                yield Static("", id="lead-filters")
                yield Input(placeholder="filter: name, company, email, phone, tag", id="lead-search")
                yield self.table.header
                yield self.table

    def on_mount(self) -> None:
        self.table.sort_by("follow_up", reverse=False)
        self.reload()

    def on_resize(self) -> None:
        self.query_one("#funnel-panel").set_class(self.size.width < 120, "hidden")
        self.call_after_refresh(self.show_summary)  # the sort column may have come or gone

    # -- data -------------------------------------------------------------------------------
    def reload(self) -> None:
        """Rebuild every row from the store (start, sync, another process's changes): first
        the rows the owner filter can show, painted at once, then the others after the frame
        (a rep's own leads are a thirtieth of a team's; building 200k rows takes 0.6 s)."""
        self.today = today()
        self._docs.clear()  # in place: the custom columns read it
        self._docs.update((doc["id"], doc) for doc in self.store.rows(Lead))
        shown = self._owner_check()
        first, self._unbuilt = [], []
        if shown:
            for doc in self._docs.values():
                (first if shown(doc) else self._unbuilt).append(doc)
        else:
            first = list(self._docs.values())
        self._built_for = self._base_filter_key() if shown else None
        with collector_paused(keep=True):  # see ``build_all_rows``
            self.rows_by_id = dict(self._rows_of(first))
        self.marks.keep(self._docs.__contains__)
        self.all_rows = self.table.sort_rows(list(self.rows_by_id.values()))
        self._base_key = None
        self.apply_filter()
        self.refresh_funnel()
        if self._unbuilt:  # after the frame is on the screen (an after-refresh call comes before it)
            self.set_timer(FRAME_SECONDS, self.build_all_rows)

    def _rows_of(self, docs: Iterable[Mapping[str, Any]]) -> Iterator[tuple[str, LeadRow]]:
        extra, row_of = self.custom.search_text(), LeadRow.from_doc
        if self.custom.has_text():
            return ((doc["id"], row_of(doc, extra(doc))) for doc in docs)
        return ((doc["id"], row_of(doc)) for doc in docs)  # no call a lead for custom text that is not there

    def _owner_check(self) -> Callable[[Mapping[str, Any]], bool] | None:
        """A check on a stored lead that every row the owner filter shows passes (None: the
        whole team's, nothing to leave for later)."""
        owner = self.owner_id()
        if self.filter.pool:
            return lambda doc: bool(doc.get("in_pool"))
        if owner is None:
            return None
        return lambda doc: doc.get("owner") == owner and not doc.get("in_pool")

    def build_all_rows(self) -> None:
        """The rows ``reload`` left for after the first frame (before anything reads them all)."""
        if not self._unbuilt:
            return
        unbuilt, self._unbuilt, self._built_for = self._unbuilt, [], None
        # Out of the collector's sight once made: 200k rows walked by each full collection
        # made a keystroke now and then 40 ms slower. They hold no cycles.
        with collector_paused(keep=True):
            built, fresh = self.rows_by_id, dict(self._rows_of(unbuilt))
        # In the stored order, as one pass builds them: rows that sort equal stay in it.
        self.rows_by_id = {key: built.get(key) or fresh[key] for key in self._docs if key in built or key in fresh}
        self.all_rows = self.table.sort_rows(list(self.rows_by_id.values()))
        self._base_key = None
        self.apply_filter()

    def _base_filter_key(self) -> tuple[Any, ...]:
        f = self.filter
        return (f.pool, self.owner_id(), f.grade, f.status, f.overdue, f.custom, self.today)

    def apply_changes(self, changes: Changes) -> None:
        """The change feed: the rows of the leads written (every row after a reload or a big
        write), the funnel when leads or deals changed. A row already built from the stored
        document (the writer patched it) is left alone."""
        ids = changes.ids(Lead.table)
        if changes.everything or len(ids) > PATCH_LIMIT:
            self.reload()
            return
        table = self.store.storage.tables[Lead.table]
        stale = [lead_id for lead_id in ids if table.get(lead_id) is not self._docs.get(lead_id)]
        if stale:
            self._patch(stale)
        if stale or changes.touches(Opportunity.table):
            self.refresh_funnel()

    def tables_arrived(self) -> None:
        """More tables were read (or the first ones pooled): the funnel's deal steps and the
        rows left for later, if they waited for them."""
        if not self.funnel_complete:
            self.refresh_funnel()
        if self._unbuilt:
            self.build_all_rows()

    def lead_changed(self, lead_id: str) -> None:
        """Patch one row after a write, instead of rebuilding 50k; the cursor goes to it."""
        self._patch([lead_id], keep_id=lead_id)
        self.refresh_funnel()

    def leads_changed(self, lead_ids: list[str]) -> None:
        """After a bulk write: patch its rows (rebuild all, past ``PATCH_LIMIT``)."""
        if len(lead_ids) > PATCH_LIMIT:
            self.reload()
            return
        self._patch(lead_ids)
        self.refresh_funnel()

    def _patch(self, lead_ids: list[str], keep_id: str | None = None) -> None:
        self.build_all_rows()
        table = self.store.storage.tables[Lead.table]
        fresh: list[LeadRow] = []
        gone: set[str] = set()
        for lead_id in lead_ids:
            doc = table.get(lead_id)
            if doc is None or not is_live(doc) or not doc.keys() >= required_keys(Lead):
                # deleted (a teammate's delete, an undo), or damaged: listed by `check`, not here
                if self._docs.pop(lead_id, None) is not None:
                    self.rows_by_id.pop(lead_id, None)
                    gone.add(lead_id)
                continue
            self._docs[lead_id] = doc
            row = self.rows_by_id[lead_id] = LeadRow.from_doc(doc, self.custom.search_text()(doc))
            fresh.append(row)
        if not fresh and not gone:
            return
        patched = {row.id: row for row in fresh}
        kept = [patched.pop(r.id, r) for r in self.all_rows if r.id not in gone]
        self.all_rows = self.table.sort_rows([*kept, *patched.values()])
        self._base_key = None
        self.apply_filter(keep_id=keep_id)

    def show_summary(self) -> None:
        """The filter line: counts, marks, the filter and the sort, in words."""
        shown = len(self.table.rows)
        parts = [f"{shown:,} of {counted(len(self._docs), 'lead')}",
                 self.marks.summary(len(self.marks.shown(self.table.rows))),
                 f"view “{self.view.name}”" if self.view else "", self.filter.describe(), self.table.sort_text()]
        self.query_one("#lead-filters", Static).update(labelled("$s", s=" · ".join(p for p in parts if p)))

    def refresh_funnel(self) -> None:
        """The funnel's lead steps, and its deal steps once the deals are read (``tui.loading``:
        the lead list is painted before they are)."""
        deals_in = self.app.loaded([Opportunity.table])  # type: ignore[attr-defined]
        # The leads as the list holds them: read once per reload, not once more here.
        steps = funnel(self._docs.values(), self.store.rows(Opportunity) if deals_in else (), self.store.config,
                       today=self.today, period=self.period, owner=self.owner_id())
        chart = self.query_one(FunnelChart)
        chart.waiting = "" if deals_in else "Deals: loading…"  # first: the height follows the steps
        chart.steps = steps if deals_in else steps[:LEAD_STEPS]
        self.funnel_complete = deals_in
        owner = {"me": "me", "team": "team"}.get(self.filter.owner, self.filter.owner)
        self.query_one("#funnel-title", Static).update(
            labelled("Funnel · $period · $owner", period="all time" if self.period == "all"
                     else f"this {self.period}", owner=owner))

    @on(VirtualTable.SortChanged)
    def _resorted(self) -> None:
        self.all_rows = self.table.sort_rows(self.all_rows)  # rows built later are sorted then
        self._base_key = None
        self.apply_filter()

    # -- filters ------------------------------------------------------------------------------
    def action_search(self) -> None:
        search = self.query_one("#lead-search", Input)
        search.add_class("shown")
        search.focus()

    @on(Input.Changed, "#lead-search")
    def _typed(self, event: Input.Changed) -> None:
        self.set_filter(text=event.value.strip().casefold())

    @on(Input.Submitted, "#lead-search")
    def _search_done(self) -> None:
        self.table.focus()

    def action_clear_search(self) -> None:
        """esc: the marks first, then the typed filter, then the quick filters (back to my
        open leads)."""
        if self.marks.clear():
            self.table.refresh()
            self.show_summary()
            return
        search = self.query_one("#lead-search", Input)
        typed = bool(self.filter.text) or search.has_class("shown")
        search.value = ""
        search.remove_class("shown")
        self.table.focus()
        if typed:
            self.set_filter(text="")
        elif self.filter != LeadFilter() or self.view is not None:
            self.set_filter(**asdict(LeadFilter()))

    def custom_changed(self) -> None:
        """The team's custom fields changed: the list's columns, sort keys and quick filter."""
        self.filter = replace(self.filter, custom=self.custom.refit(self.table, COLUMNS, self.filter.custom))

    def action_cycle_period(self) -> None:
        self.period = PERIODS[(PERIODS.index(self.period) + 1) % len(PERIODS)]
        self.refresh_funnel()

    # -- marks and saved views ----------------------------------------------------------------
    def action_mark(self) -> None:
        row = self.table.current
        if row is not None:
            self.marks.toggle(row.id)
            self.table.action_cursor(1)
            self.table.refresh()
            self.show_summary()

    def action_mark_all(self) -> None:
        self.marks.toggle_all(row.id for row in self.table.rows)
        self.table.refresh()
        self.show_summary()

    def action_pick_view(self) -> None:
        def chosen(view: SavedLeadView | bool) -> None:
            self.view = view or None
            if not view:
                self.filter = LeadFilter()  # the default view: my open leads
            else:
                self.filter = LeadFilter(**views.lead_filter_values(view, self.store.me))
                if view.sort in self.table.sort_keys:
                    self.table.sort_by(view.sort, reverse=view.reverse)
            self.query_one("#lead-search", Input).value = self.filter.text
            self._base_key = None
            self.apply_filter()
            self.refresh_funnel()

        views.pick_saved(self.app, "Saved lead views", self.store.config.lead_views, "no view (my open leads)",
                         "No saved views yet: filter and sort the leads, then W saves the list as one.", chosen)

    def action_save_view(self) -> None:
        f, table = self.filter, self.table

        def make(name: str) -> SavedLeadView:
            return views.lead_view(name, owner=self.owner_id(), status=f.status, grade=f.grade, overdue=f.overdue,
                                   pool=f.pool, text=f.text, sort=table.sort_key, reverse=table.sort_reverse)

        def saved(view: object) -> None:
            self.view = view if isinstance(view, SavedLeadView) else None
            self.show_summary()

        views.ask_and_save(self.app, self.store, "lead_views", "Save this list as a view named", make, saved)

    def action_toggle_funnel(self) -> None:
        self.query_one("#funnel-panel").toggle_class("hidden")

    def show_lead(self, lead_id: str) -> None:
        """Bring a lead into view (from the palette or a duplicate warning)."""
        self.build_all_rows()
        row = self.rows_by_id.get(lead_id)
        if row is None:
            return
        if not self.matches(row):
            self.filter = LeadFilter(owner="team", status=None, pool=False)
            self.query_one("#lead-search", Input).value = ""
        self.apply_filter(keep_id=lead_id)
        self.table.focus()

    # -- the selected lead ----------------------------------------------------------------------
    def lead_fields(self) -> list[Field]:
        config = self.store.config
        reps = [(f"{r.name} ({r.id})", r.id) for r in config.reps]
        return of(Lead, [  # checked as the lead's fields: every problem in one round
            Field("name", "Name", required=True), Field("company", "Company"), Field("title", "Job title"),
            Field("email", "Email"), Field("phone", "Phone"),
            Field("source", "Source", "choice", [(s, s) for s in config.lead_sources]),
            Field("region", "Region"),
            Field("grade", "Grade", "choice", [(g, g) for g in GRADES]),
            Field("owner", "Owner", "choice", [("auto-assign by rule", "auto"), *reps], required=True),
            Field("next_follow_up", "Next follow-up", "date"),
            Field("tags", "Tags", "tags", placeholder="comma separated"),
            Field("notes", "Notes", "notes"),
            *custom_fields(self.store, Lead.table),
        ])

    def action_new(self, values: dict[str, Any] | None = None) -> None:
        values = values or {"owner": self.store.me, "source": self.store.config.lead_sources[0],
                            **custom_defaults(self.store, Lead.table)}

        def save(new: dict[str, Any]) -> Any:
            self.store.validate(Lead, {**new, "owner": self.store.me if new["owner"] == "auto"
                                       else new["owner"]})
            matches = self.store.duplicates_of(new)
            if matches and not new.get("_confirmed"):
                return ("duplicates", new, matches)
            return self.store.add_lead(**new)

        def done(result: Any) -> None:
            if isinstance(result, tuple):
                self.app.push_screen(DuplicateScreen(result[2]), lambda answer: self._duplicate_answer(
                    answer, result[1]))
            elif result is not None:
                self.lead_changed(result.id)
                self.app.notify(labelled("Added lead $name (owner $owner)", name=result.name,
                                         owner=result.owner))

        self.app.push_screen(FormScreen("New lead", self.lead_fields(), values, save), done)

    def _duplicate_answer(self, answer: str | None, values: dict[str, Any]) -> None:
        if answer == "add":
            lead = self.run(self.store.add_lead, **values)
            if lead:
                self.lead_changed(lead.id)
                self.app.notify(labelled("Added lead $name despite the match", name=lead.name))
        elif answer and answer.startswith("open:"):
            table, record_id = answer.removeprefix("open:").split(":")
            self.app.open_record(table, record_id)  # type: ignore[attr-defined]
        else:
            self.action_new(values)  # back to the form, nothing lost

    def action_edit(self) -> None:
        lead = self.selected()
        if lead is None:
            return
        values = lead.model_dump()
        fields = with_flag([f for f in self.lead_fields() if f.name != "owner"], values)

        def save(changes: dict[str, Any]) -> Lead:
            return self.store.update(Lead, lead.id, **changes)

        self.app.push_screen(FormScreen(f"Edit lead: {lead.name}", fields, values, save),
                             lambda result: result and self.lead_changed(result.id))

    def action_activity(self) -> None:
        lead = self.selected()
        if lead is None:
            return
        self.app.log_activity_form(lead_id=lead.id, title=f"Log activity: {lead.name}",  # type: ignore[attr-defined]
                                   after=lambda: self.lead_changed(lead.id))

    @on(VirtualTable.Selected, "#lead-table")
    def _open(self, event: VirtualTable.Selected) -> None:
        row = self.table.current
        if row is not None:
            self.app.when_loaded(DETAIL_TABLES,  # type: ignore[attr-defined]
                                 lambda: self.app.push_screen(RecordScreen(self.store, Lead.table, row.id)))
