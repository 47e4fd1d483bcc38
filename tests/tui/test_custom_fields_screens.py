"""Custom fields in the app, driven for real: a form with them (inline errors like the
built-in fields), a list with a custom column at 80x24, its sort, ``/`` and the ``F``
quick filter, the details, the palette's search."""

from __future__ import annotations

from typing import Any

from textual.widgets import Input, Select, Static

from store.database import Store
from store.models import Lead
from tests.tui.conftest import lead_named
from tui.app import DealdeckApp
from tui.commands import record_hits
from tui.screens.dialogs import PickScreen
from tui.screens.form import FormScreen
from tui.screens.records import RecordScreen
from tui.tabs.leads import LeadsTab

FIELDS = {"leads": [
    {"key": "industry", "label": "Industry", "type": "choice", "choices": ["Retail", "Manufacturing"],
     "column": True, "filter": True},
    {"key": "employees", "label": "Employees", "type": "number", "required": True},
    {"key": "motto", "label": "Motto", "type": "text"},
]}


def declare(store: Store) -> None:
    store.save_team_settings({"custom_fields": FIELDS})
    for name, industry, employees in (("Emma Clarke", "Retail", 40), ("Tom Ford", "Manufacturing", 900)):
        store.update(Lead, lead_named(store, name).id, **{"cf.industry": industry, "cf.employees": employees,
                                                          "cf.motto": f"{name} sells"})


def tab(app: DealdeckApp) -> LeadsTab:
    return app.query_one(LeadsTab)


def shown_columns(app: DealdeckApp) -> list[str]:
    table = tab(app).table
    return [column.label for _, column, _ in table.layout(table.content_width - 1)]


async def test_a_form_shows_the_custom_fields_and_their_errors_inline(store: Store) -> None:
    declare(store)
    app = DealdeckApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        form = app.screen
        assert isinstance(form, FormScreen)
        form.query_one("#field-name", Input).value = "Jane Roe"
        form.query_one("#field-cf--industry", Select).value = "Retail"
        form.query_one("#field-cf--employees", Input).value = "lots"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        assert "should be a number" in str(form.query_one("#error-cf--employees", Static).render())
        form.query_one("#field-cf--employees", Input).value = ""
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert str(form.query_one("#error-cf--employees", Static).render()) == "required"
        form.query_one("#field-cf--employees", Input).value = "1,200"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, FormScreen)
    jane = lead_named(store, "Jane Roe")
    assert jane.__pydantic_extra__ == {"cf.industry": "Retail", "cf.employees": 1200}


async def test_the_custom_column_shows_at_80x24_sorts_and_filters(store: Store) -> None:
    declare(store)
    app = DealdeckApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("O")  # the team's leads
        await pilot.pause()
        assert "Industry" in shown_columns(app)
        cells = {row.name: tab(app).table.cells(row)[-1][0] for row in tab(app).table.rows}
        assert (cells["Emma Clarke"], cells["Tom Ford"]) == ("Retail", "Manufacturing")
        tab(app).table.sort_by("cf.industry")
        await pilot.pause()
        names = [row.name for row in tab(app).table.rows]
        assert names.index("Tom Ford") < names.index("Emma Clarke")  # Manufacturing before Retail
        assert "sorted by industry" in str(app.query_one("#lead-filters", Static).render())
        await pilot.press("F")
        assert isinstance(app.screen, PickScreen)
        await pilot.press(*"Retail", "enter")
        await pilot.pause()
        assert [row.name for row in tab(app).table.rows] == ["Emma Clarke"]
        assert "Industry: Retail" in str(app.query_one("#lead-filters", Static).render())
        await pilot.press("escape")  # the quick filters go
        await pilot.pause()
        await pilot.press("O", "slash", *"tom ford sells")  # / matches a custom text field
        await pilot.pause()
        assert [row.name for row in tab(app).table.rows] == ["Tom Ford"]


async def test_details_and_the_palette_show_custom_fields(store: Store) -> None:
    declare(store)
    app = DealdeckApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        emma = lead_named(store, "Emma Clarke")
        app.push_screen(RecordScreen(store, Lead.table, emma.id))
        await pilot.pause()
        text = "\n".join(str(widget.render()) for widget in app.screen.query(Static))
        assert "Industry  Retail" in text and "Employees  40" in text
        hits: list[Any] = record_hits(app.search_index, store, "emma clarke sells")
        assert [hit.title for _, hit in hits] == ["Emma Clarke"]


async def test_a_column_declared_while_the_app_runs_appears_and_goes(store: Store) -> None:
    app = DealdeckApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("O")
        assert "Industry" not in shown_columns(app)
        declare(store)  # as a sync or a teammate's settings would bring it
        await pilot.pause()
        assert "Industry" in shown_columns(app)
        await pilot.press("F", *"Retail", "enter")
        await pilot.pause()
        assert [row.name for row in tab(app).table.rows] == ["Emma Clarke"]
        store.save_team_settings({"custom_fields": {}})
        await pilot.pause()
        assert "Industry" not in shown_columns(app)
        assert tab(app).filter.custom is None and len(tab(app).table.rows) == 4  # its filter went with it
