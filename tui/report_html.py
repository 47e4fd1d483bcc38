"""The weekly review as a self-contained HTML page: tables and inline SVG charts, no
external assets; for a mail program, tables of bars instead of SVG. One ``section`` per
heading, so that on paper a section that fits a page is never cut (the print stylesheet)."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from store.pipeline import money
from store.review import Figures, Review
from store.review_charts import waterfall_bars
from store.review_decisions import KIND_LABELS
from tui.report_charts import (
    bullets_mail,
    bullets_svg,
    funnel_mail,
    funnel_svg,
    line_svg,
    mail_bars,
    svg_bars,
    waterfall_mail,
    waterfall_svg,
)
from tui.report_text import (
    GOALS_NOTE,
    change_lists,
    figure_rows,
    funnel_note,
    goal_rows,
    month_ends,
    month_name,
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
       color: #1d232b; background: #fff; max-width: 1120px; margin: 2em auto; padding: 0 1.5em; }
h1 { font-size: 1.6em; } h2 { margin-top: 1.8em; border-bottom: 2px solid #5aa9e6; padding-bottom: .2em; }
table { border-collapse: collapse; margin: .5em 0; max-width: 100%; }
td, th { padding: .25em .8em; border-bottom: 1px solid #dde; vertical-align: top; overflow-wrap: anywhere; }
th { text-align: left; } td.n, th.n { text-align: right; }
td.n { font-variant-numeric: tabular-nums; white-space: nowrap; }
.big { display: flex; gap: 2em; flex-wrap: wrap; } .big div { font-size: 1.9em; font-weight: 700; }
.big span { display: block; font-size: .5em; font-weight: 400; color: #556; }
ul.items { margin: .2em 0 .8em; } li { overflow-wrap: anywhere; } .muted { color: #667; }
svg { display: block; margin: .3em 0 1em; max-width: 100%; height: auto; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 480px), 1fr)); gap: 0 2.5em; }
@media print {
  @page { size: A4; margin: 15mm 14mm; }
  body { font-size: 10pt; max-width: none; margin: 0; padding: 0; color: #000; background: #fff; }
  h2 { margin-top: 1.2em; } h3 { margin: .7em 0 .2em; } p { margin: .3em 0; } svg { margin: .2em 0 .4em; }
  /* a section that fits on a page starts on the next one rather than being cut; a longer one
     runs on from where it starts, cut between its parts */
  section:not(.long), header, .part { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  tr, svg, li, .charts > div { break-inside: avoid; }
  thead { display: table-header-group; }  /* a table running onto the next page repeats its header */
  .muted, .big span { color: #333; }
}
"""

#: people side by side in one table of figures: more take another table below (the page's width)
FIGURES_PER_TABLE = 4
#: lines (rows, list items) past which a section is printed on from where it starts instead of
#: on a page of its own: an A4 page holds ~60 lines of 10 pt
LONG_SECTION_LINES = 50
#: items a list shows (the JSON has them all)
LIST_LIMIT = 30


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


@dataclass(frozen=True)
class Charts:
    """The chart makers of one kind of page: SVG for a browser, tables of bars for mail."""

    bars: Callable[[Sequence[float], Sequence[str]], str]
    line: Callable[[Sequence[float], Sequence[str]], str]
    waterfall: Callable[..., str]
    bullets: Callable[..., str]
    funnel: Callable[..., str]


SVG = Charts(svg_bars, line_svg, waterfall_svg, bullets_svg, funnel_svg)
MAIL = Charts(mail_bars, lambda values, months: mail_bars(values, [month_name(m) for m in months]), waterfall_mail,
              bullets_mail, funnel_mail)


def _section(heading: str, *body: str, lines: int = 0) -> str:
    """A heading and its body; ``lines``: about how many lines the body takes on paper."""
    start = '<section class="long">' if lines > LONG_SECTION_LINES else "<section>"
    return "\n".join([f"{start}<h2>{_e(heading)}</h2>", *body, "</section>"])


def _part(name: str, items: Sequence[Any]) -> str:
    """A named list of a section: kept on one page where it fits."""
    return f'<div class="part"><h3>{_e(name)} ({len(items)})</h3>{_item_list(items)}</div>'


def _list_lines(lists: Iterable[tuple[str, Sequence[Any]]]) -> int:
    return sum(2 + min(len(items), LIST_LIMIT + 1) for _, items in lists)


def _table(heads: Sequence[str], rows: Iterable[Sequence[object]], numeric: Sequence[bool]) -> str:
    """A table whose header is a thead (repeated on each printed page the table runs onto);
    a number column is right-aligned, its header with it."""
    def cell(tag: str, text: object, number: bool) -> str:
        return f'<{tag} class="n">{_e(text)}</{tag}>' if number else f"<{tag}>{_e(text)}</{tag}>"

    head = "".join(cell("th", text, number) for text, number in zip(heads, numeric, strict=True))
    body = "".join("<tr>" + "".join(cell("td", text, number) for text, number in zip(row, numeric, strict=True))
                   + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _item_list(items: Iterable[Any], limit: int = LIST_LIMIT) -> str:
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
    charts = MAIL if for_mail else SVG
    parts = [_headlines(review), _decisions(review), _goals(review), *_funnel(review, charts),
             _waterfall(review, charts), _figures(review), _bullets(review, charts), _weekly_trend(review, charts),
             *_monthly_trend(review, charts), _customers(review, charts), _stages(review), *_outlook(review),
             *_detail(review)]
    return "\n".join(["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
                      '<meta name="viewport" content="width=device-width, initial-scale=1">',
                      f"<title>{_e(title(review))}</title><style>{CSS}</style></head><body>", *parts,
                      "</body></html>"]) + "\n"


def _people(review: Review) -> list[Figures]:
    return [review.team, *review.reps] if review.who == "team" else [review.team]


def _headlines(review: Review) -> str:
    c, team, cur = review.changes, review.team, review.currency
    return "\n".join([
        f"<header><h1>{_e(title(review))}</h1>", '<div class="big">',
        f"<div>{_e(money(c.won_amount, cur))}<span>won this week ({counted(len(c.won), 'deal')})</span></div>",
        f"<div>{_e(money(team.pipeline, cur))}<span>open pipeline</span></div>",
        f"<div>{_e(money(team.weighted_quarter, cur))}<span>weighted forecast this quarter</span></div>",
        f"<div>{_e(money(team.won_quarter))} / {_e(money(team.target_quarter, cur))}"
        "<span>won this quarter / target</span></div>", "</div>",
        *([f"<p>{_e(rate_warning(team.without_rate))}</p>"] if team.without_rate else []), "</header>"])


def _decisions(review: Review) -> str:
    """What the meeting decided about its stalled, slipped and at-risk deals and customers."""
    if not review.decisions:
        return _section("Decisions in the meeting", '<p class="muted">None recorded.</p>')
    rows = [(d.title, d.owner, KIND_LABELS[d.kind], d.text, d.by) for d in review.decisions]
    return _section("Decisions in the meeting", _table(["About", "Owner", "Decision", "What", "Decided by"], rows,
                                                       [False] * 5), lines=len(rows) + 2)


def _goals(review: Review) -> str:
    colours = {" better": "#2e9d5b", " worse": "#d1495b"}
    rows = []
    for name, before, now, change in goal_rows(review):
        colour = next((c for word, c in colours.items() if change.endswith(word)), "")
        style = f' style="color:{colour}"' if colour else ""
        rows.append(f'<tr><td>{_e(name)}</td><td class="n">{_e(before)}</td><td class="n">{_e(now)}</td>'
                    f"<td{style}>{_e(change)}</td></tr>")
    return _section("The three figures", f'<p class="muted">{_e(GOALS_NOTE)}</p>',
                    '<table><thead><tr><th></th><th class="n">Before</th><th class="n">This quarter</th>'
                    f'<th>Change</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')


def _funnel(review: Review, charts: Charts) -> list[str]:
    if not review.funnel:  # a review built without its funnel (``store.review.build_review`` alone)
        return []
    return [_section("Lead funnel", f'<p class="muted">{_e(funnel_note(review))}</p>',
                     charts.funnel(review.funnel))]


def _waterfall(review: Review, charts: Charts) -> str:
    return _section("Pipeline waterfall", charts.waterfall(waterfall_bars(review.changes.waterfall), review.currency))


def _figures(review: Review) -> str:
    """Team and reps side by side, a few to a table: ten reps do not fit a page's width."""
    people = _people(review)
    retired = bool(review.team.retired_stage_deals)
    tables = []
    for first in range(0, len(people), FIGURES_PER_TABLE):
        group = people[first:first + FIGURES_PER_TABLE]
        columns = [figure_rows(f, retired=retired) for f in group]
        rows = [[label, *(column[index][1] for column in columns)] for index, (label, _) in enumerate(columns[0])]
        tables.append(_table(["", *(f.who for f in group)], rows, [False, *[True] * len(group)]))
    return _section("Figures", *tables, lines=len(tables) * (len(columns[0]) + 2))


def _bullets(review: Review, charts: Charts) -> str:
    return _section("Won and weighted forecast against target, this quarter",
                    '<p class="muted">Dark: won. Light: won and the weighted forecast. The mark: the target.</p>',
                    charts.bullets(_people(review), review.currency))


def _trend_chart(name: str, chart: str, first: str, last: str) -> str:
    """One series of a trend: its chart, and its first and last values in words."""
    return (f"<div><h3>{_e(name.capitalize())}</h3>{chart}"
            f'<p class="muted">{_e(first)} · {_e(last)}</p></div>')


def _weekly_trend(review: Review, charts: Charts) -> str:
    trend = review.team.trend
    weeks = [f"W{review.week.step(-i).number}" for i in reversed(range(len(next(iter(trend.values())))))]
    return _section("Trend, 12 weeks", '<div class="charts">', *(
        _trend_chart(name, charts.bars(values, weeks), f"{weeks[0]}: {values[0]:,.0f}",
                     f"{weeks[-1]}: {values[-1]:,.0f}") for name, values in trend.items()), "</div>")


def _monthly_trend(review: Review, charts: Charts) -> list[str]:
    trend, months = review.team.monthly_trend, review.months
    if not trend:  # a review built without it (``store.review.build_review`` alone)
        return []
    first, last = month_ends(review)
    return [_section("Trend, 12 months", '<p class="muted">Calendar months; the last one to the week\'s end.</p>',
                     '<div class="charts">', *(
                         _trend_chart(name, charts.line(values, months), f"{first}: {values[0]:,.0f}",
                                      f"{last}: {values[-1]:,.0f}") for name, values in trend.items()), "</div>")]


def _customers(review: Review, charts: Charts) -> str:
    cf = review.customers
    return _section("Customers", f"<p>Active: {cf.active} · churned this quarter: {cf.churned} (churn rate "
                    f"{percent(cf.churn_rate)}) · repeat-purchase rate: {percent(cf.repeat_rate)}</p>",
                    "<h3>New opportunities a month</h3>",
                    charts.bars([n for _, n in cf.new_deals_per_month], [m for m, _ in cf.new_deals_per_month]))


def _stages(review: Review) -> str:
    rows = [(label, f"{configured}%", percent(measured)) for label, configured, measured in stage_rows(review)]
    return _section("Stage probabilities", '<p class="muted">Of the deals that reached each stage in the last six '
                    "months and have closed since, the share won, beside the probability the forecast uses.</p>",
                    _table(["Stage", "Configured", "Measured"], rows, [False, True, True]))


def _outlook(review: Review) -> list[str]:
    return [_section(heading, *(_part(name, items) for name, items in lists), lines=_list_lines(lists))
            for heading, lists in (("Risks", risk_lists(review)), ("Next week", next_week_lists(review)))]


def _detail(review: Review) -> list[str]:
    c = review.changes
    leads = _section("The week in detail: leads", f"<p>New: {c.new_leads} · converted: {c.converted} · "
                     f"disqualified: {c.disqualified}</p>",
                     _table(["Source", "New"], c.new_leads_by_source.items(), [False, True]),
                     lines=len(c.new_leads_by_source) + 3)
    changes = change_lists(review)
    parts = [_part(name, items) for name, items in changes]
    if c.lost_reasons:
        parts.append("<p>Lost reasons: " + _e(", ".join(f"{k} {v}" for k, v in c.lost_reasons.items())) + "</p>")
    return [leads, _section("The week in detail: opportunities", *parts, lines=_list_lines(changes))]
