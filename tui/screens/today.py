"""Today (``t``): follow-ups, revisits, birthdays and tasks that are due, for me or the team."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from store.agenda import AgendaItem, agenda
from store.changes import Changes
from store.database import Store
from store.dates import parse_when
from store.errors import StoreError
from store.models import Contact, Customer, Lead, Opportunity, Task
from tui.clock import today
from tui.header import PartsLine
from tui.screens.detail import HELP_KEY, UNDO_KEYS, keys_footer
from tui.screens.dialogs import AskScreen
from tui.text import labelled
from tui.widgets.table import Cell, Column, VirtualTable

KIND_LABEL = {"follow_up": "follow-up", "revisit": "revisit", "birthday": "birthday", "task": "task"}
COLUMNS = [
    Column("due", "Due", 10),
    Column("kind", "Kind", 9),
    Column("title", "What", 20, flex=True),
    Column("detail", "Detail", 16, flex=True, priority=2),
    Column("owner", "Owner", 8, priority=1),
]


#: the record type a task's link field points to
LINKED = {"opportunity_id": Opportunity, "customer_id": Customer, "lead_id": Lead, "contact_id": Contact}


def load_agenda(store: Store, today_: date, team: bool) -> list[AgendaItem]:
    def name_of(link: str, record_id: str) -> str:
        return store.label_of(LINKED[link], record_id)

    return agenda(leads=store.rows(Lead), customers=store.rows(Customer), contacts=store.rows(Contact),
                  tasks=store.rows(Task), today=today_, owner=None if team else store.me, name_of=name_of)


def item_cells(item: AgendaItem, today_: date) -> list[Cell]:
    return [(item.due.isoformat(), "overdue" if item.overdue(today_) else None),
            (KIND_LABEL[item.kind], None), (item.title, None), (item.detail, None), (item.owner, None)]


class TodayScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,t", "close", "Close", id="today.close"),
        Binding("d", "done", "Done", id="today.done"),
        Binding("r", "reschedule", "Reschedule", id="today.reschedule"),
        Binding("T", "toggle_team", "Me / team", id="today.team"),
        *UNDO_KEYS,
        HELP_KEY,
    ]
    DEFAULT_CSS = """
    TodayScreen { align: center middle; }
    TodayScreen > Vertical {
        width: 110; max-width: 100%; height: 90%; border: thick $primary; background: $surface;
    }
    TodayScreen #today-title { text-style: bold; padding: 0 1; }
    TodayScreen #today-keys { padding: 0 1; background: $panel; }
    """

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.team = False
        self.today = today()
        self.table: VirtualTable[AgendaItem] = VirtualTable(
            COLUMNS, lambda item: item_cells(item, self.today), empty_text="Nothing due. Enjoy the quiet.",
            id="today-table")

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("", id="today-title")
            yield self.table.header
            yield self.table
            yield PartsLine(["d done", "r reschedule", "T me/team", "enter open", "esc close", "? keys"],
                            id="today-keys")
        yield keys_footer()  # its own: the tab's keys beneath do nothing here

    def on_mount(self) -> None:
        self.reload()
        self.table.focus()

    def reload(self) -> None:
        current = self.table.current
        items = load_agenda(self.store, self.today, self.team)
        self.table.set_rows(items, keep=(lambda i: (i.table, i.record_id) == (current.table, current.record_id))
                            if current else None, presorted=True)
        overdue = sum(1 for i in items if i.overdue(self.today))
        self.query_one("#today-title", Static).update(labelled(
            "Today, $day · $who · $n due today, $o overdue, $b coming up", day=self.today.isoformat(),
            who="whole team" if self.team else f"me ({self.store.me})",
            n=sum(1 for i in items if i.due == self.today), o=overdue,
            b=sum(1 for i in items if i.due > self.today)))

    def apply_changes(self, changes: Changes) -> None:
        """The change feed: what is due comes from leads, tasks, customers and contacts."""
        if changes.touches("leads", "tasks", "customers", "contacts", "opportunities"):
            self.reload()

    def action_toggle_team(self) -> None:
        self.team = not self.team
        self.reload()

    def action_close(self) -> None:
        self.dismiss(None)

    def _write(self, write: Any, *args: Any, **kwargs: Any) -> None:
        try:
            write(*args, **kwargs)
        except StoreError as exc:
            self.app.notify(str(exc), severity="error", markup=False)
            return
        self.reload()  # the change feed brings it to the tabs and the header

    def action_done(self) -> None:
        item = self.table.current
        if item is None:
            return
        store = self.store
        if item.kind == "follow_up":
            self._write(self._follow_up_done, item)
        elif item.kind == "revisit":
            self._write(store.log_activity, "visit", customer_id=item.record_id, subject="Planned revisit")
        elif item.kind == "birthday":
            contact = store.require(Contact, item.record_id)
            self._write(store.new, Task, title=f"Birthday greeting: {contact.name}", kind="birthday",
                        due=item.due, done=True, done_at=datetime.now(UTC), contact_id=contact.id,
                        customer_id=contact.customer_id, owner=contact.owner)
        else:
            self._write(store.update, Task, item.record_id, done=True, done_at=datetime.now(UTC))

    def _follow_up_done(self, item: AgendaItem) -> None:
        with self.store.writing():  # one commit: the activity and the cleared date
            self.store.log_activity("call", lead_id=item.record_id, subject="Follow-up")
            self.store.update(Lead, item.record_id, next_follow_up=None)

    def action_reschedule(self) -> None:
        item = self.table.current
        if item is None or item.kind == "birthday":
            return
        field = {"follow_up": "next_follow_up", "revisit": "next_revisit", "task": "due"}[item.kind]
        cls = {"follow_up": Lead, "revisit": Customer, "task": Task}[item.kind]

        def chosen(when: date | None) -> None:
            if when is not None:
                self._write(self.store.update, cls, item.record_id, **{field: when})

        self.app.push_screen(AskScreen(f"Reschedule: {item.title}", placeholder="+3d, next mon, 2026-12-01",
                                       parse=lambda text: parse_when(text, today())), chosen)

    @on(VirtualTable.Selected, "#today-table")
    def _open(self) -> None:
        item = self.table.current
        if item is not None:
            self.app.open_record(item.table, item.record_id)  # type: ignore[attr-defined]
