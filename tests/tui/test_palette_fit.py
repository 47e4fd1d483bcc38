"""Palette hits fit the screen: a record's details wrap between whole parts (a phone
number was cut at 80 columns), and no line starts or ends with a separator."""

from __future__ import annotations

from rich.cells import cell_len
from textual.command import CommandList

from store.database import Store
from store.models import Customer
from tests.tui.test_leads_tab import type_text
from tui.app import DealdeckApp
from tui.header import wrapped


def test_parts_wrap_whole_without_a_dangling_separator() -> None:
    parts = ["customer", "alice", "emily.patel@cobalt-logistics.example", "+49 40 1234 5678", "Logistics"]
    lines = wrapped(parts, 40)
    assert lines == ["customer · alice", "emily.patel@cobalt-logistics.example", "+49 40 1234 5678 · Logistics"]
    assert all(cell_len(line) <= 40 for line in lines)
    assert wrapped(["x" * 50], 10) == ["x" * 9 + "…"]  # one part wider than a line: cut to it


async def test_a_palette_hit_shows_every_part_whole_at_80x24(store: Store) -> None:
    store.new(Customer, name="Cobalt Freight Logistics", email="emily.patel@cobalt-freight-logistics.example",
              phone="+49 40 1234 5678", industry="Logistics and warehousing")
    app = DealdeckApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await type_text(pilot, "cobalt")
        await pilot.pause(0.5)
        hits = app.screen.query_one(CommandList)
        prompt = next(str(option.prompt) for option in hits.options if "Cobalt" in str(option.prompt))
        lines = prompt.splitlines()
        assert "+49 40 1234 5678" in lines[-1] or any("+49 40 1234 5678" in line for line in lines), lines
        assert "Logistics and warehousing" in prompt
        assert all(cell_len(line) <= 80 - 6 for line in lines), lines
        assert not any(line.startswith("·") or line.endswith("·") for line in lines), lines


async def test_no_tab_keys_show_under_the_palette_or_a_prompt(store: Store) -> None:
    from textual.widgets._footer import FooterKey

    from tui.screens.dialogs import AskScreen

    app = DealdeckApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        tabs = app.screen_stack[0]
        assert tabs.query(FooterKey)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert not tabs.query(FooterKey)  # the lead tab's keys do nothing in the palette
        await pilot.press("escape")
        await pilot.pause()
        assert tabs.query(FooterKey)
        app.push_screen(AskScreen("Save this view as"))
        await pilot.pause()
        assert not tabs.query(FooterKey)
