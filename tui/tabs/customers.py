"""Tab 3, customer cards: a grid of cards (a list on narrow screens), filters, reorder
prompts, the service queue, and every action on a customer; marks, bulk actions, saved
segments and the export in ``tui.customer_actions``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import ContentSwitcher, Input, Static

from store.changes import Changes
from store.config import SavedSegment
from store.customers import (
    HEALTH_ORDER,
    CustomerRow,
    customer_rows,
    in_segment,
    reorder_prompts,
    typical_order,
)
from store.database import ACTIVITY_LINKS, Store
from store.errors import StoreError
from store.models import Activity, Contact, Customer, Opportunity, Survey, Task, Ticket
from store.pipeline import short_money
from tui.bulk import Marks, mark_bindings
from tui.clock import today
from tui.custom import CustomList, custom_pairs
from tui.customer_actions import CustomerListActions
from tui.forms import FORMS, new_values, with_flag, without_blanks
from tui.loading import TAB_TABLES
from tui.owners import next_owner, owner_of
from tui.screens.dialogs import PickScreen
from tui.screens.form import FormScreen
from tui.text import counted, labelled, plain
from tui.widgets.cards import CardGrid, CardLines
from tui.widgets.table import Cell, Column, VirtualTable

HEALTH_STYLE = {"good": "health-good", "watch": "health-watch", "risk": "health-risk", "churned": "quiet"}
HEALTHS: tuple[str | None, ...] = (None, "risk", "watch", "good", "churned")
TREND = {"up": "↑", "down": "↓", "flat": "→", "": ""}
COLUMNS = [
    Column("name", "Customer", 18, flex=True, noun="name"),
    Column("industry", "Industry", 12, priority=4),
    Column("health", "Health", 8, order=("at risk first", "churned first")),
    Column("value", "Value", 7, align="right", order=("largest first", "smallest first"), falling=True),
    Column("open", "Open", 4, align="right", priority=3, order=("most first", "fewest first"), falling=True,
           noun="open deals"),
    Column("contact", "Contact", 7, align="right", order=("longest ago first", "most recent first"),
           falling=True, noun="last contact"),
    Column("revisit", "Revisit", 10, priority=2, order=("soonest first", "latest first")),
    Column("csat", "Satisf.", 9, priority=1, order=("least satisfied first", "most satisfied first"),
           noun="satisfaction"),
    Column("rfm", "RFM", 5, priority=5, order=("highest first", "lowest first"), falling=True, noun="RFM"),
]
#: below this width the list shows instead of the grid (unless `v` picked a view)
NARROW = 100


#: tables whose records a customer's card and page show
CUSTOMER_TABLES = ("customers", "contacts", "opportunities", "activities", "tickets", "surveys", "tasks")


@dataclass
class Related:
    """A customer's documents from every table, for its detail screen."""

    activities: list[Any] = field(default_factory=list)
    deals: list[Any] = field(default_factory=list)
    tickets: list[Any] = field(default_factory=list)
    surveys: list[Any] = field(default_factory=list)
    contacts: list[Any] = field(default_factory=list)
    tasks: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class CustomerFilter:
    text: str = ""
    owner: str = "me"
    health: str | None = None
    tag: str | None = None
    segment: SavedSegment | None = None
    #: only customers whose reorder is due (repeat business to open)
    reorders: bool = False
    #: a custom field's quick filter: (field, value, in words)
    custom: tuple[str, str, str] | None = None

    def describe(self) -> str:
        parts = [f"owner {self.owner}"]
        if self.segment:
            parts.append(f"segment “{self.segment.name}”")
        if self.health:
            parts.append(f"health {self.health}")
        if self.tag:
            parts.append(f"tag {self.tag}")
        if self.reorders:
            parts.append("reorder due")
        if self.custom:
            parts.append(self.custom[2])
        if self.text:
            parts.append(f"“{self.text}”")
        return " · ".join(parts)


def last_contact_text(row: CustomerRow, today_: date) -> str:
    days = row.days_since_contact(today_)
    return "never" if days is None else f"{days}d"


def satisfaction_text(row: CustomerRow) -> str:
    answer = row.latest_answer
    return "" if answer is None else f"{answer.shown()} {TREND[row.trend()]}".strip()


def customer_card(row: CustomerRow, width: int, today_: date, marked: bool = False,
                  custom: Sequence[tuple[str, str]] = ()) -> CardLines:
    """Six lines: name, what it is (and the custom fields shown on cards), standing, money,
    contact rhythm, satisfaction and service. A card marked for a bulk action has a ✓
    before its name."""
    tags = " ".join(f"#{t}" for t in row.tags)
    facts = (row.industry, row.segment, tags, *(f"{label}: {value}" for label, value in custom))
    kind = " · ".join(x for x in facts if x) or "no industry"
    revisit = row.next_revisit.isoformat()[5:] if row.next_revisit else "none"
    late = row.next_revisit is not None and row.next_revisit < today_
    service = counted(len(row.open_tickets), "open ticket") if row.open_tickets else ""
    last = " · ".join(x for x in (satisfaction_text(row), service) if x) or "no survey yet"
    reorder = row.reorder_due is not None and row.reorder_due <= today_ and row.open_deals == 0 \
        and row.lifecycle != "churned"
    return [
        [("✓ " if marked else "● ", HEALTH_STYLE[row.health], True), (row.name, None, True)],
        [(kind, "quiet", False)],
        [(f"{row.lifecycle.replace('_', ' ')} · {row.health}", HEALTH_STYLE[row.health], False),
         (f" · RFM {row.rfm[0]}{row.rfm[1]}{row.rfm[2]}", "quiet", False)],
        [(f"value {short_money(row.value)}", None, True),
         (f" · {row.open_deals} open ({short_money(row.open_value)})", None, False),
         (" · reorder due" if reorder else "", "stage-late", True)],
        [(f"contact {last_contact_text(row, today_)} ago" if row.last_contact else "no contact yet", None, False),
         (" · revisit ", None, False), (revisit, "overdue" if late else None, False),
         (f" · {row.reminders} due" if row.reminders else "", "stage-late", True)],
        [(row.reasons[0].text if row.reasons else last, "health-risk" if row.reasons else "quiet", False)],
    ]


class CustomersTab(CustomerListActions, Vertical):
    BINDINGS = [
        Binding("n", "new", "New", id="customers.new"),
        Binding("e", "edit", "Edit", id="customers.edit"),
        Binding("a", "activity", "Activity", id="customers.activity"),
        Binding("r", "repeat_deal", "Repeat deal", id="customers.repeat"),
        Binding("K", "service", "Service queue", id="customers.service"),
        Binding("slash", "search", "Filter", id="customers.search"),
        Binding("escape", "clear_search", "Clear", show=False, id="customers.clear"),
        Binding("O", "cycle_owner", "Owner", show=False, id="customers.filter_owner"),
        Binding("H", "cycle_health", "Health", show=False, id="customers.filter_health"),
        Binding("T", "pick_tag", "Tag", show=False, id="customers.filter_tag"),
        Binding("S,V", "pick_segment", "Segment", show=False, id="customers.segment"),
        Binding("W", "save_segment", "Save segment", show=False, id="customers.save_segment"),
        Binding("X", "export_segment", "Export CSV", show=False, id="customers.export"),
        Binding("R", "toggle_reorders", "Reorders due", show=False, id="customers.reorders"),
        Binding("F", "custom_filter", "Custom field filter", show=False, id="customers.filter_custom"),
        Binding("v", "toggle_view", "Cards/list", show=False, id="customers.toggle_view"),
        Binding("o", "cycle_sort", "Sort", show=False, id="customers.sort"),
        *mark_bindings("customers"),
        Binding("A", "assign", "Assign owner", show=False, id="customers.assign"),
        Binding("number_sign", "tag", "Tag", show=False, id="customers.tag"),
    ]
    DEFAULT_CSS = """
    CustomersTab { height: 1fr; }
    CustomersTab #customer-filters { height: auto; max-height: 2; padding: 0 1; background: $panel; }
    CustomersTab #customer-search { display: none; height: 1; border: none; padding: 0 1; }
    CustomersTab #customer-search.shown { display: block; }
    CustomersTab #customer-views { height: 1fr; }
    CustomersTab #customer-list { height: 1fr; }
    """

    def __init__(self, store: Store, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.store = store
        self.filter = CustomerFilter()
        self.marks = Marks()
        self._summary: list[str] = []
        self.today = today()
        self.rows_by_id: dict[str, CustomerRow] = {}
        self.loaded_version = -1
        #: the table versions the cards were built from (``apply_changes``)
        self._built_from: dict[str, int] = {}
        self.view_chosen = False
        #: documents grouped by customer (and activities by lead and deal), built when
        #: first needed and again after any change: a detail then reads only its own
        self._docs: dict[str, Any] = {}
        self.custom = CustomList(store, Customer.table, self._docs.get)
        self.grid: CardGrid[CustomerRow] = CardGrid(lambda row, width: customer_card(
            row, width, self.today, row.id in self.marks,
            custom_pairs(store.config, Customer.table, self._docs.get(row.id) or {}, card_only=True)),
                                                    empty_text="No customers match. esc clears the filter.",
                                                    id="customer-grid")
        self.table: VirtualTable[CustomerRow] = VirtualTable(
            [*COLUMNS, *self.custom.columns()], lambda row: [*self.cells(row), *self.custom.cells(row.id)],
            sort_keys={
                "name": lambda r: r.name.casefold(), "industry": lambda r: r.industry.casefold(),
                "health": lambda r: HEALTH_ORDER[r.health], "value": lambda r: -r.value,
                "open": lambda r: -r.open_deals,
                "contact": lambda r: -(r.days_since_contact(self.today) or 10**6),
                "revisit": lambda r: r.next_revisit or date.max, "csat": lambda r: r.latest_answer.level
                if r.latest_answer else 2.0, "rfm": lambda r: -r.rfm_total,
                **self.custom.sort_keys(),
            }, empty_text="No customers match. esc clears the filter.", id="customer-table")
        self.table.is_marked = lambda row: row.id in self.marks

    def compose(self) -> ComposeResult:
        yield Static("", id="customer-filters")
        yield Input(placeholder="filter: name, industry, segment, email, phone, tag", id="customer-search")
        with ContentSwitcher(initial="customer-grid", id="customer-views"):
            yield self.grid
            with Vertical(id="customer-list"):
                yield self.table.header
                yield self.table

    def on_mount(self) -> None:
        self.table.sort_by("health", reverse=False)
        self.call_after_refresh(self.first_load)

    def first_load(self) -> None:
        """Build the rows once the tab's tables are read (``tui.loading``)."""
        if self.loaded_version < 0 and self.app.loaded(TAB_TABLES["customers"]):  # type: ignore[attr-defined]
            self.reload()

    def on_resize(self) -> None:
        if not self.view_chosen:
            self.show_view("customer-list" if self.size.width < NARROW else "customer-grid")
        self.call_after_refresh(self.show_summary)  # the sort column may have come or gone

    # -- data -------------------------------------------------------------------------------------
    def reload(self, keep_id: str | None = None) -> None:
        store = self.store
        self.today = today()
        rows = customer_rows(store.config, customers=store.rows(Customer), opportunities=store.rows(Opportunity),
                             last_activity=store.activity_digest().last_by_customer(), tickets=store.rows(Ticket),
                             surveys=store.rows(Survey), today=self.today, tasks=store.rows(Task),
                             contacts=store.rows(Contact))
        self.rows_by_id = {row.id: row for row in rows}
        self._docs.clear()  # in place: the custom columns and cards read it
        self._docs.update((doc["id"], doc) for doc in store.rows(Customer))
        self.marks.keep(self.rows_by_id.__contains__)
        self.loaded_version = store.version
        self._built_from = {t: store.storage.changes.versions[t] for t in CUSTOMER_TABLES}
        self.show_rows(keep_id)

    def related(self, customer: Customer) -> Related:
        """Everything linked to one customer: activities with it, its lead or its deals."""
        store = self.store
        links = store.links(Activity, *ACTIVITY_LINKS)
        by_customer, by_lead, by_deal = links["customer_id"], links["lead_id"], links["opportunity_id"]
        own = {name: store.links(cls, "customer_id")["customer_id"].get(customer.id, [])
               for name, cls in (("deals", Opportunity), ("tickets", Ticket), ("surveys", Survey),
                                 ("contacts", Contact), ("tasks", Task))}
        activities: dict[str, Any] = {a["id"]: a for a in by_customer.get(customer.id, [])}
        for activity in [*(by_lead.get(customer.lead_id, []) if customer.lead_id else []),
                         *(a for deal in own["deals"] for a in by_deal.get(deal["id"], []))]:
            activities.setdefault(activity["id"], activity)
        return Related(activities=list(activities.values()), **own)

    def changed(self, customer_id: str | None = None) -> None:
        """After a write: rebuild (RFM is relative to every customer) and keep the selection."""
        self.reload(keep_id=customer_id or (self.current().id if self.current() else None))

    def apply_changes(self, changes: Changes) -> None:
        """The change feed: a customer's card reads its deals, contacts, the log, tickets,
        surveys and tasks, and RFM compares every customer, so a write to any of them
        rebuilds the cards, unless the writer rebuilt them already."""
        if self.loaded_version < 0 or not changes.touches(*CUSTOMER_TABLES):
            return
        versions = self.store.storage.changes.versions
        if changes.everything or any(versions[t] != self._built_from.get(t) for t in CUSTOMER_TABLES):
            self.changed()

    def owner_id(self) -> str | None:
        return owner_of(self.filter.owner, self.store)

    def predicate(self) -> Callable[[CustomerRow], bool]:
        f, owner, day = self.filter, self.owner_id(), self.today
        prompts = {r.id for r in reorder_prompts(self.rows_by_id.values(), day)} if f.reorders else set()
        custom_text = self.custom.search_text()

        def passes(r: CustomerRow) -> bool:
            return ((owner is None or r.owner == owner)
                    and (f.health is None or r.health == f.health)
                    and (f.tag is None or f.tag in r.tags)
                    and (f.segment is None or in_segment(r, f.segment, day))
                    and (not f.reorders or r.id in prompts)
                    and (f.custom is None or self.custom.matches(r.id, f.custom))
                    and (not f.text or f.text in r.search or f.text in custom_text(self._docs.get(r.id) or {})))

        return passes

    def show_rows(self, keep_id: str | None = None) -> None:
        current = self.current()
        keep_id = keep_id or (current.id if current else None)
        rows = self.table.sort_rows(list(filter(self.predicate(), self.rows_by_id.values())))
        keep = (lambda r: r.id == keep_id) if keep_id else None
        self.table.empty_text = self.grid.empty_text = ("No customers match. esc clears the filter." if self.rows_by_id
                                                        else "No customers yet: n adds one.")
        self.table.set_rows(rows, keep=keep, presorted=True)
        self.grid.set_items(rows, keep=keep)
        at_risk = sum(1 for r in rows if r.health == "risk")
        due = sum(1 for _ in reorder_prompts(rows, self.today))
        self._summary = [f"{len(rows):,} of {counted(len(self.rows_by_id), 'customer')}",
                         self.marks.summary(len(self.marks.shown(rows))), f"{at_risk:,} at risk",
                         f"reorder due: {due:,}", self.filter.describe()]
        self.show_summary()

    def show_summary(self) -> None:
        """The filter line; the sort is said last (whether its column shows depends on the width)."""
        parts = [*self._summary, self.table.sort_text()]
        self.query_one("#customer-filters", Static).update(plain(" · ".join(p for p in parts if p)))

    def cells(self, row: CustomerRow) -> list[Cell]:
        late = row.next_revisit is not None and row.next_revisit < self.today
        return [(row.name, None), (row.industry, None), (row.health, HEALTH_STYLE[row.health]),
                (short_money(row.value), None), (str(row.open_deals), None),
                (last_contact_text(row, self.today), None),
                (row.next_revisit.isoformat() if row.next_revisit else "", "overdue" if late else None),
                (satisfaction_text(row), None), (f"{row.rfm[0]}{row.rfm[1]}{row.rfm[2]}", None)]

    # -- views, sorting, filters --------------------------------------------------------------------
    @property
    def in_list(self) -> bool:
        return self.query_one("#customer-views", ContentSwitcher).current == "customer-list"

    def show_view(self, view: str) -> None:
        switcher = self.query_one("#customer-views", ContentSwitcher)
        if switcher.current == view:
            return
        current = self.current()
        had_focus = self.grid.has_focus or self.table.has_focus
        switcher.current = view
        if current is not None:
            self.show_rows(current.id)
        if had_focus:
            self.focus_view()

    def focus_view(self) -> None:
        (self.table if self.in_list else self.grid).focus()

    def current(self) -> CustomerRow | None:
        if not self.is_mounted:
            return None
        return self.table.current if self.in_list else self.grid.current

    def action_toggle_view(self) -> None:
        self.view_chosen = True
        self.show_view("customer-grid" if self.in_list else "customer-list")
        self.focus_view()

    def action_cycle_sort(self) -> None:
        self.table.action_cycle_sort()

    @on(VirtualTable.SortChanged)
    def _resorted(self) -> None:
        self.show_rows()

    def set_filter(self, **changes: Any) -> None:
        self.filter = replace(self.filter, **changes)
        self.show_rows()

    def action_search(self) -> None:
        search = self.query_one("#customer-search", Input)
        search.add_class("shown")
        search.focus()

    @on(Input.Changed, "#customer-search")
    def _typed(self, event: Input.Changed) -> None:
        self.set_filter(text=event.value.strip().casefold())

    @on(Input.Submitted, "#customer-search")
    def _search_done(self) -> None:
        self.focus_view()

    def action_clear_search(self) -> None:
        """esc: the marks first, then the filter."""
        if self.marks.clear():
            self.show_rows()
            return
        search = self.query_one("#customer-search", Input)
        search.value = ""
        search.remove_class("shown")
        self.filter = CustomerFilter(owner=self.filter.owner)
        self.show_rows()
        self.focus_view()

    def action_cycle_owner(self) -> None:
        self.set_filter(owner=next_owner(self.filter.owner, self.store))

    def action_cycle_health(self) -> None:
        self.set_filter(health=HEALTHS[(HEALTHS.index(self.filter.health) + 1) % len(HEALTHS)])

    def action_toggle_reorders(self) -> None:
        self.set_filter(reorders=not self.filter.reorders)

    def action_custom_filter(self) -> None:
        self.custom.pick_filter(self.app, lambda chosen: self.set_filter(custom=chosen))

    def custom_changed(self) -> None:
        """The team's custom fields changed: the list's columns, sort keys and quick filter."""
        self.filter = replace(self.filter, custom=self.custom.refit(self.table, COLUMNS, self.filter.custom))

    def action_pick_tag(self) -> None:
        tags = sorted({t for r in self.rows_by_id.values() for t in r.tags}, key=str.casefold)
        choices: list[tuple[str, Any]] = [("any tag", False), *[(f"#{t}", t) for t in tags]]

        def chosen(tag: str | bool | None) -> None:
            if tag is not None:
                self.set_filter(tag=tag or None)

        self.app.push_screen(PickScreen("Customers tagged", choices), chosen)

    # -- the selected customer ------------------------------------------------------------------------
    def selected(self) -> CustomerRow | None:
        row = self.current()
        if row is None:
            self.app.notify("No customer selected.", severity="warning")
        return row

    def open_customer(self, customer_id: str) -> None:
        from tui.screens.customer import CustomerScreen

        self.app.push_screen(CustomerScreen(self.store, customer_id, self))

    def show_customer(self, customer_id: str) -> None:
        row = self.rows_by_id.get(customer_id)
        if row is not None and not self.predicate()(row):
            self.filter = CustomerFilter(owner="team")
            self.query_one("#customer-search", Input).value = ""
        self.show_rows(customer_id)
        self.focus_view()

    def action_new(self) -> None:
        def save(values: dict[str, Any]) -> Customer:
            return self.store.new(Customer, **without_blanks(values))

        self.app.push_screen(FormScreen("New customer", FORMS[Customer](self.store), new_values(Customer, self.store),
                                        save), lambda c: c and self.changed(c.id))

    def action_edit(self) -> None:
        row = self.selected()
        if row is not None:
            self.edit(row.id)

    def edit(self, customer_id: str, after: Callable[[], None] | None = None) -> None:
        customer = self.store.require(Customer, customer_id)

        def save(values: dict[str, Any]) -> Customer:
            return self.store.update(Customer, customer_id, **values)

        def saved(result: Customer | None) -> None:
            if result is not None:
                self.changed(result.id)
                if after:
                    after()

        values = customer.model_dump()
        self.app.push_screen(FormScreen(f"Edit customer: {customer.name}",
                                        with_flag(FORMS[Customer](self.store), values), values, save), saved)

    def action_activity(self) -> None:
        row = self.selected()
        if row is not None:
            self.app.log_activity_form(customer_id=row.id, title=f"Log activity: {row.name}",  # type: ignore[attr-defined]
                                       after=lambda: self.changed(row.id))

    def action_repeat_deal(self) -> None:
        row = self.selected()
        if row is not None:
            self.repeat_deal(row.id)

    def repeat_deal(self, customer_id: str, after: Callable[[], None] | None = None) -> None:
        """Open the repeat order a reorder prompt suggests, sized like the usual order."""
        row = self.rows_by_id.get(customer_id)
        if row is None:
            return
        try:
            deal = self.store.open_repeat_deal(customer_id, typical_order(row), today=self.today)
        except StoreError as exc:
            self.app.notify(str(exc), severity="error", markup=False)
            return
        self.changed(customer_id)
        self.app.deal_changed(deal.id)  # type: ignore[attr-defined]
        self.app.notify(labelled("Opened $title ($amount) on the board", title=deal.title,
                                 amount=short_money(deal.amount)))
        if after:
            after()

    def set_ticket_status(self, ticket_id: str, status: str) -> bool:
        """Move a ticket on; resolving it schedules the after-sales call and a survey."""
        try:
            ticket = self.store.set_ticket_status(ticket_id, status, today=self.today)
        except StoreError as exc:
            self.app.notify(str(exc), severity="error", markup=False)
            return False
        self.changed(ticket.customer_id)
        self.app.update_header()  # type: ignore[attr-defined]  # new after-sales tasks may be due
        from store.agenda import after_sales_note  # what resolving scheduled, and whether Today shows it

        extra = after_sales_note(self.store.ticket_tasks(ticket.id), self.today) if status == "resolved" else ""
        self.app.notify(labelled("Ticket $title: $status." + (" $extra" if extra else ""), title=ticket.title,
                                 status=status.replace("_", " "), extra=extra))
        return True

    def action_service(self) -> None:
        from tui.screens.service import ServiceScreen

        self.app.push_screen(ServiceScreen(self.store, self))

    @on(CardGrid.Selected, "#customer-grid")
    def _open_card(self, event: CardGrid.Selected) -> None:
        if isinstance(event.item, CustomerRow):
            self.open_customer(event.item.id)

    @on(VirtualTable.Selected, "#customer-table")
    def _open_row(self) -> None:
        row = self.table.current
        if row is not None:
            self.open_customer(row.id)

