"""A form for every record type: new from the palette, edit from a record's details."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from textual.widgets._footer import FooterKey  # the footer's key widget (not exported)

from store.database import Store
from store.models import Contact, Customer, Lead, Opportunity, Survey, Task
from tests.tui.test_leads_tab import SIZE, type_text
from tui.app import DealdeckApp
from tui.screens.customer import CustomerScreen
from tui.screens.dialogs import ConfirmScreen
from tui.screens.form import FormScreen, in_words


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


def shown_error(form: FormScreen, name: str) -> str:
    """The message under a field ("" when it shows none)."""
    message = form.query_one(f"#error-{name}")
    return "" if message.has_class("empty") else str(message.render())


def fill(form: FormScreen, **values: str) -> None:
    for name, value in values.items():
        form.query_one(f"#field-{name}").value = value  # type: ignore[attr-defined]


async def test_every_problem_shows_at_once_and_in_words(app: DealdeckApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.new_record(Opportunity)
        await pilot.pause()
        form = app.screen
        assert isinstance(form, FormScreen)
        fill(form, title="Rollout", customer_id="Contoso GmbH", amount="12k", currency="euro",
             expected_close="someday")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        # one round: the date that cannot be read and what the model refuses, together
        assert "is not a date like" in shown_error(form, "expected_close")
        assert shown_error(form, "currency") == "should be a three-letter currency code such as EUR"
        assert shown_error(form, "amount") == "should be a number, such as 12500 or 12,500.50"
        assert shown_error(form, "title") == ""
        fill(form, amount="12,500", currency="eur", expected_close="2026-12-31")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, FormScreen)
    deal = store.all(Opportunity)[0]
    assert (deal.amount, deal.currency, deal.expected_close) == (Decimal(12500), "EUR", date(2026, 12, 31))


async def test_a_whole_number_field_says_so(app: DealdeckApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.new_record(Customer)
        await pilot.pause()
        form = app.screen
        assert isinstance(form, FormScreen)
        fill(form, name="Fabrikam", revisit_days="monthly", email="sales at fabrikam")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert shown_error(form, "revisit_days") == "should be a whole number, such as 30"
        assert "email" in shown_error(form, "email") and "Value error" not in shown_error(form, "email")
        fill(form, revisit_days="0", email="")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert shown_error(form, "revisit_days") == "should be 1 or more"
    assert store.count(Customer) == 1


async def test_a_records_rule_shows_with_the_other_fields_problems(app: DealdeckApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.new_record(Survey)
        await pilot.pause()
        form = app.screen
        assert isinstance(form, FormScreen)
        fill(form, customer_id="Nobody Inc", score="7")  # kind: CSAT (1-5)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "pick one of the suggestions" in shown_error(form, "customer_id")
        assert shown_error(form, "score") == "a CSAT score is 1 to 5"
    assert store.count(Survey) == 0


def test_validator_messages_in_words() -> None:
    assert in_words("String should match pattern '^[A-Z]{3}$'") == (
        "should be a three-letter currency code such as EUR")
    assert in_words("Input should be a valid integer, unable to parse string as an integer") == (
        "should be a whole number, such as 30")
    assert in_words("Input should be 'low', 'normal', 'high' or 'urgent'") == (
        "should be one of low, normal, high or urgent")
    assert in_words("String should have at most 200 characters") == "too long: at most 200 characters"
    assert in_words("Value error, not an email address") == "not an email address"
    assert in_words("a lost opportunity needs a reason") == "a lost opportunity needs a reason"


async def test_esc_asks_before_throwing_away_an_edited_form(app: DealdeckApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.new_record(Opportunity)  # starting values in inputs and choices: not a change
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, FormScreen | ConfirmScreen)
        app.new_record(Opportunity)
        await pilot.pause()
        form = app.screen
        await type_text(pilot, "Rollout")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # back to the form, as it was
        await pilot.pause()
        assert app.screen is form
        assert form.query_one("#field-title").value == "Rollout"  # type: ignore[attr-defined]
        await pilot.press("escape", "y")
        await pilot.pause()
        assert not isinstance(app.screen, FormScreen | ConfirmScreen)
    assert store.count(Opportunity) == 0


async def test_the_lead_form_shows_every_problem_at_once(app: DealdeckApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, FormScreen)
        fill(form, name="Ada Byron", email="ada at example", next_follow_up="whenever")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        assert "is not a date like" in shown_error(form, "next_follow_up")
        assert shown_error(form, "email") != ""  # with the date's, not after it is fixed
    assert store.count(Lead) == 4


async def test_a_form_shows_its_own_keys(app: DealdeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        assert [str(key.description) for key in app.screen.query(FooterKey)] == ["Cancel", "Save"]


async def test_the_conversion_form_shows_every_problem_at_once(app: DealdeckApp, store: Store) -> None:
    deals = store.count(Opportunity)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.query_one("LeadsTab").table.cursor = 0  # type: ignore[attr-defined]
        await pilot.press("c")
        await pilot.pause()
        if isinstance(app.screen, ConfirmScreen):  # a lead not yet qualified is asked about first
            await pilot.press("y")
            await pilot.pause()
        form = app.screen
        assert isinstance(form, FormScreen) and form.form_title.startswith("Convert")
        fill(form, currency="euro", expected_close="someday")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        assert "is not a date like" in shown_error(form, "expected_close")
        assert "three-letter currency code" in shown_error(form, "currency")  # in the same round
    assert store.count(Opportunity) == deals
