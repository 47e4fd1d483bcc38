"""The weekly review: what changed in an ISO week, the team's figures and their trend,
the pipeline waterfall, the measured stage probabilities, risks and next week.
Pure functions over stored documents and the config; no I/O, no widgets. The review
tab, the presentation and ``dealdeck review`` all read the same ``Review``.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

from store.activity_log import ActivityDay
from store.config import Config
from store.customers import CustomerRow
from store.models import FieldChange, LeadEvent, StageChange
from store.pipeline import DealRow, forecast, value_of
from store.records import whole_entries

Doc = Mapping[str, Any]
ZERO = Decimal(0)
#: how many weeks the trend lines and the rates look back over
TREND_WEEKS = 12
#: how far back the measured stage probabilities look
MEASURED_MONTHS = 6


# -- weeks ----------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Week:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Week:
        """``2026-W47`` (as in ISO 8601); ValueError with a hint otherwise."""
        try:
            year, number = text.strip().upper().split("-W")
            week = cls(int(year), int(number))
            week.start  # noqa: B018  (raises for a week the year does not have)
        except ValueError:
            raise ValueError(f"{text!r} is not a week like 2026-W47") from None
        return week

    @classmethod
    def of(cls, day: date) -> Week:
        year, number, _ = day.isocalendar()
        return cls(year, number)

    @classmethod
    def last_full(cls, today: date) -> Week:
        """The last week that has ended: the one before this one."""
        return cls.of(today - timedelta(days=7))

    @property
    def start(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def end(self) -> date:
        """The Sunday (inclusive)."""
        return self.start + timedelta(days=6)

    def step(self, weeks: int) -> Week:
        return Week.of(self.start + timedelta(weeks=weeks))

    def __str__(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    def label(self) -> str:
        return f"{self} ({self.start.strftime('%d %b')} – {self.end.strftime('%d %b %Y')})"


_KINDS: dict[int, tuple[Config, dict[str, str]]] = {}


def _kind(config: Config, stage: str) -> str:
    """open, won or lost: a stage that has left the config counts as open (cached per
    config: this runs for every deal in every figure)."""
    cached = _KINDS.get(id(config))
    if cached is None or cached[0] is not config:
        cached = (config, {s.key: s.kind for s in config.stages})
        _KINDS[id(config)] = cached
    return cached[1].get(stage, "open")


def _instant(day: date) -> str:
    """Midnight UTC at the start of ``day``, as stored times compare (ISO text)."""
    return datetime.combine(day, time(0), tzinfo=UTC).isoformat().replace("+00:00", "Z")


def _iso(value: object) -> str:
    """A stored time as comparable text. Stored times are UTC ISO text ending in Z (the
    models write them so), which orders as the times do."""
    return value if isinstance(value, str) else ""


# -- one deal's history -------------------------------------------------------------------------------


def amount_at(doc: Doc, moment: str) -> Decimal:
    """The deal's amount at ``moment`` (ISO time), rebuilt from its tracked changes."""
    changes = sorted((c for c in whole_entries(doc.get("changes"), FieldChange) if c.get("field") == "amount"),
                     key=lambda c: _iso(c["at"]))
    amount = Decimal(doc.get("amount") or 0)
    if not changes:
        return amount
    before = [c for c in changes if _iso(c["at"]) <= moment]
    if before:
        return Decimal(before[-1].get("new") or 0)
    return Decimal(changes[0].get("old") or 0)


def stage_at(doc: Doc, moment: str) -> str | None:
    """The deal's stage at ``moment``; None before it existed."""
    if _iso(doc["created_at"]) > moment:
        return None
    history = sorted(effective_moves(whole_entries(doc.get("stage_history"), StageChange)), key=lambda c: _iso(c["at"]))
    stage = history[0]["stage"] if history else doc["stage"]
    for change in history:
        if _iso(change["at"]) <= moment:
            stage = change["stage"]
    return stage


@dataclass
class Waterfall:
    """Open pipeline from the start of the week to its end; ``start + new + increased
    - decreased - won - lost == end`` holds exactly, by construction."""

    start: Decimal = ZERO
    new: Decimal = ZERO
    increased: Decimal = ZERO
    decreased: Decimal = ZERO
    won: Decimal = ZERO
    lost: Decimal = ZERO
    end: Decimal = ZERO

    def balances(self) -> bool:
        return self.start + self.new + self.increased - self.decreased - self.won - self.lost == self.end


def _events(doc: Doc, since: str, until: str) -> list[tuple[str, str, Any]]:
    """The deal's stage changes and amount changes in [since, until), oldest first."""
    events: list[tuple[str, str, Any]] = []
    created = _iso(doc["created_at"])
    history = sorted(effective_moves(whole_entries(doc.get("stage_history"), StageChange)), key=lambda c: _iso(c["at"]))
    if since <= created < until:
        events.append((created, "stage", history[0]["stage"] if history else doc["stage"]))
    for change in history:
        at = _iso(change["at"])
        if since <= at < until and at > created:
            events.append((at, "stage", change["stage"]))
    for change in whole_entries(doc.get("changes"), FieldChange):
        at = _iso(change["at"])
        if change.get("field") == "amount" and since <= at < until:
            events.append((at, "amount", Decimal(change.get("new") or 0)))
    # At the same moment the amount changes first: a deal won at its final quote is won at that price.
    return sorted(events, key=lambda e: (e[0], e[1] == "stage"))


def add_to_waterfall(fall: Waterfall, doc: Doc, config: Config, since: str, until: str) -> None:
    """Walk one deal through the week: every euro that enters or leaves the open pipeline
    lands in exactly one column."""
    currency = doc.get("currency") or config.currency

    def value(amount: Decimal) -> Decimal:
        return value_of(amount, currency, config) or ZERO

    def is_open(stage: str | None) -> bool:
        return stage is not None and _kind(config, stage) == "open"

    stage, amount = stage_at(doc, since), amount_at(doc, since)
    open_now = is_open(stage) and _iso(doc["created_at"]) < since
    if open_now:
        fall.start += value(amount)
    for _, kind, new in _events(doc, since, until):
        if kind == "amount":
            if open_now:
                difference = value(new) - value(amount)
                if difference > 0:
                    fall.increased += difference
                else:
                    fall.decreased -= difference
            amount = new
            continue
        kind_of = _kind(config, new)
        if not open_now:
            fall.new += value(amount)  # created or reopened: it enters the pipeline
            open_now = True
        if kind_of == "won":
            fall.won += value(amount)
            open_now = False
        elif kind_of == "lost":
            fall.lost += value(amount)
            open_now = False
    if open_now:
        fall.end += value(amount)


# -- what changed in the week ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DealMove:
    id: str
    title: str
    owner: str
    detail: str
    amount: Decimal


@dataclass
class WeekChanges:
    new_leads_by_source: dict[str, int] = field(default_factory=dict)
    new_leads_by_grade: dict[str, int] = field(default_factory=dict)
    converted: int = 0
    disqualified: int = 0
    created: list[DealMove] = field(default_factory=list)
    advanced: list[DealMove] = field(default_factory=list)
    moved_back: list[DealMove] = field(default_factory=list)
    won: list[DealMove] = field(default_factory=list)
    lost: list[DealMove] = field(default_factory=list)
    lost_reasons: dict[str, int] = field(default_factory=dict)
    slipped: list[DealMove] = field(default_factory=list)
    amount_changes: list[DealMove] = field(default_factory=list)
    waterfall: Waterfall = field(default_factory=Waterfall)

    @property
    def new_leads(self) -> int:
        return sum(self.new_leads_by_source.values())

    @property
    def won_amount(self) -> Decimal:
        return sum((m.amount for m in self.won), ZERO)

    @property
    def lost_amount(self) -> Decimal:
        return sum((m.amount for m in self.lost), ZERO)


def _in(value: object, since: str, until: str) -> bool:
    return isinstance(value, str) and since <= value < until


def effective_moves(history: Sequence[Doc]) -> list[Doc]:
    """Stage changes without undone pairs (a move and the undo that took it back)."""
    history = list(history)  # read once (a stored one may be kept encoded)
    undone = {c.get("undoes") for c in history if c.get("undoes")}
    return [c for c in history if c.get("id") not in undone and not c.get("undoes")]


def week_changes(week: Week, config: Config, *, leads: Iterable[Doc], opportunities: Iterable[Doc],
                 owner: str | None = None) -> WeekChanges:
    since, until = _instant(week.start), _instant(week.end + timedelta(days=1))
    result = WeekChanges()
    sources: Counter[str] = Counter()
    grades: Counter[str] = Counter()
    for lead in leads:
        if owner is not None and lead.get("owner") != owner:
            continue
        if _in(lead["created_at"], since, until):
            sources[lead.get("source") or "other"] += 1
            grades[lead.get("grade") or "ungraded"] += 1
        for event in whole_entries(lead.get("history"), LeadEvent):
            if _in(event["at"], since, until):
                if event["kind"] == "converted":
                    result.converted += 1
                elif event["kind"] == "disqualified":
                    result.disqualified += 1
    result.new_leads_by_source = dict(sources.most_common())
    result.new_leads_by_grade = dict(sorted(grades.items()))
    order = {s.key: i for i, s in enumerate(config.stages)}
    labels = {s.key: s.label for s in config.stages}
    reasons: Counter[str] = Counter()
    for doc in opportunities:
        if (owner is not None and doc.get("owner") != owner) or _untouched(doc, since, until):
            continue
        _deal_week(doc, config, since, until, order, labels, result, reasons)
        add_to_waterfall(result.waterfall, doc, config, since, until)
    result.lost_reasons = dict(reasons.most_common())
    return result


def _untouched(doc: Doc, since: str, until: str) -> bool:
    """Made after the week, or closed before it and not moved since: nothing to count."""
    if _iso(doc["created_at"]) >= until:
        return True
    closed = doc.get("closed_at")
    return bool(closed) and _iso(closed) < since and all(
        _iso(c["at"]) < since for c in whole_entries(doc.get("stage_history"), StageChange)) and all(
        _iso(c["at"]) < since for c in whole_entries(doc.get("changes"), FieldChange))


def _deal_week(doc: Doc, config: Config, since: str, until: str, order: Mapping[str, int],
               labels: Mapping[str, str], result: WeekChanges, reasons: Counter[str]) -> None:
    currency = doc.get("currency") or config.currency
    amount = value_of(Decimal(doc.get("amount") or 0), currency, config) or ZERO

    def move(detail: str, value: Decimal = amount) -> DealMove:
        return DealMove(doc["id"], doc["title"], doc.get("owner") or "", detail, value)

    history = sorted(effective_moves(whole_entries(doc.get("stage_history"), StageChange)), key=lambda c: _iso(c["at"]))
    if _in(doc["created_at"], since, until):
        first = history[0]["stage"] if history else doc["stage"]
        result.created.append(move(f"in {labels.get(first, first)}"))
    for before, after in pairwise(history):
        if not _in(after["at"], since, until):
            continue
        kind = _kind(config, after["stage"])
        # Won and lost at the amount of that moment, as the waterfall counts them.
        then = value_of(amount_at(doc, after["at"]), currency, config) or ZERO
        if kind == "won":
            result.won.append(move(f"won from {labels.get(before['stage'], before['stage'])}", then))
        elif kind == "lost":
            reason = doc.get("lost_reason") or "no reason"
            reasons[reason] += 1
            result.lost.append(move(f"lost: {reason}", then))
        elif order.get(after["stage"], 0) > order.get(before["stage"], 0):
            result.advanced.append(move(f"{labels.get(before['stage'], '?')} → {labels.get(after['stage'], '?')}"))
        elif order.get(after["stage"], 0) < order.get(before["stage"], 0):
            result.moved_back.append(move(f"{labels.get(before['stage'], '?')} → {labels.get(after['stage'], '?')}"))
    if len(history) == 1 and _in(history[0]["at"], since, until) \
            and _kind(config, history[0]["stage"]) == "won":
        result.won.append(move("won at once"))
    for change in whole_entries(doc.get("changes"), FieldChange):
        if not _in(change["at"], since, until):
            continue
        old, new = change.get("old"), change.get("new")
        if change.get("field") == "expected_close" and old and new and new > old:
            days = (date.fromisoformat(new) - date.fromisoformat(old)).days
            result.slipped.append(move(f"close {old} → {new} (+{days}d)"))
        elif change.get("field") == "amount" and old is not None and new is not None and old != new:
            difference = Decimal(new) - Decimal(old)
            result.amount_changes.append(move(f"{old} → {new}", difference))


# -- figures ----------------------------------------------------------------------------------------------


@dataclass
class Figures:
    """One rep's (or the team's) numbers for the week and the trailing weeks."""

    who: str
    #: the rep's id (None: the team)
    owner: str | None = None
    activities: int = 0
    leads_followed_up: int = 0
    open_deals: int = 0
    #: of the leads decided (converted or disqualified) in the trailing weeks, the share converted
    lead_conversion: float | None = None
    #: of the deals closed in the trailing weeks, the share won
    win_rate: float | None = None
    #: average days from created to won, for deals won in the trailing weeks
    cycle_days: float | None = None
    average_deal: Decimal | None = None
    pipeline: Decimal = ZERO
    weighted_month: Decimal = ZERO
    weighted_quarter: Decimal = ZERO
    won_month: Decimal = ZERO
    target_month: Decimal = ZERO
    won_quarter: Decimal = ZERO
    target_quarter: Decimal = ZERO
    #: open deals x win rate x average deal / cycle length, per 30 days
    velocity_month: Decimal | None = None
    #: key figures per week, oldest first (TREND_WEEKS weeks ending with the review week)
    trend: dict[str, list[float]] = field(default_factory=dict)


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def figures(week: Week, config: Config, *, who: str, owner: str | None, leads: Sequence[Doc],
            opportunities: Sequence[Doc], activities: Sequence[ActivityDay], deal_rows: Sequence[DealRow],
            trend_series: dict[str, list[float]] | None = None) -> Figures:
    since, until = _instant(week.start), _instant(week.end + timedelta(days=1))
    window = _instant(week.start - timedelta(weeks=TREND_WEEKS - 1))
    # (inline owner tests, not a helper: this loops over every rep's days of activities)
    result = Figures(who=who, owner=owner)
    week_days = [day for day in activities if since <= day.at < until and (owner is None or day.owner == owner)]
    result.activities = sum(day.count for day in week_days)
    result.leads_followed_up = len(set().union(*(day.lead_keys for day in week_days)))
    decided = converted = 0
    for lead in leads:
        if owner is not None and lead.get("owner") != owner:
            continue
        for event in whole_entries(lead.get("history"), LeadEvent):
            if event["kind"] in ("converted", "disqualified") and _in(event["at"], window, until):
                decided += 1
                converted += event["kind"] == "converted"
    result.lead_conversion = _rate(converted, decided)
    won_values, cycles, lost = [], [], 0
    for doc in opportunities:
        if (owner is not None and doc.get("owner") != owner) or not _in(doc.get("closed_at"), window, until):
            continue
        kind = _kind(config, doc["stage"])
        if kind == "won":
            won_values.append(value_of(Decimal(doc.get("amount") or 0), doc.get("currency") or config.currency,
                                       config) or ZERO)
            cycles.append((date.fromisoformat(_iso(doc["closed_at"])[:10])
                           - date.fromisoformat(_iso(doc["created_at"])[:10])).days)
        elif kind == "lost":
            lost += 1
    result.win_rate = _rate(len(won_values), len(won_values) + lost)
    result.cycle_days = statistics.fmean(cycles) if cycles else None
    result.average_deal = (sum(won_values, ZERO) / len(won_values)).quantize(Decimal(1)) if won_values else None
    end_day = week.end
    result.open_deals = sum(1 for r in deal_rows if (owner is None or r.owner == owner)
                            and _kind(config, r.stage) == "open")
    outlook = forecast(deal_rows, config, today=end_day, owner=owner)
    result.pipeline, result.weighted_month, result.weighted_quarter = (
        outlook.pipeline, outlook.weighted_month, outlook.weighted_quarter)
    result.won_month, result.target_month = outlook.won_month, outlook.target_month
    result.won_quarter, result.target_quarter = outlook.won_quarter, outlook.target_quarter
    if result.win_rate and result.average_deal and result.cycle_days:
        per_day = Decimal(result.open_deals) * Decimal(str(result.win_rate)) * result.average_deal / Decimal(
            str(max(result.cycle_days, 1)))
        result.velocity_month = (per_day * 30).quantize(Decimal(1))
    result.trend = trend_series if trend_series is not None else trend(
        week, config, owner=owner, leads=leads, opportunities=opportunities, activities=activities)
    return result


TREND_NAMES = ("new leads", "new deals", "activities", "won")


def trends_by_owner(week: Week, config: Config, *, leads: Iterable[Doc], opportunities: Iterable[Doc],
                    activities: Iterable[ActivityDay]) -> dict[str, dict[str, list[float]]]:
    """New leads, new deals, activities and won amount per week (oldest first), per owner,
    in one pass over each table; ``trend_sum`` adds them up for the team."""
    first = week.step(-(TREND_WEEKS - 1)).start
    low, high = _instant(first), _instant(first + timedelta(weeks=TREND_WEEKS))
    series: dict[str, dict[str, list[float]]] = defaultdict(
        lambda: {name: [0.0] * TREND_WEEKS for name in TREND_NAMES})

    def slot(value: object) -> int | None:
        text = _iso(value)
        if not low <= text < high:
            return None
        return (date.fromisoformat(text[:10]) - first).days // 7

    for lead in leads:
        if (i := slot(lead["created_at"])) is not None:
            series[lead.get("owner") or ""]["new leads"][i] += 1
    won = config.won_stage.key
    for doc in opportunities:
        own = series[doc.get("owner") or ""]
        if (i := slot(doc["created_at"])) is not None:
            own["new deals"][i] += 1
        if doc["stage"] == won and (i := slot(doc.get("closed_at"))) is not None:
            own["won"][i] += float(value_of(Decimal(doc.get("amount") or 0), doc.get("currency") or config.currency,
                                            config) or 0)
    for day in activities:
        if (i := slot(day.at)) is not None:
            series[day.owner]["activities"][i] += day.count
    return series


def trend_sum(parts: Iterable[dict[str, list[float]]]) -> dict[str, list[float]]:
    total = {name: [0.0] * TREND_WEEKS for name in TREND_NAMES}
    for part in parts:
        for name in TREND_NAMES:
            total[name] = [a + b for a, b in zip(total[name], part[name], strict=True)]
    return total


def trend(week: Week, config: Config, *, owner: str | None, leads: Sequence[Doc], opportunities: Sequence[Doc],
          activities: Sequence[ActivityDay]) -> dict[str, list[float]]:
    """One owner's trend (None: the team's)."""
    parts = trends_by_owner(week, config, leads=leads, opportunities=opportunities, activities=activities)
    return trend_sum(parts.values()) if owner is None else trend_sum([parts[owner]])


def measured_probabilities(config: Config, opportunities: Iterable[Doc], today: date,
                           months: int = MEASURED_MONTHS) -> dict[str, float | None]:
    """Per open stage: of the deals that reached it in the last ``months`` and have since
    closed, the share that was won (None: none closed yet)."""
    since = _instant(today - timedelta(days=30 * months))
    reached: dict[str, list[bool]] = defaultdict(list)
    for doc in opportunities:
        kind = _kind(config, doc["stage"])
        if kind == "open":
            continue
        moves = effective_moves(whole_entries(doc.get("stage_history"), StageChange))
        stages = {c["stage"] for c in moves if _iso(c["at"]) >= since}
        for stage in stages:
            reached[stage].append(kind == "won")
    return {s.key: (sum(reached[s.key]) / len(reached[s.key]) if reached[s.key] else None)
            for s in config.open_stages}


@dataclass
class CustomerFigures:
    active: int = 0
    active_at_start: int = 0
    churned: int = 0
    churn_rate: float | None = None
    repeat_rate: float | None = None
    #: new opportunities per calendar month, oldest first: (YYYY-MM, count)
    new_deals_per_month: list[tuple[str, int]] = field(default_factory=list)


def customer_figures(week: Week, config: Config, *, customers: Iterable[Doc], opportunities: Sequence[Doc],
                     owner: str | None) -> CustomerFigures:
    """Active customers at the week's end; churned within the quarter to date and the churn
    rate (churned / active at the quarter's start); repeat-purchase rate; deals a month."""
    end = week.end
    quarter_start = date(end.year, 3 * ((end.month - 1) // 3) + 1, 1)
    result = CustomerFigures()
    for doc in customers:
        if owner is not None and doc.get("owner") != owner:
            continue
        since = doc.get("active_since")
        churned = doc.get("churned_at")
        if since and since <= end.isoformat() and (not churned or churned > end.isoformat()):
            result.active += 1
        if since and since < quarter_start.isoformat() and (not churned or churned >= quarter_start.isoformat()):
            result.active_at_start += 1
        if churned and quarter_start.isoformat() <= churned <= end.isoformat():
            result.churned += 1
    result.churn_rate = _rate(result.churned, result.active_at_start)
    wins: Counter[str] = Counter()
    months: Counter[str] = Counter()
    for doc in opportunities:
        if owner is not None and doc.get("owner") != owner:
            continue
        if _kind(config, doc["stage"]) == "won" and _iso(doc.get("closed_at")) <= _instant(end + timedelta(1)):
            wins[doc["customer_id"]] += 1
        months[_iso(doc["created_at"])[:7]] += 1
    buyers = len(wins)
    result.repeat_rate = _rate(sum(1 for n in wins.values() if n >= 2), buyers)
    keys = []
    first = end.replace(day=1)
    for back in range(5, -1, -1):
        year, month = first.year, first.month - back
        while month < 1:
            month += 12
            year -= 1
        keys.append(f"{year}-{month:02d}")
    result.new_deals_per_month = [(key, months.get(key, 0)) for key in keys]
    return result


# -- risks and next week -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """A line in a list of the review that opens its record."""

    table: str
    record_id: str
    title: str
    detail: str
    owner: str


@dataclass
class Outlook:
    stale_deals: list[Item] = field(default_factory=list)
    slipped_deals: list[Item] = field(default_factory=list)
    at_risk_customers: list[Item] = field(default_factory=list)
    overdue_follow_ups: list[Item] = field(default_factory=list)
    closing_next_week: list[Item] = field(default_factory=list)
    revisits_next_week: list[Item] = field(default_factory=list)


def outlook(week: Week, config: Config, *, deal_rows: Iterable[DealRow], customer_rows: Iterable[CustomerRow],
            leads: Iterable[Doc], owner: str | None) -> Outlook:
    """Risks as of the week's end, and what the next week holds."""
    result = Outlook()
    next_week = week.step(1)
    mine = (lambda who: who == owner) if owner is not None else (lambda who: True)
    for row in deal_rows:
        if not mine(row.owner) or _kind(config, row.stage) != "open":
            continue
        for risk in row.risks:
            if risk.kind in ("stale", "stuck"):
                result.stale_deals.append(Item("opportunities", row.id, row.title, risk.reason, row.owner))
                break
        slipped = next((r for r in row.risks if r.kind == "slipped"), None)
        if slipped:
            result.slipped_deals.append(Item("opportunities", row.id, row.title, slipped.reason, row.owner))
        if row.expected_close and next_week.start <= row.expected_close <= next_week.end:
            result.closing_next_week.append(Item("opportunities", row.id, row.title,
                                                 f"{row.expected_close.isoformat()} · {row.amount:,.0f}", row.owner))
    for customer in customer_rows:
        if not mine(customer.owner):
            continue
        if customer.health == "risk" or (customer.health == "watch" and customer.reasons):
            reason = customer.reasons[0].text if customer.reasons else customer.lifecycle
            result.at_risk_customers.append(Item("customers", customer.id, customer.name, reason, customer.owner))
        if customer.next_revisit and next_week.start <= customer.next_revisit <= next_week.end:
            result.revisits_next_week.append(Item("customers", customer.id, customer.name,
                                                  customer.next_revisit.isoformat(), customer.owner))
    for lead in leads:
        due = lead.get("next_follow_up")
        if (mine(lead.get("owner")) and due and due <= week.end.isoformat()
                and lead.get("status") in ("new", "contacted", "qualified") and not lead.get("in_pool")):
            result.overdue_follow_ups.append(Item("leads", lead["id"], str(lead["name"]), f"due {due}",
                                                  lead.get("owner") or ""))
    result.at_risk_customers.sort(key=lambda i: i.title)
    for dated in (result.overdue_follow_ups, result.closing_next_week, result.revisits_next_week):
        dated.sort(key=lambda i: i.detail)  # each detail starts with its ISO date
    return result


# -- the whole review -----------------------------------------------------------------------------------------


@dataclass
class Review:
    week: Week
    who: str
    changes: WeekChanges
    team: Figures
    reps: list[Figures]
    customers: CustomerFigures
    measured: dict[str, float | None]
    outlook: Outlook
    #: the open stages as configured: key, label, probability (beside the measured ones)
    stages: list[tuple[str, str, int]] = field(default_factory=list)
    #: the team's currency, which every amount is in
    currency: str = ""


def build_review(week: Week, config: Config, *, owner: str | None, leads: Sequence[Doc],
                 opportunities: Sequence[Doc], activities: Sequence[ActivityDay], customers: Sequence[Doc],
                 deal_rows: Sequence[DealRow], customer_rows: Sequence[CustomerRow]) -> Review:
    """Everything the review shows, for the team (``owner`` None) or one rep."""
    names = {r.id: r.name for r in config.reps}
    who = "team" if owner is None else names.get(owner, owner)
    # Each rep's figures read only that rep's documents: one pass to sort them out.
    by_owner: dict[str, dict[str, list[Any]]] = defaultdict(lambda: {"leads": [], "opportunities": [],
                                                                     "activities": []})
    for name, docs in (("leads", leads), ("opportunities", opportunities)):
        for doc in docs:
            by_owner[doc.get("owner") or ""][name].append(doc)
    for day in activities:
        by_owner[day.owner]["activities"].append(day)
    trends = trends_by_owner(week, config, leads=leads, opportunities=opportunities, activities=activities)
    reps = []
    for rep in config.reps:
        if owner is None or rep.id == owner:
            own = by_owner[rep.id]
            reps.append(figures(week, config, who=names[rep.id], owner=rep.id, leads=own["leads"],
                                opportunities=own["opportunities"], activities=own["activities"],
                                deal_rows=[r for r in deal_rows if r.owner == rep.id],
                                trend_series=trend_sum([trends[rep.id]])))
    if owner is None:
        team = figures(week, config, who=who, owner=None, leads=leads, opportunities=opportunities,
                       activities=activities, deal_rows=deal_rows, trend_series=trend_sum(trends.values()))
    else:
        team = reps[0] if reps else figures(week, config, who=who, owner=owner, leads=[], opportunities=[],
                                            activities=[], deal_rows=[])
    return Review(
        week=week, who=who,
        changes=week_changes(week, config, leads=leads, opportunities=opportunities, owner=owner),
        team=team, reps=reps,
        customers=customer_figures(week, config, customers=customers, opportunities=opportunities, owner=owner),
        measured=measured_probabilities(config, opportunities, week.end),
        outlook=outlook(week, config, deal_rows=deal_rows, customer_rows=customer_rows, leads=leads, owner=owner),
        stages=[(s.key, s.label, s.probability) for s in config.open_stages], currency=config.currency)
