"""A file big enough for the import's worker processes, imported from the app: the
workers are started from the app's thread (spawned), under Textual's capture of
stderr, which has no file descriptor to hand on."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from store.database import Store
from store.imports.parallel import PARALLEL_FROM_BYTES, WORKERS_VARIABLE
from store.models import Lead
from tests.tui.test_import_screen import SIZE, open_from_palette, screen, settle
from tests.tui.test_leads_tab import type_text
from tui.app import DealdeckApp


def big_export(path: Path) -> int:
    """A Zoho-style export a little over the size at which workers start."""
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["Record Id", "First Name", "Last Name", "Company", "Email", "Lead Status", "Description"])
        while out.tell() < PARALLEL_FROM_BYTES + 200_000:
            rows += 1
            writer.writerow([f"zcrm_{rows:09d}", f"First{rows}", f"Last{rows}", f"Company {rows % 700} Ltd",
                             f"p{rows}@example.com", "Contacted", "Met at the fair; wants a demo " * 2])
    return rows


@pytest.mark.slow
async def test_a_big_file_imports_through_worker_processes(app: DealdeckApp, store: Store, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "big.csv"
    rows = big_export(source)
    monkeypatch.setenv(WORKERS_VARIABLE, "2")
    before = store.count(Lead)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await open_from_palette(pilot)
        await pilot.press("ctrl+u")
        await type_text(pilot, str(source))
        await pilot.press("tab", "enter")
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert screen(app).step == "step-dry"
        await pilot.press("i")
        await settle(pilot)
        assert screen(app).step == "step-result"
    store.refresh()
    assert store.count(Lead) == before + rows
