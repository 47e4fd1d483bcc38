"""An opportunity's details: every field, the stage timeline with days per stage,
quote versions and lines, risk flags, activities, the customer and its contacts."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from store.changes import Changes
from store.database import Store
from store.errors import ValidationFailed
from store.models import Activity, Contact, Customer, Opportunity, Quote, Task
from store.pipeline import deal_row, last_activity_dates, money, stage_of, stage_spans
from tui.clock import today
from tui.custom import custom_pairs
from tui.header import PartsLine
from tui.screens.detail import HELP_KEY, UNDO_KEYS, DetailScreen
from tui.screens.dialogs import DETAIL_CSS
from tui.screens.form import Field, FormScreen
from tui.screens.records import rule_events
from tui.text import plain, plain_lines, plain_text

if TYPE_CHECKING:
    from tui.tabs.board import BoardTab
    from tui.tabs.customers import CustomersTab

QUOTE_HINT = "one line per product: product; quantity; unit price; discount % (optional)"


def parse_quote_lines(text: str) -> list[dict[str, str]]:
    """``Valve; 10; 120; 5`` per line -> quote line values; ValidationFailed names the line."""
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        parts = [part.strip() for part in raw.split(";")]
        if len(parts) not in (3, 4) or not parts[0]:
            raise ValidationFailed("quote lines", {
                "lines": f"line {number}: write product; quantity; unit price; discount % (optional)"})
        values = dict(zip(("product", "quantity", "unit_price", "discount_pct"), parts, strict=False))
        for name in ("quantity", "unit_price", "discount_pct"):
            if name in values:
                values[name] = values[name].replace(",", "") or "0"
        lines.append(values)
    if not lines:
        raise ValidationFailed("quote lines", {"lines": "a quote needs at least one line"})
    return lines


def _shown(value: object) -> str:
    if isinstance(value, Decimal):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"
    return str(value)


def _changed(field: str, value: str | None) -> str:
    """A tracked field's old or new value as a person reads it."""
    if value is None:
        return "-"
    return money(Decimal(value)) if field == "amount" else value


def quote_table(quote: Quote) -> Table:
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for title, justify in (("Product", "left"), ("Qty", "right"), ("Unit price", "right"),
                           ("Disc %", "right"), ("Total", "right")):
        table.add_column(title, justify=justify)  # type: ignore[arg-type]
    for line in quote.lines:
        table.add_row(plain_text(line.product), _shown(line.quantity), _shown(line.unit_price),
                      _shown(line.discount_pct), money(line.total))
    table.add_row(Text("Total", style="bold"), "", "", "", Text(money(quote.total, quote.currency), style="bold"))
    return table


class OpportunityScreen(DetailScreen):
    BINDINGS = [
        Binding("escape,q", "close", "Close", id="deal.close"),
        Binding("e", "edit", "Edit", id="deal.edit"),
        Binding("a", "activity", "Activity", id="deal.activity"),
        Binding("f", "follow_up", "Follow-up", id="deal.follow_up"),
        Binding("Q", "quote", "Revise quote", id="deal.quote"),
        Binding("c", "customer", "Customer card", id="deal.customer"),
        *UNDO_KEYS,
        HELP_KEY,
    ]
    DEFAULT_CSS = DETAIL_CSS.format(name="OpportunityScreen", width=100)

    def __init__(self, store: Store, deal_id: str, board: BoardTab) -> None:
        super().__init__()
        self.store, self.deal_id, self.board = store, deal_id, board

    @property
    def record(self) -> tuple[str, str]:
        return Opportunity.table, self.deal_id

    def body(self) -> ComposeResult:
        deal = self.store.get(Opportunity, self.deal_id)
        with VerticalScroll():
            if deal is None:
                yield Static("This opportunity no longer exists.")
                return
            yield from self.sections(deal)
            yield PartsLine(["e edit", "a log activity", "f follow-up", "Q revise quote", "c customer card",
                             "esc close"], classes="detail-keys")

    def sections(self, deal: Opportunity) -> ComposeResult:
        store, config, day = self.store, self.store.config, today()
        customer = store.get(Customer, deal.customer_id)
        activities = sorted((store.model_of(Activity, doc)
                             for doc in store.links(Activity, "opportunity_id")["opportunity_id"].get(deal.id, [])),
                            key=lambda a: a.at, reverse=True)
        doc = store.storage.tables[Opportunity.table][deal.id]
        row = deal_row(doc, config, customers={deal.customer_id: customer.name if customer else ""},
                       last_activity=last_activity_dates(a.model_dump(mode="json") for a in activities[:1]),
                       today=day)
        label = {s.key: s.label for s in config.stages}
        yield PartsLine([deal.title, label.get(deal.stage, deal.stage), money(deal.amount, deal.currency)],
                        separator="  ·  ", classes="detail-title")
        yield Static(self.facts(deal, customer, row.forecast, row.days_in_stage(day)))
        yield Static("Risks", classes="detail-section")
        if row.risks:
            yield Static(plain_lines(f"⚠ {risk.reason}" for risk in row.risks), classes="detail-risk")
        else:
            yield Static(plain("No risk flags." if stage_of(config, deal.stage).kind == "open" else "Closed."))
        yield Static("Stage history", classes="detail-section")
        yield Static(self.timeline(deal, label))
        yield Static("Quote", classes="detail-section")
        yield from self.quotes(deal)
        if deal.rule_log:
            yield Static("What the team's rules did", classes="detail-section")
            yield Static(plain_lines(f"{when.replace('T', ' ')}  {what}" for when, what in sorted(
                rule_events(deal), reverse=True)))
        if deal.changes:
            yield Static("Amount and close date changes", classes="detail-section")
            yield Static(plain_lines(
                f"{c.at.date().isoformat()}  {c.field.replace('_', ' ')}: {_changed(c.field, c.old)} → "
                f"{_changed(c.field, c.new)} ({c.by})" for c in sorted(deal.changes, key=lambda c: c.at, reverse=True)))
        yield Static(f"Activities ({len(activities)})", classes="detail-section")
        yield Static(self.activity_lines(activities))
        yield Static("Customer and contacts", classes="detail-section")
        yield Static(self.people(customer))
        if deal.notes:
            yield Static("Notes", classes="detail-section")
            yield Static(plain_text(deal.notes))

    def facts(self, deal: Opportunity, customer: Customer | None, category: str, days_in_stage: int) -> Text:
        follow = next((self.store.model_of(Task, t).due
                       for t in self.store.links(Task, "opportunity_id")["opportunity_id"].get(deal.id, [])
                       if t.get("kind") == "follow_up" and not t.get("done")), None)
        pairs = [
            ("customer", customer.name if customer else "(missing)"), ("owner", deal.owner),
            ("expected close", deal.expected_close.isoformat() if deal.expected_close else "not set"),
            ("forecast", category.replace("_", " ") + ("" if deal.forecast_category else " (stage default)")),
            ("next step", deal.next_step or "none"),
            ("next follow-up", follow.isoformat() if follow else "none"),
            ("days in stage", str(days_in_stage)),
            ("created", deal.created_at.date().isoformat()),
        ]
        if deal.closed_at:
            pairs.append(("closed", deal.closed_at.date().isoformat()))
        if deal.lost_reason:
            pairs.append(("lost because", deal.lost_reason))
        pairs += custom_pairs(self.store.config, deal.table, deal.__pydantic_extra__ or {})
        text = Text(end="")
        for name, value in pairs:
            text.append(f"{name:>15}  ", style="bold")
            text.append_text(plain_text(value))
            text.append("\n")
        text.rstrip()
        return text

    def timeline(self, deal: Opportunity, label: dict[str, str]) -> Text:
        day = today()
        spans = stage_spans(deal.stage_history)
        closed = {s.key for s in self.store.config.stages if s.kind != "open"}
        text = Text(end="")
        for index, span in enumerate(spans):
            last = index == len(spans) - 1
            days = "" if last and span.stage in closed else f"{span.days(day)}d"
            text.append(f"{span.entered.date().isoformat()}  ", style="bold")
            text.append_text(plain_text(f"{label.get(span.stage, span.stage):<18} {days:>5}  by {span.by}"))
            if span.undo:
                text.append("  (undo)", style="italic")
            if last and span.stage not in closed:
                text.append("  ← now", style="bold")
            text.append("\n")
        text.rstrip()
        return text or Text("No stage history.", style="italic")

    def quotes(self, deal: Opportunity) -> ComposeResult:
        latest = deal.latest_quote()
        if latest is None:
            yield Static(plain("No quote yet. Q writes one."))
            return
        yield Static(plain(f"Version {latest.version}, {latest.at.date().isoformat()} by {latest.by}"
                           + (f": {latest.note}" if latest.note else "")))
        yield Static(quote_table(latest))
        older = sorted((q for q in deal.quotes if q.version != latest.version), key=lambda q: -q.version)
        if older:
            yield Static(plain_lines(f"version {q.version}, {q.at.date().isoformat()} by {q.by}: "
                                     f"{money(q.total, q.currency)} ({len(q.lines)} lines)" for q in older))

    def activity_lines(self, activities: list[Activity]) -> Text:
        text = Text(end="")
        for activity in activities[:100]:
            text.append(activity.at.strftime("%Y-%m-%d %H:%M") + "  ", style="bold")
            text.append_text(plain_text(f"{activity.kind.replace('_', ' ')}: "
                                        f"{activity.subject or activity.body[:60]} ({activity.owner})"))
            text.append("\n")
        if len(activities) > 100:
            text.append(f"… and {len(activities) - 100} older", style="italic")
        text.rstrip()
        return text or Text("None logged yet. a logs one.", style="italic")

    def people(self, customer: Customer | None) -> Text:
        if customer is None:
            return Text("The customer record is missing.", style="italic")
        text = plain_text(f"{customer.name} · {customer.lifecycle.replace('_', ' ')}"
                          + (f" · {customer.industry}" if customer.industry else ""))
        text.append("\n")
        for contact in (self.store.model_of(Contact, doc)
                        for doc in self.store.links(Contact, "customer_id")["customer_id"].get(customer.id, [])):
            details = " · ".join(x for x in (contact.role, contact.phone, contact.email) if x)
            text.append("  ")
            text.append_text(plain_text(f"{contact.name}{' · ' + details if details else ''}"))
            text.append("\n")
        text.rstrip()
        return text

    # -- actions -----------------------------------------------------------------------------------
    def shows(self, changes: Changes) -> bool:
        """Its deal, its customer and contacts, the log of activities."""
        return (self.deal_id in changes.ids("opportunities")
                or changes.touches("customers", "contacts", "activities", "tasks"))

    def changed(self, *, touched: bool = False) -> None:
        self.board.deal_changed(self.deal_id, touched=touched)
        self.rebuild()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_edit(self) -> None:
        self.board.edit(self.deal_id, after=self.rebuild)

    def action_activity(self) -> None:
        deal = self.store.require(Opportunity, self.deal_id)
        self.app.log_activity_form(opportunity_id=deal.id, title=f"Log activity: {deal.title}",  # type: ignore[attr-defined]
                                   after=lambda: self.changed(touched=True))

    def action_follow_up(self) -> None:
        self.board.ask_follow_up(self.deal_id, after=self.rebuild)

    def action_quote(self) -> None:
        deal = self.store.require(Opportunity, self.deal_id)
        latest = deal.latest_quote()
        lines = "\n".join(f"{line.product}; {_shown(line.quantity)}; {_shown(line.unit_price)}; "
                          f"{_shown(line.discount_pct)}" for line in latest.lines) if latest else ""
        fields = [Field("lines", "Quote lines", "notes", placeholder=QUOTE_HINT), Field("note", "Note")]

        def save(values: dict[str, Any]) -> Opportunity:
            return self.store.revise_quote(self.deal_id, parse_quote_lines(values["lines"]), values["note"])

        def saved(result: Opportunity | None) -> None:
            if result is not None:
                quote = result.latest_quote()
                self.changed()
                if quote is not None:
                    self.app.notify(f"Quote version {quote.version}: {money(quote.total, quote.currency)}; "
                                    "the deal's amount follows it.", markup=False)

        version = (latest.version + 1) if latest else 1
        self.app.push_screen(FormScreen(f"Quote version {version}: {deal.title}", fields, {"lines": lines}, save,
                                        hint=QUOTE_HINT + ". Earlier versions are kept."), saved)

    def action_customer(self) -> None:
        """The customer's card over these details (the tab beneath stays): esc comes back here."""
        deal = self.store.require(Opportunity, self.deal_id)
        if self.back_to(Customer.table, deal.customer_id):
            return
        customers = cast("CustomersTab", self.app.query_one("CustomersTab"))
        if customers.loaded_version < 0:
            customers.reload()
        customers.open_customer(deal.customer_id)
