"""A team upgrading one rep at a time from the first layout (every replica's whole state
in ``<replica>.dealdeck.json``) to replica folders of segments: everyone keeps seeing
everyone's work throughout, an old export is merged once per version, and once the last
rep has upgraded the export files are gone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from store.database import Store
from store.models import Lead
from sync.exchange import merge_files, sync_folder
from sync.format import SUFFIX
from sync.legacy import write_export

Replica = Callable[[str], Store]


def old_sync(store: Store, shared: Path) -> None:
    """What a rep on the old version does at each sync: write its whole state as an export
    file, merge the other export files (it knows nothing else)."""
    write_export(store, shared, {})
    others = [path for path in sorted(shared.glob(f"*{SUFFIX}")) if not path.name.startswith(store.replica_id)]
    if others:
        merge_files(store, others)


def names(store: Store) -> list[str]:
    return sorted(lead.name for lead in store.all(Lead))


def test_an_old_reps_export_is_merged_once_per_version(replica: Replica, shared: Path) -> None:
    old, ann = replica("cy"), replica("ann")
    old.new(Lead, name="Cy's")
    old_sync(old, shared)
    report, _ = sync_folder(ann, shared)
    assert [f.what for f in report.files] == [f"{old.replica_id}{SUFFIX}"] and names(ann) == ["Cy's"]
    again, _ = sync_folder(ann, shared)
    assert again.files == []  # the same file: not read again
    old.new(Lead, name="Cy's second")
    old_sync(old, shared)
    later, _ = sync_folder(ann, shared)
    assert len(later.files) == 1 and names(ann) == ["Cy's", "Cy's second"]


def test_everyone_sees_everyone_while_one_rep_is_still_on_the_old_version(replica: Replica, shared: Path) -> None:
    ann, bo, old = replica("ann"), replica("bo"), replica("cy")
    ann.new(Lead, name="Ann's")
    bo.new(Lead, name="Bo's")
    old.new(Lead, name="Cy's")
    old_sync(old, shared)
    for _ in range(2):
        sync_folder(ann, shared)
        sync_folder(bo, shared)
    assert (shared / f"{ann.replica_id}{SUFFIX}").exists()  # written for cy, who reads only these
    old_sync(old, shared)
    assert names(old) == names(ann) == names(bo) == ["Ann's", "Bo's", "Cy's"]
    lead = next(lead for lead in old.all(Lead) if lead.name == "Bo's")
    old.update(Lead, lead.id, title="Buyer")  # cy edits bo's lead: it reaches bo through cy's file
    old_sync(old, shared)
    sync_folder(bo, shared)
    assert bo.require(Lead, lead.id).title == "Buyer"


def test_once_the_last_rep_upgrades_the_export_files_go(replica: Replica, shared: Path) -> None:
    ann, cy = replica("ann"), replica("cy")
    ann.new(Lead, name="Ann's")
    cy.new(Lead, name="Cy's")
    old_sync(cy, shared)
    sync_folder(ann, shared)
    assert (shared / f"{ann.replica_id}{SUFFIX}").exists()
    sync_folder(cy, shared)  # cy upgrades: publishes its own folder, and no one needs its file now
    assert not (shared / f"{cy.replica_id}{SUFFIX}").exists()
    sync_folder(ann, shared)
    assert sorted(p.name for p in shared.iterdir()) == sorted([ann.replica_id, cy.replica_id])
    cy.new(Lead, name="Cy's second")
    sync_folder(cy, shared)
    sync_folder(ann, shared)
    assert names(ann) == names(cy) == ["Ann's", "Cy's", "Cy's second"]


def test_an_upgraded_reps_old_export_is_not_read_again(replica: Replica, shared: Path) -> None:
    ann, cy = replica("ann"), replica("cy")
    cy.new(Lead, name="Cy's")
    old_sync(cy, shared)
    stale = shared / f"{cy.replica_id}{SUFFIX}"
    kept = stale.read_bytes()
    sync_folder(cy, shared)  # upgraded: its file deleted ...
    stale.write_bytes(kept)  # ... and brought back by a teammate's slow sync tool
    report, _ = sync_folder(ann, shared)
    assert [f.what for f in report.files] == ["1 segment(s)"] and names(ann) == ["Cy's"]
