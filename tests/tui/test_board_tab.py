"""The opportunity board driven for real: keys in, stored records and stage history out."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from rich.console import Console

from store.database import Store
from store.errors import ValidationFailed
from store.models import Customer, Opportunity, Quote, QuoteLine, Task
from tests.tui.conftest import deal_named
from tui.app import DealdeckApp
from tui.screens.customer import CustomerScreen
from tui.screens.dialogs import ConfirmScreen, PickScreen
from tui.screens.form import FormScreen
from tui.screens.opportunity import OpportunityScreen, parse_quote_lines, quote_table
from tui.tabs.board import BoardTab
from tui.widgets.board import KanbanBoard, card_lines
from tui.widgets.table import VirtualTable


@pytest.fixture
def pipeline_store(deals: Path) -> Iterator[Store]:
    with Store(deals) as store:
        yield store


def board_of(app: DealdeckApp) -> BoardTab:
    return app.query_one(BoardTab)


def column_titles(app: DealdeckApp) -> dict[str, list[str]]:
    return {c.key: [r.title for r in c.rows] for c in board_of(app).board.columns}


def all_titles(app: DealdeckApp) -> list[str]:
    return [title for titles in column_titles(app).values() for title in titles]


def stages_of(store: Store, title: str) -> list[str]:
    deal = deal_named(store, title)
    return [c.stage for c in sorted(deal.stage_history, key=lambda c: c.at)]


async def select(pilot: object, app: DealdeckApp, title: str) -> None:
    board = board_of(app)
    deal = next(r for r in board.rows_by_id.values() if r.title == title)
    assert board.board.select(deal.id)
    await pilot.pause()  # type: ignore[attr-defined]


async def test_board_shows_my_open_deals_by_stage_with_totals(pipeline_store: Store) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("2")
        board = board_of(app)
        assert board.board.has_focus
        assert column_titles(app) == {"initial": ["Pump retrofit"], "needs": ["Valve line"], "quote": ["Sensors"],
                                      "negotiation": [], "won": ["Cable order"]}  # bo's deal and lost hidden
        needs = next(c for c in board.board.columns if c.key == "needs")
        assert (needs.total.count, needs.total.amount, needs.total.weighted) == (1, 30000, 7500)
        await pilot.press("O")  # owner: team
        assert column_titles(app)["negotiation"] == ["Turbine service"]
        await pilot.press("L")  # the lost column
        assert column_titles(app)["lost"] == ["Old tender"]
        # Valve line is stale, stuck and late; Sensors has no next step: the header counts mine
        assert "2 deals at risk" in str(app.query_one("#app-header").render())


async def test_move_forward_and_back_records_history_and_the_card_follows(pipeline_store: Store) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("2")
        await select(pilot, app, "Pump retrofit")
        await pilot.press("right_square_bracket", "right_square_bracket")
        assert deal_named(pipeline_store, "Pump retrofit").stage == "quote"
        board = board_of(app).board
        assert board.column is not None and board.column.key == "quote"
        assert board.current is not None and board.current.title == "Pump retrofit"
        await pilot.press("left_square_bracket")
        assert deal_named(pipeline_store, "Pump retrofit").stage == "needs"
        assert stages_of(pipeline_store, "Pump retrofit") == ["initial", "needs", "quote", "needs"]
        assert all(c.by == "ann" for c in deal_named(pipeline_store, "Pump retrofit").stage_history)
        assert "Pump retrofit" in column_titles(app)["needs"]


async def test_win_activates_the_customer_and_offers_its_card(pipeline_store: Store) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("2")
        await select(pilot, app, "Sensors")
        await pilot.press("w")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        deal = deal_named(pipeline_store, "Sensors")
        assert deal.stage == "won" and deal.closed_at is not None
        customer = pipeline_store.require(Customer, deal.customer_id)
        assert customer.lifecycle == "active" and customer.next_revisit is not None
        assert isinstance(app.screen, ConfirmScreen)  # "Won: ... Open the customer card?"
        await pilot.press("y")
        assert isinstance(app.screen, CustomerScreen) and app.screen.customer_id == deal.customer_id


async def test_lose_with_a_typed_reason_then_undo_everything(pipeline_store: Store) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("2")
        await select(pilot, app, "Valve line")
        await pilot.press("right_square_bracket", "x")
        assert isinstance(app.screen, PickScreen)
        await pilot.press(*"Went with a cheaper vendor", "enter")
        deal = deal_named(pipeline_store, "Valve line")
        assert (deal.stage, deal.lost_reason) == ("lost", "Went with a cheaper vendor")
        assert "Valve line" not in all_titles(app)  # lost is hidden
        await pilot.press("u")
        deal = deal_named(pipeline_store, "Valve line")
        assert (deal.stage, deal.lost_reason, deal.closed_at) == ("quote", "", None)
        await pilot.press("u")
        assert deal_named(pipeline_store, "Valve line").stage == "needs"
        assert stages_of(pipeline_store, "Valve line") == ["needs", "quote", "lost", "quote", "needs"]
        undone = [c for c in deal_named(pipeline_store, "Valve line").stage_history if c.undoes]
        assert len(undone) == 2
        assert board_of(app).board.current is not None and board_of(app).board.current.title == "Valve line"
        await pilot.press("u")  # nothing left to undo: a message, no change
        assert deal_named(pipeline_store, "Valve line").stage == "needs"


async def test_undo_of_a_win_puts_the_customer_back(pipeline_store: Store) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("2")
        await select(pilot, app, "Valve line")
        await pilot.press("w", "y", "escape", "u")
        deal = deal_named(pipeline_store, "Valve line")
        assert deal.stage == "needs"
        assert pipeline_store.require(Customer, deal.customer_id).lifecycle == "active"  # it was already


async def test_closed_deals_refuse_to_move_forward_with_a_message(pipeline_store: Store) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("2")
        await select(pilot, app, "Cable order")
        await pilot.press("right_square_bracket")
        assert deal_named(pipeline_store, "Cable order").stage == "won"
        assert any("already won" in str(n.message) for n in app._notifications)


async def test_filters_list_view_and_sorting(pipeline_store: Store) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("2", "R")  # at risk only
        assert all_titles(app) == ["Valve line", "Sensors"]
        await pilot.press("R", "slash", *"acme", "enter")
        assert sorted(all_titles(app)) == ["Cable order", "Pump retrofit", "Sensors"]
        await pilot.press("escape", "v")
        table = board_of(app).table
        assert table.has_focus and isinstance(table, VirtualTable)
        # a closed deal sorts by when it closed (the date the list shows): Cable order 11-10
        assert [r.title for r in table.rows] == ["Valve line", "Cable order", "Pump retrofit", "Sensors"]
        await pilot.press("o")  # close date, descending
        assert [r.title for r in table.rows] == ["Sensors", "Pump retrofit", "Valve line", "Cable order"]
        table.sort_by("amount", reverse=True)
        await pilot.pause()
        assert table.rows[0].title == "Valve line"
        await pilot.press("home", "down", "right_square_bracket")  # moves work in the list too
        assert deal_named(pipeline_store, "Pump retrofit").stage == "needs"
        await pilot.press("M")
        assert isinstance(app.screen, PickScreen)
        await pilot.press(*"2026-12", "enter")
        assert {r.title for r in table.rows} == {"Pump retrofit", "Sensors"}


async def test_a_filter_that_empties_the_cursors_column_moves_it_to_the_nearest_card(
        pipeline_store: Store) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("2")
        await select(pilot, app, "Valve line")  # in "needs"
        await pilot.press("slash", *"sensors", "enter")
        board = board_of(app).board
        assert board.column is not None and board.column.key == "quote"
        assert board.current is not None and board.current.title == "Sensors"
        await pilot.press("escape", "l")  # moving on into an empty column is still allowed
        assert board.column is not None and board.column.key == "negotiation" and board.current is None


async def test_detail_shows_history_quote_and_risks_and_revises_the_quote(pipeline_store: Store) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.press("2")
        await select(pilot, app, "Sensors")
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, OpportunityScreen)
        # the title is a PartsLine (wrapped between its parts), the rest Statics
        text = "\n".join(str(s.render()) for s in screen.query("Static, PartsLine"))
        assert "no next step" in text and "Sensor" in text and "8,000" in text and "Quote" in text
        await pilot.press("Q")
        assert isinstance(app.screen, FormScreen)
        area = app.screen.query_one("#field-lines")
        area.text = "Sensor; 40; 200; 10\nMount; 40; 12.5"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await pilot.pause()
        deal = deal_named(pipeline_store, "Sensors")
        assert [q.version for q in deal.quotes] == [1, 2] and deal.amount == 7700
        assert isinstance(app.screen, OpportunityScreen)
        text = "\n".join(str(s.render()) for s in app.screen.query("Static, PartsLine"))
        assert "Version 2" in text and "version 1, 2026-11-18 by ann: 8,000 USD (1 lines)" in text
        assert "⚠ no next step\n⚠ amount down 8,000 → 7,700" in text
        assert "amount: 8,000 → 7,700" in text
        row = board_of(app).rows_by_id[deal.id]
        assert row.amount == 7700  # the board follows


async def test_a_bad_quote_line_is_shown_in_the_form_and_nothing_is_saved(pipeline_store: Store) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.press("2")
        await select(pilot, app, "Sensors")
        await pilot.press("enter", "Q")
        app.screen.query_one("#field-lines").text = "Sensor; forty; 200"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, FormScreen)
        assert "quantity" in str(app.screen.query_one("#form-general").render()).lower() or \
            "quantity" in str(app.screen.query_one("#error-lines").render()).lower()
        assert len(deal_named(pipeline_store, "Sensors").quotes) == 1


def test_quote_table_shows_each_line_and_the_total() -> None:
    quote = Quote(version=1, by="ann", currency="EUR", lines=[
        QuoteLine(product="Valve [b]x[/b]", quantity=Decimal(10), unit_price=Decimal("120.50"),
                  discount_pct=Decimal(10))])
    console = Console(width=80, record=True)
    console.print(quote_table(quote))
    text = console.export_text()
    assert "Valve [b]x[/b]" in text and "120.5" in text and "1,084" in text and "Total" in text


def test_quote_lines_parse_and_name_the_bad_line() -> None:
    assert parse_quote_lines("Valve; 10; 1,200; 5\n\nPipe;2;3") == [
        {"product": "Valve", "quantity": "10", "unit_price": "1200", "discount_pct": "5"},
        {"product": "Pipe", "quantity": "2", "unit_price": "3"}]
    with pytest.raises(ValidationFailed) as bad:
        parse_quote_lines("Valve; 10; 1\nonly a name")
    assert bad.value.errors["lines"].startswith("line 2:")
    with pytest.raises(ValidationFailed) as empty:
        parse_quote_lines("  \n")
    assert "at least one" in empty.value.errors["lines"]


async def test_follow_up_forecast_category_and_activity_from_the_board(pipeline_store: Store) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("2")
        await select(pilot, app, "Pump retrofit")
        await pilot.press("f", *"2026-12-01", "enter")
        deal = deal_named(pipeline_store, "Pump retrofit")
        tasks = pipeline_store.find(Task, where={"opportunity_id": deal.id})
        assert [(t.kind, t.due.isoformat()) for t in tasks] == [("follow_up", "2026-12-01")]
        await pilot.press("F", *"commit", "enter")
        assert deal_named(pipeline_store, "Pump retrofit").forecast_category == "commit"
        assert board_of(app).rows_by_id[deal.id].forecast == "commit"
        await pilot.press("a", "ctrl+s")
        assert board_of(app).rows_by_id[deal.id].last_touch.isoformat() == "2026-11-25"


async def test_another_reps_deal_keeps_its_owners_forecast(pipeline_store: Store) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("2", "O")
        await select(pilot, app, "Turbine service")
        await pilot.press("F", *"omitted", "enter")
        assert deal_named(pipeline_store, "Turbine service").forecast_category is None
        assert any("only its owner (bo)" in str(n.message) for n in app._notifications)


async def test_data_that_looks_like_markup_is_shown_literally(pipeline_store: Store) -> None:
    acme = next(c for c in pipeline_store.all(Customer) if c.name == "Acme Pumps")
    pipeline_store.new(Opportunity, title="[@click=app.quit]Boom[/]", customer_id=acme.id, stage="initial",
                       next_step="[b]bold[/b]")
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("2")
        await select(pilot, app, "[@click=app.quit]Boom[/]")
        board = app.query_one(KanbanBoard)
        lines = ["".join(seg.text for seg in board.render_line(y)) for y in range(3, 30)]
        assert any("[@click=app.quit]Boom[/]" in line for line in lines)
        await pilot.press("enter")
        assert app.is_running and isinstance(app.screen, OpportunityScreen)


async def test_new_deal_from_the_board(pipeline_store: Store) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("2", "n")
        form = app.screen
        assert isinstance(form, FormScreen)
        form.query_one("#field-title").value = "Chillers"  # type: ignore[attr-defined]
        form.query_one("#field-customer_id").value = "Acme Pumps"  # type: ignore[attr-defined]
        form.query_one("#field-amount").value = "9,500"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        deal = deal_named(pipeline_store, "Chillers")
        assert deal.amount == 9500 and deal.stage == "initial" and deal.stage_history[0].stage == "initial"
        assert board_of(app).board.current is not None and board_of(app).board.current.title == "Chillers"


async def test_move_to_any_stage_skips_and_records_it(pipeline_store: Store) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("2")
        await select(pilot, app, "Pump retrofit")
        await pilot.press("m", *"negot", "enter")
        assert stages_of(pipeline_store, "Pump retrofit") == ["initial", "negotiation"]
        assert board_of(app).board.column is not None and board_of(app).board.column.key == "negotiation"


async def test_a_deal_in_a_stage_no_longer_configured_still_opens(pipeline_store: Store) -> None:
    """A teammate's (or an older config's) stage: listed, opened, never a crash."""
    deal = deal_named(pipeline_store, "Sensors")
    table = pipeline_store.storage.tables[Opportunity.table]
    table[deal.id] = {**table[deal.id], "stage": "pilot"}  # as if merged from a teammate's config
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("2", "v")
        board = board_of(app)
        assert "1 in a stage no longer used" in str(app.query_one("#board-filters").render())
        row = next(r for r in board.table.rows if r.title == "Sensors")
        board.table.set_rows(board.table.rows, keep=lambda r: r is row, presorted=True)
        await pilot.press("right_square_bracket")
        assert any("a stage no longer used" in str(n.message) for n in app._notifications)
        await pilot.press("enter")
        assert isinstance(app.screen, OpportunityScreen)


async def test_the_mouse_picks_a_card_and_a_double_click_opens_it(pipeline_store: Store) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(150, 40)) as pilot:
        await pilot.press("2")
        # Columns are 29 cells and a rule wide; cards start under a 3-line head.
        await pilot.click(KanbanBoard, offset=(65, 4))
        assert board_of(app).board.current is not None and board_of(app).board.current.title == "Sensors"
        await pilot.click(KanbanBoard, offset=(35, 5), times=2)
        assert isinstance(app.screen, OpportunityScreen) and app.screen.deal_id == deal_named(
            pipeline_store, "Valve line").id


async def test_customer_filter_and_edit_from_the_board(pipeline_store: Store) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("2", "C")
        assert isinstance(app.screen, PickScreen)
        await pilot.press(*"Contoso", "enter")
        assert all_titles(app) == ["Valve line"]  # ann's deals of Contoso (lost is hidden)
        assert board_of(app).board.current is not None  # the cursor left the emptied first column
        await pilot.press("e")
        form = app.screen
        assert isinstance(form, FormScreen)
        form.query_one("#field-next_step").value = "Send the revised offer"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        assert deal_named(pipeline_store, "Valve line").next_step == "Send the revised offer"
        await pilot.press("C", *"any", "enter")
        assert "Pump retrofit" in all_titles(app)


def board_text(app: DealdeckApp) -> list[str]:
    board = board_of(app).board
    return [board.render_line(y).text for y in range(board.size.height)]


async def test_opening_a_deal_from_the_review_leaves_the_board_filter_alone(pipeline_store: Store) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("2")
        before = board_of(app).filter
        turbine = deal_named(pipeline_store, "Turbine service")  # bo's: not on my board
        await pilot.press("4")
        app.open_record(Opportunity.table, turbine.id)
        await pilot.pause()
        assert isinstance(app.screen, OpportunityScreen)
        await pilot.press("escape", "2")
        assert board_of(app).filter == before
        assert "Turbine service" not in all_titles(app)
        assert not board_of(app).show_deal(turbine.id)  # nor does the palette widen it
        assert board_of(app).filter == before


async def test_a_shrunk_column_keeps_no_stale_scroll(pipeline_store: Store) -> None:
    customer_id = deal_named(pipeline_store, "Sensors").customer_id
    for n in range(8):
        pipeline_store.new(Opportunity, title=f"Lead deal {n}", customer_id=customer_id, stage="initial",
                           amount=1000, next_step="Call")
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "end")
        board = board_of(app).board
        assert board.columns[0].top > 0
        await pilot.press("w", "y", "n")  # the last card leaves for the won column
        await pilot.pause()
        column = board.columns[0]
        assert column.top <= len(column.rows) - board.cards_per_column
        await pilot.press("left", "home", "end")
        assert column.top <= len(column.rows) - board.cards_per_column


async def test_cards_drop_whole_parts_of_a_risk_never_cut_a_figure(pipeline_store: Store) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(200, 55)) as pilot:
        await pilot.press("2", "O")
        text = "\n".join(board_text(app))
        assert "…" not in text  # Valve line: stale, stuck and late, in a 39-cell column
        assert "3 risks · no activity for 55d" in text
        assert "(limit 1" not in text or "(limit 14d)" in text


async def test_stage_names_are_whole_words_on_the_board_and_in_the_list(pipeline_store: Store) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "L")
        heads = board_text(app)[0]
        assert "…" not in heads and "Initial" in heads and "Needs" in heads
        await pilot.press("v")
        board = board_of(app)
        lines = [board.table.render_line(y).text for y in range(len(board.table.rows))]
        assert "Initial contact" in "\n".join(lines) and "…" not in "\n".join(lines)
        assert "Won / signed" in "\n".join(lines)


async def test_an_undone_move_counts_days_in_stage_from_the_first_entry(pipeline_store: Store) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("2")
        await select(pilot, app, "Valve line")
        days = board_of(app).current().days_in_stage(board_of(app).today)  # type: ignore[union-attr]
        await pilot.press("right_square_bracket", "u", "enter")
        await pilot.pause()
        assert isinstance(app.screen, OpportunityScreen)
        deal = deal_named(pipeline_store, "Valve line")
        history = app.screen.timeline(deal, {s.key: s.label for s in pipeline_store.config.stages}).plain
        now = history.splitlines()[-1]
        assert "(undo)" in now and f"{days}d" in now, now
        assert board_of(app).current().days_in_stage(board_of(app).today) == days  # type: ignore[union-attr]


async def test_a_won_deal_shows_when_it_closed(pipeline_store: Store) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("2")
        await select(pilot, app, "Sensors")
        await pilot.press("w", "y", "n")  # won; not now to the customer card
        await pilot.pause()
        row = next(r for r in board_of(app).rows_by_id.values() if r.title == "Sensors")
        assert row.closed is not None
        await pilot.press("v")
        cells = board_of(app).cells(row)
        assert cells[5][0] == row.closed.isoformat()
    lines = card_lines(row, row.closed, "EUR", 40)
    assert "closed" in lines[3][0][0] and "today" in lines[3][0][0]
    assert card_lines(row, row.closed, "EUR", 20)[3][0][0] == "closed today"


async def test_column_heads_say_the_same_things_full_or_empty(pipeline_store: Store) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        totals = board_text(app)[1].split("│")
        assert len(totals) == 5
        assert all(" w " not in part for part in totals)  # no column has room for it: none shows it
        assert all(part.count("·") == totals[0].count("·") for part in totals)
