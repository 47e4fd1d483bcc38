"""The weekly review: what changed in an ISO week, the team's figures and their trend,
the pipeline waterfall, the measured stage probabilities, risks and next week.
Pure functions over stored documents and the config; no I/O, no widgets. The review
tab, the presentation and ``dealdeck review`` all read the same ``Review``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from store.activity_log import ActivityDay
from store.config import Config
from store.customers import CustomerRow
from store.funnel import FunnelStep
from store.pipeline import DealRow
from store.review_asof import rows_as_of
from store.review_decisions import DecisionLine
from store.review_figures import (  # noqa: F401  (re-exported: the review's one import)
    MEASURED_MONTHS,
    TREND_NAMES,
    TREND_WEEKS,
    CustomerFigures,
    Figures,
    customer_figures,
    figures,
    measured_probabilities,
    trend,
    trend_sum,
    trends_by_owner,
)
from store.review_goals import Goal, goal_figures
from store.review_leads import LeadIndex, read_lead_histories
from store.review_week import (  # noqa: F401  (re-exported)
    DealMove,
    Waterfall,
    Week,
    WeekChanges,
    _instant,
    _kind,
    add_to_waterfall,
    amount_at,
    effective_moves,
    lead_owner_at,
    stage_at,
    week_changes,
)

Doc = Mapping[str, Any]
ZERO = Decimal(0)


# -- risks and next week -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """A line in a list of the review that opens its record."""

    table: str
    record_id: str
    title: str
    detail: str
    owner: str
    #: the record's custom fields by key (the review JSON carries them)
    custom: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


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
                                                 f"{row.expected_close.isoformat()} · {row.amount:,.0f}"
                                                 + ("" if row.currency == config.currency else f" {row.currency}"),
                                                 row.owner))
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
    #: new opportunities a month, win rate and churn, this quarter against the span before
    goals: list[Goal] = field(default_factory=list)
    #: the lead funnel of the leads made since the review week's quarter began, as the app's
    #: funnel and the slides count it (``store.funnel``; filled by ``tui.report.review_of``)
    funnel: list[FunnelStep] = field(default_factory=list)
    #: the calendar months (YYYY-MM) of each ``Figures.monthly_trend`` series, oldest first
    months: list[str] = field(default_factory=list)
    #: what the review of this week decided (``store.decisions``; filled by ``tui.report.review_of``)
    decisions: list[DecisionLine] = field(default_factory=list)


def build_review(week: Week, config: Config, *, owner: str | None, leads: Sequence[Doc],
                 opportunities: Sequence[Doc], activities: Sequence[ActivityDay], customers: Sequence[Doc],
                 deal_rows: Sequence[DealRow], customer_rows: Sequence[CustomerRow],
                 lead_index: LeadIndex | None = None) -> Review:
    """Everything the review shows, for the team (``owner`` None) or one rep. ``lead_index``:
    the leads' histories read already (``review_leads.index_leads`` of these ``leads``)."""
    names = {r.id: r.name for r in config.reps}
    who = "team" if owner is None else names.get(owner, owner)
    # Each rep's figures read only that rep's documents: one pass to sort them out.
    by_owner: dict[str, dict[str, list[Any]]] = defaultdict(lambda: {"leads": [], "opportunities": [],
                                                                     "activities": []})
    histories = read_lead_histories(week, config, leads, lead_index)
    for lead, held in zip(leads, histories.owner_at_end, strict=True):
        by_owner[held]["leads"].append(lead)  # whose it was at the week's end: a handover since leaves it be
    for doc in opportunities:
        by_owner[doc.get("owner") or ""]["opportunities"].append(doc)
    for day in activities:
        by_owner[day.owner]["activities"].append(day)
    trends = trends_by_owner(week, config, leads=leads, opportunities=opportunities, activities=activities)
    # The deals at the week's end, rebuilt once for the team: each rep's are theirs of them.
    then = rows_as_of(week, config, opportunities, deal_rows, owner)
    reps = []
    for rep in config.reps:
        if owner is None or rep.id == owner:
            own = by_owner[rep.id]
            reps.append(figures(week, config, who=names[rep.id], owner=rep.id, leads=own["leads"],
                                opportunities=own["opportunities"], activities=own["activities"],
                                deal_rows=[r for r in deal_rows if r.owner == rep.id],
                                trend_series=trend_sum([trends[rep.id]]),
                                lead_decisions=histories.lead_decisions(rep.id),
                                rows_then=[r for r in then if r.owner == rep.id]))
    if owner is None:
        team = figures(week, config, who=who, owner=None, leads=leads, opportunities=opportunities,
                       activities=activities, deal_rows=deal_rows, trend_series=trend_sum(trends.values()),
                       lead_decisions=histories.lead_decisions(None), rows_then=then)
    else:
        team = reps[0] if reps else figures(week, config, who=who, owner=owner, leads=[], opportunities=[],
                                            activities=[], deal_rows=[])
    return Review(
        week=week, who=who,
        changes=week_changes(week, config, leads=leads, opportunities=opportunities, owner=owner,
                             leads_read=histories.week(owner)),
        team=team, reps=reps,
        customers=customer_figures(week, config, customers=customers, opportunities=opportunities, owner=owner),
        measured=measured_probabilities(config, opportunities, week.end),
        outlook=outlook(week, config, deal_rows=deal_rows, customer_rows=customer_rows, leads=leads, owner=owner),
        stages=[(s.key, s.label, s.probability) for s in config.open_stages], currency=config.currency,
        goals=goal_figures(week, config, opportunities=opportunities, customers=customers, owner=owner))
