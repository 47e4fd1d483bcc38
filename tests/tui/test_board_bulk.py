"""The board's marks and bulk actions, saved views, deals in a currency without a rate,
and what its bars show in little room."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from store.config import load_config
from store.database import Store
from store.models import Customer, Opportunity
from tests.tui.conftest import at, deal_named, entered
from tests.tui.test_board_tab import board_of, column_titles, select, stages_of
from tui.app import DealdeckApp
from tui.widgets.board import CARD_HEIGHT


@pytest.fixture
def pipeline_store(deals: Path) -> Iterator[Store]:
    with Store(deals) as store:
        yield store


def notices(app: DealdeckApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def line_text(app: DealdeckApp, y: int) -> str:
    return board_of(app).board.render_line(y).text


async def test_marked_deals_move_in_one_transaction_and_one_undo(pipeline_store: Store) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("2", "O")
        await select(pilot, app, "Pump retrofit")
        await pilot.press("space")
        await select(pilot, app, "Valve line")
        await pilot.press("space")
        assert "2 marked" in str(app.query_one("#board-filters").render())
        assert "✓" in line_text(app, 3)  # the marked card's first line
        commits = pipeline_store.version
        await pilot.press("m", *"Quote", "enter")
        await pilot.pause()
        assert stages_of(pipeline_store, "Pump retrofit")[-1] == "quote"
        assert stages_of(pipeline_store, "Valve line")[-1] == "quote"
        assert pipeline_store.version == commits + 1  # one commit
        assert sorted(column_titles(app)["quote"]) == ["Pump retrofit", "Sensors", "Valve line"]
        assert "Moved 2 deals to Quote. ctrl+z undoes all of it." in notices(app)
        assert not board_of(app).marks
        await pilot.press("u")  # `u` takes back one deal's move: not half of a bulk move
        assert notices(app)[-1] == "No stage move to undo in this session."
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert deal_named(pipeline_store, "Pump retrofit").stage == "initial"
        assert deal_named(pipeline_store, "Valve line").stage == "needs"
        assert column_titles(app)["quote"] == ["Sensors"]
        assert notices(app)[-1].startswith("Undid: 2 opportunities")


async def test_mark_a_column_or_all_shown_then_set_close_date_and_owner(pipeline_store: Store) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("2", "O")
        await pilot.press("asterisk")
        assert len(board_of(app).marked_rows()) == 5
        await pilot.press("asterisk")  # all marked already: unmarks them
        assert not board_of(app).marks
        await select(pilot, app, "Sensors")
        await pilot.press("plus")  # the column: Sensors alone
        assert [r.title for r in board_of(app).marked_rows()] == ["Sensors"]
        await pilot.press("escape")  # esc clears the marks first
        assert not board_of(app).marks
        await pilot.press("asterisk", "b", *"expected", "enter", *"2027-01-31", "enter")
        await pilot.pause()
        assert {str(o.expected_close) for o in pipeline_store.all(Opportunity) if o.stage != "lost"} == {"2027-01-31"}
        await pilot.press("asterisk", "b", *"another", "enter", *"Bo", "enter")
        await pilot.pause()
        assert {o.owner for o in pipeline_store.all(Opportunity) if o.stage != "lost"} == {"bo"}


async def test_saved_views_keep_filter_and_sort_in_the_config(pipeline_store: Store) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("2")
        await pilot.press("V")
        assert "No saved views yet" in notices(app)[-1]
        await pilot.press("O", "R", "v", "o")  # team, at risk only, the list sorted
        tab = board_of(app)
        sort, reverse = tab.table.sort_key, tab.table.sort_reverse
        await pilot.press("W", *"Risky team deals", "enter")
        await pilot.pause()
        saved = load_config(pipeline_store.folder).deal_views
        assert [(v.name, v.owner, v.at_risk, v.sort, v.reverse) for v in saved] == [
            ("Risky team deals", None, True, sort, reverse)]
        assert "view “Risky team deals”" in str(app.query_one("#board-filters").render())
        await pilot.press("V", *"no view", "enter")  # back to my deals
        assert tab.filter.owner == "me" and not tab.filter.at_risk
        await pilot.press("V", *"Risky", "enter")
        assert tab.filter.owner == "team" and tab.filter.at_risk and tab.filter.view == "Risky team deals"
        await pilot.press("R")  # a change of filter: no longer the view
        assert "view “" not in str(app.query_one("#board-filters").render())


async def test_a_deal_in_a_currency_without_a_rate_says_so_and_is_counted_nowhere(pipeline_store: Store) -> None:
    acme = next(c for c in pipeline_store.all(Customer) if c.name == "Acme Pumps")
    pipeline_store.new(Opportunity, title="Swiss valves", customer_id=acme.id, stage="initial", amount=120000,
                       currency="CHF", created_at=at("2026-11-20"), stage_history=[entered("initial", "2026-11-20")],
                       expected_close="2026-12-10", next_step="Call")
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await select(pilot, app, "Swiss valves")
        assert any("120k CHF" in line_text(app, y) for y in range(3, 3 + CARD_HEIGHT))
        strip = str(app.query_one("#forecast-strip").render())
        assert "⚠ 1 deal in CHF has no rate: not in the totals" in strip
        initial = next(c for c in board_of(app).board.columns if c.key == "initial")
        assert (initial.total.count, initial.total.amount) == (2, Decimal(12000))
        await pilot.press("v")
        assert "120k CHF" in [cell for cell, _ in board_of(app).cells(board_of(app).table.current)]  # type: ignore[arg-type]
        assert "1 deal ·" not in str(app.query_one("#board-filters").render())  # 3 deals: a plural


async def test_a_scrolled_column_says_how_many_cards_are_above(pipeline_store: Store) -> None:
    acme = next(c for c in pipeline_store.all(Customer) if c.name == "Acme Pumps")
    for number in range(8):
        pipeline_store.new(Opportunity, title=f"Pump {number}", customer_id=acme.id, stage="initial", amount=100,
                           created_at=at("2026-11-20"), stage_history=[entered("initial", "2026-11-20")])
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        assert "↑" not in line_text(app, 2)
        await pilot.press("end")
        await pilot.pause()
        column = board_of(app).board.column
        assert column is not None and column.top > 0
        assert f"↑ {column.top} more" in line_text(app, 2)
        await pilot.press("home")
        await pilot.pause()
        assert "↑" not in line_text(app, 2)


async def test_column_heads_and_the_strip_fit_80_columns(pipeline_store: Store) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "O")
        await pilot.pause()
        heads = line_text(app, 0) + line_text(app, 1)
        assert "…" not in heads  # "Initial contact" whole; totals without a cut figure
        strip = str(app.query_one("#forecast-strip").render()).splitlines()
        assert all(len(line) <= 78 for line in strip) and "coverage" in strip[1]


async def test_one_deal_at_risk_is_one_deal(pipeline_store: Store) -> None:
    pipeline_store.update(Opportunity, deal_named(pipeline_store, "Sensors").id, next_step="Send the quote")
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("2")
        await pilot.pause()
        assert "· 1 deal at risk ·" in str(app.query_one("#app-header").render())
        await pilot.press("slash", *"sensors", "enter")
        assert str(app.query_one("#board-filters").render()).startswith("1 deal · 0 at risk")
