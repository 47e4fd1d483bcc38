"""The import screen driven for real at 80x24: a file chosen with Tab completion, a
column and a value changed with the keys, the dry run, the import, and esc at
every step leaving the database as it was."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from rich.text import Text
from textual import events
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.widgets import DataTable, OptionList, Static
from textual.widgets._footer import FooterKey

from store.config import load_config
from store.database import Store
from store.models import Lead
from tests.tui.conftest import CONFIG, lead_named
from tests.tui.test_leads_tab import shown_names, type_text
from tui.app import DealdeckApp
from tui.screens.dialogs import PickScreen
from tui.screens.help import HelpScreen
from tui.screens.import_plan import ColumnsTable, PlanStep, ValuesTable
from tui.screens.import_steps import PathInput, complete_path
from tui.screens.importer import ImportScreen
from tui.screens.welcome import EmptyDatabaseScreen

SIZE = (80, 24)
DATA = Path(__file__).parent.parent / "data" / "csv"
EXPORT = """\
Id,First Name,Last Name,Company,Email,Lead Status,Rating,Lead Owner,Favourite colour
L-1,Grace,Hopper,Navy Labs,grace@navy.example,Nurturing,Hot,Bo Chen,blue
L-2,Alan,Turing,Bletchley Park,alan@bletchley.example,Working - Contacted,Cold,Someone Else,green
L-3,Bad,Row,Nowhere,not-an-email,New,Warm,,red
"""


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder the app is started in, holding the export and a file of another name."""
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "crm_export.csv").write_text(EXPORT)
    (folder / "crm_notes.txt").write_text("not a CSV")
    (folder / "old").mkdir()
    monkeypatch.chdir(folder)
    return folder


@contextmanager
def holding_the_lock(folder: Path) -> Iterator[None]:
    """Another process's write in progress: the folder's lock held by a thread of its own."""
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with Store(folder) as other, other.storage.locked():
            held.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(10)
    try:
        yield
    finally:
        release.set()
        thread.join()


async def settle(pilot: Pilot[None]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def screen(app: DealdeckApp) -> ImportScreen:
    assert isinstance(app.screen, ImportScreen)
    return app.screen


def text_of(app: DealdeckApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def open_from_palette(pilot: Pilot[None]) -> None:
    await pilot.press("ctrl+p")
    await type_text(pilot, "Import CSV")
    await pilot.pause(0.3)
    await pilot.press("enter")
    await pilot.pause()


async def choose_export(pilot: Pilot[None], *, table_steps: int = 0) -> None:
    """Type the start of the name, complete it with Tab, pick the table, go on."""
    await type_text(pilot, "crm")
    await pilot.press("tab")  # the common prefix of crm_export.csv and crm_notes.txt
    await type_text(pilot, "e")
    await pilot.press("tab")  # unique now
    await pilot.press("tab")  # the path is whole: on to the table list
    await pilot.press(*["down"] * table_steps, "enter")
    await settle(pilot)


def column_row(app: DealdeckApp, header: str) -> int:
    plan = app.screen.query_one(PlanStep)
    assert plan.preview is not None
    return next(i for i, p in enumerate(plan.preview.columns) if p.column.header == header)


def value_row(app: DealdeckApp, field: str, value: str) -> int:
    plan = app.screen.query_one(PlanStep)
    assert plan.preview is not None
    rows = [(name, count.value) for name, counts in plan.preview.values.items() for count in counts]
    return rows.index((field, value))


async def test_import_a_file_end_to_end(app: DealdeckApp, store: Store, files: Path) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await open_from_palette(pilot)
        path_input = app.screen.query_one(PathInput)
        assert path_input.value == "~/files/"
        await type_text(pilot, "crm")
        await pilot.press("tab")
        assert path_input.value == "~/files/crm_"
        assert "2 matches: crm_export.csv  crm_notes.txt" in text_of(app, "#file-matches")
        await type_text(pilot, "e")
        await pilot.press("tab")
        assert path_input.value == "~/files/crm_export.csv"
        await pilot.press("tab", "enter")  # leads, the first table
        await settle(pilot)
        plan = app.screen.query_one(PlanStep)
        assert screen(app).step == "step-preview"
        info = text_of(app, "#preview-info")
        assert "crm_export.csv · UTF-8 · comma · 3 rows → leads" in info
        first_rows = app.screen.query_one("#preview-rows", DataTable)
        assert first_rows.row_count == 3
        assert [str(c) for c in first_rows.get_row_at(0)][:3] == ["2", "L-1", "Grace"]

        # Favourite colour is kept as a notes line; enter picks "tags" instead.
        columns = app.screen.query_one(ColumnsTable)
        assert app.focused is columns
        columns.move_cursor(row=column_row(app, "Favourite colour"))
        await pilot.press("enter")
        await type_text(pilot, "tags")
        await pilot.press("enter")
        await settle(pilot)
        assert plan.options.columns == {"Favourite colour": "tags"}
        row = columns.get_row_at(column_row(app, "Favourite colour"))
        assert isinstance(row[1], Text) and row[1].plain == "tags •"

        # "Nurturing" means nothing here: → makes it the next status after new.
        values = app.screen.query_one(ValuesTable)
        await pilot.press("tab")
        assert app.focused is values
        nurturing = value_row(app, "status", "Nurturing")
        assert values.get_row_at(nurturing)[3].plain == "? → new"
        values.move_cursor(row=nurturing)
        await pilot.press("right")
        await settle(pilot)
        assert plan.options.values == {"status": {"Nurturing": "contacted"}}
        assert values.get_row_at(nurturing)[3].plain == "contacted •"

        await pilot.press("d")
        await settle(pilot)
        assert screen(app).step == "step-dry"
        report = text_of(app, "#dry-report")
        assert "1 of 3 rows is bad: nothing would be imported" in report
        assert "line 4: email:" in report
        assert "'Someone Else' ×1" in report  # an owner who is not a rep
        await pilot.press("i")  # refused as it stands: nothing happens
        assert screen(app).step == "step-dry"
        await pilot.press("b")  # skip the bad row
        await settle(pilot)
        assert "would add 2, update 0, leave 0 unchanged, skip 1" in text_of(app, "#dry-report")
        assert store.count(Lead) == 4

        await pilot.press("i")
        await settle(pilot)
        assert screen(app).step == "step-result"
        assert "Imported leads: 2 added, 0 updated, 0 unchanged, 1 skipped." in text_of(app, "#run-lines")
        assert "Alan Turing" in shown_names(app)  # the lead tab behind shows it already
        await pilot.press("enter")
        assert not isinstance(app.screen, ImportScreen)
    grace, alan = lead_named(store, "Grace Hopper"), lead_named(store, "Alan Turing")
    assert (grace.status, grace.owner, grace.tags, grace.external_id) == ("contacted", "bo", ["blue"], "L-1")
    assert (alan.status, alan.owner) == ("contacted", "ann")  # not a rep: goes to me
    assert "Favourite colour" not in grace.notes
    assert store.count(Lead) == 6


async def test_esc_at_every_step_writes_nothing(app: DealdeckApp, store: Store, files: Path) -> None:
    before = {p.name: p.read_bytes() for p in store.folder.iterdir() if p.is_file() and p.suffix != ".lock"}
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.action_import_csv()
        await pilot.pause()
        await choose_export(pilot)
        assert screen(app).step == "step-preview"
        await pilot.press("escape")
        assert screen(app).step == "step-file"
        await pilot.press("enter")  # the same file again, its plan kept
        await settle(pilot)
        await pilot.press("x")  # Id: not imported
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert screen(app).step == "step-dry"
        await pilot.press("escape")
        assert screen(app).step == "step-preview"
        assert app.screen.query_one(PlanStep).options.columns == {"Id": "ignore"}
        await pilot.press("escape", "escape")
        assert not isinstance(app.screen, ImportScreen)
    after = {p.name: p.read_bytes() for p in store.folder.iterdir() if p.is_file() and p.suffix != ".lock"}
    assert after == before
    assert store.count(Lead) == 4


async def test_esc_while_importing_stops_and_writes_nothing(app: DealdeckApp, store: Store, files: Path) -> None:
    rows = [f"Person {n},p{n}@big.example" for n in range(3000)]
    (files / "big.csv").write_text("Name,Email\n" + "\n".join(rows) + "\n")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.action_import_csv()
        await pilot.pause()
        await type_text(pilot, "big.csv")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        with holding_the_lock(store.folder):  # the import waits for it, so esc comes first
            await pilot.press("i")
            await pilot.pause()
            assert screen(app).step == "step-run"
            await pilot.press("escape")
        await settle(pilot)
        assert screen(app).step == "step-dry"
        assert screen(app).result is None
        assert "Stopped: nothing was imported." in [n.message for n in app._notifications]
    assert store.count(Lead) == 4
    store.refresh()
    assert store.count(Lead) == 4


@pytest.mark.parametrize(("typed", "message"), [
    ("missing.csv", "no such file: "),
    ("old", "is a folder, not a CSV file"),
    ("old/", "Type the path of a CSV file"),
    ("empty.csv", "is empty: no header and no rows"),
    ("[bold]odd[red].csv", "[bold]odd[red].csv: the first row (colour, size) is not a header"),
])
async def test_a_bad_file_is_one_line_in_plain_text(app: DealdeckApp, files: Path, typed: str, message: str) -> None:
    (files / "empty.csv").write_text("")
    (files / "[bold]odd[red].csv").write_text("colour,size\nred,big\n")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.action_import_csv()
        await pilot.pause()
        await type_text(pilot, typed)
        await pilot.press("enter")
        await settle(pilot)
        assert screen(app).step == "step-file"
        error = text_of(app, "#file-error")
        assert message in error and "\n" not in error.strip()
        assert app.focused is app.screen.query_one(PathInput)


async def test_data_from_the_file_is_never_markup(app: DealdeckApp, store: Store, files: Path) -> None:
    (files / "hostile.csv").write_text("Name,Company,Status\n[@click=app.quit]boom[/],[/foo],[red]Hot\n")
    async with app.run_test(size=(200, 55)) as pilot:
        await pilot.pause()
        app.action_import_csv()
        await pilot.pause()
        await type_text(pilot, "hostile.csv")
        await pilot.press("enter")
        await settle(pilot)
        first_rows = app.screen.query_one("#preview-rows", DataTable)
        assert [str(c) for c in first_rows.get_row_at(0)] == ["2", "[@click=app.quit]boom[/]", "[/foo]", "[red]Hot"]
        values = app.screen.query_one(ValuesTable)
        assert values.get_row_at(0)[1].plain == "[red]Hot"
        await pilot.press("d")
        await settle(pilot)
        assert "Status: '[red]Hot' ×1 unknown here → new" in text_of(app, "#dry-report")
        await pilot.press("i")
        await settle(pilot)
        await pilot.press("enter")
        assert app.is_running
    assert lead_named(store, "[@click=app.quit]boom[/]").company == "[/foo]"


async def test_the_mapping_can_be_saved_for_next_time(app: DealdeckApp, store: Store, files: Path) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.action_import_csv()
        await pilot.pause()
        await choose_export(pilot)
        await pilot.press("down", "down", "down", "down", "x")  # Email: not imported
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("m")
        await type_text(pilot, "weekly crm")
        await pilot.press("enter")
        await pilot.pause()
    mapping = load_config(store.folder).imports.mappings["weekly crm"]
    assert mapping.table == "leads" and mapping.columns == {"Email": "ignore"}
    assert store.count(Lead) == 4


async def test_contacts_need_a_company_column(app: DealdeckApp, files: Path) -> None:
    """The table is chosen in the first step; a contacts file needs a customer column,
    which the columns step asks for (the dry run waits for it)."""
    (files / "people.csv").write_text("Name,Phone,Works at\nJo,030 1234567,Contoso GmbH\n")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.action_import_csv()
        await pilot.pause()
        await type_text(pilot, "people.csv")
        await pilot.press("tab", "down", "down", "enter")
        await settle(pilot)
        assert screen(app).step == "step-preview"
        plan = app.screen.query_one(PlanStep)
        assert plan.missing == ("customer",)
        assert "Contacts need a customer" in text_of(app, "#preview-missing")
        assert [p.column.header for p in plan.preview.columns] == ["Name", "Phone", "Works at"]  # type: ignore[union-attr]
        await pilot.press("d")
        await settle(pilot)
        assert screen(app).step == "step-preview"
        assert "First choose a column for customer" in text_of(app, "#preview-error")
        app.screen.query_one(ColumnsTable).move_cursor(row=column_row(app, "Works at"))
        await pilot.press("enter")
        await type_text(pilot, "customer")
        await pilot.press("enter")
        await settle(pilot)
        assert plan.missing == () and plan.options.columns == {"Works at": "customer"}
        assert not app.screen.query_one("#preview-missing").display
        await pilot.press("d")
        await settle(pilot)
        assert screen(app).step == "step-dry"
        assert "would add 1" in text_of(app, "#dry-report")


async def test_a_hubspot_contacts_file_goes_on_to_the_columns(app: DealdeckApp, files: Path) -> None:
    """HubSpot's contacts name their company by its domain only: the columns step opens
    with customer asked for, and Associated Company Domain is set to it with the keys."""
    shutil.copy(DATA / "hubspot_contacts.csv", files / "hubspot_contacts.csv")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.action_import_csv()
        await pilot.pause()
        await type_text(pilot, "hubspot_contacts.csv")
        await pilot.press("tab", "down", "down", "enter")
        await settle(pilot)
        assert screen(app).step == "step-preview"
        assert text_of(app, "#file-error") == ""
        plan = app.screen.query_one(PlanStep)
        assert plan.missing == ("customer",)
        assert "customer" not in [p.column.target for p in plan.preview.columns]  # type: ignore[union-attr]
        app.screen.query_one(ColumnsTable).move_cursor(row=column_row(app, "Associated Company Domain"))
        await pilot.press("enter")
        await type_text(pilot, "customer")
        await pilot.press("enter")
        await settle(pilot)
        assert plan.missing == ()
        assert plan.options.columns == {"Associated Company Domain": "customer"}
        await pilot.press("d")
        await settle(pilot)
        assert screen(app).step == "step-dry"


async def test_the_field_picker_opens_on_the_columns_field(app: DealdeckApp, files: Path) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.action_import_csv()
        await pilot.pause()
        await choose_export(pilot)
        app.screen.query_one(ColumnsTable).move_cursor(row=column_row(app, "Company"))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PickScreen)
        options = app.screen.query_one("#pick-options", OptionList)
        assert options.highlighted is not None
        assert str(options.get_option_at_index(options.highlighted).prompt) == "company"
        await pilot.press("enter")  # the same field: nothing changes
        await settle(pilot)
        assert app.screen.query_one(PlanStep).options.columns == {}


async def test_a_column_set_back_to_its_detected_field_is_no_change(app: DealdeckApp, store: Store,
                                                                    files: Path) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.action_import_csv()
        await pilot.pause()
        await choose_export(pilot)
        plan = app.screen.query_one(PlanStep)
        columns = app.screen.query_one(ColumnsTable)
        columns.move_cursor(row=column_row(app, "Company"))
        await pilot.press("n")  # a notes line
        await settle(pilot)
        assert plan.options.columns == {"Company": "notes-line"}
        await pilot.press("enter")
        await type_text(pilot, "company")
        await pilot.press("enter")  # back to what the header said
        await settle(pilot)
        assert plan.options.columns == {}
        assert columns.get_row_at(column_row(app, "Company"))[1].plain == "company"  # no • mark
        # and a value set back to what it meant
        values = app.screen.query_one(ValuesTable)
        hot = value_row(app, "grade", "Hot")
        before = values.get_row_at(hot)[3].plain
        values.move_cursor(row=hot)
        values.focus()
        await pilot.press("right")
        await settle(pilot)
        assert plan.options.values
        await pilot.press("left")
        await settle(pilot)
        assert plan.options.values == {}
        assert values.get_row_at(hot)[3].plain == before
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("m")
        await type_text(pilot, "plain")
        await pilot.press("enter")
        await pilot.pause()
    mapping = load_config(store.folder).imports.mappings["plain"]
    assert mapping.columns == {} and mapping.values == {}


@pytest.mark.parametrize(("rows", "headline"), [
    ("L-1,Grace,Hopper,Navy Labs,grace@navy.example\nL-3,Bad,Row,Nowhere,not-an-email\n",
     "1 of 2 rows is bad: nothing would be imported; b skips it and imports the 1 row that is fine."),
    ("L-3,Bad,Row,Nowhere,not-an-email\n", "The only row is bad: nothing would be imported."),
    ("L-1,Grace,Hopper,Navy Labs,grace@navy.example\nL-3,Bad,Row,Nowhere,not-an-email\n"
     "L-4,Bad,Too,Nowhere,nope\nL-5,Alan,Turing,Bletchley,alan@b.example\n",
     "2 of 4 rows are bad: nothing would be imported; b skips them and imports the 2 rows that are fine."),
])
async def test_counts_agree_with_their_nouns(app: DealdeckApp, files: Path, rows: str, headline: str) -> None:
    (files / "few.csv").write_text("Id,First Name,Last Name,Company,Email\n" + rows)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.action_import_csv()
        await pilot.pause()
        await type_text(pilot, "few.csv")
        await pilot.press("enter")
        await settle(pilot)
        if "only row" in headline:
            assert "1 row → leads" in text_of(app, "#preview-info")
        await pilot.press("d")
        await settle(pilot)
        assert headline in text_of(app, "#dry-report")
        if "only row" in headline:  # nothing good to import without it: b is not offered
            assert "b:" not in text_of(app, "#dry-report") and "Skip bad rows" not in footer_keys(app)


def footer_keys(app: DealdeckApp) -> dict[str, str]:
    """The footer's keys as shown: description -> key."""
    return {key.description: key.key_display for key in app.screen.query(FooterKey)}


async def test_b_is_offered_for_bad_rows_only_and_the_footer_says_what_it_does(app: DealdeckApp,
                                                                              files: Path) -> None:
    (files / "header_only.csv").write_text("Name,Email\n")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.action_import_csv()
        await pilot.pause()
        await choose_export(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert "b: skip bad rows" in text_of(app, "#dry-report")
        assert "Skip bad rows" in footer_keys(app) and "Stop at a bad row" not in footer_keys(app)
        await pilot.press("b")
        await settle(pilot)
        assert "b: stop at a bad row" in text_of(app, "#dry-report")
        assert "Stop at a bad row" in footer_keys(app) and "Skip bad rows" not in footer_keys(app)
        await pilot.press("b")
        await settle(pilot)
        assert "b: skip bad rows" in text_of(app, "#dry-report")
        assert "Skip bad rows" in footer_keys(app)

        # a file with no bad rows (here: no rows at all) is not offered b
        await pilot.press("escape", "escape")
        path_input = app.screen.query_one(PathInput)
        path_input.value = "header_only.csv"
        path_input.focus()
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert screen(app).step == "step-dry"
        assert "b:" not in text_of(app, "#dry-report")
        assert "Skip bad rows" not in footer_keys(app) and "Stop at a bad row" not in footer_keys(app)
        await pilot.press("b")
        await settle(pilot)
        assert not screen(app).skip_bad


async def test_a_chinese_templates_field_name_row_is_marked_skipped(app: DealdeckApp, files: Path) -> None:
    shutil.copy(DATA / "chinese_crm_leads.csv", files / "chinese_crm_leads.csv")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.action_import_csv()
        await pilot.pause()
        await type_text(pilot, "chinese_crm_leads.csv")
        await pilot.press("enter")
        await settle(pilot)
        first_rows = app.screen.query_one("#preview-rows", DataTable)
        assert str(first_rows.get_row_at(0)[0]) == "2 skipped"
        assert str(first_rows.get_row_at(1)[0]) == "3"


async def test_the_columns_list_starts_at_the_top_for_another_file(app: DealdeckApp, files: Path) -> None:
    (files / "other.csv").write_text("Name,Email\nJo,jo@example.com\n")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.action_import_csv()
        await pilot.pause()
        await choose_export(pilot)
        await pilot.press("down", "down", "down", "down", "down", "down")
        columns = app.screen.query_one(ColumnsTable)
        assert columns.cursor_row == 6
        await pilot.press("escape")  # the same file again keeps the place
        await pilot.press("enter")
        await settle(pilot)
        assert columns.cursor_row == 6
        await pilot.press("escape")
        path_input = app.screen.query_one(PathInput)
        path_input.value = "other.csv"
        path_input.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert screen(app).step == "step-preview"
        assert columns.cursor_row == 0


async def test_up_and_down_in_the_path_field_choose_what_the_rows_are(app: DealdeckApp, files: Path) -> None:
    (files / "people.csv").write_text("Name,Company\nJo,Contoso GmbH\n")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.action_import_csv()
        await pilot.pause()
        await type_text(pilot, "people.csv")
        options = app.screen.query_one("#file-table", OptionList)
        await pilot.press("down", "down")
        assert app.focused is app.screen.query_one(PathInput)
        assert options.highlighted == 2
        await pilot.press("up")
        assert options.highlighted == 1
        await pilot.press("down", "enter")
        await settle(pilot)
        assert screen(app).step == "step-preview" and screen(app).table == "contacts"


async def test_question_mark_shows_the_keys(app: DealdeckApp, files: Path) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.action_import_csv()
        await pilot.pause()
        await choose_export(pilot)
        assert "Keys" in footer_keys(app)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        lines = str(app.screen.query_one(Static).render()).splitlines()
        help_scroll = app.screen.query_one(VerticalScroll)
        assert help_scroll.scroll_y == lines.index("Import CSV")  # opened at this screen's keys
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ImportScreen) and screen(app).step == "step-preview"


async def test_the_columns_list_has_rows_on_a_small_terminal(app: DealdeckApp, files: Path) -> None:
    async with app.run_test(size=(60, 16)) as pilot:
        await pilot.pause()
        app.action_import_csv()
        await pilot.pause()
        await choose_export(pilot)
        columns = app.screen.query_one(ColumnsTable)
        assert columns.scrollable_content_region.height - 1 >= 3  # below its header


async def test_an_empty_database_offers_an_import(tmp_path: Path, files: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "config.yaml").write_text(CONFIG)
    with Store(folder) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, EmptyDatabaseScreen)
            await pilot.press("i")
            await pilot.pause()
            await choose_export(pilot)
            await pilot.press("d")
            await settle(pilot)
            await pilot.press("b")
            await settle(pilot)
            await pilot.press("i")
            await settle(pilot)
            await pilot.press("enter")
            await pilot.pause()
            assert sorted(shown_names(app)) == ["Alan Turing"]  # Grace is Bo's
        assert store.count(Lead) == 2


async def test_esc_on_the_offer_and_on_the_import_leaves_an_empty_database(tmp_path: Path, files: Path) -> None:
    folder = tmp_path / "empty"
    with Store(folder) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("escape")  # a new folder asks who you are first: not now
            await pilot.pause()
            await pilot.press("i")
            await pilot.pause()
            assert isinstance(app.screen, ImportScreen)
            await pilot.press("escape")
            await pilot.pause()
            assert not app.screen.is_modal
        assert store.count(Lead) == 0


def test_tab_completes_like_a_shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "exports").mkdir()
    (tmp_path / "export_2026.csv").write_text("")
    (tmp_path / "leads.csv").write_text("")
    (tmp_path / ".hidden.csv").write_text("")
    assert complete_path("ex", tmp_path).text == "export"
    assert complete_path("ex", tmp_path).matches == ("export_2026.csv", "exports/")
    assert complete_path("exports", tmp_path).text == "exports/"
    assert complete_path("l", tmp_path).text == "leads.csv"
    assert complete_path("", tmp_path).matches == ("export_2026.csv", "exports/", "leads.csv")
    assert complete_path(".h", tmp_path).text == ".hidden.csv"
    assert complete_path("nothing", tmp_path) == complete_path("nothing", tmp_path)
    assert complete_path("nothing", tmp_path).matches == ()
    assert complete_path(f"{tmp_path}/le", Path("/")).text == f"{tmp_path}/leads.csv"
    monkeypatch.setenv("HOME", str(tmp_path))
    assert complete_path("~/lea", Path("/")).text == "~/leads.csv"
    assert complete_path("~", Path("/")).text == "~/"


def burst(app: DealdeckApp, keys: list[str]) -> None:
    """Keys that arrive together, as from tmux send-keys or a fast typist: posted at once,
    without waiting for each to be handled (Pilot.press waits)."""
    characters = {"ctrl+a": "\x01", "ctrl+u": "\x15", "ctrl+e": "\x05", "backspace": "\x7f", "enter": "\r",
                  "full_stop": "."}
    for key in keys:
        app.post_message(events.Key(key, characters.get(key, key if len(key) == 1 else None)))


async def test_keys_that_arrive_together_apply_in_order(app: DealdeckApp, files: Path) -> None:
    (files / "people.csv").write_text("Name,Company\nJo,Contoso GmbH\n")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.action_import_csv()
        await pilot.pause()
        path_input = app.screen.query_one(PathInput)
        assert path_input.value == "~/files/"
        burst(app, ["ctrl+u", "x", "full_stop", "c", "s", "v"])
        await pilot.pause(0.2)
        assert path_input.value == "x.csv"
        burst(app, ["ctrl+a", "a", "b", "ctrl+e", "backspace", "backspace", "backspace", "backspace", "y"])
        await pilot.pause(0.2)
        assert path_input.value == "abxy"
        # the screen's keys too: ↓ ↓ choose contacts before enter goes on
        burst(app, ["ctrl+u", *"people", "full_stop", *"csv", "down", "down", "enter"])
        await settle(pilot)
        assert screen(app).step == "step-preview" and screen(app).table == "contacts"
