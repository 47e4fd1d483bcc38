"""Tab 2, the opportunity board: a kanban column per stage (or a compact list), stage
moves with history and undo, win and lose, risk warnings, filters and the forecast strip."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import ContentSwitcher, Input, Static

from store.changes import Changes
from store.database import Store
from store.errors import StoreError
from store.models import Activity, Customer, Opportunity
from store.pipeline import (
    DealRow,
    column_totals,
    deal_row,
    forecast,
    short_money,
)
from store.records import required_keys
from tui.bulk import Marks
from tui.clock import today
from tui.custom import CustomList
from tui.fitting import by_priority, whole_words
from tui.loading import TAB_TABLES
from tui.owners import next_owner, owner_of
from tui.screens.dialogs import PickScreen
from tui.screens.opportunity import OpportunityScreen
from tui.tabs.board_actions import DealActions
from tui.tabs.board_bulk import BULK_BINDINGS, BoardMarks
from tui.tabs.board_parts import (
    DealFilter,
    rate_warning,
    retired_column,
    risk_text,
    stage_style,
    strip_lines,
)
from tui.tabs.leads import PATCH_LIMIT
from tui.text import counted, labelled, plain, plain_lines
from tui.widgets.board import BoardColumn, KanbanBoard
from tui.widgets.table import Cell, Column, VirtualTable

COLUMNS = [
    Column("title", "Opportunity", 18, flex=True),
    Column("customer", "Customer", 14, flex=True, priority=3),
    Column("stage", "Stage", 11),  # widened to the longest stage name (columns_for)
    Column("amount", "Amount", 9, align="right"),
    Column("owner", "Owner", 6, priority=2),
    Column("close", "Close", 10),
    Column("days", "Days", 4, align="right", priority=4),
    Column("risk", "Risk", 12, priority=1),
]


def columns_for(labels: list[str]) -> list[Column]:
    """The list's columns, the stage column as wide as the longest stage name (up to 16:
    a narrower table shows a name's leading words, tui.fitting.whole_words)."""
    stage = max((len(label) for label in labels), default=11)
    return [replace(c, width=max(c.width, min(stage, 16))) if c.key == "stage" else c for c in COLUMNS]


class BoardTab(BoardMarks, DealActions, Vertical):
    BINDINGS = [
        Binding("n", "new", "New", id="board.new"),
        Binding("e", "edit", "Edit", id="board.edit"),
        Binding("left_square_bracket", "move(-1)", "Back", id="board.back"),
        Binding("right_square_bracket", "move(1)", "Forward", id="board.forward"),
        Binding("m", "move_to", "Move to stage", show=False, id="board.move_to"),
        Binding("w", "win", "Won", id="board.win"),
        Binding("x", "lose", "Lost", id="board.lose"),
        Binding("u", "undo", "Undo", id="board.undo"),
        Binding("a", "activity", "Activity", show=False, id="board.activity"),
        Binding("f", "follow_up", "Follow-up", show=False, id="board.follow_up"),
        Binding("F", "forecast_category", "Forecast category", show=False, id="board.category"),
        Binding("slash", "search", "Filter", id="board.search"),
        Binding("escape", "clear_search", "Clear", show=False, id="board.clear"),
        Binding("O", "cycle_owner", "Owner", show=False, id="board.filter_owner"),
        Binding("C", "pick_customer", "Customer", show=False, id="board.filter_customer"),
        Binding("M", "pick_month", "Close month", show=False, id="board.filter_month"),
        Binding("R", "toggle_risk", "At risk", show=False, id="board.filter_risk"),
        Binding("F", "custom_filter", "Custom field filter", show=False, id="board.filter_custom"),
        Binding("L", "toggle_lost", "Lost column", show=False, id="board.toggle_lost"),
        Binding("v", "toggle_view", "List/board", id="board.toggle_view"),
        Binding("o", "cycle_sort", "Sort", show=False, id="board.sort"),
        *BULK_BINDINGS,
    ]
    DEFAULT_CSS = """
    BoardTab { height: 1fr; }
    BoardTab #board-filters { height: 1; padding: 0 1; background: $panel; }
    BoardTab #board-search { display: none; height: 1; border: none; padding: 0 1; }
    BoardTab #board-search.shown { display: block; }
    BoardTab #board-views { height: 1fr; }
    BoardTab #board-list { height: 1fr; }
    BoardTab #forecast-strip { height: auto; padding: 0 1; background: $panel; }
    """

    def __init__(self, store: Store, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.store = store
        self.filter = DealFilter()
        self.today = today()
        self.rows_by_id: dict[str, DealRow] = {}
        #: the stored document each card was built from: the feed skips cards still current
        self._docs: dict[str, object] = {}
        self.customers: dict[str, str] = {}
        self.last_activity: dict[str, date] = {}
        self.loaded_version = -1
        self.marks = Marks()
        #: (deals shown, at risk, in stages no longer configured) for the filter line
        self._counts = (0, 0, 0)
        self.board = KanbanBoard(lambda: self.today, store.config.currency, id="board",
                                 is_marked=lambda row: row.id in self.marks)
        self.custom = CustomList(store, Opportunity.table, self._docs.get)
        self.table: VirtualTable[DealRow] = VirtualTable(
            [*columns_for([s.label for s in store.config.stages]), *self.custom.columns()],
            lambda row: [*self.cells(row), *self.custom.cells(row.id)], sort_keys={
                "title": lambda r: r.title.casefold(), "customer": lambda r: r.customer.casefold(),
                "stage": lambda r: self._stage_rank.get(r.stage, 99),
                "amount": lambda r: r.value if r.value is not None else -1,
                "owner": lambda r: r.owner, "close": lambda r: r.closed or r.expected_close or date.max,
                "days": lambda r: r.days_in_stage(self.today), "risk": lambda r: len(r.risks),
                **self.custom.sort_keys(),
            }, empty_text="No opportunities match. n adds one; esc clears the filter.", id="deal-table")
        self._stage_rank = {key: i for i, key in enumerate(store.config.stage_keys)}
        self.table.is_marked = lambda row: row.id in self.marks

    def compose(self) -> ComposeResult:
        yield Static("", id="board-filters")
        yield Input(placeholder="filter: title, customer, owner, next step", id="board-search")
        with ContentSwitcher(initial="board", id="board-views"):
            yield self.board
            with Vertical(id="board-list"):
                yield self.table.header
                yield self.table
        yield Static("", id="forecast-strip")

    def on_mount(self) -> None:
        self.table.sort_by("close", reverse=False)
        # The first screen is the lead tab: build the board (~0.2 s at 50k leads) once
        # that is painted, so start-up does not wait for a tab nobody is looking at yet.
        self.call_after_refresh(self.first_load)

    def first_load(self) -> None:
        """Build the rows once the tab's tables are read (``tui.loading``)."""
        if self.loaded_version < 0 and self.app.loaded(TAB_TABLES["board"]):  # type: ignore[attr-defined]
            self.reload()
            self.app.paint_header()  # type: ignore[attr-defined]  # now with the at-risk count

    # -- data ---------------------------------------------------------------------------------
    def stages_changed(self) -> None:
        """The team's settings changed: the currency and stage names the views were built with."""
        self.board.currency = self.store.config.currency
        base = columns_for([s.label for s in self.store.config.stages])
        self.filter = replace(self.filter, custom=self.custom.refit(self.table, base, self.filter.custom))

    def reload(self) -> None:
        """Rebuild every row from the store (start, sync, another process's changes)."""
        store = self.store
        self.today = today()
        self._stage_rank = {key: i for i, key in enumerate(store.config.stage_keys)}
        self.customers = {doc["id"]: doc["name"] for doc in store.rows(Customer)}
        self.last_activity = store.activity_digest().last_by_deal()
        self._docs.clear()  # in place: the custom columns read it
        self._docs.update((doc["id"], doc) for doc in store.rows(Opportunity))
        self.rows_by_id = {deal_id: self.row_of(doc) for deal_id, doc in self._docs.items()}
        self.loaded_version = store.version
        self.marks.keep(self.rows_by_id.__contains__)
        self.place_deals()

    def apply_changes(self, changes: Changes) -> None:
        """The change feed: the cards of the deals written, of deals whose customer was
        renamed or that got an activity (their risk flags), and of nothing else. A card
        already built from the stored document (the writer patched it) is left alone."""
        if self.loaded_version < 0:
            return  # not built yet: it is, once the lead tab is painted
        deal_ids = changes.ids(Opportunity.table)
        if changes.everything or len(deal_ids) > PATCH_LIMIT:
            self.reload()
            return
        table = self.store.storage.tables[Opportunity.table]
        stale = {deal_id for deal_id in deal_ids if table.get(deal_id) is not self._docs.get(deal_id)}
        renamed = changes.ids(Customer.table)
        if renamed:
            self.customers = {doc["id"]: doc["name"] for doc in self.store.rows(Customer)}
            stale |= {row.id for row in self.rows_by_id.values() if row.customer_id in renamed}
        logged = changes.ids(Activity.table)
        if logged:
            self.last_activity = self.store.activity_digest().last_by_deal()
            activities = self.store.storage.tables[Activity.table]
            stale |= {deal_id for activity_id in logged if (deal_id := (activities.get(activity_id) or {})
                                                             .get("opportunity_id")) in self.rows_by_id}
        if stale:
            for deal_id in stale:
                self._refresh_row(deal_id)
            self.place_deals()

    def row_of(self, doc: Any) -> DealRow:
        return deal_row(doc, self.store.config, customers=self.customers,
                        last_activity=self.last_activity, today=self.today)

    def deal_changed(self, deal_id: str, *, touched: bool = False) -> None:
        """Patch one deal after a write (a move, an edit, an activity), not all of them.

        Only the header's at-risk count follows: a deal's stage or fields never make
        anything due today, and recounting the agenda costs ~80 ms at 50k leads."""
        if touched:
            self.last_activity[deal_id] = today()
        self._refresh_row(deal_id)
        self.place_deals(keep_id=deal_id)
        self.app.paint_header()  # type: ignore[attr-defined]

    def _refresh_row(self, deal_id: str) -> None:
        doc = self.store.storage.tables[Opportunity.table].get(deal_id)
        if doc is None or not doc.keys() >= required_keys(Opportunity):  # damaged: listed by `check`
            self.rows_by_id.pop(deal_id, None)
            self._docs.pop(deal_id, None)
            return
        if doc["customer_id"] not in self.customers:
            self.customers = {d["id"]: d["name"] for d in self.store.rows(Customer)}
        self._docs[deal_id] = doc
        self.rows_by_id[deal_id] = self.row_of(doc)

    def owner_id(self) -> str | None:
        return owner_of(self.filter.owner, self.store)

    def predicate(self) -> Callable[[DealRow], bool]:
        f, owner = self.filter, self.owner_id()
        lost = self.store.config.lost_stage.key
        custom_text = self.custom.search_text()
        closed_since = self.today - timedelta(days=f.closed_days) if f.closed_days else date.min

        def passes(r: DealRow) -> bool:
            return ((owner is None or r.owner == owner)
                    and (f.show_lost or r.stage != lost)
                    and (r.closed is None or r.closed >= closed_since)
                    and (f.customer_id is None or r.customer_id == f.customer_id)
                    and (f.close_month is None or r.close_month() == f.close_month)
                    and (not f.at_risk or r.at_risk)
                    and (f.custom is None or self.custom.matches(r.id, f.custom))
                    and (not f.text or f.text in r.search or f.text in custom_text(self._docs.get(r.id) or {})))

        return passes

    def visible_rows(self) -> list[DealRow]:
        return self.table.sort_rows(list(filter(self.predicate(), self.rows_by_id.values())))

    def place_deals(self, keep_id: str | None = None) -> None:
        """Lay the filtered deals out on the board and in the list, then the strip."""
        config = self.store.config
        current = self.current()
        keep_id = keep_id or (current.id if current else None)
        rows = self.visible_rows()
        by_stage: dict[str, list[DealRow]] = {s.key: [] for s in config.stages}
        for row in rows:
            by_stage.setdefault(row.stage, []).append(row)
        totals = column_totals(rows, config)
        shown = [s for s in config.stages if s.kind != "lost" or self.filter.show_lost]
        columns = [BoardColumn(s.key, s.label, stage_style(config, s.key), totals[s.key], by_stage[s.key])
                   for s in shown]
        retired = [row for row in rows if row.stage not in totals]
        if retired:  # deals in a stage the team's settings dropped: they stay, after the open stages
            columns.insert(len(config.open_stages), retired_column(retired))
        self.board.set_columns(columns, keep_id=keep_id)
        self.table.set_rows(rows, keep=(lambda r: r.id == keep_id) if keep_id else None, presorted=True)
        others = len(retired)
        self._counts = (len(rows), sum(1 for r in rows if r.at_risk), others)
        self.show_summary()
        # The strip sums every deal: let the board repaint first, the strip a moment later.
        self.call_after_refresh(self.refresh_strip)

    def show_summary(self) -> None:
        """The filter line: counts, marks, the filter in words."""
        shown, at_risk, others = self._counts
        parts = [(0, counted(shown, "deal")), (1, f"{at_risk:,} at risk")]
        if self.marks:
            parts.append((0, self.marks.summary(len(self.marked_rows()))))
        parts.append((2, self.filter.describe()))
        if others:
            parts.append((3, f"{others} in a stage no longer used"))
        line = self.query_one("#board-filters", Static)
        width = line.size.width - 2 if line.size.width else 200  # less its padding
        line.update(plain(by_priority(parts, width)))

    def refresh_strip(self) -> None:
        owner, config = self.owner_id(), self.store.config
        strip = self.query_one("#forecast-strip", Static)
        width = max(strip.size.width - 2, 20) if strip.size.width else 78  # less its padding
        result = forecast(self.rows_by_id.values(), config, today=self.today, owner=owner)
        lines = list(strip_lines(result, self.today, width))
        warning = rate_warning(result.without_rate, width)
        if warning:  # once, where the totals are: such a deal is in none of them
            lines.append(warning)
        strip.update(plain_lines(lines))

    def on_resize(self) -> None:
        """The bars say more or less for the new width."""
        if self.loaded_version >= 0:
            self.call_after_refresh(self.show_summary)
            self.call_after_refresh(self.refresh_strip)

    def at_risk_count(self, owner: str) -> int:
        return sum(1 for r in self.rows_by_id.values() if r.risks and r.owner == owner)

    def cells(self, row: DealRow) -> list[Cell]:
        # a closed deal's close is when it closed (winning or losing sets it), else the expected one
        shown = row.closed or row.expected_close
        close = shown.isoformat() if shown else ""
        late = row.expected_close is not None and row.expected_close < self.today and not row.closed
        widths = {column.key: width for _, column, width in self.table.layout(self.table.content_width - 1)}
        stage = whole_words(self._stage_label(row.stage), widths.get("stage", 99))
        return [(row.title, None), (row.customer, None),
                (stage, stage_style(self.store.config, row.stage)),
                (self._amount(row), None), (row.owner, None), (close, "overdue" if late else None),
                (f"{row.days_in_stage(self.today)}d", None), (risk_text(row, widths.get("risk", 99)), "health-risk")]

    def _amount(self, row: DealRow) -> str:
        """In the team's currency as a bare amount; any other names its currency."""
        currency = "" if row.currency == self.store.config.currency else f" {row.currency}"
        return short_money(row.amount) + currency

    def _stage_label(self, key: str) -> str:
        return next((s.label for s in self.store.config.stages if s.key == key), key)

    # -- views and filters --------------------------------------------------------------------
    @property
    def in_list(self) -> bool:
        return self.query_one("#board-views", ContentSwitcher).current == "board-list"

    def show_view(self, view: str) -> None:
        switcher = self.query_one("#board-views", ContentSwitcher)
        if switcher.current == view:
            return
        current = self.current()
        had_focus = self.board.has_focus or self.table.has_focus
        switcher.current = view
        if current is not None:
            self.board.select(current.id)
            self.table.set_rows(self.table.rows, keep=lambda r: r.id == current.id, presorted=True)
        if had_focus:
            self.focus_view()

    def focus_view(self) -> None:
        (self.table if self.in_list else self.board).focus()

    def current(self) -> DealRow | None:
        if not self.is_mounted:
            return None
        return self.table.current if self.in_list else self.board.current

    def action_toggle_view(self) -> None:
        self.show_view("board" if self.in_list else "board-list")
        self.focus_view()

    def action_cycle_sort(self) -> None:
        self.table.action_cycle_sort()  # the board follows the list's sort

    @on(VirtualTable.SortChanged)
    def _resorted(self) -> None:
        self.place_deals()

    def set_filter(self, **changes: Any) -> None:
        self.filter = replace(self.filter, **{"view": "", **changes})  # no longer the saved view
        self.place_deals()

    def action_search(self) -> None:
        search = self.query_one("#board-search", Input)
        search.add_class("shown")
        search.focus()

    @on(Input.Changed, "#board-search")
    def _typed(self, event: Input.Changed) -> None:
        self.set_filter(text=event.value.strip().casefold())

    @on(Input.Submitted, "#board-search")
    def _search_done(self) -> None:
        self.focus_view()

    def action_clear_search(self) -> None:
        """esc: the marks first, then the typed filter."""
        if self.marks.clear():
            self._marks_changed()
            return
        search = self.query_one("#board-search", Input)
        search.value = ""
        search.remove_class("shown")
        self.set_filter(text="")
        self.focus_view()

    def action_cycle_owner(self) -> None:
        self.set_filter(owner=next_owner(self.filter.owner, self.store))

    def action_toggle_risk(self) -> None:
        self.set_filter(at_risk=not self.filter.at_risk)

    def action_toggle_lost(self) -> None:
        self.set_filter(show_lost=not self.filter.show_lost)

    def action_custom_filter(self) -> None:
        self.custom.pick_filter(self.app, lambda chosen: self.set_filter(custom=chosen))

    def action_pick_customer(self) -> None:
        with_deals = {r.customer_id for r in self.rows_by_id.values()}
        # PickScreen answers None for escape, so "any customer" is False
        choices: list[tuple[str, str | bool]] = [("any customer", False), *sorted(
            ((name, cid) for cid, name in self.customers.items() if cid in with_deals), key=lambda c: c[0].casefold())]

        def chosen(customer_id: str | bool | None) -> None:
            if customer_id is not None:
                self.set_filter(customer_id=customer_id or None, customer=self.customers.get(str(customer_id), ""))

        self.app.push_screen(PickScreen("Deals of which customer?", choices), chosen)

    def action_pick_month(self) -> None:
        months = sorted({r.close_month() for r in self.rows_by_id.values() if r.expected_close})
        choices: list[tuple[str, Any]] = [("any month", False), *[(m, m) for m in months]]

        def chosen(month: str | bool | None) -> None:
            if month is not None:
                self.set_filter(close_month=month or None)

        self.app.push_screen(PickScreen("Expected to close in", choices), chosen)

    # -- the selected deal ---------------------------------------------------------------------
    def selected(self) -> DealRow | None:
        row = self.current()
        if row is None:
            self.app.notify("No opportunity selected.", severity="warning")
        return row

    def run(self, write: Any, *args: Any, **kwargs: Any) -> Any:
        """Do a store write; a refusal is one line, never a traceback."""
        try:
            return write(*args, **kwargs)
        except StoreError as exc:
            self.app.notify(str(exc), severity="error", markup=False)
            return None

    def action_move(self, step: int) -> None:
        row = self.selected()
        if row is None:
            return
        moved = self.run(self.store.advance, row.id, step)
        if moved is not None:
            self.deal_changed(row.id)
            self.app.notify(labelled("$title → $stage", title=row.title, stage=self._stage_label(moved.stage)))

    def action_move_to(self) -> None:
        """Any stage at once (skipping is allowed, and the history shows it); with deals
        marked, all of them."""
        if self.marked_rows():
            self.bulk_move(self.marked_rows())
            return
        row = self.selected()
        if row is None:
            return
        config = self.store.config
        choices = [(s.label, s.key) for s in config.stages if s.key != row.stage and s.kind != "lost"]

        def chosen(stage: str | None) -> None:
            if stage == config.won_stage.key:
                self.action_win()
            elif stage and self.run(self.store.move_stage, row.id, stage) is not None:
                self.deal_changed(row.id)
                self.app.notify(labelled("$title → $stage", title=row.title, stage=self._stage_label(stage)))

        self.app.push_screen(PickScreen(f"Move {row.title} to (x loses it)", choices), chosen)

    def open_deal(self, deal_id: str) -> None:
        self.app.push_screen(OpportunityScreen(self.store, deal_id, self))

    def shows(self, deal_id: str) -> bool:
        """Whether the deal is on the board under the filter as it is."""
        if self.loaded_version < 0:
            self.reload()
        row = self.rows_by_id.get(deal_id)
        return row is not None and self.predicate()(row)

    def show_deal(self, deal_id: str) -> bool:
        """Put the cursor on a deal (from the palette or the review) when the filter shows
        it; the filter is the user's and is never widened behind their back. False: not shown."""
        if not self.shows(deal_id):
            return False
        self.place_deals(keep_id=deal_id)
        self.focus_view()
        return True

    @on(KanbanBoard.Selected)
    def _open_card(self, event: KanbanBoard.Selected) -> None:
        if event.row is not None:
            self.open_deal(event.row.id)

    @on(VirtualTable.Selected, "#deal-table")
    def _open_row(self) -> None:
        row = self.table.current
        if row is not None:
            self.open_deal(row.id)

