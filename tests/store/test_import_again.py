"""Importing again what was imported or exported before: Dealdeck's own export, a file
with no id column, a newer export that moved a lead out of "disqualified"; and the
values a second column of the same field holds, kept instead of lost."""

from __future__ import annotations

from pathlib import Path

from store.csv_export import export_csv
from store.database import Store
from store.imports import ImportOptions
from store.models import Contact, Customer, Lead
from tests.store.test_csv_import_real import (
    PIPEDRIVE_MAP,
    atomic_customers,
    by_external_id,
    imported,
    lines_of,
    read_rows,
    team_folder,
    write_rows,
)


def own_export(folder: Path, table: str, path: Path) -> Path:
    with Store(folder) as store, path.open("w", newline="", encoding="utf-8") as out:
        export_csv(store, table, out)
    return path


def test_our_own_export_imported_again_changes_nothing(tmp_path: Path) -> None:
    folder = team_folder(tmp_path / "data")
    with Store(folder) as store:
        lead = store.add_lead(name="Ada Park", company="Park Tools", email="ada@park.example", status="qualified")
        converted = store.convert_lead(lead.id).lead
        store.add_lead(name="Bo Lin", company="Lin Ltd", status="contacted")
        store.new(Contact, name="Cy Ray", customer_id=converted.customer_id)
    for table, cls in (("leads", Lead), ("customers", Customer), ("contacts", Contact)):
        with Store(folder) as store:
            before = {record.id: record for record in store.all(cls)}
        report = imported(folder, own_export(folder, table, tmp_path / f"{table}.csv"), table)
        assert (report.added, report.updated, report.unchanged) == (0, 0, len(before)), (table, report.problems)
        assert report.value_notes() == []  # no "converted → qualified" for a lead converted here
        with Store(folder) as store:
            assert {record.id: record for record in store.all(cls)} == before
    with Store(folder) as store:
        assert store.require(Lead, lead.id).status == "converted"
        assert store.require(Lead, lead.id).external_id == ""


def test_a_file_without_ids_or_emails_imported_again_adds_nothing(tmp_path: Path) -> None:
    """The Chinese lead template without its 邮箱 column: phone with name, else company with name."""
    folder = team_folder(tmp_path / "data")
    rows = read_rows("chinese_crm_leads.csv")
    column = rows[0].index("邮箱")
    path = write_rows(tmp_path / "线索.csv", [row[:column] + row[column + 1:] for row in rows])
    assert imported(folder, path, "leads").added == 3
    again = imported(folder, path, "leads")
    assert (again.added, again.updated, again.unchanged, again.duplicates) == (0, 0, 3, 0)
    with Store(folder) as store:
        assert store.count(Lead) == 3


def test_a_shared_phone_is_not_one_person(tmp_path: Path) -> None:
    """Two people at one switchboard: a new name on a known phone is a new lead."""
    folder = team_folder(tmp_path / "data")
    header = ["Name", "Company", "Phone"]
    first = write_rows(tmp_path / "a.csv", [header, ["Ann Hu", "Hu Co", "+86 10 6552 9988"]])
    second = write_rows(tmp_path / "b.csv", [header, ["Bo Hu", "Hu Co", "+86 10 6552 9988"]])
    assert imported(folder, first, "leads").added == 1
    report = imported(folder, second, "leads")
    assert (report.added, report.updated, report.duplicates) == (1, 0, 1)


def test_a_newer_export_that_undisqualifies_a_lead_drops_the_old_reason(tmp_path: Path) -> None:
    folder = team_folder(tmp_path / "data")
    rows = read_rows("zoho_leads.csv")[:3]
    status = rows[0].index("Lead Status")
    rows[1][status] = "Junk Lead"
    assert imported(folder, write_rows(tmp_path / "old.csv", rows), "leads").added == 2
    key = rows[1][rows[0].index("LEADID")]
    assert by_external_id(Store(folder).all(Lead))[key].disqualified_reason == "Junk Lead"
    rows[1][status] = "Contacted"
    report = imported(folder, write_rows(tmp_path / "new.csv", rows), "leads")
    assert (report.updated, report.unchanged) == (1, 1)
    with Store(folder) as store:
        lead = by_external_id(store.all(Lead))[key]
    assert (lead.status, lead.disqualified_reason) == ("contacted", "")


def test_a_second_column_of_a_field_is_kept_in_the_notes(tmp_path: Path) -> None:
    folder = team_folder(tmp_path / "data")
    atomic_customers(folder)
    options = ImportOptions(columns={"sales": "owner", "tags": "notes-line"})
    report = imported(folder, "atomic_crm_contacts.csv", "contacts", options, skip_bad=True)
    assert report.added == 500
    assert any("the others go to the notes" in note and "phone" in note for note in report.warnings)
    contacts = by_external_id(Store(folder).all(Contact))
    row = next(row for row in read_rows("atomic_crm_contacts.csv") if row[1:3] == ["Leah", "Boehm"])
    leah = contacts[row[0]]
    header = read_rows("atomic_crm_contacts.csv")[0]
    work, home = row[header.index("phone_work")], row[header.index("phone_home")]
    assert leah.phone == work and f"phone_home: {home}" in lines_of(leah.notes)

    folder = team_folder(tmp_path / "pipedrive")
    imported(folder, "pipedrive_persons.csv", "leads", ImportOptions(columns=PIPEDRIVE_MAP))
    olivia = by_external_id(Store(folder).all(Lead))["300011"]
    assert olivia.email == "olivia.whitaker46@example.com"
    assert {"Person - Email - Home: olivia.whitaker@gmail.com",
            "Person - Phone - Mobile: 435-555-1313 ext 5"} <= lines_of(olivia.notes)
