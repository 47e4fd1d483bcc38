"""Durability of the data folder: crashes, concurrent processes, damage, migration."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import orjson
import pytest

from store import journal, table_loading, tablefile
from store import storage as storage_module
from store.activity_store import LOG_SCHEMA
from store.database import Store
from store.errors import CorruptFileError, StoreError
from store.folder_check import check_folder
from store.models import Customer, Lead, Opportunity
from store.storage import JOURNAL_NAME, DurableStorage
from store.tablefile import SCHEMA_VERSION, EncodedList, PackedTable, json_default, read_table_file

ROOT = Path(__file__).resolve().parents[2]


def run_child(code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run Python code in a real child process with the project importable."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], env=env,
                          capture_output=True, text=True, timeout=timeout)


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.json*"))}


def notes_of(folder: Path, lead_id: str) -> str:
    with Store(folder) as store:
        return store.require(Lead, lead_id).notes


def test_writes_survive_reopen_through_the_journal_and_after_compaction(folder: Path) -> None:
    store = Store(folder)
    lead = store.new(Lead, name="Ada")
    store.update(Lead, lead.id, notes="journal only")
    assert (folder / JOURNAL_NAME).stat().st_size > 0
    # A second process view before compaction sees the journaled write.
    with Store(folder) as other:
        assert other.require(Lead, lead.id).notes == "journal only"
    store.close()  # a short journal is kept: replaying it at open is cheap
    assert notes_of(folder, lead.id) == "journal only"
    with Store(folder) as store:
        store.storage.compact()
        assert b"journal only" not in (folder / JOURNAL_NAME).read_bytes()
        assert b"journal only" in (folder / "leads.json").read_bytes()
    assert notes_of(folder, lead.id) == "journal only"


def test_close_folds_a_big_journal(folder: Path) -> None:
    with Store(folder, journal_limit=4000) as store:
        lead = store.new(Lead, name="Ada")
        for i in range(3):
            store.update(Lead, lead.id, notes=f"v{i}" * 200)
        assert (folder / JOURNAL_NAME).stat().st_size > 2000
    assert (folder / JOURNAL_NAME).stat().st_size < 200  # only the generation header
    assert notes_of(folder, lead.id) == "v2" * 200


def test_the_app_folds_its_journal_at_exit_when_no_other_session_is_open(folder: Path) -> None:
    """The README: what the app wrote is in the table files once the last session on the
    folder has closed; while another is open, the journal is kept (a fold would cost it a
    catch-up), and the last to close folds it."""
    with Store(folder) as setup:
        setup.new(Customer, name="Acme")
        setup.storage.compact()  # every table file written: nothing forces a fold
    app = Store(folder, fold_at_close=True)
    lead = app.new(Lead, name="Ada", notes="written in the app")
    other = Store(folder, fold_at_close=True)  # a second session (another terminal)
    other.update(Lead, lead.id, title="and in the other")
    app.close()
    assert b"written in the app" in (folder / JOURNAL_NAME).read_bytes()  # the other is still open
    assert b"written in the app" not in (folder / "leads.json").read_bytes()
    other.close()  # the last one out folds
    journal_bytes = (folder / JOURNAL_NAME).read_bytes()
    assert journal_bytes.count(b"\n") == 1 and b"puts\":[]" in journal_bytes  # only a generation header
    leads_file = (folder / "leads.json").read_bytes()
    assert b"written in the app" in leads_file and b"and in the other" in leads_file
    with Store(folder) as reopened:
        assert reopened.require(Lead, lead.id).title == "and in the other"


def test_a_session_that_only_read_or_a_one_shot_command_leaves_the_files_alone(folder: Path) -> None:
    with Store(folder) as setup:
        setup.new(Customer, name="Acme")
        setup.storage.compact()
    with Store(folder) as command:  # a one-shot command: its short journal is cheap to replay
        lead = command.new(Lead, name="Ada")
    before = folder_bytes(folder)
    assert b"Ada" in before[JOURNAL_NAME]
    with Store(folder, fold_at_close=True) as reader:  # the app, opened and closed without a change
        assert reader.require(Lead, lead.id).name == "Ada"
    assert folder_bytes(folder) == before  # opening or reading a folder writes nothing


def test_another_session_follows_one_compaction_without_rereading_the_files(folder: Path) -> None:
    with Store(folder) as setup:
        settled = setup.new(Customer, name="Acme")
        lead = setup.new(Lead, name="Ada")
        setup.storage.compact()
    mine, theirs = Store(folder), Store(folder)
    mine.update(Lead, lead.id, notes="before their compaction")
    theirs.refresh()
    mine.update(Lead, lead.id, title="appended, then folded by them")
    theirs_customers = theirs.storage.tables["customers"]
    mine.storage.compact()
    mine.update(Lead, lead.id, company="after the compaction")
    assert theirs.refresh()
    # Same table objects: caught up from the journals, not by re-reading every file.
    assert theirs.storage.tables["customers"] is theirs_customers
    seen = theirs.require(Lead, lead.id)
    assert (seen.notes, seen.title, seen.company) == (
        "before their compaction", "appended, then folded by them", "after the compaction")
    assert theirs.require(Customer, settled.id).name == "Acme"
    mine.close()
    theirs.close()


def test_a_session_that_followed_a_compaction_keeps_the_other_tables_changes(folder: Path) -> None:
    with Store(folder) as setup:
        lead = setup.new(Lead, name="Ada")
        setup.storage.compact()
    a, b = Store(folder), Store(folder)
    b.update(Lead, lead.id, notes="b, before a compacts")
    a.storage.compact()                       # B's line is folded; journal.prev is B's old journal
    customer = a.new(Customer, name="Acme")   # customers.json is now behind the new journal
    b.update(Lead, lead.id, title="b follows the compaction")  # B catches up from journal.prev
    b.storage.compact()                        # must also write customers.json, not only leads.json
    a.close()
    b.close()
    with Store(folder) as reopened:
        assert reopened.require(Customer, customer.id).name == "Acme"
        assert reopened.require(Lead, lead.id).title == "b follows the compaction"


def test_after_two_compactions_another_session_reloads_and_is_still_right(folder: Path) -> None:
    with Store(folder) as setup:
        lead = setup.new(Lead, name="Ada")
    mine, theirs = Store(folder), Store(folder)
    for i in range(2):
        mine.update(Lead, lead.id, notes=f"round {i}")
        mine.storage.compact()
    old_tables = theirs.storage.tables["leads"]
    assert theirs.refresh()
    assert theirs.storage.tables["leads"] is not old_tables
    assert theirs.require(Lead, lead.id).notes == "round 1"
    mine.close()
    theirs.close()


def test_folder_and_files_are_private(folder: Path) -> None:
    with Store(folder) as store:
        store.new(Lead, name="Ada")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.iterdir():
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path.name


def test_every_file_carries_the_schema_version(folder: Path) -> None:
    with Store(folder) as store:
        store.new(Lead, name="Ada")
    for group in storage_module.TABLE_GROUPS:
        if group in storage_module.LOG_GROUPS:  # a log's header line names its own schema
            header = orjson.loads((folder / f"{group}.jsonl").read_bytes().split(b"\n")[0])
            assert header["schema"] == LOG_SCHEMA
            continue
        parsed = read_table_file(folder / f"{group}.json")
        assert parsed["schema"] == SCHEMA_VERSION


def test_a_backup_is_kept_each_day_even_without_compaction(folder: Path) -> None:
    with Store(folder) as store:
        store.new(Lead, name="Ada")
    with Store(folder) as store:
        assert store.storage.backups("leads") == []  # opening and reading write nothing
        before = (folder / "leads.json").read_bytes()
        store.new(Lead, name="Bo")
        backups = store.storage.backups("leads")
        assert len(backups) == 1 and backups[0].read_bytes() == before
    with Store(folder) as store:
        assert len(store.storage.backups("leads")) == 1  # one a day, not one per open


def test_compaction_keeps_a_rolling_set_of_backups(folder: Path) -> None:
    with Store(folder, backups_kept=3) as store:
        lead = store.new(Lead, name="Ada")
        for i in range(6):
            store.update(Lead, lead.id, notes=f"v{i}")
            store.storage.compact()
        backups = store.storage.backups("leads")
    assert len(backups) == 3
    # Backups are older states: the newest holds the state before the last compaction.
    newest = read_table_file(backups[0])
    assert newest["tables"]["leads"][lead.id]["notes"] == "v4"


def test_a_torn_last_journal_line_is_dropped(folder: Path) -> None:
    store = Store(folder)
    lead = store.new(Lead, name="Ada")
    store.update(Lead, lead.id, notes="committed")
    # Simulate a writer killed mid-append: half a line, no newline.
    with (folder / JOURNAL_NAME).open("ab") as journal:
        journal.write(b'{"v":1,"clock":"x","puts":[["leads",{"id":"')
    # The first store is abandoned without closing, like a killed process.
    assert notes_of(folder, lead.id) == "committed"
    assert check_folder(folder) == []


def test_a_corrupt_table_file_is_refused_untouched_and_names_the_backup(folder: Path) -> None:
    with Store(folder) as store:
        lead = store.new(Lead, name="Ada")
        store.storage.compact()
        store.update(Lead, lead.id, notes="later")
        store.storage.compact()  # keeps the previous leads.json as a backup
    leads_file = folder / "leads.json"
    damaged = leads_file.read_bytes()[:-40]
    leads_file.write_bytes(damaged)
    before = folder_bytes(folder)
    with pytest.raises(CorruptFileError) as refused:
        Store(folder)
    message = str(refused.value)
    assert "leads.json" in message and "newest good backup" in message and "backups" in message
    assert "\n" not in message
    assert folder_bytes(folder) == before
    problems = check_folder(folder)
    assert [p.path.name for p in problems] == ["leads.json"]


def test_a_damaged_journal_line_in_the_middle_is_refused(folder: Path) -> None:
    store = Store(folder)
    lead = store.new(Lead, name="Ada")
    store.update(Lead, lead.id, notes="one")
    journal = folder / JOURNAL_NAME
    journal.write_bytes(b"garbage\n" + journal.read_bytes())
    before = journal.read_bytes()
    with pytest.raises(CorruptFileError, match=r"journal\.jsonl is damaged"):
        Store(folder)
    assert journal.read_bytes() == before
    assert check_folder(folder)


def test_a_file_from_a_newer_dealdeck_is_refused(folder: Path) -> None:
    with Store(folder) as store:
        store.new(Lead, name="Ada")
    path = folder / "leads.json"
    header, rest = path.read_bytes().split(b"\n", 1)
    body = orjson.loads(header)
    body["schema"] = SCHEMA_VERSION + 1
    path.write_bytes(orjson.dumps(body) + b"\n" + rest)
    with pytest.raises(StoreError, match="newer Dealdeck"):
        Store(folder)


def test_older_files_are_migrated_after_a_backup(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(folder)  # left open, like a crashed process: the journal is not folded
    lead = store.new(Lead, name="Ada")
    store.update(Lead, lead.id, notes="in the journal")
    store.storage.compact()
    store.update(Lead, lead.id, title="journal, not yet folded")
    original = (folder / "leads.json").read_bytes()

    # A newer Dealdeck: schema 2, with a migration from 1.
    for module in (storage_module, table_loading, tablefile, journal):  # the version a file and a journal line say
        monkeypatch.setattr(module, "SCHEMA_VERSION", 2)

    def mark_leads(body: dict) -> dict:
        for doc in body["tables"].get("leads", {}).values():
            doc["notes"] += " (migrated)"
        return body

    storage = DurableStorage(folder, migrations={1: mark_leads})
    doc = storage.tables["leads"][lead.id]
    assert doc["notes"] == "in the journal (migrated)"
    assert doc["title"] == "journal, not yet folded"
    storage.close()
    assert (folder / "backups" / "leads.pre-schema-2.json").read_bytes() == original
    assert read_table_file(folder / "leads.json")["schema"] == 2
    # Opening again does not migrate twice, and the journal lines of schema 1 are not replayed.
    again = DurableStorage(folder, migrations={1: mark_leads})
    assert again.tables["leads"][lead.id]["notes"] == "in the journal (migrated)"
    again.close()


# --- real processes ------------------------------------------------------------------

WRITER = """
import sys
from store.database import Store
from store.models import Customer, Lead, Opportunity
folder, lead_id, prefix, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
with Store(folder, journal_limit=4096) as store:
    for i in range(count):
        store.update(Lead, lead_id, **{prefix: f"{prefix}-{i}"})
        store.new(Lead, name=f"{prefix} lead {i}")
"""


def test_two_processes_writing_at_once_lose_nothing(folder: Path) -> None:
    with Store(folder) as store:
        lead = store.new(Lead, name="Shared", company="Acme")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(folder), lead.id, field, "40"],
                              env=env, stderr=subprocess.PIPE, text=True)
             for field in ("notes", "title")]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    with Store(folder) as store:
        shared = store.require(Lead, lead.id)
        names = {lead.name for lead in store.all(Lead)}
    # Both processes' last edits of the same record survive (different fields) ...
    assert shared.notes == "notes-39" and shared.title == "title-39"
    # ... and every record each of them created is there.
    assert all(f"{p} lead {i}" in names for p in ("notes", "title") for i in range(40))
    assert check_folder(folder) == []


CRASHER = """
import os, signal, sys
from store.database import Store
from store.models import Customer, Lead, Opportunity
folder, lead_id, kill_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = Store(folder, journal_limit=1)   # every commit also compacts: many fsyncs per save
calls = 0
real_fsync = os.fsync
def fsync_then_maybe_die(fd):
    global calls
    calls += 1
    if calls == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    real_fsync(fd)
os.fsync = fsync_then_maybe_die
for i in range(8):
    store.update(Lead, lead_id, notes=f"new-{i}")
    print(f"committed new-{i}", flush=True)
"""


@pytest.mark.parametrize("kill_at", range(1, 24))
def test_sigkill_at_any_point_of_a_save_leaves_the_old_or_the_new_state(folder: Path, kill_at: int) -> None:
    with Store(folder) as store:
        lead = store.new(Lead, name="Ada", notes="old")
    result = run_child(CRASHER, str(folder), lead.id, str(kill_at))
    committed = [line.split()[-1] for line in result.stdout.splitlines()]
    if result.returncode != -signal.SIGKILL:
        pytest.fail(f"child was not killed (only {kill_at} fsyncs?): {result.stderr}")
    notes = notes_of(folder, lead.id)
    # Whatever was reported committed is there; at most the one in flight is extra.
    last_committed = committed[-1] if committed else "old"
    in_flight = f"new-{len(committed)}"
    assert notes in (last_committed, in_flight)
    assert check_folder(folder) == []
    # No temp files are left to confuse anyone, or they are ignored.
    with Store(folder) as store:
        assert store.count(Lead) == 1


def test_a_locked_folder_waits_then_reports_clearly(folder: Path) -> None:
    holder = Store(folder)
    with holder.storage.locked():
        other = DurableStorage.__new__(DurableStorage)
        other.folder = folder
        other._lock_fd, other._lock_depth = None, 0
        with pytest.raises(StoreError, match="locked by another Dealdeck process"), \
                other.locked(timeout=0.05):
            pass
    holder.close()


# -- the table file's layout and the pooled strings ------------------------------------------------


def test_a_table_file_is_written_and_read_a_batch_of_records_at_a_time(
        folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tablefile, "BATCH_DOCS", 3)
    with Store(folder) as store:
        ids = {store.new(Lead, name=f"Lead {index}").id for index in range(7)}
        store.storage.compact()
    lines = (folder / "leads.json").read_bytes().splitlines()
    header = orjson.loads(lines[0])
    assert header["layout"] == tablefile.FILE_LAYOUT and header["counts"] == {"leads": 7}
    assert [len(orjson.loads(line)[1]) for line in lines[1:]] == [3, 3, 1]
    assert set(read_table_file(folder / "leads.json")["tables"]["leads"]) == ids
    with Store(folder) as store:
        assert {lead.id for lead in store.all(Lead)} == ids


def test_a_file_in_the_old_one_line_layout_is_read_and_rewritten_once(folder: Path) -> None:
    with Store(folder) as store:
        lead = store.new(Lead, name="Ada", company="Analytical Engines")
        store.storage.compact()
    parsed = read_table_file(folder / "leads.json")
    old = orjson.dumps({"format": "dealdeck-tables", "schema": SCHEMA_VERSION, "clock": parsed["clock"],
                        "generation": parsed["generation"], "tables": parsed["tables"]})
    (folder / "leads.json").write_bytes(old)
    with Store(folder) as store:
        assert store.require(Lead, lead.id).company == "Analytical Engines"
        assert any(backup.read_bytes() == old for backup in store.storage.backups("leads"))
    rewritten = (folder / "leads.json").read_bytes()
    assert rewritten.count(b"\n") == 2 and f'"layout":"{tablefile.FILE_LAYOUT}"'.encode() in rewritten
    assert read_table_file(folder / "leads.json")["tables"] == parsed["tables"]


@pytest.mark.parametrize(("damage", "problem"), [
    (lambda lines: lines[:-1], "is cut short: table 'leads' has 2 of 3 records"),
    (lambda lines: [lines[0], lines[1], lines[1]], "record"),
    (lambda lines: [lines[0], b'["nope", []]'], "malformed line of records"),
    (lambda lines: [lines[0].replace(b'"batches+lists"', b'"columns"'), *lines[1:]], "unknown layout"),
])
def test_a_damaged_batch_file_is_refused_and_left_untouched(
        folder: Path, monkeypatch: pytest.MonkeyPatch, damage, problem: str) -> None:
    monkeypatch.setattr(tablefile, "BATCH_DOCS", 2)
    with Store(folder) as store:
        for index in range(3):
            store.new(Lead, name=f"Lead {index}")
        store.storage.compact()
    path = folder / "leads.json"
    path.write_bytes(b"\n".join(damage(path.read_bytes().splitlines())) + b"\n")
    before = folder_bytes(folder)
    with pytest.raises(CorruptFileError, match=problem):
        Store(folder)
    assert folder_bytes(folder) == before
    assert [p.path.name for p in check_folder(folder)] == ["leads.json"]


def test_repeated_strings_are_one_object_after_a_load_and_unique_ones_are_left(folder: Path) -> None:
    with Store(folder) as store:
        customer = store.new(Customer, name="Acme")
        first = store.add_lead(name="Ada", source="trade show", email="ada@example.com")
        second = store.add_lead(name="Bob", source="trade show", email="ada@example.com")
        deals = [store.new(Opportunity, title=title, customer_id=customer.id, stage="initial").id
                 for title in ("A", "B")]
        store.storage.compact()
        in_journal = store.new(Lead, name="Cy", source="trade show")
    storage = DurableStorage(folder)
    leads, opportunities = storage.tables["leads"], storage.tables["opportunities"]
    a, b, c = leads[first.id], leads[second.id], leads[in_journal.id]
    assert a["source"] is b["source"] is c["source"]  # the journal's too
    deal_a, deal_b = (opportunities[deal] for deal in deals)
    assert deal_a["stage_history"][0]["by"] is deal_b["stage_history"][0]["by"]  # one level down
    assert a["email"] == b["email"] and a["email"] is not b["email"]
    storage.close()


def test_a_leads_history_is_kept_encoded_and_reads_as_before(folder: Path) -> None:
    with Store(folder) as store:
        lead = store.add_lead(name="Ada", owner="me")
        store.update(Lead, lead.id, notes="touched")
        store.assign_lead(lead.id, "me")
        store.storage.compact()
    with Store(folder) as store:
        history = store.storage.tables["leads"][lead.id]["history"]
        assert isinstance(history, EncodedList) and [e["kind"] for e in history] == ["created", "assigned"]
        assert history == history.decoded() and history and len(history) == 2 and history[1]["to"] == "me"
        assert [e.kind for e in store.require(Lead, lead.id).history] == ["created", "assigned"]
        with pytest.raises(TypeError):
            orjson.dumps({"history": history})  # orjson needs json_default: never written by accident
        assert orjson.loads(orjson.dumps({"history": history}, default=json_default)) == {"history": history.decoded()}
        store.disqualify_lead(lead.id, "moved abroad")  # a write on top of an encoded history
        store.delete(Lead, lead.id)  # a tombstone copies the encoded history into the journal
        store.storage.compact()
    stored = read_table_file(folder / "leads.json")["tables"]["leads"][lead.id]
    assert [e["kind"] for e in stored["history"]] == ["created", "assigned", "disqualified"]


def test_a_packed_table_reads_like_a_dict_and_keeps_documents_encoded() -> None:
    table = PackedTable({"a": {"id": "a", "n": 1, "_s": {"*": "s"}}})
    table["b"] = {"id": "b", "n": 2, "_s": {"*": "s"}}
    assert len(table) == 2 and "b" in table and list(table) == ["a", "b"] and table.replaced == 0
    doc = table["a"]
    doc["n"] = 99  # a decoded copy: the stored document does not change
    assert table["a"]["n"] == 1 and table.get("zz") is None and table.get("zz", 5) == 5
    assert [key for key, _ in table.items_from(1)] == ["b"]
    copied = table.copy()
    table["a"] = {"id": "a", "n": 3, "_s": {"*": "t"}}
    assert table.replaced == 1 and copied["a"]["n"] == 1 and copied.serial != table.serial
    assert orjson.loads(orjson.dumps({"t": table}, default=json_default)) == {"t": dict(table.items())}
    del table["b"]
    assert list(table) == ["a"] and table.replaced == 2


def test_stored_days_are_shared_objects() -> None:
    from store.dates import stored_day

    assert stored_day("2026-12-01T09:30:00Z") is stored_day("2026-12-01") is stored_day("2026-12-01T23:59:59Z")


def test_a_deals_quotes_and_changes_are_kept_encoded_and_read_as_before(folder: Path) -> None:
    with Store(folder) as store:
        customer = store.new(Customer, name="Acme")
        deal = store.new(Opportunity, title="Pumps", customer_id=customer.id, stage="initial", amount=100)
        store.revise_quote(deal.id, [{"product": "Pump", "quantity": 2, "unit_price": 300}])
        store.storage.compact()
    with Store(folder) as store:
        doc = store.storage.tables["opportunities"][deal.id]
        assert isinstance(doc["quotes"], EncodedList) and isinstance(doc["changes"], EncodedList)
        assert not isinstance(doc["stage_history"], EncodedList)  # read by every board build: kept decoded
        reread = store.require(Opportunity, deal.id)
        assert reread.latest_quote().total == 600 and [c.field for c in reread.changes] == ["amount"]
        store.revise_quote(deal.id, [{"product": "Pump", "quantity": 3, "unit_price": 300}])
        assert [q.version for q in store.require(Opportunity, deal.id).quotes] == [1, 2]
