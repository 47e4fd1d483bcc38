"""The notice after resolving a ticket says what Today shows, in words with their spaces."""

from __future__ import annotations

from pathlib import Path

from store.database import Store
from tui.app import DealdeckApp
from tui.screens.service import ServiceScreen
from tui.screens.today import TodayScreen

SIZE = (160, 50)


async def resolve_the_oldest_ticket(store: Store) -> tuple[list[str], list[str]]:
    """Resolve it from the service queue; the notices, and the titles Today then lists."""
    app = DealdeckApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3", "K")
        assert isinstance(app.screen, ServiceScreen)
        await pilot.press("r")  # Valve drips (Contoso), resolved
        await pilot.pause()
        notices = [str(n.message) for n in app._notifications]
        await pilot.press("escape", "t")
        await pilot.pause()
        assert isinstance(app.screen, TodayScreen)
        return notices, [item.title for item in app.screen.table.rows]


async def test_the_notice_names_each_task_and_its_day_with_a_space_after_the_status(accounts: Path) -> None:
    with Store(accounts) as store:
        notices, titles = await resolve_the_oldest_ticket(store)
    assert ("Ticket Valve drips: resolved. After-sales call (due 2026-11-27) and survey request "
            "(due 2026-11-28) are in Today.") in notices, notices
    assert {"After-sales call: Valve drips", "Satisfaction survey: Contoso GmbH"} <= set(titles)


async def test_a_survey_set_past_todays_week_is_not_said_to_be_in_today(accounts: Path) -> None:
    config = accounts / "config.yaml"
    config.write_text(config.read_text() + "customers: {survey_after_days: 20}\n")
    with Store(accounts) as store:
        notices, titles = await resolve_the_oldest_ticket(store)
    assert ("Ticket Valve drips: resolved. After-sales call (due 2026-11-27) is in Today; survey request "
            "(due 2026-12-15) shows there from 2026-12-08.") in notices, notices
    assert "After-sales call: Valve drips" in titles
    assert "Satisfaction survey: Contoso GmbH" not in titles  # as the notice says
