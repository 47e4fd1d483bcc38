"""The rules screen, driven for real: each rule in words with how often it acted in the
last 30 days, the dry run, and a rule acting on a change made in the app."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from store.database import Store
from store.models import Task
from tests.tui.conftest import deal_named
from tui.app import DealdeckApp
from tui.commands import actions
from tui.screens.rules import RulesScreen
from tui.screens.settings import SettingsScreen

QUOTE_TASK = {"name": "Send the quote", "when": {"trigger": "stage_entered", "stage": "negotiation"},
              "do": [{"action": "create_task", "title": "Send the contract for {title}", "due_in_days": 2}]}


def body(app: DealdeckApp) -> str:
    return str(app.screen.query_one("#rules-body", Static).render())


async def test_the_rules_screen_counts_what_each_rule_did_and_dry_runs(deals: Path) -> None:
    with Store(deals) as store:
        store.save_team_settings({"rules": [QUOTE_TASK]})
        app = DealdeckApp(store)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("2")
            board = app.query_one("BoardTab")
            deal = deal_named(store, "Sensors")  # in quote: ] moves it on to negotiation
            assert board.board.select(deal.id)
            await pilot.press("right_square_bracket")
            await pilot.pause()
            next(callback for name, _, callback in actions(app) if name == "Rules")()
            await pilot.pause()
            assert isinstance(app.screen, RulesScreen)
            text = body(app)
            assert "Send the quote" in text and "when a deal enters negotiation" in text
            assert "acted 1 time in the last 30 days" in text
            await pilot.press("d")
            assert "acts when that happens" in body(app)
            await pilot.press("d", "e")
            assert isinstance(app.screen, SettingsScreen)
            await pilot.press("escape", "escape")
            assert not isinstance(app.screen, RulesScreen)
        titles = [t["title"] for t in store.rows(Task) if t.get("opportunity_id") == deal.id]
        assert "Send the contract for Sensors" in titles

