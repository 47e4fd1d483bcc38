"""The lead funnel: lead statuses on into opportunity stages and won. Pure, over documents."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from store.config import Config

Doc = Mapping[str, Any]
Period = Literal["week", "month", "quarter", "all"]
PERIODS: tuple[Period, ...] = ("week", "month", "quarter", "all")
#: the steps a funnel counts from the leads alone (the rest follow them into their deals)
LEAD_STEPS = 4
_LEAD_RANK = {"new": 0, "contacted": 1, "qualified": 2, "converted": 3}


@dataclass(frozen=True)
class FunnelStep:
    label: str
    count: int
    #: share of the previous step that reached this one (None for the first step)
    conversion: float | None


def period_start(period: Period, today: date) -> date | None:
    if period == "week":
        return today - timedelta(days=today.weekday())
    if period == "month":
        return today.replace(day=1)
    if period == "quarter":
        return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    return None


def _lead_tally(leads: Iterable[Doc], since: str, owner: str | None,
                until: str = "9999") -> tuple[list[int], set[str]]:
    """How many leads made from ``since`` to ``until`` (ISO days, "" for all time before) and
    owned by ``owner`` reached each lead step, and the ids of those converted: one pass, no
    call a lead (the review counts the funnel of 50k leads)."""
    reached, converted = [0] * LEAD_STEPS, set()
    for lead in leads:
        made = str(lead.get("created_at", ""))[:10]
        if (owner is not None and lead.get("owner") != owner) or made < since or made > until:
            continue
        status = lead.get("status")
        if status == "disqualified":  # contacted first, or not
            rank = 1 if lead.get("last_contacted_at") else 0
        else:
            rank = _LEAD_RANK.get(str(status), 0)
        reached[rank] += 1
        if rank == 3:
            converted.add(lead["id"])
    return [sum(reached[rank:]) for rank in range(LEAD_STEPS)], converted


def _stage_reached(opportunity: Doc, order: Mapping[str, int], won: str) -> int:
    """Index of the furthest open stage reached; the won stage counts as past them all."""
    stages = [opportunity.get("stage")] + [c.get("stage") for c in opportunity.get("stage_history") or ()]
    if won in stages:
        return len(order)
    return max((order[s] for s in stages if s in order), default=0)


def funnel(leads: Iterable[Doc], opportunities: Iterable[Doc], config: Config, *, today: date,
           period: Period = "all", owner: str | None = None, until: date | None = None) -> list[FunnelStep]:
    """Counts per step, with step-to-step conversion, following the leads created in
    the period (and owned by ``owner``) into the opportunities they became. Every
    step is a subset of the one before, so no rate exceeds 100%. ``until``: the last day
    whose leads count (a past week's review: none made after it)."""
    since = period_start(period, today)
    lead_steps, lead_ids = _lead_tally(leads, "" if since is None else since.isoformat(), owner,
                                       "9999" if until is None else until.isoformat())
    counts = list(zip(("Leads", "Contacted", "Qualified", "Converted"), lead_steps, strict=True))
    open_stages = config.open_stages
    order = {stage.key: index for index, stage in enumerate(open_stages)}
    won = config.won_stage.key
    reached = [_stage_reached(o, order, won) for o in opportunities if o.get("lead_id") in lead_ids]
    for index, stage in enumerate(open_stages):
        counts.append((stage.label, sum(1 for r in reached if r >= index)))
    counts.append((config.won_stage.label, sum(1 for r in reached if r >= len(order))))
    steps: list[FunnelStep] = []
    for index, (label, count) in enumerate(counts):
        previous = counts[index - 1][1] if index else None
        rate = None if previous is None else (count / previous if previous else 0.0)
        steps.append(FunnelStep(label, count, rate))
    return steps
