"""Validation of teammates' export files: good files in, every bad file refused whole with one line."""

from __future__ import annotations

import copy
import gc
import hashlib
import os
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from store.database import Store
from store.models import Activity, Customer, Lead, LeadEvent, Opportunity, Quote, QuoteLine, Record, StageChange
from store.records import stamp_record, tombstone
from sync import validate
from sync.errors import SyncError
from sync.format import FORMAT, SUFFIX, TABLES, VERSION, RecordSet, checksum, empty_set, seen_vector
from sync.validate import HEADER_CHECKSUM_VERSION, Limits, read_export

REPLICA = "0123456789abcdef"
NOW = 1_764_000_000_000
STAMP = f"{NOW - 60_000:016d}:0000:{REPLICA}"
LATER = f"{NOW - 30_000:016d}:0001:{REPLICA}"
LEAD, GONE, CUSTOMER, OPPORTUNITY, ACTIVITY = ("1" * 32, "2" * 32, "3" * 32, "4" * 32, "5" * 32)
NAME = f"{REPLICA}{SUFFIX}"
DAY_MS = 24 * 3600 * 1000


def stamped(record: Record, stamp: str = STAMP) -> dict[str, Any]:
    return stamp_record(record, None, stamp)


def sample_tables() -> RecordSet:
    """A little of everything: grow-only lists, money, multi-line notes, a tombstone."""
    customer = Customer(id=CUSTOMER, owner="ann", name="Northwind", notes="Line one\n\tindented", tags=["expo"])
    lead = Lead(id=LEAD, owner="ann", name="Emma Clarke", email="emma@northwind.example", score=60,
                history=[LeadEvent(kind="created", by="ann"), LeadEvent(kind="assigned", by="ann", to="bo")])
    quote = Quote(version=1, by="ann", currency="EUR",
                  lines=[QuoteLine(product="Pump", quantity=Decimal(2), unit_price=Decimal("600.25"))])
    opportunity = Opportunity(id=OPPORTUNITY, owner="ann", title="Pumps", customer_id=CUSTOMER, stage="quote",
                              amount=Decimal("1200.50"), stage_history=[StageChange(stage="quote", by="ann")],
                              quotes=[quote])
    activity = Activity(id=ACTIVITY, owner="ann", kind="call", customer_id=CUSTOMER, body="Called\nagain")
    tables = empty_set()
    for record in (customer, lead, opportunity, activity):
        tables[record.table][record.id] = stamped(record)
    tables["leads"][GONE] = tombstone(stamped(Lead(id=GONE, owner="ann", name="Old")), LATER)
    return tables


def write_export(path: Path, tables: RecordSet, header: dict[str, Any] | None = None,
                 body: bytes | None = None) -> Path:
    """An export file as Dealdeck writes it; ``header`` overrides fields, ``body`` the body bytes."""
    body = orjson.dumps({"tables": tables}) if body is None else body
    fields = {
        "format": FORMAT, "version": VERSION, "replica": REPLICA, "rep": "ann", "app_version": "0.3.0",
        "exported_at": datetime.now(UTC).isoformat(),
        "counts": {table: len(tables.get(table, {})) for table in TABLES},
        "seen": {REPLICA: LATER},
    }
    fields.update(header or {})
    if "sha256" not in (header or {}):  # as Dealdeck writes it: over the header too since version 2
        body_sha256 = hashlib.sha256(body).hexdigest()
        old = isinstance(fields["version"], int) and fields["version"] < HEADER_CHECKSUM_VERSION
        fields["sha256"] = body_sha256 if old else checksum(fields, body_sha256)
    path.write_bytes(orjson.dumps(fields) + b"\n" + body)
    return path


def refusal(path: Path, limits: Limits = Limits()) -> str:  # noqa: B008
    with pytest.raises(SyncError) as caught:
        read_export(path, limits=limits, now_ms=NOW)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path.name}: "), message
    return message


# --- accepted --------------------------------------------------------------------------------


def test_a_good_file_is_read_with_its_records_intact(tmp_path: Path) -> None:
    tables = sample_tables()
    path = write_export(tmp_path / NAME, tables)
    export = read_export(path, now_ms=NOW)
    assert export.path == path
    assert export.records == tables
    assert set(export.records) == set(TABLES)
    assert (export.header.replica, export.header.rep, export.header.version) == (REPLICA, "ann", VERSION)
    assert export.header.seen == {REPLICA: LATER}
    assert export.header.counts["leads"] == 2


def test_markup_like_names_are_accepted_and_kept_exactly(tmp_path: Path) -> None:
    tables = empty_set()
    names = ["[@click=app.quit]boom[/]", "[bold red]x", "[link=file:///etc/passwd]y[/link]"]
    for index, name in enumerate(names):
        lead = Lead(id=f"{index + 1:032x}", owner="ann", name=name, notes=f"{name}\nsecond line")
        tables["leads"][lead.id] = stamped(lead)
    export = read_export(write_export(tmp_path / NAME, tables), now_ms=NOW)
    assert [doc["name"] for doc in export.records["leads"].values()] == names
    assert export.records == tables


def test_a_real_stores_tables_validate(store: Store, tmp_path: Path) -> None:
    lead = store.new(Lead, name="Emma Clarke", email="emma@northwind.example", notes="met at the fair\nlikes pumps")
    store.update(Lead, lead.id, status="qualified")
    conversion = store.convert_lead(lead.id, amount=5000)
    store.move_stage(conversion.opportunity.id, "quote")
    store.log_activity("call", opportunity_id=conversion.opportunity.id, body="went well")
    store.delete(Lead, store.new(Lead, name="Spam").id)
    tables = {table: dict(store.storage.tables.get(table, {})) for table in TABLES}
    header = {"rep": store.me, "seen": seen_vector(tables)}
    export = read_export(write_export(tmp_path / NAME, tables, header))  # the real clock
    assert export.records == tables
    assert sum(map(len, export.records.values())) >= 6


def test_a_stamp_just_inside_the_allowed_drift_is_accepted(tmp_path: Path) -> None:
    tables = sample_tables()
    tables["leads"][LEAD]["_s"]["name"] = f"{NOW + 5 * 60_000:016d}:0000:{REPLICA}"
    read_export(write_export(tmp_path / NAME, tables), now_ms=NOW)
    tables["leads"][LEAD]["_s"]["name"] = f"{NOW + 5 * 60_000 + 1:016d}:0000:{REPLICA}"
    assert "is in the future" in refusal(write_export(tmp_path / NAME, tables))
    tables["leads"][LEAD]["_s"]["name"] = f"{NOW + DAY_MS:016d}:0000:{REPLICA}"  # once accepted (24 h)
    assert f"replica {REPLICA} is 1 day ahead of this computer's clock, over the 5 min allowed" in refusal(
        write_export(tmp_path / NAME, tables))


def test_older_versions_are_migrated_through_the_hook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tables = sample_tables()
    body = orjson.dumps({"records": tables})  # version 0 called them "records" and the rep "who"
    path = write_export(tmp_path / NAME, tables, {"version": 0}, body=body)
    header = orjson.loads(path.read_bytes().split(b"\n", 1)[0])
    header["who"] = header.pop("rep")
    path.write_bytes(orjson.dumps(header) + b"\n" + body)
    assert "format version 0 is too old" in refusal(path)

    def from_v0(export: dict[str, Any]) -> dict[str, Any]:
        export["header"]["rep"] = export["header"].pop("who")
        return {"header": export["header"], "body": {"tables": export["body"]["records"]}}

    monkeypatch.setitem(validate.MIGRATIONS, 0, from_v0)
    export = read_export(path, now_ms=NOW)
    assert (export.header.version, export.header.rep) == (VERSION, "ann")
    assert export.records == tables


# --- the corpus of bad files -------------------------------------------------------------------

Build = Callable[[Path], Path]


def with_doc(table: str, record_id: str, **changes: Any) -> Build:
    """A file whose document ``record_id`` has raw ``changes`` (None removes a key)."""
    def build(path: Path) -> Path:
        tables = sample_tables()
        doc = tables[table][record_id]
        for key, value in changes.items():
            if value is None:
                doc.pop(key, None)
            else:
                doc[key] = value
        return write_export(path, tables)
    return build


def with_header(**changes: Any) -> Build:
    return lambda path: write_export(path, sample_tables(), changes)


def with_body(body: bytes, **header: Any) -> Build:
    return lambda path: write_export(path, sample_tables(), header, body=body)


def rewritten(edit: Callable[[bytes], bytes]) -> Build:
    """A good file whose bytes are then changed (the hash is not updated)."""
    def build(path: Path) -> Path:
        write_export(path, sample_tables())
        path.write_bytes(edit(path.read_bytes()))
        return path
    return build


def moved(tables: RecordSet, table: str, key: str, doc: dict[str, Any]) -> RecordSet:
    tables[table][key] = doc
    return tables


def extra_record(table: str, key: str, doc: Callable[[RecordSet], dict[str, Any]]) -> Build:
    def build(path: Path) -> Path:
        tables = sample_tables()
        return write_export(path, moved(tables, table, key, doc(tables)))
    return build


def stamps(**changes: Any) -> dict[str, Any]:
    return {"*": STAMP, **changes}


DUPLICATE_BODY = (b'{"tables":{"leads":{"%(id)s":%(doc)s,"%(id)s":%(doc)s}}}' % {
    b"id": LEAD.encode(), b"doc": orjson.dumps(sample_tables()["leads"][LEAD])})
YEAR_9999 = f"{int(datetime(9999, 12, 31, tzinfo=UTC).timestamp() * 1000):016d}:0000:{REPLICA}"
DEEP_BODY = orjson.dumps({"tables": {**sample_tables(), "leads": {**sample_tables()["leads"], LEAD: {
    **sample_tables()["leads"][LEAD], "tags": "@"}}}}).replace(b'"@"', b"[" * 300 + b'"x"' + b"]" * 300)

CORPUS: dict[str, tuple[Build, str]] = {
    "truncated body": (rewritten(lambda data: data[: len(data) * 2 // 3]),
                       "body: sha256 does not match the header (the file was truncated"),
    "truncated header": (rewritten(lambda data: data[:40]), "header: not valid JSON"),
    "empty": (rewritten(lambda data: b""), "file: empty"),
    "not JSON": (rewritten(lambda data: b"hello, world\nthis is not an export"), "header: not valid JSON"),
    "header not an object": (rewritten(lambda data: b"[1, 2]\n{}"), "header: not a JSON object"),
    "another format": (with_header(format="tinydb"), "header: format: 'tinydb' is not 'dealdeck-export'"),
    "version as text": (with_header(version="1"), "header: version: '1' is not an integer"),
    "count as text": (with_header(counts={"leads": "2"}), "header: counts.leads: Input should be a valid integer"),
    "rep a number": (with_header(rep=7), "header: rep: Input should be a valid string"),
    "rep with markup": (with_header(rep="[b]ann"), "header: rep: String should match pattern"),
    "sha256 missing": (with_header(sha256=None), "header: sha256: Input should be a valid string"),
    "unknown header field": (with_header(path="/etc/passwd"), "header: path: Extra inputs are not permitted"),
    "bad exported_at": (with_header(exported_at="yesterday"), "header: exported_at: not an ISO date and time"),
    "future major version": (with_header(version=VERSION + 1),
                             f"header: written by a newer Dealdeck (format version {VERSION + 1}); "
                             "upgrade Dealdeck to read this file"),
    "path-like replica": (with_header(replica="../../etc"),
                          "header: replica: '../../etc' is not a replica id (16 lowercase hex digits)"),
    "replica with a slash": (with_header(replica="a/b"), "header: replica: 'a/b' is not a replica id"),
    "path-like seen replica": (with_header(seen={"../x": STAMP}), "header: seen: '../x' is not a replica id"),
    "seen not a stamp": (with_header(seen={REPLICA: "now"}), f"header: seen: {REPLICA}: 'now' is not a change stamp"),
    "seen in the future": (with_header(seen={REPLICA: YEAR_9999}), "is in the future (year 9999)"),
    "counts of an unknown table": (with_header(counts={"users": 0}), "header: counts: unknown table 'users'"),
    "hash mismatch": (rewritten(lambda data: data.replace(b"Emma Clarke", b"Emma Clarks")),
                      "body: sha256 does not match the header"),
    "body not JSON": (with_body(b"{tables: }"), "body: not valid JSON"),
    "body not tables": (with_body(b'{"leads": {}}'), 'body: not {"tables": {table: {id: record}}}'),
    "unknown table": (with_body(b'{"tables": {"users": {}}}'), "body: unknown table 'users'"),
    "table not an object": (with_body(b'{"tables": {"leads": []}}'), "body: leads: not an object of records by id"),
    "duplicate ids": (with_body(DUPLICATE_BODY, counts={"leads": 2}),
                      f"leads record {LEAD}: appears twice in the file"),
    "count too low": (with_header(counts={"leads": 1}), "body: header counts 1 leads but the body has 2"),
    "id in two tables": (extra_record("customers", LEAD, lambda t: {**t["customers"][CUSTOMER], "id": LEAD}),
                         f"customers record {LEAD}: the same id is also in leads"),
    "key and id differ": (with_doc("leads", LEAD, id="9" * 32),
                          f"leads record {LEAD}: id: '{'9' * 32}' differs from the id it is filed under"),
    "path-like record id": (extra_record("leads", "../../etc/passwd",
                                         lambda t: {**t["leads"][LEAD], "id": "../../etc/passwd"}),
                            "leads record '../../etc/passwd': not a record id (32 lowercase hex digits)"),
    "record not an object": (extra_record("leads", "9" * 32, lambda t: ["x"]),  # type: ignore[arg-type,return-value]
                             f"leads record {'9' * 32}: not a JSON object"),
    "no stamps": (with_doc("leads", LEAD, _s=None), f"leads record {LEAD}: _s: missing"),
    "missing * stamp": (with_doc("leads", LEAD, _s={"name": STAMP}), f'leads record {LEAD}: _s: no "*" stamp'),
    "stamp as a list": (with_doc("leads", LEAD, _s=stamps(name=[NOW, 0, REPLICA])),
                        "_s.name: a list is not a change stamp"),
    "stamp of a bad field name": (with_doc("leads", LEAD, _s=stamps(**{"../x": STAMP})),
                                  "_s: '../x' is not a field name"),
    "bad _del": (with_doc("leads", GONE, _del="yesterday"), f"leads record {GONE}: _del: 'yesterday' is not a change"),
    "stamp of other digits": (with_doc("leads", LEAD, _s=stamps(name="\u0660" * 16 + f":0000:{REPLICA}")),
                              "_s.name: '\u0660"),
    "stamp in the year 9999": (with_doc("leads", LEAD, _s=stamps(name=YEAR_9999)),
                               f"leads record {LEAD}: _s.name: stamp {YEAR_9999} is in the future (year 9999)"),
    "base stamp in the year 9999": (with_doc("leads", LEAD, _s={"*": YEAR_9999}), "_s.*: stamp"),
    "_del in the future": (with_doc("leads", GONE, _del=YEAR_9999), f"leads record {GONE}: _del: stamp"),
    "huge string": (with_doc("customers", CUSTOMER, notes="x" * 20_001),
                    f"customers record {CUSTOMER}: notes: a string of 20,001 characters is over the limit of 20,000"),
    "huge nested string": (with_doc("leads", LEAD, history=[{"id": "9" * 32, "kind": "created", "by": "ann",
                                                             "note": "y" * 30_000}]),
                           "history[0].note: a string of 30,000 characters"),
    "huge list": (with_doc("leads", LEAD, tags=[f"t{i}" for i in range(5_001)]),
                  f"leads record {LEAD}: tags: a list of 5,001 items is over the limit of 5,000"),
    "deep nesting": (with_body(DEEP_BODY), f"leads record {LEAD}: tags[0][0][0][0][0][0][0][0][0][0][0]: nested more"),
    "ANSI escape in a name": (with_doc("leads", LEAD, name="\x1b[2J\x1b[31mEvil"),
                              f"leads record {LEAD}: name: contains an ANSI escape sequence"),
    "OSC escape in a note": (with_doc("customers", CUSTOMER, notes="x\x1b]8;;http://evil\x07y"),
                             "notes: contains an ANSI escape sequence"),
    "8-bit CSI in a name": (with_doc("leads", LEAD, name="a\x9b31mb"), "name: contains an ANSI escape sequence"),
    "control character": (with_doc("leads", LEAD, name="Emma\x07"),
                          f"leads record {LEAD}: name: contains the control character U+0007"),
    "newline in a one-line field": (with_doc("leads", LEAD, company="A\nB"),
                                    "company: contains the control character U+000A"),
    "carriage return in a note": (with_doc("customers", CUSTOMER, notes="a\rb"), "notes: contains the control"),
    "control character in a nested string": (with_doc("leads", LEAD, history=[
        {"id": "9" * 32, "kind": "created", "by": "ann", "note": "\x00"}]), "history[0].note: contains the control"),
    "control character in a key": (with_doc("leads", LEAD, **{"na\x1bme": "x"}), "'na\\x1bme': not a field of a lead"),
    "wrong type in a field": (with_doc("leads", LEAD, score="high"),
                              f"leads record {LEAD}: score: Input should be a valid integer"),
    "number as text": (with_doc("leads", LEAD, score="50"), "score: Input should be a valid integer"),
    "flag as a number": (with_doc("leads", LEAD, in_pool=1), "in_pool: Input should be a valid boolean"),
    "unknown grade": (with_doc("leads", LEAD, grade="Z"), "grade: Input should be 'A', 'B', 'C' or 'D'"),
    "unknown field": (with_doc("leads", LEAD, password="x"), "password: not a field of a lead"),
    "bad nested value": (with_doc("opportunities", OPPORTUNITY, stage_history=[{"id": "9" * 32, "stage": "",
                                                                                "by": "ann"}]),
                         "stage_history.0.stage: String should have at least 1 character"),
    "entry without an id": (with_doc("leads", LEAD, history=[{"kind": "created", "by": "ann"}]),
                            f"leads record {LEAD}: history[0]: an entry without an id"),
    "entry id twice": (with_doc("leads", LEAD, history=[{"id": "9" * 32, "kind": "created", "by": "ann"}] * 2),
                       "history[1]: entry id"),
}


@pytest.mark.parametrize("case", list(CORPUS))
def test_a_bad_file_is_refused_whole_with_one_clear_line(tmp_path: Path, case: str) -> None:
    build, expected = CORPUS[case]
    path = build(tmp_path / NAME)
    before = path.read_bytes()
    message = refusal(path)
    assert expected in message, message
    assert path.read_bytes() == before


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    path = write_export(tmp_path / NAME, sample_tables())
    size = path.stat().st_size
    assert refusal(path, Limits(max_bytes=1000)) == (
        f"{NAME}: file: {size:,} bytes is over the size limit of 1,000 bytes (sync.max_file_mb)")
    read_export(path, limits=Limits(max_bytes=size), now_ms=NOW)


def test_the_size_is_checked_before_the_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / NAME
    with path.open("wb") as file:
        file.truncate(201 * 2**20)  # sparse: costs no disk and would take a while to read
    assert "file: 201.0 MB is over the size limit of 200.0 MB" in refusal(path)


def test_limits_on_strings_lists_and_records_are_configurable(tmp_path: Path) -> None:
    path = with_doc("customers", CUSTOMER, notes="z" * 101)(tmp_path / NAME)
    assert "notes: a string of 101 characters is over the limit of 100" in refusal(path, Limits(max_string=100))
    path = write_export(tmp_path / NAME, sample_tables())
    assert "history: a list of 2 items is over the limit of 1" in refusal(path, Limits(max_list=1))
    assert "body: 5 records is over the limit of 4" in refusal(path, Limits(max_records=4))


def test_a_name_without_the_export_suffix_is_refused(tmp_path: Path) -> None:
    path = write_export(tmp_path / f"{REPLICA}.json", sample_tables())
    assert refusal(path) == f"{REPLICA}.json: file: not an export file (the name must end with {SUFFIX})"


def test_links_folders_and_missing_files_are_refused(tmp_path: Path) -> None:
    target = write_export(tmp_path / "real.dealdeck.json", sample_tables())
    link = tmp_path / NAME
    link.symlink_to(target)
    assert "file: a symbolic link" in refusal(link)
    folder = tmp_path / "folder.dealdeck.json"
    folder.mkdir()
    assert refusal(folder) == "folder.dealdeck.json: file: a folder, not an export file"
    linked_folder = tmp_path / "linked.dealdeck.json"
    linked_folder.symlink_to(folder)
    assert "file: a symbolic link" in refusal(linked_folder)
    assert "file: no such file" in refusal(tmp_path / "gone.dealdeck.json")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    pipe = tmp_path / NAME
    os.mkfifo(pipe)
    assert "file: not a regular file" in refusal(pipe)


def test_a_file_name_with_escapes_is_shown_escaped(tmp_path: Path) -> None:
    path = write_export(tmp_path / f"\x1b[2J{SUFFIX}", sample_tables(), {"version": "x"})
    with pytest.raises(SyncError) as caught:
        read_export(path, now_ms=NOW)
    assert str(caught.value).startswith("'\\x1b[2J.dealdeck.json': header: version:")


def test_the_records_returned_are_the_ones_parsed(tmp_path: Path) -> None:
    """No copy of the body is kept besides the records (nothing is parsed twice)."""
    tables = sample_tables()
    export = read_export(write_export(tmp_path / NAME, copy.deepcopy(tables)), now_ms=NOW)
    assert export.records["leads"][LEAD]["history"] == tables["leads"][LEAD]["history"]
    assert all(isinstance(docs, dict) for docs in export.records.values())


def test_a_record_that_passed_once_is_checked_again_when_its_content_changes(tmp_path: Path) -> None:
    """Nothing about a file that passed is remembered past it: a changed copy is checked whole."""
    path = write_export(tmp_path / NAME, sample_tables())
    read_export(path, now_ms=NOW)
    read_export(path, now_ms=NOW)
    assert "score: Input should be a valid integer" in refusal(with_doc("leads", LEAD, score="60")(path))


def test_files_read_one_ahead_come_back_in_order_and_a_bad_one_is_named(tmp_path: Path) -> None:
    """read_exports reads the next file in a thread while one is checked: same results,
    same order, and the first bad file stops the whole read with its own name."""
    paths = []
    for index, replica in enumerate(("0123456789abcde0", "0123456789abcde1", "0123456789abcde2")):
        folder = tmp_path / str(index)
        folder.mkdir()
        paths.append(write_export(folder / f"{replica}{SUFFIX}", sample_tables(), {"replica": replica}))
    exports = list(validate.read_exports(paths, now_ms=NOW))
    assert [export.path for export in exports] == paths
    assert all(export.records == read_export(path, now_ms=NOW).records for export, path in zip(exports, paths,
                                                                                               strict=True))
    paths[1].write_bytes(paths[1].read_bytes()[:-10])
    with pytest.raises(SyncError, match=f"^{paths[1].name}: body: sha256 does not match"):
        list(validate.read_exports(paths, now_ms=NOW))


def test_reading_a_file_leaves_the_collector_alone_unless_asked(tmp_path: Path) -> None:
    """gc.freeze() would freeze every object of the process, the app's too, for good: only
    the command line, which ends after the merge, asks for it."""
    path = write_export(tmp_path / NAME, sample_tables())
    frozen = gc.get_freeze_count()
    read_export(path, now_ms=NOW)
    list(validate.read_exports([path], now_ms=NOW))
    assert gc.get_freeze_count() == frozen
    try:
        list(validate.read_exports([path], now_ms=NOW, freeze=True))
        assert gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()


def test_a_record_that_breaks_a_rule_across_fields_is_accepted(tmp_path: Path) -> None:
    """Merging two valid versions field by field can break a rule (one rep disqualified a
    lead while another cleared the reason): a teammate's export holding such a record is
    Dealdeck's own output, and refusing it would stop the whole team's sync."""
    path = with_doc("leads", LEAD, status="disqualified")(tmp_path / NAME)
    export = read_export(path, now_ms=NOW)
    assert export.records["leads"][LEAD]["status"] == "disqualified"
    assert "disqualified_reason" not in export.records["leads"][LEAD]
