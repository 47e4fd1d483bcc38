"""The funnel the review carries is ``store.funnel``'s, which now counts the leads in one pass
(the review counts it at 50k leads): a property against the count it replaced, kept here as it
was."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from store.config import Config
from store.funnel import PERIODS, FunnelStep, Period, funnel, period_start

CONFIG = Config()
_LEAD_RANK = {"new": 0, "contacted": 1, "qualified": 2, "converted": 3}


def reference(leads: Iterable[Mapping[str, Any]], opportunities: Iterable[Mapping[str, Any]], config: Config, *,
              today: date, period: Period, owner: str | None) -> list[FunnelStep]:
    """``store.funnel.funnel`` before the one-pass count (commit 72c39d7)."""
    since = period_start(period, today)

    def in_scope(doc: Mapping[str, Any]) -> bool:
        if owner is not None and doc.get("owner") != owner:
            return False
        return since is None or str(doc.get("created_at", ""))[:10] >= since.isoformat()

    def lead_rank(lead: Mapping[str, Any]) -> int:
        if lead.get("status") == "disqualified":
            return 1 if lead.get("last_contacted_at") else 0
        return _LEAD_RANK.get(str(lead.get("status")), 0)

    def stage_reached(opportunity: Mapping[str, Any], order: Mapping[str, int], won: str) -> int:
        stages = [opportunity.get("stage")] + [c.get("stage") for c in opportunity.get("stage_history") or ()]
        if won in stages:
            return len(order)
        return max((order[s] for s in stages if s in order), default=0)

    scoped = [lead for lead in leads if in_scope(lead)]
    ranks = [lead_rank(lead) for lead in scoped]
    lead_ids = {lead["id"] for lead in scoped if lead.get("status") == "converted"}
    counts = [("Leads", len(ranks)), ("Contacted", sum(1 for r in ranks if r >= 1)),
              ("Qualified", sum(1 for r in ranks if r >= 2)), ("Converted", sum(1 for r in ranks if r >= 3))]
    order = {stage.key: index for index, stage in enumerate(config.open_stages)}
    won = config.won_stage.key
    reached = [stage_reached(o, order, won) for o in opportunities if o.get("lead_id") in lead_ids]
    for index, stage in enumerate(config.open_stages):
        counts.append((stage.label, sum(1 for r in reached if r >= index)))
    counts.append((config.won_stage.label, sum(1 for r in reached if r >= len(order))))
    steps = []
    for index, (label, count) in enumerate(counts):
        previous = counts[index - 1][1] if index else None
        steps.append(FunnelStep(label, count, None if previous is None else (count / previous if previous else 0.0)))
    return steps


TODAY = date(2026, 11, 25)
STAGES = [s.key for s in CONFIG.stages]
leads = st.lists(st.fixed_dictionaries({
    "status": st.sampled_from(["new", "contacted", "qualified", "converted", "disqualified"]),
    "created": st.integers(0, 200).map(lambda n: TODAY - timedelta(days=n)),
    "owner": st.sampled_from(["me", "bo"]),
    "contacted": st.booleans(),
}), max_size=30)
deals = st.lists(st.tuples(st.integers(0, 29), st.sampled_from(STAGES), st.lists(st.sampled_from(STAGES), max_size=3)),
                 max_size=30)


@settings(max_examples=200, deadline=None)
@given(leads, deals, st.sampled_from(PERIODS), st.sampled_from([None, "me", "bo"]))
def test_the_one_pass_funnel_counts_as_before(made: list[dict[str, Any]], opened: list[Any], period: Period,
                                              owner: str | None) -> None:
    docs = [{"id": f"l{i}", "status": lead["status"], "owner": lead["owner"],
             "created_at": f"{lead['created'].isoformat()}T09:00:00Z",
             **({"last_contacted_at": "2026-11-01T10:00:00Z"} if lead["contacted"] else {})}
            for i, lead in enumerate(made)]
    opportunities = [{"id": f"o{i}", "lead_id": f"l{lead}", "stage": stage,
                      "stage_history": [{"stage": s} for s in past]} for i, (lead, stage, past) in enumerate(opened)]
    assert funnel(docs, opportunities, CONFIG, today=TODAY, period=period, owner=owner) == reference(
        docs, opportunities, CONFIG, today=TODAY, period=period, owner=owner)
