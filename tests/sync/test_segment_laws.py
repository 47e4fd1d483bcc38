"""The merge laws over segment-based sync, on random team histories: replicas that
create, edit, clear and delete records, publish their own changes as segments
(``sync.segments.own_changes``) and merge others' in the order the team folder's rules
allow (each replica's in order, after what each was written after). Whatever the
delivery order, with segments delivered twice, held back and delivered later, and with
a snapshot taken in the middle by a replica that had merged only some of them, every
replica that has merged the same segments holds the same state: merging is commutative,
associative and idempotent over segments, and converges."""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from store.hlc import Stamp
from store.records import BASE, DELETED, STAMPS, Doc
from sync.format import TABLES, RecordSet, empty_set
from sync.merge import merge_into, merge_partial_into
from sync.segments import own_changes, stamp_range

REPLICAS = ("a" * 16, "b" * 16, "c" * 16)
IDS = [f"{n:032x}" for n in range(1, 6)]
FIELDS = ("name", "company", "title")
VALUES = ("Ada", "Bo", "", "Cy")
T0 = 1_767_000_000_000


@dataclass
class Segment:
    replica: str
    seq: int
    deps: dict[str, int]
    records: RecordSet


@dataclass
class Replica:
    id: str
    state: RecordSet = field(default_factory=empty_set)
    applied: dict[str, int] = field(default_factory=dict)
    clock: int = 0
    published: str = ""
    seq: int = 0

    def stamp(self, now: int) -> str:
        self.clock = max(self.clock + 1, now)
        return str(Stamp(T0 + self.clock, 0, self.id))

    def observe(self, records: RecordSet) -> None:
        for docs in records.values():
            for doc in docs.values():
                for stamp in (*doc[STAMPS].values(), *([doc[DELETED]] if DELETED in doc else [])):
                    self.clock = max(self.clock, Stamp.parse(stamp).wall_ms - T0)

    def write(self, op: tuple[str, int, int, int], now: int) -> None:
        kind, record, name, value = op
        leads, record_id = self.state["leads"], IDS[record]
        doc = leads.get(record_id)
        stamp = self.stamp(now)
        if doc is None:
            if kind == "write":  # a new record: every field at its creation stamp
                leads[record_id] = {"id": record_id, "name": VALUES[value] or "New", STAMPS: {BASE: stamp}}
            return
        doc = copy.deepcopy(doc)
        if kind == "delete":
            doc[DELETED] = stamp
        else:
            field_name = FIELDS[name]
            if (VALUES[value] and field_name != "name") or field_name == "name":
                doc[field_name] = VALUES[value] or "Unnamed"
            else:
                doc.pop(field_name, None)  # set to its falsy default: left out, under its own stamp
            doc[STAMPS] = {**doc[STAMPS], field_name: stamp}
        leads[record_id] = doc

    def publish(self) -> Segment | None:
        records = own_changes(self.state, self.id, self.published)
        span = stamp_range(records)
        if span is None:
            return None
        self.published = span[1]
        self.seq += 1
        self.applied[self.id] = self.seq
        deps = {replica: seq for replica, seq in self.applied.items() if replica != self.id}
        return Segment(self.id, self.seq, deps, records)

    def ready(self, segment: Segment) -> bool:
        return (self.applied.get(segment.replica, 0) == segment.seq - 1
                and all(self.applied.get(r, 0) >= seq for r, seq in segment.deps.items()))

    def merge(self, segment: Segment) -> None:
        """Apply ``segment`` (already applied ones again: a duplicate changes nothing)."""
        merge_partial_into(self.state, segment.records)
        self.observe(segment.records)
        self.applied[segment.replica] = max(self.applied.get(segment.replica, 0), segment.seq)

    def take_snapshot_of(self, other: Replica) -> None:
        merge_into(self.state, copy.deepcopy(other.state))
        self.observe(other.state)
        for replica, seq in other.applied.items():
            self.applied[replica] = max(seq, self.applied.get(replica, 0))


def deliver(receiver: Replica, segments: list[Segment], rng: random.Random, *, duplicates: bool) -> None:
    """Every segment that can be applied, in a random order the rules allow; some twice."""
    waiting = list(segments)
    while True:
        again = [s for s in waiting if duplicates and receiver.applied.get(s.replica, 0) >= s.seq]
        ready = [s for s in waiting if receiver.ready(s)] + again
        if not ready:
            return
        segment = rng.choice(ready)
        receiver.merge(segment)
        if not duplicates or rng.random() < 0.5:
            waiting.remove(segment)


def run(ops: list[tuple[int, tuple[str, int, int, int]]], seed: int) -> tuple[list[Replica], list[Segment]]:
    """The team's history: each op a write by one replica, then sometimes a publish and a merge
    of what is in the folder so far (held back at random: not arrived yet)."""
    rng = random.Random(seed)
    team = [Replica(r) for r in REPLICAS]
    folder: list[Segment] = []
    for now, (who, op) in enumerate(ops):
        replica = team[who]
        replica.write(op, now)
        if rng.random() < 0.5:
            segment = replica.publish()
            if segment is not None:
                folder.append(segment)
        if rng.random() < 0.5:
            arrived = [s for s in folder if rng.random() < 0.7]
            deliver(team[rng.randrange(len(team))], arrived, rng, duplicates=True)
    for replica in team:  # everyone publishes what is left
        segment = replica.publish()
        if segment is not None:
            folder.append(segment)
    return team, folder


def live(state: RecordSet) -> RecordSet:
    return {table: {k: v for k, v in docs.items()} for table, docs in state.items() if table in TABLES}


OPS = st.lists(st.tuples(st.integers(0, 2), st.tuples(st.sampled_from(["write", "write", "delete"]),
                                                          st.integers(0, len(IDS) - 1),
                                                          st.integers(0, len(FIELDS) - 1),
                                                          st.integers(0, len(VALUES) - 1))),
               min_size=1, max_size=40)
LAWS = settings(max_examples=150, deadline=None)


@given(OPS, st.integers(0, 2**16))
@LAWS
def test_every_replica_that_merges_every_segment_converges(ops: list, seed: int) -> None:
    team, folder = run(ops, seed)
    rng = random.Random(seed + 1)
    for replica in team:
        deliver(replica, folder, rng, duplicates=True)
    states = [live(replica.state) for replica in team]
    assert states[0] == states[1] == states[2]


@given(OPS, st.integers(0, 2**16))
@LAWS
def test_the_order_of_delivery_and_duplicates_change_nothing(ops: list, seed: int) -> None:
    """Two newcomers merge the same segments in two different allowed orders, one of them
    with duplicates: the same state (commutative, associative, idempotent)."""
    _, folder = run(ops, seed)
    first, second = Replica("d" * 16), Replica("e" * 16)
    deliver(first, folder, random.Random(seed), duplicates=False)
    deliver(second, folder, random.Random(seed + 7), duplicates=True)
    assert first.applied == second.applied
    assert live(first.state) == live(second.state)


@given(OPS, st.integers(0, 2**16), st.integers(0, 2))
@LAWS
def test_a_snapshot_taken_in_the_middle_leads_to_the_same_state(ops: list, seed: int, source: int) -> None:
    """A newcomer that starts from a teammate's merged state (a snapshot, with the segments
    it holds) and then merges the rest holds what one that merged every segment holds."""
    team, folder = run(ops, seed)
    joiner, reader = Replica("d" * 16), Replica("e" * 16)
    joiner.take_snapshot_of(team[source])
    deliver(joiner, folder, random.Random(seed), duplicates=True)
    deliver(reader, folder, random.Random(seed + 3), duplicates=False)
    assert live(joiner.state) == live(reader.state)


@given(OPS, st.integers(0, 2**16))
@LAWS
def test_segments_merge_to_what_whole_states_merge_to(ops: list, seed: int) -> None:
    """Segments carry everything a replica wrote: merging them gives what merging the
    replicas' whole states (the first layout's exports) gives."""
    team, folder = run(ops, seed)
    by_segments, by_states = Replica("d" * 16), Replica("e" * 16)
    deliver(by_segments, folder, random.Random(seed), duplicates=False)
    for replica in team:
        merge_into(by_states.state, copy.deepcopy(replica.state))
    assert live(by_segments.state) == live(by_states.state)


def test_a_partial_change_of_a_record_not_here_is_left_out_not_made_a_record() -> None:
    """Held back by the rules in the team folder; if it came anyway it is not a record."""
    state = empty_set()
    partial: Doc = {"id": IDS[0], "title": "Buyer", STAMPS: {"title": str(Stamp(T0, 0, REPLICAS[0]))}}
    _, orphans = merge_partial_into(state, {"leads": {IDS[0]: partial}})
    assert orphans == 1 and state["leads"] == {}
