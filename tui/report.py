"""The weekly review as a document: Markdown, a self-contained HTML page (tables and
inline SVG bar charts, no external assets) or JSON with every figure. Same numbers as
the review tab, from the same ``store.review`` functions."""

from __future__ import annotations

import dataclasses
import html
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from store.activity_log import ActivityDay
from store.config import Config
from store.customers import CustomerRow, customer_rows
from store.database import Store
from store.models import Contact, Customer, Lead, Opportunity, Survey, Task, TeamSetting, Ticket
from store.pipeline import DealRow, deal_rows, money
from store.review import Figures, Item, Review, Week, build_review
from store.review_charts import waterfall_bars
from store.review_goals import Goal
from store.team_settings import effective_config, values_as_of
from tui.report_charts import bullets_mail, bullets_svg, mail_bars, svg_bars, waterfall_mail, waterfall_svg
from tui.tabs.board_parts import rate_warning
from tui.text import counted

SPARKS = "▁▂▃▄▅▆▇█"


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
    review = build_review(week, data.config_of(week), owner=owner, leads=data.leads,
                          opportunities=data.opportunities, activities=data.activities, customers=data.customers,
                          deal_rows=data.deal_rows, customer_rows=data.customer_rows)
    _with_custom_fields(review, data)
    return review


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


# -- shared wording -------------------------------------------------------------------------------------


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


def stage_rows(review: Review) -> list[tuple[str, int, float | None]]:
    """Each open stage: its label, configured probability and measured win share."""
    return [(label, configured, review.measured.get(key)) for key, label, configured in review.stages]


# -- HTML ---------------------------------------------------------------------------------------------------


CSS = """
body { font: 15px/1.45 system-ui, "Noto Sans", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif;
       color: #1d232b; max-width: 980px; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { margin-top: 1.8em; border-bottom: 2px solid #5aa9e6; padding-bottom: .2em; }
table { border-collapse: collapse; margin: .5em 0; } td, th { padding: .25em .8em; border-bottom: 1px solid #dde; }
th { text-align: left; } td.n, th.n { text-align: right; } td.n { font-variant-numeric: tabular-nums; }
.big { display: flex; gap: 2em; flex-wrap: wrap; } .big div { font-size: 1.9em; font-weight: 700; }
.big span { display: block; font-size: .5em; font-weight: 400; color: #556; }
ul.items { margin: .2em 0 .8em; } .muted { color: #667; } svg { display: block; margin: .3em 0 1em; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _item_list(items: Iterable[Any], limit: int = 30) -> str:
    shown = list(items)
    if not shown:
        return '<p class="muted">None.</p>'
    body = "".join(f"<li>{_e(i.title)} <span class=\"muted\">({_e(i.owner)}) {_e(i.detail)}</span></li>"
                   for i in shown[:limit])
    more = f"<li class=\"muted\">… and {len(shown) - limit} more</li>" if len(shown) > limit else ""
    return f'<ul class="items">{body}{more}</ul>'


def to_html(review: Review, *, for_mail: bool = False) -> str:
    """Headline figures first, the numbers next, then risks and next week; the week's
    lists of leads and deals last, for whoever wants the detail. ``for_mail``: charts as
    tables of bars (``report_charts.mail_bars``) instead of SVG."""
    chart = mail_bars if for_mail else svg_bars
    parts = [*_html_headlines(review), *_html_goals(review), *_html_numbers(review, chart), *_html_outlook(review),
             *_html_detail(review)]
    return "\n".join(["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
                      f"<title>{_e(title(review))}</title><style>{CSS}</style></head><body>", *parts,
                      "</body></html>"]) + "\n"


def _html_headlines(review: Review) -> list[str]:
    c, team, cur = review.changes, review.team, review.currency
    return [f"<h1>{_e(title(review))}</h1>", '<div class="big">',
            f"<div>{_e(money(c.won_amount, cur))}<span>won this week ({counted(len(c.won), 'deal')})</span></div>",
            f"<div>{_e(money(team.pipeline, cur))}<span>open pipeline</span></div>",
            f"<div>{_e(money(team.weighted_quarter, cur))}<span>weighted forecast this quarter</span></div>",
            f"<div>{_e(money(team.won_quarter))} / {_e(money(team.target_quarter, cur))}"
            "<span>won this quarter / target</span></div>", "</div>",
            *([f"<p>{_e(rate_warning(team.without_rate))}</p>"] if team.without_rate else [])]


def _html_goals(review: Review) -> list[str]:
    colours = {" better": "#2e9d5b", " worse": "#d1495b"}
    out = ["<h2>The three figures</h2>", f'<p class="muted">{_e(GOALS_NOTE)}</p>',
           '<table><tr><th></th><th class="n">Before</th><th class="n">This quarter</th><th>Change</th></tr>']
    for name, before, now, change in goal_rows(review):
        colour = next((c for word, c in colours.items() if change.endswith(word)), "")
        style = f' style="color:{colour}"' if colour else ""
        out.append(f'<tr><td>{_e(name)}</td><td class="n">{_e(before)}</td><td class="n">{_e(now)}</td>'
                   f"<td{style}>{_e(change)}</td></tr>")
    out.append("</table>")
    return out


def _html_numbers(review: Review, chart: Callable[[Sequence[float], Sequence[str]], str]) -> list[str]:
    team = review.team
    bars = waterfall_bars(review.changes.waterfall)
    out = ["<h2>Pipeline waterfall</h2>",
           (waterfall_mail if chart is mail_bars else waterfall_svg)(bars, review.currency)]
    people = [team, *review.reps] if review.who == "team" else [team]
    heads = "".join(f'<th class="n">{_e(f.who)}</th>' for f in people)
    out += ["<h2>Figures</h2>", f"<table><tr><th></th>{heads}</tr>"]
    columns = [figure_rows(f, retired=bool(team.retired_stage_deals)) for f in people]
    for index, (label, _) in enumerate(columns[0]):
        out.append(f"<tr><td>{_e(label)}</td>" + "".join(f'<td class="n">{_e(col[index][1])}</td>'
                                                        for col in columns) + "</tr>")
    out += ["</table>", "<h2>Won and weighted forecast against target, this quarter</h2>",
            '<p class="muted">Dark: won. Light: won and the weighted forecast. The mark: the target.</p>',
            (bullets_mail if chart is mail_bars else bullets_svg)(people, review.currency),
            "<h2>Trend, 12 weeks</h2>"]
    weeks = [f"W{review.week.step(-i).number}" for i in reversed(range(len(next(iter(team.trend.values())))))]
    for name, values in team.trend.items():
        out.append(f"<h3>{_e(name.capitalize())}</h3>{chart(values, weeks)}"
                   f'<p class="muted">{_e(weeks[0])}: {values[0]:,.0f} · {_e(weeks[-1])}: {values[-1]:,.0f}</p>')
    cf = review.customers
    out += ["<h2>Customers</h2>", f"<p>Active: {cf.active} · churned this quarter: {cf.churned} (churn rate "
            f"{percent(cf.churn_rate)}) · repeat-purchase rate: {percent(cf.repeat_rate)}</p>",
            "<h3>New opportunities a month</h3>",
            chart([n for _, n in cf.new_deals_per_month], [m for m, _ in cf.new_deals_per_month]),
            "<h2>Stage probabilities</h2>", '<p class="muted">Of the deals that reached each stage in the last six '
            "months and have closed since, the share won, beside the probability the forecast uses.</p>",
            '<table><tr><th>Stage</th><th class="n">Configured</th><th class="n">Measured</th></tr>']
    out += [f'<tr><td>{_e(label)}</td><td class="n">{configured}%</td><td class="n">{percent(measured)}</td></tr>'
            for label, configured, measured in stage_rows(review)]
    out.append("</table>")
    return out


def _html_outlook(review: Review) -> list[str]:
    out = []
    for heading, lists in (("Risks", risk_lists(review)), ("Next week", next_week_lists(review))):
        out.append(f"<h2>{heading}</h2>")
        out += [f"<h3>{_e(name)} ({len(items)})</h3>{_item_list(items)}" for name, items in lists]
    return out


def _html_detail(review: Review) -> list[str]:
    c = review.changes
    out = ["<h2>The week in detail: leads</h2>", f"<p>New: {c.new_leads} · converted: {c.converted} · "
           f"disqualified: {c.disqualified}</p>", '<table><tr><th>Source</th><th class="n">New</th></tr>']
    out += [f'<tr><td>{_e(k)}</td><td class="n">{v}</td></tr>' for k, v in c.new_leads_by_source.items()]
    out += ["</table>", "<h2>The week in detail: opportunities</h2>"]
    for name, items in change_lists(review):
        out.append(f"<h3>{_e(name)} ({len(items)})</h3>{_item_list(items)}")
    if c.lost_reasons:
        out.append("<p>Lost reasons: " + _e(", ".join(f"{k} {v}" for k, v in c.lost_reasons.items())) + "</p>")
    return out


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
    return json.dumps(data, default=_plain, ensure_ascii=False, indent=2) + "\n"


RENDERERS = {"md": to_markdown, "html": to_html, "json": to_json}
