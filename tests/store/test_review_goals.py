"""The three figures a team adopts a CRM to move (``store.review_goals``): this quarter to
date against the same number of days just before it."""

from __future__ import annotations

from datetime import date

from store.config import Config
from store.review import Week
from store.review_goals import goal_figures, periods

WEEK = Week(2026, 47)  # ends Sunday 2026-11-22: the quarter so far is 1 Oct - 22 Nov, 53 days


def deal(created: str, stage: str = "initial", closed: str | None = None, owner: str = "me") -> dict[str, object]:
    return {"id": created + stage, "owner": owner, "stage": stage, "created_at": created + "T09:00:00Z",
            **({"closed_at": closed + "T09:00:00Z"} if closed else {})}


def customer(since: str, churned: str | None = None) -> dict[str, object]:
    return {"id": since + str(churned), "owner": "me", "active_since": since,
            **({"churned_at": churned} if churned else {})}


def test_the_spans_are_this_quarter_so_far_and_as_many_days_before() -> None:
    now, before = periods(WEEK)
    assert now == (date(2026, 10, 1), date(2026, 11, 22))
    assert before == (date(2026, 8, 9), date(2026, 9, 30)) and (before[1] - before[0]) == (now[1] - now[0])


def test_new_opportunities_win_rate_and_churn_now_and_before() -> None:
    deals = ([deal("2026-10-05") for _ in range(6)] + [deal("2026-09-01") for _ in range(3)]
             + [deal("2026-08-01")]  # before both spans: in neither
             + [deal("2026-06-01", "won", "2026-10-10"), deal("2026-06-01", "won", "2026-11-01"),
                deal("2026-06-01", "lost", "2026-11-02"),  # now: 2 of 3 won
                deal("2026-06-01", "won", "2026-09-10"), deal("2026-06-01", "lost", "2026-09-11"),
                deal("2026-06-01", "lost", "2026-08-20"), deal("2026-06-01", "lost", "2026-08-21")]  # before: 1 of 4
             + [deal("2026-10-06", owner="bo")])
    customers = ([customer("2026-01-01") for _ in range(8)] + [customer("2026-01-01", "2026-10-15")]
                 + [customer("2026-01-01", "2026-09-01"), customer("2026-01-01", "2026-08-15")]
                 + [customer("2026-10-02")])  # active since the quarter began: not at its start
    goals = {g.name: g for g in goal_figures(WEEK, Config(), opportunities=deals, customers=customers, owner="me")}
    new = goals["New opportunities a month"]
    assert round(new.now, 3) == round(6 / 53 * 30.44, 3) and round(new.before, 3) == round(3 / 53 * 30.44, 3)
    assert new.improved is True and round(new.change, 6) == 1.0  # twice as many
    win = goals["Win rate"]
    assert (round(win.now, 4), win.before) == (round(2 / 3, 4), 0.25) and win.improved is True
    churn = goals["Customer churn"]
    assert churn.now == 1 / 9  # one of the nine active at 1 Oct
    # before: the two that churned in August and September, of the eleven active at 9 Aug
    assert churn.before == 2 / 11 and churn.improved is True  # churn went down


def test_no_figure_before_says_so_rather_than_a_change() -> None:
    goals = goal_figures(WEEK, Config(), opportunities=[deal("2026-10-05")], customers=[], owner=None)
    win, churn = goals[1], goals[2]
    assert win.now is None and win.change is None and win.improved is None
    assert churn.now is None and churn.before is None
