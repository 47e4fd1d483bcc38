"""A teammate's export that leaves out a field every Dealdeck record has is refused whole.

The bad files are made from a good export written by the real code: one field of one
record (or of one entry of a grow-only list) is deleted and the checksum made again,
so that the missing field is all that is wrong. One file per table and required field
(``store.records.required_fields``, taken from the models), and per entry field.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from store.database import Store
from store.models import (
    BY_TABLE,
    Activity,
    Contact,
    Customer,
    Decision,
    FieldChange,
    Lead,
    LeadEvent,
    Opportunity,
    Quote,
    QuoteLine,
    RuleRun,
    StageChange,
    Survey,
    Task,
    Ticket,
)
from store.records import nested_models, required_fields
from sync.exchange import merge_files
from sync.format import TABLES, checksum
from tests.sync.conftest import legacy_export, refused_file
from tui.cli import main

Replica = Callable[[str], Store]


def fill(store: Store) -> None:
    """One record of every table, with an entry in every grow-only list."""
    ran = [RuleRun(rule="Welcome", did="tag #new")]
    decided = [Decision(kind="note", week="2026-W47", by="ann", text="Call their buyer")]
    customer = store.add(Customer(owner="ann", name="Northwind", rule_log=ran, decisions=decided))
    store.add(Contact(owner="ann", customer_id=customer.id, name="Ada Lovelace", rule_log=ran))
    store.add(Lead(owner="ann", name="Emma Clarke", history=[LeadEvent(kind="created", by="ann")], rule_log=ran))
    quote = Quote(version=1, by="ann", currency="USD",
                  lines=[QuoteLine(product="Pump", quantity=Decimal(2), unit_price=Decimal(600))])
    store.add(Opportunity(owner="ann", title="Pumps", customer_id=customer.id, stage="initial",
                          stage_history=[StageChange(stage="initial", by="ann")], quotes=[quote],
                          changes=[FieldChange(field="amount", by="ann", old=None, new="1200.00")], rule_log=ran,
                          decisions=decided))
    store.add(Activity(owner="ann", kind="call", customer_id=customer.id))
    store.add(Task(owner="ann", title="Call back", due=date(2025, 1, 6)))
    store.add(Ticket(owner="ann", customer_id=customer.id, title="Leaking pump", rule_log=ran))
    store.add(Survey(owner="ann", customer_id=customer.id, kind="csat", score=4))
    store.save_team_settings({"lead_sources": ["expo", "web"]})


def cases() -> list[tuple[str, str, str]]:
    """(table, list field or "", field) for every field a stored document always holds."""
    found = [(table, "", name) for table in TABLES for name in required_fields(BY_TABLE[table])]
    for table in TABLES:
        for list_field, entry in nested_models(BY_TABLE[table]).items():
            found.extend((table, list_field, name) for name in required_fields(entry))
    return found


def without(path: Path, table: str, list_field: str, name: str) -> str:
    """Delete the field from the export's one record of ``table`` (or from the first
    entry of its ``list_field``) and write the checksum again; the record's id."""
    head, body = path.read_bytes().split(b"\n", 1)
    header, tables = orjson.loads(head), orjson.loads(body)["tables"]
    record_id, doc = next(iter(tables[table].items()))
    target = doc[list_field][0] if list_field else doc
    del target[name]
    body = orjson.dumps({"tables": tables})
    header["sha256"] = checksum(header, hashlib.sha256(body).hexdigest())
    path.write_bytes(orjson.dumps(header) + b"\n" + body)
    return record_id


@pytest.fixture
def good_export(replica: Replica, shared: Path) -> Path:
    ann = replica("ann")
    fill(ann)
    return legacy_export(ann, shared)


def test_the_good_export_is_merged(replica: Replica, good_export: Path) -> None:
    bo = replica("bo")
    merge_files(bo, [good_export])
    assert all(bo.count(BY_TABLE[table]) == 1 for table in TABLES)


def test_the_corpus_covers_the_fields_readers_rely_on() -> None:
    """The fields of issue 14 are among those the corpus leaves out."""
    covered = set(cases())
    assert {("leads", "", "created_at"), ("activities", "", "at"), ("opportunities", "stage_history", "at"),
            ("leads", "history", "at"), ("surveys", "", "at"), ("opportunities", "", "stage")} <= covered


@pytest.mark.parametrize(("table", "list_field", "name"), cases(),
                         ids=[".".join(filter(None, case)) for case in cases()])
def test_an_export_missing_a_required_field_is_refused_whole(replica: Replica, good_export: Path,
                                                             table: str, list_field: str, name: str) -> None:
    bo = replica("bo")
    bo.new(Lead, name="Bo's own")
    record_id = without(good_export, table, list_field, name)
    message = refused_file(bo, good_export)
    if list_field and name == "id":
        problem = f"{list_field}[0]: an entry without an id"
    else:
        problem = f"{list_field}.0.{name}: " if list_field else f"{name}: "
    assert message.startswith(f"{good_export.name}: {table} record {record_id}: {problem}"), message


def test_the_command_line_refuses_it_in_one_line(replica: Replica, good_export: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    bo = replica("bo")
    lead_id = without(good_export, "leads", "", "created_at")
    bo.close()
    assert main(["sync", "merge", str(good_export), "--data", str(bo.folder)]) == 1
    out = capsys.readouterr().err
    assert (f"dealdeck: refused {good_export.name}: leads record {lead_id}: created_at: missing "
            "(every record Dealdeck writes has it, and the app reads it)\n") in out

