"""One change feed: a write anywhere (a tab, a details screen, another process on the same
folder) reaches every tab, every screen open over them and the header at once, with no
restart. Each test asserts on the other screens right after the write."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.containers import VerticalScroll

from store.database import Store
from store.models import Customer, Lead, Opportunity
from tests.tui.conftest import deal_named, lead_named
from tests.tui.test_board_tab import board_of, select
from tests.tui.test_leads_tab import select as select_lead
from tui.app import DealdeckApp
from tui.screens.customer import CustomerScreen
from tui.screens.form import FormScreen
from tui.screens.opportunity import OpportunityScreen
from tui.tabs.customers import CustomersTab

SIZE = (160, 50)


@pytest.fixture
def pipeline_store(deals: Path) -> Iterator[Store]:
    with Store(deals) as store:
        yield store


def header(app: DealdeckApp) -> str:
    return str(app.query_one("#app-header").render())


async def test_converting_a_lead_puts_its_deal_on_the_board_and_its_customer_on_tab_3(pipeline_store: Store) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        board = board_of(app)
        before = len(board.rows_by_id)
        await select_lead(pilot, app, "Emma Clarke")
        await pilot.press("c")
        assert isinstance(app.screen, FormScreen)
        await pilot.press("ctrl+s")
        await pilot.pause()
        emma = lead_named(pipeline_store, "Emma Clarke")
        assert emma.opportunity_id in board.rows_by_id and len(board.rows_by_id) == before + 1
        initial = next(c for c in board.board.columns if c.key == "initial")
        assert emma.opportunity_id in {row.id for row in initial.rows}
        customers = app.query_one(CustomersTab)
        assert any(row.name == "Northwind Traders" for row in customers.rows_by_id.values())


async def test_winning_a_deal_shows_on_the_customer_card_and_tab_at_once(pipeline_store: Store) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await pilot.pause()
        customers = app.query_one(CustomersTab)
        acme = next(row for row in customers.rows_by_id.values() if row.name == "Acme Pumps")
        value, open_deals = acme.value, acme.open_deals
        await pilot.press("2")
        await select(pilot, app, "Sensors")
        await pilot.press("w", "y")  # won ...
        await pilot.pause()
        await pilot.press("y")  # ... and open the customer card
        await pilot.pause()
        assert isinstance(app.screen, CustomerScreen)
        acme = customers.rows_by_id[acme.id]
        assert (acme.value, acme.open_deals) == (value + 8000, open_deals - 1)
        assert acme.next_revisit is not None
        shown = "\n".join(str(w.render()) for w in app.screen.query("Static"))
        assert "Sensors" in shown and "won" in shown.lower()


async def test_a_write_by_another_process_reaches_every_tab(pipeline_store: Store, deals: Path) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        with Store(deals) as other:  # another SSH session on the same folder
            valve = deal_named(other, "Valve line")
            other.update(Opportunity, valve.id, title="Valve line (phase 2)")
            contoso = next(c for c in other.all(Customer) if c.name == "Contoso GmbH")
            other.update(Customer, contoso.id, name="Contoso AG")
            other.add_lead(name="Ines Ortega", company="Ortega SL")
        app.check_other_processes()  # what the periodic check does every few seconds
        await pilot.pause()
        board = board_of(app)
        assert board.rows_by_id[valve.id].title == "Valve line (phase 2)"
        assert board.rows_by_id[valve.id].customer == "Contoso AG"
        assert "Ines Ortega" in {row.name for row in app.query_one("LeadsTab").rows_by_id.values()}  # type: ignore[attr-defined]
        customers = app.query_one(CustomersTab)
        assert customers.rows_by_id[contoso.id].name == "Contoso AG"


async def test_an_open_deal_page_follows_a_change_made_elsewhere(pipeline_store: Store, deals: Path) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await select(pilot, app, "Valve line")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, OpportunityScreen)
        with Store(deals) as other:
            other.update(Opportunity, deal_named(other, "Valve line").id, next_step="Bring the samples")
        app.check_other_processes()
        await pilot.pause()
        await pilot.pause()
        shown = "\n".join(str(w.render()) for w in app.screen.query("Static"))
        assert "Bring the samples" in shown


@pytest.mark.parametrize("key", ["c", "k", "a"])
async def test_a_customer_page_still_scrolls_after_a_sub_form_is_saved(pipeline_store: Store, key: str) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        customers = app.query_one(CustomersTab)
        acme = next(row for row in customers.rows_by_id.values() if row.name == "Acme Pumps")
        customers.open_customer(acme.id)
        await pilot.pause()
        assert isinstance(app.screen, CustomerScreen)
        await pilot.press(key)
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        first = app.screen.query("Input").first()
        first.value = "Follow-up" if key != "c" else "Sam Lee"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, CustomerScreen)
        scroll = app.screen.query_one(VerticalScroll)
        assert app.focused is scroll
        await pilot.press("end")
        await pilot.pause()
        assert scroll.scroll_y == scroll.max_scroll_y > 0


async def test_a_deal_page_still_scrolls_after_a_quote_is_revised(pipeline_store: Store) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.press("2")
        await select(pilot, app, "Sensors")
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("Q")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        app.screen.query_one("#field-lines").value = "Sensor; 50; 200; 0"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, OpportunityScreen)
        scroll = app.screen.query_one(VerticalScroll)
        assert app.focused is scroll
        await pilot.press("end")
        await pilot.pause()
        assert scroll.scroll_y == scroll.max_scroll_y > 0


async def test_a_lead_edited_in_another_process_updates_its_row(pipeline_store: Store, deals: Path) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        with Store(deals) as other:
            emma = lead_named(other, "Emma Clarke")
            other.update(Lead, emma.id, company="Northwind GmbH")
        app.check_other_processes()
        await pilot.pause()
        rows = app.query_one("LeadsTab").rows_by_id  # type: ignore[attr-defined]
        assert rows[emma.id].company == "Northwind GmbH"


async def test_ctrl_z_undoes_the_last_change_anywhere_and_ctrl_y_redoes_it(pipeline_store: Store) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await select(pilot, app, "Sensors")
        await pilot.press("]")  # quote -> negotiation
        await pilot.pause()
        assert deal_named(pipeline_store, "Sensors").stage == "negotiation"
        await pilot.press("1")
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert deal_named(pipeline_store, "Sensors").stage == "quote"
        board = board_of(app)
        sensors = next(row for row in board.rows_by_id.values() if row.title == "Sensors")
        assert sensors.stage == "quote"  # the board follows, though the undo was on tab 1
        notices = [str(n.message) for n in app._notifications]
        assert any(text.startswith("Undid: opportunity Sensors") for text in notices), notices
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert deal_named(pipeline_store, "Sensors").stage == "negotiation"
        assert board.rows_by_id[sensors.id].stage == "negotiation"


async def test_a_lead_deleted_by_another_process_leaves_the_list_and_the_funnel(pipeline_store: Store,
                                                                               deals: Path) -> None:
    app = DealdeckApp(pipeline_store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        leads = app.query_one("LeadsTab")
        await pilot.press("O")  # the whole team's leads: the funnel counts them all
        await pilot.pause()
        before = leads.query_one("FunnelChart").steps[0].count  # type: ignore[attr-defined]
        with Store(deals) as other:
            emma = lead_named(other, "Emma Clarke")
            other.delete(Lead, emma.id)
        app.check_other_processes()
        await pilot.pause()
        assert emma.id not in leads.rows_by_id  # type: ignore[attr-defined]
        assert emma.id not in {row.id for row in leads.all_rows}  # type: ignore[attr-defined]
        assert leads.query_one("FunnelChart").steps[0].count == before - 1  # type: ignore[attr-defined]
