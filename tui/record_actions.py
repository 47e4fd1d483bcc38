"""Opening, adding and editing records from anywhere in the app (its methods run on the
``DealdeckApp``): a record's details over the tab you are on, the forms, logging an activity
with its next follow-up."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from store.models import ACTIVITY_KINDS, Customer, Lead, Opportunity, Record, Task
from tui.clock import today
from tui.forms import FORMS, new_values, with_flag, without_blanks
from tui.loading import DETAIL_TABLES
from tui.screens.form import Field, FormScreen
from tui.screens.records import RecordScreen
from tui.tabs.board import BoardTab
from tui.tabs.customers import CustomersTab
from tui.tabs.leads import LeadsTab
from tui.text import labelled

if TYPE_CHECKING:
    from tui.app import DealdeckApp


class RecordActions:
    """The app's record actions (its methods run on the ``DealdeckApp``)."""

    def new_lead(self: DealdeckApp) -> None:
        self.action_show_tab("leads")
        self.query_one(LeadsTab).action_new()

    def new_record(self: DealdeckApp, cls: type[Record]) -> None:
        """The form for a new record of any type (from the command palette)."""
        def save(values: dict[str, Any]) -> Record:
            return self.store.new(cls, **without_blanks(values))

        self.push_screen(FormScreen(f"New {cls.noun}", FORMS[cls](self.store), new_values(cls, self.store), save),
                         self._record_saved)

    def edit_lead(self: DealdeckApp, lead_id: str) -> None:
        self.action_show_tab("leads")
        tab = self.query_one(LeadsTab)
        tab.show_lead(lead_id)
        tab.action_edit()

    def edit_record(self: DealdeckApp, cls: type[Record], record_id: str) -> None:
        record = self.store.require(cls, record_id)

        def save(values: dict[str, Any]) -> Record:
            return self.store.update(cls, record_id, **values)

        values = record.model_dump()
        self.push_screen(FormScreen(f"Edit {cls.noun}: {record.label()}", with_flag(FORMS[cls](self.store), values),
                                    values, save), self._record_saved)

    def _record_saved(self: DealdeckApp, record: Record | None) -> None:
        if record is not None:
            self.data_changed()
            self.notify(labelled("Saved $noun $name", noun=record.noun, name=record.label()))

    def open_record(self: DealdeckApp, table: str, record_id: str) -> None:
        """A record's details over the tab you are on: esc comes back to it (the tabs
        beneath neither switch nor change their filter)."""
        self.when_loaded(DETAIL_TABLES, lambda: self._open_record(table, record_id))

    def _open_record(self: DealdeckApp, table: str, record_id: str) -> None:
        if table == Opportunity.table:
            self.query_one(BoardTab).open_deal(record_id)
            return
        if table == Customer.table:
            customers = self.query_one(CustomersTab)
            if customers.loaded_version < 0:
                customers.reload()
            customers.open_customer(record_id)
            return
        self.push_screen(RecordScreen(self.store, table, record_id))

    def deal_changed(self: DealdeckApp, deal_id: str) -> None:
        """A deal was written from another tab: the board patches it in."""
        self.query_one(BoardTab).deal_changed(deal_id)

    def log_activity_form(self: DealdeckApp, *, title: str, after: Callable[[], None], **links: str) -> None:
        fields = [Field("kind", "Kind", "choice", [(k.replace("_", " "), k) for k in ACTIVITY_KINDS],
                        required=True),
                  Field("subject", "Subject"), Field("body", "Notes", "notes"),
                  Field("when", "When", "date", placeholder="today, yesterday, 2026-11-20"),
                  Field("next", "Next follow-up", "date", placeholder="+3d, next mon, 2026-12-01 (blank: none)")]

        def save(values: dict[str, Any]) -> Any:
            """The activity and the next follow-up, as one change (one undo)."""
            when, follow_up = values.pop("when"), values.pop("next", None)
            at = datetime.combine(when, datetime.now(UTC).time(), tzinfo=UTC) if when else None
            with self.store.writing():
                activity = self.store.log_activity(values.pop("kind"), at=at, **values, **links)
                if follow_up:
                    self._schedule_next(follow_up, **links)
            return activity

        def done(result: Any) -> None:
            if result is not None:
                after()
                self.notify(f"Logged {result.kind.replace('_', ' ')}.")

        self.push_screen(FormScreen(title, fields, {"kind": "call", "when": today()}, save), done)

    def _schedule_next(self: DealdeckApp, due: date, *, lead_id: str | None = None, opportunity_id: str | None = None,
                       customer_id: str | None = None, **_: str) -> None:
        """The next follow-up of what an activity was logged on: a lead's follow-up date, a
        deal's follow-up task, or a follow-up task on a customer (all in Today)."""
        if lead_id:
            self.store.update(Lead, lead_id, next_follow_up=due)
        elif opportunity_id:
            self.store.follow_up_opportunity(opportunity_id, due)
        elif customer_id:
            customer = self.store.require(Customer, customer_id)
            self.store.new(Task, title=f"Follow up: {customer.name}", kind="follow_up", due=due,
                           customer_id=customer_id)
