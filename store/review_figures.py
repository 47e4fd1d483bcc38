"""The weekly review's figures, per rep and for the team, as of the week's end; their
12-week and 12-month trends; measured stage probabilities; customer figures. Pure
functions; no I/O."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from store.activity_log import ActivityDay
from store.config import Config
from store.models import LeadEvent, StageChange
from store.pipeline import DealRow, forecast, value_of
from store.records import whole_entries
from store.review_asof import rows_as_of
from store.review_week import Week, _in, _instant, _iso, _kind, effective_moves

Doc = Mapping[str, Any]
ZERO = Decimal(0)
#: how many weeks the trend lines and the rates look back over
TREND_WEEKS = 12
#: how many calendar months the monthly trend lines cover
TREND_MONTHS = 12
#: how far back the measured stage probabilities look
MEASURED_MONTHS = 6


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
    #: of the open deals, those in a stage the team's settings no longer have
    retired_stage_deals: int = 0
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
    #: the same figures per calendar month, oldest first (TREND_MONTHS months ending with the
    #: review week's month, that one to the week's end: ``monthly_trends_by_owner``)
    monthly_trend: dict[str, list[float]] = field(default_factory=dict)
    #: open and won deals in a currency with no rate, per currency: in none of the sums above
    without_rate: dict[str, int] = field(default_factory=dict)


def _lead_decisions(leads: Iterable[Doc], owner: str | None, window: str, until: str) -> tuple[int, int]:
    decided = converted = 0
    for lead in leads:
        if owner is not None and lead.get("owner") != owner:
            continue
        for event in whole_entries(lead.get("history"), LeadEvent):
            if event["kind"] in ("converted", "disqualified") and _in(event["at"], window, until):
                decided += 1
                converted += event["kind"] == "converted"
    return decided, converted


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def figures(week: Week, config: Config, *, who: str, owner: str | None, leads: Sequence[Doc],
            opportunities: Sequence[Doc], activities: Sequence[ActivityDay], deal_rows: Sequence[DealRow],
            trend_series: dict[str, list[float]] | None = None,
            lead_decisions: tuple[int, int] | None = None, rows_then: Sequence[DealRow] | None = None) -> Figures:
    """``lead_decisions``: (decided, converted) over the rates' window, counted already
    (``review_leads``: a lead's history is read from its file); ``rows_then``: the owner's
    deal rows at the week's end (``rows_as_of``), made already for the team."""
    since, until = _instant(week.start), _instant(week.end + timedelta(days=1))
    window = _instant(week.start - timedelta(weeks=TREND_WEEKS - 1))
    # (inline owner tests, not a helper: this loops over every rep's days of activities)
    result = Figures(who=who, owner=owner)
    week_days = [day for day in activities if since <= day.at < until and (owner is None or day.owner == owner)]
    result.activities = sum(day.count for day in week_days)
    result.leads_followed_up = len(set().union(*(day.lead_keys for day in week_days)))
    decided, converted = lead_decisions if lead_decisions is not None else _lead_decisions(leads, owner, window,
                                                                                          until)
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
    # As the deals stood at the week's end, as the waterfall's end counts them.
    then = rows_then if rows_then is not None else rows_as_of(week, config, opportunities, deal_rows, owner)
    result.open_deals = sum(1 for r in then if _kind(config, r.stage) == "open")
    known = set(config.stage_keys)
    result.retired_stage_deals = sum(1 for r in then if r.stage not in known)
    outlook = forecast(then, config, today=end_day, owner=owner)
    result.pipeline, result.weighted_month, result.weighted_quarter = (
        outlook.pipeline, outlook.weighted_month, outlook.weighted_quarter)
    result.won_month, result.target_month = outlook.won_month, outlook.target_month
    result.won_quarter, result.target_quarter = outlook.won_quarter, outlook.target_quarter
    result.without_rate = outlook.without_rate
    if result.win_rate and result.average_deal and result.cycle_days:
        per_day = Decimal(result.open_deals) * Decimal(str(result.win_rate)) * result.average_deal / Decimal(
            str(max(result.cycle_days, 1)))
        result.velocity_month = (per_day * 30).quantize(Decimal(1))
    result.trend = trend_series if trend_series is not None else trend(
        week, config, owner=owner, leads=leads, opportunities=opportunities, activities=activities)
    return result


TREND_NAMES = ("new leads", "new deals", "activities", "won")


Series = dict[str, list[float]]


def trends_by_owner(week: Week, config: Config, *, leads: Iterable[Doc], opportunities: Iterable[Doc],
                    activities: Iterable[ActivityDay]) -> dict[str, Series]:
    """New leads, new deals, activities and won amount per week (oldest first), per owner,
    in one pass over each table; ``trend_sum`` adds them up for the team."""
    first = week.step(-(TREND_WEEKS - 1)).start
    weeks = {(first + timedelta(days=n)).isoformat(): n // 7 for n in range(7 * TREND_WEEKS)}
    return _series_by_owner(weeks, TREND_WEEKS, week, config, leads=leads, opportunities=opportunities,
                            activities=activities)


def trend_months(end: date, count: int = TREND_MONTHS) -> list[str]:
    """The ``count`` calendar months up to ``end``'s, oldest first, as YYYY-MM."""
    last = end.year * 12 + end.month - 1
    return [f"{index // 12}-{index % 12 + 1:02d}" for index in range(last - count + 1, last + 1)]


def monthly_trends_by_owner(week: Week, config: Config, *, leads: Iterable[Doc], opportunities: Iterable[Doc],
                            activities: Iterable[ActivityDay]) -> dict[str, Series]:
    """``trends_by_owner``'s figures per calendar month (``trend_months`` of the week's end),
    the last month counted to the week's end as every figure of the review is."""
    months = {month: index for index, month in enumerate(trend_months(week.end))}
    return _series_by_owner(months, TREND_MONTHS, week, config, leads=leads, opportunities=opportunities,
                            activities=activities)


def _series_by_owner(periods: Mapping[str, int], size: int, week: Week, config: Config, *, leads: Iterable[Doc],
                     opportunities: Iterable[Doc], activities: Iterable[ActivityDay]) -> dict[str, Series]:
    """Each trend figure per owner in ``size`` periods up to the week's end, in one pass over
    each table. ``periods``: each period's index by the start of a stored time (UTC ISO
    text: a day's 10 characters, a month's 7), looked up rather than computed (50k leads)."""
    width, until = len(next(iter(periods))), _instant(week.end + timedelta(days=1))
    series: dict[str, Series] = defaultdict(lambda: {name: [0.0] * size for name in TREND_NAMES})

    def slot(value: object) -> int | None:
        return periods.get(value[:width]) if isinstance(value, str) and value < until else None

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


def trend_sum(parts: Iterable[Series], size: int = TREND_WEEKS) -> Series:
    total = {name: [0.0] * size for name in TREND_NAMES}
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
    result.new_deals_per_month = [(key, months.get(key, 0)) for key in trend_months(end, 6)]
    return result
