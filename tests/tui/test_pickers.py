"""Pickers rank what was typed as Textual's own matcher does: a label that starts with it,
then one with a word that starts with it, then the loose (fuzzy) rest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from store.database import Store
from store.models import Ticket
from tests.tui.test_forms import palette
from tests.tui.test_leads_tab import SIZE, type_text
from tui.app import DealdeckApp
from tui.screens.customer import CustomerScreen
from tui.screens.dialogs import ENOUGH, PickScreen, ranked

STATUSES = ["open", "in progress", "resolved", "closed"]


def ranked_labels(query: str, labels: list[str]) -> list[str]:
    return [labels[hit.index] for hit in ranked(query, labels)]


def test_a_label_that_starts_with_the_text_comes_first() -> None:
    assert ranked_labels("res", STATUSES) == ["resolved", "in progress"]  # "in p-r-ess" is a loose match
    assert ranked_labels("pro", STATUSES) == ["in progress"]  # a word that starts with it
    assert ranked_labels("", STATUSES) == STATUSES
    assert ranked_labels("xyz", STATUSES) == []


def test_word_starts_come_before_loose_matches() -> None:
    reps = ["Joanna Bo (jb)", "Ann Lee (ann)", "Bo Chen (bo)"]
    assert ranked_labels("bo", reps) == ["Bo Chen (bo)", "Joanna Bo (jb)"]
    assert ranked_labels("ann", reps) == ["Ann Lee (ann)", "Joanna Bo (jb)"]
    assert [hit.strong for hit in ranked("ann", reps)] == [True, False]


def test_loose_matches_are_left_off_when_the_strong_ones_fill_the_list() -> None:
    labels = ["Pasta Co", *[f"Acme {n}" for n in range(ENOUGH)]]
    assert ranked_labels("a", labels) == labels[1:]  # not the "a" inside "Pasta"
    assert ranked_labels("a", labels[:3]) == ["Acme 0", "Acme 1", "Pasta Co"]


async def pick(app: DealdeckApp, pilot: Any, screen: PickScreen, typed: str) -> list[Any]:
    """What ``screen`` returns for ``typed`` then enter."""
    answers: list[Any] = []
    app.push_screen(screen, answers.append)
    await pilot.pause()
    await type_text(pilot, typed)
    await pilot.press("enter")
    await pilot.pause()
    return answers


async def test_typing_res_picks_resolved(app: DealdeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        statuses = [(label, label.replace(" ", "_")) for label in STATUSES]
        assert await pick(app, pilot, PickScreen("Now", statuses), "res") == ["resolved"]


async def test_a_reason_of_ones_own_comes_after_the_close_matches(app: DealdeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        reasons = [(r, r) for r in ("Price", "No budget", "No decision")]
        # "no" starts two reasons: the first of them, not the text as typed
        assert await pick(app, pilot, PickScreen("Why?", reasons, allow_typed=True), "no") == ["No budget"]
        # "ice" and "prc" only loosely match "Price": what was typed comes first
        assert await pick(app, pilot, PickScreen("Why?", reasons, allow_typed=True), "ice") == ["ice"]
        assert await pick(app, pilot, PickScreen("Why?", reasons, allow_typed=True), "prc") == ["prc"]
        screen = PickScreen("Why?", reasons, allow_typed=True)
        answers = await pick(app, pilot, screen, "price")  # the reason itself, not a copy of it typed
        assert answers == ["Price"]


async def test_palette_finds_a_customer_whose_ticket_picker_ranks(accounts: Path) -> None:
    """The flow across both: the palette's record search opens the customer, and the
    ticket's status picker there takes "res" for resolved."""
    with Store(accounts) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await palette(pilot, "globex corp")
            assert isinstance(app.screen, CustomerScreen)
            customer = app.screen
            customer.query_one("#customer-tickets").focus()
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, PickScreen)
            await type_text(pilot, "res")
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen is customer
        ticket = next(t for t in store.all(Ticket) if t.title == "Invoice copy")
        assert ticket.status == "resolved"
