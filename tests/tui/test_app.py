"""The shell: markup safety, palette, today list, themes, the empty-folder offer."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from store.config import load_config
from store.database import Store
from store.models import Lead, Task
from tests.tui.conftest import CONFIG, at, lead_named
from tests.tui.test_leads_tab import SIZE, shown_names, tab, type_text
from tui.app import DealdeckApp
from tui.screens.dialogs import ConfirmScreen
from tui.screens.records import RecordScreen
from tui.screens.today import TodayScreen

HOSTILE = ["[@click=app.quit]boom[/]", "[bold red]x", "[/foo]"]


async def test_record_text_is_shown_literally_and_runs_nothing(store: Store) -> None:
    for name in HOSTILE:
        store.add_lead(name=name, company="[link=http://x]co[/link]", next_follow_up="2026-11-26",
                       created_at=at("2026-11-20"))
    store.add_lead(name="\x1b[31mRed\x1b[0m Alert", next_follow_up="2026-11-27", created_at=at("2026-11-20"))
    app = DealdeckApp(store)
    async with app.run_test(size=(220, 40)) as pilot:  # wide enough to show every name whole
        await pilot.pause()
        table = tab(app).table
        painted = "\n".join(table.render_line(y).text for y in range(len(table.rows)))
        for name in HOSTILE:
            assert name in painted
        assert "[link=http://x]co[/link]" in painted
        assert "Red Alert" in painted and "\x1b" not in painted
        for name in HOSTILE:
            table.cursor = shown_names(app).index(name)
            await pilot.click(table, offset=(3, table.cursor - table.scroll_offset.y))
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, RecordScreen)
            await pilot.press("escape")
        await pilot.press("ctrl+p")
        await type_text(pilot, "boom")
        await pilot.pause(0.5)
        await pilot.press("escape")
        assert app.is_running  # nothing ran app.quit


async def test_palette_jumps_to_a_lead_by_email(app: DealdeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await type_text(pilot, "northwind.example")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RecordScreen)
        assert app.screen.record_id == tab(app).table.current.id  # type: ignore[union-attr]


async def test_palette_switches_the_theme_and_the_choice_is_saved(app: DealdeckApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await type_text(pilot, "theme projector")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause()
        assert app.theme == "dealdeck-projector"
    assert load_config(store.folder).theme == "dealdeck-projector"


async def test_a_user_theme_from_the_data_folder_is_offered(store: Store) -> None:
    themes = store.folder / "themes"
    themes.mkdir()
    (themes / "mine.yaml").write_text("name: my-theme\nprimary: '#ff8800'\nvariables: {grade-a: '#00ff00'}\n")
    (themes / "broken.yaml").write_text("name: Bad Name!\n")
    app = DealdeckApp(store, theme="my-theme")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "my-theme"
        assert app.theme_variables["grade-a"] == "#00ff00"
        assert app.theme_variables["health-risk"]  # left out: the default fills in
        assert "broken.yaml" in " ".join(str(n.message) for n in app._notifications)


async def test_today_lists_what_is_due_and_marks_done_or_reschedules(store: Store) -> None:
    store.new(Task, title="Send the contract", due="2026-11-24", owner="ann")
    app = DealdeckApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("t")
        screen = app.screen
        assert isinstance(screen, TodayScreen)
        titles = [item.title for item in screen.table.rows]
        assert titles == ["Follow up Emma Clarke", "Send the contract", "Follow up 李娜"]
        await pilot.press("down", "d")  # the task: done
        await pilot.press("home", "r")
        await type_text(pilot, "+2d")
        await pilot.press("enter")  # Emma's follow-up moves to the 27th
        await pilot.pause()
        assert [item.title for item in screen.table.rows] == ["Follow up 李娜"]
        await pilot.press("T")  # the whole team
        await pilot.pause()
    assert store.find(Task, text="contract")[0].done
    assert lead_named(store, "Emma Clarke").next_follow_up == date(2026, 11, 27)


async def test_an_empty_folder_offers_demo_data(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    with Store(folder) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("escape")  # a new folder asks who you are first: not now
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("y")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert len(tab(app).all_rows) > 100
        app.store.close()
    assert load_config(folder).me != "me"


async def test_keys_from_the_config_rebind_actions(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    folder.mkdir()
    (folder / "config.yaml").write_text(CONFIG.replace("theme: dealdeck-dark", "keys: {leads.new: N}"))
    with Store(folder) as store:
        store.add_lead(name="Ada", created_at=at("2026-11-20"))
        app = DealdeckApp(store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("n")
            assert not app.screen.is_modal
            await pilot.press("N")
            assert app.screen.is_modal
            await pilot.press("escape", "question_mark")
            from textual.widgets import Static

            help_text = str(app.screen.query_one(Static).render())
            help_text = help_text[help_text.index("\nLead funnel\n"):help_text.index("\nOpportunity board\n")]
            rows = [line.split() for line in help_text.splitlines()]
            assert ["N", "New", "leads.new"] in rows and ["n", "New", "leads.new"] not in rows
    assert store.count(Lead) == 1


def test_the_search_index_follows_changes_to_the_store(store: Store) -> None:
    from tui.commands import SearchIndex, record_hits

    index = SearchIndex()
    assert [e.title for _, e in record_hits(index, store, "northwind")] == ["Emma Clarke"]
    store.add_lead(name="Northwind Buyer", created_at=at("2026-11-20"))
    titles = [e.title for _, e in record_hits(index, store, "northwind")]
    assert titles == ["Northwind Buyer", "Emma Clarke"]  # the name that starts with it ranks first
    assert [e.title for _, e in record_hits(index, store, "emma northwind.example")] == ["Emma Clarke"]


def test_the_search_index_follows_a_new_store_at_the_same_version(team: Path, tmp_path: Path) -> None:
    """A demo fill opens a new Store, whose version counts from 0 like the old one's."""
    from tui.commands import SearchIndex, record_hits

    index = SearchIndex()
    other = tmp_path / "other"
    other.mkdir()
    (other / "config.yaml").write_text((team / "config.yaml").read_text())
    with Store(other) as empty:
        assert record_hits(index, empty, "northwind") == []
    with Store(team) as full:
        assert full.version == 0
        assert [e.title for _, e in record_hits(index, full, "northwind")] == ["Emma Clarke"]


async def test_s_syncs_with_the_team_folder_and_shows_the_report(tmp_path: Path, store: Store) -> None:
    from textual.widgets import Static

    from sync.exchange import export_to
    from tui.screens.sync_report import SyncReportScreen

    team = tmp_path / "team"
    team.mkdir()
    config = (store.folder / "config.yaml").read_text() + f"sync: {{folder: '{team}'}}\n"
    other_folder = tmp_path / "bo"
    other_folder.mkdir()
    (other_folder / "config.yaml").write_text(CONFIG.replace("me: ann", "me: bo"))
    with Store(other_folder) as bo:
        bo.add_lead(name="Bo's new lead", created_at=at("2026-11-24"))
        export_to(bo, team)
    (store.folder / "config.yaml").write_text(config)
    with Store(store.folder) as mine:
        app = DealdeckApp(mine)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("s")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert isinstance(app.screen, SyncReportScreen)
            assert any("Bo Chen (" in line and "1 added" in line for line in app.screen.lines)
            shown = [w.render() for w in app.screen.query(Static)]
            assert any("\n" in str(text) and "Bo Chen (" in str(text) for text in shown)  # one line each
            assert app.sync_step == ""  # the progress line is gone once done ...
            header = str(app.query_one("#app-header").render())
            assert "team merged" in header and "from Bo Chen" in header  # ... and the header says when
            await pilot.press("escape", "O")
            assert "Bo's new lead" in shown_names(app)
            assert (team / mine.replica_id / "manifest.json").exists()  # published too


async def test_config_text_in_pickers_is_plain_text(tmp_path: Path) -> None:
    from textual.widgets import Select

    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / "config.yaml").write_text("me: ann\nreps: [{id: ann, name: Ann}, {id: zed, name: '[red]Zed[/'}]\n"
                                        "lead_sources: ['[b]expo', website]\n")
    with Store(folder) as store:
        store.add_lead(name="Ada", created_at=at("2026-11-20"))
        app = DealdeckApp(store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("n")
            await pilot.pause()
            owner = app.screen.query_one("#field-owner", Select)
            source = app.screen.query_one("#field-source", Select)
            assert "[red]Zed[/ (zed)" in [str(prompt) for prompt, _ in owner._options]
            assert source.value == "[b]expo"
            source.focus()
            await pilot.press("enter", "w", "e", "b", "enter")  # type-to-search still works
            await pilot.pause()
            assert source.value == "website"
            await pilot.press("escape", "A")  # the assign picker lists reps too
            await pilot.pause()
            assert app.is_running
