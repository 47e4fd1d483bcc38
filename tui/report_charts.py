"""The review report's charts: SVG for a browser, tables of bars for a mail program (which
strips SVG and most of a page's stylesheet). The geometry is ``store.review_charts``'s."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from decimal import Decimal

from store.funnel import FunnelStep
from store.pipeline import money, short_money
from store.review import Figures
from store.review_charts import FloatingBar, scale_top
from tui.report_text import month_name, percent


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _svg_open(width: float, height: float, label: str = "") -> str:
    """An inline SVG's start tag; its view box lets a narrow page or paper scale it down."""
    named = f' aria-label="{_e(label)}"' if label else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img"{named}>')


def nice_step(top: float, ticks: int = 4) -> float:
    """A round step (1, 2 or 5 times a power of ten) cutting 0..``top`` in ``ticks`` parts at most."""
    raw = max(top, 1) / ticks
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def svg_bars(values: Sequence[float], labels: Sequence[str], *, width: int = 560, height: int = 110) -> str:
    """A small inline SVG bar chart."""
    top = max(values, default=0) or 1
    gap, count = 4, max(len(values), 1)
    bar = (width - gap * (count - 1)) / count
    parts = [_svg_open(width, height + 18)]
    for index, (value, label) in enumerate(zip(values, labels, strict=True)):
        tall = max(value / top * height, 1 if value else 0)
        x = index * (bar + gap)
        parts.append(f'<rect x="{x:.1f}" y="{height - tall:.1f}" width="{bar:.1f}" height="{tall:.1f}" '
                     f'fill="#5aa9e6"><title>{_e(label)}: {value:,.0f}</title></rect>')
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{height + 14}" font-size="10" text-anchor="middle" '
                     f'fill="#556">{_e(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


WATERFALL_COLOURS = {"total": "#5aa9e6", "up": "#2e9d5b", "down": "#d1495b"}
#: the narrowest bar drawn: a 20k change beside a 4M pipeline is still seen
MIN_BAR_PX = 1.5


def signed(bar: FloatingBar, currency: str = "") -> str:
    if bar.kind == "total" or not bar.amount:  # a step of nothing is 0, not "+0"
        return money(bar.amount, currency)
    return ("+" if bar.amount > 0 else "−") + money(abs(bar.amount), currency)


def waterfall_svg(bars: Sequence[FloatingBar], currency: str = "", *, width: int = 640) -> str:
    """Floating bars (``store.review_charts``), each with its amount, over a value axis."""
    label_width, row, chart = 150, 24, width - 150 - 110
    top = float(scale_top(list(bars)))
    height = row * len(bars) + 26

    def x(value: Decimal) -> float:
        return label_width + max(float(value), 0) / top * chart

    parts = [_svg_open(width, height, "Pipeline waterfall")]
    for index, bar in enumerate(bars):
        y = index * row + 4
        left, right = x(bar.low), x(bar.high)
        if right - left < MIN_BAR_PX:  # seen, and drawn from where it starts
            left, right = (left, left + MIN_BAR_PX) if bar.kind != "down" else (right - MIN_BAR_PX, right)
        parts.append(f'<text x="0" y="{y + 13}" font-size="12" fill="#1d232b">{_e(bar.label)}</text>')
        parts.append(f'<rect x="{left:.1f}" y="{y}" width="{right - left:.1f}" height="16" '
                     f'fill="{WATERFALL_COLOURS[bar.kind]}"><title>{_e(bar.label)}: {_e(signed(bar, currency))}'
                     "</title></rect>")
        parts.append(f'<text x="{right + 4:.1f}" y="{y + 13}" font-size="11" fill="#334">'
                     f"{_e(signed(bar, currency))}</text>")
    axis = row * len(bars) + 6
    parts.append(f'<line x1="{label_width}" y1="{axis}" x2="{label_width + chart}" y2="{axis}" stroke="#889"/>')
    for step in range(5):
        value = Decimal(str(top)) * step / 4
        parts.append(f'<text x="{x(value):.1f}" y="{axis + 15}" font-size="10" text-anchor="middle" '
                     f'fill="#556">{_e(short_money(value))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def waterfall_mail(bars: Sequence[FloatingBar], currency: str = "") -> str:
    """The same floating bars as a table that mail programs show (no SVG, inline styles)."""
    top = scale_top(list(bars))
    rows = []
    for bar in bars:
        left = max(bar.low, Decimal(0)) / top * 100
        length = max((bar.high - max(bar.low, Decimal(0))) / top * 100, Decimal("0.5"))
        rows.append(f'<tr><td style="padding:1px 6px">{_e(bar.label)}</td>'
                    f'<td style="padding:1px 6px;text-align:right">{_e(signed(bar, currency))}</td>'
                    f'<td style="padding:1px 0;width:360px"><div style="margin-left:{left:.1f}%;width:{length:.1f}%;'
                    f'height:12px;background:{WATERFALL_COLOURS[bar.kind]}"></div></td></tr>')
    return f'<table style="border-collapse:collapse;margin:.3em 0 1em">{"".join(rows)}</table>'


BULLET_COLOURS = {"won": "#1f6fb2", "weighted": "#9cc9ef", "room": "#e6e9ef", "target": "#1d232b"}


def bullets_svg(people: Sequence[Figures], currency: str = "", *, width: int = 640) -> str:
    """Per person, won this quarter and won + weighted forecast as bars over a track, the
    quarter's target as a mark across them: how far each is from the target at a glance."""
    label_width, row, chart = 150, 26, width - 150 - 130
    top = max((max(float(f.won_quarter + f.weighted_quarter), float(f.target_quarter)) for f in people),
              default=0.0) or 1.0
    parts = [_svg_open(width, row * len(people) + 6, "Won and weighted forecast against target")]
    for index, f in enumerate(people):
        y = index * row + 4
        won = float(f.won_quarter) / top * chart
        ahead = float(f.won_quarter + f.weighted_quarter) / top * chart
        target = float(f.target_quarter) / top * chart
        summary = (f"won {money(f.won_quarter, currency)} + weighted {money(f.weighted_quarter, currency)} "
                   f"of {money(f.target_quarter, currency)}")
        parts += [f'<text x="0" y="{y + 14}" font-size="12" fill="#1d232b">{_e(f.who)}</text>',
                  f'<rect x="{label_width}" y="{y}" width="{chart}" height="18" fill="{BULLET_COLOURS["room"]}"/>',
                  f'<rect x="{label_width}" y="{y + 4}" width="{ahead:.1f}" height="10" '
                  f'fill="{BULLET_COLOURS["weighted"]}"/>',
                  f'<rect x="{label_width}" y="{y + 4}" width="{won:.1f}" height="10" fill="{BULLET_COLOURS["won"]}">'
                  f"<title>{_e(f.who)}: {_e(summary)}</title></rect>",
                  f'<rect class="target" x="{label_width + target - 1:.1f}" y="{y}" width="2" height="18" '
                  f'fill="{BULLET_COLOURS["target"]}"/>',
                  f'<text x="{label_width + chart + 6}" y="{y + 14}" font-size="11" fill="#334">'
                  f"{_e(_share_text(f))} of target</text>"]
    parts.append("</svg>")
    return "".join(parts)


def bullets_mail(people: Sequence[Figures], currency: str = "") -> str:
    """The same bullets as a table of bars that mail programs show."""
    top = max((max(f.won_quarter + f.weighted_quarter, f.target_quarter) for f in people), default=Decimal(0)) \
        or Decimal(1)
    rows = []
    for f in people:
        won, weighted = f.won_quarter / top * 100, f.weighted_quarter / top * 100
        rows.append(f'<tr><td style="padding:1px 6px">{_e(f.who)}</td><td style="padding:1px 0;width:360px">'
                    f'<div style="background:{BULLET_COLOURS["room"]};height:12px;white-space:nowrap;font-size:0">'
                    f'<div style="display:inline-block;width:{won:.1f}%;height:12px;'
                    f'background:{BULLET_COLOURS["won"]}"></div><div style="display:inline-block;'
                    f'width:{weighted:.1f}%;height:12px;background:{BULLET_COLOURS["weighted"]}"></div></div></td>'
                    f'<td style="padding:1px 6px">{_e(_share_text(f))} of {_e(money(f.target_quarter, currency))}'
                    "</td></tr>")
    return f'<table style="border-collapse:collapse;margin:.3em 0 1em">{"".join(rows)}</table>'


def _share_text(f: Figures) -> str:
    """Won plus weighted forecast, as a share of the quarter's target."""
    return f"{(f.won_quarter + f.weighted_quarter) / f.target_quarter * 100:.0f}%" if f.target_quarter else "–"


def mail_bars(values: Sequence[float], labels: Sequence[str]) -> str:
    """The same chart as rows of bars drawn with inline styles: mail programs strip SVG
    (and most a page's stylesheet), but show a table."""
    top = max(values, default=0) or 1
    rows = "".join(
        f'<tr><td style="padding:1px 6px;color:#556">{_e(label)}</td><td style="padding:1px 0;width:360px">'
        f'<div style="background:#5aa9e6;height:10px;width:{max(value, 0) / top * 100:.1f}%"></div></td>'
        f'<td style="padding:1px 6px;text-align:right">{value:,.0f}</td></tr>'
        for value, label in zip(values, labels, strict=True))
    return f'<table style="border-collapse:collapse;margin:.3em 0 1em">{rows}</table>'


FUNNEL_COLOURS = {"step": "#5aa9e6", "won": "#2e9d5b"}


def _funnel_text(step: FunnelStep) -> str:
    """A step's count, and the share of the step before that reached it."""
    return f"{step.count:,}" + ("" if step.conversion is None else f" ({percent(step.conversion)})")


def funnel_svg(steps: Sequence[FunnelStep], *, width: int = 640) -> str:
    """The lead funnel as bars as long as their counts on one axis (the first step's count at
    most, as every step is part of the one before), each with its count and conversion."""
    label_width, row, chart = 150, 24, width - 150 - 110
    top = max((step.count for step in steps), default=0) or 1
    axis = row * len(steps) + 6
    parts = [_svg_open(width, axis + 36, "Lead funnel")]
    for index, step in enumerate(steps):
        y, length = index * row + 4, step.count / top * chart
        colour = FUNNEL_COLOURS["won" if index == len(steps) - 1 else "step"]
        parts += [f'<text x="0" y="{y + 13}" font-size="12" fill="#1d232b">{_e(step.label)}</text>',
                  f'<rect class="funnel-bar" x="{label_width}" y="{y}" width="{length:.2f}" height="16" '
                  f'fill="{colour}"><title>{_e(step.label)}: {_e(_funnel_text(step))}</title></rect>',
                  f'<text class="funnel-figure" x="{label_width + length + 4:.1f}" y="{y + 13}" font-size="11" '
                  f'fill="#334">{_e(_funnel_text(step))}</text>']
    parts.append(f'<line x1="{label_width}" y1="{axis}" x2="{label_width + chart}" y2="{axis}" stroke="#889"/>')
    step_size = max(nice_step(top), 1)
    for tick in range(int(top // step_size) + 1):
        x = label_width + tick * step_size / top * chart
        parts.append(f'<text x="{x:.1f}" y="{axis + 14}" font-size="10" text-anchor="middle" fill="#556">'
                     f"{tick * step_size:,.0f}</text>")
    parts.append(f'<text x="{label_width + chart / 2:.1f}" y="{axis + 30}" font-size="10" text-anchor="middle" '
                 'fill="#556">leads, then their deals (in brackets: the share of the step before)</text></svg>')
    return "".join(parts)


def funnel_mail(steps: Sequence[FunnelStep]) -> str:
    """The same funnel as a table of bars that mail programs show."""
    top = max((step.count for step in steps), default=0) or 1
    rows = []
    for index, step in enumerate(steps):
        colour = FUNNEL_COLOURS["won" if index == len(steps) - 1 else "step"]
        rows.append(f'<tr><td style="padding:1px 6px">{_e(step.label)}</td><td style="padding:1px 0;width:360px">'
                    f'<div style="background:{colour};height:12px;width:{step.count / top * 100:.1f}%"></div></td>'
                    f'<td style="padding:1px 6px;text-align:right">{step.count:,}</td>'
                    f'<td style="padding:1px 6px;text-align:right">{_e(percent(step.conversion))}</td></tr>')
    return f'<table style="border-collapse:collapse;margin:.3em 0 1em">{"".join(rows)}</table>'


def line_svg(values: Sequence[float], months: Sequence[str], *, width: int = 560, height: int = 100) -> str:
    """A monthly trend as a line over a value axis (0 to a round top), each month named under
    it (the year under the first and each January), its first and last values by their points."""
    if not values:
        return ""
    left, right, over = 44, 70, 16
    plot = width - left - right
    step = max(nice_step(max(values)), 1)
    ticks = max(math.ceil(max(values) / step), 1)
    top = step * ticks

    def x(index: int) -> float:
        return left + index * plot / max(len(values) - 1, 1)

    def y(value: float) -> float:
        return over + (1 - value / top) * height

    base = y(0)
    parts = [_svg_open(width, base + 32),
             f'<line x1="{left}" y1="{over}" x2="{left}" y2="{base}" stroke="#889"/>',
             f'<line x1="{left}" y1="{base}" x2="{left + plot}" y2="{base}" stroke="#889"/>']
    for tick in range(ticks + 1):
        parts.append(f'<text x="{left - 4}" y="{y(tick * step) + 4:.1f}" font-size="10" text-anchor="end" '
                     f'fill="#556">{_e(short_money(Decimal(tick * step)))}</text>')
    for index, month in enumerate(months):
        parts.append(f'<text x="{x(index):.1f}" y="{base + 13:.1f}" font-size="10" text-anchor="middle" '
                     f'fill="#556">{month_name(month, year=False)}</text>')
        if index == 0 or month.endswith("-01"):
            parts.append(f'<text x="{x(index):.1f}" y="{base + 25:.1f}" font-size="9" text-anchor="middle" '
                         f'fill="#889">{month[:4]}</text>')
    points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
    parts.append(f'<polyline points="{points}" fill="none" stroke="#1f6fb2" stroke-width="2"/>')
    # the first value over its point (the axis is to its left), the last to the right of its point
    for index, role, dx, dy in ((0, "first", 0, -7), (len(values) - 1, "last", 6, 4)):
        value = values[index]
        parts += [f'<circle cx="{x(index):.1f}" cy="{y(value):.1f}" r="3" fill="#1f6fb2">'
                  f"<title>{month_name(months[index])}: {value:,.0f}</title></circle>",
                  f'<text class="{role}" x="{x(index) + dx:.1f}" y="{y(value) + dy:.1f}" font-size="11" '
                  f'fill="#1d232b">{value:,.0f}</text>']
    parts.append("</svg>")
    return "".join(parts)
