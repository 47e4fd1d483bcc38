"""A clock repair sets the folder's committed clock back (``Transaction.set_clock``):
every later open, every session that was open during the repair, and a folder left by
a repair killed before its fold, start from the repaired clock, not the one that ran
ahead. The wall clock is injected; nothing reads the real time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from store.database import Store
from store.folder_check import check_folder
from store.hlc import Stamp
from store.models import Lead

NOW = int(datetime(2025, 6, 2, 9, 0, tzinfo=UTC).timestamp() * 1000)
IN_2030 = int(datetime(2030, 1, 1, tzinfo=UTC).timestamp() * 1000)
TEAM = "me: ann\nreps: [{id: ann, name: Ann}]\n"


def ran_ahead(folder: Path) -> str:
    """A folder with a lead saved while the system clock said 2030; returns its id."""
    folder.mkdir()
    (folder / "config.yaml").write_text(TEAM)
    with Store(folder, wall=lambda: IN_2030) as store:
        return store.new(Lead, name="from 2030").id


def wall_of(stamp: str) -> int:
    return Stamp.parse(stamp).wall_ms


def test_after_the_repair_every_new_open_starts_from_the_repaired_clock(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    lead_id = ran_ahead(folder)
    with Store(folder, wall=lambda: NOW) as store:
        assert store.clock_warning() is not None
        store.repair_clock()
        assert wall_of(store.storage.clock) <= NOW
    with Store(folder, wall=lambda: NOW + 1000) as store:
        assert store.clock_warning() is None
        assert wall_of(store.storage.clock) <= NOW
        store.update(Lead, lead_id, notes="edited after the repair")
        stamp = store.storage.tables["leads"][lead_id]["_s"]["notes"]
        assert NOW <= wall_of(stamp) <= NOW + 1000
    assert (folder / "clock-repair.json").exists() is False
    assert check_folder(folder) == []


def test_a_session_open_during_the_repair_starts_again_from_it(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    lead_id = ran_ahead(folder)
    open_before = Store(folder, wall=lambda: NOW)  # e.g. the app, refusing to save
    try:
        assert open_before.clock_warning() is not None
        with Store(folder, wall=lambda: NOW) as repairing:
            repairing.repair_clock()
        open_before.refresh()
        assert open_before.clock_warning() is None
        open_before.update(Lead, lead_id, title="saved again")
    finally:
        open_before.close()


KILLED_REPAIR = """
import os, signal, sys
from store.database import Store
store = Store(sys.argv[1], wall=lambda: int(sys.argv[2]))
real_replace = os.replace
def replace_then_die(*args, **kwargs):  # the fold's first file replaced, then killed
    real_replace(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)
os.replace = replace_then_die
store.repair_clock()
"""


def test_a_repair_killed_in_its_fold_still_sets_the_clock_back(tmp_path: Path) -> None:
    """The repair's journal line says the clock is set, not raised: replayed over table
    files whose headers still name 2030, it wins, and the next fold rewrites them all."""
    folder = tmp_path / "data"
    ran_ahead(folder)
    with Store(folder) as store:
        store.storage.compact()  # every table file's header now names the 2030 clock
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    killed = subprocess.run([sys.executable, "-c", KILLED_REPAIR, str(folder), str(NOW)], env=env,
                            capture_output=True, text=True, timeout=60)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with Store(folder, wall=lambda: NOW) as store:
        assert store.clock_warning() is None and wall_of(store.storage.clock) <= NOW
        store.storage.compact()
    headers = [(folder / f"{group}.json").read_bytes().split(b"\n", 1)[0] for group in
               ("leads", "pipeline", "customers", "tasks", "service")]
    assert all(b'"clock":"0001893456000000' not in header for header in headers)
    assert check_folder(folder) == []


def test_a_session_open_during_the_repair_does_not_put_the_clock_back_with_a_merge(tmp_path: Path) -> None:
    from sync.exchange import export_to, merge_files

    folder = tmp_path / "data"
    ran_ahead(folder)
    team = "reps: [{id: ann, name: Ann}, {id: bo, name: Bo}]\n"
    (folder / "config.yaml").write_text("me: ann\n" + team)
    bo_folder, shared = tmp_path / "bo", tmp_path / "team"
    bo_folder.mkdir()
    shared.mkdir()
    (bo_folder / "config.yaml").write_text("me: bo\n" + team)
    with Store(bo_folder, wall=lambda: NOW) as bo:
        bo.new(Lead, name="Bo's lead")
        export_to(bo, shared)
    app = Store(folder, wall=lambda: NOW)  # open before the repair, its clock still in 2030
    try:
        with Store(folder, wall=lambda: NOW) as repairing:
            repairing.repair_clock()
        merge_files(app, [shared])  # the app syncs before its next refresh
    finally:
        app.close()
    with Store(folder, wall=lambda: NOW) as later:
        assert later.clock_warning() is None and wall_of(later.storage.clock) <= NOW + 1000
        later.new(Lead, name="saved")


def test_check_reports_a_committed_clock_ahead_even_when_no_record_is(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from tui.cli import main

    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "config.yaml").write_text(TEAM)
    year_2100 = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp() * 1000)  # the command line reads the real clock
    with Store(folder, wall=lambda: year_2100) as store, store.writing() as writer:
        writer.txn.set_clock(store.clock.now())  # a clock that ran ahead, no record stamped with it
    assert main(["check", "--data", str(folder)]) == 1
    assert "this folder's clock" in capsys.readouterr().err
    assert main(["check", "--repair-clock", "--data", str(folder)]) == 0
    assert main(["check", "--data", str(folder)]) == 0
