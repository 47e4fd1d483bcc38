"""The customer tab driven for real: keys in, stored contacts, activities, tickets,
surveys, tasks and opportunities out."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import OptionList

from store.database import Store
from store.models import Activity, Contact, Customer, Opportunity, Survey, Task, Ticket
from tui.app import DealdeckApp
from tui.screens.customer import CustomerScreen
from tui.screens.dialogs import AskScreen, PickScreen
from tui.screens.form import FormScreen
from tui.screens.service import ServiceScreen
from tui.tabs.customers import CustomersTab
from tui.widgets.cards import CardGrid
from tui.widgets.table import VirtualTable


@pytest.fixture
def crm(accounts: Path) -> Iterator[Store]:
    with Store(accounts) as store:
        yield store


def tab_of(app: DealdeckApp) -> CustomersTab:
    return app.query_one(CustomersTab)


def customer_named(store: Store, name: str) -> Customer:
    store.refresh()
    return next(c for c in store.all(Customer) if c.name == name)


async def open_customer(pilot: Any, app: DealdeckApp, name: str) -> CustomerScreen:
    await pilot.press("3", "O")  # the team's customers
    tab = tab_of(app)
    row = next(r for r in tab.rows_by_id.values() if r.name == name)
    tab.show_rows(row.id)
    await pilot.pause()
    await pilot.press("enter")
    assert isinstance(app.screen, CustomerScreen)
    return app.screen


def screen_text(app: DealdeckApp) -> str:
    return "\n".join(str(s.render()) for s in app.screen.query("Static"))


async def fill(pilot: Any, app: DealdeckApp, **values: Any) -> None:
    form = app.screen
    assert isinstance(form, FormScreen)
    for name, value in values.items():
        widget = form.query_one(f"#field-{name}")
        if hasattr(widget, "text") and not hasattr(widget, "cursor_position"):
            widget.text = value  # type: ignore[attr-defined]
        else:
            widget.value = value  # type: ignore[attr-defined]
    await pilot.press("ctrl+s")
    await pilot.pause()


async def test_cards_show_health_value_and_filters_narrow_them(crm: Store) -> None:
    app = DealdeckApp(crm)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("3")
        tab = tab_of(app)
        assert tab.grid.has_focus and isinstance(tab.grid, CardGrid)
        names = {r.name for r in tab.grid.items}
        assert names == {"Contoso GmbH", "Acme Pumps", "Globex Corp"}  # all ann's
        globex = next(r for r in tab.grid.items if r.name == "Globex Corp")
        assert globex.value == Decimal(50000) and globex.trend() == "down"
        contoso = next(r for r in tab.grid.items if r.name == "Contoso GmbH")
        assert contoso.health == "risk" and [r.kind for r in contoso.reasons] == [
            "revisit_overdue", "ticket_open", "no_contact"]
        assert tab.grid.items[0].name == "Contoso GmbH"  # riskiest first
        await pilot.press("H")  # health: risk
        assert [r.name for r in tab.grid.items] == ["Contoso GmbH"]
        await pilot.press("H", "H", "H", "H", "slash", *"logist", "enter")
        assert [r.name for r in tab.grid.items] == ["Globex Corp"]
        await pilot.press("escape", "T", *"key-acc", "enter")
        assert {r.name for r in tab.grid.items} == {"Contoso GmbH", "Globex Corp"}
        await pilot.press("v")
        assert tab.table.has_focus and isinstance(tab.table, VirtualTable)
        tab.table.sort_by("value")
        await pilot.pause()
        assert [r.name for r in tab.table.rows] == ["Globex Corp", "Contoso GmbH"]


async def test_open_a_customer_add_a_contact_and_log_a_visit(crm: Store) -> None:
    app = DealdeckApp(crm)
    async with app.run_test(size=(160, 50)) as pilot:
        await open_customer(pilot, app, "Globex Corp")
        text = screen_text(app)
        assert "Globex order 2025-11" in text and "CSAT 3/5: slower lately" in text and "Site tour" in text
        assert "satisfaction down from CSAT 5/5 to CSAT 3/5" in text
        await pilot.press("c")
        await fill(pilot, app, name="Mia Wong", role="Buyer", email="mia@globex.example", birthday="1990-11-28")
        globex = customer_named(crm, "Globex Corp")
        [mia] = crm.find(Contact, where={"customer_id": globex.id})
        assert (mia.name, mia.role, mia.birthday.isoformat()) == ("Mia Wong", "Buyer", "1990-11-28")
        assert isinstance(app.screen, CustomerScreen) and "birthday: Mia Wong" in screen_text(app)
        await pilot.press("a")
        await fill(pilot, app, kind="visit", subject="Quarterly review")
        [visit] = [a for a in crm.find(Activity, where={"customer_id": globex.id}) if a.subject == "Quarterly review"]
        assert visit.kind == "visit" and visit.owner == "ann"
        assert customer_named(crm, "Globex Corp").last_contact_at == visit.at
        assert "visit: Quarterly review" in screen_text(app)


async def test_open_and_resolve_a_ticket_then_record_the_survey(crm: Store) -> None:
    app = DealdeckApp(crm)
    async with app.run_test(size=(160, 50)) as pilot:
        await open_customer(pilot, app, "Acme Pumps")
        await pilot.press("k")
        await fill(pilot, app, title="Sensor offline", description="Unit 4 stopped reporting")
        acme = customer_named(crm, "Acme Pumps")
        [ticket] = crm.find(Ticket, where={"customer_id": acme.id})
        assert (ticket.status, ticket.severity) == ("open", "normal")
        tickets = app.screen.query_one("#customer-tickets", OptionList)
        tickets.focus()
        await pilot.press("enter")
        assert isinstance(app.screen, PickScreen)
        await pilot.press(*"resolved", "enter")
        assert crm.require(Ticket, ticket.id).status == "resolved"
        tasks = {t.kind: t for t in crm.find(Task, where={"customer_id": acme.id})}
        assert set(tasks) == {"after_sales", "survey"} and not tasks["survey"].done
        assert "Satisfaction survey: Acme Pumps" in screen_text(app)  # a reminder on the card
        await pilot.press("y")
        await fill(pilot, app, score="4", comment="fixed the same day")
        [survey] = crm.find(Survey, where={"customer_id": acme.id})
        assert (survey.kind, survey.score, survey.comment) == ("csat", 4, "fixed the same day")
        assert crm.require(Task, tasks["survey"].id).done
        assert "CSAT 4/5: fixed the same day" in screen_text(app)


async def test_a_bad_survey_score_is_refused_in_the_form(crm: Store) -> None:
    app = DealdeckApp(crm)
    async with app.run_test(size=(160, 50)) as pilot:
        await open_customer(pilot, app, "Acme Pumps")
        await pilot.press("y")
        await fill(pilot, app, score="9")
        assert isinstance(app.screen, FormScreen)
        assert "1 to 5" in str(app.screen.query_one("#form-general").render()) + str(
            app.screen.query_one("#error-score").render())
        assert crm.count(Survey) == 2


async def test_a_reorder_prompt_becomes_an_opportunity_with_one_key(crm: Store) -> None:
    app = DealdeckApp(crm)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("3", "O", "R")  # reorders due
        tab = tab_of(app)
        assert [r.name for r in tab.grid.items] == ["Globex Corp"]
        await pilot.press("r")
        globex = customer_named(crm, "Globex Corp")
        [deal] = [d for d in crm.all(Opportunity) if d.title == "Globex Corp: repeat order"]
        assert (deal.customer_id, deal.stage, deal.amount) == (globex.id, "initial", Decimal(25000))
        assert tab.grid.items == []  # an open deal: no longer a prompt
        await pilot.press("2")
        from tui.tabs.board import BoardTab

        assert deal.id in app.query_one(BoardTab).rows_by_id


async def test_the_service_queue_lists_open_tickets_oldest_first(crm: Store) -> None:
    app = DealdeckApp(crm)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("3", "K")
        screen = app.screen
        assert isinstance(screen, ServiceScreen)
        assert [t.title for t in screen.table.rows] == ["Valve drips", "Invoice copy"]
        await pilot.press("i")
        assert crm.require(Ticket, screen.table.rows[0].id).status == "in_progress"
        await pilot.press("down", "r")
        assert [t.title for t in screen.table.rows] == ["Valve drips"]
        await pilot.press("enter")
        assert isinstance(app.screen, CustomerScreen)
        assert "Contoso GmbH" in screen_text(app)


async def test_save_a_segment_pick_it_and_export_it(crm: Store, tmp_path: Path) -> None:
    app = DealdeckApp(crm)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("3", "O", "T", *"key-acc", "enter", "W")
        assert isinstance(app.screen, AskScreen)
        await pilot.press(*"Key accounts", "enter")
        saved = crm.config.segments  # the team settings: they go to the team with the next sync
        assert [(s.name, s.tag) for s in saved] == [("Key accounts", "key-account")]
        await pilot.press("escape", "S", *"Key", "enter")
        tab = tab_of(app)
        assert {r.name for r in tab.grid.items} == {"Contoso GmbH", "Globex Corp"}
        await pilot.press("X")
        target = tmp_path / "key.csv"
        app.screen.query_one("#ask-input").value = str(target)  # type: ignore[attr-defined]
        await pilot.press("enter")
        lines = target.read_text(encoding="utf-8-sig").splitlines()
        assert lines[0].startswith("name,industry,segment,tags,lifecycle,health")
        assert sorted(line.split(",")[0] for line in lines[1:]) == ["Contoso GmbH", "Globex Corp"]


async def test_the_palette_opens_a_customer_card(crm: Store) -> None:
    app = DealdeckApp(crm)
    async with app.run_test(size=(160, 50)) as pilot:
        globex = customer_named(crm, "Globex Corp")
        app.open_record(Customer.table, globex.id)
        await pilot.pause()
        assert isinstance(app.screen, CustomerScreen) and app.screen.customer_id == globex.id


async def test_edit_a_contact_and_assign_a_ticket_from_the_details(crm: Store) -> None:
    globex = customer_named(crm, "Globex Corp")
    crm.new(Contact, customer_id=globex.id, name="Mia Wong", role="Buyer")
    app = DealdeckApp(crm)
    async with app.run_test(size=(160, 50)) as pilot:
        await open_customer(pilot, app, "Globex Corp")
        app.screen.query_one("#customer-contacts", OptionList).focus()
        await pilot.press("enter")
        await fill(pilot, app, role="Head of purchasing")
        assert crm.find(Contact, where={"customer_id": globex.id})[0].role == "Head of purchasing"
        await pilot.press("k")
        await fill(pilot, app, title="Portal access", assignee="bo")
        ticket = next(t for t in crm.find(Ticket, where={"customer_id": globex.id}) if t.title == "Portal access")
        assert ticket.assignee == "bo"
        assert "Portal access" in str(app.screen.query_one("#customer-tickets", OptionList).get_option_at_index(1)
                                      .prompt)


async def test_new_and_edited_customers_from_the_tab(crm: Store) -> None:
    app = DealdeckApp(crm)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("3", "n")
        await fill(pilot, app, name="Initech", industry="Software", tags="saas, pilot")
        initech = customer_named(crm, "Initech")
        assert (initech.industry, initech.tags, initech.owner) == ("Software", ["saas", "pilot"], "ann")
        tab = tab_of(app)
        assert tab.current() is not None and tab.current().name == "Initech"
        await pilot.press("e")
        await fill(pilot, app, segment="Startup")
        assert customer_named(crm, "Initech").segment == "Startup"
        assert next(r for r in tab.rows_by_id.values() if r.name == "Initech").segment == "Startup"
