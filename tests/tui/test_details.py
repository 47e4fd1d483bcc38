"""Details screens: the footer shows the keys that work there, ``?`` works there, and
what is done from a details screen comes back to it, showing the record as saved."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static, TabbedContent
from textual.widgets._footer import FooterKey

from store.database import Store
from store.models import Activity, Contact, Customer, Lead, Opportunity
from tests.tui.conftest import deal_named, lead_named
from tests.tui.test_leads_tab import SIZE
from tui.app import DealdeckApp
from tui.screens.customer import CustomerScreen
from tui.screens.form import FormScreen
from tui.screens.help import HelpScreen
from tui.screens.opportunity import OpportunityScreen
from tui.screens.records import RecordScreen
from tui.screens.service import ServiceScreen


def footer(app: DealdeckApp) -> list[str]:
    """The keys the footer shows, as seen: the top screen's own footer, or the one beneath."""
    keys = app.screen.query(FooterKey) or app.screen_stack[0].query(FooterKey)
    return [str(key.description) for key in keys]


def shown_text(app: DealdeckApp) -> str:
    return "\n".join(str(static.render()) for static in app.screen.query(Static))


async def press_help_then_close(pilot, app: DealdeckApp) -> None:  # type: ignore[no-untyped-def]
    screen = app.screen
    await pilot.press("question_mark")
    await pilot.pause()
    assert isinstance(app.screen, HelpScreen)
    await pilot.press("escape")
    await pilot.pause()
    assert app.screen is screen


async def test_lead_details_show_their_own_keys_and_question_mark_works(app: DealdeckApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.open_record(Lead.table, lead_named(store, "Emma Clarke").id)
        await pilot.pause()
        assert isinstance(app.screen, RecordScreen)
        assert footer(app) == ["Close", "Edit", "Keys"]  # not the lead tab's "Activity", "Convert" ...
        await press_help_then_close(pilot, app)


async def test_an_activitys_details_offer_no_edit(app: DealdeckApp, store: Store) -> None:
    emma = lead_named(store, "Emma Clarke")
    call = store.log_activity("call", lead_id=emma.id, subject="Intro call")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.open_record(Activity.table, call.id)
        await pilot.pause()
        assert footer(app) == ["Close", "Keys"]  # an activity has no form: no e
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, RecordScreen)


async def test_question_mark_works_on_customer_deal_and_service_screens(accounts: Path) -> None:
    with Store(accounts) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            contoso = next(c for c in store.all(Customer) if c.name == "Contoso GmbH")
            app.open_record(Customer.table, contoso.id)
            await pilot.pause()
            assert isinstance(app.screen, CustomerScreen)
            assert footer(app) == ["Close", "Edit", "Add contact", "Log activity", "New ticket",
                                   "Survey answer", "Repeat deal", "Keys"]
            await press_help_then_close(pilot, app)
            await pilot.press("escape")
            app.open_record(Opportunity.table, deal_named(store, "Valve line").id)
            await pilot.pause()
            assert isinstance(app.screen, OpportunityScreen)
            assert footer(app) == ["Close", "Edit", "Activity", "Follow-up", "Revise quote",
                                   "Customer card", "Keys"]
            await press_help_then_close(pilot, app)
            await pilot.press("escape", "3", "K")
            await pilot.pause()
            assert isinstance(app.screen, ServiceScreen)
            assert "Keys" in footer(app) and "Service queue" not in footer(app)
            await press_help_then_close(pilot, app)


async def test_editing_from_lead_details_comes_back_to_them(app: DealdeckApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.open_record(Lead.table, lead_named(store, "Tom Ford").id)
        await pilot.pause()
        details = app.screen
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        app.screen.query_one("#field-company").value = "Ford Alloys"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is details
        assert "Ford Alloys" in shown_text(app)
    assert lead_named(store, "Tom Ford").company == "Ford Alloys"


async def test_editing_from_contact_details_comes_back_to_them(accounts: Path) -> None:
    with Store(accounts) as store:
        jo = next(c for c in store.all(Contact) if c.name == "Jo Park")
        app = DealdeckApp(store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            app.open_record(Contact.table, jo.id)
            await pilot.pause()
            details = app.screen
            await pilot.press("e")
            await pilot.pause()
            assert isinstance(app.screen, FormScreen)
            app.screen.query_one("#field-role").value = "Head of purchasing"  # type: ignore[attr-defined]
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert app.screen is details
            assert "Head of purchasing" in shown_text(app)


async def test_a_deals_customer_card_comes_back_to_the_deal_on_its_tab(accounts: Path) -> None:
    with Store(accounts) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("2")
            app.query_one("BoardTab").open_deal(deal_named(store, "Valve line").id)  # type: ignore[attr-defined]
            await pilot.pause()
            deal = app.screen
            assert isinstance(deal, OpportunityScreen)
            await pilot.press("c")
            await pilot.pause()
            assert isinstance(app.screen, CustomerScreen)
            await pilot.press("e")
            await pilot.pause()
            app.screen.query_one("#field-name").value = "Contoso AG"  # type: ignore[attr-defined]
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert isinstance(app.screen, CustomerScreen) and "Contoso AG" in shown_text(app)
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is deal and "Contoso AG" in shown_text(app)  # the deal as it is now
            await pilot.press("escape")
            await pilot.pause()
            assert app.query_one(TabbedContent).active == "board"  # not the customer tab


async def test_a_cards_deal_comes_back_to_the_card(accounts: Path) -> None:
    with Store(accounts) as store:
        contoso = next(c for c in store.all(Customer) if c.name == "Contoso GmbH")
        app = DealdeckApp(store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            app.open_record(Customer.table, contoso.id)
            await pilot.pause()
            card = app.screen
            card.query_one("#customer-deals").focus()
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, OpportunityScreen)
            await pilot.press("c")  # this deal's customer: back to the card it came from
            await pilot.pause()
            assert app.screen is card
            card.query_one("#customer-deals").focus()
            await pilot.press("enter")
            await pilot.pause()
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is card
            assert app.query_one(TabbedContent).active == "leads"  # opened over the tab you were on


async def test_question_mark_works_on_today_and_the_sync_report(app: DealdeckApp) -> None:
    from tui.screens.sync_report import SyncReportScreen

    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("t")
        await pilot.pause()
        assert type(app.screen).__name__ == "TodayScreen"
        await press_help_then_close(pilot, app)
        await pilot.press("escape")
        await pilot.pause()
        app.push_screen(SyncReportScreen("Team sync", ["nothing new from teammates"]))
        await pilot.pause()
        await press_help_then_close(pilot, app)


async def test_details_and_the_presentation_open_over_the_tab_you_are_on(accounts: Path) -> None:
    """Esc comes back to where you were: no tab switches under a details screen."""
    from tests.tui.test_review_tab import ready
    from tui.screens.present import PresentScreen

    with Store(accounts) as store:
        contoso = next(c for c in store.all(Customer) if c.name == "Contoso GmbH")
        app = DealdeckApp(store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            tabs = app.query_one(TabbedContent)
            app.open_record(Customer.table, contoso.id)  # as the palette does
            await pilot.pause()
            assert isinstance(app.screen, CustomerScreen) and tabs.active == "leads"
            await pilot.press("escape")
            await pilot.pause()
            assert tabs.active == "leads"
            await pilot.press("2")
            app.open_record(Customer.table, contoso.id)  # "Open the customer card?" after a win
            await pilot.pause()
            await pilot.press("escape")
            await pilot.pause()
            assert tabs.active == "board"
            await pilot.press("1")
            app.open_record(Opportunity.table, deal_named(store, "Valve line").id)
            await pilot.pause()
            assert isinstance(app.screen, OpportunityScreen) and tabs.active == "leads"
            await pilot.press("escape")
            await ready(pilot, app)
            await pilot.press("p")
            await pilot.pause()
            assert isinstance(app.screen, PresentScreen)
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, PresentScreen) and tabs.active == "leads"


async def test_task_details_name_linked_records_and_say_values_in_words(accounts: Path) -> None:
    from store.models import Task

    with Store(accounts) as store:
        deal = deal_named(store, "Valve line")
        task = store.new(Task, title="Send the drawings", due="2026-11-26", opportunity_id=deal.id,
                         customer_id=deal.customer_id)
        app = DealdeckApp(store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            app.open_record(Task.table, task.id)
            await pilot.pause()
            lines = [" ".join(line.split()) for line in shown_text(app).splitlines()]
            assert "opportunity Valve line" in lines and "customer Contoso GmbH" in lines, lines
            assert "kind to do" in lines and "owner Ann Lee (ann)" in lines, lines
            assert deal.id not in shown_text(app) and deal.customer_id not in shown_text(app)


async def test_every_details_screen_keeps_the_app_header(accounts: Path) -> None:
    from tui.header import AppHeader

    with Store(accounts) as store:
        contoso = next(c for c in store.all(Customer) if c.name == "Contoso GmbH")
        app = DealdeckApp(store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            valve, tom = deal_named(store, "Valve line"), lead_named(store, "Tom Ford")
            for table, record_id in ((Customer.table, contoso.id), (Opportunity.table, valve.id),
                                     (Lead.table, tom.id)):
                app.open_record(table, record_id)
                await pilot.pause()
                header = app.screen.query_one(AppHeader)
                assert "Ann Lee" in str(header.render()) and header.region.y == 0, table
                await pilot.press("escape")
                await pilot.pause()


async def test_lifetime_value_counts_its_won_deals_in_agreement(accounts: Path) -> None:
    with Store(accounts) as store:
        acme = next(c for c in store.all(Customer) if c.name == "Acme Pumps")
        app = DealdeckApp(store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            app.open_record(Customer.table, acme.id)
            await pilot.pause()
            text = " ".join(shown_text(app).split())
            assert "from 1 won deal" in text and "1 won deals" not in text, text


async def test_titles_and_key_hints_wrap_between_whole_parts_at_80x24(accounts: Path) -> None:
    from tui.header import PartsLine

    with Store(accounts) as store:
        deal = deal_named(store, "Valve line")
        store.update(Opportunity, deal.id, title="Valve line retrofit and training programme for the plant")
        app = DealdeckApp(store)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.open_record(Opportunity.table, deal.id)
            await pilot.pause()
            title = app.screen.query_one(".detail-title", PartsLine)
            lines = str(title.render()).splitlines()
            assert len(lines) == 2 and lines[1] == "Needs confirmed  ·  30,000 USD", lines
            await pilot.press("escape", "3", "K")
            await pilot.pause()
            assert isinstance(app.screen, ServiceScreen)
            for hint in app.screen.query(PartsLine):
                for line in str(hint.render()).splitlines():
                    assert line == line.strip(" ·") and len(line) <= hint.content_size.width, line


async def test_lead_history_shows_an_edit_with_its_fields_and_who(app: DealdeckApp, store: Store) -> None:
    tom = lead_named(store, "Tom Ford")
    store.update(Lead, tom.id, company="Ford Alloys", phone="+44 20 7946 0000")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.open_record(Lead.table, tom.id)
        await pilot.pause()
        edits = [line for line in shown_text(app).splitlines() if "edited" in line]
        assert len(edits) == 1 and edits[0].endswith("edited company, phone (by Ann Lee)"), edits


async def test_a_long_phone_and_email_wrap_whole_on_the_customer_page_at_80x24(accounts: Path) -> None:
    with Store(accounts) as store:
        acme = next(c for c in store.all(Customer) if c.name == "Acme Pumps")
        store.update(Customer, acme.id, phone="+1 (489) 628-1358",
                     email="sarah.taylor@riversideglobalelectronics.example")
        app = DealdeckApp(store)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.open_record(Customer.table, acme.id)
            await pilot.pause()
            lines = shown_text(app).splitlines()
            at = next(i for i, line in enumerate(lines) if "phone / email" in line)
            assert lines[at].rstrip().endswith("+1 (489) 628-1358"), lines[at]
            assert lines[at + 1].strip() == "sarah.taylor@riversideglobalelectronics.example"
