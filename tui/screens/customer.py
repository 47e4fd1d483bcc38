"""A customer's details: facts and churn reasons, maintenance plan, contacts, deals (open one's
details over the card), purchase history, tickets, reminders, and one timeline of everything."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from store.agenda import BIRTHDAY_LOOKAHEAD_DAYS, next_birthday
from store.changes import Changes
from store.customers import CustomerRow, timeline
from store.database import Store
from store.models import Contact, Customer, Opportunity, Survey, Ticket
from store.pipeline import money, stage_of
from tui.clock import today
from tui.custom import custom_pairs
from tui.forms import FORMS, new_values, without_blanks
from tui.header import PartsLine, wrapped
from tui.screens.detail import HELP_KEY, UNDO_KEYS, DetailScreen
from tui.screens.dialogs import DETAIL_CSS, PickScreen
from tui.screens.form import FormScreen
from tui.screens.records import rule_events
from tui.tabs.customers import CUSTOMER_TABLES
from tui.text import counted, plain, plain_text

if TYPE_CHECKING:
    from tui.tabs.board import BoardTab
    from tui.tabs.customers import CustomersTab

#: the page's width (at most), and where a fact's value starts
CUSTOMER_WIDTH = 110
FACT_INDENT = 17
#: the timeline shows this many events; the count says how many more there are
TIMELINE_LIMIT = 200
TICKET_STATUSES = (("open", "open"), ("in progress", "in_progress"), ("resolved", "resolved"), ("closed", "closed"))


class CustomerScreen(DetailScreen):
    BINDINGS = [
        Binding("escape,q", "close", "Close", id="customer.close"),
        Binding("e", "edit", "Edit", id="customer.edit"),
        Binding("c", "contact", "Add contact", id="customer.contact"),
        Binding("a", "activity", "Log activity", id="customer.activity"),
        Binding("k", "ticket", "New ticket", id="customer.ticket"),
        Binding("y", "survey", "Survey answer", id="customer.survey"),
        Binding("r", "repeat_deal", "Repeat deal", id="customer.repeat"),
        *UNDO_KEYS,
        HELP_KEY,
    ]
    DEFAULT_CSS = DETAIL_CSS.format(name="CustomerScreen", width=CUSTOMER_WIDTH)

    def __init__(self, store: Store, customer_id: str, tab: CustomersTab) -> None:
        super().__init__()
        self.store, self.customer_id, self.tab = store, customer_id, tab

    @property
    def record(self) -> tuple[str, str]:
        return Customer.table, self.customer_id

    def body(self) -> ComposeResult:
        customer = self.store.get(Customer, self.customer_id)
        row = self.tab.rows_by_id.get(self.customer_id)
        with VerticalScroll():
            if customer is None or row is None:
                yield Static("This customer no longer exists.")
                return
            yield from self.sections(customer, row)
            yield PartsLine(["e edit", "c add contact", "a log activity", "k new ticket", "y survey answer",
                             "r repeat deal", "enter on a deal or ticket opens it", "esc close"], classes="detail-keys")

    def sections(self, customer: Customer, row: CustomerRow) -> ComposeResult:
        """Few widgets (mounting each costs more than its data): blocks of text around
        the deals and the tickets, which are lists to pick from."""
        store, day = self.store, today()
        related = self.tab.related(customer)
        contacts = sorted((store.model_of(Contact, d) for d in related.contacts),
                          key=lambda c: (not c.primary, c.name))
        deals = sorted((store.model_of(Opportunity, d) for d in related.deals), key=lambda d: d.created_at,
                       reverse=True)
        tickets = sorted((store.model_of(Ticket, d) for d in related.tickets), key=lambda t: t.created_at)
        top = Text(end="")
        top.append_text(plain_text(f"{customer.name}  ·  {customer.lifecycle.replace('_', ' ')}  ·  "
                                   f"health {row.health}", style="bold"))
        top.append("\n")
        top.append_text(self.facts(customer, row))
        _section(top, "Churn risk")
        top.rstrip()
        yield Static(Content.from_rich_text(top))
        if row.reasons:
            yield Static(Content.from_rich_text(self.reason_lines(row)), classes="detail-risk")
        else:
            yield Static(plain("No warning signs." if customer.lifecycle in ("active", "at_risk")
                               else f"None checked for a {customer.lifecycle} customer."))
        top = Text("\n", end="")
        _section(top, "Maintenance plan", first=True)
        top.append_text(plain_text(f"revisit every {customer.revisit_days} days · next "
                                   f"{customer.next_revisit.isoformat() if customer.next_revisit else 'not set'} · "
                                   f"by {customer.owner}" if customer.revisit_days
                                   else "No plan (set revisit days with e)."))
        _section(top, "Contacts")
        if contacts:  # a list: enter edits the contact
            top.rstrip()
            yield Static(Content.from_rich_text(top))
            yield OptionList(*[Option(plain(self.contact_line(c)), id=c.id) for c in contacts],
                             id="customer-contacts")
            top = Text("\n", end="")
            _section(top, f"Opportunities ({len(deals)})", first=True)
        else:
            top.append("None yet. c adds one.")
            _section(top, f"Opportunities ({len(deals)})")
        if not deals:
            top.append("None yet. r opens a repeat deal.")
        yield Static(Content.from_rich_text(top))
        if deals:
            yield OptionList(*[Option(plain(self.deal_line(d)), id=d.id) for d in deals], id="customer-deals")
        won = sorted((d for d in deals if stage_of(store.config, d.stage).kind == "won"),
                     key=lambda d: d.closed_at or d.created_at, reverse=True)
        middle = Text(end="")
        _section(middle, "Purchase history", first=True)
        middle.append_text(self.purchase_lines(won))
        open_tickets = [t for t in tickets if t.status in ("open", "in_progress")]
        _section(middle, f"Service tickets ({len(open_tickets)} open of {len(tickets)})")
        if not tickets:
            middle.append("None. k opens one.")
        yield Static(Content.from_rich_text(middle))
        if tickets:
            yield OptionList(*[Option(plain(self.ticket_line(t, day)), id=t.id) for t in
                               [*open_tickets, *[t for t in reversed(tickets) if t not in open_tickets]]],
                             id="customer-tickets")
        # Textual's Content paints a long timeline several times faster than a Rich Text.
        yield Static(Content.from_rich_text(self.history(customer, contacts, related)))

    def history(self, customer: Customer, contacts: list[Contact], related: Any) -> Text:
        """Reminders, then the timeline of everything, newest first, then the notes."""
        text = Text(end="")
        _section(text, "Reminders", first=True)
        text.append_text(self.reminders(customer, contacts, related.tasks))
        events = timeline(customer.id, self.store.config, activities=related.activities,
                          opportunities=related.deals, tickets=related.tickets, surveys=related.surveys,
                          lead_id=customer.lead_id)
        ruled = [(when, what) for when, what in rule_events(customer)]
        merged = sorted([*((e.at[:16], e.text) for e in events), *ruled], reverse=True)
        _section(text, f"Timeline ({len(merged)})")
        for when, what in merged[:TIMELINE_LIMIT]:
            text.append(when.replace("T", " ") + "  ", style="bold")
            text.append_text(plain_text(what))
            text.append("\n")
        if len(merged) > TIMELINE_LIMIT:
            text.append(f"… and {len(merged) - TIMELINE_LIMIT} older", style="italic")
        if not merged:
            text.append("Nothing yet.", style="italic")
        if customer.notes:
            _section(text, "Notes")
            text.append(str(customer.notes))  # Text.append never parses markup
        text.rstrip()
        return text

    def reason_lines(self, row: CustomerRow) -> Text:
        text = Text(end="")
        for reason in row.reasons:
            text.append_text(plain_text(f"⚠ {reason.text}"))
            text.append("\n")
        text.rstrip()
        return text

    def purchase_lines(self, won: list[Opportunity]) -> Text:
        if not won:
            return Text("Nothing bought yet.")
        text = Text(end="")
        for deal in won:
            text.append_text(plain_text(f"{deal.closed_at.date().isoformat() if deal.closed_at else '?'}  "
                                        f"{money(deal.amount, deal.currency)}  {deal.title}"))
            text.append("\n")
        text.rstrip()
        return text

    def facts(self, customer: Customer, row: CustomerRow) -> Text:
        day = today()
        answer = row.latest_answer
        trend = {"up": " (up)", "down": " (down)", "flat": " (steady)", "": ""}[row.trend()]
        reorder = row.reorder_due.isoformat() if row.reorder_due else "after a first purchase"
        pairs = [
            ("industry", customer.industry or "-"), ("segment", customer.segment or "-"),
            ("tags", ", ".join(customer.tags) or "-"), ("owner", customer.owner),
            ("phone / email", self.fitted_parts([customer.phone, customer.email]) or "-"),
            ("lifetime value", f"{money(row.value)} from {counted(len(row.purchases), 'won deal')}"),
            ("open deals", f"{row.open_deals} ({money(row.open_value)})"),
            ("last contact", f"{row.last_contact.isoformat()} ({(day - row.last_contact).days}d ago)"
             if row.last_contact else "never"),
            ("satisfaction", f"{answer.shown()}{trend} on {answer.day.isoformat()}" if answer else "no answer yet"),
            ("RFM", f"R{row.rfm[0]} F{row.rfm[1]} M{row.rfm[2]} (total {row.rfm_total} of 15)"),
            ("reorder due", reorder),
            *custom_pairs(self.store.config, customer.table, customer.__pydantic_extra__ or {}),
        ]
        text = Text(end="")
        for name, value in pairs:
            text.append(f"{name:>15}  ", style="bold")
            for number, line in enumerate(value.split("\n")):  # a wrapped value's lines under its first
                text.append_text(plain_text(f"{' ' * FACT_INDENT if number else ''}{line}"))
                text.append("\n")
        text.rstrip()
        return text

    def fitted_parts(self, parts: list[str]) -> str:
        """Parts of a fact on as many lines as the page's width needs, each whole (a phone
        and a long e-mail: no `·` left at a line's end)."""
        room = min(CUSTOMER_WIDTH, self.app.size.width) - 4 - FACT_INDENT  # border and padding
        return "\n".join(wrapped([part for part in parts if part], room))

    def contact_line(self, contact: Contact) -> str:
        details = [contact.role, contact.phone or "", contact.email or "",
                   f"birthday {contact.birthday.isoformat()[5:]}" if contact.birthday else ""]
        return ("★ " if contact.primary else "  ") + " · ".join([contact.name, *[d for d in details if d]])

    def deal_line(self, deal: Opportunity) -> str:
        stage = stage_of(self.store.config, deal.stage)
        return f"{deal.title} · {stage.label} · {money(deal.amount, deal.currency)} · {deal.owner}"

    def ticket_line(self, ticket: Ticket, day: Any) -> str:
        age = (day - ticket.created_at.date()).days
        return (f"{ticket.created_at.date().isoformat()}  {ticket.status.replace('_', ' '):<11} "
                f"{ticket.severity:<7} {ticket.title} ({age}d, {ticket.assignee or 'unassigned'})")

    def reminders(self, customer: Customer, contacts: list[Contact], tasks: list[Any]) -> Text:
        """What is coming for this customer: the revisit, birthdays, open tasks."""
        day, lines = today(), []
        if customer.next_revisit:
            lines.append(f"{customer.next_revisit.isoformat()}  revisit")
        for contact in contacts:
            if contact.birthday:
                when = next_birthday(contact.birthday, day)
                if when <= day + timedelta(days=BIRTHDAY_LOOKAHEAD_DAYS):
                    lines.append(f"{when.isoformat()}  birthday: {contact.name} (send a card)")
        for task in tasks:
            if not task.get("done"):
                lines.append(f"{task['due']}  {task['title']}")
        if not lines:
            return Text("Nothing planned.", style="italic")
        text = Text(end="")
        for line in sorted(lines):
            text.append_text(plain_text(line))
            text.append("\n")
        text.rstrip()
        return text

    # -- actions ------------------------------------------------------------------------------------
    def shows(self, changes: Changes) -> bool:
        """Its customer and everything linked to customers (deals, contacts, the log ...)."""
        return changes.touches(*CUSTOMER_TABLES)

    def changed(self) -> None:
        self.tab.changed(self.customer_id)
        self.rebuild()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_edit(self) -> None:
        self.tab.edit(self.customer_id, after=self.rebuild)

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
        self.tab.repeat_deal(self.customer_id, after=self.rebuild)

    @on(OptionList.OptionSelected, "#customer-contacts")
    def _edit_contact(self, event: OptionList.OptionSelected) -> None:
        contact = self.store.require(Contact, str(event.option.id))
        fields = [f for f in FORMS[Contact](self.store) if f.name != "customer_id"]

        def save(values: dict[str, Any]) -> Contact:
            return self.store.update(Contact, contact.id, **values)

        self.app.push_screen(FormScreen(f"Edit contact: {contact.name}", fields, contact.model_dump(), save),
                             lambda result: result and self.changed())

    @on(OptionList.OptionSelected, "#customer-deals")
    def _open_deal(self, event: OptionList.OptionSelected) -> None:
        """The deal's details over this card (the tab beneath stays): esc comes back here."""
        deal_id = str(event.option.id)
        if not self.back_to(Opportunity.table, deal_id):
            cast("BoardTab", self.app.query_one("BoardTab")).open_deal(deal_id)

    @on(OptionList.OptionSelected, "#customer-tickets")
    def _ticket_status(self, event: OptionList.OptionSelected) -> None:
        ticket = self.store.require(Ticket, str(event.option.id))

        def chosen(status: str | None) -> None:
            if status and self.tab.set_ticket_status(ticket.id, status):
                self.changed()

        self.app.push_screen(PickScreen(f"Ticket “{ticket.title}” is {ticket.status.replace('_', ' ')}; now",
                                        list(TICKET_STATUSES)), chosen)


def _section(text: Text, title: str, *, first: bool = False) -> None:
    """A section title inside a block of text."""
    if not first:
        text.append("\n\n")
    text.append(title, style="bold underline")
    text.append("\n")
