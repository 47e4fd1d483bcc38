"""The board, the review tab and every presentation slide as pictures, at 80x24 and 200x55
(and 120x40 for the slides), on a week with seven-figure amounts; and the text of each
screen read back to check that no figure, label or summary is cut."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from store.database import Store
from store.models import Customer, Opportunity
from tests.tui.conftest import at, entered
from tests.tui.svg_text import svg_lines
from tui.app import DealdeckApp

SLIDES = {"headlines": 0, "funnel": 1, "waterfall": 2, "goals": 3, "rep": 4, "at-risk": 6, "next-week": 7,
          "decisions": 8}
SIZES = {"80x24": (80, 24), "200x55": (200, 55)}


async def _review_ready(pilot: Any) -> None:
    from tests.tui.test_review_tab import ready

    await pilot.press("4")
    await ready(pilot, pilot.app)
    pilot.app.clear_notifications()  # the start-up notice would cover what is checked
    await pilot.pause()


def _slide(index: int) -> Any:
    async def present(pilot: Any) -> None:
        await _review_ready(pilot)
        await pilot.press("p", *["space"] * index)
        await pilot.pause()

    return present


async def _board(pilot: Any) -> None:
    await pilot.press("2", "O")
    pilot.app.clear_notifications()
    await pilot.pause()


# -- pictures -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_board(snap_compare: Any, big_week: Path, size: tuple[int, int]) -> None:
    with Store(big_week) as store:
        assert snap_compare(DealdeckApp(store), terminal_size=size, run_before=_board)


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_review_tab(snap_compare: Any, big_week: Path, size: tuple[int, int]) -> None:
    with Store(big_week) as store:
        assert snap_compare(DealdeckApp(store), terminal_size=size, run_before=_review_ready)


@pytest.mark.parametrize("size", [*SIZES.values(), (120, 40)], ids=[*SIZES.keys(), "120x40"])
@pytest.mark.parametrize("slide", SLIDES)
def test_slide(snap_compare: Any, big_week: Path, size: tuple[int, int], slide: str) -> None:
    with Store(big_week) as store:
        assert snap_compare(DealdeckApp(store), terminal_size=size, run_before=_slide(SLIDES[slide]))


# -- nothing cut ------------------------------------------------------------------------------------------


async def screen_lines(folder: Path, size: tuple[int, int], before: Any) -> list[str]:
    with Store(folder) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=size) as pilot:
            await before(pilot)
            await pilot.pause()
            return svg_lines(app.export_screenshot())


def cut_lines(lines: list[str]) -> list[str]:
    """Lines that end in an ellipsis: something did not fit (a list's "… and 3 more" is
    a count, not a cut)."""
    return [line for line in lines if line.rstrip().endswith("…") and "… and" not in line]


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 55), (250, 70)],
                         ids=["80x24", "120x40", "200x55", "250x70"])
@pytest.mark.parametrize("slide", SLIDES)
async def test_no_slide_cuts_a_line(big_week: Path, size: tuple[int, int], slide: str) -> None:
    lines = await screen_lines(big_week, size, _slide(SLIDES[slide]))
    assert cut_lines(lines) == []
    if slide == "waterfall":
        text = " ".join(lines)
        assert "start " in text and "= end 4," in text  # the whole sum, over two lines if need be
    if slide == "rep":
        assert any("quarter 1,255,000 of 4,500,000" in line for line in lines)
        assert any("│" in line and line.rstrip().endswith("of target") for line in lines)  # the bullet bar
    if slide == "goals":  # each figure whole: its name, before and now
        text = " ".join(lines)
        assert all(f"{name}:" in text for name in ("New opportunities a month", "Win rate", "Customer churn"))
        assert sum(line.count("→") for line in lines if "→ next" not in line) == 3


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
async def test_the_review_tab_cuts_no_label_or_amount(big_week: Path, size: tuple[int, int]) -> None:
    lines = await screen_lines(big_week, size, _review_ready)
    assert cut_lines(lines) == []
    headline = " ".join(lines[4:7])
    assert "Won this week 1 deal, 1,250,000" in headline
    assert "Open pipeline 4,2" in headline and "Won this quarter 1,255,000 of 4,500,000" in headline


async def test_the_trend_is_one_line_per_figure(big_week: Path) -> None:
    lines = await screen_lines(big_week, (200, 80), _review_ready)
    trend = [line.strip() for line in lines if "this week" in line and "▁" in line + "█"]
    assert [line.split()[0] for line in trend] == ["new", "new", "activities", "won"]
    assert all(line.count("this week") == 1 for line in trend)


async def _monthly_trend_in_view(pilot: Any) -> None:
    from textual.widgets import Static

    await _review_ready(pilot)
    heading = next(w for w in pilot.app.query(Static) if str(w.render()).startswith("Trend, 12 months"))
    pilot.app.query_one("#review-body").scroll_to_widget(heading, animate=False, top=True)
    await pilot.pause()


async def test_the_monthly_trend_fits_80_columns_a_line_per_figure(big_week: Path) -> None:
    lines = await screen_lines(big_week, (80, 24), _monthly_trend_in_view)
    text = "\n".join(lines)
    assert "Trend, 12 months (Dec 2025 – Nov 2026): the first, the line, this month" in text, text
    trend = [line.strip() for line in lines if "this month" in line and "▁" in line + "█"]
    assert [line.split()[0] for line in trend] == ["new", "new", "activities", "won"], text
    # the first month's value, the line, November's (the big week's 1,250,000 and the accounts' 5,000)
    assert trend[-1].startswith("won               0 ") and trend[-1].endswith("this month 1,255,000"), text
    assert cut_lines(lines) == [] and all(len(line) <= 80 for line in lines)


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
async def test_the_board_cuts_no_column_head_or_strip_figure(big_week: Path, size: tuple[int, int]) -> None:
    lines = await screen_lines(big_week, size, _board)
    heads = lines[4:6]
    assert "…" not in "".join(heads)
    strip = lines[-4:-1]
    assert any("coverage" in line for line in strip) and cut_lines(strip) == []


@pytest.fixture
def long_names(big_week: Path) -> Path:
    """A stale deal with a long name, closing next week: its slide lines are wider than 80."""
    with Store(big_week) as store:
        acme = next(c for c in store.all(Customer) if c.name == "Acme Pumps")
        store.new(Opportunity, title="Cobalt Northern Medical GmbH: the whole sensor line", customer_id=acme.id,
                  stage="initial", amount=59500, expected_close="2026-11-26", next_step="Call",
                  created_at=at("2026-09-01"), stage_history=[entered("initial", "2026-10-01")])
    return big_week


async def test_slide_lists_wrap_long_items_and_never_cut_a_figure(long_names: Path) -> None:
    rep = await screen_lines(long_names, (80, 24), _slide(SLIDES["rep"]))
    text = "\n".join(rep)
    assert cut_lines(rep) == [], text
    assert "Cobalt Northern Medical GmbH: the whole sensor line" in text and "(limit 14d)" in text, text
    closing = await screen_lines(long_names, (80, 24), _slide(SLIDES["next-week"]))
    text = "\n".join(closing)
    assert cut_lines(closing) == [] and "2026-11-26 · 59,500" in text, text


def test_a_wide_item_takes_more_lines_broken_between_its_parts() -> None:
    from tui.screens.present import wrap_items

    items = [["Cobalt Northern Medical GmbH: first deal", "ann", "no activity for 20d (limit 14d)"]] * 3
    lines = wrap_items(items, 60, 5)
    assert lines == ["Cobalt Northern Medical GmbH: first deal · ann", "  no activity for 20d (limit 14d)",
                     "Cobalt Northern Medical GmbH: first deal · ann", "  no activity for 20d (limit 14d)",
                     "… and 1 more"]
    assert wrap_items(items[:1], 200, 1) == ["Cobalt Northern Medical GmbH: first deal · ann · no activity for 20d "
                                             "(limit 14d)"]
