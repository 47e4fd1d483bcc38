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
