"""Bulk writes (imports, merges, demo fills) share one commit protocol with small
writes: every process on the folder sees them, and none writes over them."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from store.database import Store
from store.demo import generate_demo
from store.folder_check import check_folder, inspect_folder
from store.models import Lead
from sync.exchange import export_to, merge_files

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "DEALDECK_TODAY": "2026-11-25"}
TEAM = "me: ann\nreps: [{id: ann, name: Ann}, {id: bo, name: Bo}]\n"


def lead_csv(path: Path, prefix: str, rows: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["Name", "Company", "Email"])
        for i in range(rows):
            writer.writerow([f"{prefix} person {i}", f"{prefix} company {i}", f"{prefix}.{i}@example.com"])
    return path


def dealdeck(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tui.cli", *args], env=ENV, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(procs: list[subprocess.Popen[str]]) -> list[str]:
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        outs.append(out)
    return outs


def team_folder(folder: Path, leads: int) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(TEAM)
    with Store(folder) as store, store.writing() as writer:
        for i in range(leads):
            writer.insert(store.validate(Lead, {"name": f"old {i}", "owner": "ann"}))
    return folder


def teammate_export(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    """A team folder holding a teammate's segment of a few thousand records (a bulk merge)."""
    bo = tmp_path / "bo"
    generate_demo(bo, reps=2, leads=400, seed=3)
    with Store(bo) as store:
        (tmp_path / "team").mkdir(exist_ok=True)
        export_to(store, tmp_path / "team")
        path = tmp_path / "team"
        counts = {table: sum(1 for _ in store.storage.tables[table]) for table in store.storage.tables}
    assert sum(counts.values()) > 2000
    return path, counts


def lead_names(folder: Path) -> list[str]:
    with Store(folder, lean=False) as store:
        return [doc["name"] for doc in store.storage.tables["leads"].values()]


def test_an_open_store_keeps_another_sessions_bulk_import_through_its_own_compaction(tmp_path: Path) -> None:
    folder = team_folder(tmp_path / "data", 400)
    app = Store(folder, journal_limit=64 * 1024)  # like the app: open the whole time
    try:
        result = subprocess.run([sys.executable, "-m", "tui.cli", "import", "csv",
                                 str(lead_csv(tmp_path / "a.csv", "a", 2500)), "--as", "leads",
                                 "--data", str(folder)], env=ENV, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        for i in range(200):  # small writes, enough to make the open store compact
            app.new(Lead, name=f"app {i}")
        assert app.count(Lead) == 400 + 2500 + 200
    finally:
        app.close()
    names = lead_names(folder)
    assert len(names) == len(set(names)) == 400 + 2500 + 200
    assert check_folder(folder) == []


def test_a_merge_in_another_process_is_kept_by_the_open_store(tmp_path: Path) -> None:
    export, counts = teammate_export(tmp_path)
    folder = team_folder(tmp_path / "data", 10)
    app = Store(folder, journal_limit=64 * 1024)
    try:
        finish([dealdeck("sync", "merge", str(export), "--data", str(folder))])
        for i in range(200):
            app.new(Lead, name=f"app {i}")
        app.storage.compact()
    finally:
        app.close()
    with Store(folder, lean=False) as store:
        assert len(store.storage.tables["leads"]) == counts["leads"] + 10 + 200
        assert len(store.storage.tables["activities"]) == counts["activities"]


@pytest.mark.slow
@pytest.mark.parametrize("importers", [2, 4])
def test_processes_doing_bulk_and_small_writes_at_once_lose_nothing(tmp_path: Path, importers: int) -> None:
    export, counts = teammate_export(tmp_path)
    folder = team_folder(tmp_path / "data", 400)
    app = Store(folder, journal_limit=256 * 1024)
    rows = 2500
    try:
        procs = [dealdeck("import", "csv", str(lead_csv(tmp_path / f"{n}.csv", f"imp{n}", rows)),
                          "--as", "leads", "--data", str(folder)) for n in range(importers)]
        procs.append(dealdeck("sync", "merge", str(export), "--data", str(folder)))
        procs.append(subprocess.Popen([sys.executable, "-c", SMALL_WRITER, str(folder), "60"], env=ENV, text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        for i in range(60):  # the open store writes while the others do
            app.new(Lead, name=f"app {i}")
            app.refresh()
        outs = finish(procs)
        assert all(f"imported leads: {rows} added" in out for out in outs[:importers])
        app.refresh()
        expected = 400 + importers * rows + counts["leads"] + 60 + 60
        assert app.count(Lead) == expected
    finally:
        app.close()
    names = lead_names(folder)
    assert len(names) == expected
    for n in range(importers):
        assert sum(name.startswith(f"imp{n} ") for name in names) == rows
    assert sum(name.startswith("small ") for name in names) == 60
    assert sum(name.startswith("app ") for name in names) == 60
    assert check_folder(folder) == []


SMALL_WRITER = """
import sys
from store.database import Store
from store.models import Lead
with Store(sys.argv[1]) as store:
    for i in range(int(sys.argv[2])):
        store.new(Lead, name=f"small {i}")
"""


def test_a_merge_and_a_demo_sized_write_are_journal_lines_others_replay(tmp_path: Path) -> None:
    """Two stores in one process take turns like two processes: the second one picks
    up a bulk merge by replaying the journal, not by trusting its own tables."""
    export, counts = teammate_export(tmp_path)
    folder = team_folder(tmp_path / "data", 5)
    first, second = Store(folder), Store(folder)
    try:
        merge_files(first, [export])
        assert second.refresh()
        assert second.count(Lead) == counts["leads"] + 5
        second.new(Lead, name="after")
        second.storage.compact()
        assert first.refresh()
        assert first.count(Lead) == counts["leads"] + 6
    finally:
        first.close()
        second.close()


def test_a_transaction_without_its_last_line_is_not_committed_and_is_dropped(tmp_path: Path) -> None:
    """A writer killed between the lines of a big transaction leaves lines marked part:
    readers never apply them, and the next writer cuts them off."""
    folder = team_folder(tmp_path / "data", 3)
    with Store(folder) as store:
        store.storage.compact()
        lead = store.validate(Lead, {"name": "never", "owner": "ann"}).model_dump(mode="json")
    journal = folder / "journal.jsonl"
    committed = journal.read_bytes()
    stamped = {**lead, "_s": {"*": "0" * 16 + ":0000:" + "a" * 16}}
    part = orjson.dumps({"v": 1, "part": [["leads", stamped]]})
    journal.write_bytes(committed + part + b"\n")
    tables, problems = inspect_folder(folder)
    assert problems == [] and len(tables["leads"]) == 3
    with Store(folder) as store:
        assert store.count(Lead) == 3
        store.new(Lead, name="next")
    with Store(folder) as store:
        assert sorted(doc["name"] for doc in store.rows(Lead)) == ["next", "old 0", "old 1", "old 2"]
    assert check_folder(folder) == []


def test_a_stale_temp_file_of_a_dead_process_is_removed_on_open(tmp_path: Path) -> None:
    folder = team_folder(tmp_path / "data", 1)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = folder / f".leads.json.{dead.stdout.strip()}.tmp"
    stale.write_bytes(b"half a table file")
    ours = folder / f".leads.json.{os.getpid()}.tmp"  # a live process's: still being written
    ours.write_bytes(b"in progress")
    Store(folder).close()
    assert not stale.exists() and ours.exists()


def test_opening_a_folder_or_a_refused_merge_makes_no_backups(tmp_path: Path) -> None:
    folder = team_folder(tmp_path / "data", 5)
    with Store(folder) as store:
        store.storage.compact()
    shutil.rmtree(folder / "backups", ignore_errors=True)
    team = tmp_path / "team"
    team.mkdir()
    (team / "x.dealdeck.json").write_bytes(b'{"format": "something else"}')
    for _ in range(3):
        result = subprocess.run([sys.executable, "-m", "tui.cli", "sync", "merge", str(team), "--data", str(folder)],
                                env=ENV, capture_output=True, text=True, timeout=120)
        assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert not (folder / "backups").exists() or list((folder / "backups").iterdir()) == []


@pytest.mark.slow
def test_a_demo_fill_is_kept_by_a_store_that_was_open_before_it(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "config.yaml").write_text(TEAM)
    app = Store(folder, journal_limit=64 * 1024)  # open on the empty folder, as the app would be
    try:
        app.storage.compact()  # it has read a journal (a new generation's header)
        out = finish([dealdeck("demo", "--reps", "2", "--leads", "300", "--seed", "5", "--data", str(folder))])[0]
        demo_leads = int(re.search(r"wrote (\d+) leads", out).group(1))  # type: ignore[union-attr]
        for i in range(200):  # enough to make the open store compact over the demo's files
            app.new(Lead, name=f"app {i}")
        assert app.count(Lead) == demo_leads + 200
    finally:
        app.close()
    assert len(lead_names(folder)) == demo_leads + 200
    assert check_folder(folder) == []


#: Runs the command line with one kind of file system call failing as on a full disk.
FULL_DISK = """
import errno, os, sys
failing, argv = sys.argv[1], sys.argv[2:]
real = getattr(os, failing)
def no_space(*args, **kwargs):
    if failing == "write":
        real(args[0], args[1][:100])  # part of a line gets out first
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
setattr(os, failing, no_space)
from tui.cli import main
sys.exit(main(argv))
"""


def test_a_commit_that_fails_on_a_full_disk_leaves_nothing_and_says_so_in_one_line(tmp_path: Path) -> None:
    folder = team_folder(tmp_path / "data", 10)
    rows = lead_csv(tmp_path / "a.csv", "a", 2500)
    before = (folder / "journal.jsonl").read_bytes()
    result = subprocess.run([sys.executable, "-c", FULL_DISK, "write", "import", "csv", str(rows), "--as", "leads",
                             "--data", str(folder)], env=ENV, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert "No space left on device" in result.stderr and "Traceback" not in result.stderr
    assert (folder / "journal.jsonl").read_bytes() == before  # the half-written line was cut off
    assert len(lead_names(folder)) == 10
    assert check_folder(folder) == []


def test_a_fold_that_fails_after_the_commit_keeps_the_commit(tmp_path: Path) -> None:
    """Once the journal is fsync'd the import has happened: a fold that then fails (the
    table files cannot be replaced) must not make it look failed, or a retry doubles it."""
    folder = team_folder(tmp_path / "data", 10)
    rows = lead_csv(tmp_path / "a.csv", "a", 7000)  # past the journal's limit: a fold follows
    result = subprocess.run([sys.executable, "-c", FULL_DISK, "replace", "import", "csv", str(rows), "--as", "leads",
                             "--data", str(folder)], env=ENV, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "imported leads: 7000 added" in result.stdout, result.stderr
    assert len(lead_names(folder)) == 7010
    assert check_folder(folder) == []


def test_a_big_transactions_part_lines_have_no_puts_so_an_older_reader_refuses_them(tmp_path: Path) -> None:
    """A Dealdeck from before part lines applies every line that has ``puts``: a part line
    must not have them, or it would apply half of an interrupted transaction."""
    folder = team_folder(tmp_path / "data", 2500)
    with Store(folder) as store:
        store.storage.compact()
    with Store(folder, journal_limit=1 << 30) as store, store.writing() as writer:
        for i in range(2500):
            writer.insert(store.validate(Lead, {"name": f"bulk {i}", "owner": "ann"}))
    lines = [orjson.loads(line) for line in (folder / "journal.jsonl").read_bytes().splitlines()[1:]]
    assert [len(line.get("part", line.get("puts", []))) for line in lines] == [1000, 1000, 500]
    assert ["puts" in line for line in lines] == [False, False, True]
    assert len(lead_names(folder)) == 5000
