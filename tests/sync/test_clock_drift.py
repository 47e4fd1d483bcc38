"""Clocks that cannot run away (issue 14, fault 4): a replica whose system clock ran ahead
refuses to stamp in the future, teammates refuse its stamps naming it, and after
``repair_clock`` it syncs again and later real-time edits win. Every clock is injected:
nothing here waits or reads the real time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from store.database import Store
from store.errors import StoreError
from store.hlc import Stamp
from store.models import Lead
from sync.errors import SyncError
from sync.exchange import export_to, merge_files, snapshot
from tests.sync.conftest import TEAM

MINUTE = 60_000
HOUR = 60 * MINUTE
NOW = int(datetime(2025, 6, 2, 9, 0, tzinfo=UTC).timestamp() * 1000)
IN_2030 = int(datetime(2030, 1, 1, tzinfo=UTC).timestamp() * 1000)


class Wall:
    """A wall clock set by the test (time is an input, not our code)."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


class Team:
    """Data folders of reps, each with its own wall clock, and the team folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.shared = root / "team"
        self.shared.mkdir()
        self.walls: dict[str, Wall] = {}
        self.stores: dict[str, Store] = {}

    def open(self, rep: str, at: int = NOW) -> Store:
        folder = self.root / rep
        if not folder.exists():
            folder.mkdir()
            (folder / "config.yaml").write_text(f"me: {rep}\n{TEAM}")
        wall = self.walls.setdefault(rep, Wall(at))
        self.stores[rep] = Store(folder, wall=wall)
        return self.stores[rep]

    def reopen(self, rep: str) -> Store:
        self.stores.pop(rep).close()
        return self.open(rep)

    def send(self, sender: str, receiver: str) -> Any:
        """The sender publishes, the receiver merges; a refused file raises, as one line."""
        export_to(self.stores[sender], self.shared)
        report = merge_files(self.stores[receiver], [self.shared])
        if report.refused:
            path, why = report.refused[0]
            raise SyncError(f"{path.name}: {why}")
        return report

    def close(self) -> None:
        for store in self.stores.values():
            store.close()


@pytest.fixture
def team(tmp_path: Path) -> Iterator[Team]:
    made = Team(tmp_path)
    yield made
    made.close()


def records(store: Store) -> dict[str, dict[str, Any]]:
    return {table: {key: dict(doc) for key, doc in docs.items()} for table, docs in snapshot(store).items()}


def every_stamp(store: Store) -> list[str]:
    return [stamp for docs in snapshot(store).values() for doc in docs.values()
            for stamp in (*doc["_s"].values(), *([doc["_del"]] if "_del" in doc else []))]


def test_a_replica_that_ran_ahead_recovers_after_the_repair_and_converges(team: Team) -> None:
    ann, bo = team.open("ann"), team.open("bo")
    emma = ann.add(Lead(owner="ann", name="Emma Clarke", phone="555 0100"))
    spam = ann.add(Lead(owner="ann", name="Spam"))
    team.send("ann", "bo")

    team.walls["ann"].ms = IN_2030  # ann's system clock jumps to 2030 for a while
    ann.update(Lead, emma.id, phone="555 0199")
    ann.delete(Lead, spam.id)
    later = ann.add(Lead(owner="ann", name="Liam Ortiz"))
    team.walls["ann"].ms = NOW + HOUR  # and comes back

    with pytest.raises(StoreError, match=r"4 years ahead .* run `dealdeck check --repair-clock`"):
        ann.update(Lead, emma.id, name="Emma C.")  # no stamp in 2030 again: a one-line refusal
    assert ann.get(Lead, emma.id).name == "Emma Clarke"
    assert "dealdeck check --repair-clock" in (ann.clock_warning() or "")
    assert "dealdeck check --repair-clock" in (team.reopen("ann").clock_warning() or "")  # a new process too
    ann = team.stores["ann"]
    with pytest.raises(SyncError, match=r"changes are stamped 4 years ahead .* run `dealdeck check --repair-clock`"):
        team.send("ann", "bo")  # refused before anything goes out
    assert bo.get(Lead, later.id) is None

    found = ann.repair_clock()
    assert len(found.own_future) == 3 and not found.others
    assert ann.clock_warning() is None
    limit = NOW + HOUR + 5 * MINUTE
    assert all(Stamp.parse(stamp).wall_ms <= limit for stamp in every_stamp(ann))
    assert ann.get(Lead, emma.id).phone == "555 0199" and ann.get(Lead, spam.id) is None  # nothing else changed
    assert team.reopen("ann").clock_warning() is None  # the repair holds for the next process
    ann = team.stores["ann"]

    team.walls["bo"].ms = NOW + 2 * HOUR  # after the repair, in real time: bo's edit is the newer one
    bo.update(Lead, emma.id, phone="555 0222")
    team.walls["ann"].ms = NOW + 2 * HOUR + MINUTE
    ann.update(Lead, emma.id, name="Emma C.")

    team.send("ann", "bo")
    team.send("bo", "ann")
    assert records(ann) == records(bo)
    for store in (ann, bo):
        assert store.get(Lead, emma.id).phone == "555 0222"  # the newer real-time edit wins
        assert store.get(Lead, emma.id).name == "Emma C."
        assert store.get(Lead, spam.id) is None and store.get(Lead, later.id).name == "Liam Ortiz"

    team.walls["ann"].ms = team.walls["bo"].ms = NOW + 3 * HOUR
    ann.update(Lead, emma.id, phone="555 0333")  # and ann's own later edits win again, both ways
    team.send("ann", "bo")
    team.send("bo", "ann")
    assert records(ann) == records(bo) and bo.get(Lead, emma.id).phone == "555 0333"


def test_the_repair_keeps_an_edit_after_a_delete_alive(team: Team) -> None:
    ann = team.open("ann", at=IN_2030)
    lead = ann.add(Lead(owner="ann", name="Emma"))
    ann.delete(Lead, lead.id)
    team.walls["ann"].ms = IN_2030 + MINUTE
    doc = dict(ann.storage.tables["leads"][lead.id])
    with ann.storage.transaction() as txn:  # an edit after the delete (as a merge brings one) revives it
        stamp = ann.clock.now()
        ann.storage.note_clock(stamp)
        txn.put("leads", {**doc, "name": "Emma again", "_s": {**doc["_s"], "name": stamp}})
    assert ann.get(Lead, lead.id) is not None
    team.walls["ann"].ms = NOW
    ann.repair_clock()
    assert ann.get(Lead, lead.id).name == "Emma again"  # the order of the stamps is kept


@pytest.mark.parametrize(("ahead", "refused"), [
    (23 * HOUR, "23 h ahead"),  # once accepted (24 h), winning every concurrent edit for a day
    (6 * MINUTE, "6 min ahead"),
    (4 * MINUTE, None),
])
def test_a_teammate_stamp_beyond_the_drift_is_refused_naming_them(team: Team, ahead: int, refused: str | None) -> None:
    ann, bo = team.open("ann", at=NOW + ahead), team.open("bo")
    lead = ann.add(Lead(owner="ann", name="Emma"))
    if refused is None:
        team.send("ann", "bo")
        assert bo.get(Lead, lead.id) is not None
        return
    with pytest.raises(SyncError) as caught:
        team.send("ann", "bo")
    message = str(caught.value)
    assert f"ann (replica {ann.replica_id}) is {refused} of this computer's clock" in message
    assert "sync.max_clock_drift_minutes" in message and "\n" not in message
    assert bo.get(Lead, lead.id) is None


def test_the_drift_comes_from_the_config(team: Team) -> None:
    ann = team.open("ann", at=NOW + 20 * MINUTE)
    ann.add(Lead(owner="ann", name="Emma"))
    bo = team.open("bo")
    bo.close()
    config = team.root / "bo" / "config.yaml"
    config.write_text(config.read_text() + "sync: {max_clock_drift_minutes: 30}\n")
    bo = team.open("bo")
    assert team.send("ann", "bo").files  # 20 min ahead is within 30


def test_merging_does_not_pull_the_clock_to_an_old_future_stamp(team: Team) -> None:
    """A stamp of a teammate that an older Dealdeck accepted 20 h ahead stays in the records;
    the next merge must neither crash nor move this replica's clock there."""
    ann, bo, cy = team.open("ann", at=NOW + 20 * HOUR), team.open("bo"), team.open("cy")
    lead = ann.add(Lead(owner="ann", name="Emma"))
    with bo.storage.transaction() as txn:  # as the old 24 h limit let it in
        txn.put("leads", dict(ann.storage.tables["leads"][lead.id]))
    cy.add(Lead(owner="cy", name="Noah"))
    team.send("cy", "bo")
    assert bo.clock.ahead_ms() <= 5 * MINUTE
    bo.update(Lead, lead.id, phone="555 0100")  # bo can still write
