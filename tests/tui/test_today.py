"""Today shows what a notice says is in Today: resolving a ticket schedules an after-sales
call in two days and a survey request in three, and both are listed (coming up)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from store.database import Store
from tui.app import DealdeckApp
from tui.screens.service import ServiceScreen
from tui.screens.today import TodayScreen


@pytest.fixture
def crm(accounts: Path) -> Iterator[Store]:
    with Store(accounts) as store:
        yield store


async def test_resolving_a_ticket_puts_its_after_sales_call_and_survey_in_today(crm: Store) -> None:
    app = DealdeckApp(crm)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("3", "K")
        assert isinstance(app.screen, ServiceScreen)
        await pilot.press("r")  # the oldest ticket, Valve drips (Contoso), resolved
        await pilot.pause()
        notices = [str(n.message) for n in app._notifications]
        assert any("are in Today" in text for text in notices), notices
        await pilot.press("escape", "t")
        await pilot.pause()
        assert isinstance(app.screen, TodayScreen)
        titles = [item.title for item in app.screen.table.rows]
        assert "After-sales call: Valve drips" in titles
        assert "Satisfaction survey: Contoso GmbH" in titles
        title = str(app.screen.query_one("#today-title").render())
        assert "2 coming up" in title, title


async def test_the_team_view_acts_on_the_row_it_shows(store: Store) -> None:
    from store.models import Task

    store.new(Task, title="Call Bo's customer", due="2026-11-25", owner="bo")
    app = DealdeckApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("t", "T")  # the whole team
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TodayScreen)
        titles = [item.title for item in screen.table.rows]
        await pilot.press(*["down"] * titles.index("Call Bo's customer"))
        assert screen.table.current is not None and screen.table.current.title == "Call Bo's customer"
        await pilot.press("d")
        await pilot.pause()
        assert "Call Bo's customer" not in [item.title for item in screen.table.rows]
        await pilot.press("T", "enter")  # back to my list: enter opens what the cursor is on
        await pilot.pause()
        mine = screen.table.current
        assert mine is not None and mine.owner == "ann"
        assert app.screen.record == (mine.table, mine.record_id)  # type: ignore[attr-defined]
    assert store.find(Task, text="Bo's customer")[0].done


async def test_undo_and_redo_work_inside_today_and_show_at_once(store: Store) -> None:
    from store.models import Task

    store.new(Task, title="Send the brochure", due="2026-11-25")
    app = DealdeckApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("t")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TodayScreen)
        titles = [item.title for item in screen.table.rows]
        await pilot.press(*["down"] * titles.index("Send the brochure"), "d")
        await pilot.pause()
        assert "Send the brochure" not in [item.title for item in screen.table.rows]
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert app.screen is screen
        assert "Send the brochure" in [item.title for item in screen.table.rows]
        assert not store.find(Task, text="brochure")[0].done
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert "Send the brochure" not in [item.title for item in screen.table.rows]


async def test_today_shows_its_own_keys_not_the_tabs(app: DealdeckApp) -> None:
    from textual.widgets._footer import FooterKey

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.screen_stack[0].query(FooterKey)  # the lead tab's keys, while it is on top
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, TodayScreen)
        assert not app.screen_stack[0].query(FooterKey)  # none of the tab's keys beneath
        assert [str(key.description) for key in app.screen.query(FooterKey)][:3] == ["Close", "Done", "Reschedule"]
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen_stack[0].query(FooterKey)


async def test_a_tasks_detail_names_its_deal_and_customer(crm: Store) -> None:
    from store.models import Opportunity, Task

    deal = next(o for o in crm.all(Opportunity) if o.title == "Valve line")
    crm.new(Task, title="Send the drawings", due="2026-11-25", opportunity_id=deal.id, customer_id=deal.customer_id)
    app = DealdeckApp(crm)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, TodayScreen)
        item = next(item for item in app.screen.table.rows if item.title == "Send the drawings")
        assert item.detail == "Valve line · Contoso GmbH"


def test_resolving_a_ticket_with_an_after_sales_call_planned_adds_no_second_one(crm: Store) -> None:
    from store.models import Task, Ticket

    ticket = next(t for t in crm.all(Ticket) if t.title == "Valve drips")
    crm.new(Task, title="Check the fix: Valve drips", kind="after_sales", due="2026-11-27",
            customer_id=ticket.customer_id, ticket_id=ticket.id)
    crm.set_ticket_status(ticket.id, "resolved")
    calls = [t for t in crm.all(Task) if t.ticket_id == ticket.id and t.kind == "after_sales"]
    assert [t.title for t in calls] == ["Check the fix: Valve drips"]
    crm.set_ticket_status(ticket.id, "in_progress")
    crm.set_ticket_status(ticket.id, "resolved")  # resolved again: still the one call
    assert len([t for t in crm.all(Task) if t.ticket_id == ticket.id and t.kind == "after_sales"]) == 1
