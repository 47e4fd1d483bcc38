"""The activity log on disk (``store.activity_store``): its index rebuilt from the log
gives the same timelines and figures; a kill in the middle of a fold (the append, the
index) opens to the old or the new state; a folder from before the log is moved to it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from array import array
from base64 import b64decode, b64encode
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest

from store.database import Store
from store.demo import generate_demo
from store.folder_check import check_folder, inspect_folder
from store.models import Activity, Customer, Lead, Opportunity
from store.queries import ACTIVITY_LINKS
from store.storage import TABLE_GROUPS
from store.tablefile import table_file_pieces
from tests.test_crash_points import KILL_SWITCH

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 30)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "data"
    generate_demo(folder, leads=120, reps=3, seed=4, today=TODAY, id_seed=2)
    return folder


def copy_of(folder: Path, to: Path) -> Path:
    to.mkdir()
    for path in folder.iterdir():
        if path.is_file():
            (to / path.name).write_bytes(path.read_bytes())
    index = orjson.loads(index_path(to).read_bytes())
    Store(to).close()  # a copy is another file: its index is written anew for it
    assert orjson.loads(index_path(to).read_bytes())["log"]["inode"] != index["log"]["inode"]
    return to


def timelines(folder: Path) -> dict[str, Any]:
    """Every linked record's activities (ids, in order), the digest, and the whole log."""
    with Store(folder) as store:
        links = store.links(Activity, *ACTIVITY_LINKS)
        digest = store.activity_digest()
        return {
            "links": {field: {key: [doc["id"] for doc in links[field][key]] for key in links[field]}
                      for field in ACTIVITY_LINKS},
            "deals": digest.last_by_deal(), "customers": digest.last_by_customer(),
            "days": sorted((d.owner, d.at, d.count, len(d.lead_keys)) for d in digest.days()),
            "rows": sorted(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS) for doc in store.rows(Activity)),
        }


def index_path(folder: Path) -> Path:
    return folder / "activities.index.json"


def test_the_log_is_json_lines_with_an_index_beside_it(demo: Path) -> None:
    lines = (demo / "activities.jsonl").read_bytes().splitlines()
    assert orjson.loads(lines[0])["format"] == "dealdeck-log"
    assert all(orjson.loads(line)["id"] for line in lines[1:])
    with Store(demo) as store:
        assert len(lines) - 1 == store.count(Activity) > 300
    assert orjson.loads(index_path(demo).read_bytes())["format"] == "dealdeck-log-index"
    assert not (demo / "activities.json").exists() and (demo / "tasks.json").exists()


@pytest.mark.parametrize("damage", ["deleted", "truncated", "emptied", "of another log", "behind the log"])
def test_a_missing_or_stale_index_is_rebuilt_with_the_same_timelines(demo: Path, tmp_path: Path,
                                                                    damage: str) -> None:
    folder = copy_of(demo, tmp_path / "data")
    before = timelines(folder)
    index = index_path(folder)
    if damage == "deleted":
        index.unlink()
    elif damage == "truncated":
        index.write_bytes(index.read_bytes()[: index.stat().st_size // 2])
    elif damage == "emptied":
        index.write_bytes(b"")
    elif damage == "of another log":  # the log copied anew: another file, the same bytes
        log = folder / "activities.jsonl"
        log.rename(folder / "old.jsonl")
        log.write_bytes((folder / "old.jsonl").read_bytes())
    else:  # the index of before a fold that appended lines (a kill between the two)
        old_index = index.read_bytes()
        with Store(folder) as store:
            customer = next(iter(store.rows(Customer)))["id"]
            for n in range(3):
                store.log_activity("call", customer_id=customer, subject=f"call {n}")
            store.storage.compact()
        before = timelines(folder)
        index.write_bytes(old_index)
        assert check_folder(folder) == []  # an index behind its log is no damage
    assert timelines(folder) == before
    assert orjson.loads(index.read_bytes())["format"] == "dealdeck-log-index"  # written again
    assert check_folder(folder) == []


def test_check_names_an_index_that_points_at_the_wrong_lines(demo: Path, tmp_path: Path) -> None:
    folder = copy_of(demo, tmp_path / "data")
    data = orjson.loads(index_path(folder).read_bytes())
    offsets = array("q", b64decode(data["offsets"]))
    offsets[3], offsets[4] = offsets[4], offsets[3]
    data["offsets"] = b64encode(offsets.tobytes()).decode()
    index_path(folder).write_bytes(orjson.dumps(data))
    problems = [str(problem) for problem in check_folder(folder)]
    assert len(problems) == 1 and "points 2 record(s) at the wrong line" in problems[0]
    index_path(folder).write_bytes(b"{")
    assert "is damaged; delete it" in str(check_folder(folder)[0])


def test_a_new_activity_is_found_by_its_links_before_and_after_a_fold(demo: Path, tmp_path: Path) -> None:
    folder = copy_of(demo, tmp_path / "data")
    with Store(folder) as store:
        customer = next(iter(store.rows(Customer)))["id"]
        before = len(store.links(Activity, "customer_id")["customer_id"].get(customer, ()))
        logged = store.log_activity(kind="call", subject="Renewal call", customer_id=customer)
        assert store.links(Activity, "customer_id")["customer_id"][customer][-1]["id"] == logged.id
        store.storage.compact()
        assert store.storage.tables["activities"][logged.id]["subject"] == "Renewal call"
    with Store(folder) as store:
        group = store.links(Activity, "customer_id")["customer_id"][customer]
        assert len(group) == before + 1 and group[-1]["subject"] == "Renewal call"
    assert check_folder(folder) == []


def test_another_process_sees_what_a_fold_appended(demo: Path, tmp_path: Path) -> None:
    folder = copy_of(demo, tmp_path / "data")
    with Store(folder) as reader, Store(folder) as writer:
        lead = next(iter(reader.rows(Lead)))["id"]
        logged = writer.log_activity(kind="email", subject="Sent the quote", lead_id=lead)
        writer.storage.compact()  # appended to the log; the journal set aside
        logged_again = writer.log_activity(kind="note", subject="Called back", lead_id=lead)
        reader.refresh()
        group = [doc["subject"] for doc in reader.links(Activity, "lead_id")["lead_id"][lead]]
        assert group[-2:] == ["Sent the quote", "Called back"]
        assert reader.storage.tables["activities"].get(logged.id)["subject"] == "Sent the quote"
        assert logged_again.id in reader.storage.tables["activities"]


def test_a_folder_from_before_the_log_moves_to_it_once(demo: Path, tmp_path: Path) -> None:
    """Activities and tasks in one table file (Dealdeck until 2026-12-07): the first open
    writes the log and the tasks file, and keeps the old file among the backups."""
    folder = copy_of(demo, tmp_path / "data")
    before = timelines(folder)
    with Store(folder, lean=False) as store:
        tables = {"activities": dict(store.storage.tables["activities"].items()),
                  "tasks": dict(store.storage.tables["tasks"])}
        clock = store.storage.clock
    (folder / "activities.json").write_bytes(b"".join(table_file_pieces(tables, ("activities", "tasks"), clock, 1)))
    for name in ("activities.jsonl", "activities.index.json", "tasks.json"):
        (folder / name).unlink()
    assert check_folder(folder) == []  # check reads the old layout as it is
    assert timelines(folder) == before
    assert not (folder / "activities.json").exists()
    assert list((folder / "backups").glob("activities.before-log.*.json"))
    assert timelines(folder) == before


#: Logs three activities and folds, dying right after the k-th os call of the fold
#: (k = 0: never); prints how many calls the fold made.
KILLED_FOLD = KILL_SWITCH + """
import sys
from store.database import Store
folder, kill_at = sys.argv[1], int(sys.argv[2])
store = Store(folder)
customer = next(iter(store.storage.tables["customers"]))
for n in range(3):
    store.log_activity(kind="call", subject=f"call {n}", customer_id=customer)
count_calls(("replace", "fsync", "write", "ftruncate"))
store.storage.compact()
print(calls)
"""


def test_a_kill_anywhere_in_a_fold_opens_to_the_old_or_the_new_log(demo: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def run(kill_at: int) -> subprocess.CompletedProcess[str]:
        folder = copy_of(demo, tmp_path / f"k{kill_at}")
        return subprocess.run([sys.executable, "-c", KILLED_FOLD, str(folder), str(kill_at)], env=env,
                              capture_output=True, text=True, timeout=120)

    whole = run(0)
    assert whole.returncode == 0, whole.stderr
    calls = int(whole.stdout)
    assert calls >= 6  # the log's append and fsync, the index, the table files, the journal
    with Store(tmp_path / "k0") as store:
        expected = timelines(tmp_path / "k0")
        assert sum(1 for doc in store.rows(Activity) if doc.get("subject", "").startswith("call ")) == 3
    for kill_at in range(1, calls + 1):
        killed = run(kill_at)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        folder = tmp_path / f"k{kill_at}"
        assert check_folder(folder) == [], kill_at
        tables, _ = inspect_folder(folder)
        assert sum(1 for doc in tables["activities"].values() if doc.get("subject", "").startswith("call ")) == 3
        got = timelines(folder)
        # The new activities' ids differ per run: compare everything else, and their count.
        assert got["days"] == expected["days"], kill_at
        assert len(got["rows"]) == len(expected["rows"]), kill_at
        assert {k: len(v) for k, v in got["links"]["customer_id"].items()} == \
            {k: len(v) for k, v in expected["links"]["customer_id"].items()}, kill_at
        assert check_folder(folder) == [], kill_at  # the open cut a torn tail, rebuilt the index


def test_the_groups_are_the_log_and_table_files() -> None:
    assert TABLE_GROUPS["activities"] == ("activities",) and TABLE_GROUPS["tasks"] == ("tasks",)
    assert Opportunity.table in TABLE_GROUPS["pipeline"]
