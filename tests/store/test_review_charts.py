"""The waterfall's geometry (``store.review_charts``), and the same bars in the report's
SVG: each step starts where the one before ended, and the end bar is the open pipeline
at the week's end, to the cent."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from store.database import Store
from store.review import Week
from store.review_charts import waterfall_bars
from store.review_week import Waterfall
from tests.store.test_review import history  # noqa: F401  (the hand-built fixture)
from tui.report import collect_review, to_html
from tui.report_charts import MIN_BAR_PX, WATERFALL_COLOURS

TODAY = date(2026, 11, 25)
cents = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)


def check_geometry(fall: Waterfall) -> None:
    bars = waterfall_bars(fall)
    assert [bar.kind for bar in (bars[0], bars[-1])] == ["total", "total"]
    assert (bars[0].start, bars[0].end, bars[-1].start) == (0, fall.start, 0)
    level = bars[0].end
    for bar in bars[1:-1]:
        assert bar.start == level  # from where the bar before ended
        assert bar.kind == ("up" if bar.end >= bar.start else "down")
        level = bar.end
    assert level == bars[-1].end == fall.end  # exactly: Decimals, to the cent
    assert [bar.amount for bar in bars[1:-1]] == [fall.new, fall.increased, -fall.decreased, -fall.won, -fall.lost]


@given(cents, cents, cents, cents, cents, cents)
def test_every_step_floats_from_where_the_one_before_ended(start: Decimal, new: Decimal, increased: Decimal,
                                                          decreased: Decimal, won: Decimal, lost: Decimal) -> None:
    end = start + new + increased - decreased - won - lost
    fall = Waterfall(start=start, new=new, increased=increased, decreased=decreased, won=won, lost=lost, end=end)
    assert fall.balances()
    check_geometry(fall)


def test_the_review_waterfall_ends_at_the_weeks_open_pipeline(history: Store) -> None:  # noqa: F811
    review = collect_review(history, Week(2026, 47), None, TODAY)
    fall = review.changes.waterfall
    check_geometry(fall)
    assert waterfall_bars(fall)[-1].end == review.team.pipeline  # the headline's open pipeline


def test_the_reports_bars_touch_where_the_steps_meet(history: Store) -> None:  # noqa: F811
    review = collect_review(history, Week(2026, 47), None, TODAY)
    svg = to_html(review).split('aria-label="Pipeline waterfall">', 1)[1].split("</svg>", 1)[0]
    kinds = {colour: kind for kind, colour in WATERFALL_COLOURS.items()}
    rects = [(float(x), float(w), kinds[fill])
             for x, w, fill in re.findall(r'<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)" height="16" fill="(#\w+)"',
                                          svg)]
    assert len(rects) == 7 and rects[0][2] == rects[-1][2] == "total"

    def ends(rect: tuple[float, float, str]) -> tuple[float, float]:
        """Where the bar starts and where it ends, along its direction."""
        x, w, kind = rect
        return (x + w, x) if kind == "down" else (x, x + w)

    for before, bar in pairwise(rects[:-1]):  # each step and the bar before it
        assert abs(ends(bar)[0] - ends(before)[1]) <= MIN_BAR_PX + 0.1  # a bar too small is drawn this wide
    assert abs(ends(rects[-2])[1] - ends(rects[-1])[1]) <= MIN_BAR_PX + 0.1  # the last step ends at the end bar
