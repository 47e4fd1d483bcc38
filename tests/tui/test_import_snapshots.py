"""The import screen as pictures at 80x24 and 200x55, with a real Salesforce export:
the file step with Tab's list, the columns and values, and the dry run."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from store.database import Store
from tests.tui.test_import_screen import settle
from tests.tui.test_leads_tab import type_text
from tui.app import DealdeckApp

DATA = Path(__file__).parent.parent / "data" / "csv"
SIZES = pytest.mark.parametrize("size", [(80, 24), (200, 55)], ids=["80x24", "200x55"])


@pytest.fixture
def exports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "exports"
    folder.mkdir()
    for name in ("salesforce_leads.csv", "zoho_leads.csv"):
        shutil.copy(DATA / name, folder / name)
    monkeypatch.chdir(folder)
    return folder


async def _file_step(pilot: Any) -> None:
    await pilot.pause()
    pilot.app.action_import_csv()
    await pilot.pause()
    await pilot.press("tab")  # both files listed
    pilot.app.clear_notifications()  # the start of day's toast
    await pilot.pause()


async def _preview(pilot: Any) -> None:
    await _file_step(pilot)
    await type_text(pilot, "sa")
    await pilot.press("tab", "enter")
    await settle(pilot)
    await pilot.press("down", "down", "down")  # the cursor on Salutation


async def _dry_run(pilot: Any) -> None:
    await _preview(pilot)
    await pilot.press("d")
    await settle(pilot)


@SIZES
def test_file_step(snap_compare: Any, store: Store, exports: Path, size: tuple[int, int]) -> None:
    assert snap_compare(DealdeckApp(store), terminal_size=size, run_before=_file_step)


@SIZES
def test_columns_and_values(snap_compare: Any, store: Store, exports: Path, size: tuple[int, int]) -> None:
    assert snap_compare(DealdeckApp(store), terminal_size=size, run_before=_preview)


@SIZES
def test_dry_run(snap_compare: Any, store: Store, exports: Path, size: tuple[int, int]) -> None:
    assert snap_compare(DealdeckApp(store), terminal_size=size, run_before=_dry_run)
