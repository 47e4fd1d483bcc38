"""The opportunity pipeline as numbers: board rows, risk rules, column totals,
the forecast and the time spent in each stage. Pure functions over stored
documents and the config; no I/O, no widgets.

The board works on ``DealRow``s built straight from documents: a pydantic model
per opportunity would cost ~15 us each, and the board must open at once with
tens of thousands of deals in the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from store.config import Config, ForecastCategory, Stage
from store.dates import stored_day
from store.funnel import period_start
from store.models import FieldChange, StageChange
from store.records import whole_entries

Doc = Mapping[str, Any]
RiskKind = Literal["stale", "stuck", "slipped", "no_next_step", "amount_dropped", "flagged"]
RISK_KINDS: tuple[RiskKind, ...] = ("stale", "stuck", "slipped", "no_next_step", "amount_dropped", "flagged")
FORECAST_CATEGORIES: tuple[ForecastCategory, ...] = ("commit", "best_case", "pipeline", "omitted")
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Risk:
    kind: RiskKind
    #: why, in words a rep acts on: "no activity for 19d (limit 14d)"
    reason: str
    #: the same in a few characters, for narrow cards: "idle 19d"
    short: str


# -- the risk rules (each one alone, so each can be tested at its edges) -------------------


def stale_risk(stage: Stage, last_touch: date, today: date) -> Risk | None:
    """No activity (nor a stage move) for more than the stage's ``stale_days``."""
    idle = (today - last_touch).days
    if idle > stage.stale_days:
        return Risk("stale", f"no activity for {idle}d (limit {stage.stale_days}d)", f"idle {idle}d")
    return None


def stuck_risk(stage: Stage, entered: date, today: date) -> Risk | None:
    """In the current stage for more than its ``stuck_days``."""
    days = (today - entered).days
    if days > stage.stuck_days:
        return Risk("stuck", f"{days}d in {stage.label} (limit {stage.stuck_days}d)", f"stuck {days}d")
    return None


def slipped_risk(expected_close: date | None, close_changes: Sequence[Doc], today: date,
                 recent_days: int) -> Risk | None:
    """The expected close date has passed, or was moved later in the last ``recent_days``."""
    if expected_close is not None and expected_close < today:
        late = (today - expected_close).days
        return Risk("slipped", f"close date {expected_close.isoformat()} has passed", f"late {late}d")
    since = (today - timedelta(days=recent_days)).isoformat()
    for change in sorted(close_changes, key=lambda c: str(c["at"]), reverse=True):
        if str(change["at"])[:10] < since:
            break
        old, new = change.get("old"), change.get("new")
        if old and new and new > old:
            pushed = (date.fromisoformat(new) - date.fromisoformat(old)).days
            return Risk("slipped", f"close moved {old} → {new} (+{pushed}d)", f"pushed +{pushed}d")
    return None


def no_next_step_risk(next_step: str) -> Risk | None:
    return None if next_step.strip() else Risk("no_next_step", "no next step", "no next step")


def amount_dropped_risk(amount_changes: Sequence[Doc], today: date, recent_days: int) -> Risk | None:
    """The amount is lower than it was ``recent_days`` ago."""
    since = (today - timedelta(days=recent_days)).isoformat()
    recent = sorted((c for c in amount_changes if str(c["at"])[:10] >= since), key=lambda c: str(c["at"]))
    if not recent or recent[0].get("old") is None or recent[-1].get("new") is None:
        return None
    before, now = Decimal(recent[0]["old"]), Decimal(recent[-1]["new"])
    if now < before:
        return Risk("amount_dropped", f"amount down {money(before)} → {money(now)}",
                    f"amount -{short_money(before - now)}")
    return None


def deal_risks(doc: Doc, stage: Stage, *, entered: date, last_touch: date, today: date,
               recent_days: int) -> tuple[Risk, ...]:
    """Every risk of an open deal, in a fixed order; a closed deal has none."""
    if stage.kind != "open":
        return ()
    changes = whole_entries(doc.get("changes"), FieldChange)
    expected = doc.get("expected_close")
    found = (
        stale_risk(stage, last_touch, today),
        stuck_risk(stage, entered, today),
        slipped_risk(date.fromisoformat(expected) if expected else None,
                     [c for c in changes if c.get("field") == "expected_close"], today, recent_days),
        no_next_step_risk(doc.get("next_step") or ""),
        amount_dropped_risk([c for c in changes if c.get("field") == "amount"], today, recent_days),
        Risk("flagged", f"flagged by a rule: {doc['flag']}", "flagged") if doc.get("flag") else None,
    )
    return tuple(risk for risk in found if risk is not None)


# -- rows ------------------------------------------------------------------------------------


@dataclass(slots=True)
class DealRow:
    """One opportunity as the board and its list show it."""

    id: str
    title: str
    customer_id: str
    customer: str
    owner: str
    stage: str
    amount: Decimal
    currency: str
    #: the amount in the team's currency (None: no rate for ``currency``)
    value: Decimal | None
    expected_close: date | None
    entered: date
    created: date
    closed: date | None
    next_step: str
    forecast: ForecastCategory
    last_touch: date
    risks: tuple[Risk, ...]
    #: lower-cased title, customer, owner and next step, for filter-as-you-type
    search: str

    def days_in_stage(self, today: date) -> int:
        return (today - self.entered).days

    @property
    def at_risk(self) -> bool:
        return bool(self.risks)

    def close_month(self) -> str:
        return self.expected_close.isoformat()[:7] if self.expected_close else ""


def stage_of(config: Config, key: str) -> Stage:
    """The configured stage, or a stand-in for one that has left the config since."""
    try:
        return config.stage(key)
    except KeyError:
        return Stage(key="unknown", label=key[:40] or "?", probability=0)


def entered_stage(doc: Doc) -> str:
    """When (ISO time) the deal last entered its current stage: a deal moved back
    to a stage it was in before counts from its return, and an undone move never
    happened (the stay it interrupted goes on)."""
    effective: list[Doc] = []
    for change in sorted(whole_entries(doc.get("stage_history"), StageChange), key=lambda c: str(c["at"])):
        if change.get("undoes") and effective and effective[-1]["id"] == change["undoes"]:
            effective.pop()
        else:
            effective.append(change)
    stage = doc.get("stage")
    # The stay in the current stage began at the first of the latest run of entries
    # for it (moving to a stage it is already in is not a new stay).
    entered = ""
    for change in reversed(effective):
        if change.get("stage") != stage:
            break
        entered = str(change["at"])
    return entered or str(doc["created_at"])


def last_activity_dates(activities: Iterable[Doc]) -> dict[str, date]:
    """The day of the latest activity logged on each opportunity."""
    latest: dict[str, str] = {}
    for activity in activities:
        opportunity = activity.get("opportunity_id")
        if opportunity:
            at = str(activity["at"])[:10]
            if at > latest.get(opportunity, ""):
                latest[opportunity] = at
    return {key: date.fromisoformat(day) for key, day in latest.items()}


def value_of(amount: Decimal, currency: str, config: Config) -> Decimal | None:
    if currency == config.currency:
        return amount
    rate = config.rates.get(currency)
    return None if rate is None else (amount * rate).quantize(Decimal("0.01"))


def deal_row(doc: Doc, config: Config, *, customers: Mapping[str, str],
             last_activity: Mapping[str, date], today: date) -> DealRow:
    stage = stage_of(config, doc["stage"])
    entered = stored_day(entered_stage(doc))
    touched = last_activity.get(doc["id"])
    # A stage move is a touch too: a deal moved yesterday is not idle.
    last_touch = max(touched, entered) if touched else entered
    amount = Decimal(doc.get("amount") or 0)
    currency = doc.get("currency") or config.currency
    expected, closed = doc.get("expected_close"), doc.get("closed_at")
    title, customer = doc["title"], customers.get(doc["customer_id"], "")
    owner, next_step = doc.get("owner") or "", doc.get("next_step") or ""
    return DealRow(
        id=doc["id"], title=title, customer_id=doc["customer_id"], customer=customer, owner=owner,
        stage=doc["stage"], amount=amount, currency=currency, value=value_of(amount, currency, config),
        expected_close=stored_day(expected) if expected else None, entered=entered,
        created=stored_day(str(doc["created_at"])),
        closed=stored_day(str(closed)) if closed else None, next_step=next_step,
        forecast=doc.get("forecast_category") or stage.forecast, last_touch=last_touch,
        risks=deal_risks(doc, stage, entered=entered, last_touch=last_touch, today=today,
                         recent_days=config.risk.recent_days),
        search="\x00".join((title, customer, owner, next_step)).casefold(),
    )


def deal_rows(docs: Iterable[Doc], config: Config, *, customers: Mapping[str, str],
              last_activity: Mapping[str, date], today: date) -> list[DealRow]:
    return [deal_row(doc, config, customers=customers, last_activity=last_activity, today=today)
            for doc in docs]


# -- sums ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnTotal:
    count: int = 0
    amount: Decimal = ZERO
    weighted: Decimal = ZERO


def weighted(value: Decimal, stage: Stage) -> Decimal:
    return (value * stage.probability / 100).quantize(Decimal("0.01"))


def column_totals(rows: Iterable[DealRow], config: Config) -> dict[str, ColumnTotal]:
    """Per stage: count, total and weighted amount (amount x stage probability), in the
    team's currency; a deal in a currency without a rate counts but adds no money."""
    counts = {s.key: 0 for s in config.stages}
    amounts = {s.key: ZERO for s in config.stages}
    for row in rows:
        if row.stage in counts:
            counts[row.stage] += 1
            if row.value is not None:
                amounts[row.stage] += row.value
    return {s.key: ColumnTotal(counts[s.key], amounts[s.key], weighted(amounts[s.key], s))
            for s in config.stages}


@dataclass(frozen=True)
class Forecast:
    """The forecast strip for one owner (or the team), in the team's currency.

    ``commit`` and ``best_case`` roll up the way forecast tools do: commit is what
    is won plus the open deals forecast as commit; best case adds the best-case deals.
    """

    pipeline: Decimal
    weighted_month: Decimal
    weighted_quarter: Decimal
    won_month: Decimal
    won_quarter: Decimal
    commit_quarter: Decimal
    best_case_quarter: Decimal
    target_month: Decimal
    target_quarter: Decimal
    #: open pipeline closing by the quarter's end over what is left of its target
    coverage: float | None
    #: open and won deals in a currency with no rate, per currency: in none of the sums
    without_rate: dict[str, int] = field(default_factory=dict)

    @property
    def gap_month(self) -> Decimal:
        return max(self.target_month - self.won_month, ZERO)

    @property
    def gap_quarter(self) -> Decimal:
        return max(self.target_quarter - self.won_quarter, ZERO)


def quarter_end(today: date) -> date:
    start = period_start("quarter", today)
    assert start is not None
    return date(start.year + (start.month + 3 > 12), (start.month + 2) % 12 + 1, 1) - timedelta(days=1)


def month_end(today: date) -> date:
    return date(today.year + (today.month == 12), today.month % 12 + 1, 1) - timedelta(days=1)


def forecast(rows: Iterable[DealRow], config: Config, *, today: date, owner: str | None) -> Forecast:
    """Pipeline, weighted forecast, won so far and the gap to target. Open deals whose
    close date has passed still count in this period: they are late, not gone."""
    month_start, quarter_start = today.replace(day=1), period_start("quarter", today)
    assert quarter_start is not None
    month_last, quarter_last = month_end(today), quarter_end(today)
    kinds = {s.key: s for s in config.stages}
    sums = dict.fromkeys(("pipeline", "won_m", "won_q", "commit", "best", "open_q"), ZERO)
    # Weighted sums per stage, weighted once at the end (one rounding, and fast).
    month_by_stage = dict.fromkeys(kinds, ZERO)
    quarter_by_stage = dict.fromkeys(kinds, ZERO)
    unpriced: dict[str, int] = {}
    for row in rows:
        stage = kinds.get(row.stage)
        if stage is None or row.value is None or (owner is not None and row.owner != owner):
            if row.value is None and stage is not None and stage.kind != "lost" and (
                    owner is None or row.owner == owner):
                unpriced[row.currency] = unpriced.get(row.currency, 0) + 1
            continue
        if stage.kind == "won" and row.closed is not None:
            if row.closed >= quarter_start:
                sums["won_q"] += row.value
                if row.closed >= month_start:
                    sums["won_m"] += row.value
        elif stage.kind == "open":
            sums["pipeline"] += row.value
            closing = row.expected_close
            if closing is None or closing > quarter_last:
                continue
            sums["open_q"] += row.value
            quarter_by_stage[row.stage] += row.value
            if closing <= month_last:
                month_by_stage[row.stage] += row.value
            if row.forecast == "commit":
                sums["commit"] += row.value
            elif row.forecast == "best_case":
                sums["best"] += row.value
    sums["wm"] = sum((weighted(v, kinds[k]) for k, v in month_by_stage.items()), ZERO)
    sums["wq"] = sum((weighted(v, kinds[k]) for k, v in quarter_by_stage.items()), ZERO)
    monthly = sum((r.monthly_target for r in config.reps if owner is None or r.id == owner), ZERO)
    target_q = monthly * 3
    remaining = target_q - sums["won_q"]
    commit = sums["won_q"] + sums["commit"]
    return Forecast(
        pipeline=sums["pipeline"], weighted_month=sums["wm"], weighted_quarter=sums["wq"],
        won_month=sums["won_m"], won_quarter=sums["won_q"], commit_quarter=commit,
        best_case_quarter=commit + sums["best"], target_month=monthly, target_quarter=target_q,
        coverage=float(sums["open_q"] / remaining) if remaining > 0 else None,
        without_rate=dict(sorted(unpriced.items())))


# -- stage history ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StageSpan:
    """One stay in a stage: from when it entered to when it left (None: still there)."""

    stage: str
    entered: datetime
    left: datetime | None
    by: str
    #: the move that put the deal here undid an earlier move
    undo: bool
    #: for an undo, when the stay it resumes began: an undone move never happened, so
    #: the deal has been in this stage since then (as the board's days in stage count)
    since: datetime | None = None

    def days(self, today: date) -> int:
        """Calendar days from entering (or, after an undo, from the stay it resumes) to
        leaving (or to ``today``)."""
        return ((self.left.date() if self.left else today) - (self.since or self.entered).date()).days


def stage_spans(history: Sequence[Any]) -> list[StageSpan]:
    """The stage history (StageChange models) as consecutive stays, oldest first; the
    last one has no end."""
    ordered = sorted(history, key=lambda change: change.at)
    spans: list[StageSpan] = []
    for index, change in enumerate(ordered):
        left = ordered[index + 1].at if index + 1 < len(ordered) else None
        since = None
        undone = next((i for i, c in enumerate(ordered[:index]) if c.id == change.undoes), None) \
            if change.undoes else None
        if undone:  # back to the stay the undone move interrupted: it goes on from its start
            before = spans[undone - 1]
            if before.stage == change.stage:
                since = before.since or before.entered
        spans.append(StageSpan(change.stage, change.at, left, change.by, bool(change.undoes), since))
    return spans


def money(value: Decimal | None, currency: str = "") -> str:
    """Whole units with thousands separators: 12,500 (cents do not help a board)."""
    if value is None:
        return "?"
    text = f"{value:,.0f}"
    return f"{text} {currency}".strip()


def short_money(value: Decimal) -> str:
    """Compact amounts for narrow columns: 950, 12.5k, 3.2M."""
    amount = float(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(amount) >= limit:
            shown = f"{amount / limit:.1f}".removesuffix(".0")
            return f"{shown}{suffix}"
    return f"{amount:.0f}"
