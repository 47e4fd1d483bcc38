"""`sync undo` between real data folders: it takes back what the last merge changed and
nothing changed since, as a new change that syncs like any edit."""

from __future__ import annotations

import gzip
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from store.database import Store
from store.models import Contact, Customer, Lead, Opportunity
from store.records import is_live
from sync.errors import SyncError
from sync.exchange import export_to, merge_files, snapshot, undo_last_merge
from sync.kept import keep_for_undo, undo_paths
from sync.merge import merge_partial_into
from sync.undo import MergeUndo, RecordChange, merge_applied, merge_changes, plan_undo
from tests.sync.conftest import folder_bytes
from tui.cli import main

Replica = Callable[[str], Store]
TEAMMATE_LEADS = 20


@dataclass
class Merged:
    """bo after merging ann's export: ann's new leads, and the fields ann changed on
    a lead both had."""

    ann: Store
    bo: Store
    theirs: list[str]
    shared: str
    bo_only: str


@pytest.fixture
def merged(replica: Replica, shared: Path) -> Merged:
    ann, bo = replica("ann"), replica("bo")
    both = bo.new(Lead, name="Carla Diaz", phone="+44 20 7946 0001", notes="met at the fair")
    bo_only = bo.new(Lead, name="Bo's own")
    export_to(bo, shared)
    merge_files(ann, [shared])
    ann.update(Lead, both.id, phone="+44 20 7946 0002", notes="wants a demo")
    theirs = [ann.new(Lead, name=f"Ann's lead {n}").id for n in range(TEAMMATE_LEADS)]
    export_to(ann, shared)
    report = merge_files(bo, [shared])
    assert len(report.files[0].changes.added) == TEAMMATE_LEADS
    return Merged(ann, bo, theirs, both.id, bo_only.id)


def test_undo_keeps_the_work_done_after_the_merge(merged: Merged) -> None:
    bo = merged.bo
    later = [bo.new(Lead, name=f"After the merge {n}").id for n in range(5)]
    bo.update(Lead, merged.theirs[0], name="Ann's lead, renamed by Bo")  # a merged lead, edited since
    bo.update(Lead, merged.shared, notes="Bo's later note")  # a field the merge changed, changed since

    lines = undo_last_merge(bo)

    assert all(bo.get(Lead, lead_id) is not None for lead_id in later)
    assert bo.require(Lead, merged.theirs[0]).name == "Ann's lead, renamed by Bo"
    assert all(bo.get(Lead, lead_id) is None for lead_id in merged.theirs[1:])
    carla = bo.require(Lead, merged.shared)
    assert (carla.phone, carla.notes) == ("+44 20 7946 0001", "Bo's later note")
    assert bo.require(Lead, merged.bo_only).name == "Bo's own"
    assert lines[0].startswith("undid the merge of ")
    assert ": 19 leads removed, 1 field put back; kept 1 field and 1 record changed since: " in lines[0]
    assert "lead 'Carla Diaz' notes" in lines[0] and "lead 'Ann's lead, renamed by Bo' (changed since)" in lines[0]
    assert "your next sync sends it to the team; the 19 records removed will be deleted" in lines[-1]
    with Store(bo.folder) as reopened:  # committed, not only in this process's memory
        assert reopened.count(Lead) == 2 + 5 + 1


def test_a_change_made_by_another_process_since_the_merge_is_kept(merged: Merged) -> None:
    with Store(merged.bo.folder) as other:
        other.update(Lead, merged.shared, phone="+44 20 7946 0003")
        lines = undo_last_merge(merged.bo)
        assert merged.bo.require(Lead, merged.shared).phone == "+44 20 7946 0003"
        assert merged.bo.require(Lead, merged.shared).notes == "met at the fair"
        assert "kept 1 field changed since: lead 'Carla Diaz' phone" in lines[0]
        other.refresh()  # the other process sees the undo
        assert other.require(Lead, merged.shared).notes == "met at the fair"
        assert other.get(Lead, merged.theirs[0]) is None


def test_the_undo_syncs_and_stays_undone(merged: Merged, shared: Path) -> None:
    ann, bo = merged.ann, merged.bo
    untouched = ann.storage.tables["leads"][merged.bo_only]
    undo_last_merge(bo)
    merge_files(bo, [shared])  # ann's export again: the undo is newer, it stands
    assert bo.count(Lead) == 2 and bo.require(Lead, merged.shared).phone == "+44 20 7946 0001"

    export_to(bo, shared)
    report = merge_files(ann, [shared])
    assert len(report.files[0].changes.deleted) == TEAMMATE_LEADS  # as the undo's message said
    assert ann.count(Lead) == 2
    assert ann.require(Lead, merged.shared).phone == "+44 20 7946 0001"
    assert ann.storage.tables["leads"][merged.bo_only] == untouched  # what the merge did not change is not re-stamped
    # Ann disagrees: undoing the merge that carried bo's undo brings her leads back, for both
    assert undo_last_merge(ann)[0].endswith(f": {TEAMMATE_LEADS} leads brought back, 2 fields put back")
    export_to(ann, shared)
    merge_files(bo, [shared])
    assert bo.count(Lead) == 2 + TEAMMATE_LEADS and bo.require(Lead, merged.shared).phone == "+44 20 7946 0002"


def test_grow_only_entries_stay_and_a_deleted_record_comes_back(replica: Replica, shared: Path) -> None:
    ann, bo = replica("ann"), replica("bo")
    kept, gone = bo.add_lead(name="Emma Clarke", owner="bo"), bo.new(Lead, name="Old lead")
    export_to(bo, shared)
    merge_files(ann, [shared])
    ann.assign_lead(kept.id, "ann")  # the owner and a history entry
    ann.delete(Lead, gone.id)
    export_to(ann, shared)
    merge_files(bo, [shared])
    assert bo.get(Lead, gone.id) is None and bo.require(Lead, kept.id).owner == "ann"

    lines = undo_last_merge(bo)

    emma = bo.require(Lead, kept.id)
    assert emma.owner == "bo" and [e.kind for e in emma.history] == ["created", "assigned"]
    assert bo.require(Lead, gone.id).name == "Old lead"
    assert lines[0].endswith(": 1 lead brought back, 1 field put back")  # the owner
    assert lines[1].startswith("1 entry the merge added to histories, quotes or change logs stay")


def test_nothing_to_undo_and_undo_twice(replica: Replica, merged: Merged) -> None:
    with pytest.raises(SyncError, match=r"^there is no merge to undo$"):
        undo_last_merge(replica("cy"))
    undo_last_merge(merged.bo)
    before = folder_bytes(merged.bo.folder)
    with pytest.raises(SyncError, match=r"^there is no merge to undo$"):
        undo_last_merge(merged.bo)
    assert folder_bytes(merged.bo.folder) == before


def test_what_is_kept_for_undo_is_the_merged_changes_only_and_private(merged: Merged) -> None:
    (path,) = undo_paths(merged.bo)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    kept = orjson.loads(path.read_bytes())
    assert len(kept["added"]["leads"]) == TEAMMATE_LEADS and len(kept["changed"]) == 1  # not bo's own lead
    assert not (merged.bo.folder / "backups" / "before-last-merge.json").exists()


def keep_an_uncommitted_merge(merged: Merged, shared: Path) -> None:
    """A second merge (ann changed the shared lead's phone) that writes what undo needs and
    is killed before its commit."""
    ann, bo = merged.ann, merged.bo
    ann.update(Lead, merged.shared, phone="+44 20 7946 0009")
    later = export_to(ann, shared).segment
    assert later is not None
    local = snapshot(bo)
    current = {table: dict(docs) for table, docs in local.items()}
    body = gzip.decompress(later.read_bytes()).split(b"\n", 1)[1]
    replaced, _ = merge_partial_into(current, orjson.loads(body)["tables"])
    keep_for_undo(bo, merge_changes(local, current, replaced))  # ... and the merge never commits


def test_an_undo_file_of_a_merge_that_never_committed_is_passed_over(merged: Merged, shared: Path) -> None:
    """A merge writes what undo needs before it commits: killed in between, it leaves
    the file of a merge that is not in the database, and the undo takes the one before."""
    bo = merged.bo
    keep_an_uncommitted_merge(merged, shared)
    assert len(undo_paths(bo)) == 2

    lines = undo_last_merge(bo)

    assert "20 leads removed" in lines[0] and bo.require(Lead, merged.shared).phone == "+44 20 7946 0001"
    assert undo_paths(bo) == []


def test_an_undo_that_committed_is_not_done_again(merged: Merged) -> None:
    """Killed after the undo's commit and before its file is removed: the next undo sees
    the undo's writes (the file was marked with its stamp before the commit) and says so."""
    (path,) = undo_paths(merged.bo)
    kept = orjson.loads(path.read_bytes())
    undo_last_merge(merged.bo)
    assert not path.exists()
    kept["undone_by"] = merged.bo.storage.tables["leads"][merged.theirs[0]]["_del"]
    path.write_bytes(orjson.dumps(kept))  # as it was just before the undo's commit
    before = folder_bytes(merged.bo.folder)
    with pytest.raises(SyncError, match=r"^the merge of .* UTC is already undone$"):
        undo_last_merge(merged.bo)
    assert not path.exists() and folder_bytes(merged.bo.folder) == before
    assert merged.bo.count(Lead) == 2


def test_the_command_line_dry_run_then_undo(merged: Merged, capsys: pytest.CaptureFixture[str]) -> None:
    folder = str(merged.bo.folder)
    merged.bo.close()
    before = folder_bytes(merged.bo.folder)
    assert main(["sync", "undo", "--dry-run", "--data", folder]) == 0
    out = capsys.readouterr().out
    assert out.startswith("would undo the merge of ") and "20 leads removed, 2 fields put back" in out
    assert folder_bytes(merged.bo.folder) == before
    assert main(["sync", "undo", "--data", folder]) == 0
    assert "undid the merge of " in capsys.readouterr().out
    assert main(["sync", "undo", "--data", folder]) == 1
    assert capsys.readouterr().err == "dealdeck: there is no merge to undo\n"


# --- the pure rules, on documents as the store keeps them -----------------------------------------


def stamp(n: int, replica: str = "a" * 16) -> str:
    return f"{n:016d}:0000:{replica}"


def change(before: dict[str, Any], after: dict[str, Any]) -> MergeUndo:
    return MergeUndo(changed=[RecordChange("leads", "x", before, after)])


def test_a_record_the_merge_brought_back_is_deleted_again() -> None:
    before = {"id": "x", "name": "Ann", "_s": {"*": stamp(1)}, "_del": stamp(2)}
    after = {"id": "x", "name": "Ann B", "_s": {"*": stamp(1), "name": stamp(3)}, "_del": stamp(2)}
    plan = plan_undo(change(before, after), {("leads", "x"): after}, stamp(9))
    ((table, doc),) = plan.puts
    assert table == "leads"
    assert not is_live(doc) and doc["name"] == "Ann" and plan.deleted_again == {"leads": 1}


def test_a_record_deleted_since_the_merge_stays_deleted() -> None:
    before = {"id": "x", "name": "Ann", "_s": {"*": stamp(1)}}
    after = {"id": "x", "name": "Ann B", "_s": {"*": stamp(1), "name": stamp(3)}}
    now = {**after, "_del": stamp(4)}
    plan = plan_undo(change(before, after), {("leads", "x"): now}, stamp(9))
    assert plan.puts == [] and plan.kept == ["lead 'Ann B' (deleted since)"]


def test_a_field_with_an_older_stamp_than_the_merge_wrote_means_it_never_committed() -> None:
    before = {"id": "x", "name": "Ann", "_s": {"*": stamp(1)}}
    after = {"id": "x", "name": "Ann B", "_s": {"*": stamp(1), "name": stamp(3)}}
    assert merge_applied(change(before, after), {("leads", "x"): after})
    assert not merge_applied(change(before, after), {("leads", "x"): before})
    added = MergeUndo(added={"leads": {"x": {"*": stamp(3)}}})
    assert not merge_applied(added, {("leads", "x"): None}) and plan_undo(added, {}, stamp(9)).puts == []
    assert plan_undo(added, {("leads", "x"): {"id": "x", "name": "Ann", "_s": {"*": stamp(3)}}}, stamp(9)).removed


def test_a_record_the_merge_added_stays_while_later_work_links_to_it(replica: Replica, shared: Path) -> None:
    """A deal and a contact opened since under a customer the merge brought: undoing the
    merge must not leave them pointing at a deleted customer (for the whole team)."""
    ann, bo = replica("ann"), replica("bo")
    acme = ann.new(Customer, name="Acme Ltd")
    other = ann.new(Customer, name="Nobody's Ltd")
    export_to(ann, shared)
    merge_files(bo, [shared])
    deal = bo.new(Opportunity, title="Acme: big deal", customer_id=acme.id, amount=50000,
                  stage=bo.config.first_stage.key)
    contact = bo.new(Contact, name="Jo at Acme", customer_id=acme.id)

    lines = undo_last_merge(bo)

    assert bo.get(Customer, acme.id) is not None and bo.get(Customer, other.id) is None
    assert bo.get(Opportunity, deal.id) is not None and bo.get(Contact, contact.id) is not None
    assert any("Acme Ltd" in line and "in use by" in line for line in lines), lines


def test_an_interrupted_merge_that_cannot_be_told_apart_is_refused_not_guessed(merged: Merged, shared: Path) -> None:
    """Merge 2 keeps its undo file and is killed before its commit; the rep then edits the
    one field it would have changed. Nothing tells whether it went in: undo says so, and
    changes nothing (it used to undo 'merge 2' and drop merge 1's file for good)."""
    bo = merged.bo
    keep_an_uncommitted_merge(merged, shared)
    bo.update(Lead, merged.shared, phone="+44 20 7946 0010")
    before = folder_bytes(bo.folder)
    kept_files = sorted(p.name for p in undo_paths(bo))

    with pytest.raises(SyncError, match="was interrupted"):
        undo_last_merge(bo)

    assert folder_bytes(bo.folder) == before and sorted(p.name for p in undo_paths(bo)) == kept_files
    (bo.folder / "backups" / kept_files[-1]).unlink()  # as the message says, to undo merge 1
    assert "20 leads removed" in undo_last_merge(bo)[0]
