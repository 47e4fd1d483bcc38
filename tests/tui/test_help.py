"""``?``: every key in three columns (keys, what they do, the id to rebind them by)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static
from textual.widgets._footer import FooterKey  # the footer's key widget (not exported)

from store.database import Store
from store.models import Lead
from tests.tui.conftest import lead_named
from tests.tui.test_leads_tab import SIZE
from tui.app import DealdeckApp
from tui.screens.help import HelpScreen
from tui.screens.records import RecordScreen


async def help_lines(app: DealdeckApp, pilot) -> list[str]:  # type: ignore[no-untyped-def]
    await pilot.press("question_mark")
    await pilot.pause()
    assert isinstance(app.screen, HelpScreen)
    return str(app.screen.query_one(Static).render()).splitlines()


def line_of(lines: list[str], key_id: str) -> list[str]:
    """The columns of the line of a binding id."""
    return next(line for line in lines if line.endswith(f" {key_id}")).split()


async def test_each_key_shows_its_id_in_a_column(app: DealdeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        lines = await help_lines(app, pilot)
    assert line_of(lines, "leads.new") == ["n", "New", "leads.new"]
    assert line_of(lines, "app.help") == ["?", "Keys", "app.help"]
    ids = {line.rstrip().rsplit(" ", 1)[-1] for line in lines}
    assert "customer.edit" in ids and "deal.quote" in ids and "form.save" in ids
    assert sum(line.endswith(" app.help") for line in lines) == 1  # once, though details screens have it too
    # the id column starts at the same place on every line
    starts = {next(line for line in lines if line.endswith(f" {key_id}")).index(key_id)
              for key_id in ("leads.new", "app.help", "board.category")}
    assert len(starts) == 1


async def test_a_long_list_of_keys_does_not_run_into_its_description(app: DealdeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        lines = await help_lines(app, pilot)
    keys = lines.index("  space, →, l, pgdn, ⏎")  # a line of its own ...
    assert lines[keys + 1].split() == ["Next", "present.next"]  # ... then what it does, in its column
    assert line_of(lines, "present.back")[-2:] == ["Back", "present.back"]


async def test_help_shows_and_details_screens_follow_a_rebinding(team: Path) -> None:
    config = team / "config.yaml"
    config.write_text(config.read_text() + "keys: {leads.new: N, app.help: f1}\n")
    with Store(team) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            app.open_record(Lead.table, lead_named(store, "Emma Clarke").id)
            await pilot.pause()
            assert isinstance(app.screen, RecordScreen)
            await pilot.press("f1")  # the details screen's own help key has the app's id
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            lines = str(app.screen.query_one(Static).render()).splitlines()
    assert line_of(lines, "leads.new") == ["N", "New", "leads.new"]
    assert line_of(lines, "app.help") == ["f1", "Keys", "app.help"]


async def test_help_has_its_own_footer(app: DealdeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await help_lines(app, pilot)
        assert [str(key.description) for key in app.screen.query(FooterKey)] == ["Close"]


def test_the_readme_documents_every_key_help_lists_as_everywhere() -> None:
    """Help's "Everywhere" section is the app's own keys: the README's first key table (or,
    for ``?``, the text before it) says each of them, not only on one tab."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    start = readme.index("| key | what it does |")
    table = readme[start:readme.index("\n\n", start)]
    display = {"question_mark": "?"}
    for binding in DealdeckApp.BINDINGS:
        key = display.get(binding.key, binding.key)
        where = readme[:start] if key == "?" else table
        assert f"`{key}`" in where, f"README's first key table does not say `{key}`"
    assert "`p` | present" in table and "any tab" in table
