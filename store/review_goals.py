"""The three figures a team adopts a CRM to move (new opportunities a month, win rate,
customer churn), this quarter to date against the same span just before it: pure, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from store.config import Config
from store.records import Doc
from store.review_week import Week, _iso, _kind

#: days in an average month, for "a month" over a span of days
MONTH_DAYS = 30.44


@dataclass(frozen=True)
class Goal:
    """One figure now and before; ``better``: the way it should move."""

    name: str
    now: float | None
    before: float | None
    better: Literal["up", "down"]
    unit: Literal["count", "rate"]

    @property
    def change(self) -> float | None:
        """Now against before, as a share of before (None when before is zero or unknown)."""
        if self.now is None or not self.before:
            return None
        return (self.now - self.before) / self.before

    @property
    def improved(self) -> bool | None:
        change = self.change
        if change is None or change == 0:
            return None
        return (change > 0) == (self.better == "up")


def periods(week: Week) -> tuple[tuple[date, date], tuple[date, date]]:
    """This quarter from its first day to the week's end, and the same number of days
    just before it (both ends included)."""
    end = week.end
    start = date(end.year, 3 * ((end.month - 1) // 3) + 1, 1)
    span = (end - start).days + 1
    return (start, end), (start - timedelta(days=span), start - timedelta(days=1))


def _in(value: object, span: tuple[date, date]) -> bool:
    text = _iso(value)[:10]
    return bool(text) and span[0].isoformat() <= text <= span[1].isoformat()


def _new_a_month(opportunities: Sequence[Doc], span: tuple[date, date]) -> float:
    days = (span[1] - span[0]).days + 1
    return sum(1 for doc in opportunities if _in(doc.get("created_at"), span)) / days * MONTH_DAYS


def _win_rate(opportunities: Sequence[Doc], config: Config, span: tuple[date, date]) -> float | None:
    kinds = [_kind(config, doc["stage"]) for doc in opportunities if _in(doc.get("closed_at"), span)]
    won, lost = kinds.count("won"), kinds.count("lost")
    return won / (won + lost) if won + lost else None


def _churn(customers: Iterable[Doc], span: tuple[date, date]) -> float | None:
    """Churned within the span, of those active at its start."""
    first = span[0].isoformat()
    active = churned = 0
    for doc in customers:
        since, gone = doc.get("active_since"), doc.get("churned_at")
        if since and since < first and (not gone or gone >= first):
            active += 1
            churned += bool(gone and _in(gone, span))
    return churned / active if active else None


def goal_figures(week: Week, config: Config, *, opportunities: Sequence[Doc], customers: Sequence[Doc],
                 owner: str | None) -> list[Goal]:
    """The three figures for the team (``owner`` None) or one rep."""
    deals = [doc for doc in opportunities if owner is None or doc.get("owner") == owner]
    accounts = [doc for doc in customers if owner is None or doc.get("owner") == owner]
    now, before = periods(week)
    return [
        Goal("New opportunities a month", _new_a_month(deals, now), _new_a_month(deals, before), "up", "count"),
        Goal("Win rate", _win_rate(deals, config, now), _win_rate(deals, config, before), "up", "rate"),
        Goal("Customer churn", _churn(accounts, now), _churn(accounts, before), "down", "rate"),
    ]
