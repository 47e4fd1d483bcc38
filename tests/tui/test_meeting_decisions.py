"""Decisions taken in the meeting, driven as the presenter does: pick a stalled deal or an
at-risk customer on its slide, press a key, fill the form over the slide, and the decision
is written, marked on the slide and listed on the last one, without leaving the presentation."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from store.database import Store
from store.decisions import decide_note, week_decisions
from store.models import Opportunity, Task
from tests.tui.svg_text import svg_lines
from tests.tui.test_review_snapshots import SLIDES, _slide, cut_lines
from tui.app import DealdeckApp
from tui.screens.form import FormScreen
from tui.screens.present import PresentScreen

WEEK = "2026-W47"
REP_SLIDE, AT_RISK, DECISIONS = SLIDES["rep"], SLIDES["at-risk"], 8


def footer(app: DealdeckApp) -> str:
    return str(app.screen.query_one("#slide-footer").render())


def slide_text(app: DealdeckApp) -> str:
    return "\n".join(svg_lines(app.export_screenshot()))


async def presenting(pilot: Any, index: int) -> PresentScreen:
    await _slide(index)(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, PresentScreen)
    return screen


async def test_a_next_step_decided_on_a_reps_slide_is_a_task_and_is_listed(big_week: Path) -> None:
    with Store(big_week) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await presenting(pilot, REP_SLIDE)
            assert [item.title for item in screen.decidable] == ["Valve line", "Valve line"]
            await pilot.press("n")
            assert isinstance(app.screen, FormScreen)
            await pilot.press(*"Site survey", "ctrl+s")
            await pilot.pause()
            assert app.screen is screen  # back on the slide, still presenting
            assert footer(app).startswith(
                "5 / 9 · Decided: Valve line · next step: Site survey · Ann Lee by 2026-11-25")
            assert "▶ ✓ Valve line" in slide_text(app)
            deal = next(d for d in store.all(Opportunity) if d.title == "Valve line")
            task = next(t for t in store.all(Task) if t.title == "Site survey")
            assert (task.opportunity_id, task.owner, task.due, deal.next_step) == (
                deal.id, "ann", date(2026, 11, 25), "Site survey")
            await pilot.press(*["space"] * 4)
            assert screen.index == DECISIONS
            assert "Valve line · Next step: Site survey · Ann Lee by 2026-11-25 · decided by Ann Lee" in slide_text(app)


async def test_a_stage_move_and_a_close_date_on_the_picked_deal(big_week: Path) -> None:
    with Store(big_week) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=(120, 40)) as pilot:
            await presenting(pilot, REP_SLIDE)
            await pilot.press("down", "c")
            form = app.screen
            assert isinstance(form, FormScreen)
            await pilot.press("ctrl+u", *"2027-01-15", "ctrl+s")
            await pilot.press("s", "enter", *"Nego", "enter", "ctrl+s")
            await pilot.pause()
            deal = next(d for d in store.all(Opportunity) if d.title == "Valve line")
            assert (deal.expected_close, deal.stage) == (date(2027, 1, 15), "negotiation")
            texts = [line.text for line in week_decisions(store, WEEK)]
            assert texts[0].endswith("→ 2027-01-15") and texts[1].endswith("→ Negotiation")


async def test_losing_without_a_reason_is_refused_in_the_form_and_changes_nothing(big_week: Path) -> None:
    with Store(big_week) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await presenting(pilot, REP_SLIDE)
            await pilot.press("s", "enter", *"Lost", "enter", "ctrl+s")
            await pilot.pause()
            form = app.screen
            assert isinstance(form, FormScreen)
            assert "reason" in str(form.query_one("#form-general").render())
            await pilot.press("escape")
            await pilot.pause()
            if app.screen is not screen:  # the form asks before it drops what was typed
                await pilot.press("y")
                await pilot.pause()
            assert app.screen is screen and week_decisions(store, WEEK) == []
            assert next(d for d in store.all(Opportunity) if d.title == "Valve line").stage != "lost"


async def test_a_customer_takes_a_note_and_not_a_close_date(big_week: Path) -> None:
    with Store(big_week) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await presenting(pilot, AT_RISK)
            await pilot.press("down", "c")
            assert app.screen is screen and "for a deal; Globex Corp is a customer" in footer(app)
            await pilot.press("t", *"Ask Globex for a call with their new buyer", "enter")
            await pilot.pause()
            (line,) = week_decisions(store, WEEK)
            assert (line.title, line.kind) == ("Globex Corp", "note")
            assert line.text == "Ask Globex for a call with their new buyer"
            await pilot.press("left")  # the next slide and back: the mark stays
            await pilot.press("right")
            assert "✓ Globex Corp" in slide_text(app)


async def test_a_slide_without_items_says_where_decisions_are_taken(big_week: Path) -> None:
    with Store(big_week) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await presenting(pilot, SLIDES["headlines"])
            await pilot.press("n")
            assert app.screen is screen and "Decisions are taken on a rep's slide" in footer(app)


async def test_many_long_decisions_fill_the_slide_and_none_is_cut(big_week: Path) -> None:
    with Store(big_week) as store:
        deal = next(d for d in store.all(Opportunity) if d.title == "Valve line")
        for n in range(14):
            decide_note(store, "opportunities", deal.id, WEEK, f"Decision {n}: " + "ask the plant manager again " * 4)
        decide_note(store, "opportunities", deal.id, "2026-W46", "Last week's, not this one's")
        app = DealdeckApp(store)
        async with app.run_test(size=(80, 24)) as pilot:
            await presenting(pilot, DECISIONS)
            lines = svg_lines(app.export_screenshot())
            text = "\n".join(lines)
            assert cut_lines(lines) == [] and "Decision 0:" in text and "Last week's" not in text
            assert any(line.strip().startswith("… and ") and line.strip().endswith(" more") for line in lines)
            assert all(len(line) <= 80 for line in lines)


async def test_the_picked_item_stays_in_view_on_a_short_screen(big_week: Path) -> None:
    with Store(big_week) as store:
        acme = next(d for d in store.all(Opportunity) if d.title == "Valve line")
        for n in range(12):  # stalled deals of ann's: more than an 80x24 slide shows
            store.new(Opportunity, title=f"Stalled deal {n:02}", customer_id=acme.customer_id, stage="quote",
                      amount=1000, created_at=store.require(Opportunity, acme.id).created_at - timedelta(days=90),
                      stage_history=[{"stage": "quote", "at": "2026-08-01T09:00:00Z", "by": "ann"}])
        app = DealdeckApp(store)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await presenting(pilot, REP_SLIDE)
            last = len(screen.decidable) - 1
            await pilot.press(*["down"] * (last + 3))  # past the end: stays on the last
            assert screen.picked == last
            text = slide_text(app)
            assert f"▶ {screen.decidable[last].title}" in text and " above" in text
            assert cut_lines(svg_lines(app.export_screenshot())) == []


async def test_a_deal_deleted_meanwhile_is_one_line_and_no_form(big_week: Path) -> None:
    with Store(big_week) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await presenting(pilot, REP_SLIDE)
            store.delete(Opportunity, screen.decidable[0].record_id)  # a teammate's delete, merged
            for key in ("n", "c", "t"):
                await pilot.press(key)
                assert app.screen is screen and "no opportunity" in footer(app)
            assert week_decisions(store, WEEK) == []
