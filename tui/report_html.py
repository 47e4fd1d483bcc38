"""The weekly review as a self-contained HTML page: tables and inline SVG charts, no
external assets; for a mail program, tables of bars instead of SVG."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from store.pipeline import money
from store.review import Review
from store.review_charts import waterfall_bars
from tui.report_charts import bullets_mail, bullets_svg, mail_bars, svg_bars, waterfall_mail, waterfall_svg
from tui.report_text import (
    GOALS_NOTE,
    change_lists,
    figure_rows,
    goal_rows,
    next_week_lists,
    percent,
    risk_lists,
    stage_rows,
    title,
)
from tui.tabs.board_parts import rate_warning
from tui.text import counted

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

