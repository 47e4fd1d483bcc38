"""Export and merge between real data folders acting as replicas."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from store.activity_store import ActivityLog
from store.database import Store
from store.models import Customer, Lead
from store.tablefile import EncodedList, json_default
from sync.errors import SyncError
from sync.exchange import export_to, last_merge, merge_files, undo_last_merge
from sync.segments import own_changes
from tests.sync.conftest import folder_bytes
from tests.sync.test_validate import LEAD, NAME, sample_tables, write_export

Replica = Callable[[str], Store]


def sync_all(shared: Path, *stores: Store) -> None:
    """Everyone exports, then everyone merges the folder."""
    for store in stores:
        export_to(store, shared)
    for store in stores:
        merge_files(store, [shared])


def test_a_teammates_records_arrive_and_the_report_counts_them(replica: Replica, shared: Path) -> None:
    ann, bo = replica("ann"), replica("bo")
    lead = ann.new(Lead, name="Emma Clarke", email="emma@northwind.example")
    path = export_to(ann, shared).segment
    assert path is not None and path.parent == shared / ann.replica_id and path.name.endswith(".json.gz")
    report = merge_files(bo, [shared])
    assert bo.require(Lead, lead.id).name == "Emma Clarke"
    assert [(f.rep, len(f.changes.added)) for f in report.files] == [("ann", 1)]
    assert f"ann ({ann.replica_id}, 1 segment(s)): 1 added" in report.lines()[1]
    assert last_merge(bo) is not None and last_merge(bo)[1] == ["ann"]  # type: ignore[index]


def test_what_was_published_is_said_with_its_plural(replica: Replica, shared: Path) -> None:
    ann = replica("ann")
    ann.new(Lead, name="Ada")
    assert export_to(ann, shared).lines() == ["published 1 changed record to the team folder"]
    ann.new(Lead, name="Bea")
    ann.new(Lead, name="Cy")
    assert export_to(ann, shared).lines() == ["published 2 changed records to the team folder"]
    assert export_to(ann, shared).lines() == ["nothing new to publish"]


def test_own_segments_are_not_merged_back(replica: Replica, shared: Path) -> None:
    ann = replica("ann")
    ann.new(Lead, name="Ada")
    export_to(ann, shared)
    report = merge_files(ann, [shared])
    assert report.files == [] and report.refused == [] and report.waiting == []


def test_concurrent_edits_converge_and_are_reported(replica: Replica, shared: Path) -> None:
    ann, bo = replica("ann"), replica("bo")
    lead = ann.new(Lead, name="Emma Clarke")
    sync_all(shared, ann, bo)
    ann.update(Lead, lead.id, company="Northwind")        # concurrent edits of one field ...
    bo.update(Lead, lead.id, company="Northwind Traders")  # ... the later one wins everywhere
    ann.update(Lead, lead.id, title="Buyer")               # a different field: both survive
    export_to(ann, shared)
    export_to(bo, shared)
    report = merge_files(ann, [shared])
    merge_files(bo, [shared])
    for store in (ann, bo):
        merged = store.require(Lead, lead.id)
        assert (merged.company, merged.title) == ("Northwind Traders", "Buyer")
    conflicts = report.files[0].changes.conflicts
    assert [(c.field, c.local_value, c.remote_value, c.winner) for c in conflicts] == [
        ("company", "Northwind", "Northwind Traders", "remote")]


def test_an_edit_after_a_delete_elsewhere_brings_the_record_back(replica: Replica, shared: Path) -> None:
    ann, bo = replica("ann"), replica("bo")
    lead = ann.new(Lead, name="Ada")
    sync_all(shared, ann, bo)
    ann.delete(Lead, lead.id)
    bo.update(Lead, lead.id, notes="still interested")
    export_to(ann, shared)
    export_to(bo, shared)
    report = merge_files(ann, [shared])
    assert report.files[0].changes.resurrected == [("leads", lead.id)]
    assert ann.require(Lead, lead.id).notes == "still interested"


def test_each_replica_publishes_only_its_own_changes(replica: Replica, shared: Path) -> None:
    """bo's segment holds none of what bo merged from ann: cy, joining later, reads ann's
    work from ann's folder."""
    ann, bo, cy = replica("ann"), replica("bo"), replica("cy")
    lead = ann.new(Lead, name="Ada")
    export_to(ann, shared)
    merge_files(bo, [shared])
    mine = bo.new(Lead, name="Bo's")
    published = export_to(bo, shared)
    assert published.records == 1 and published.segment is not None
    merge_files(cy, [shared])
    assert (cy.require(Lead, lead.id).name, cy.require(Lead, mine.id).name) == ("Ada", "Bo's")


def test_dry_run_changes_nothing(replica: Replica, shared: Path) -> None:
    ann, bo = replica("ann"), replica("bo")
    ann.new(Lead, name="Ada")
    export_to(ann, shared)
    bo.storage.compact()
    before = folder_bytes(bo.folder)
    report = merge_files(bo, [shared], dry_run=True)
    assert len(report.files[0].changes.added) == 1 and "dry run" in report.lines()[0]
    assert folder_bytes(bo.folder) == before and bo.count(Lead) == 0


def test_a_bad_segment_is_refused_by_name_and_its_teammate_waits(replica: Replica, shared: Path) -> None:
    ann, bo, cy = replica("ann"), replica("bo"), replica("cy")
    ada = ann.new(Lead, name="Ada")
    cy.new(Lead, name="Cy's lead")
    export_to(ann, shared)
    bad = export_to(cy, shared).segment
    assert bad is not None
    good = bad.read_bytes()
    bad.write_bytes(good[:-20])  # cut short in transit
    cy.new(Lead, name="Cy's second")
    export_to(cy, shared)
    report = merge_files(bo, [shared])
    assert [(path.name, why.startswith("file: its size or SHA-256")) for path, why in report.refused] == [
        (bad.name, True)]
    assert any(line.startswith(f"refused {cy.replica_id}/{bad.name}: ") for line in report.lines())
    assert any("1 later segment(s) wait for it" in line for line in report.waiting)
    assert [lead.name for lead in bo.all(Lead)] == ["Ada"] and bo.require(Lead, ada.id)
    bad.write_bytes(good)  # it arrives whole: cy's segments merge in order
    merge_files(bo, [shared])
    assert sorted(lead.name for lead in bo.all(Lead)) == ["Ada", "Cy's lead", "Cy's second"]


def test_undo_takes_back_what_the_last_merge_added(replica: Replica, shared: Path) -> None:
    """More in test_undo.py."""
    ann, bo = replica("ann"), replica("bo")
    mine = bo.new(Lead, name="Bo's own")
    theirs = ann.new(Lead, name="Ann's")
    export_to(ann, shared)
    merge_files(bo, [shared])
    assert bo.count(Lead) == 2
    assert undo_last_merge(bo)[0].endswith(": 1 lead removed")
    assert bo.get(Lead, theirs.id) is None and bo.require(Lead, mine.id).name == "Bo's own"
    with Store(bo.folder) as reopened:
        assert reopened.count(Lead) == 1
    with pytest.raises(SyncError, match="no merge to undo"):
        undo_last_merge(bo)


def test_double_follow_up_is_reported(replica: Replica, shared: Path) -> None:
    ann, bo = replica("ann"), replica("bo")
    ann.new(Lead, name="Emma Clarke", email="emma@northwind.example")
    bo.new(Lead, name="E. Clarke", email="EMMA@northwind.example", phone="+44 20 7946 0958")
    bo.new(Customer, name="Contoso", phone="030 1234567")
    ann.new(Lead, name="Hans", company="Contoso GmbH", phone="+49 30 1234567")
    export_to(ann, shared)
    report = merge_files(bo, [shared])
    keys = {d.key for d in report.double_follow_ups}
    assert keys == {"email:emma@northwind.example", "phone:301234567"}
    assert any("double follow-up: 2" in line for line in report.lines())


def test_a_double_follow_up_is_reported_when_it_arises_not_at_every_later_edit(replica: Replica,
                                                                              shared: Path) -> None:
    ann, bo = replica("ann"), replica("bo")
    lead = ann.new(Lead, name="Emma Clarke", email="emma@northwind.example")
    bo.new(Lead, name="E. Clarke", email="EMMA@northwind.example")
    export_to(ann, shared)
    assert {d.key for d in merge_files(bo, [shared]).double_follow_ups} == {"email:emma@northwind.example"}
    ann.update(Lead, lead.id, notes="Called, wants a quote")  # nothing a match depends on
    export_to(ann, shared)
    assert merge_files(bo, [shared]).double_follow_ups == []
    ann.update(Lead, lead.id, email="emma.clarke@northwind.example")
    bo.new(Lead, name="Emma C.", email="emma.clarke@northwind.example")
    export_to(ann, shared)
    assert {d.key for d in merge_files(bo, [shared]).double_follow_ups} == {"email:emma.clarke@northwind.example"}


def test_the_local_clock_moves_past_every_merged_stamp(replica: Replica, shared: Path) -> None:
    ann, bo = replica("ann"), replica("bo")
    ann.new(Lead, name="Ada")
    export_to(ann, shared)
    newest = ann.clock.last
    merge_files(bo, [shared])
    assert bo.clock.now() > newest


def test_a_sequential_edit_is_not_reported_as_concurrent(replica: Replica, shared: Path) -> None:
    ann, bo = replica("ann"), replica("bo")
    lead = ann.new(Lead, name="Ada")
    sync_all(shared, ann, bo)
    ann.update(Lead, lead.id, company="First")
    export_to(ann, shared)
    merge_files(bo, [shared])             # bo sees ann's edit ...
    bo.update(Lead, lead.id, company="Second")  # ... and overwrites it: not concurrent
    export_to(bo, shared)
    report = merge_files(ann, [shared])
    assert ann.require(Lead, lead.id).company == "Second"
    assert report.files[0].changes.conflicts == []


def test_merge_reports_its_progress(replica: Replica, shared: Path) -> None:
    ann, bo = replica("ann"), replica("bo")
    ann.new(Lead, name="Ada")
    export_to(ann, shared)
    steps: list[str] = []
    merge_files(bo, [shared], progress=steps.append)
    assert steps == ["checking ann's segment 1", "merging 1 teammate(s)"]


def test_a_merged_record_that_breaks_a_rule_is_listed_for_a_look(replica: Replica, shared: Path) -> None:
    """A teammate's export may hold a record whose fields, merged one by one, break a rule
    of the whole record: it is merged and the report asks for a look."""
    bo = replica("bo")
    tables = sample_tables()
    tables["leads"][LEAD]["status"] = "disqualified"  # and no reason
    write_export(shared / NAME, tables)
    report = merge_files(bo, [shared])
    assert report.needs_a_look == [f"leads record {LEAD}: disqualified_reason: a disqualified lead needs a reason"]
    assert "1 merged records break a rule and need a look (edit them):" in report.lines()
    assert bo.get(Lead, LEAD) is not None  # shown, and can be fixed


def test_lean_in_memory_forms_export_and_merge_like_plain_documents(replica: Replica, shared: Path) -> None:
    """A reopened store keeps leads' histories encoded and the activity log packed: its
    export, its merges and its undo carry the same records as a plain store's."""
    ann, bo = replica("ann"), replica("bo")
    lead = ann.add_lead(name="Emma Clarke", owner="ann")
    ann.log_activity("call", lead_id=lead.id, subject="intro")
    ann.storage.compact()
    ann.close()
    with Store(ann.folder) as lean, Store(ann.folder, lean=False) as plain:
        assert isinstance(lean.storage.tables["leads"][lead.id]["history"], EncodedList)
        assert isinstance(lean.storage.tables["activities"], ActivityLog)
        changes = {kind: orjson.dumps(own_changes(store.storage.tables, store.replica_id, ""), default=json_default)
                   for kind, store in (("lean", lean), ("plain", plain))}
        assert orjson.loads(changes["lean"]) == orjson.loads(changes["plain"])
        export_to(lean, shared)
    merge_files(bo, [shared])
    assert [e.kind for e in bo.require(Lead, lead.id).history] == ["created"]
    bo.assign_lead(lead.id, "bo")  # a history entry made on bo's side
    export_to(bo, shared)
    with Store(ann.folder) as lean:
        merge_files(lean, [shared])  # bo's plain list merged into ann's encoded one
        assert [e.kind for e in lean.require(Lead, lead.id).history] == ["created", "assigned"]
        assert "1 field put back" in undo_last_merge(lean)[0]  # kept from the lean forms
        undone = lean.require(Lead, lead.id)
        assert undone.owner == "ann" and [e.kind for e in undone.history] == ["created", "assigned"]  # grow-only
