"""Snapshots for reps who join later, folding away segments every active teammate has
merged, retired reps, settled deletes, and segments withdrawn after a clock ran ahead.
Every clock is injected: nothing here waits or reads the real time."""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from store.database import Store
from store.models import Lead
from sync.exchange import export_to, merge_files, sync_folder
from sync.legacy import snapshot
from tests.sync import tamper

DAY = 86_400_000
NOW = int(datetime(2026, 3, 2, 9, 0, tzinfo=UTC).timestamp() * 1000)
TEAM = "reps: [{id: ann, name: Ann}, {id: bo, name: Bo}, {id: cy, name: Cy}, {id: di, name: Di}]\n"


class Wall:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        self.ms += 1  # every reading a millisecond later: stamps in order without sleeping
        return self.ms


class Team:
    def __init__(self, root: Path, sync: str = "") -> None:
        self.root, self.sync = root, sync
        self.shared = root / "team"
        self.shared.mkdir()
        self.wall = Wall(NOW)
        self.stores: dict[str, Store] = {}

    def __getitem__(self, rep: str) -> Store:
        if rep not in self.stores:
            folder = self.root / rep
            if not folder.exists():
                folder.mkdir()
                (folder / "config.yaml").write_text(f"me: {rep}\n{TEAM}sync: {{{self.sync}}}\n")
            self.stores[rep] = Store(folder, wall=self.wall)
        return self.stores[rep]

    def add(self, rep: str, *names: str) -> None:
        for name in names:
            self[rep].new(Lead, name=name)
            export_to(self[rep], self.shared)

    def sync_all(self, *reps: str) -> None:
        for rep in reps:
            sync_folder(self[rep], self.shared)

    def manifest(self, rep: str) -> dict:
        return tamper.manifest_of(self.shared / self[rep].replica_id)

    def later(self, days: int) -> None:
        self.wall.ms += days * DAY

    def close(self) -> None:
        for store in self.stores.values():
            store.close()


@pytest.fixture
def team(tmp_path: Path) -> Iterator[Team]:
    made = Team(tmp_path, "snapshot_after_segments: 10")
    yield made
    made.close()


def state(store: Store) -> dict[str, dict]:
    return {table: {key: dict(doc) for key, doc in docs.items()} for table, docs in snapshot(store).items()}


def names(store: Store) -> list[str]:
    return sorted(lead.name for lead in store.all(Lead))


def test_a_rep_who_joins_later_starts_from_a_snapshot(team: Team) -> None:
    team.add("ann", *(f"Lead {n:02d}" for n in range(12)))
    assert [ref["file"][:9] for ref in team.manifest("ann")["snapshots"]] == ["snapshot-"]
    team.add("bo", "Bo's")
    report = merge_files(team["cy"], [team.shared])
    sources = [f.what for f in report.files]
    assert any(what.startswith("snapshot snapshot-") for what in sources), sources
    assert any(what == "2 segment(s)" for what in sources), sources  # ann's after the snapshot
    assert names(team["cy"]) == sorted([*(f"Lead {n:02d}" for n in range(12)), "Bo's"])
    team.sync_all("ann", "bo", "cy", "ann", "bo")
    assert state(team["ann"]) == state(team["bo"]) == state(team["cy"])


def add_many(team: Team, rep: str, count: int, seed: int) -> None:
    """``count`` leads in one commit, published as one segment."""
    store = team[rep]
    with store.writing():
        for n in range(count):
            store.new(Lead, name=f"Lead {seed}-{n}", notes=f"{(seed * 7919 + n * 104729) % 999983:x} " * 4)
    export_to(store, team.shared)


def test_small_segments_call_for_a_snapshot_only_once_they_weigh_as_much_as_the_state(team: Team) -> None:
    add_many(team, "ann", 300, 1)  # a replica's first segment: all it had
    team.add("bo", *(f"Bo's {n:02d}" for n in range(12)))  # past snapshot_after_segments, but light
    assert team.manifest("ann")["snapshots"] == [] and team.manifest("bo")["snapshots"] == []
    add_many(team, "bo", 300, 2)  # now the segments since weigh more than the first ones
    assert [ref["file"][:9] for ref in team.manifest("bo")["snapshots"]] == ["snapshot-"]


def test_segments_everyone_merged_are_folded_away_after_their_age(team: Team) -> None:
    team.add("ann", "Ada", "Ben")
    team.sync_all("bo", "ann", "bo")
    team.later(13)
    team.sync_all("ann")
    assert team.manifest("ann")["folded"] == 0  # not old enough
    team.later(2)
    team.sync_all("ann")  # old, merged by bo: a snapshot holds them, then they go
    manifest = team.manifest("ann")
    assert manifest["folded"] == 2 and manifest["segments"] == [] and len(manifest["snapshots"]) == 1
    assert sorted(p.name for p in (team.shared / team["ann"].replica_id).iterdir())[0] == "manifest.json"
    report = merge_files(team["cy"], [team.shared])  # a rep who joins now
    assert names(team["cy"]) == ["Ada", "Ben"] and report.waiting == []


def test_a_teammate_who_has_not_merged_holds_back_folding_until_retired(tmp_path: Path) -> None:
    team = Team(tmp_path)
    try:
        team.add("ann", "Ada")
        team.sync_all("cy")  # cy merges once, then stops syncing
        team.add("ann", "Ben")
        team.sync_all("bo")
        team.later(30)
        team.sync_all("ann")
        assert team.manifest("ann")["folded"] == 1  # cy merged segment 1, not segment 2
        (team["ann"].folder / "config.yaml").write_text(f"me: ann\n{TEAM}sync: {{retired: [cy]}}\n")
        team.stores.pop("ann").close()
        team.sync_all("ann")
        assert team.manifest("ann")["folded"] == 2
    finally:
        team.close()


def test_a_replica_restored_from_an_old_backup_catches_up_through_the_snapshot(team: Team, tmp_path: Path) -> None:
    team.add("ann", "Ada")
    team.sync_all("bo")
    backup = tmp_path / "bo-backup"
    team["bo"].close()
    shutil.copytree(team["bo"].folder, backup)
    del team.stores["bo"]
    team.add("ann", "Ben", "Cy")
    team.sync_all("bo", "ann")
    team.later(15)
    team.sync_all("ann")
    assert team.manifest("ann")["folded"] == 3
    team["bo"].close()
    del team.stores["bo"]
    for path in backup.iterdir():  # the old files put back in place (the folder itself is the same)
        if path.is_file():
            shutil.copy2(path, team.root / "bo" / path.name)
    report = merge_files(team["bo"], [team.shared])
    assert any(f.what.startswith("snapshot ") for f in report.files) and report.waiting == []
    assert names(team["bo"]) == ["Ada", "Ben", "Cy"]


def test_a_settled_delete_is_left_out_of_the_next_snapshot(team: Team) -> None:
    team.add("ann", "Ada", "Spam")
    spam = next(lead for lead in team["ann"].all(Lead) if lead.name == "Spam")
    team["ann"].delete(Lead, spam.id)
    export_to(team["ann"], team.shared)
    team.sync_all("bo", "ann")
    team.later(15)
    team.sync_all("ann")
    (ref,) = team.manifest("ann")["snapshots"]
    _, body = tamper.unpack(team.shared / team["ann"].replica_id / ref["file"])
    assert spam.id not in body["tables"]["leads"] and len(body["tables"]["leads"]) == 1


def test_a_delete_someone_has_not_seen_stays_in_the_snapshot(team: Team) -> None:
    team.add("ann", "Ada", "Spam")
    team.sync_all("bo", "ann")
    spam = next(lead for lead in team["ann"].all(Lead) if lead.name == "Spam")
    team["ann"].delete(Lead, spam.id)
    team.later(15)
    export_to(team["ann"], team.shared)  # the delete goes out now; bo has not merged it
    for _ in range(10):
        team.add("ann", f"x{_}")
    snapshots = team.manifest("ann")["snapshots"]
    assert snapshots
    _, body = tamper.unpack(team.shared / team["ann"].replica_id / snapshots[-1]["file"])
    assert "_del" in body["tables"]["leads"][spam.id]


def test_segments_stamped_ahead_of_the_clock_are_withdrawn_after_the_repair(team: Team) -> None:
    team.add("ann", "Ada")
    team.sync_all("bo")
    team.wall.ms += 365 * DAY  # ann's clock jumps a year ahead, and ann publishes
    team["ann"].new(Lead, name="Ben")
    export_to(team["ann"], team.shared)
    team.wall.ms -= 365 * DAY  # the clock is put right; bo refuses the future segment
    report = merge_files(team["bo"], [team.shared])
    assert report.refused and "in the future" in report.refused[0][1]
    team["ann"].repair_clock()
    published = export_to(team["ann"], team.shared)
    assert published.withdrawn == [2] and published.segment is not None
    report = merge_files(team["bo"], [team.shared])
    assert report.refused == [] and names(team["bo"]) == ["Ada", "Ben"]
    assert state(team["ann"])["leads"] == state(team["bo"])["leads"]
    assert team.manifest("ann")["withdrawn"] == [2]


def test_the_segment_files_are_gzip_with_a_json_header_and_body(team: Team) -> None:
    """Readable by any tool: zcat shows a header line and the records."""
    team.add("ann", "Ada")
    (ref,) = team.manifest("ann")["segments"]
    header, body = gzip.decompress((team.shared / team["ann"].replica_id / ref["file"]).read_bytes()).split(b"\n", 1)
    assert orjson.loads(header)["format"] == "dealdeck-segment"
    assert [doc["name"] for doc in orjson.loads(body)["tables"]["leads"].values()] == ["Ada"]
