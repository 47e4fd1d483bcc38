"""What a new user meets first, at 80x24: the footer of every tab, the palette's
words, and the lead tab of an empty database."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.command import CommandList, CommandPalette
from textual.widgets._footer import FooterKey

from store.database import Store
from tests.tui.conftest import CONFIG
from tests.tui.test_leads_tab import type_text
from tui.app import DealdeckApp
from tui.tabs.leads import LeadsTab
from tui.widgets.table import VirtualTable

SIZE = (80, 24)


@pytest.mark.parametrize("tab", ["1", "2", "3", "4"])
async def test_the_footer_fits_80_columns_and_keeps_the_help_key(app: DealdeckApp, deals: Path, tab: str) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.clear_notifications()
        await pilot.press(tab)
        await pilot.pause(0.2)
        keys = list(app.screen.query(FooterKey))
        assert keys, "the footer shows keys"
        assert all(key.region.right <= SIZE[0] for key in keys), [(k.description, k.region) for k in keys]
        assert "Keys" in [key.description for key in keys]


async def test_a_wide_footer_shows_every_key(app: DealdeckApp) -> None:
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        shown = [key.description for key in app.screen.query(FooterKey)]
        assert shown[-3:] == ["Today", "Keys", "Quit"]
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.2)
        keys = list(app.screen.query(FooterKey))
        assert all(key.region.right <= 80 for key in keys)
        assert "Keys" in [key.description for key in keys]


async def test_the_palette_says_an_opportunity(app: DealdeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await type_text(pilot, "New opportunity")
        await pilot.pause(0.5)
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        hits = palette.query_one(CommandList)
        shown = [str(hits.get_option_at_index(i).prompt) for i in range(hits.option_count)]
        assert any("add an opportunity" in text for text in shown), shown
        assert not any("add a opportunity" in text for text in shown)


async def test_an_empty_database_says_there_are_no_leads_yet(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "config.yaml").write_text(CONFIG)
    with Store(folder) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("n")  # start empty
            await pilot.pause()
            table = app.query_one(LeadsTab).query_one(VirtualTable)
            shown = table.render_line(1).text
            assert "No leads yet" in shown and "Import CSV" in shown
            assert "esc" not in shown and "match" not in shown


async def test_a_filter_that_hides_every_lead_says_so(app: DealdeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("slash")
        await type_text(pilot, "nobody by this name")
        await pilot.pause()
        table = app.query_one(LeadsTab).query_one(VirtualTable)
        assert "No leads match. esc clears the filter" in table.render_line(1).text
