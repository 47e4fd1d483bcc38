"""A sync's export reads only the tables that can hold a change of this replica newer than
the last one it published (``DurableStorage.tables_changed_since``): a sync after a few
edits does not read the whole team's data, and publishes exactly what a full scan would."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from store.database import Store
from store.models import Customer, Lead, Task
from sync.exchange import export_to, merge_files
from sync.segments import own_changes


def test_an_export_after_a_few_edits_reads_only_the_tables_they_changed(
        replica: Callable[[str], Store], shared: Path) -> None:
    ann, bo = replica("ann"), replica("bo")
    lead = ann.add_lead(name="Emma Clarke", owner="ann")
    ann.new(Customer, name="Contoso GmbH")
    ann.log_activity("call", lead_id=lead.id, subject="intro")
    export_to(ann, shared)
    ann.storage.compact()  # every table file written, its header naming the newest stamp
    folder, wall = ann.folder, ann.clock.wall_ms
    ann.close()

    with Store(folder, wall=wall, load=()) as again:
        again.update(Lead, lead.id, notes="called back")
        stamp = again.storage.clock
        assert sorted(again.storage.tables_changed_since(stamp)) == ["activities", "leads"]
        export_to(again, shared)
        assert sorted(again.storage.loaded_groups()) == ["activities", "leads", "team"]
    merge_files(bo, [shared])
    assert bo.require(Lead, lead.id).notes == "called back"
    assert bo.find(Customer, text="contoso")  # from the first export

    with Store(folder, wall=wall) as full:  # what a scan of every table finds: the same
        assert own_changes(full.storage.tables, full.replica_id, stamp) == \
            own_changes({t: full.storage.tables[t] for t in full.storage.tables_changed_since(stamp)},
                        full.replica_id, stamp)


def test_a_table_written_after_the_stamp_or_changed_in_the_journal_is_read(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("me: ann\nreps: [{id: ann, name: Ann}]\n")
    with Store(tmp_path) as store:
        store.add_lead(name="Ada")
        first = store.storage.clock
        store.storage.compact()
        store.new(Task, title="Call Ada", due="2026-12-08")
        assert "tasks" in store.storage.tables_changed_since(first)  # in the journal
        assert "customers" not in store.storage.tables_changed_since(first)
        store.storage.compact()
        assert "tasks" in store.storage.tables_changed_since(first)  # its file written since
        assert "leads" not in store.storage.tables_changed_since(store.storage.clock)
        assert sorted(store.storage.tables_changed_since("")) == sorted(store.storage.table_group)
