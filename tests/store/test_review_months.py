"""The review's 12-month trends: calendar months ending with the review week's month, the
last one counted to the week's end. Hand-worked on the review's fixture, and properties
against a count made month by month (and week by week for the 12-week trend, which
shares their pass over the tables)."""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from store.activity_log import ActivityDay, ActivityDigest
from store.config import Config
from store.database import Store
from store.models import Activity, Lead, Opportunity
from store.review import Week
from store.review_figures import (
    TREND_MONTHS,
    TREND_WEEKS,
    monthly_trends_by_owner,
    trend_months,
    trend_sum,
    trends_by_owner,
)
from tests.store.test_review import W47, at, docs, history  # noqa: F401  (the hand-built fixture)


def test_the_months_end_with_the_weeks_month_and_cross_the_year() -> None:
    assert trend_months(date(2026, 11, 22)) == ["2025-12", *(f"2026-{m:02d}" for m in range(1, 12))]
    assert trend_months(date(2027, 2, 3), 3) == ["2026-12", "2027-01", "2027-02"]
    assert trend_months(date(2027, 1, 31), 1) == ["2027-01"]


def test_the_fixture_month_by_month(history: Store) -> None:  # noqa: F811
    activities = ActivityDigest(docs(history, Activity)).days()
    parts = monthly_trends_by_owner(W47, history.config, leads=docs(history, Lead),
                                    opportunities=docs(history, Opportunity), activities=activities)
    team = trend_sum(parts.values(), TREND_MONTHS)
    months = trend_months(W47.end)
    by_month = {name: dict(zip(months, values, strict=True)) for name, values in team.items()}
    # L1-L5 in November up to the 22nd; L6 (23 November) is after the week
    assert {m: v for m, v in by_month["new leads"].items() if v} == {"2026-11": 5}
    # D1-D5 in November, D6 in October, D8 in September; D7 (23 November) after the week
    assert {m: v for m, v in by_month["new deals"].items() if v} == {"2026-09": 1, "2026-10": 1, "2026-11": 5}
    # D2 5,000 and D5 1,000 won in November, D8 2,000 in September
    assert {m: v for m, v in by_month["won"].items() if v} == {"2026-09": 2000, "2026-11": 6000}
    # four activities to the 22nd (the call of the 23rd is after the week)
    assert {m: v for m, v in by_month["activities"].items() if v} == {"2026-11": 4}
    assert parts["bo"]["new leads"][-1] == 1 and parts["bo"]["activities"][-1] == 1  # L2 and its call


# -- a property: each month's sum is the records of that month ------------------------------------------------

CONFIG = Config()
START = date(2025, 1, 1)
days_in = st.integers(min_value=0, max_value=800).map(lambda n: START + timedelta(days=n))
owners = st.sampled_from(["ann", "bo", ""])
stages = st.sampled_from(["initial", "quote", "won", "lost"])


def stamp(day: date, hour: int) -> str:
    return f"{day.isoformat()}T{hour:02d}:30:00Z"


records = st.fixed_dictionaries({
    "leads": st.lists(st.tuples(days_in, st.integers(0, 23), owners), max_size=40),
    "deals": st.lists(st.tuples(days_in, days_in, st.integers(0, 23), owners, stages,
                                st.integers(0, 9000)), max_size=40),
    "days": st.lists(st.tuples(days_in, owners, st.integers(1, 5)), max_size=40),
    "week": days_in.map(Week.of),
})


def by_hand(review_end: date, dated: list[tuple[date, str, float]],
            period: Callable[[date], object] = lambda day: day.isoformat()[:7]) -> Counter[tuple[str, object]]:
    """(owner, period) -> the sum of the values dated in that period (by default the month),
    up to the week's end."""
    total: Counter[tuple[str, object]] = Counter()
    for day, owner, value in dated:
        if day <= review_end:
            total[owner, period(day)] += value
    return total


def dated(data: dict[str, Any]) -> dict[str, list[tuple[date, str, float]]]:
    """Each trend figure's records: (their day, owner, value)."""
    return {"new leads": [(day, owner, 1) for day, _, owner in data["leads"]],
            "new deals": [(made, owner, 1) for made, _, _, owner, _, _ in data["deals"]],
            "won": [(closed, owner, amount) for _, closed, _, owner, stage, amount in data["deals"] if stage == "won"],
            "activities": [(day, owner, count) for day, owner, count in data["days"]]}


def documents(data: dict[str, Any]) -> dict[str, Any]:
    leads = [{"id": str(i), "created_at": stamp(day, hour), "owner": owner}
             for i, (day, hour, owner) in enumerate(data["leads"])]
    deals = [{"id": str(i), "created_at": stamp(made, hour), "owner": owner, "stage": stage, "amount": amount,
              **({"closed_at": stamp(closed, hour)} if stage in ("won", "lost") else {})}
             for i, (made, closed, hour, owner, stage, amount) in enumerate(data["deals"])]
    activities = [ActivityDay(owner, f"{day.isoformat()}T00:00:00Z", count, array("q"))
                  for day, owner, count in data["days"]]
    return {"leads": leads, "opportunities": deals, "activities": activities}


@settings(max_examples=150, deadline=None)
@given(records)
def test_each_months_sum_is_the_records_of_that_month(data: dict[str, Any]) -> None:
    week: Week = data["week"]
    parts = monthly_trends_by_owner(week, CONFIG, **documents(data))
    months = trend_months(week.end)
    for name, records in dated(data).items():
        expected = by_hand(week.end, records)
        for owner in ("ann", "bo", ""):
            assert parts[owner][name] == [expected[owner, month] for month in months], (name, owner)
    team = trend_sum(parts.values(), TREND_MONTHS)
    assert sum(team["new leads"]) == sum(1 for day, _, _ in data["leads"]
                                         if months[0] <= day.isoformat()[:7] and day <= week.end)


@settings(max_examples=100, deadline=None)
@given(records)
def test_each_weeks_sum_is_the_records_of_that_week(data: dict[str, Any]) -> None:
    """The weekly trend, which now places a time by a lookup of its day, as it counted before."""
    week: Week = data["week"]
    first = week.step(-(TREND_WEEKS - 1)).start
    parts = trends_by_owner(week, CONFIG, **documents(data))
    for name, records in dated(data).items():
        expected = by_hand(week.end, records, lambda day: (day - first).days // 7)
        for owner in ("ann", "bo", ""):
            assert parts[owner][name] == [expected[owner, index] for index in range(TREND_WEEKS)], (name, owner)
