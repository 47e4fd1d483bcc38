"""Log an activity and schedule the next follow-up in one form (one change, one undo)."""

from __future__ import annotations

from datetime import date

from store.database import Store
from store.models import Activity, Task
from tests.tui.conftest import lead_named
from tests.tui.test_leads_tab import select
from tui.app import DealdeckApp
from tui.screens.form import FormScreen


async def test_logging_a_call_sets_the_leads_next_follow_up(app: DealdeckApp, store: Store) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await select(pilot, app, "Tom Ford")
        await pilot.press("a")
        assert isinstance(app.screen, FormScreen)
        app.screen.query_one("#field-subject").value = "Called about the tender"  # type: ignore[attr-defined]
        app.screen.query_one("#field-next").value = "+3d"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, FormScreen)
        tom = lead_named(store, "Tom Ford")
        assert tom.next_follow_up == date(2026, 11, 28)  # DEALDECK_TODAY is 2026-11-25
        assert any(a.subject == "Called about the tender" for a in store.all(Activity))
        row = next(r for r in app.query_one("LeadsTab").rows_by_id.values() if r.name == "Tom Ford")  # type: ignore[attr-defined]
        assert row.follow_up == date(2026, 11, 28)
        await pilot.press("ctrl+z")  # one step: the call and the follow-up
        await pilot.pause()
        assert lead_named(store, "Tom Ford").next_follow_up == date(2026, 12, 2)
        assert not any(a.subject == "Called about the tender" for a in store.all(Activity))


async def test_logging_a_visit_on_a_customer_can_schedule_a_follow_up_task(app: DealdeckApp, store: Store) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        tab = app.query_one("CustomersTab")
        contoso = next(r for r in tab.rows_by_id.values() if r.name == "Contoso GmbH")  # type: ignore[attr-defined]
        app.log_activity_form(customer_id=contoso.id, title="Log activity", after=lambda: None)
        await pilot.pause()
        app.screen.query_one("#field-next").value = "2026-12-01"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await pilot.pause()
    tasks = [t for t in store.all(Task) if t.customer_id == contoso.id and t.kind == "follow_up"]
    assert [(t.title, t.due) for t in tasks] == [("Follow up: Contoso GmbH", date(2026, 12, 1))]
