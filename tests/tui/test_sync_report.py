"""The sync report after ``s``: teammates and duplicates in words (no replica ids or match
keys), and each record of a double follow-up opens with ``enter``, as elsewhere."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import OptionList, Static

from store.database import Store
from store.models import Customer, Lead
from sync.exchange import export_to
from sync.merge import Conflict
from sync.report import double_follow_ups, told_conflict
from tests.tui.conftest import CONFIG, at
from tui.app import DealdeckApp
from tui.screens.records import RecordScreen
from tui.screens.sync_report import SyncReportScreen

SIZE = (120, 36)


def shown_text(screen: SyncReportScreen) -> str:
    """The report's lines and the double follow-ups it lists."""
    lines = [str(static.render()) for static in screen.query(Static)]
    lines += [str(option.prompt) for option in screen.query_one(OptionList).options]
    return "\n".join(lines)


def test_duplicates_are_said_in_words_with_the_value_as_written() -> None:
    leads = [{"id": "a", "name": "Hans Meier", "company": "Contoso", "phone": "+49 30 894975291",
              "email": "hans@contoso.example", "owner": "ann", "status": "new"},
             {"id": "b", "name": "H. Meier", "company": "Contoso GmbH", "phone": "030 894975291",
              "owner": "bo", "status": "contacted"},
             {"id": "g", "name": "Li Na", "company": "Huaxin", "owner": "ann", "status": "new"},
             {"id": "h", "name": "li na", "company": "Huaxin Ltd", "owner": "bo", "status": "qualified"},
             {"id": "c", "name": "Ana Ruiz", "email": "ANA@x.com", "owner": "bo", "status": "new"},
             {"id": "d", "name": "A. Ruiz", "email": "ana@x.com", "owner": "ann", "status": "new"}]
    customers = [{"id": "e", "name": "Contoso GmbH", "owner": "ann"}, {"id": "f", "name": "Contoso", "owner": "bo"}]
    found = double_follow_ups({"leads": {d["id"]: d for d in leads}, "customers": {d["id"]: d for d in customers}},
                              {"leads": leads, "customers": customers})
    said = {double.what for double in found}
    assert said == {"same phone +49 30 894975291", "same e-mail ANA@x.com", "same company Contoso GmbH",
                    "same name and company (Li Na, Huaxin)"}
    line = next(d for d in found if d.what.startswith("same e-mail")).described({"ann": "Ann Lee", "bo": "Bo Chen"})
    assert line == "same e-mail ANA@x.com: lead Ana Ruiz (Bo Chen); lead A. Ruiz (Ann Lee)"


def test_a_concurrent_edit_names_the_record_and_the_teammate() -> None:
    conflict = Conflict("leads", "0f3a9c", "phone", "1", "2", "s1", "s2", "remote", "the newer edit")
    line = told_conflict(conflict, "Bo Chen", lambda table, record_id: "Emma Clarke")
    assert line == "lead Emma Clarke, phone: yours '1' vs Bo Chen's '2'; kept Bo Chen's (the newer edit)"
    assert "0f3a9c" not in line


async def test_the_report_speaks_in_words_and_opens_a_double_follow_up(tmp_path: Path, store: Store) -> None:
    team = tmp_path / "team"
    team.mkdir()
    bo_folder = tmp_path / "bo"
    bo_folder.mkdir()
    (bo_folder / "config.yaml").write_text(CONFIG.replace("me: ann", "me: bo"))
    with Store(bo_folder) as bo:
        twin = bo.add_lead(name="E. Clarke", email="EMMA@northwind.example", created_at=at("2026-11-24"))
        bo.new(Customer, name="Globex", created_at=at("2026-11-24"))
        export_to(bo, team)
        bo_replica = bo.replica_id
    (store.folder / "config.yaml").write_text((store.folder / "config.yaml").read_text()
                                              + f"sync: {{folder: '{team}'}}\n")
    with Store(store.folder) as mine:
        emma = next(lead for lead in mine.all(Lead) if lead.name == "Emma Clarke")
        app = DealdeckApp(mine)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("s")
            await app.workers.wait_for_complete()
            await pilot.pause()
            report = app.screen
            assert isinstance(report, SyncReportScreen)
            assert not any("Syncing" in str(note.message) for note in app._notifications)  # it ended
            text = shown_text(report)
            assert "Bo Chen (" in text and "2 added" in text
            assert bo_replica not in text and mine.replica_id not in text  # no replica ids
            assert "email:" not in text and "person:" not in text and "phone:" not in text  # no match keys
            assert "same e-mail" in text and "emma@northwind.example" in text.lower()
            assert "lead Emma Clarke (Ann Lee)" in text and "lead E. Clarke (Bo Chen)" in text
            assert report.query_one(OptionList).has_focus
            await pilot.press("enter")  # the first record of the first double follow-up
            await pilot.pause()
            assert isinstance(app.screen, RecordScreen)
            assert app.screen.record in {("leads", emma.id), ("leads", twin.id)}
            first = app.screen.record_id
            await pilot.press("escape")  # back to the report, the other one next
            await pilot.pause()
            assert app.screen is report
            await pilot.press("down", "enter")
            await pilot.pause()
            assert isinstance(app.screen, RecordScreen)
            assert {first, app.screen.record_id} == {emma.id, twin.id}


def test_a_concurrent_edit_of_a_link_names_the_linked_records() -> None:
    conflict = Conflict("leads", "0f3a9c", "contact_id", "ac81a99c", "ea23e251", "s1", "s2", "local", "newer edit")
    names = {("leads", "0f3a9c"): "Emily Patel", ("contacts", "ac81a99c"): "Jo Park", ("contacts", "ea23e251"): "Li Na"}
    line = told_conflict(conflict, "Bo Chen", lambda table, record_id: names[table, record_id])
    assert line == "lead Emily Patel, contact: yours 'Jo Park' vs Bo Chen's 'Li Na'; kept yours (newer edit)"


def test_the_counts_say_brought_back_and_agree_with_their_number() -> None:
    from sync.merge import MergeChanges
    from sync.report import FileReport, MergeReport

    one = Conflict("leads", "x", "phone", "1", "2", "s1", "s2", "remote", "newer edit")
    changes = MergeChanges([("leads", "a")], [], [], [("leads", "b")], [one])
    report = MergeReport(files=[FileReport(Path("bo"), "r1", "bo", changes, "1 segment(s)")])
    line = report.lines({"bo": "Bo Chen"}, lambda table, record_id: record_id)[1]
    assert line == "Bo Chen (1 segment): 1 added, 0 updated, 0 deleted, 1 brought back, 1 concurrent edit"
