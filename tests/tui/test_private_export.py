"""The customer tab's segment export is a private file (0600) even under umask 000."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from store.database import Store
from tui.app import DealdeckApp


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


async def test_the_segment_export_is_private_under_umask_000(accounts: Path, tmp_path: Path,
                                                            open_umask: None) -> None:
    target = tmp_path / "segment.csv"
    target.write_text("an older export")
    target.chmod(0o666)
    with Store(accounts) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.press("3", "O", "X")
            app.screen.query_one("#ask-input").value = str(target)  # type: ignore[attr-defined]
            await pilot.press("enter")
            await pilot.pause()
    assert target.stat().st_mode & 0o777 == 0o600
    assert "Contoso GmbH" in target.read_text(encoding="utf-8-sig")
