"""A form for every record type: new from the palette, edit from a record's details."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from store.database import Store
from store.models import Contact, Customer, Lead, Opportunity, Task
from tests.tui.test_leads_tab import SIZE, type_text
from tui.app import DealdeckApp
from tui.screens.customer import CustomerScreen
from tui.screens.form import FormScreen


async def palette(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("ctrl+p")
    await type_text(pilot, text)
    await pilot.pause(0.4)
    await pilot.press("enter")
    await pilot.pause()


async def test_new_customer_then_a_contact_picked_by_customer_name(app: DealdeckApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await palette(pilot, "new customer")
        assert isinstance(app.screen, FormScreen)
        await type_text(pilot, "Fabrikam")
        await pilot.press("ctrl+s")
        await pilot.pause()
        await palette(pilot, "new contact")
        await type_text(pilot, "fabri")
        await pilot.press("right", "tab")  # accept the suggested customer, next field
        await type_text(pilot, "Lena Koch")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, FormScreen)
    fabrikam = next(c for c in store.all(Customer) if c.name == "Fabrikam")
    assert [(c.name, c.customer_id) for c in store.all(Contact)] == [("Lena Koch", fabrikam.id)]


async def test_new_opportunity_and_task_use_the_config_and_date_phrases(app: DealdeckApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await palette(pilot, "new opportunity")
        form = app.screen
        assert isinstance(form, FormScreen)
        form.query_one("#field-title").value = "Contoso rollout"  # type: ignore[attr-defined]
        form.query_one("#field-customer_id").value = "Contoso GmbH"  # type: ignore[attr-defined]
        form.query_one("#field-amount").value = "25,000"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await pilot.pause()
        await palette(pilot, "new task")
        await type_text(pilot, "Send the contract")
        await pilot.press("tab")
        await type_text(pilot, "+2d")
        await pilot.press("ctrl+s")
        await pilot.pause()
    deal = store.all(Opportunity)[0]
    assert (deal.title, deal.stage, deal.amount, deal.currency) == ("Contoso rollout", "initial", Decimal(25000), "USD")
    assert store.all(Task)[0].due == date(2026, 11, 27)


async def test_an_unknown_customer_is_refused_inline(app: DealdeckApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await palette(pilot, "new contact")
        await type_text(pilot, "Nobody Inc")
        await pilot.press("tab")
        await type_text(pilot, "Someone")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        assert "pick one of the suggestions" in str(app.screen.query_one("#error-customer_id").render())
    assert store.count(Contact) == 0


async def test_e_on_a_records_details_edits_it(app: DealdeckApp, store: Store) -> None:
    contoso = store.all(Customer)[0]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.open_record(Customer.table, contoso.id)
        await pilot.pause()
        assert isinstance(app.screen, CustomerScreen)  # a customer opens its card's details
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#field-industry").value = "Manufacturing"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await pilot.pause()
        emma = next(lead for lead in store.all(Lead) if lead.name == "Emma Clarke")
        app.open_record(Lead.table, emma.id)
        await pilot.pause()
        await pilot.press("e")  # a lead opens the lead tab's own form
        await pilot.pause()
        assert isinstance(app.screen, FormScreen) and "Emma Clarke" in app.screen.form_title
    assert store.require(Customer, contoso.id).industry == "Manufacturing"
