"""A copied data folder keeps the original's replica id: it is detected, refuses to sync
with one line and a fix, and keeps working locally; a move is not a copy. Real folders,
real copies (shutil.copytree is `cp -r`), the command line in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from store.database import Store
from store.errors import StoreError
from store.models import Lead
from store.replica import REPLICA_FILE, load_replica, renew_replica
from sync.errors import SyncError
from sync.exchange import export_to, merge_files
from sync.format import SUFFIX
from tests.sync.conftest import TEAM, legacy_export
from tui.app import DealdeckApp

ROOT = Path(__file__).resolve().parents[2]


def make(folder: Path, rep: str = "ann") -> Path:
    folder.mkdir()
    (folder / "config.yaml").write_text(f"me: {rep}\n{TEAM}")
    with Store(folder) as store:
        store.new(Lead, name=f"{rep}'s lead")
    return folder


def dealdeck(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "tui.cli", *args], capture_output=True, text=True, env=env)


def test_a_copy_refuses_to_sync_and_keeps_working_locally(tmp_path: Path, shared: Path) -> None:
    original = make(tmp_path / "ann")
    copy = tmp_path / "ann-laptop"
    shutil.copytree(original, copy)
    with Store(copy) as store:
        assert store.replica.copied_from == str(original.resolve())
        with pytest.raises(SyncError) as refused:
            export_to(store, shared)
        message = str(refused.value)
        assert "\n" not in message and str(original.resolve()) in message
        assert f"dealdeck sync new-replica --data {copy.resolve()}" in message
        with pytest.raises(SyncError):
            merge_files(store, [shared])
        store.new(Lead, name="Written in the copy")  # local work goes on
        assert store.count(Lead) == 2
    assert list(shared.iterdir()) == []
    with Store(original) as store:  # the original is what it was: it syncs
        assert store.replica.copied_from is None
        export_to(store, shared)


def test_the_command_line_refuses_in_one_line_and_new_replica_fixes_it(tmp_path: Path, shared: Path) -> None:
    original = make(tmp_path / "ann")
    copy = tmp_path / "copy"
    shutil.copytree(original, copy)
    for command in (["sync", "export", str(shared)], ["sync", "merge", str(shared)], ["sync", "git", str(shared)]):
        done = dealdeck(*command, "--data", str(copy))
        assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
        assert "is a copy of" in done.stderr and "dealdeck sync new-replica" in done.stderr
    assert dealdeck("export", "csv", "leads", "--data", str(copy)).returncode == 0
    old = load_replica(original).id
    fixed = dealdeck("sync", "new-replica", "--data", str(copy))
    assert fixed.returncode == 0 and old in fixed.stdout
    new = load_replica(copy).id
    assert new != old and load_replica(copy).copied_from is None
    with Store(copy) as store:
        store.new(Lead, name="Made in the copy")  # a change of the new replica's own
    assert dealdeck("sync", "export", str(shared), "--data", str(original)).returncode == 0
    assert dealdeck("sync", "export", str(shared), "--data", str(copy)).returncode == 0
    assert sorted(p.name for p in shared.iterdir()) == sorted([old, new])
    merged = dealdeck("sync", "merge", str(shared), "--data", str(original))
    assert merged.returncode == 0 and "merged 1 teammate(s)" in merged.stdout  # the copy is a teammate now


def test_a_move_within_the_filesystem_is_not_a_copy(tmp_path: Path, shared: Path) -> None:
    original = make(tmp_path / "ann")
    before = load_replica(original).id
    moved = tmp_path / "elsewhere" / "ann"
    moved.parent.mkdir()
    original.rename(moved)  # `mv`: same inode
    with Store(moved) as store:
        assert (store.replica_id, store.replica.copied_from) == (before, None)
        export_to(store, shared)
    assert orjson.loads((moved / REPLICA_FILE).read_bytes())["folder"]["path"] == str(moved.resolve())


def test_a_restore_or_a_move_to_another_disk_keeps_its_id_with_moved(tmp_path: Path, shared: Path) -> None:
    original = make(tmp_path / "ann")
    before = load_replica(original).id
    restored = tmp_path / "restored"
    shutil.copytree(original, restored)
    shutil.rmtree(original)  # the original is gone: the copy is the one replica now
    refused = dealdeck("sync", "export", str(shared), "--data", str(restored))
    assert refused.returncode == 1 and "--moved" in refused.stderr
    done = dealdeck("sync", "new-replica", "--moved", "--data", str(restored))
    assert done.returncode == 0 and before in done.stdout
    assert (load_replica(restored).id, load_replica(restored).copied_from) == (before, None)
    assert dealdeck("sync", "export", str(shared), "--data", str(restored)).returncode == 0


def test_a_folder_replaced_in_place_is_reported_as_such(tmp_path: Path) -> None:
    original = make(tmp_path / "ann")
    kept = tmp_path / "ann.old"
    original.rename(kept)
    shutil.copytree(kept, original)  # `mv ann ann.old; cp -r ann.old ann`: a new inode at the old path
    with Store(original) as store:
        refusal = store.replica.sync_refusal(store.folder)
    assert refusal is not None and "restored from a backup?" in refusal and "--moved" in refusal
    with Store(kept) as store:  # the folder the id was made for, moved: it still syncs
        assert store.replica.copied_from is None


def test_a_replica_file_of_an_older_version_gets_the_folder_recorded(tmp_path: Path) -> None:
    folder = make(tmp_path / "ann")
    replica = load_replica(folder).id
    (folder / REPLICA_FILE).write_bytes(orjson.dumps({"replica": replica, "created_at": "2026-01-01T00:00:00+00:00"}))
    assert load_replica(folder).copied_from is None
    saved = orjson.loads((folder / REPLICA_FILE).read_bytes())
    assert saved["replica"] == replica and saved["created_at"].startswith("2026-01-01")
    assert saved["folder"]["ino"] == folder.stat().st_ino


def test_new_replica_needs_a_data_folder(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        renew_replica(tmp_path / "nothing")
    done = dealdeck("sync", "new-replica", "--data", str(tmp_path / "nothing"))
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def twin(original: Path, folder: Path, rep: str) -> Path:
    """A folder that has ``original``'s replica id without being detected as its copy (a copy
    made by an older Dealdeck, whose replica.json recorded no folder)."""
    make(folder, rep)
    saved = {"replica": load_replica(original).id, "created_at": "2026-01-01T00:00:00+00:00"}
    (folder / REPLICA_FILE).write_bytes(orjson.dumps(saved))
    return folder


def test_a_merge_says_why_it_passes_over_a_file_with_our_id_that_is_not_ours(tmp_path: Path) -> None:
    ann = make(tmp_path / "ann")
    other_rep = twin(ann, tmp_path / "bo", "bo")
    team = tmp_path / "team"
    team.mkdir()
    with Store(other_rep) as store:
        export_to(store, team)
    replica = load_replica(ann).id
    renamed = team / f"old-laptop{SUFFIX}"
    with Store(ann) as store:
        shutil.copy(legacy_export(store, tmp_path), renamed)  # ann's own export under another name
        report = merge_files(store, [team])
        with pytest.raises(SyncError, match="published by bo, not ann"):
            export_to(store, team)  # nothing is written into the twin's folder
    assert report.files == [] and report.skipped == []
    lines = report.lines()
    assert any(line.startswith(f"not merged {replica}: ") and "published by bo, not ann" in line
               and "dealdeck sync new-replica" in line for line in lines)
    assert any(line.startswith(f"not merged {renamed.name}: ") and "dealdeck sync new-replica" in line
               for line in lines)


async def test_the_app_warns_about_a_copied_folder(tmp_path: Path) -> None:
    original = make(tmp_path / "ann")
    copy = tmp_path / "copy"
    shutil.copytree(original, copy)
    with Store(copy) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            warnings = [str(n.message) for n in app._notifications if n.severity == "warning"]
    assert any("is a copy of" in text and "dealdeck sync new-replica" in text for text in warnings)
