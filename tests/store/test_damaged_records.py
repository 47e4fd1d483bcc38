"""A damaged record on disk (one without a field every Dealdeck record has, written by an
old Dealdeck that let such a teammate's file through) is reported by ``dealdeck check``,
one line each, and left out of the lists, the review and the CSV export instead of
failing them."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from store.csv_export import EXPORT_TABLES, export_csv
from store.customers import customer_rows
from store.database import Store
from store.models import Activity, Contact, Customer, Lead, LeadEvent, Opportunity, StageChange, Survey, Task, Ticket
from store.pipeline import deal_rows
from store.records import STAMPS
from store.review import Week
from tui.cli import main
from tui.report import RENDERERS, collect_review
from tui.rows import LeadRow

TODAY = date(2026, 11, 25)


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T09:00:00").replace(tzinfo=UTC)


def damage(store: Store, table: str, record_id: str, *path: str | int) -> None:
    """Delete a field of a stored document and commit it as it is, through the storage
    (as an old Dealdeck wrote what a teammate's file held)."""
    with store.storage.transaction() as txn:
        doc = {key: (value.decoded() if hasattr(value, "decoded") else value)
               for key, value in txn.get(table, record_id).items()}
        target = doc
        for step in path[:-1]:
            target[step] = [dict(item) for item in target[step]] if isinstance(target[step], list) else target[step]
            target = target[step]
        del target[path[-1]]
        txn.put(table, doc)


@pytest.fixture
def damaged(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A folder with one good and one damaged record of each kind the readers list."""
    folder = tmp_path / "data"
    ids: dict[str, str] = {}
    with Store(folder) as store:
        for suffix in ("good", "bad"):
            customer = store.new(Customer, name=f"Customer {suffix}", created_at=at("2026-11-02"))
            store.new(Contact, customer_id=customer.id, name=f"Contact {suffix}", birthday=date(1980, 11, 30))
            lead = store.new(Lead, name=f"Lead {suffix}", created_at=at("2026-11-17"), next_follow_up="2026-11-20",
                             history=[LeadEvent(kind="created", by="ann", at=at("2026-11-17"))])
            deal = store.new(Opportunity, title=f"Deal {suffix}", customer_id=customer.id, stage="quote",
                             amount=Decimal(500), created_at=at("2026-11-03"),
                             stage_history=[StageChange(stage="quote", by="ann", at=at("2026-11-18"))])
            store.new(Activity, kind="call", customer_id=customer.id, opportunity_id=deal.id, lead_id=lead.id,
                      at=at("2026-11-18"))
            store.new(Task, title=f"Task {suffix}", due=date(2026, 11, 20), customer_id=customer.id)
            store.new(Ticket, customer_id=customer.id, title=f"Ticket {suffix}")
            store.new(Survey, customer_id=customer.id, kind="nps", score=9, at=at("2026-11-18"))
            ids.update({f"{suffix} customer": customer.id, f"{suffix} lead": lead.id, f"{suffix} deal": deal.id})
        bad_rows = {table: next(doc["id"] for doc in store.storage.tables[table].values()
                                if "bad" in str(doc.get("name") or doc.get("title") or "bad"))
                    for table in ("contacts", "tasks", "tickets")}
        damage(store, "leads", ids["bad lead"], "created_at")
        damage(store, "customers", ids["bad customer"], "name")
        damage(store, "opportunities", ids["bad deal"], "stage_history", 0, "at")
        damage(store, "contacts", bad_rows["contacts"], "created_at")
        damage(store, "tasks", bad_rows["tasks"], "due")
        damage(store, "tickets", bad_rows["tickets"], "title")
        for table in ("activities", "surveys"):
            record_id = next(iter(store.storage.tables[table]))
            damage(store, table, record_id, "at")
            ids[table] = record_id
        ids.update({f"bad {table}": record_id for table, record_id in bad_rows.items()})
        store.storage.compact()
    return folder, ids


def test_check_names_each_damaged_record_in_one_line(damaged: tuple[Path, dict[str, str]],
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    folder, ids = damaged
    assert main(["check", "--data", str(folder)]) == 1
    lines = capsys.readouterr().err.splitlines()
    expected = {
        f"leads record {ids['bad lead']}: created_at: missing",
        f"customers record {ids['bad customer']}: name: missing",
        f"opportunities record {ids['bad deal']}: stage_history.0.at: missing",
        f"contacts record {ids['bad contacts']}: created_at: missing",
        f"tasks record {ids['bad tasks']}: due: missing",
        f"tickets record {ids['bad tickets']}: title: missing",
        f"activities record {ids['activities']}: at: missing",
        f"surveys record {ids['surveys']}: at: missing",
    }
    assert {line.split(" (", 1)[0] for line in lines} == expected, lines


def test_the_lists_leave_damaged_records_out(damaged: tuple[Path, dict[str, str]]) -> None:
    folder, ids = damaged
    with Store(folder) as store:
        leads = [LeadRow.from_doc(doc) for doc in store.rows(Lead)]
        assert [row.name for row in leads] == ["Lead good"]
        names = {doc["id"]: doc["name"] for doc in store.rows(Customer)}
        assert list(names.values()) == ["Customer good"]
        digest = store.activity_digest()
        deals = deal_rows(store.rows(Opportunity), store.config, customers=names,
                          last_activity=digest.last_by_deal(), today=TODAY)
        assert sorted(row.title for row in deals) == ["Deal bad", "Deal good"]  # its damaged entry is skipped
        accounts = customer_rows(store.config, customers=store.rows(Customer), opportunities=store.rows(Opportunity),
                                 last_activity=digest.last_by_customer(), tickets=store.rows(Ticket),
                                 surveys=store.rows(Survey), today=TODAY, tasks=store.rows(Task),
                                 contacts=store.rows(Contact))
        assert [row.name for row in accounts] == ["Customer good"]
        assert store.get(Lead, ids["good lead"]) is not None
        assert [lead.name for lead in store.find(Lead, text="lead")] == ["Lead good"]


def test_the_review_and_the_csv_export_leave_damaged_records_out(damaged: tuple[Path, dict[str, str]]) -> None:
    folder, _ = damaged
    with Store(folder) as store:
        review = collect_review(store, Week.last_full(TODAY), None, TODAY)
        for render in RENDERERS.values():
            assert render(review)
        exported = {}
        for table in EXPORT_TABLES:
            out = io.StringIO()
            exported[table] = export_csv(store, table, out), out.getvalue()
    assert "Lead good" in exported["leads"][1] and "Lead bad" not in exported["leads"][1]
    assert "Customer good" in exported["customers"][1] and "Customer bad" not in exported["customers"][1]
    assert (exported["contacts"][0], exported["activities"][0], exported["opportunities"][0]) == (1, 1, 2)

def test_the_commands_do_not_fail_on_them(damaged: tuple[Path, dict[str, str]],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    folder, _ = damaged
    assert main(["review", "--data", str(folder), "--week", "2026-W47"]) == 0
    for table in EXPORT_TABLES:
        assert main(["export", "csv", table, "--data", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "Lead good" in out and "Lead bad" not in out


def test_a_sound_folder_checks_sound(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "data"
    with Store(folder) as store:
        store.new(Lead, name="Ada")
        assert all(STAMPS in doc for doc in store.rows(Lead))
    assert main(["check", "--data", str(folder)]) == 0
    assert "all files are sound" in capsys.readouterr().out
