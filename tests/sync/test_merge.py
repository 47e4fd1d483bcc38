"""The merge of two replicas' record sets: cases worked out by hand, then properties over random histories."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from store.hlc import Clock, Stamp
from store.models import Lead, LeadEvent
from store.records import BASE, DELETED, STAMPS, Doc, check_documents, fields_of, is_live, stamp_of, stamp_record
from store.records import tombstone as store_tombstone
from sync.format import RecordSet, doc_stamps, seen_vector
from sync.merge import MergeChanges, describe_changes, merge_docs, merge_into, merge_sets, observed_max_stamp

ANN, BO, CY = "a" * 16, "b" * 16, "c" * 16
LEAD_ID, OTHER_ID = "1" * 32, "2" * 32
T0 = 1_767_000_000_000  # 2025-12-29 09:20 UTC, in ms
WHEN = datetime(2025, 12, 29, 9, 0, tzinfo=UTC)


def stamp(ms: int, replica: str, counter: int = 0) -> str:
    """A stamp ``ms`` milliseconds after T0."""
    return str(Stamp(T0 + ms, counter, replica))


def lead_doc(base: str, stamps: dict[str, str] | None = None, deleted: str | None = None, **fields: Any) -> Doc:
    doc: Doc = {"id": LEAD_ID, "name": "Ada", "owner": "ann", **fields, STAMPS: {BASE: base, **(stamps or {})}}
    if deleted:
        doc[DELETED] = deleted
    return doc


def both_orders(table: str, a: Doc, b: Doc) -> Doc:
    merged = merge_docs(table, a, b)
    assert merge_docs(table, b, a) == merged
    return merged


def event(entry_id: str, minute: int) -> Doc:
    return {"id": entry_id, "at": (WHEN + timedelta(minutes=minute)).isoformat(), "kind": "status", "by": "ann"}


def changes_of(local: RecordSet, remote: RecordSet, *, local_seen: dict[str, str] | None = None,
               remote_seen: dict[str, str] | None = None) -> MergeChanges:
    merged = {table: dict(docs) for table, docs in local.items()}
    return describe_changes(merge_into(merged, remote), merged, remote=remote,
                            local_seen=seen_vector(local) if local_seen is None else local_seen,
                            remote_seen=seen_vector(remote) if remote_seen is None else remote_seen)


# --- fields --------------------------------------------------------------------------------


def test_the_newer_write_of_a_field_wins() -> None:
    created = stamp(0, ANN)
    ours = lead_doc(created, company="Old")
    theirs = lead_doc(created, {"company": stamp(5, BO)}, company="New")
    merged = both_orders("leads", ours, theirs)
    assert merged == theirs
    assert stamp_of(merged, "company") == stamp(5, BO)


def test_edits_of_different_fields_both_survive() -> None:
    created = stamp(0, ANN)
    ours = lead_doc(created, {"company": stamp(3, ANN)}, company="Acme")
    theirs = lead_doc(created, {"phone": stamp(4, BO)}, phone="+44 20 7946 0000")
    merged = both_orders("leads", ours, theirs)
    assert (merged["company"], merged["phone"]) == ("Acme", "+44 20 7946 0000")
    assert merged[STAMPS] == {BASE: created, "company": stamp(3, ANN), "phone": stamp(4, BO)}


def test_a_later_reset_to_the_default_wins_and_is_left_out() -> None:
    created = stamp(0, ANN)
    ours = lead_doc(created, {"company": stamp(3, ANN)}, company="Acme")
    theirs = lead_doc(created, {"company": stamp(6, BO)})  # bo cleared the company later
    merged = both_orders("leads", ours, theirs)
    assert "company" not in merged
    assert stamp_of(merged, "company") == stamp(6, BO)


def test_a_falsy_value_that_is_stored_stays_stored() -> None:
    created = stamp(0, ANN)
    ours = lead_doc(created, {"source": stamp(3, ANN)}, source="")  # "" is not the default ("other")
    theirs = lead_doc(created, source="trade show")
    merged = both_orders("leads", ours, theirs)
    assert "source" in merged and merged["source"] == ""


def test_a_value_set_after_a_reset_wins_over_it() -> None:
    created = stamp(0, ANN)
    ours = lead_doc(created, {"company": stamp(3, ANN)})
    theirs = lead_doc(created, {"company": stamp(6, BO)}, company="Initech")
    assert both_orders("leads", ours, theirs)["company"] == "Initech"


def test_equal_stamps_are_one_write() -> None:
    doc = lead_doc(stamp(0, ANN), {"score": stamp(2, ANN)}, score=40)
    assert merge_docs("leads", doc, copy.deepcopy(doc)) == doc


def test_equal_stamps_with_different_values_still_give_one_answer() -> None:
    created = stamp(0, ANN)
    ours = lead_doc(created, {"company": stamp(2, ANN)}, company="Acme")
    theirs = lead_doc(created, {"company": stamp(2, ANN)}, company="Zeta")
    absent = lead_doc(created, {"company": stamp(2, ANN)})
    assert both_orders("leads", ours, theirs)["company"] == "Zeta"  # by JSON text
    assert both_orders("leads", ours, absent)["company"] == "Acme"  # a value sorts after absent


def test_the_newer_creation_becomes_the_base_and_older_fields_keep_their_stamps() -> None:
    # the documented layout allows an override older than its base (the store never writes one)
    ours = lead_doc(stamp(1, ANN), company="Acme")
    theirs = lead_doc(stamp(2, BO), {"company": stamp(0, BO, 1)}, company="Zeta", title="CEO")
    merged = both_orders("leads", ours, theirs)
    assert merged[STAMPS] == {BASE: stamp(2, BO), "company": stamp(1, ANN)}
    assert (merged["company"], merged["title"]) == ("Acme", "CEO")


def test_a_document_from_the_store_merges_with_itself_unchanged() -> None:
    lead = Lead(id=LEAD_ID, name="Ada", owner="ann", created_at=WHEN, updated_at=WHEN, company="Acme",
                history=[LeadEvent(id=OTHER_ID, at=WHEN, kind="created", by="ann")])
    created = stamp_record(lead, None, stamp(0, ANN))
    edited = stamp_record(lead.model_copy(update={"company": "", "score": 30}), created, stamp(1, ANN))
    deleted = store_tombstone(edited, stamp(2, ANN))
    for doc in (created, edited, deleted):
        assert merge_docs("leads", doc, copy.deepcopy(doc)) == doc
    assert both_orders("leads", created, edited) == edited


# --- deletes -------------------------------------------------------------------------------


def test_a_delete_beats_older_edits() -> None:
    created = stamp(0, ANN)
    deleted = lead_doc(created, deleted=stamp(5, ANN))
    edited = lead_doc(created, {"company": stamp(3, BO)}, company="Acme")
    merged = both_orders("leads", deleted, edited)
    assert not is_live(merged)
    assert merged[DELETED] == stamp(5, ANN) and merged["company"] == "Acme"
    changes = changes_of({"leads": {LEAD_ID: edited}}, {"leads": {LEAD_ID: deleted}})
    assert changes.deleted == [("leads", LEAD_ID)] and not changes.resurrected


def test_an_edit_newer_than_the_delete_brings_the_record_back() -> None:
    created = stamp(0, ANN)
    deleted = lead_doc(created, deleted=stamp(5, ANN))
    edited = lead_doc(created, {"notes": stamp(7, BO)}, notes="still interested")
    merged = both_orders("leads", deleted, edited)
    assert is_live(merged) and merged["notes"] == "still interested"
    assert merged[DELETED] == stamp(5, ANN)  # kept: a newer delete elsewhere still wins over it
    changes = changes_of({"leads": {LEAD_ID: deleted}}, {"leads": {LEAD_ID: edited}})
    assert changes.resurrected == [("leads", LEAD_ID)]
    assert changes.updated == changes.deleted == changes.added == []


def test_the_newest_of_two_deletes_is_kept() -> None:
    created = stamp(0, ANN)
    first, second = lead_doc(created, deleted=stamp(4, ANN)), lead_doc(created, deleted=stamp(6, BO))
    assert both_orders("leads", first, second)[DELETED] == stamp(6, BO)


# --- grow-only lists -------------------------------------------------------------------------


def test_grow_only_lists_merge_as_unions_by_id_in_time_order() -> None:
    created = stamp(0, ANN)
    ours = lead_doc(created, history=[event("a" * 32, 0), event("c" * 32, 9)])
    theirs = lead_doc(created, history=[event("b" * 32, 5), event("c" * 32, 9)])
    merged = both_orders("leads", ours, theirs)
    assert [entry["id"] for entry in merged["history"]] == ["a" * 32, "b" * 32, "c" * 32]
    assert merged[STAMPS] == {BASE: created}  # grow-only lists carry no stamps


def test_all_grow_only_lists_of_an_opportunity_merge_and_empty_ones_stay_out() -> None:
    created = stamp(0, ANN)
    base = {"id": LEAD_ID, "title": "Deal", "owner": "ann", "customer_id": OTHER_ID, "stage": "quote"}
    change = {"id": "d" * 32, "at": WHEN.isoformat(), "stage": "quote", "by": "ann"}
    ours = {**base, "stage_history": [change], STAMPS: {BASE: created}}
    theirs = {**base, "changes": [{**change, "field": "amount", "old": None, "new": "10"}], STAMPS: {BASE: created}}
    merged = both_orders("opportunities", ours, theirs)
    assert len(merged["stage_history"]) == len(merged["changes"]) == 1
    assert "quotes" not in merged


def test_two_versions_of_one_entry_id_give_one_answer() -> None:
    created = stamp(0, ANN)
    ours = lead_doc(created, history=[{**event("a" * 32, 0), "note": "x"}])
    theirs = lead_doc(created, history=[{**event("a" * 32, 0), "note": "y"}])
    assert [entry["note"] for entry in both_orders("leads", ours, theirs)["history"]] == ["y"]


# --- record sets ---------------------------------------------------------------------------


def test_merge_sets_keeps_records_of_both_sides_and_changes_neither_input() -> None:
    created = stamp(0, ANN)
    local = {"leads": {LEAD_ID: lead_doc(created, company="Acme")}, "tasks": {}}
    remote = {"leads": {OTHER_ID: {**lead_doc(stamp(1, BO)), "id": OTHER_ID}}, "customers": {}}
    before = copy.deepcopy((local, remote))
    merged = merge_sets(local, remote)
    assert (local, remote) == before
    assert set(merged) == {"leads", "tasks", "customers"}
    assert set(merged["leads"]) == {LEAD_ID, OTHER_ID}


def test_the_report_lists_added_updated_and_deleted_records() -> None:
    created = stamp(0, ANN)
    gone = {**lead_doc(created), "id": "3" * 32}
    local = {"leads": {LEAD_ID: lead_doc(created), gone["id"]: gone}}
    remote = {"leads": {
        LEAD_ID: lead_doc(created, {"company": stamp(1, BO)}, company="Acme"),
        OTHER_ID: {**lead_doc(stamp(1, BO)), "id": OTHER_ID},
        gone["id"]: {**gone, DELETED: stamp(2, BO)},
        "4" * 32: {**lead_doc(stamp(1, BO), deleted=stamp(2, BO)), "id": "4" * 32},  # arrives deleted: not added
    }}
    changes = changes_of(local, remote)
    assert changes.added == [("leads", OTHER_ID)]
    assert changes.updated == [("leads", LEAD_ID)]
    assert changes.deleted == [("leads", gone["id"])]
    assert changes.conflicts == []


def test_a_change_of_stamps_alone_is_not_an_update() -> None:
    created = stamp(0, ANN)
    local = {"leads": {LEAD_ID: lead_doc(created, {"company": stamp(1, ANN)}, company="Acme")}}
    remote = {"leads": {LEAD_ID: lead_doc(created, {"company": stamp(2, BO)}, company="Acme")}}
    assert changes_of(local, remote).updated == []


def test_observed_max_stamp_sees_field_stamps_and_tombstones() -> None:
    records = {"leads": {LEAD_ID: lead_doc(stamp(0, ANN), {"company": stamp(4, BO)}, deleted=stamp(9, CY))}}
    assert observed_max_stamp(records) == stamp(9, CY)
    assert observed_max_stamp({"leads": {}}) is None


# --- concurrent edits ------------------------------------------------------------------------


def concurrent_company_edits(ann_ms: int, bo_ms: int, ann_counter: int = 0,
                             bo_counter: int = 0) -> tuple[RecordSet, RecordSet, dict[str, str]]:
    """Ann and Bo both saw the created lead, then both changed its company. Returns (ann, bo, what both saw)."""
    created = stamp(0, ANN)
    ann = lead_doc(created, {"company": stamp(ann_ms, ANN, ann_counter)}, company="Northwind")
    bo = lead_doc(created, {"company": stamp(bo_ms, BO, bo_counter)}, company="Northwind Traders")
    return {"leads": {LEAD_ID: ann}}, {"leads": {LEAD_ID: bo}}, {ANN: created}


def test_a_concurrent_edit_is_reported_with_both_values_and_the_winner() -> None:
    ann, bo, seen = concurrent_company_edits(60_000, 120_000)
    [conflict] = changes_of(ann, bo, local_seen=seen, remote_seen=seen).conflicts
    assert (conflict.table, conflict.record_id, conflict.field) == ("leads", LEAD_ID, "company")
    assert (conflict.local_value, conflict.remote_value) == ("Northwind", "Northwind Traders")
    assert (conflict.local_stamp, conflict.remote_stamp) == (stamp(60_000, ANN), stamp(120_000, BO))
    assert conflict.winner == "remote"
    assert conflict.reason == "later edit wins: 2025-12-29 09:22:00 UTC vs 2025-12-29 09:21:00 UTC"
    [mirrored] = changes_of(bo, ann, local_seen=seen, remote_seen=seen).conflicts
    assert (mirrored.winner, mirrored.local_value) == ("local", "Northwind Traders")


def test_edits_within_one_second_are_told_apart_to_the_millisecond() -> None:
    ann, bo, seen = concurrent_company_edits(5, 7)
    [conflict] = changes_of(ann, bo, local_seen=seen, remote_seen=seen).conflicts
    assert conflict.reason == "later edit wins: 2025-12-29 09:20:00.007 UTC vs 2025-12-29 09:20:00.005 UTC"


def test_same_time_edits_are_settled_by_replica_id() -> None:
    ann, bo, seen = concurrent_company_edits(5, 5)
    [conflict] = changes_of(ann, bo, local_seen=seen, remote_seen=seen).conflicts
    assert (conflict.winner, conflict.reason) == ("remote", "same time: replica id breaks the tie")  # BO > ANN
    ann, bo, seen = concurrent_company_edits(5, 5, ann_counter=2, bo_counter=1)
    [conflict] = changes_of(ann, bo, local_seen=seen, remote_seen=seen).conflicts
    assert conflict.winner == "local" and "the later clock tick wins" in conflict.reason


def test_an_edit_made_after_seeing_the_other_is_not_concurrent() -> None:
    ann, bo, seen = concurrent_company_edits(3, 8)
    bo_saw_ann = {**seen, ANN: stamp(3, ANN)}  # bo merged ann's edit, then changed it again
    assert changes_of(ann, bo, local_seen=seen, remote_seen=bo_saw_ann).conflicts == []  # merged at ann
    assert changes_of(bo, ann, local_seen=bo_saw_ann, remote_seen=seen).conflicts == []  # merged at bo


def test_the_same_value_or_bookkeeping_fields_are_not_conflicts() -> None:
    created = stamp(0, ANN)
    ann = lead_doc(created, {"company": stamp(3, ANN), "updated_at": stamp(3, ANN)}, company="Acme",
                   updated_at="2025-12-29T09:20:00.003000Z")
    bo = lead_doc(created, {"company": stamp(4, BO), "updated_at": stamp(4, BO)}, company="Acme",
                  updated_at="2025-12-29T09:20:00.004000Z")
    seen = {ANN: created}
    assert changes_of({"leads": {LEAD_ID: ann}}, {"leads": {LEAD_ID: bo}}, local_seen=seen,
                      remote_seen=seen).conflicts == []


def test_two_writes_of_one_replica_are_never_concurrent() -> None:
    created = stamp(0, ANN)
    older = lead_doc(created, {"company": stamp(3, ANN)}, company="Acme")
    newer = lead_doc(created, {"company": stamp(4, ANN)}, company="Zeta")
    assert changes_of({"leads": {LEAD_ID: older}}, {"leads": {LEAD_ID: newer}}, local_seen={},
                      remote_seen={}).conflicts == []


# --- properties over random histories ----------------------------------------------------------

REPLICA_IDS = ("9f3c000000000001", "0a00000000000002", "5555555555555555", "c0ffee0000000000", "00000000000000ff")
RECORD_IDS = tuple(f"{n:032x}" for n in (0xA1, 0xB2))
#: (field, value) pairs an edit may write; falsy values reset the field to its default
EDITS: tuple[tuple[str, Any], ...] = (
    ("company", ""), ("company", "Acme"), ("company", "Initech"),
    ("score", 0), ("score", 10), ("score", 50),
    ("grade", None), ("grade", "A"), ("grade", "B"),
    ("status", "new"), ("status", "contacted"), ("status", "qualified"),
    ("tags", []), ("tags", ["vip"]), ("tags", ["vip", "eu"]),
    ("in_pool", False), ("in_pool", True),
)
#: edits and syncs are what make concurrent histories: drawn more often than deletes
KINDS = ("set", "set", "set", "set", "sync", "sync", "sync", "tick", "tick", "append", "delete", "create")
LEAD_FIELDS = tuple(name for name in Lead.model_fields if name not in ("id", "history"))
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)


@dataclass(frozen=True)
class Op:
    """One step of a history: ``kind`` by replica ``actor`` on record ``target`` (or syncing into
    replica ``target``); ``edit`` for "set", ``amount`` ms for "tick" / minutes of the entry for "append"."""

    kind: str
    actor: int
    target: int
    edit: tuple[str, Any] = ("company", "")
    amount: int = 0


@dataclass
class Replica:
    clock: Clock
    records: RecordSet = field(default_factory=lambda: {"leads": {}})
    #: replica -> newest stamp of it this replica has seen, kept across merges (an overwritten
    #: write leaves no stamp in the records, so it cannot be read back from them)
    seen: dict[str, str] = field(default_factory=dict)


@dataclass
class History:
    """What a run of operations left: every replica's state, the exports taken, every document written."""

    replicas: list[Replica]
    exports: list[RecordSet] = field(default_factory=list)
    written: dict[str, list[Doc]] = field(default_factory=dict)
    reports: list[tuple[RecordSet, RecordSet, MergeChanges]] = field(default_factory=list)
    now_ms: int = T0
    entries: int = 0

    def states(self) -> list[RecordSet]:
        return [replica.records for replica in self.replicas]


def operations(replicas: int) -> st.SearchStrategy[Op]:
    replica = st.integers(0, replicas - 1)
    return st.builds(Op, st.sampled_from(KINDS), replica, st.integers(0, max(replicas, len(RECORD_IDS)) - 1),
                     st.sampled_from(EDITS), st.integers(0, 5))


@st.composite
def histories(draw: st.DrawFn) -> History:
    count = draw(st.integers(2, 5))
    history = History([])
    history.replicas = [Replica(Clock(replica_id, wall=lambda: history.now_ms)) for replica_id in REPLICA_IDS[:count]]
    if draw(st.booleans()):  # mostly a team that starts from shared records, else independent creations
        for op in shared_start(count):
            apply(history, op)
    for op in draw(st.lists(operations(count), min_size=20, max_size=60)):
        apply(history, op)
    return history


def shared_start(replicas: int) -> list[Op]:
    """The first replica creates every record, and everyone merges its export."""
    creations = [Op("create", 0, which) for which in range(len(RECORD_IDS))]
    return [*creations, Op("tick", 0, 0, amount=1), *(Op("sync", 0, other) for other in range(1, replicas))]


def apply(history: History, op: Op) -> None:
    if op.kind == "tick":
        history.now_ms += op.amount % 4
    elif op.kind == "sync":
        sync(history, op.actor, op.target % len(history.replicas))
    else:
        replica, record_id = history.replicas[op.actor], RECORD_IDS[op.target % len(RECORD_IDS)]
        doc = write(history, op, replica, replica.records["leads"].get(record_id), record_id)
        if doc is not None:  # a new state, as the store's is: reports keep the old one
            replica.records = {**replica.records, "leads": {**replica.records["leads"], record_id: doc}}
            replica.seen = newest_seen(replica.seen, {replica.clock.replica: replica.clock.last})
            history.written.setdefault(record_id, []).append(doc)


def write(history: History, op: Op, replica: Replica, current: Doc | None, record_id: str) -> Doc | None:
    """The new document an operation writes, or None when it does not apply (as the store refuses it)."""
    if op.kind == "create":
        lead = Lead(id=record_id, name="Ada", owner="ann", created_at=WHEN, updated_at=WHEN)
        return None if current is not None else stamp_record(lead, None, replica.clock.now())
    if current is None or not is_live(current):
        return None
    if op.kind == "delete":
        return store_tombstone(current, replica.clock.now())
    lead = Lead.model_validate(fields_of(current))
    if op.kind == "set":
        return stamp_record(lead.model_copy(update=dict([op.edit])), current, replica.clock.now())
    history.entries += 1
    entry = LeadEvent(id=f"{history.entries:032x}", at=WHEN + timedelta(minutes=op.amount), kind="status", by="ann")
    return stamp_record(lead.model_copy(update={"history": [*lead.history, entry]}), current, replica.clock.now())


def sync(history: History, source: int, target: int) -> None:
    """``target`` merges ``source``'s export and moves its clock past it."""
    export, export_seen = copy.deepcopy(history.replicas[source].records), history.replicas[source].seen
    replica = history.replicas[target]
    before = replica.records
    replica.records = {table: dict(docs) for table, docs in before.items()}
    changes = describe_changes(merge_into(replica.records, export), replica.records, local_seen=replica.seen,
                               remote=export, remote_seen=export_seen)
    replica.seen = newest_seen(replica.seen, export_seen)
    history.exports.append(export)
    history.reports.append((before, replica.records, changes))
    newest = observed_max_stamp(export)
    if newest:
        replica.clock.observe(newest)


def newest_seen(*vectors: dict[str, str]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for vector in vectors:
        for replica, newest in vector.items():
            merged[replica] = max(newest, merged.get(replica, ""))
    return merged


def merge_all(states: Iterable[RecordSet], start: RecordSet | None = None) -> RecordSet:
    merged: RecordSet = start if start is not None else {"leads": {}}
    for state in states:
        merged = merge_sets(merged, state)
    return merged


def some_states(history: History) -> list[RecordSet]:
    """Every replica's final state and up to three exports taken along the way."""
    return [*history.states(), *history.exports[-3:]]


@PROPERTY_SETTINGS
@given(histories())
def test_merging_is_commutative_associative_and_idempotent(history: History) -> None:
    states = some_states(history)
    for a in states:
        assert merge_sets(a, a) == a
        for b in states:
            ab = merge_sets(a, b)
            assert ab == merge_sets(b, a)
            assert merge_sets(ab, b) == ab
            for c in states:
                assert merge_sets(ab, c) == merge_sets(a, merge_sets(b, c))


@PROPERTY_SETTINGS
@given(histories(), st.data())
def test_replicas_that_merged_the_same_exports_agree_whatever_the_order(history: History, data: st.DataObject) -> None:
    exports = [*history.exports, *copy.deepcopy(history.states())]
    results = []
    for replica in history.replicas:
        order = data.draw(st.permutations(exports))
        results.append(merge_all(order, start=replica.records))
    assert all(result == results[0] for result in results)
    assert check_documents(results[0]) == []


@PROPERTY_SETTINGS
@given(histories())
def test_the_team_state_holds_the_newest_write_of_every_field_and_delete(history: History) -> None:
    team = merge_all(history.states())["leads"]
    assert set(team) == set(history.written)
    for record_id, versions in history.written.items():
        merged = team[record_id]
        for name in LEAD_FIELDS:
            newest = max(versions, key=lambda doc, name=name: stamp_of(doc, name))  # type: ignore[misc]
            assert stamp_of(merged, name) == stamp_of(newest, name)
            assert (name in merged, merged.get(name)) == (name in newest, newest.get(name))
        assert is_live(merged) == newest_write_is_after_newest_delete(versions)
        assert entry_ids(merged) == set().union(*(entry_ids(doc) for doc in versions))


def newest_write_is_after_newest_delete(versions: list[Doc]) -> bool:
    """Resurrection as specified: live while some field write is newer than every delete."""
    newest_write = max(max(doc[STAMPS].values()) for doc in versions)
    return newest_write > max((doc.get(DELETED, "") for doc in versions), default="")


def entry_ids(doc: Doc) -> set[str]:
    return {entry["id"] for entry in doc.get("history", [])}


@PROPERTY_SETTINGS
@given(histories())
def test_merge_reports_agree_with_the_merged_state(history: History) -> None:
    for before, after, changes in history.reports:
        old, new = before["leads"], after["leads"]
        assert changes.added == [("leads", i) for i in sorted(new.keys() - old.keys()) if is_live(new[i])]
        assert changes.deleted == [("leads", i) for i in sorted(old) if is_live(old[i]) and not is_live(new[i])]
        assert changes.resurrected == [("leads", i) for i in sorted(old) if not is_live(old[i]) and is_live(new[i])]
        for record_id in (i for _, i in changes.resurrected):
            assert max(new[record_id][STAMPS].values()) > old[record_id][DELETED]
        for conflict in changes.conflicts:
            winning_stamp = conflict.local_stamp if conflict.winner == "local" else conflict.remote_stamp
            winning_value = conflict.local_value if conflict.winner == "local" else conflict.remote_value
            assert stamp_of(new[conflict.record_id], conflict.field) == winning_stamp
            assert new[conflict.record_id].get(conflict.field) == winning_value
            assert winning_stamp == max(conflict.local_stamp, conflict.remote_stamp)


@PROPERTY_SETTINGS
@given(histories())
def test_merging_back_what_a_teammate_merged_from_us_shows_no_concurrent_edits(history: History) -> None:
    """Concurrent means unseen: once one side has merged the other, nothing between them is concurrent
    (given seen vectors kept across merges: see ``Replica.seen``)."""
    ours, theirs = history.replicas[:2]
    theirs_after = merge_sets(theirs.records, ours.records)  # they merged our export ...
    theirs_seen = newest_seen(theirs.seen, ours.seen)
    assert changes_of(ours.records, theirs_after, local_seen=ours.seen, remote_seen=theirs_seen).conflicts == []
    assert changes_of(theirs_after, ours.records, local_seen=theirs_seen, remote_seen=ours.seen).conflicts == []


def test_every_stamp_of_a_merge_comes_from_its_inputs() -> None:
    """A merge invents no stamps: the clock only has to move past what it was given."""
    ours = lead_doc(stamp(0, ANN), {"company": stamp(3, ANN)}, company="Acme")
    theirs = lead_doc(stamp(1, BO), deleted=stamp(2, BO))
    merged = merge_docs("leads", ours, theirs)
    assert set(doc_stamps(merged)) <= set(doc_stamps(ours)) | set(doc_stamps(theirs))
