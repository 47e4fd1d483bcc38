"""The header: its parts laid out by priority and width, never cut mid-part and with no
separator left dangling; the team sync said in words (who, or that nothing was new)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import orjson
import pytest
from textual.content import Content

from store.database import Store
from sync.state import STATE_FILE, SyncState
from tui.app import DealdeckApp
from tui.header import SEPARATOR, Part, fitted, header_parts, people

TODAY = date(2026, 11, 25)
MERGED_AT = "2026-11-25T12:00:00+00:00"  # the same local day in almost every time zone
MOMENT = datetime.fromisoformat(MERGED_AT).astimezone().strftime("%H:%M")
SIZES = pytest.mark.parametrize("width", [80, 200])


def merged(folder: Path, *reps: str) -> None:
    """The sync state a merge from ``reps`` leaves (none: it brought nothing new)."""
    state = SyncState(last_merge_at=MERGED_AT, merged_from=list(reps))
    (folder / STATE_FILE).write_bytes(orjson.dumps(state.to_json()))


async def header_of(store: Store, width: int) -> str:
    app = DealdeckApp(store)
    async with app.run_test(size=(width, 24)) as pilot:
        await pilot.pause()
        return str(app.query_one("#app-header").render())


def assert_whole(line: str, width: int) -> None:
    """Every part shown whole (no ellipsis), no separator at either end, within the width."""
    assert len(line) <= width - 2, line  # the header's padding
    assert "…" not in line, line
    assert not line.rstrip().endswith("·") and not line.lstrip().startswith("·"), line
    assert all(piece.strip() for piece in line.split(SEPARATOR)), line


# --- the layout, as a function --------------------------------------------------------------------------


def test_parts_give_way_by_priority_and_keep_their_order() -> None:
    parts = [Part(Content("first"), 0), Part(Content("least"), 9), Part(Content("middle"), 3, Content("mid"))]
    assert str(fitted(parts, 80)) == "first · least · middle"
    assert str(fitted(parts, 14)) == "first · middle"   # the least important went first
    assert str(fitted(parts, 11)) == "first · mid"      # then the next one's short text
    assert str(fitted(parts, 5)) == "first"             # never a dangling separator


def test_people_are_named_or_counted_when_many() -> None:
    assert people(["Bo"]) == "Bo"
    assert people(["Bo", "Ana"]) == "Bo and Ana"
    assert people(["Bo", "Ana", "Cy"]) == "Bo, Ana and Cy"
    assert people(["Bo", "Ana", "Cy", "Di", "Ed"]) == "Bo, Ana and 3 others"


def test_a_sync_that_brought_nothing_says_so_and_names_no_one() -> None:
    line = str(fitted(header_parts(rep="Ann Lee", rep_id="ann", due=0, overdue=0, at_risk=0, folder="~/data",
                                   merged=(MERGED_AT, []), names={}, today=TODAY), 200))
    assert f"team synced {MOMENT} (nothing new)" in line and "nobody" not in line


def test_a_merge_from_many_teammates_names_two_and_counts_the_rest() -> None:
    names = {"bo": "Bo Chen", "ana": "Ana Ruiz", "cy": "Cy", "di": "Di", "ed": "Ed"}
    line = str(fitted(header_parts(rep="Ann Lee", rep_id="ann", due=0, overdue=0, at_risk=0, folder="~/data",
                                   merged=(MERGED_AT, ["ana", "bo", "cy", "di", "ed"]), names=names,
                                   today=TODAY), 200))
    assert f"team merged {MOMENT} from Ana Ruiz, Bo Chen and 3 others" in line


def test_while_the_tables_are_read_the_header_says_it_is_counting_and_claims_no_figure() -> None:
    line = str(fitted(header_parts(rep="Ann Lee", rep_id="ann", due=None, overdue=0, at_risk=None,
                                   folder="~/data", today=TODAY), 200))
    assert "counting what is due…" in line and "overdue" not in line and "at risk" not in line
    counted_line = str(fitted(header_parts(rep="Ann Lee", rep_id="ann", due=2, overdue=1, at_risk=3,
                                           folder="~/data", today=TODAY), 200))
    assert "2 due, 1 overdue" in counted_line and "3 deals at risk" in counted_line


# --- in the app, at 80 and 200 columns ------------------------------------------------------------------


@SIZES
async def test_the_header_before_any_sync(store: Store, width: int) -> None:
    line = await header_of(store, width)
    assert_whole(line, width)
    assert line.startswith("Dealdeck · Ann Lee (ann) · ") or line.startswith("Ann Lee (ann) · ")
    assert "team" not in line and "nobody" not in line
    if width == 200:
        assert line.endswith("? keys") and "ctrl+p find" in line and "~/data" in line


@SIZES
async def test_the_header_after_a_merge_names_the_teammates(team: Path, width: int) -> None:
    merged(team, "bo")
    with Store(team) as store:
        line = await header_of(store, width)
    assert_whole(line, width)
    assert "Ann Lee" in line
    assert ("from Bo Chen" in line) if width == 200 else (f"synced {MOMENT}" in line)


@SIZES
async def test_the_header_after_a_sync_with_nothing_new(team: Path, width: int) -> None:
    merged(team)
    with Store(team) as store:
        line = await header_of(store, width)
    assert_whole(line, width)
    assert "nobody" not in line
    if width == 200:
        assert f"team synced {MOMENT} (nothing new)" in line


@SIZES
async def test_the_header_with_deals_at_risk(deals: Path, width: int) -> None:
    merged(deals, "bo")
    with Store(deals) as store:
        line = await header_of(store, width)
    assert_whole(line, width)
    assert "2 deals at risk" in line and "due," in line
