"""Slides that fill the room: the headline figures are drawn as large as the screen allows
(a quarter of its height on a projector), whole at every size from 80x24 to 250x70, read
back from the rendered screen glyph by glyph."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from rich.text import Text

from store.database import Store
from store.models import Customer, Opportunity
from tests.tui.conftest import at
from tests.tui.svg_text import svg_lines
from tests.tui.test_review_snapshots import SLIDES, _slide, cut_lines
from tui.app import DealdeckApp
from tui.screens.present import PresentScreen, money_forms
from tui.widgets.bars import rows_needed, thick_bars, thickness_for
from tui.widgets.big_figure import BigFigure, big_height, big_lines, big_width, choose
from tui.widgets.waterfall import WaterfallChart

SIZES = [(80, 24), (100, 30), (120, 40), (200, 55), (250, 70)]


def drawn_at(lines: list[str], form: str) -> int:
    """The scale at which ``form`` is drawn somewhere on the screen, whole (0: nowhere)."""
    for scale in range(8, 0, -1):
        block = big_lines(form, scale)
        width, screen_width = len(block[0]), max(map(len, lines), default=0)
        padded = [line.ljust(screen_width) for line in lines]  # the screenshot drops trailing spaces
        for top in range(len(lines) - len(block) + 1):
            for left in range(screen_width - width + 1):
                if all(padded[top + k][left:left + width] == row for k, row in enumerate(block)):
                    return scale
    return 0


async def headlines(folder: Path, size: tuple[int, int]) -> tuple[list[str], list[tuple[str, ...]]]:
    """The headline slide's lines and the forms each of its three figures may take."""
    with Store(folder) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=size) as pilot:
            await _slide(SLIDES["headlines"])(pilot)
            screen = app.screen
            assert isinstance(screen, PresentScreen)
            forms = [figure.forms for figure in screen.query(BigFigure)]
            return svg_lines(app.export_screenshot()), forms


# -- the font and the choice of form ------------------------------------------------------------------------------
def test_a_figure_is_drawn_in_half_blocks_two_pixels_a_cell() -> None:
    assert big_lines("1", 1) == (" ▄█  ", "  █  ", "  █  ", " ▀▀▀ ")
    assert big_lines("1", 2)[:2] == ("    ██    ", "  ████    ")  # a pixel 2x2 cells: one cell tall
    for scale in (1, 2, 3, 4):
        block = big_lines("4.2M", scale)
        assert len(block) == big_height(scale) == (7 * scale + 1) // 2
        assert {len(row) for row in block} == {big_width("4.2M", scale)}
    assert big_width("4.2M", 1) == 5 + 2 + 5 + 5 + 3  # narrow point, one pixel between glyphs


def test_the_most_precise_form_wins_when_it_fits_and_a_shorter_one_when_not() -> None:
    forms = money_forms(Decimal("4213500"))
    assert forms == ("4,213,500", "4.2M", "4M")
    assert choose(forms, 200, 14) == ("4,213,500", 4)
    assert choose(forms, 60, 14) == ("4.2M", 3)  # seven digits: a third the size; 4M: a third larger
    assert choose(forms, 200, 30) == ("4.2M", 8)  # twice the size of seven digits
    assert choose(forms, 30, 14) == ("4M", 2)
    assert choose(forms, 60, 4) == ("4,213,500", 1)  # as large as 4.2M: the precise form
    assert choose(forms, 14, 4) == ("4M", 1)
    assert choose(forms, 8, 2) == ("4M", 0)  # no room to draw: plain text
    assert money_forms(Decimal("950")) == ("950", "950", "950")


def test_a_figure_the_font_cannot_draw_is_plain_text() -> None:
    assert choose(("n/a",), 200, 50) == ("n/a", 0)


# -- the slide on the screen ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
async def test_every_headline_figure_is_drawn_whole_with_its_label(big_week: Path, size: tuple[int, int]) -> None:
    lines, forms = await headlines(big_week, size)
    assert len(forms) == 3 and cut_lines(lines) == []
    text = "\n".join(lines)
    for label in ("Won this week", "Open pipeline", "Quarter: won + weighted, % of target"):
        assert label in text
    scales = [max(drawn_at(lines[:-1], form) for form in figure) for figure in forms]  # above the footer
    assert all(scales), text
    if size == (200, 55):  # a projector: each digit at least a quarter of the screen's height
        assert all(big_height(scale) >= 55 / 4 for scale in scales), scales
    if size == (80, 24):
        assert scales == [1, 1, 1]


async def test_a_figure_too_wide_for_the_screen_is_drawn_in_its_short_form(big_week: Path) -> None:
    with Store(big_week) as store:
        store.new(Opportunity, title="The whole continent", stage="quote", amount=987654321098,
                  customer_id=store.all(Customer)[0].id, created_at=at("2026-11-17"), expected_close="2026-12-18")
    lines, forms = await headlines(big_week, (80, 24))
    pipeline = forms[1]
    assert pipeline[0].startswith("987,6") and drawn_at(lines, pipeline[0]) == 0
    assert drawn_at(lines, pipeline[1]) or drawn_at(lines, pipeline[2]), "\n".join(lines)


async def test_the_quarter_headline_shows_its_percent_sign(big_week: Path) -> None:
    lines, forms = await headlines(big_week, (80, 24))
    share = forms[2][0]
    assert share.endswith("%") and drawn_at(lines, share)



# -- charts drawn thicker on a larger screen ------------------------------------------------------------------------
@pytest.mark.parametrize(("rows", "bars"), [(15, 9), (40, 7), (46, 9), (3, 7), (100, 2)])
def test_thick_bars_fit_their_rows(rows: int, bars: int) -> None:
    thickness = thickness_for(rows, bars)
    assert 1 <= thickness <= 5
    assert rows_needed(bars, thickness) <= max(rows, bars)  # one row a bar at the least
    if thickness < 5:  # one row thicker would not fit
        assert rows_needed(bars, thickness + 1) > rows


def test_a_thick_bar_has_its_label_on_its_middle_row_only() -> None:
    bars = [(Text("Won "), Text("███"), Text(" 4")), (Text("Lost"), Text("█  "), Text(" 1"))]
    assert thick_bars(bars, 3).plain.split("\n") == [
        "    ███", "Won ███ 4", "    ███", "", "    █  ", "Lost█   1", "    █  "]
    assert thick_bars(bars, 1).plain.split("\n") == ["Won ███ 4", "Lost█   1"]


async def test_the_waterfall_slide_fills_a_projector(big_week: Path) -> None:
    with Store(big_week) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=(200, 55)) as pilot:
            await _slide(SLIDES["waterfall"])(pilot)
            chart = app.screen.query_one(WaterfallChart)
            assert chart.thickness == 5 and chart.region.height == rows_needed(7, 5)
            assert chart.region.bottom < 55 - 3  # the summary line and the footer below it
