"""A customer's details: facts and churn reasons, maintenance plan, contacts, deals (open one
on the board), purchase history, tickets, reminders, and one timeline of everything."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from store.agenda import BIRTHDAY_LOOKAHEAD_DAYS, next_birthday
from store.customers import CustomerRow, timeline
from store.database import Store
from store.models import Activity, Contact, Customer, Opportunity, Survey, Task, Ticket
from store.pipeline import money, stage_of
from tui.clock import today
from tui.forms import FORMS, new_values, without_blanks
from tui.screens.dialogs import PickScreen
from tui.screens.form import FormScreen
from tui.text import plain, plain_lines, plain_text

if TYPE_CHECKING:
    from tui.tabs.customers import CustomersTab

#: the timeline shows this many events; the count says how many more there are
TIMELINE_LIMIT = 200
TICKET_STATUSES = (("open", "open"), ("in progress", "in_progress"), ("resolved", "resolved"), ("closed", "closed"))


class CustomerScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q", "close", "Close", id="customer.close"),
        Binding("e", "edit", "Edit", id="customer.edit"),
        Binding("c", "contact", "Add contact", id="customer.contact"),
        Binding("a", "activity", "Log activity", id="customer.activity"),
        Binding("k", "ticket", "New ticket", id="customer.ticket"),
        Binding("y", "survey", "Survey answer", id="customer.survey"),
        Binding("r", "repeat_deal", "Repeat deal", id="customer.repeat"),
    ]
    DEFAULT_CSS = """
    CustomerScreen { align: center middle; }
    CustomerScreen > VerticalScroll {
        width: 110; max-width: 100%; height: 95%; border: thick $primary; background: $surface; padding: 0 1;
    }
    CustomerScreen .customer-title { text-style: bold; }
    CustomerScreen .customer-section { text-style: bold; margin-top: 1; color: $primary; }
    CustomerScreen .customer-risk { color: $health-risk; }
    CustomerScreen .customer-keys { margin-top: 1; color: $text-muted; }
    CustomerScreen OptionList { height: auto; max-height: 10; }
    """

    def __init__(self, store: Store, customer_id: str, tab: CustomersTab) -> None:
        super().__init__()
        self.store, self.customer_id, self.tab = store, customer_id, tab

    def compose(self) -> ComposeResult:
        customer = self.store.get(Customer, self.customer_id)
        row = self.tab.rows_by_id.get(self.customer_id)
        with VerticalScroll():
            if customer is None or row is None:
                yield Static("This customer no longer exists.")
                return
            yield from self.sections(customer, row)
            yield Static("e edit · c add contact · a log activity · k new ticket · y survey answer · "
                         "r repeat deal · enter on a deal or ticket opens it · esc close", classes="customer-keys")

    def sections(self, customer: Customer, row: CustomerRow) -> ComposeResult:
        store, day = self.store, today()
        yield Static(plain(f"{customer.name}  ·  {customer.lifecycle.replace('_', ' ')}  ·  health {row.health}"),
                     classes="customer-title")
        yield Static(self.facts(customer, row))
        yield Static("Churn risk", classes="customer-section")
        if row.reasons:
            yield Static(plain_lines(f"⚠ {reason.text}" for reason in row.reasons), classes="customer-risk")
        else:
            yield Static(plain("No warning signs." if customer.lifecycle in ("active", "at_risk")
                               else f"None checked for a {customer.lifecycle} customer."))
        yield Static("Maintenance plan", classes="customer-section")
        yield Static(plain(f"revisit every {customer.revisit_days} days · next "
                           f"{customer.next_revisit.isoformat() if customer.next_revisit else 'not set'} · "
                           f"by {customer.owner}" if customer.revisit_days else "No plan (set revisit days with e)."))
        yield Static("Contacts", classes="customer-section")
        contacts = sorted(store.find(Contact, where={"customer_id": customer.id}),
                          key=lambda c: (not c.primary, c.name))
        yield Static(self.contact_lines(contacts) if contacts else plain("None yet. c adds one."))
        deals = sorted((store.model_of(Opportunity, d) for d in store.rows(Opportunity)
                        if d["customer_id"] == customer.id), key=lambda d: d.created_at, reverse=True)
        yield Static(f"Opportunities ({len(deals)})", classes="customer-section")
        if deals:
            yield OptionList(*[Option(plain(self.deal_line(d)), id=d.id) for d in deals], id="customer-deals")
        else:
            yield Static(plain("None yet. r opens a repeat deal."))
        yield Static("Purchase history", classes="customer-section")
        won = [d for d in deals if stage_of(store.config, d.stage).kind == "won"]
        yield Static(plain_lines(f"{d.closed_at.date().isoformat() if d.closed_at else '?'}  "
                                 f"{money(d.amount, d.currency)}  {d.title}" for d in
                                 sorted(won, key=lambda d: d.closed_at or d.created_at, reverse=True))
                     if won else plain("Nothing bought yet."))
        tickets = sorted(store.find(Ticket, where={"customer_id": customer.id}), key=lambda t: t.created_at)
        open_tickets = [t for t in tickets if t.status in ("open", "in_progress")]
        yield Static(f"Service tickets ({len(open_tickets)} open of {len(tickets)})", classes="customer-section")
        if tickets:
            yield OptionList(*[Option(plain(self.ticket_line(t, day)), id=t.id) for t in
                               [*open_tickets, *[t for t in reversed(tickets) if t not in open_tickets]]],
                             id="customer-tickets")
        else:
            yield Static(plain("None. k opens one."))
        yield Static("Reminders", classes="customer-section")
        yield Static(self.reminders(customer, contacts))
        events = timeline(customer.id, store.config, activities=self.tab_activities(customer),
                          opportunities=store.rows(Opportunity), tickets=store.rows(Ticket),
                          surveys=store.rows(Survey), lead_id=customer.lead_id)
        yield Static(f"Timeline ({len(events)})", classes="customer-section")
        text = Text(end="")
        for event in events[:TIMELINE_LIMIT]:
            text.append(event.at[:16].replace("T", " ") + "  ", style="bold")
            text.append_text(plain_text(event.text))
            text.append("\n")
        if len(events) > TIMELINE_LIMIT:
            text.append(f"… and {len(events) - TIMELINE_LIMIT} older", style="italic")
        text.rstrip()
        yield Static(text or Text("Nothing yet.", style="italic"))
        if customer.notes:
            yield Static("Notes", classes="customer-section")
            yield Static(plain_text(customer.notes))

    def tab_activities(self, customer: Customer) -> list[Any]:
        """Activities with the customer, its lead or its deals (one pass over the table)."""
        deal_ids = {d["id"] for d in self.store.rows(Opportunity) if d["customer_id"] == customer.id}
        return [a for a in self.store.rows(Activity)
                if a.get("customer_id") == customer.id or (customer.lead_id and a.get("lead_id") == customer.lead_id)
                or a.get("opportunity_id") in deal_ids]

    def facts(self, customer: Customer, row: CustomerRow) -> Text:
        day = today()
        answer = row.latest_answer
        trend = {"up": " (up)", "down": " (down)", "flat": " (steady)", "": ""}[row.trend()]
        reorder = row.reorder_due.isoformat() if row.reorder_due else "after a first purchase"
        pairs = [
            ("industry", customer.industry or "-"), ("segment", customer.segment or "-"),
            ("tags", ", ".join(customer.tags) or "-"), ("owner", customer.owner),
            ("phone / email", " · ".join(x for x in (customer.phone, customer.email) if x) or "-"),
            ("lifetime value", f"{money(row.value)} from {len(row.purchases)} won deals"),
            ("open deals", f"{row.open_deals} ({money(row.open_value)})"),
            ("last contact", f"{row.last_contact.isoformat()} ({(day - row.last_contact).days}d ago)"
             if row.last_contact else "never"),
            ("satisfaction", f"{answer.shown()}{trend} on {answer.day.isoformat()}" if answer else "no answer yet"),
            ("RFM", f"R{row.rfm[0]} F{row.rfm[1]} M{row.rfm[2]} (total {row.rfm_total} of 15)"),
            ("reorder due", reorder),
        ]
        text = Text(end="")
        for name, value in pairs:
            text.append(f"{name:>15}  ", style="bold")
            text.append_text(plain_text(value))
            text.append("\n")
        text.rstrip()
        return text

    def contact_lines(self, contacts: list[Contact]) -> Text:
        text = Text(end="")
        for contact in contacts:
            details = [contact.role, contact.phone or "", contact.email or "",
                       f"birthday {contact.birthday.isoformat()[5:]}" if contact.birthday else ""]
            text.append("★ " if contact.primary else "  ")
            text.append_text(plain_text(" · ".join([contact.name, *[d for d in details if d]])))
            text.append("\n")
        text.rstrip()
        return text

    def deal_line(self, deal: Opportunity) -> str:
        stage = stage_of(self.store.config, deal.stage)
        return f"{deal.title} · {stage.label} · {money(deal.amount, deal.currency)} · {deal.owner}"

    def ticket_line(self, ticket: Ticket, day: Any) -> str:
        age = (day - ticket.created_at.date()).days
        return (f"{ticket.created_at.date().isoformat()}  {ticket.status.replace('_', ' '):<11} "
                f"{ticket.severity:<7} {ticket.title} ({age}d, {ticket.assignee or 'unassigned'})")

    def reminders(self, customer: Customer, contacts: list[Contact]) -> Text:
        """What is coming for this customer: the revisit, birthdays, open tasks."""
        day, lines = today(), []
        if customer.next_revisit:
            lines.append(f"{customer.next_revisit.isoformat()}  revisit")
        for contact in contacts:
            if contact.birthday:
                when = next_birthday(contact.birthday, day)
                if when <= day + timedelta(days=BIRTHDAY_LOOKAHEAD_DAYS):
                    lines.append(f"{when.isoformat()}  birthday: {contact.name} (send a card)")
        for task in self.store.find(Task, where={"customer_id": customer.id}):
            if not task.done:  # (stored documents leave out a false "done": filter here)
                lines.append(f"{task.due.isoformat()}  {task.title}")
        return plain_lines(sorted(lines)) if lines else Text("Nothing planned.", style="italic")  # type: ignore[return-value]

    # -- actions ------------------------------------------------------------------------------------
    def changed(self) -> None:
        self.tab.changed(self.customer_id)
        self.refresh(recompose=True)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_edit(self) -> None:
        self.tab.edit(self.customer_id, after=lambda: self.refresh(recompose=True))

    def action_contact(self) -> None:
        def save(values: dict[str, Any]) -> Contact:
            return self.store.new(Contact, **without_blanks(values))

        fields = [f for f in FORMS[Contact](self.store) if f.name != "customer_id"]
        self.app.push_screen(FormScreen("New contact", fields, {}, lambda v: save({**v, "customer_id":
                                                                                   self.customer_id})),
                             lambda result: result and self.changed())

    def action_activity(self) -> None:
        customer = self.store.require(Customer, self.customer_id)
        self.app.log_activity_form(customer_id=customer.id, title=f"Log activity: {customer.name}",  # type: ignore[attr-defined]
                                   after=self.changed)

    def action_ticket(self) -> None:
        fields = [f for f in FORMS[Ticket](self.store) if f.name != "customer_id"]

        def save(values: dict[str, Any]) -> Ticket:
            return self.store.new(Ticket, customer_id=self.customer_id, **without_blanks(values))

        self.app.push_screen(FormScreen("New service ticket", fields, new_values(Ticket, self.store), save),
                             lambda result: result and self.changed())

    def action_survey(self) -> None:
        fields = [f for f in FORMS[Survey](self.store) if f.name != "customer_id"]

        def save(values: dict[str, Any]) -> Survey:
            return self.store.record_survey(self.customer_id, values["kind"], values["score"],
                                            values.get("comment") or "")

        self.app.push_screen(FormScreen("Satisfaction answer", fields, new_values(Survey, self.store), save),
                             lambda result: result and self.changed())

    def action_repeat_deal(self) -> None:
        self.tab.repeat_deal(self.customer_id, after=lambda: self.refresh(recompose=True))

    @on(OptionList.OptionSelected, "#customer-deals")
    def _open_deal(self, event: OptionList.OptionSelected) -> None:
        deal_id = str(event.option.id)
        self.dismiss(None)
        self.app.open_record(Opportunity.table, deal_id)  # type: ignore[attr-defined]

    @on(OptionList.OptionSelected, "#customer-tickets")
    def _ticket_status(self, event: OptionList.OptionSelected) -> None:
        ticket = self.store.require(Ticket, str(event.option.id))

        def chosen(status: str | None) -> None:
            if status and self.tab.set_ticket_status(ticket.id, status):
                self.changed()

        self.app.push_screen(PickScreen(f"Ticket “{ticket.title}” is {ticket.status.replace('_', ' ')}; now",
                                        list(TICKET_STATUSES)), chosen)
