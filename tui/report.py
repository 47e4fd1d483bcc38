"""The weekly review as a document: Markdown, a self-contained HTML page (tables and
inline SVG bar charts, no external assets: ``tui.report_html``) or JSON with every figure.
Same numbers as the review tab, from the same ``store.review`` functions; the wording
they share is ``tui.report_text``'s."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from store.activity_log import ActivityDay
from store.config import Config
from store.customers import CustomerRow, customer_rows
from store.database import Store
from store.funnel import funnel
from store.models import Contact, Customer, Lead, Opportunity, Survey, Task, TeamSetting, Ticket
from store.pipeline import DealRow, deal_rows, money
from store.review import Review, Week, build_review
from store.review_decisions import KIND_LABELS, decisions_of
from store.review_figures import TREND_MONTHS, monthly_trends_by_owner, trend_months, trend_sum
from store.review_leads import LeadIndex, index_leads
from store.team_settings import effective_config, values_as_of
from tui.report_html import to_html
from tui.report_text import (  # noqa: F401  (re-exported: the review's wording, for the tab and the slides)
    GOALS_NOTE,
    SPARKS,
    change_lists,
    days,
    figure_rows,
    funnel_note,
    funnel_rows,
    funnel_since,
    goal_rows,
    month_ends,
    month_name,
    next_week_lists,
    percent,
    risk_lists,
    sparkline,
    stage_rows,
    title,
    waterfall_rows,
)
from tui.tabs.board_parts import rate_warning
from tui.text import counted


@dataclass(frozen=True)
class ReviewInput:
    """Everything the review reads, taken from the store at one moment: lists of the
    stored documents (never changed in place by the store) and the tabs' rows."""

    config: Config
    leads: list[Any]
    opportunities: list[Any]
    #: activities per rep and day
    activities: list[ActivityDay]
    customers: list[Any]
    deal_rows: list[DealRow]
    customer_rows: list[CustomerRow]
    #: the settings this computer has of its own, and the team's (with their history): a
    #: past week is weighed with the stage probabilities of that week
    local_config: Config | None = None
    settings: tuple[Any, ...] = ()
    #: what is worked out once from this data for a review of any week (``lead_index``)
    worked_out: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def lead_index(self) -> LeadIndex:
        """The leads' histories as every week's review reads them: read once for this
        data, not once a week (a step to another week of the review tab)."""
        if "lead_index" not in self.worked_out:
            self.worked_out["lead_index"] = index_leads(self.leads)
        return self.worked_out["lead_index"]  # type: ignore[no-any-return]

    def config_of(self, week: Week) -> Config:
        if self.local_config is None or not self.settings:
            return self.config
        end = datetime.combine(week.end + timedelta(days=1), time(), UTC)
        return effective_config(self.local_config, values_as_of(self.settings, end)).config


def review_input(store: Store, today: date, *, deals: list[DealRow] | None = None,
                 accounts: list[CustomerRow] | None = None) -> ReviewInput:
    """Take what the review needs; rows the app's tabs already built are reused."""
    config = store.config
    customers = list(store.rows(Customer))
    opportunities = list(store.rows(Opportunity))
    digest = store.activity_digest()
    if deals is None:
        names = {doc["id"]: str(doc["name"]) for doc in customers}
        lost = config.lost_stage.key  # lost deals are in no forecast and no risk list
        deals = deal_rows((d for d in opportunities if d["stage"] != lost), config, customers=names,
                          last_activity=digest.last_by_deal(), today=today)
    if accounts is None:
        accounts = customer_rows(config, customers=customers, opportunities=opportunities,
                                 last_activity=digest.last_by_customer(),
                                 tickets=store.rows(Ticket), surveys=store.rows(Survey), today=today,
                                 tasks=store.rows(Task), contacts=store.rows(Contact))
    return ReviewInput(config, list(store.rows(Lead)), opportunities, digest.days(), customers, deals, accounts,
                       store.local_config, tuple(store.rows(TeamSetting)))


def review_of(data: ReviewInput, week: Week, owner: str | None) -> Review:
    """Pure: the review from a snapshot (the app runs this off the UI thread)."""
    config = data.config_of(week)
    review = build_review(week, config, owner=owner, leads=data.leads,
                          opportunities=data.opportunities, activities=data.activities, customers=data.customers,
                          deal_rows=data.deal_rows, customer_rows=data.customer_rows, lead_index=data.lead_index())
    _with_custom_fields(review, data)
    _with_monthly_trends(review, data, config)
    # The quarter's funnel as the app's funnel and the slides count it (the current stages).
    review.funnel = funnel(data.leads, data.opportunities, data.config, today=week.end, period="quarter",
                           owner=owner, until=week.end)
    review.decisions = [line for line in decisions_of(str(week), data.opportunities, data.customers)
                        if owner is None or line.owner == owner]
    return review


def _with_monthly_trends(review: Review, data: ReviewInput, config: Config) -> None:
    """The team's and each rep's 12-month trend, from one pass over each table."""
    parts = monthly_trends_by_owner(review.week, config, leads=data.leads, opportunities=data.opportunities,
                                    activities=data.activities)
    review.months = trend_months(review.week.end)
    for figures in (review.team, *review.reps):  # (one rep's review: the team is that rep)
        owners = parts.values() if figures.owner is None else [parts[figures.owner]]
        figures.monthly_trend = trend_sum(owners, TREND_MONTHS)


def _with_custom_fields(review: Review, data: ReviewInput) -> None:
    """Each listed record's custom field values, by key (the JSON carries them)."""
    docs = {"leads": data.leads, "opportunities": data.opportunities, "customers": data.customers}
    specs = {table: data.config.custom(table) for table in docs}
    if not any(specs.values()):
        return
    wanted = {(item.table, item.record_id) for items in vars(review.outlook).values() for item in items}
    found = {(table, doc["id"]): doc for table, rows in docs.items() for doc in rows if (table, doc["id"]) in wanted}
    for items in vars(review.outlook).values():
        for item in items:
            doc = found.get((item.table, item.record_id), {})
            item.custom.update({spec.key: doc[spec.name] for spec in specs.get(item.table, ()) if spec.name in doc})


def collect_review(store: Store, week: Week, owner: str | None, today: date) -> Review:
    """Read the store once and build the review (the report, and tests)."""
    return review_of(review_input(store, today), week, owner)


# -- Markdown ------------------------------------------------------------------------------------------------


def _md(text: object) -> str:
    """Record text in a Markdown table cell or list: no markup, no broken tables."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("*", "\\*").replace("_", "\\_") \
        .replace("[", "\\[").replace("<", "&lt;").replace("\n", " ")


def to_markdown(review: Review) -> str:
    c, lines = review.changes, [f"# {title(review)}", ""]
    lines += ["## Headlines", "",
              f"- Won this week: **{counted(len(c.won), 'deal')}**, **{money(c.won_amount)}**",
              f"- Open pipeline: **{money(review.team.pipeline)}**; weighted forecast this month "
              f"{money(review.team.weighted_month)}, quarter {money(review.team.weighted_quarter)}",
              f"- Won this quarter: {money(review.team.won_quarter)} of {money(review.team.target_quarter)} target",
              *([f"- {_md(rate_warning(review.team.without_rate))}"] if review.team.without_rate else []),
              ""]
    lines += ["## Decisions in the meeting", ""]
    lines += [f"- {_md(d.title)} ({_md(d.owner)}): {KIND_LABELS[d.kind].lower()}: {_md(d.text)} "
              f"(decided by {_md(d.by)})" for d in review.decisions] or ["- None recorded."]
    lines.append("")
    lines += ["## Leads", "", f"- New: {c.new_leads} (by source: " +
              (", ".join(f"{_md(k)} {v}" for k, v in c.new_leads_by_source.items()) or "none") +
              "; by grade: " + (", ".join(f"{k} {v}" for k, v in c.new_leads_by_grade.items()) or "none") + ")",
              f"- Converted: {c.converted}; disqualified: {c.disqualified}", ""]
    lines += ["## Opportunities", ""]
    for name, items in change_lists(review):
        lines.append(f"- {name}: {len(items)}" + (f" ({money(sum((m.amount for m in items), Decimal(0)))})"
                                                  if name in ("Won", "Lost") else ""))
        lines += [f"  - {_md(m.title)} ({_md(m.owner)}): {_md(m.detail)}" for m in items[:20]]
    if c.lost_reasons:
        lines.append("- Lost reasons: " + ", ".join(f"{_md(k)} {v}" for k, v in c.lost_reasons.items()))
    lines += ["", "## The three figures", "", GOALS_NOTE, "", "| | before | this quarter | change |",
              "|---|---:|---:|---|"]
    lines += [f"| {name} | {before} | {now} | {change} |" for name, before, now, change in goal_rows(review)]
    if review.funnel:
        lines += ["", "## Lead funnel", "", funnel_note(review), "", "| step | count | of the step before |",
                  "|---|---:|---:|"]
        lines += [f"| {_md(label)} | {count} | {rate} |" for label, count, rate in funnel_rows(review)]
    lines += ["", "## Pipeline waterfall", "", "| | amount |", "|---|---:|"]
    lines += [f"| {label} | {money(value)} |" for label, value in waterfall_rows(review)]
    lines += ["", "## Figures", "", "| | " + " | ".join(_md(f.who) for f in [review.team, *review.reps]) + " |",
              "|---|" + "---:|" * (1 + len(review.reps))]
    columns = [figure_rows(f, retired=bool(review.team.retired_stage_deals)) for f in [review.team, *review.reps]]
    for index, (label, _) in enumerate(columns[0]):
        lines.append(f"| {label} | " + " | ".join(col[index][1] for col in columns) + " |")
    lines += ["", "## Trend, 12 weeks", ""]
    lines += [f"- {name}: `{sparkline(values)}` (this week {values[-1]:,.0f})"
              for name, values in review.team.trend.items()]
    if review.team.monthly_trend:
        first, last = month_ends(review)
        lines += ["", "## Trend, 12 months", ""]
        lines += [f"- {name}: `{sparkline(values)}` ({first}: {values[0]:,.0f} · {last}: {values[-1]:,.0f})"
                  for name, values in review.team.monthly_trend.items()]
    cf = review.customers
    lines += ["", "## Customers", "", f"- Active: {cf.active}; churned this quarter: {cf.churned} "
              f"(churn rate {percent(cf.churn_rate)}); repeat-purchase rate {percent(cf.repeat_rate)}",
              "- New opportunities a month: " + ", ".join(f"{m} {n}" for m, n in cf.new_deals_per_month), ""]
    lines += ["## Stage probabilities: configured and measured", "", "| stage | configured | measured |",
              "|---|---:|---:|"]
    lines += [f"| {label} | {configured}% | {percent(measured)} |" for label, configured, measured in
              stage_rows(review)]
    for heading, lists in (("Risks", risk_lists(review)), ("Next week", next_week_lists(review))):
        lines += ["", f"## {heading}", ""]
        for name, items in lists:
            lines.append(f"- {name}: {len(items)}")
            lines += [f"  - {_md(i.title)} ({_md(i.owner)}): {_md(i.detail)}" for i in items[:20]]
            if len(items) > 20:
                lines.append(f"  - … and {len(items) - 20} more")
    return "\n".join(lines) + "\n"



# -- JSON ----------------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Week):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def to_json(review: Review) -> str:
    data = dataclasses.asdict(review)
    data["week"] = str(review.week)
    data["week_start"], data["week_end"] = review.week.start.isoformat(), review.week.end.isoformat()
    data["changes"]["waterfall"]["balances"] = review.changes.waterfall.balances()
    data["stages"] = [{"stage": label, "configured": configured, "measured": measured}
                      for label, configured, measured in stage_rows(review)]
    if review.funnel:
        data["funnel_since"] = funnel_since(review).isoformat()
    return json.dumps(data, default=_plain, ensure_ascii=False, indent=2) + "\n"


RENDERERS = {"md": to_markdown, "html": to_html, "json": to_json}
