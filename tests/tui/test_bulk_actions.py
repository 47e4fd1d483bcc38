"""Marking rows (space, *) and acting on all marked rows at once: one commit, one undo."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from textual.widgets import Static

from store.database import Store
from store.models import Customer, Lead, Task
from tests.tui.conftest import lead_named
from tui.app import DealdeckApp
from tui.screens.dialogs import AskScreen, ConfirmScreen, PickScreen
from tui.tabs.customers import CustomersTab
from tui.tabs.leads import LeadsTab

SIZE = (120, 36)


def tab(app: DealdeckApp) -> LeadsTab:
    return app.query_one(LeadsTab)


def filter_line(app: DealdeckApp, selector: str = "#lead-filters") -> str:
    return str(app.query_one(selector, Static).render())


def notices(app: DealdeckApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def mark(pilot: object, app: DealdeckApp, *names: str) -> None:
    table = tab(app).table
    for name in names:
        table.cursor = [r.name for r in table.rows].index(name)
        await pilot.press("space")  # type: ignore[attr-defined]


async def test_space_marks_star_marks_all_and_esc_clears_marks_first(app: DealdeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        leads = tab(app)
        await mark(pilot, app, "Emma Clarke", "Tom Ford")
        assert leads.marks.ids == {lead_named(leads.store, n).id for n in ("Emma Clarke", "Tom Ford")}
        assert "2 marked" in filter_line(app)
        assert leads.table.render_line(0).text.startswith("✓")  # Emma, first by follow-up
        await pilot.press("asterisk")
        assert len(leads.marks.ids) == 3
        await pilot.press("asterisk")  # all shown were marked: unmark them
        assert not leads.marks
        await pilot.press("asterisk", "slash", *"emma", "enter")
        assert "3 marked, 2 hidden by the filter (not acted on)" in filter_line(app)
        await pilot.press("escape")  # the marks go first
        assert not leads.marks and [r.name for r in leads.table.rows] == ["Emma Clarke"]
        await pilot.press("escape")  # then the filter
        assert len(leads.table.rows) == 3


async def test_assign_the_marked_leads_with_their_tasks_in_one_undo(app: DealdeckApp, store: Store) -> None:
    emma = lead_named(store, "Emma Clarke")
    store.new(Task, title="Send brochure", due="2026-11-27", lead_id=emma.id)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await mark(pilot, app, "Emma Clarke", "Tom Ford")
        await pilot.press("A")
        assert isinstance(app.screen, PickScreen) and "Assign 2 leads to" in app.screen.title_text
        await pilot.press(*"bo", "enter")
        await pilot.pause()
        assert {lead_named(store, n).owner for n in ("Emma Clarke", "Tom Ford")} == {"bo"}
        assert [t.owner for t in store.all(Task)] == ["bo"]
        assert not tab(app).marks
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert any(n.startswith("Undid: assign 2 leads to Bo Chen") for n in notices(app))
        assert {lead_named(store, n).owner for n in ("Emma Clarke", "Tom Ford")} == {"ann"}
        assert [t.owner for t in store.all(Task)] == ["ann"]
        await pilot.press("ctrl+y")  # redo names the action too
        await pilot.pause()
        assert any(n.startswith("Redid: assign 2 leads to Bo Chen") for n in notices(app))
    assert {lead_named(store, n).owner for n in ("Emma Clarke", "Tom Ford")} == {"bo"}


async def test_only_the_marked_leads_shown_are_graded(app: DealdeckApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await mark(pilot, app, "李娜", "Tom Ford")
        await pilot.press("slash", *"ford", "enter", "plus")
        await pilot.pause()
    assert (lead_named(store, "Tom Ford").grade, lead_named(store, "李娜").grade) == ("B", "B")


async def test_disqualify_the_marked_leads_after_a_confirmation(app: DealdeckApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await mark(pilot, app, "李娜", "Tom Ford")
        await pilot.press("x", *"budget", "enter")
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.question == "Disqualify 2 leads: No budget?"
        await pilot.press("n")  # nothing happens
        await pilot.pause()
        assert lead_named(store, "Tom Ford").status == "new"
        await pilot.press("x", *"budget", "enter", "y")
        await pilot.pause()
        assert [r.name for r in tab(app).table.rows] == ["Emma Clarke"]
    assert {lead_named(store, n).status for n in ("李娜", "Tom Ford")} == {"disqualified"}


async def test_claim_tag_and_follow_up_the_marked_leads(app: DealdeckApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("L", "asterisk", "m")  # every pool lead
        await pilot.pause()
        pat = lead_named(store, "Pooled Pat")
        assert (pat.owner, pat.in_pool, pat.next_follow_up) == ("ann", False, date(2026, 11, 25))
        await pilot.press("L")
        await mark(pilot, app, "Emma Clarke", "Tom Ford")
        await pilot.press("number_sign")
        assert isinstance(app.screen, AskScreen) and app.screen.title_text == "Tag 2 leads with"
        await pilot.press(*"expo", "enter")
        await pilot.pause()
        await mark(pilot, app, "Emma Clarke", "Tom Ford")
        await pilot.press("f", *"2026-12-09", "enter")
        await pilot.pause()
    for name in ("Emma Clarke", "Tom Ford"):
        lead = lead_named(store, name)
        assert lead.tags == ["expo"] and lead.next_follow_up == date(2026, 12, 9)
    assert lead_named(store, "李娜").tags == []


async def test_export_only_the_marked_leads(app: DealdeckApp, tmp_path: Path) -> None:
    target = tmp_path / "marked.csv"
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await mark(pilot, app, "Tom Ford", "Emma Clarke")
        await pilot.press("X")
        assert isinstance(app.screen, AskScreen) and app.screen.title_text == "Export 2 leads to"
        app.screen.query_one("#ask-input").value = str(target)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause()
    lines = target.read_text(encoding="utf-8-sig").splitlines()
    column = lines[0].split(",").index("name")
    assert sorted(line.split(",")[column] for line in lines[1:]) == ["Emma Clarke", "Tom Ford"]


async def test_customers_marked_are_assigned_and_tagged_in_one_undo_each(store: Store) -> None:
    store.new(Customer, name="Acme Pumps")
    store.new(Customer, name="Globex Corp")
    app = DealdeckApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        customers = app.query_one(CustomersTab)
        customers.table.cursor = [r.name for r in customers.table.rows].index("Acme Pumps")
        await pilot.press("space")
        customers.table.cursor = [r.name for r in customers.table.rows].index("Globex Corp")
        await pilot.press("space")
        assert "2 marked" in filter_line(app, "#customer-filters")
        assert customers.table.render_line(0).text[0] in "✓ "
        await pilot.press("number_sign", *"vip", "enter")
        await pilot.pause()
        await pilot.press("asterisk", "A", *"bo", "enter")  # all three
        await pilot.pause()
        owners = {c.name: (c.owner, c.tags) for c in store.all(Customer)}
        assert owners == {"Acme Pumps": ("bo", ["vip"]), "Globex Corp": ("bo", ["vip"]),
                          "Contoso GmbH": ("bo", [])}
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert any(n.startswith("Undid: assign 3 customers to Bo Chen") for n in notices(app))
    owners = {c.name: (c.owner, c.tags) for c in store.all(Customer)}
    assert owners == {"Acme Pumps": ("ann", ["vip"]), "Globex Corp": ("ann", ["vip"]), "Contoso GmbH": ("ann", [])}


async def test_marks_of_leads_that_are_gone_are_forgotten(app: DealdeckApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await mark(pilot, app, "Tom Ford")
        store.delete(Lead, lead_named(store, "Tom Ford").id)
        await pilot.pause()
        tab(app).reload()
        assert not tab(app).marks


async def test_a_marked_card_shows_its_mark_in_the_grid(store: Store) -> None:
    from tui.tabs.customers import customer_card

    app = DealdeckApp(store)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        customers = app.query_one(CustomersTab)
        assert not customers.in_list
        await pilot.press("space")
        assert "1 marked" in filter_line(app, "#customer-filters")
        row = customers.grid.current
        assert row is not None and row.id in customers.marks
        assert customer_card(row, 40, customers.today, marked=True)[0][0][0] == "✓ "


async def export_shown(pilot: object, app: DealdeckApp, target: Path) -> None:
    await pilot.press("X")  # type: ignore[attr-defined]
    assert isinstance(app.screen, AskScreen)
    app.screen.query_one("#ask-input").value = str(target)  # type: ignore[attr-defined]
    await pilot.press("enter")  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]


async def test_x_writes_the_same_bytes_as_the_export_command(team: Path, tmp_path: Path) -> None:
    """No BOM, no CRLF, the same rows in the same order: `X` on every lead is the command's file."""
    from tui.cli import main

    with Store(team) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            tab(app).set_filter(owner="team", status=None)  # every lead, the pool's too
            assert len(tab(app).table.rows) == 4
            await export_shown(pilot, app, tmp_path / "x.csv")
            await pilot.press("3")
            await export_shown(pilot, app, tmp_path / "customers.csv")
    assert main(["export", "csv", "leads", "--data", str(team), "-o", str(tmp_path / "cli.csv")]) == 0
    assert (tmp_path / "x.csv").read_bytes() == (tmp_path / "cli.csv").read_bytes()
    customers = (tmp_path / "customers.csv").read_bytes()
    assert customers.startswith(b"name,") and b"\r\n" not in customers and b"Contoso GmbH" in customers
