"""Screens as pictures (pytest-textual-snapshot): the shell and lead tab at 80x24 and
200x55 (the projector), in the default and the projector theme. Data and date are fixed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from store.database import Store
from tui.app import DealdeckApp


@pytest.mark.parametrize("size", [(80, 24), (200, 55)], ids=["80x24", "200x55"])
@pytest.mark.parametrize("theme", ["dealdeck-dark", "dealdeck-projector"])
def test_lead_tab(snap_compare: Any, store: Store, size: tuple[int, int], theme: str) -> None:
    assert snap_compare(DealdeckApp(store, theme=theme), terminal_size=size)


@pytest.mark.parametrize("size", [(80, 24), (200, 55)], ids=["80x24", "200x55"])
def test_today(snap_compare: Any, store: Store, size: tuple[int, int]) -> None:
    assert snap_compare(DealdeckApp(store), terminal_size=size, press=["t"])


def test_new_lead_form_with_an_error_at_80x24(snap_compare: Any, store: Store) -> None:
    keys = ["n", "tab", "tab", "tab", *"bad", "ctrl+s"]
    assert snap_compare(DealdeckApp(store), terminal_size=(80, 24), press=keys)


@pytest.mark.parametrize("size", [(80, 24), (200, 55)], ids=["80x24", "200x55"])
@pytest.mark.parametrize("theme", ["dealdeck-dark", "dealdeck-projector"])
def test_board(snap_compare: Any, deals: Path, size: tuple[int, int], theme: str) -> None:
    with Store(deals) as store:
        assert snap_compare(DealdeckApp(store, theme=theme), terminal_size=size, press=["2", "O"])


def test_board_list_view_at_80x24(snap_compare: Any, deals: Path) -> None:
    with Store(deals) as store:
        assert snap_compare(DealdeckApp(store), terminal_size=(80, 24), press=["2", "O", "v"])


def test_opportunity_details_at_80x24(snap_compare: Any, deals: Path) -> None:
    with Store(deals) as store:
        assert snap_compare(DealdeckApp(store), terminal_size=(80, 24), press=["2", "l", "enter"])


@pytest.mark.parametrize("size", [(80, 24), (200, 55)], ids=["80x24", "200x55"])
def test_customer_cards(snap_compare: Any, accounts: Path, size: tuple[int, int]) -> None:
    with Store(accounts) as store:
        assert snap_compare(DealdeckApp(store), terminal_size=size, press=["3", "O"])


@pytest.mark.parametrize("size", [(80, 24), (200, 55)], ids=["80x24", "200x55"])
def test_customer_details(snap_compare: Any, accounts: Path, size: tuple[int, int]) -> None:
    with Store(accounts) as store:
        assert snap_compare(DealdeckApp(store), terminal_size=size, press=["3", "O", "enter"])


async def _review_ready(pilot: Any) -> None:
    from tests.tui.test_review_tab import ready

    await pilot.press("4")
    await ready(pilot, pilot.app)


@pytest.mark.parametrize("size", [(80, 24), (200, 55)], ids=["80x24", "200x55"])
def test_review_tab(snap_compare: Any, accounts: Path, size: tuple[int, int]) -> None:
    with Store(accounts) as store:
        assert snap_compare(DealdeckApp(store, theme="dealdeck-projector"), terminal_size=size,
                            run_before=_review_ready)


SLIDES = ["headlines", "funnel", "waterfall", "goals", "rep", "at-risk", "next-week", "decisions"]
SLIDE_INDEX = {"headlines": 0, "funnel": 1, "waterfall": 2, "goals": 3, "rep": 4, "at-risk": 6, "next-week": 7,
               "decisions": 8}


@pytest.mark.parametrize("size", [(80, 24), (200, 55)], ids=["80x24", "200x55"])
@pytest.mark.parametrize("slide", SLIDES)
def test_presentation_slide(snap_compare: Any, accounts: Path, size: tuple[int, int], slide: str) -> None:
    async def present(pilot: Any) -> None:
        await _review_ready(pilot)
        await pilot.press("p", *["space"] * SLIDE_INDEX[slide])
        await pilot.pause()

    with Store(accounts) as store:
        assert snap_compare(DealdeckApp(store), terminal_size=size, run_before=present)
