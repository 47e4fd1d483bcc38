"""The app opens on a folder holding a damaged record (a lead without created_at, an
activity without at: what an old Dealdeck let in from a teammate's file) and lists the
rest; every tab is visited without a traceback."""

from __future__ import annotations

from pathlib import Path

from store.database import Store
from store.models import Activity, Customer, Lead
from tests.store.test_damaged_records import damage
from tests.tui.conftest import at
from tests.tui.test_leads_tab import SIZE, shown_names
from tui.app import DealdeckApp


async def test_the_app_opens_and_lists_the_sound_records(team: Path) -> None:
    with Store(team) as store:
        bad = store.new(Lead, name="Damaged Dan", created_at=at("2026-11-20"))
        customer = next(c for c in store.all(Customer) if c.name == "Contoso GmbH")
        logged = store.new(Activity, kind="call", customer_id=customer.id, at=at("2026-11-21"))
        damage(store, "leads", bad.id, "created_at")
        damage(store, "activities", logged.id, "at")
    with Store(team) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            names = shown_names(app)
            assert "Emma Clarke" in names and "Damaged Dan" not in names
            warnings = [n.message for n in app._notifications]
            wanted = "2 damaged record(s) in activities, leads"
            assert any(wanted in w and "dealdeck check" in w for w in warnings), warnings
            for key in ("2", "3", "4", "1"):  # board, customers, review, leads
                await pilot.press(key)
                await pilot.pause()
            assert app.is_running
        assert store.damaged == {"leads": {bad.id}, "activities": {logged.id}}


async def test_a_damaged_activity_read_after_the_first_frame_is_still_told(team: Path) -> None:
    from tui.loading import FIRST_TABLES

    with Store(team) as store:
        customer = next(c for c in store.all(Customer) if c.name == "Contoso GmbH")
        logged = store.new(Activity, kind="call", customer_id=customer.id, at=at("2026-11-21"))
        damage(store, "activities", logged.id, "at")
        store.storage.compact()
    with Store(team, load=FIRST_TABLES) as store:
        app = DealdeckApp(store, read_rest=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert not any("damaged" in n.message for n in app._notifications)  # the log is not read yet
            await (app.load_the_rest()).wait()
            await pilot.pause()
            warnings = [n.message for n in app._notifications if "damaged" in n.message]
            assert len(warnings) == 1 and "1 damaged record(s) in activities" in warnings[0]
