"""Kill a bulk command right after its k-th ``os.replace``, ``os.rename``, ``os.fsync``
or ``os.write``, for every k until it finishes: every folder left behind opens to
exactly the state before the command or the state after it, and ``check`` agrees."""

from __future__ import annotations

import csv
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from store.database import Store
from store.demo import generate_demo
from store.folder_check import check_folder, inspect_folder
from store.models import Lead
from store.records import check_documents
from store.replica import renew_replica
from store.tablefile import json_default
from sync.exchange import export_to, merge_files

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "DEALDECK_TODAY": "2026-11-25"}
TEAM = "me: ann\nreps: [{id: ann, name: Ann}, {id: bo, name: Bo}]\n"

#: Runs the command line with the file system calls counted; dies right after the k-th
#: (k = 0: never), and prints how many there were when it was not killed.
#: Python for a child process: ``count_calls(names)`` counts the calls of those ``os``
#: functions, and the process dies right after the ``kill_at``-th (a global it sets; 0: never).
KILL_SWITCH = """
import os, signal
calls = 0
def counted(real):
    def call(*args, **kwargs):
        global calls
        result = real(*args, **kwargs)
        calls += 1
        if calls == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return result
    return call
def count_calls(names):
    for name in names:
        setattr(os, name, counted(getattr(os, name)))
"""

CHILD = KILL_SWITCH + """
import sys
kill_at, argv = int(sys.argv[1]), sys.argv[2:]
count_calls(("replace", "rename", "fsync", "write"))
from tui.cli import main
status = main(argv)
print(f"calls={calls}", file=sys.stderr)
sys.exit(status)
"""

ID = re.compile(r"^[0-9a-f]{32}$")


def normalised(tables: dict[str, Any]) -> dict[str, list[bytes]]:
    """Each table as a sorted list of its documents without ids, stamps and times (an
    import makes new ids and stamps each run, an undo a new delete stamp): enough to tell
    old, new and half-done."""
    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: "DELETED" if k == "_del" else clean(v) for k, v in value.items()
                    if k not in ("_s", "id", "at") and not k.endswith("_at")}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return "ID" if isinstance(value, str) and ID.match(value) else value
    plain = orjson.loads(orjson.dumps(tables, default=json_default))
    return {name: sorted(orjson.dumps(clean(doc), option=orjson.OPT_SORT_KEYS) for doc in docs.values())
            for name, docs in plain.items() if docs}


def folder_state(folder: Path) -> dict[str, list[bytes]]:
    """The folder's records read-only (as ``check`` reads it), then through a Store
    (which drops an uncommitted tail): both must agree, and both must be sound."""
    tables, problems = inspect_folder(folder)
    assert problems == [] and check_documents(tables) == []
    seen = normalised(tables)
    with Store(folder, lean=False) as store:
        opened = normalised(store.storage.tables)
    assert opened == seen
    assert check_folder(folder) == []
    return seen


def run_killed(kill_at: int, argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CHILD, str(kill_at), *argv], env=ENV, capture_output=True,
                          text=True, timeout=300)


def copy_folder(source: Path, target: Path) -> None:
    """A copy that stands in for ``source`` (which never syncs again): told it was moved,
    so that sync does not refuse it as a copy (see ``store.replica``)."""
    shutil.copytree(source, target)
    renew_replica(target, moved=True)


def every_crash_point(before: Path, work: Path, argv: Callable[[Path], list[str]]) -> int:
    """Run the command on a copy of ``before`` killed after each call in turn; return how
    many crash points there were."""
    old = folder_state(before)
    complete = work / "complete"
    copy_folder(before, complete)
    finished = run_killed(0, argv(complete))
    assert finished.returncode == 0, finished.stderr
    new = folder_state(complete)
    assert new != old
    total = int(re.findall(r"calls=(\d+)", finished.stderr)[-1])
    for k in range(1, total + 1):
        target = work / f"k{k}"
        copy_folder(before, target)
        result = run_killed(k, argv(target))
        if result.returncode != -signal.SIGKILL:
            assert result.returncode == 0, result.stderr
        state = folder_state(target)
        assert state in (old, new), f"killed after call {k} of {total}: neither the old nor the new state"
        shutil.rmtree(target)
    return total


def base_folder(folder: Path, leads: int) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(TEAM)
    with Store(folder) as store:
        for i in range(leads):
            store.new(Lead, name=f"old {i}")
        store.storage.compact()
    return folder


@pytest.mark.slow
def test_a_bulk_import_killed_anywhere_leaves_the_old_or_the_new_state(tmp_path: Path) -> None:
    before = base_folder(tmp_path / "before", 30)
    rows = tmp_path / "leads.csv"
    with rows.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["Name", "Company", "Email"])
        writer.writerows([f"new {i}", f"co {i}", f"n{i}@example.com"] for i in range(2500))
    points = every_crash_point(before, tmp_path, lambda f: ["import", "csv", str(rows), "--as", "leads",
                                                            "--data", str(f)])
    assert points >= 4  # three journal lines and their fsync, at least


def teammate_export(tmp_path: Path, leads: int = 400) -> Path:
    """A team folder holding a teammate's first segment."""
    bo = tmp_path / "bo"
    generate_demo(bo, reps=2, leads=leads, seed=3)
    (tmp_path / "team").mkdir()
    with Store(bo) as store:
        export_to(store, tmp_path / "team")
    return tmp_path / "team"


@pytest.mark.slow
def test_a_merge_killed_anywhere_leaves_the_old_or_the_new_state(tmp_path: Path) -> None:
    export = teammate_export(tmp_path)
    before = base_folder(tmp_path / "before", 5)
    every_crash_point(before, tmp_path, lambda f: ["sync", "merge", str(export), "--data", str(f)])


@pytest.mark.slow
def test_a_demo_fill_killed_anywhere_leaves_the_old_or_the_new_state(tmp_path: Path) -> None:
    before = tmp_path / "before"
    before.mkdir()
    (before / "config.yaml").write_text(TEAM)
    every_crash_point(before, tmp_path, lambda f: ["demo", "--reps", "2", "--leads", "250", "--seed", "5",
                                                   "--data", str(f)])


@pytest.mark.slow
def test_an_undo_killed_anywhere_leaves_the_old_or_the_new_state(tmp_path: Path) -> None:
    export = teammate_export(tmp_path, leads=300)
    before = base_folder(tmp_path / "before", 5)
    with Store(before) as store:
        merge_files(store, [export])
        store.storage.compact()
    every_crash_point(before, tmp_path, lambda f: ["sync", "undo", "--data", str(f)])


@pytest.mark.slow
def test_a_publish_killed_anywhere_leaves_a_team_folder_that_merges(tmp_path: Path) -> None:
    """Killed after any call of ``sync export``, the team folder's manifest names only whole
    segments: a teammate merges the old state or the new one, and the next publish goes on."""
    ann = base_folder(tmp_path / "ann", 3)
    team = tmp_path / "team"
    team.mkdir()
    assert run_killed(0, ["sync", "export", str(team), "--data", str(ann)]).returncode == 0
    with Store(ann) as store:
        for i in range(40):
            store.new(Lead, name=f"later {i}")
    old, new = 3, 43

    def attempt(k: int) -> tuple[Path, Path, subprocess.CompletedProcess[str]]:
        data, copy = tmp_path / f"ann-{k}", tmp_path / f"team-{k}"
        copy_folder(ann, data)
        shutil.copytree(team, copy)
        return data, copy, run_killed(k, ["sync", "export", str(copy), "--data", str(data)])

    _, _, finished = attempt(0)
    total = int(re.findall(r"calls=(\d+)", finished.stderr)[-1])
    assert total >= 4  # the segment and the manifest, each written, fsync'd and renamed
    for k in range(1, total + 1):
        data, copy, _ = attempt(k)
        assert teammate_sees(tmp_path / f"bo-{k}", copy) in (old, new), f"killed after call {k} of {total}"
        assert run_killed(0, ["sync", "export", str(copy), "--data", str(data)]).returncode == 0
        assert teammate_sees(tmp_path / f"cy-{k}", copy) == new


def teammate_sees(folder: Path, team: Path) -> int:
    """How many leads a new teammate has after merging ``team``; nothing may be refused."""
    folder.mkdir()
    (folder / "config.yaml").write_text(TEAM.replace("me: ann", "me: bo"))
    with Store(folder) as store:
        report = merge_files(store, [team])
        assert report.refused == [] and report.waiting == [], report.lines()
        return store.count(Lead)
