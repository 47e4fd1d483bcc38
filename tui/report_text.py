"""The weekly review's shared wording: the labels and rows every form of the review shows
(the report's Markdown, HTML and JSON, the review tab, the slides), from a ``Review``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from store.funnel import period_start
from store.pipeline import money
from store.review import Figures, Item, Review
from store.review_goals import Goal

SPARKS = "▁▂▃▄▅▆▇█"


def percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.0f}%"


def days(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} days"


def sparkline(values: Sequence[float]) -> str:
    top = max(values, default=0) or 1
    return "".join(SPARKS[min(int(v / top * (len(SPARKS) - 1) + 0.5), len(SPARKS) - 1)] for v in values)


def figure_rows(figures: Figures, *, retired: bool = False) -> list[tuple[str, str]]:
    """A rep's (or the team's) figures as label, value. ``retired``: with the row of deals
    in a stage no longer used (when the team has any, every column has the row)."""
    return [
        ("Activities logged", str(figures.activities)),
        ("Leads followed up", str(figures.leads_followed_up)),
        ("Open opportunities", str(figures.open_deals)),
        *([("  of them in a stage no longer used", str(figures.retired_stage_deals))]
          if retired else []),
        ("Lead → opportunity (12 weeks)", percent(figures.lead_conversion)),
        ("Win rate (12 weeks)", percent(figures.win_rate)),
        ("Average cycle, created → won", days(figures.cycle_days)),
        ("Average won deal", money(figures.average_deal) if figures.average_deal is not None else "–"),
        ("Open pipeline", money(figures.pipeline)),
        ("Weighted forecast, month", money(figures.weighted_month)),
        ("Weighted forecast, quarter", money(figures.weighted_quarter)),
        ("Won this month", money(figures.won_month)),
        ("Target this month", money(figures.target_month)),
        ("Won this quarter", money(figures.won_quarter)),
        ("Target this quarter", money(figures.target_quarter)),
        ("Pipeline velocity, per month", money(figures.velocity_month) if figures.velocity_month is not None
         else "–"),
    ]


def waterfall_rows(review: Review) -> list[tuple[str, Decimal]]:
    fall = review.changes.waterfall
    return [("Open at the start", fall.start), ("+ new and reopened", fall.new), ("+ increased", fall.increased),
            ("− decreased", fall.decreased), ("− won", fall.won), ("− lost", fall.lost), ("Open at the end", fall.end)]


def goal_rows(review: Review) -> list[tuple[str, str, str, str]]:
    """The three figures the team set out to move: name, before, this quarter, and the
    change with whether it went the right way."""
    def shown(goal: Goal, value: float | None) -> str:
        return percent(value) if goal.unit == "rate" else ("–" if value is None else f"{value:.1f}")

    rows = []
    for goal in review.goals:
        change = "–" if goal.change is None else f"{goal.change:+.0%}"
        verdict = {True: " better", False: " worse", None: ""}[goal.improved]
        rows.append((goal.name, shown(goal, goal.before), shown(goal, goal.now), change + verdict))
    return rows


GOALS_NOTE = "This quarter to date against the same number of days just before it."


def change_lists(review: Review) -> list[tuple[str, list[Any]]]:
    c = review.changes
    return [("Created", c.created), ("Advanced", c.advanced), ("Moved back", c.moved_back), ("Won", c.won),
            ("Lost", c.lost), ("Close dates slipped", c.slipped), ("Amounts changed", c.amount_changes)]


def risk_lists(review: Review) -> list[tuple[str, list[Item]]]:
    o = review.outlook
    return [("Stale or stuck deals", o.stale_deals), ("Slipped deals", o.slipped_deals),
            ("At-risk customers", o.at_risk_customers), ("Overdue follow-ups", o.overdue_follow_ups)]


def next_week_lists(review: Review) -> list[tuple[str, list[Item]]]:
    o = review.outlook
    return [("Expected to close", o.closing_next_week), ("Planned revisits", o.revisits_next_week)]


def title(review: Review) -> str:
    return f"Weekly review · {review.who} · {review.week.label()}"


def stage_rows(review: Review) -> list[tuple[str, int, float | None]]:
    """Each open stage: its label, configured probability and measured win share."""
    return [(label, configured, review.measured.get(key)) for key, label, configured in review.stages]


def funnel_since(review: Review) -> date:
    """The first day of the funnel's leads: the review week's quarter (``store.funnel``)."""
    return period_start("quarter", review.week.end) or review.week.start


def funnel_note(review: Review) -> str:
    since = funnel_since(review)
    end = review.week.end
    return (f"The leads created from {since.day} {MONTH_NAMES[since.month - 1]} {since.year} (the quarter) to the "
            f"week's end, {end.day} {MONTH_NAMES[end.month - 1]}, followed into their deals as they stand now: each "
            "step's count, and the share of the step before that reached it.")


def funnel_rows(review: Review) -> list[tuple[str, str, str]]:
    """Each funnel step: its label, count and conversion from the step before."""
    return [(step.label, f"{step.count:,}", "" if step.conversion is None else percent(step.conversion))
            for step in review.funnel]


MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def month_name(month: str, *, year: bool = True) -> str:
    """"2026-11" as "Nov 2026" (the names fixed: a report reads the same in any locale)."""
    name = MONTH_NAMES[int(month[5:7]) - 1]
    return f"{name} {month[:4]}" if year else name


def month_ends(review: Review) -> tuple[str, str]:
    """The monthly trend's first and last months in words: the last is counted to the week's end."""
    first, last, end = review.months[0], review.months[-1], review.week.end
    return month_name(first), f"{month_name(last)} (to {end.day} {MONTH_NAMES[end.month - 1]})"
