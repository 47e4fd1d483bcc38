"""Property: every record the sync body check accepts can be loaded by a Store, listed
(lead rows, board, customer rows), opened (its model), reviewed and exported (CSV).

Records start whole (every field set, one entry in each grow-only list) and lose fields
(their own or an entry's) and take other values; the file goes through the real
``merge_files``. A refused file is fine; an accepted one must be readable everywhere.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.csv_export import EXPORT_TABLES, export_csv
from store.customers import customer_rows
from store.database import Store
from store.models import (
    BY_TABLE,
    Activity,
    Contact,
    Customer,
    FieldChange,
    Lead,
    LeadEvent,
    Opportunity,
    Quote,
    QuoteLine,
    Record,
    RuleRun,
    SettingChange,
    StageChange,
    Survey,
    Task,
    TeamSetting,
    Ticket,
)
from store.pipeline import deal_rows
from store.records import stamp_record
from store.review import Week
from store.team_settings import setting_id
from sync.errors import SyncError
from sync.exchange import merge_files
from sync.format import FORMAT, SUFFIX, TABLES, VERSION, checksum, seen_vector
from tests.sync.conftest import TEAM
from tui.report import RENDERERS, collect_review
from tui.rows import LeadRow

REPLICA = "0123456789abcdef"
TODAY = date(2026, 11, 25)
STAMP = f"{int(datetime(2026, 11, 20, tzinfo=UTC).timestamp() * 1000):016d}:0000:{REPLICA}"
CUSTOMER, CONTACT, LEAD, DEAL, TICKET = ("1" * 32, "2" * 32, "3" * 32, "4" * 32, "5" * 32)


def at(day: int) -> datetime:
    return datetime(2026, 11, day, 9, tzinfo=UTC)


def whole_records() -> list[Record]:
    """One record of each table with every field set."""
    return [
        Customer(id=CUSTOMER, owner="ann", name="Northwind", industry="pumps", segment="smb", region="north",
                 phone="+1 555 0100", email="info@northwind.example", website="northwind.example", address="Main 1",
                 tags=["expo"], lifecycle="active", notes="n", lead_id=LEAD, revisit_days=30,
                 next_revisit=date(2026, 11, 30), last_contact_at=at(18), active_since=date(2026, 1, 5),
                 churned_at=date(2026, 11, 1), created_at=at(2), updated_at=at(3)),
        Contact(id=CONTACT, owner="ann", customer_id=CUSTOMER, name="Ada", role="buyer", phone="+1 555 0101",
                email="ada@northwind.example", birthday=date(1980, 11, 28), primary=True, notes="n",
                created_at=at(2), updated_at=at(3)),
        Lead(id=LEAD, owner="ann", name="Emma", company="Northwind", title="CEO", phone="+1 555 0102",
             email="emma@northwind.example", source="website", region="north", grade="A", score=70,
             status="converted", next_follow_up=date(2026, 11, 20), last_contacted_at=at(17), in_pool=True,
             tags=["hot"], notes="n", disqualified_reason="r", customer_id=CUSTOMER, contact_id=CONTACT,
             opportunity_id=DEAL, created_at=at(16), updated_at=at(17),
             **{"cf.industry": "Retail", "cf.size": 120, "cf.tags": ["a", "b"], "cf.vip": True},
             flag="quiet", rule_log=[RuleRun(rule="Quiet", did="flag “quiet”", at=at(17))],
             history=[LeadEvent(kind="assigned", by="ann", to="bo", note="auto-assigned", at=at(17))]),
        Opportunity(id=DEAL, owner="bo", title="Pumps", customer_id=CUSTOMER, contact_id=CONTACT, lead_id=LEAD,
                    amount=Decimal("1200.50"), currency="EUR", stage="won", expected_close=date(2026, 11, 19),
                    next_step="call", lost_reason="", forecast_category="commit", closed_at=at(19), notes="n",
                    created_at=at(4), updated_at=at(19),
                    stage_history=[StageChange(stage="won", by="bo", at=at(19))],
                    quotes=[Quote(version=1, by="bo", currency="EUR", at=at(10), note="q",
                                  lines=[QuoteLine(product="Pump", quantity=Decimal(2), unit_price=Decimal(600),
                                                   discount_pct=Decimal(5))])],
                    changes=[FieldChange(field="expected_close", by="bo", old="2026-11-10", new="2026-11-19",
                                         at=at(12))],
                    flag="check", rule_log=[RuleRun(rule="Won", did="task", at=at(19))]),
        Activity(owner="ann", kind="visit", lead_id=LEAD, opportunity_id=DEAL, customer_id=CUSTOMER,
                 contact_id=CONTACT, at=at(18), subject="s", body="b", created_at=at(18), updated_at=at(18)),
        Task(owner="ann", title="Call", kind="birthday", due=date(2026, 11, 28), done=True, done_at=at(20),
             lead_id=LEAD, opportunity_id=DEAL, customer_id=CUSTOMER, contact_id=CONTACT, ticket_id=TICKET,
             notes="n", created_at=at(2), updated_at=at(3)),
        Ticket(id=TICKET, owner="ann", customer_id=CUSTOMER, contact_id=CONTACT, title="Leak", description="d",
               severity="high", status="resolved", assignee="bo", resolved_at=at(18), closed_at=at(19),
               created_at=at(16), updated_at=at(19)),
        Survey(owner="ann", customer_id=CUSTOMER, contact_id=CONTACT, ticket_id=TICKET, kind="nps", score=9,
               comment="c", at=at(19), created_at=at(19), updated_at=at(19)),
        TeamSetting(id=setting_id("lead_sources"), owner="ann", key="lead_sources", value='["expo","web"]',
                    created_at=at(2), updated_at=at(3),
                    history=[SettingChange(at=at(3), by="ann", value='["expo","web"]')]),
    ]


WHOLE = {record.table: stamp_record(record, None, STAMP) for record in whole_records()}
#: other values a field may take in a teammate's file (the body check decides)
OTHER_VALUES: list[Any] = [None, "", 0, 1, True, [], "lost", "2026-02-29", "2024-02-29", "2026-11-21T10:00:00Z",
                           "1" * 32, "ann", "0.00", "x" * 3]


@st.composite
def damaged_docs(draw: st.DrawFn) -> dict[str, dict[str, Any]]:
    """The whole records, one of them (or its first grow-only entry) short of some
    fields or holding other values."""
    tables = {table: {doc["id"]: orjson.loads(orjson.dumps(doc))} for table, doc in WHOLE.items()}
    table = draw(st.sampled_from(sorted(WHOLE)))
    doc = next(iter(tables[table].values()))
    fields = sorted(key for key in doc if key not in ("id", "_s"))
    for name in draw(st.sets(st.sampled_from(fields), max_size=3)):
        doc.pop(name, None)
    for name in draw(st.sets(st.sampled_from(fields), max_size=1)):
        doc[name] = draw(st.sampled_from(OTHER_VALUES))
    for name in sorted(BY_TABLE[table].grow_only):
        if isinstance(doc.get(name), list) and doc[name] and isinstance(doc[name][0], dict):
            entry = doc[name][0]
            for key in draw(st.sets(st.sampled_from(sorted(entry)), max_size=2)):
                entry.pop(key)
    return tables


def export_file(folder: Path, tables: dict[str, dict[str, Any]]) -> Path:
    body = orjson.dumps({"tables": tables})
    header = {"format": FORMAT, "version": VERSION, "replica": REPLICA, "rep": "ann", "app_version": "1",
              "exported_at": datetime.now(UTC).isoformat(), "counts": {t: len(tables.get(t, {})) for t in TABLES},
              "seen": seen_vector({t: tables.get(t, {}) for t in TABLES})}
    header["sha256"] = checksum(header, hashlib.sha256(body).hexdigest())
    path = folder / f"{REPLICA}{SUFFIX}"
    path.write_bytes(orjson.dumps(header) + b"\n" + body)
    return path


def read_everything(store: Store) -> None:
    """What the app, the review and the exports read."""
    [LeadRow.from_doc(doc) for doc in store.rows(Lead)]
    names = {doc["id"]: str(doc["name"]) for doc in store.rows(Customer)}
    digest = store.activity_digest()
    deal_rows(store.rows(Opportunity), store.config, customers=names, last_activity=digest.last_by_deal(),
              today=TODAY)
    customer_rows(store.config, customers=store.rows(Customer), opportunities=store.rows(Opportunity),
                  last_activity=digest.last_by_customer(), tickets=store.rows(Ticket), surveys=store.rows(Survey),
                  today=TODAY, tasks=store.rows(Task), contacts=store.rows(Contact))
    for cls in BY_TABLE.values():
        for doc in store.rows(cls):
            model = store.model_of(cls, doc)
            model.label()
            if isinstance(model, Opportunity):
                model.entered_stage_at()
                model.latest_quote()
    for week in (Week.last_full(TODAY), Week.parse("2026-W48")):
        for owner in (None, "ann"):
            review = collect_review(store, week, owner, TODAY)
            for render in RENDERERS.values():
                render(review)
    for table in EXPORT_TABLES:
        export_csv(store, table, io.StringIO())


def test_the_whole_records_are_accepted_and_read() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "data").mkdir()
        (folder / "data" / "config.yaml").write_text(f"me: cy\n{TEAM}")
        with Store(folder / "data") as store:
            merge_files(store, [export_file(folder, {t: {d["id"]: d} for t, d in WHOLE.items()})])
            assert all(store.count(cls) == 1 for cls in BY_TABLE.values())
            read_everything(store)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_docs())
def test_every_record_the_body_check_accepts_is_read_everywhere(tables: dict[str, dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "data").mkdir()
        (folder / "data" / "config.yaml").write_text(f"me: cy\n{TEAM}")
        with Store(folder / "data") as store:
            try:
                merge_files(store, [export_file(folder, tables)])
            except SyncError:
                return
            read_everything(store)
