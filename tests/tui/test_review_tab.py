"""The weekly review tab and presentation mode, driven for real."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import OptionList

from store.database import Store
from store.review import Week
from tui.app import DealdeckApp
from tui.screens.present import PresentScreen, cut
from tui.tabs.review import ReviewTab


@pytest.fixture
def crm(accounts: Path) -> Iterator[Store]:
    with Store(accounts) as store:
        yield store


async def ready(pilot: Any, app: DealdeckApp) -> ReviewTab:
    """Wait until the review on show is the one asked for (it is computed in a thread)."""
    tab = app.query_one(ReviewTab)
    for _ in range(200):
        await pilot.pause(0.02)
        if tab.review is not None and tab.shown_key == tab.wanted_key():
            return tab
    raise AssertionError("the review was not ready in time")


def screen_text(widget: Any) -> str:
    return "\n".join(str(s.render()) for s in widget.query("Static"))


async def test_the_tab_shows_the_last_full_week_for_the_team(crm: Store) -> None:
    app = DealdeckApp(crm)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("4")
        tab = await ready(pilot, app)
        assert tab.review is not None and tab.review.week == Week(2026, 47) and tab.review.who == "team"
        assert "2026-W47 (16 Nov – 22 Nov 2026) · team" in str(tab.query_one("#review-bar").render())
        assert [f.who for f in tab.review.reps] == ["Ann Lee", "Bo Chen"]
        text = screen_text(tab)
        assert "Pipeline waterfall" in text and "Stage probabilities" in text


async def test_week_and_rep_switching(crm: Store) -> None:
    app = DealdeckApp(crm)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("4")
        tab = await ready(pilot, app)
        await pilot.press("left_square_bracket")
        tab = await ready(pilot, app)
        assert tab.review is not None and tab.review.week == Week(2026, 46)
        await pilot.press("right_square_bracket", "right_square_bracket")
        tab = await ready(pilot, app)
        assert tab.review is not None and tab.review.week == Week(2026, 48)
        await pilot.press("O")
        tab = await ready(pilot, app)
        assert tab.review is not None and tab.review.who == "Ann Lee"
        assert [f.who for f in tab.review.reps] == ["Ann Lee"]
        await pilot.press("O", "O")
        tab = await ready(pilot, app)
        assert tab.review is not None and tab.review.who == "team"


async def test_every_list_opens_its_record(crm: Store) -> None:
    app = DealdeckApp(crm)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("4")
        tab = await ready(pilot, app)
        lists = list(tab.query(OptionList))
        assert lists, "the review lists deals and customers"
        first = lists[0]
        first.focus()
        await pilot.press("enter")
        from tui.screens.opportunity import OpportunityScreen

        assert isinstance(app.screen, OpportunityScreen)


async def test_presentation_steps_through_every_slide_and_restores_the_theme(crm: Store) -> None:
    app = DealdeckApp(crm)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await ready(pilot, app)
        theme = app.theme
        await pilot.press("p")
        screen = app.screen
        assert isinstance(screen, PresentScreen) and app.theme == "dealdeck-projector"
        titles = []
        for _ in range(len(screen.slides)):
            titles.append(str(screen.query_one(".slide-title").render()).split(" · ")[0])
            await pilot.press("space")
        assert titles == ["Headlines", "Funnel", "Pipeline waterfall", "The three figures", "Ann Lee", "Bo Chen",
                          "At-risk customers", "Next week", "Decisions"]
        await pilot.press("space")  # past the end: stays on the last slide
        assert screen.index == len(screen.slides) - 1
        await pilot.press("left", "left")
        assert screen.index == len(screen.slides) - 3
        await pilot.press("escape")
        assert not isinstance(app.screen, PresentScreen) and app.theme == theme


async def test_the_slides_funnel_is_the_quarters_of_the_rep_on_show(crm: Store) -> None:
    """The funnel comes with the review (its thread), the same as the store's for the quarter."""
    from store.funnel import funnel
    from store.models import Lead, Opportunity

    app = DealdeckApp(crm)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4", "O")
        tab = await ready(pilot, app)
        await pilot.press("p")
        screen = app.screen
        assert isinstance(screen, PresentScreen) and tab.review is not None
        expected = funnel(crm.rows(Lead), crm.rows(Opportunity), crm.config, today=tab.week.end, period="quarter",
                          owner="ann", until=tab.week.end)
        assert screen.funnel_steps == tab.review.funnel == expected and expected[0].count > 0


def test_cut_lists() -> None:
    assert cut(["a", "b", "c", "d"], 3) == ["a", "b", "… and 2 more"] and cut(["a"], 3) == ["a"]


async def test_p_from_any_tab_presents_as_soon_as_the_review_is_ready(crm: Store) -> None:
    app = DealdeckApp(crm)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("p")  # straight after start: the review is not ready yet
        for _ in range(200):
            await pilot.pause(0.02)
            if isinstance(app.screen, PresentScreen):
                break
        assert isinstance(app.screen, PresentScreen)
        assert app.screen.review.week == Week(2026, 47)


async def test_the_review_follows_a_new_store_after_demo_data(tmp_path: Path) -> None:
    """Filling demo data opens a new Store whose version counts from 0 again."""
    from tests.tui.conftest import CONFIG

    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "config.yaml").write_text(CONFIG)
    with Store(folder) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("n")  # no demo: the empty database
            await pilot.press("4")
            tab = await ready(pilot, app)
            assert tab.review is not None and tab.review.changes.new_leads == 0
            app.fill_demo()
            for _ in range(400):
                await pilot.pause(0.05)
                if app.store is not store:
                    break
            await pilot.press("1", "4")
            tab = await ready(pilot, app)
            assert tab.review is not None and tab.review.changes.new_leads > 0
        app.store.close()


async def test_names_from_the_config_are_plain_text_in_the_figures(tmp_path: Path) -> None:
    from rich.console import Console

    from tests.tui.conftest import CONFIG

    folder = tmp_path / "marked"
    folder.mkdir()
    (folder / "config.yaml").write_text(CONFIG.replace("Bo Chen", "'[b]Bo[/b] Chen'"))
    with Store(folder) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.press("4")
            tab = await ready(pilot, app)
            assert tab.review is not None
            console = Console(width=200, record=True)
            console.print(tab._figure_table(tab.review)[0])
            assert "[b]Bo[/b] Chen" in console.export_text()


async def test_a_week_in_the_future_cannot_be_chosen(crm: Store) -> None:
    app = DealdeckApp(crm)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        tab = await ready(pilot, app)
        await pilot.press("right_square_bracket")  # this week (today is Wednesday of W48)
        tab = await ready(pilot, app)
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert tab.week == Week(2026, 48)
        notices = [n.message for n in app._notifications]
        assert notices[-1] == "2026-W49 has not begun yet: 2026-W48 is the latest week."


async def test_focus_stays_on_the_list_after_switching_rep(crm: Store) -> None:
    app = DealdeckApp(crm)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("4")
        tab = await ready(pilot, app)
        first = next(iter(tab.query(OptionList)))
        first.focus()
        await pilot.pause()
        await pilot.press("O")  # Ann Lee: the body is rebuilt
        tab = await ready(pilot, app)
        await pilot.pause()
        focused = app.focused
        assert isinstance(focused, OptionList) and focused.name == first.name and focused.is_attached
        await pilot.press("enter")
        from tui.screens.opportunity import OpportunityScreen

        assert isinstance(app.screen, OpportunityScreen)


def test_a_long_list_item_wraps_between_its_parts() -> None:
    from store.review import Item
    from tui.tabs.review import _options

    item = Item(title="Cobalt Northern Medical GmbH: first deal", owner="alice", detail="in Initial contact",
                table="opportunities", record_id="x")
    prompt = str(_options([item], width=68)[0].prompt)
    assert prompt.splitlines() == ["Cobalt Northern Medical GmbH: first deal · alice", "in Initial contact"]
    assert str(_options([item], width=120)[0].prompt).count("\n") == 0


def test_a_bullet_bar_marks_the_target_and_stacks_won_and_weighted() -> None:
    from decimal import Decimal

    from tui.screens.present import bullet_bar

    bar = bullet_bar(Decimal(300), Decimal(200), Decimal(1000), 20)
    assert bar == "██████▓▓▓▓░░░░░░░░░│"  # won 6 cells, weighted 4 more, the target at the end
    ahead = bullet_bar(Decimal(900), Decimal(300), Decimal(1000), 24)  # past the target: it marks where
    assert ahead == "█" * 18 + "▓▓│▓▓▓"  # the mark over the forecast, 20 cells of 24 in
    assert "│" not in bullet_bar(Decimal(5), Decimal(0), Decimal(0), 10)  # no target, no mark
