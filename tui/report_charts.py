"""The review report's charts: SVG for a browser, tables of bars for a mail program (which
strips SVG and most of a page's stylesheet). The geometry is ``store.review_charts``'s."""

from __future__ import annotations

import html
from collections.abc import Sequence
from decimal import Decimal

from store.pipeline import money, short_money
from store.review import Figures
from store.review_charts import FloatingBar, scale_top


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def svg_bars(values: Sequence[float], labels: Sequence[str], *, width: int = 560, height: int = 110) -> str:
    """A small inline SVG bar chart."""
    top = max(values, default=0) or 1
    gap, count = 4, max(len(values), 1)
    bar = (width - gap * (count - 1)) / count
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 18}" role="img">']
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
    if bar.kind == "total":
        return money(bar.amount, currency)
    return ("+" if bar.amount >= 0 else "−") + money(abs(bar.amount), currency)


def waterfall_svg(bars: Sequence[FloatingBar], currency: str = "", *, width: int = 640) -> str:
    """Floating bars (``store.review_charts``), each with its amount, over a value axis."""
    label_width, row, chart = 150, 24, width - 150 - 110
    top = float(scale_top(list(bars)))
    height = row * len(bars) + 26

    def x(value: Decimal) -> float:
        return label_width + max(float(value), 0) / top * chart

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="Pipeline waterfall">']
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
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{row * len(people) + 6}" '
             'role="img" aria-label="Won and weighted forecast against target">']
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
