"""Drive the lead tab through its keys and check what was stored."""

from __future__ import annotations

from datetime import date

from textual.pilot import Pilot
from textual.widgets import Static

from store.config import SavedLeadView
from store.database import Store
from store.models import Activity, Customer, Lead, Opportunity
from tests.tui.conftest import lead_named
from tui.app import DealdeckApp
from tui.screens.customer import CustomerScreen
from tui.screens.dialogs import PickScreen
from tui.screens.form import FormScreen
from tui.screens.records import DuplicateScreen
from tui.tabs.leads import LeadFilter, LeadsTab

SIZE = (120, 36)


async def type_text(pilot: Pilot[None], text: str) -> None:
    await pilot.press(*["space" if ch == " " else ch for ch in text])


def tab(app: DealdeckApp) -> LeadsTab:
    return app.query_one(LeadsTab)


def shown_names(app: DealdeckApp) -> list[str]:
    return [row.name for row in tab(app).table.rows]


async def submit_new_lead(pilot: Pilot[None], name: str, *, company: str = "", email: str = "") -> None:
    """Press n, fill the form's name, company and email fields, and save."""
    await pilot.press("n")
    await type_text(pilot, name)
    await pilot.press("tab")
    await type_text(pilot, company)
    await pilot.press("tab", "tab")
    await type_text(pilot, email)
    await pilot.press("ctrl+s")
    await pilot.pause()


async def select(pilot: Pilot[None], app: DealdeckApp, name: str) -> None:
    rows = shown_names(app)
    tab(app).table.cursor = rows.index(name)
    await pilot.pause()


async def test_the_list_shows_my_open_leads_sorted_by_follow_up(app: DealdeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert shown_names(app) == ["Emma Clarke", "李娜", "Tom Ford"]
        await pilot.press("O")  # owner: me -> team, which shows the pool lead too
        assert "Pooled Pat" in shown_names(app)
        await pilot.press("O", "L")  # bo's view, then the pool
        assert shown_names(app) == ["Pooled Pat"]


async def test_filter_as_you_type_and_escape_clears(app: DealdeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("slash")
        await type_text(pilot, "north")
        assert shown_names(app) == ["Emma Clarke"]
        await pilot.press("enter", "escape")
        assert len(shown_names(app)) == 3


async def test_a_backspace_and_a_change_elsewhere_show_what_a_fresh_filter_shows(app: DealdeckApp,
                                                                               store: Store) -> None:
    """The rows found for each prefix typed are kept (``LeadsTab._matching``): a backspace
    shows them again, and a change to a lead searches again."""
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("O")  # the whole team
        await pilot.pause()
        every = {row.name: row.search for row in tab(app).base_rows()}

        def fresh(text: str) -> set[str]:
            return {name for name, search in every.items() if text in search}

        await pilot.press("slash")
        await type_text(pilot, "ar")
        assert set(shown_names(app)) == fresh("ar") and fresh("ar") < fresh("a")
        await pilot.press("backspace")
        assert set(shown_names(app)) == fresh("a")
        await pilot.press("backspace")
        assert set(shown_names(app)) == set(every)
        await type_text(pilot, "a")
        emma = lead_named(store, "Emma Clarke")
        assert "Emma Clarke" in shown_names(app)
        store.update(Lead, emma.id, name="Eve Ott", company="Ott Ltd", email="eve@ott.io", tags=[])  # no "a" left
        app.check_other_processes()
        await pilot.pause()
        assert "Eve Ott" not in shown_names(app) and "Emma Clarke" not in shown_names(app)
        await pilot.press("backspace")
        assert "Eve Ott" in shown_names(app)


async def test_quick_filters_grade_status_overdue(app: DealdeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("G")  # grade A
        assert shown_names(app) == ["Emma Clarke"]
        await pilot.press("G", "G", "G", "G")  # B, C, D, any
        await pilot.press("D")  # overdue only: follow-up before today
        assert shown_names(app) == ["Emma Clarke"]


async def test_new_lead_through_the_form(app: DealdeckApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await submit_new_lead(pilot, "Jane Roe", company="Roe Industries")
        assert not isinstance(app.screen, FormScreen)
    jane = lead_named(store, "Jane Roe")
    assert (jane.company, jane.owner, jane.history[0].kind) == ("Roe Industries", "ann", "created")


async def test_a_bad_value_is_shown_next_to_its_field_and_nothing_is_saved(app: DealdeckApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await submit_new_lead(pilot, "Jane Roe", email="not-an-email")
        assert isinstance(app.screen, FormScreen)
        error = app.screen.query_one("#error-email")
        assert "not a valid email address" in str(error.render())
    assert store.count(Lead) == 4


async def test_a_duplicate_is_flagged_and_can_be_added_anyway(app: DealdeckApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await submit_new_lead(pilot, "E Clarke", email="emma@northwind.example")
        assert isinstance(app.screen, DuplicateScreen)
        assert [m.name for m in app.screen.matches] == ["Emma Clarke"]
        await pilot.press("ctrl+a")
        await pilot.pause()
    assert lead_named(store, "E Clarke").email == "emma@northwind.example"


async def test_a_duplicate_can_be_opened_instead(app: DealdeckApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await submit_new_lead(pilot, "Someone", company="Contoso")
        assert isinstance(app.screen, DuplicateScreen)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CustomerScreen)  # the existing customer's card
    assert store.count(Lead) == 4


async def test_follow_up_grade_assign_and_activity(app: DealdeckApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await select(pilot, app, "Tom Ford")
        await pilot.press("f")
        await type_text(pilot, "+3d")
        await pilot.press("enter", "plus", "plus")
        await pilot.pause()
        tom = lead_named(store, "Tom Ford")
        assert tom.next_follow_up == date(2026, 11, 28) and tom.grade == "A"
        await select(pilot, app, "Tom Ford")
        await pilot.press("a")
        await pilot.press("tab")
        await type_text(pilot, "Intro call")
        await pilot.press("ctrl+s")
        await pilot.pause()
        await select(pilot, app, "Tom Ford")
        await pilot.press("A")
        assert isinstance(app.screen, PickScreen)
        await type_text(pilot, "bo")
        await pilot.press("enter")
        await pilot.pause()
    tom = lead_named(store, "Tom Ford")
    assert tom.owner == "bo" and tom.history[-1].kind == "assigned" and tom.status == "contacted"
    assert [a.subject for a in store.find(Activity, where={"lead_id": tom.id})] == ["Intro call"]


async def test_disqualify_with_a_reason(app: DealdeckApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await select(pilot, app, "Tom Ford")
        await pilot.press("x")
        await type_text(pilot, "budget")
        await pilot.press("enter")
        await pilot.pause()
        assert "Tom Ford" not in shown_names(app)
    tom = lead_named(store, "Tom Ford")
    assert (tom.status, tom.disqualified_reason) == ("disqualified", "No budget")


async def test_convert_a_qualified_lead(app: DealdeckApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await select(pilot, app, "Emma Clarke")
        await pilot.press("c")
        assert isinstance(app.screen, FormScreen)
        amount = app.screen.query_one("#field-amount")
        amount.value = "12000"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, FormScreen)
    emma = lead_named(store, "Emma Clarke")
    opportunity = store.require(Opportunity, emma.opportunity_id or "")
    customer = store.require(Customer, opportunity.customer_id)
    assert emma.status == "converted" and customer.name == "Northwind Traders"
    assert opportunity.stage == "initial" and opportunity.amount == 12000


async def test_converting_an_unqualified_lead_asks_to_qualify_first(app: DealdeckApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await select(pilot, app, "Tom Ford")
        await pilot.press("c", "y")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert lead_named(store, "Tom Ford").status == "converted"


async def test_claim_a_lead_from_the_pool(app: DealdeckApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("L")
        await select(pilot, app, "Pooled Pat")
        await pilot.press("m")
        await pilot.pause()
    pat = lead_named(store, "Pooled Pat")
    assert (pat.owner, pat.in_pool, pat.history[-1].kind) == ("ann", False, "claimed")


async def test_tabs_help_and_quit(app: DealdeckApp) -> None:
    from textual.widgets import TabbedContent

    from tui.screens.help import HelpScreen

    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for key, tab_id in (("2", "board"), ("3", "customers"), ("4", "review"), ("1", "leads")):
            await pilot.press(key)
            assert app.query_one(TabbedContent).active == tab_id
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape", "q")
        await pilot.pause()
    assert app.return_code == 0


async def test_edit_a_lead(app: DealdeckApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await select(pilot, app, "Tom Ford")
        await pilot.press("e")
        assert isinstance(app.screen, FormScreen)
        company = app.screen.query_one("#field-company")
        company.value = "Ford Metals & Mining"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert tab(app).table.current.company == "Ford Metals & Mining"  # type: ignore[union-attr]
    assert lead_named(store, "Tom Ford").company == "Ford Metals & Mining"


async def test_sort_by_column_with_o_and_by_clicking_a_header(app: DealdeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = tab(app).table
        assert table.sort_key == "follow_up"
        await pilot.press("o")  # same column, reversed
        assert shown_names(app) == ["Tom Ford", "李娜", "Emma Clarke"]
        await pilot.press("o")  # next column: age, youngest first
        assert table.sort_key == "age" and shown_names(app) == ["Tom Ford", "李娜", "Emma Clarke"]
        await pilot.press("o", "o")  # age reversed, then round to name
        assert table.sort_key == "name" and shown_names(app) == ["Emma Clarke", "Tom Ford", "李娜"]
        await pilot.click(table.header, offset=(2, 0))  # Name again: reversed
        assert table.sort_reverse and shown_names(app)[0] == "李娜"


async def test_the_funnel_follows_period_and_owner(app: DealdeckApp) -> None:
    from tui.widgets.funnel import FunnelChart

    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        chart = app.query_one(FunnelChart)
        assert chart.steps[0].count == 3  # my leads created this month
        await pilot.press("P")  # quarter
        await pilot.press("O")  # team
        assert tab(app).period == "quarter" and chart.steps[0].count == 4
        assert [s.label for s in chart.steps][:4] == ["Leads", "Contacted", "Qualified", "Converted"]


async def test_the_header_counts_follow_a_new_follow_up(app: DealdeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.due_counts == (1, 1)  # 李娜 today, Emma overdue
        await select(pilot, app, "Tom Ford")
        await pilot.press("f")
        await type_text(pilot, "today")
        await pilot.press("enter")
        await pilot.pause()
        assert app.due_counts == (2, 1)


async def test_the_pool_view_applies_grade_status_overdue_and_text(app: DealdeckApp, store: Store) -> None:
    store.add_lead(name="Pooled Ada", owner="bo", in_pool=True, grade="A", next_follow_up="2026-11-20")
    store.add_lead(name="Pooled Bea", owner="bo", in_pool=True, grade="A", status="contacted")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("L")
        assert sorted(shown_names(app)) == ["Pooled Ada", "Pooled Bea", "Pooled Pat"]
        await pilot.press("G")  # grade A
        assert sorted(shown_names(app)) == ["Pooled Ada", "Pooled Bea"]
        await pilot.press("S")  # status new
        assert shown_names(app) == ["Pooled Ada"]
        await pilot.press("D", "slash", *"bea", "enter")  # overdue only, then a name that is not
        assert tab(app).filter.describe() == "lead pool · status new · grade A · overdue only · “bea”"
        assert shown_names(app) == []


async def test_esc_clears_the_marks_then_the_text_then_the_quick_filters(app: DealdeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        leads = tab(app)
        await pilot.press("O", "S", "L", "slash", *"pat", "enter", "asterisk")  # status new
        assert leads.marks and leads.filter.text == "pat" and shown_names(app) == ["Pooled Pat"]
        await pilot.press("escape")
        assert not leads.marks and leads.filter.text == "pat"
        await pilot.press("escape")
        assert leads.filter.text == "" and leads.filter.pool and leads.filter.status == "new"
        await pilot.press("escape")  # back to the default view: my open leads
        assert leads.filter == LeadFilter()
        assert shown_names(app) == ["Emma Clarke", "李娜", "Tom Ford"]
        assert str(app.query_one("#lead-filters", Static).render()).startswith("3 of 4 leads · owner me · status open")


async def test_no_view_in_the_view_picker_brings_back_my_open_leads(app: DealdeckApp, store: Store) -> None:
    store.config = store.config.model_copy(update={"lead_views": [SavedLeadView(name="Pool", pool=True)]})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("O", "S")  # the team's leads, status any
        assert tab(app).filter.owner == "team"
        await pilot.press("V")
        assert isinstance(app.screen, PickScreen)
        await pilot.press("enter")  # "no view (my open leads)"
        await pilot.pause()
        assert tab(app).filter == LeadFilter()
        assert shown_names(app) == ["Emma Clarke", "李娜", "Tom Ford"]
