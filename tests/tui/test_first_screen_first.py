"""First screen first (``tui.loading``): the app opens with the lead tab's tables and reads
the rest after its first frame; a key that needs a table not read yet says so on one line
and acts once the table is in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from textual.geometry import Region
from textual.pilot import Pilot
from textual.widgets import Static

from store.database import Store
from store.models import Activity, Customer, Lead, Opportunity
from tests.tui.conftest import at
from tests.tui.test_leads_tab import shown_names, tab
from tui import app as app_module
from tui.app import DealdeckApp
from tui.header import AppHeader
from tui.loading import FIRST_TABLES
from tui.screens.records import RecordScreen
from tui.tabs.board import BoardTab
from tui.tabs.review import ReviewTab
from tui.widgets.funnel import FunnelChart

SIZE = (120, 40)


def header_text(app: DealdeckApp) -> str:
    header = app.screen_stack[0].query_one(AppHeader)
    return " ".join(strip.text for strip in header.render_lines(Region(0, 0, header.size.width, 1)))


def with_deal_and_activity(folder: Path) -> tuple[str, str]:
    with Store(folder) as store:
        emma = store.find(Lead, text="emma")[0]
        customer = store.find(Customer, text="contoso")[0]
        deal = store.new(Opportunity, title="Contoso rollout", customer_id=customer.id, amount="12000",
                         stage="quote", expected_close="2026-12-15", created_at=at("2026-11-01"))
        store.log_activity("call", lead_id=emma.id, subject="Asked about the rollout", at=at("2026-11-19"))
        store.storage.compact()  # in the table files and the log, as a folder is between sessions
        return emma.id, deal.id


@asynccontextmanager
async def first_tables_only(folder: Path) -> AsyncIterator[tuple[DealdeckApp, Pilot[None]]]:
    """The app on a store opened with the first screen's tables, the rest read when the
    test says (``app.load_the_rest()``)."""
    store = Store(folder, load=FIRST_TABLES)
    try:
        app = DealdeckApp(store, read_rest=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            yield app, pilot
    finally:
        store.close()


async def test_keys_pressed_before_the_tables_are_read_act_when_they_are(team: Path) -> None:
    emma, deal = with_deal_and_activity(team)
    async with first_tables_only(team) as (app, pilot):
        assert app.missing(["customers", "activities", "tasks"]) == ["customers", "activities", "tasks"]
        assert "Emma Clarke" in shown_names(app)  # the first frame: the leads, without the rest
        funnel = app.query_one(FunnelChart)
        assert funnel.waiting == "Deals: loading…" and funnel.steps[0].label == "Leads"
        assert funnel.size.height == 5 and "Deals: loading…" in str(funnel.render())  # the line is shown
        assert "counting what is due…" in header_text(app) and "overdue" not in header_text(app)
        board = app.query_one(BoardTab)
        await pilot.press("2")
        await pilot.pause()
        assert board.loaded_version < 0 and not board.rows_by_id  # not built from half the data
        assert any(n.message.startswith("Loading ") and "customers" in n.message
                   for n in app._notifications)
        await pilot.press("1")
        tab(app).table.cursor = shown_names(app).index("Emma Clarke")
        await pilot.press("enter")  # a lead's details show its timeline: the log is not read yet
        await pilot.pause()
        assert not isinstance(app.screen, RecordScreen)
        worker = app.load_the_rest()
        await worker.wait()
        await pilot.pause()
        assert app.missing(["customers", "contacts", "activities", "tasks", "tickets"]) == []
        assert not tab(app)._unbuilt  # every row built
        assert isinstance(app.screen, RecordScreen) and app.screen.record_id == emma  # it acted
        assert "Asked about the rollout" in " ".join(str(w.render()) for w in app.screen.query(Static))
        assert deal in board.rows_by_id and board.rows_by_id[deal].customer == "Contoso GmbH"
        assert funnel.waiting == "" and len(funnel.steps) > 4  # the deal steps came with the deals
        assert "overdue" in header_text(app) and "counting" not in header_text(app)
        assert len(app.store.links(Activity, "lead_id")["lead_id"][emma]) == 1


async def test_a_tab_left_before_its_tables_came_is_not_jumped_back_to(team: Path) -> None:
    with_deal_and_activity(team)
    async with first_tables_only(team) as (app, pilot):
        await pilot.press("2", "1")  # the board asked for, then the leads again
        await (app.load_the_rest()).wait()
        await pilot.pause()
        assert app.query_one("#tabs").active == "leads"
        assert app.query_one(BoardTab).loaded_version >= 0  # built anyway, for later


async def test_the_lead_list_paints_the_reps_own_rows_first_and_the_rest_after(team: Path) -> None:
    """``reload`` builds the rows the owner filter shows, and the others after the frame;
    anything that needs them all (another owner, the pool, a lead brought into view) has them."""
    with Store(team) as store:
        store.add_lead(name="Bo's own lead", owner="bo", created_at=at("2026-11-21"))
        store.add_lead(name="Late Ann", owner="ann", created_at=at("2026-11-22"))  # stored after Bo's
        app = DealdeckApp(store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            leads = tab(app)
            leads.reload()  # as at the start: the rep's own rows now, the others waiting
            assert "Bo's own lead" not in {row.name for row in leads.rows_by_id.values()}
            assert len(leads._unbuilt) == 2 and "of 6 leads" in str(leads.query_one("#lead-filters").render())
            await pilot.press("O")  # the whole team's list, before the rest were built
            await pilot.pause()
            assert {"Bo's own lead", "Pooled Pat", "Emma Clarke"} <= set(shown_names(app))
            assert not leads._unbuilt and len(leads.all_rows) == 6
            assert list(leads.rows_by_id) == list(leads._docs)  # the stored order: ties sort as before
            leads.reload()
            await pilot.pause(0.2)  # the timer builds the rest by itself
            assert not leads._unbuilt and len(leads.rows_by_id) == 6


async def test_the_review_is_prepared_once_tables_read_after_its_start_up_moment_are_in(
        team: Path, monkeypatch) -> None:
    """A big folder's tables come in after the moment the review is prepared at: it is
    prepared once they are (it was computed only when shown)."""
    monkeypatch.setattr(ReviewTab, "PREPARE_AFTER_S", 0.001)  # (Textual refuses a timer of 0)
    monkeypatch.setattr(app_module, "REVIEW_AFTER_TABLES_S", 0.001)
    with_deal_and_activity(team)
    async with first_tables_only(team) as (app, pilot):
        review = app.query_one(ReviewTab)
        await pilot.pause()  # its start-up moment: the tables are not in, it waits
        assert review.review is None and review.computing is None and app.missing(["activities"])
        await app.load_the_rest().wait()
        for _ in range(50):  # computed in a thread: a few frames
            await pilot.pause()
            if review.review is not None:
                break
        assert review.review is not None and not review.is_on_screen
        assert review.shown_key == review.wanted_key()
