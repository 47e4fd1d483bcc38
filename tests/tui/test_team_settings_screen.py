"""The team settings screen and what a settings change does to the views, driven for real."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static, TextArea

from store.database import Store
from store.models import TeamSetting
from store.team_settings import TEAM_KEYS
from tests.tui.conftest import deal_named
from tui.app import DealdeckApp
from tui.commands import actions
from tui.screens.dialogs import ConfirmScreen
from tui.screens.settings import SettingsScreen
from tui.tabs.board import BoardTab
from tui.tabs.board_parts import RETIRED_STAGE


def status_of(app: DealdeckApp) -> str:
    return str(app.screen.query_one("#settings-status", Static).render())


async def open_settings(app: DealdeckApp, pilot: object) -> TextArea:
    action = next(callback for name, _, callback in actions(app) if name == "Team settings")
    action()
    await pilot.pause()  # type: ignore[attr-defined]
    assert isinstance(app.screen, SettingsScreen)
    return app.screen.query_one(TextArea)


async def type_over(pilot: object, area: TextArea, old: str, new: str) -> None:
    """Put the cursor on ``old`` and type ``new`` over it, key by key."""
    row = next(i for i, line in enumerate(area.text.splitlines()) if old in line)
    area.move_cursor((row, area.text.splitlines()[row].index(old)))
    await pilot.press(*["delete"] * len(old), *new)  # type: ignore[attr-defined]


async def test_a_bad_save_names_its_line_and_writes_nothing_then_a_good_one_applies(deals: Path) -> None:
    with Store(deals) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=(80, 24)) as pilot:
            area = await open_settings(app, pilot)
            await type_over(pilot, area, "probability: 50", "probability: 140")
            await pilot.press("ctrl+s")
            line = next(i for i, text in enumerate(area.text.splitlines(), 1) if "probability: 140" in text)
            assert status_of(app).startswith(f"Not saved: line {line}: stages.2.probability:")
            assert area.cursor_location[0] == line - 1
            assert store.count(TeamSetting) == 0
            await type_over(pilot, area, "label: Quote", "label: Offer")
            await type_over(pilot, area, "probability: 140", "probability: 60")
            await pilot.press("ctrl+s")
            assert status_of(app).startswith("Saved stages: they apply now")  # what was edited
            assert store.count(TeamSetting) == len(TEAM_KEYS)  # the first save: every key the team's
            assert store.config.stage("quote").label == "Offer"
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, SettingsScreen)
            await pilot.press("2")
            await pilot.pause()
            labels = [column.label for column in app.query_one(BoardTab).board.columns]
            assert "Offer" in labels and "Quote" not in labels


async def test_closing_with_unsaved_text_asks_first(deals: Path) -> None:
    with Store(deals) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=(80, 24)) as pilot:
            area = await open_settings(app, pilot)
            await type_over(pilot, area, "Price", "Cost")
            await pilot.press("escape")
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("n")
            assert isinstance(app.screen, SettingsScreen) and "Cost" in area.text
            await pilot.press("escape", "y")
            assert not isinstance(app.screen, SettingsScreen)
            assert "Cost" not in store.config.lost_reasons


async def test_deals_in_a_dropped_stage_stay_under_stage_no_longer_used(deals: Path) -> None:
    with Store(deals) as store:
        sensors = deal_named(store, "Sensors")  # in "quote"
        app = DealdeckApp(store)
        async with app.run_test(size=(200, 55)) as pilot:
            await pilot.press("2")
            await pilot.pause()
            stages = [s.model_dump(mode="json") for s in store.config.stages if s.key != "quote"]
            store.save_team_settings({"stages": stages})  # as a sync would bring it
            await pilot.pause()
            board = app.query_one(BoardTab)
            columns = {column.label: [row.title for row in column.rows] for column in board.board.columns}
            assert columns[RETIRED_STAGE] == ["Sensors"]
            assert "Quote" not in columns
            assert "1 in a stage no longer used" in str(board.query_one("#board-filters", Static).render())
            assert store.require(type(sensors), sensors.id).stage == "quote"  # the deal is as it was


async def test_a_rep_whose_config_differs_is_told_at_start(deals: Path) -> None:
    with Store(deals) as store:
        store.save_team_settings({"lead_sources": ["fair", "web"]})  # as the team's, from a sync
        app = DealdeckApp(store)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            told = [str(n.message) for n in app._notifications if n.title == "Team settings"]
            assert told == ["The team's settings differ from your config.yaml in lead_sources: the team's apply "
                            "(`dealdeck team show` prints them)."]
