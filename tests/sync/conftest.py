"""Several data folders acting as the replicas of one team, sharing a folder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from store.database import Store
from store.hlc import wall_clock_ms

TEAM = "reps: [{id: ann, name: Ann}, {id: bo, name: Bo}, {id: cy, name: Cy}]\n"


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    folder = tmp_path / "team"
    folder.mkdir()
    return folder


class TeamClock:
    """One wall clock for every replica of a test: the real time, but never the same
    millisecond twice, so that of two edits the later one has the later stamp, whichever
    replica made it (no sleeping to order them)."""

    def __init__(self) -> None:
        self.last = 0

    def __call__(self) -> int:
        self.last = max(self.last + 1, wall_clock_ms())
        return self.last


@pytest.fixture
def replica(tmp_path: Path) -> Iterator[Callable[[str], Store]]:
    """replica("ann") opens (once) the data folder of rep ann."""
    opened: dict[str, Store] = {}
    clock = TeamClock()

    def open_replica(rep: str) -> Store:
        if rep not in opened:
            folder = tmp_path / rep
            folder.mkdir()
            (folder / "config.yaml").write_text(f"me: {rep}\n{TEAM}")
            opened[rep] = Store(folder, wall=clock)
        return opened[rep]

    yield open_replica
    for store in opened.values():
        store.close()


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file() and p.name != ".lock"}


def legacy_export(store: Store, folder: Path) -> Path:
    """This replica's whole state as an export file of the first layout (a rep who has not
    upgraded writes one at every sync)."""
    from sync.legacy import write_export

    return write_export(store, folder, {})


def refused_file(store: Store, path: Path) -> str:
    """Merge ``path`` (a file or a team folder) into ``store``: one file is refused, with one
    line ``<file>: <where>: <problem>``, and the database is left as it was."""
    from sync.exchange import merge_files

    store.storage.compact()
    before = {k: v for k, v in folder_bytes(store.folder).items() if k != "sync-state.json"}
    report = merge_files(store, [path])
    assert {k: v for k, v in folder_bytes(store.folder).items() if k != "sync-state.json"} == before
    assert len(report.refused) == 1, report.lines()
    where, why = report.refused[0]
    message = f"{where.name}: {why}"
    assert "\n" not in message
    return message
