"""Customers as numbers: lifetime value, satisfaction and its trend, open tickets, churn
reasons and health, RFM scores, reorder prompts, segments and the customer timeline.
Pure functions over stored documents and the config; no I/O, no widgets.

The customer tab works on ``CustomerRow``s made in one pass over each table, so
5,000 customers with their whole history open at once.
"""

from __future__ import annotations

import statistics
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any, Literal

from store.agenda import BIRTHDAY_LOOKAHEAD_DAYS, next_birthday
from store.config import Config, CustomerRules, Health, SavedSegment
from store.dates import stored_day
from store.models import StageChange
from store.pipeline import money, value_of
from store.records import whole_entries

Doc = Mapping[str, Any]
ReasonKind = Literal["revisit_overdue", "low_satisfaction", "satisfaction_dropped", "ticket_open", "no_contact",
                     "flagged"]
HEALTH_ORDER: dict[str, int] = {"risk": 0, "watch": 1, "good": 2, "churned": 3}


@dataclass(frozen=True, slots=True)
class Reason:
    kind: ReasonKind
    text: str


@dataclass(frozen=True, slots=True)
class Answer:
    """A survey answer on a 0-1 scale, to compare CSAT and NPS."""

    day: date
    kind: str
    score: int

    @property
    def level(self) -> float:
        return (self.score - 1) / 4 if self.kind == "csat" else self.score / 10

    def shown(self) -> str:
        return f"{self.kind.upper()} {self.score}/{5 if self.kind == 'csat' else 10}"


@dataclass(slots=True)
class CustomerRow:
    """One customer as its card and list show it."""

    id: str
    name: str
    industry: str
    segment: str
    tags: tuple[str, ...]
    owner: str
    lifecycle: str
    created: date
    #: won deals: (closed day, value in the team's currency), oldest first
    purchases: list[tuple[date, Decimal]] = field(default_factory=list)
    open_deals: int = 0
    open_value: Decimal = Decimal(0)
    last_contact: date | None = None
    revisit_days: int | None = None
    next_revisit: date | None = None
    answers: list[Answer] = field(default_factory=list)
    #: open tickets: (opened day, title), oldest first
    open_tickets: list[tuple[date, str]] = field(default_factory=list)
    reasons: tuple[Reason, ...] = ()
    health: Health = "good"
    rfm: tuple[int, int, int] = (1, 1, 1)
    #: when a repeat order is expected (None: nothing bought yet)
    reorder_due: date | None = None
    #: a risk one of the team's rules raised (``flag_risk``)
    flag: str = ""
    #: open tasks due within the week and contact birthdays coming up (see Today)
    reminders: int = 0
    search: str = ""

    @property
    def value(self) -> Decimal:
        return sum((amount for _, amount in self.purchases), Decimal(0))

    @property
    def last_purchase(self) -> date | None:
        return self.purchases[-1][0] if self.purchases else None

    @property
    def latest_answer(self) -> Answer | None:
        return self.answers[-1] if self.answers else None

    def trend(self) -> str:
        """"up", "down", "flat" from the last two answers; "" with fewer."""
        if len(self.answers) < 2:
            return ""
        change = self.answers[-1].level - self.answers[-2].level
        return "up" if change > 0.001 else "down" if change < -0.001 else "flat"

    @property
    def rfm_total(self) -> int:
        return sum(self.rfm)

    def days_since_contact(self, today: date) -> int | None:
        return None if self.last_contact is None else (today - self.last_contact).days


# -- building rows -------------------------------------------------------------------------------


def _day(value: object) -> date | None:
    return stored_day(str(value)) if value else None


def customer_rows(config: Config, *, customers: Iterable[Doc], opportunities: Iterable[Doc],
                  last_activity: Mapping[str, date], tickets: Iterable[Doc], surveys: Iterable[Doc],
                  today: date, tasks: Iterable[Doc] = (), contacts: Iterable[Doc] = ()) -> list[CustomerRow]:
    """Every customer with its facts, churn reasons, health, RFM, reorder date and reminders.
    ``last_activity``: the day of each customer's latest activity (``ActivityDigest``)."""
    rows = {doc["id"]: _bare_row(doc) for doc in customers}
    won, lost = config.won_stage.key, config.lost_stage.key
    for deal in opportunities:
        row = rows.get(deal["customer_id"])
        if row is None:
            continue
        value = value_of(Decimal(deal.get("amount") or 0), deal.get("currency") or config.currency, config)
        if deal["stage"] == won and deal.get("closed_at"):
            row.purchases.append((_day(deal["closed_at"]) or today, value or Decimal(0)))
        elif deal["stage"] != lost:
            row.open_deals += 1
            row.open_value += value or Decimal(0)
    for customer_id, day in last_activity.items():
        row = rows.get(customer_id)
        if row is not None and (row.last_contact is None or day > row.last_contact):
            row.last_contact = day
    for ticket in tickets:
        row = rows.get(ticket["customer_id"])
        if row is not None and ticket.get("status", "open") in ("open", "in_progress"):
            row.open_tickets.append((_day(ticket["created_at"]) or today, str(ticket["title"])))
    for survey in surveys:
        row = rows.get(survey["customer_id"])
        if row is not None:
            row.answers.append(Answer(_day(survey.get("at")) or today, survey["kind"], int(survey["score"])))
    count_reminders(rows, tasks, contacts, today)
    result = list(rows.values())
    for row in result:
        row.purchases.sort()
        row.open_tickets.sort()
        row.answers.sort(key=lambda a: a.day)
        row.reasons = churn_reasons(row, config.customers, today)
        row.health = health_of(row.lifecycle, row.reasons)
        row.reorder_due = reorder_due(row.purchases, config.customers.reorder_days)
    scores = rfm_scores(result, today)
    for row in result:
        row.rfm = scores[row.id]
    return result


def _bare_row(doc: Doc) -> CustomerRow:
    name, industry, segment = str(doc["name"]), doc.get("industry") or "", doc.get("segment") or ""
    tags = tuple(doc.get("tags") or ())
    return CustomerRow(
        id=doc["id"], name=name, industry=industry, segment=segment, tags=tags, owner=doc.get("owner") or "",
        lifecycle=doc.get("lifecycle") or "prospect", created=_day(doc["created_at"]) or date.min,
        last_contact=_day(doc.get("last_contact_at")), revisit_days=doc.get("revisit_days"),
        next_revisit=_day(doc.get("next_revisit")), flag=doc.get("flag") or "",
        search="\x00".join((name, industry, segment, doc.get("email") or "", doc.get("phone") or "",
                            *tags)).casefold())


def count_reminders(rows: Mapping[str, CustomerRow], tasks: Iterable[Doc], contacts: Iterable[Doc],
                    today: date) -> None:
    """Open tasks due within the birthday look-ahead, and birthdays within it, per customer."""
    horizon = today + timedelta(days=BIRTHDAY_LOOKAHEAD_DAYS)
    for task in tasks:
        row = rows.get(task.get("customer_id") or "")
        due = _day(task.get("due"))
        if row is not None and due is not None and due <= horizon and not task.get("done"):
            row.reminders += 1
    for contact in contacts:
        row = rows.get(contact["customer_id"])
        born = _day(contact.get("birthday"))
        if row is not None and born is not None and next_birthday(born, today) <= horizon:
            row.reminders += 1


# -- churn risk ---------------------------------------------------------------------------------


def revisit_reason(next_revisit: date | None, revisit_days: int | None, today: date) -> Reason | None:
    if next_revisit is None or next_revisit >= today:
        return None
    plan = f" (plan: every {revisit_days}d)" if revisit_days else ""
    return Reason("revisit_overdue", f"revisit overdue by {(today - next_revisit).days}d{plan}")


def satisfaction_reasons(answers: Sequence[Answer], rules: CustomerRules) -> list[Reason]:
    """The latest answer is low, or fell from the one before by ``drop_percent`` of the scale."""
    if not answers:
        return []
    latest, found = answers[-1], []
    low = rules.low_csat if latest.kind == "csat" else rules.low_nps
    if latest.score <= low:
        found.append(Reason("low_satisfaction", f"{latest.shown()} on {latest.day.isoformat()}"))
    if len(answers) > 1 and answers[-2].level - latest.level >= rules.drop_percent / 100 - 1e-9:
        found.append(Reason("satisfaction_dropped",
                            f"satisfaction down from {answers[-2].shown()} to {latest.shown()}"))
    return found


def ticket_reason(open_tickets: Sequence[tuple[date, str]], limit_days: int, today: date) -> Reason | None:
    """The oldest open ticket, if open longer than the limit."""
    if not open_tickets:
        return None
    opened, title = open_tickets[0]
    days = (today - opened).days
    if days <= limit_days:
        return None
    more = f" (+{len(open_tickets) - 1} more open)" if len(open_tickets) > 1 else ""
    return Reason("ticket_open", f"ticket “{title}” open {days}d (limit {limit_days}d){more}")


def contact_reason(last_contact: date | None, since: date, limit_days: int, today: date) -> Reason | None:
    """No contact for longer than the limit; never contacted counts from ``since``."""
    days = (today - (last_contact or since)).days
    if days <= limit_days:
        return None
    what = f"no contact for {days}d" if last_contact else f"never contacted ({days}d as a customer)"
    return Reason("no_contact", f"{what} (limit {limit_days}d)")


def churn_reasons(row: CustomerRow, rules: CustomerRules, today: date) -> tuple[Reason, ...]:
    """Why an active customer may be slipping away; prospects and churned ones have none."""
    flagged = (Reason("flagged", f"flagged: {row.flag}"),) if row.flag else ()
    if row.lifecycle not in ("active", "at_risk"):
        return flagged
    found = [*flagged, revisit_reason(row.next_revisit, row.revisit_days, today),
             *satisfaction_reasons(row.answers, rules),
             ticket_reason(row.open_tickets, rules.ticket_open_days, today),
             contact_reason(row.last_contact, row.created, rules.no_contact_days, today)]
    return tuple(reason for reason in found if reason is not None)


def health_of(lifecycle: str, reasons: Sequence[Reason]) -> Health:
    """churned; good (no reason); watch (one); risk (two or more, or marked at risk)."""
    if lifecycle == "churned":
        return "churned"
    if len(reasons) >= 2 or (reasons and lifecycle == "at_risk"):
        return "risk"
    return "watch" if reasons or lifecycle == "at_risk" else "good"


# -- RFM and repeat business -----------------------------------------------------------------------


def quintile(value: float, ordered: Sequence[float]) -> int:
    """1-5: where ``value`` falls among ``ordered`` (ascending); ties score alike."""
    if not ordered:
        return 1
    below = bisect_left(ordered, value)
    equal = bisect_right(ordered, value) - below
    rank = (below + equal / 2) / len(ordered)  # mid-rank of the ties
    return min(5, 1 + int(rank * 5))


def rfm_scores(rows: Sequence[CustomerRow], today: date) -> dict[str, tuple[int, int, int]]:
    """Recency (days since the last purchase or contact, fewer is better), frequency (won
    deals) and monetary (lifetime value), each 1-5 by quintile among the customers who
    bought; a customer who never bought scores 1-1-1."""
    buyers = [row for row in rows if row.purchases]
    recency = {row.id: _recency(row, today) for row in buyers}
    r_sorted = sorted(-days for days in recency.values())  # fewer days ranks higher
    f_sorted = sorted(float(len(row.purchases)) for row in buyers)
    m_sorted = sorted(float(row.value) for row in buyers)
    scores = {row.id: (1, 1, 1) for row in rows}
    for row in buyers:
        scores[row.id] = (quintile(-recency[row.id], r_sorted), quintile(float(len(row.purchases)), f_sorted),
                          quintile(float(row.value), m_sorted))
    return scores


def _recency(row: CustomerRow, today: date) -> int:
    last = max(day for day in (row.last_purchase, row.last_contact) if day is not None)
    return (today - last).days


def reorder_due(purchases: Sequence[tuple[date, Decimal]], default_days: int) -> date | None:
    """When the next order is expected: the median gap between purchases after the
    last one, or ``default_days`` after a single purchase."""
    if not purchases:
        return None
    days = [day for day, _ in purchases]
    gaps = [(later - earlier).days for earlier, later in pairwise(days) if later > earlier]
    interval = int(statistics.median(gaps)) if gaps else default_days
    return days[-1] + timedelta(days=max(interval, 1))


def reorder_prompts(rows: Iterable[CustomerRow], today: date) -> list[CustomerRow]:
    """Customers whose reorder is due, with no deal open: repeat business to go after,
    the most overdue first."""
    due = [row for row in rows if row.reorder_due is not None and row.reorder_due <= today
           and row.open_deals == 0 and row.lifecycle != "churned"]
    return sorted(due, key=lambda row: row.reorder_due or today)


def typical_order(row: CustomerRow) -> Decimal:
    """A repeat order's likely size: the median of what the customer bought."""
    return Decimal(statistics.median(amount for _, amount in row.purchases)) if row.purchases else Decimal(0)


# -- segments -------------------------------------------------------------------------------------------


def in_segment(row: CustomerRow, segment: SavedSegment, today: date) -> bool:
    def has(part: str, value: str) -> bool:
        return not part or part.casefold() in value.casefold()

    if segment.no_contact_days is not None:
        quiet = row.days_since_contact(today)
        if quiet is not None and quiet < segment.no_contact_days:
            return False
    return (has(segment.industry, row.industry) and has(segment.segment, row.segment)
            and (not segment.tag or segment.tag.casefold() in (t.casefold() for t in row.tags))
            and (segment.lifecycle is None or row.lifecycle == segment.lifecycle)
            and (segment.health is None or row.health == segment.health)
            and (segment.owner is None or row.owner == segment.owner)
            and (segment.min_rfm is None or row.rfm_total >= segment.min_rfm)
            and (not segment.text or segment.text.casefold() in row.search))


# -- the timeline -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    at: str
    kind: str
    text: str
    table: str
    record_id: str


def timeline(customer_id: str, config: Config, *, activities: Iterable[Doc], opportunities: Iterable[Doc],
             tickets: Iterable[Doc], surveys: Iterable[Doc], lead_id: str | None = None) -> list[TimelineEvent]:
    """Everything that happened with a customer, newest first: activities (its lead's too),
    its deals' stage changes and wins, tickets opened and resolved, survey answers."""
    labels = {s.key: s.label for s in config.stages}
    events: list[TimelineEvent] = []
    deals = [d for d in opportunities if d["customer_id"] == customer_id]
    deal_ids = {d["id"] for d in deals}
    for a in activities:
        if a.get("customer_id") == customer_id or (lead_id and a.get("lead_id") == lead_id) \
                or a.get("opportunity_id") in deal_ids:
            kind = str(a["kind"]).replace("_", " ")
            events.append(TimelineEvent(str(a["at"]), kind, f"{kind}: {a.get('subject') or a.get('body', '')[:60]}"
                                        f" ({a.get('owner', '')})", "activities", a["id"]))
    for deal in deals:
        for change in whole_entries(deal.get("stage_history"), StageChange):
            stage = change["stage"]
            if stage == config.won_stage.key:
                text = f"won {deal['title']}: {money(Decimal(deal.get('amount') or 0), deal.get('currency', ''))}"
            else:
                text = f"{deal['title']} → {labels.get(stage, stage)}" + (" (undo)" if change.get("undoes") else "")
            events.append(TimelineEvent(str(change["at"]), "won" if stage == config.won_stage.key else "stage",
                                        f"{text} ({change.get('by', '')})", "opportunities", deal["id"]))
    for ticket in tickets:
        if ticket["customer_id"] == customer_id:
            events.append(TimelineEvent(str(ticket["created_at"]), "ticket",
                                        f"ticket opened: {ticket['title']} ({ticket.get('severity', 'normal')})",
                                        "tickets", ticket["id"]))
            if ticket.get("resolved_at"):
                events.append(TimelineEvent(str(ticket["resolved_at"]), "ticket",
                                            f"ticket resolved: {ticket['title']}", "tickets", ticket["id"]))
    for survey in surveys:
        if survey["customer_id"] == customer_id:
            answer = Answer(_day(survey["at"]) or date.min, survey["kind"], int(survey["score"]))
            comment = f": {survey['comment']}" if survey.get("comment") else ""
            events.append(TimelineEvent(str(survey["at"]), "survey", f"{answer.shown()}{comment}",
                                        "surveys", survey["id"]))
    return sorted(events, key=lambda e: e.at, reverse=True)
