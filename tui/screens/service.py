"""The service queue: every open ticket across customers, oldest first, so whoever
answers sees the customer's history (enter) before replying."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from store.changes import Changes
from store.database import Store
from store.models import Customer, Ticket
from tui.clock import today
from tui.header import PartsLine
from tui.screens.detail import HELP_KEY, UNDO_KEYS, keys_footer
from tui.text import counted, labelled
from tui.widgets.table import Cell, Column, VirtualTable

if TYPE_CHECKING:
    from tui.tabs.customers import CustomersTab

COLUMNS = [
    Column("opened", "Opened", 10),
    Column("age", "Age", 4, align="right"),
    Column("customer", "Customer", 16, flex=True),
    Column("title", "Ticket", 18, flex=True),
    Column("severity", "Severity", 8, priority=2),
    Column("status", "Status", 11),
    Column("assignee", "Assignee", 8, priority=1),
]
SEVERITY_STYLE = {"urgent": "health-risk", "high": "health-watch"}


class ServiceScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,K", "close", "Close", id="service.close"),
        Binding("i", "status('in_progress')", "In progress", id="service.in_progress"),
        Binding("r", "status('resolved')", "Resolved", id="service.resolved"),
        Binding("c", "status('closed')", "Closed", id="service.closed"),
        Binding("A", "toggle_all", "Mine / all", id="service.all"),
        *UNDO_KEYS,
        HELP_KEY,
    ]
    DEFAULT_CSS = """
    ServiceScreen { align: center middle; }
    ServiceScreen > Vertical {
        width: 120; max-width: 100%; height: 90%; border: thick $primary; background: $surface;
    }
    ServiceScreen #service-title { text-style: bold; padding: 0 1; }
    ServiceScreen #service-keys { padding: 0 1; background: $panel; }
    """

    def __init__(self, store: Store, tab: CustomersTab) -> None:
        super().__init__()
        self.store, self.tab = store, tab
        self.mine_only = False
        self.today = today()
        self.names: dict[str, str] = {}
        self.table: VirtualTable[Ticket] = VirtualTable(COLUMNS, self.cells, id="service-table",
                                                        empty_text="No open tickets. Well done.")

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("", id="service-title")
            yield self.table.header
            yield self.table
            yield PartsLine(["enter customer history", "i in progress", "r resolved", "c closed", "A mine/all",
                             "esc close"], id="service-keys")
        yield keys_footer()

    def on_mount(self) -> None:
        self.reload()
        self.table.focus()

    def apply_changes(self, changes: Changes) -> None:
        if changes.touches("tickets", "customers"):
            self.reload()

    def reload(self) -> None:
        current = self.table.current
        self.names = {doc["id"]: str(doc["name"]) for doc in self.store.rows(Customer)}
        tickets = [self.store.model_of(Ticket, doc) for doc in self.store.rows(Ticket)
                   if doc.get("status", "open") in ("open", "in_progress")]
        if self.mine_only:
            tickets = [t for t in tickets if (t.assignee or t.owner) == self.store.me]
        tickets.sort(key=lambda t: t.created_at)
        self.table.set_rows(tickets, keep=(lambda t: t.id == current.id) if current else None, presorted=True)
        self.query_one("#service-title", Static).update(labelled(
            "Service queue · $n, oldest first · $who", n=counted(len(tickets), "open ticket"),
            who=f"assigned to me ({self.store.me})" if self.mine_only else "everyone's"))

    def cells(self, ticket: Ticket) -> list[Cell]:
        opened: date = ticket.created_at.date()
        return [(opened.isoformat(), None), (f"{(self.today - opened).days}d", None),
                (self.names.get(ticket.customer_id, "?"), None), (ticket.title, None),
                (ticket.severity, SEVERITY_STYLE.get(ticket.severity)), (ticket.status.replace("_", " "), None),
                (ticket.assignee or "", None)]

    def action_close(self) -> None:
        self.dismiss(None)

    def action_toggle_all(self) -> None:
        self.mine_only = not self.mine_only
        self.reload()

    def action_status(self, status: str) -> None:
        ticket = self.table.current
        if ticket is not None and self.tab.set_ticket_status(ticket.id, status):
            self.reload()

    @on(VirtualTable.Selected, "#service-table")
    def _open(self, event: Any) -> None:
        ticket = self.table.current
        if ticket is not None:
            self.tab.open_customer(ticket.customer_id)
