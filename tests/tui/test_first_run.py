"""A new user's first minute: who they are, then joining the team's folder (which brings the
team's reps and work) or starting one, before any demo data is offered."""

from __future__ import annotations

from pathlib import Path

from store.config import load_config
from store.database import Store
from store.models import Lead
from sync.exchange import export_to
from tests.tui.test_leads_tab import type_text
from tui.app import DealdeckApp
from tui.screens.welcome import EmptyDatabaseScreen, FirstRunScreen, rep_id_of

SIZE = (80, 24)


def teammate_published(tmp_path: Path, team: Path) -> None:
    bo = tmp_path / "bo"
    bo.mkdir()
    (bo / "config.yaml").write_text("me: bo\nreps: [{id: bo, name: Bo Chen}]\n")
    with Store(bo) as store:
        store.new(Lead, name="Bo's lead")
        export_to(store, team)


async def fill(pilot: object, name: str, email: str, team: str) -> None:
    for text in (name, email, team):
        await type_text(pilot, text)  # type: ignore[arg-type]
        await pilot.press("enter")  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]


async def test_joining_a_team_folder_brings_its_reps_and_its_work(tmp_path: Path) -> None:
    team = tmp_path / "team"
    team.mkdir()
    teammate_published(tmp_path, team)
    folder = tmp_path / "new"
    with Store(folder) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, FirstRunScreen)
            await fill(pilot, "Ana Lima", "ana@example.com", str(team))
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert not isinstance(app.screen, EmptyDatabaseScreen)  # no demo data for a team
            config = load_config(folder)
            assert config.me == "ana" and [r.id for r in config.reps] == ["ana", "bo"]
            assert (config.sync.folder, config.sync.transport) == (str(team), "folder")
            assert "Bo's lead" in {row.name for row in app.query_one("LeadsTab").rows_by_id.values()}  # type: ignore[attr-defined]
    assert (team / load_replica_id(folder)).is_dir()  # and published its own folder


def load_replica_id(folder: Path) -> str:
    from store.replica import load_replica

    return load_replica(folder).id


async def test_starting_alone_then_demo_data_is_offered(tmp_path: Path) -> None:
    folder = tmp_path / "new"
    with Store(folder) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await fill(pilot, "Ana Lima", "", "")
            assert isinstance(app.screen, EmptyDatabaseScreen)
    assert load_config(folder).me == "ana" and load_config(folder).sync.folder == ""


async def test_a_name_is_needed_and_esc_skips(tmp_path: Path) -> None:
    folder = tmp_path / "new"
    with Store(folder) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("enter", "enter", "enter")
            assert isinstance(app.screen, FirstRunScreen)
            assert "Your name, please" in str(app.screen.query_one("#first-error").render())
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, EmptyDatabaseScreen)
    assert load_config(folder).me == "me"


def test_a_rep_id_comes_from_the_first_name() -> None:
    assert [rep_id_of(n) for n in ("Ana Lima", "Émile Zola", "  ")] == ["ana", "emile", "me"]
    assert rep_id_of("李娜", "Li.Na@example.cn") == "li.na" and rep_id_of("李娜") == "me"


async def test_the_welcome_says_how_to_finish_and_ctrl_s_does(tmp_path: Path) -> None:
    folder = tmp_path / "new"
    with Store(folder) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, FirstRunScreen)
            hint = screen.query_one(".dialog-hint")
            assert "ctrl+s: done" in str(hint.render()) and "esc: later" in str(hint.render())
            assert hint.region.y >= 0 and hint.region.bottom <= SIZE[1]  # on the screen at 80x24
            await type_text(pilot, "Ana Lima")
            await pilot.press("ctrl+s")  # done, from the first field
            await pilot.pause()
            assert isinstance(app.screen, EmptyDatabaseScreen)
    assert load_config(folder).me == "ana"
