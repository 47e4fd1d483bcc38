"""The long lists (leads, customers, Today): the cursor row is always on screen, the sort is
said in words and only by shown columns, the pool view names no owner, a cancelled
conversion changes nothing, saved lead views, and counted nouns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from store.config import SavedLeadView, load_config
from store.database import Store
from store.models import Customer, Lead, Opportunity, Task
from tests.tui.conftest import at, lead_named
from tui.app import DealdeckApp
from tui.screens.dialogs import AskScreen, PickScreen
from tui.screens.form import FormScreen
from tui.screens.today import TodayScreen
from tui.tabs.customers import CustomersTab
from tui.tabs.leads import LeadsTab
from tui.widgets.table import VirtualTable

SIZES = [(80, 24), (200, 55)]


@pytest.fixture
def many(team: Path) -> Path:
    """Sixty of my leads, forty customers and forty tasks due today: longer than any screen."""
    with Store(team) as store, store.writing():
        for i in range(60):
            store.add_lead(name=f"Lead {i:02d}", next_follow_up=f"2026-12-{1 + i % 28:02d}",
                           created_at=at("2026-11-20"))
        for i in range(40):
            store.new(Customer, name=f"Customer {i:02d}")
            store.new(Task, title=f"Task {i:02d}", due="2026-11-25")
    return team


def on_screen(table: VirtualTable[Any]) -> bool:
    """The cursor's row is within the lines the table shows (not under a scrollbar)."""
    top = table.scroll_offset.y
    return top <= table.cursor < top + table.scrollable_content_region.height


def line(app: DealdeckApp, selector: str) -> str:
    return str(app.query_one(selector, Static).render())


def header_text(table: VirtualTable[Any]) -> str:
    return table.header.render_line(0).text


@pytest.mark.parametrize("size", SIZES)
async def test_end_shows_the_last_row_of_every_long_list(many: Path, size: tuple[int, int]) -> None:
    with Store(many) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            leads = app.query_one(LeadsTab).table
            await pilot.press("end")
            await pilot.pause()
            assert leads.cursor == len(leads.rows) - 1 and on_screen(leads)
            await pilot.press("3")
            customers = app.query_one(CustomersTab)
            if not customers.in_list:
                await pilot.press("v")
            await pilot.press("end")
            await pilot.pause()
            assert customers.table.cursor == len(customers.table.rows) - 1 == 40
            assert on_screen(customers.table)
            await pilot.press("t", "end")
            await pilot.pause()
            assert isinstance(app.screen, TodayScreen)
            today = app.screen.table
            assert today.cursor == len(today.rows) - 1 and on_screen(today)


async def test_a_new_lead_that_sorts_last_is_shown_under_the_cursor(many: Path) -> None:
    with Store(many) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("n", *"Zed", "ctrl+s")  # no follow-up: last by follow-up date
            await pilot.pause()
            table = app.query_one(LeadsTab).table
            assert table.current is not None and table.current.name == "Zed"
            assert table.cursor == len(table.rows) - 1 and on_screen(table)


async def test_the_sort_is_said_in_words_and_o_skips_hidden_columns(app: DealdeckApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(LeadsTab).table
        assert "sorted by follow-up, soonest first" in line(app, "#lead-filters")
        assert "Follow-up ▲" in header_text(table)
        await pilot.press("o")
        assert "sorted by follow-up, latest first" in line(app, "#lead-filters")
        assert "Follow-up ▼" in header_text(table)
        shown = table.shown_keys()
        assert "source" not in shown  # no room for it at 80 columns
        keys = set()
        for _ in range(len(table.columns) * 2):
            await pilot.press("o")
            keys.add(table.sort_key)
            if table.sort_key == "grade" and not table.sort_reverse:
                assert " G▲ " in header_text(table)  # a two-cell column keeps its glyph
                assert "sorted by grade, A first" in line(app, "#lead-filters")
        assert keys == set(shown)


async def test_a_sort_column_hidden_by_a_resize_is_named_in_the_filter_line(app: DealdeckApp) -> None:
    async with app.run_test(size=(200, 55)) as pilot:
        await pilot.pause()
        table = app.query_one(LeadsTab).table
        table.sort_by("source")
        await pilot.pause()
        assert line(app, "#lead-filters").endswith("sorted by source, A to Z")
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await pilot.pause()
        assert "sorted by source, A to Z (column hidden at this width)" in line(app, "#lead-filters")


async def test_a_value_sorted_largest_first_points_down(store: Store) -> None:
    store.new(Customer, name="Big", lifecycle="active")
    app = DealdeckApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        tab = app.query_one(CustomersTab)
        assert "sorted by health, at risk first" in line(app, "#customer-filters")
        await pilot.press("o", "o")  # health reversed, then value
        assert tab.table.sort_key == "value"
        assert "sorted by value, largest first" in line(app, "#customer-filters")
        assert "Value ▼" in header_text(tab.table)


async def test_o_sorts_the_cards_by_any_column(store: Store) -> None:
    app = DealdeckApp(store)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        tab = app.query_one(CustomersTab)
        assert not tab.in_list
        keys = set()
        for _ in range(len(tab.table.columns) * 2):
            await pilot.press("o")
            keys.add(tab.table.sort_key)
        assert keys == set(tab.table.sort_keys)


async def test_the_lead_pool_view_names_no_owner(app: DealdeckApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await pilot.press("L")
        text = line(app, "#lead-filters")
        assert "lead pool" in text and "owner" not in text


async def test_cancelling_a_conversion_leaves_the_lead_as_it_was(app: DealdeckApp, store: Store) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        tab = app.query_one(LeadsTab)
        tab.table.cursor = [r.name for r in tab.table.rows].index("Tom Ford")
        await pilot.press("c", "y")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, FormScreen)
    assert lead_named(store, "Tom Ford").status == "new"
    assert store.count(Opportunity) == 0


async def test_save_a_lead_view_and_pick_it_again(app: DealdeckApp, store: Store) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        tab = app.query_one(LeadsTab)
        await pilot.press("O", "G", "o")  # the team's grade A leads, latest follow-up first
        await pilot.press("W")
        assert isinstance(app.screen, AskScreen)
        await pilot.press(*"Hot", "enter")
        await pilot.pause()
        [view] = load_config(store.folder).lead_views
        assert (view.name, view.owner, view.grade, view.sort, view.reverse) == ("Hot", None, "A", "follow_up", True)
        assert "view “Hot”" in line(app, "#lead-filters")
        await pilot.press("O", "G", "o")  # something else
        assert tab.filter.grade != "A"
        await pilot.press("V")
        assert isinstance(app.screen, PickScreen)
        await pilot.press(*"Hot", "enter")
        await pilot.pause()
        assert (tab.filter.owner, tab.filter.grade, tab.filter.status) == ("team", "A", "open")
        assert (tab.table.sort_key, tab.table.sort_reverse) == ("follow_up", True)
        assert [r.name for r in tab.table.rows] == ["Emma Clarke"]


async def test_customer_segments_keep_the_sort_and_v_picks_them_too(store: Store) -> None:
    app = DealdeckApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3", "O", "o", "o")  # the team's customers by value
        await pilot.press("W", *"Valuable", "enter")
        await pilot.pause()
        [segment] = store.config.segments
        assert (segment.sort, segment.reverse) == ("value", False)
        tab = app.query_one(CustomersTab)
        tab.table.sort_by("name")
        await pilot.press("V", *"Valu", "enter")
        await pilot.pause()
        assert tab.table.sort_key == "value" and tab.filter.segment == segment


async def test_counted_nouns_in_the_customer_tab(store: Store) -> None:
    app = DealdeckApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        assert line(app, "#customer-filters").startswith("1 of 1 customer ·")
        await pilot.press("X")
        assert isinstance(app.screen, AskScreen)
        assert app.screen.title_text.startswith("Export 1 customer (")
    assert store.count(Lead) == 4


async def test_after_a_filter_change_the_cursor_row_is_on_screen(many: Path) -> None:
    """A lead picked in a short list stays under the cursor when the list grows, and the
    list scrolls to it: an action never hits a row the user cannot see."""
    with Store(many) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            table = app.query_one(LeadsTab).table
            await pilot.press("slash", *"lead 45", "enter")
            await pilot.pause()
            assert [r.name for r in table.rows] == ["Lead 45"]
            await pilot.press("escape")  # the whole list again, the cursor still on Lead 45
            await pilot.pause()
            assert len(table.rows) > 40 and on_screen(table)
            assert table.current is not None and table.current.name == "Lead 45"


async def test_a_view_that_grows_the_list_scrolls_to_the_cursor_row(many: Path) -> None:
    """The pool's one lead sorts last in the team's list: picking that view scrolls to it
    (the scrollbar was not drawn yet and Textual refused to scroll)."""
    with Store(many) as store:
        store.config = store.config.model_copy(update={"lead_views": [
            SavedLeadView(name="Pool", pool=True), SavedLeadView(name="Team", status=None)]})
        app = DealdeckApp(store)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            table = app.query_one(LeadsTab).table
            await pilot.press("V", *"Pool", "enter")
            await pilot.pause()
            assert [r.name for r in table.rows] == ["Pooled Pat"]
            await pilot.press("V", *"Team", "enter")
            await pilot.pause()
            assert len(table.rows) > 60 and table.cursor == len(table.rows) - 1
            assert table.current is not None and table.current.name == "Pooled Pat" and on_screen(table)


@pytest.mark.parametrize("size", SIZES)
async def test_no_column_is_cut_while_another_has_room(team: Path, size: tuple[int, int]) -> None:
    """A 9-letter rep id at 80 columns, "social media" at 200: whole, Name takes what is left."""
    config = team / "config.yaml"
    config.write_text(config.read_text().replace("  - {id: bo, name: Bo Chen}\n",
                                                 "  - {id: bo, name: Bo Chen}\n  - {id: wang.fang, name: Wang Fang}\n"))
    with Store(team) as store:
        store.add_lead(name="Wang's lead", owner="wang.fang", source="social media", status="disqualified",
                       disqualified_reason="no budget")
        app = DealdeckApp(store)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            table = app.query_one(LeadsTab).table
            table.sort_by("name")
            await pilot.press("O", *"SSSSS")  # the team's leads, status disqualified
            await pilot.pause()
            assert [r.name for r in table.rows] == ["Wang's lead"]
            text = table.render_line(0).text
            assert "wang.fang" in text and "disqualified" in text
            if size[0] >= 200:
                assert "social media" in text
            widths = {column.key: cells for _, column, cells in table.layout(table.content_width - 1)}
            assert sum(widths.values()) + len(widths) + 1 == table.content_width  # no cell left blank but the margin


async def test_an_empty_folder_says_how_to_add_rather_than_to_clear_a_filter(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "config.yaml").write_text("me: ann\nreps: [{id: ann, name: Ann Lee}]\n")
    with Store(folder) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            while app.screen is not app.screen_stack[0]:  # the demo data offer
                await pilot.press("escape")
            assert "No leads yet: n adds one" in app.query_one(LeadsTab).table.render_line(1).text
            await pilot.press("3")
            await pilot.pause()
            customers = app.query_one(CustomersTab)
            view = customers.table if customers.in_list else customers.grid
            assert "No customers yet: n adds one" in view.render_line(1).text
