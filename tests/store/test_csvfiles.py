"""CSV import against real data folders and real files (the export: test_csv_export.py)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

import pytest

from store.database import Store
from store.errors import StoreError
from store.imports import ImportOptions, ImportReport, import_csv
from store.models import Contact, Customer, Lead
from tui.cli import main

TEAM = ("alice", "bob", "carol")


def team_config(folder: Path, reps: Sequence[str] = TEAM) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"me: {reps[0]}", "reps:"]
    lines += [f"  - {{id: {rep}, name: {rep.title()} Smith}}" for rep in reps]
    (folder / "config.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def team(folder: Path) -> Iterator[Store]:
    with Store(team_config(folder)) as opened:
        yield opened


def write(tmp_path: Path, text: str, name: str = "in.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file() and p.name != ".lock"}


def leads_by_name(store: Store) -> dict[str, Lead]:
    return {lead.name: lead for lead in store.all(Lead)}


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


GOOD = """\
name,company,email,phone,source,tags,notes,next_follow_up
Emma Clarke,Northwind Ltd,Emma@Northwind.example,+44 20 7946 0958,Referral,"expo; vip",met there,2030-03-05
Li Wei,Contoso,li@contoso.example,,website,,,2030/3/6
"""


# --- a good file ----------------------------------------------------------------------------


def test_a_good_file_imports_every_row_with_score_grade_and_history(team: Store, tmp_path: Path) -> None:
    report = import_csv(team, write(tmp_path, GOOD), "leads")
    assert (report.refused, report.written, report.problems) == (False, 2, [])
    assert report.summary() == "imported leads: 2 added, 0 updated, 0 unchanged, 0 skipped"
    emma = leads_by_name(team)["Emma Clarke"]
    assert (emma.company, emma.email) == ("Northwind Ltd", "emma@northwind.example")
    assert (emma.phone, emma.source, emma.status) == ("+44 20 7946 0958", "referral", "new")
    assert (emma.tags, emma.notes) == (["expo", "vip"], "met there")
    assert emma.next_follow_up == date(2030, 3, 5)
    assert (emma.score, emma.grade) == (70, "B")  # referral 30 + email + phone + company
    assert emma.owner == "alice" and [e.kind for e in emma.history] == ["created"]
    assert leads_by_name(team)["Li Wei"].next_follow_up == date(2030, 3, 6)


def test_header_synonyms_from_other_crms(team: Store, tmp_path: Path) -> None:
    text = ("Full Name,Account Name,E-mail Address,Mobile,Lead Source,Rating,Labels,Description,"
            "Assigned To,Next Follow-up,Job Title\n"
            "Ann Lee,Initech,ann@initech.example,555 0100 22,trade show,a,x;y,hi,Bob Smith,2030-01-02,CTO\n")
    report = import_csv(team, write(tmp_path, text), "leads")
    assert report.written == 1, report.problems
    ann = team.all(Lead)[0]
    assert (ann.company, ann.email, ann.phone) == ("Initech", "ann@initech.example", "555 0100 22")
    assert (ann.source, ann.grade, ann.tags, ann.notes) == ("trade show", "A", ["x", "y"], "hi")
    assert (ann.owner, ann.title, ann.next_follow_up) == ("bob", "CTO", date(2030, 1, 2))
    assert [(e.kind, e.to) for e in ann.history] == [("assigned", "bob")]


def test_chinese_headers_with_a_bom(team: Store, tmp_path: Path) -> None:
    text = ("姓名,公司,邮箱,手机,来源,等级,标签,备注\n"
            "张伟,华为,zw@example.cn,138 0013 8000,转介绍,B,重点，展会,老客户介绍\n")
    report = import_csv(team, write(tmp_path, text, encoding="utf-8-sig"), "leads")
    assert report.written == 1, report.problems
    lead = team.all(Lead)[0]
    assert (lead.name, lead.company, lead.email) == ("张伟", "华为", "zw@example.cn")
    assert lead.phone == "138 0013 8000"
    # 转介绍 (a referral) is one of the usual Chinese lead sources
    assert (lead.source, lead.grade, lead.tags, lead.notes) == ("referral", "B", ["重点", "展会"], "老客户介绍")


def test_first_and_last_name_columns_make_the_name(team: Store, tmp_path: Path) -> None:
    text = "First Name,Last Name,Company\nGrace,Hopper,Navy\n名,姓,公司\n"
    path = write(tmp_path, text.replace("名,姓,公司\n", ""))
    assert import_csv(team, path, "leads").written == 1
    assert team.all(Lead)[0].name == "Grace Hopper"
    chinese = write(tmp_path, "姓,名\n王,小明\n", name="cn.csv")
    assert import_csv(team, chinese, "leads").written == 1
    assert "王小明" in leads_by_name(team)


def test_unknown_columns_are_noted_once_and_kept_in_the_notes(team: Store, tmp_path: Path) -> None:
    text = "name,Favourite Colour,id,score\nAnn,blue,x,99\nBob,red,y,98\n"
    report = import_csv(team, write(tmp_path, text), "leads")
    assert report.written == 2
    notes = [w for w in report.warnings if w.startswith("note:")]
    assert len(notes) == 2
    assert "Favourite Colour" in notes[0] and "kept in the notes" in notes[0] and "score" in notes[1]
    ann = leads_by_name(team)["Ann"]
    assert (ann.notes, ann.external_id, ann.score != 99) == ("Favourite Colour: blue", "x", True)


def test_semicolon_and_tab_delimiters_and_excel_unicode_text(team: Store, tmp_path: Path) -> None:
    semi = write(tmp_path, "Name;Company;Notes\nAnn;Acme, Inc;one, two\n", name="semi.csv")
    assert import_csv(team, semi, "leads").written == 1
    assert leads_by_name(team)["Ann"].company == "Acme, Inc"
    tabbed = write(tmp_path, "Name\tCompany\nBo\tBeta, Ltd\n", name="tab.txt", encoding="utf-16")
    assert import_csv(team, tabbed, "leads").written == 1
    assert leads_by_name(team)["Bo"].company == "Beta, Ltd"


def test_files_excel_saved_as_gbk_or_windows_1252(team: Store, tmp_path: Path) -> None:
    gbk = write(tmp_path, "姓名,公司\n张伟,华为技术有限公司\n", name="gbk.csv", encoding="gbk")
    report = import_csv(team, gbk, "leads")
    assert report.written == 1 and "GBK" in report.warnings[0]
    western = write(tmp_path, "name,company\nJosé Müller,Café Crème\n", name="w.csv", encoding="cp1252")
    assert import_csv(team, western, "leads").written == 1
    assert leads_by_name(team)["José Müller"].company == "Café Crème"
    assert leads_by_name(team)["张伟"].company == "华为技术有限公司"


def test_a_file_that_is_not_text_is_refused_in_one_line(team: Store, tmp_path: Path) -> None:
    path = tmp_path / "bin.csv"
    path.write_bytes(b"name,company\n\x81\x9d\x00\xff,\x90\n")
    report = import_csv(team, path, "leads")
    assert report.refused and report.problems == [f"{path} is not UTF-8 text (save it as CSV UTF-8)"]
    assert team.count(Lead) == 0


# --- --map ---------------------------------------------------------------------------------


def test_map_reads_columns_the_synonyms_do_not_know(team: Store, tmp_path: Path) -> None:
    text = "Kunde,Firma,Telefonnummer,Name\nAnn,Acme,555 0100 33,nickname\n"
    report = import_csv(team, write(tmp_path, text), "leads",
                        ImportOptions(columns={"Kunde": "name", "Firma": "company", "telefonnummer": "phone"}))
    assert report.written == 1, report.problems
    ann = team.all(Lead)[0]
    assert (ann.name, ann.company, ann.phone) == ("Ann", "Acme", "555 0100 33")
    assert any("replaced by --map: Name" in w for w in report.warnings)
    path = write(tmp_path, "name,notes\nBo,secret\n", name="ignored.csv")
    report = import_csv(team, path, "leads", ImportOptions(columns={"notes": "ignore"}))
    assert report.written == 1 and leads_by_name(team)["Bo"].notes == ""


def test_map_to_a_field_that_does_not_exist_is_refused(team: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "Kunde\nAnn\n")
    report = import_csv(team, path, "leads", ImportOptions(columns={"Kunde": "nmae"}))
    assert report.refused and "--map Kunde=nmae: 'nmae' is not a lead field" in report.problems[0]
    report = import_csv(team, path, "leads", ImportOptions(columns={"Client": "name"}))
    assert report.refused and "has no column 'Client'" in report.problems[0]
    assert team.count(Lead) == 0


def test_a_file_without_header_is_refused_unless_mapped_by_position(team: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "Ann,ann@example.com\nBob,bob@example.com\n")
    report = import_csv(team, path, "leads")
    assert report.refused and len(report.problems) == 1
    assert "not a header" in report.problems[0] and "--map" in report.problems[0]
    report = import_csv(team, path, "leads", ImportOptions(columns={"2": "email"}))
    assert report.refused and "no column for name (no header row)" in report.problems[0]
    report = import_csv(team, path, "leads", ImportOptions(columns={"1": "name", "2": "email"}))
    assert report.written == 2 and leads_by_name(team)["Bob"].email == "bob@example.com"


def test_a_file_without_a_name_column_is_refused(team: Store, tmp_path: Path) -> None:
    report = import_csv(team, write(tmp_path, "company,email\nAcme,a@acme.example\n"), "leads")
    assert report.refused and "no column for name" in report.problems[0]


# --- bad rows -----------------------------------------------------------------------------

BAD = """\
name,email,notes,next_follow_up
Ann,ann@example.com,"a note
over two lines",
Bob,bob@nowhere,fine,
"Cy",cy@example.com,"three
line
note",2030-13-06
Dee,dee@example.com,x,,surplus
,nobody@example.com,no name,
Eve,eve@example.com,ok,2030-02-30
Fay,fay@example.com,ok,
"""


def test_bad_rows_are_reported_with_their_line_in_the_file(team: Store, tmp_path: Path) -> None:
    report = import_csv(team, write(tmp_path, BAD), "leads")
    assert report.problems == [
        "line 4: email: not a valid email address (expected name@example.com)",
        "line 5: next_follow_up: '2030-13-06' is not a real date (expected YYYY-MM-DD)",
        "line 8: 5 cells but the header has 4 (a value that contains ',' needs quotes)",
        "line 9: name: is empty (required)",
        "line 10: next_follow_up: '2030-02-30' is not a real date (expected YYYY-MM-DD)",
    ]
    assert report.refused and (report.rows, report.bad) == (7, 5)
    assert report.summary() == ("refused: 5 of 7 rows are bad; nothing was imported "
                                "(use --skip-bad to import the 2 good rows)")


def test_one_bad_row_writes_nothing(team: Store, folder: Path, tmp_path: Path) -> None:
    team.new(Lead, name="Already here")
    before, count = folder_bytes(folder), team.count(Lead)
    report = import_csv(team, write(tmp_path, BAD), "leads")
    assert report.refused and report.written == 0
    assert team.count(Lead) == count
    assert folder_bytes(folder) == before
    with Store(folder) as reopened:
        assert reopened.count(Lead) == count


def test_skip_bad_writes_only_the_good_rows(team: Store, tmp_path: Path) -> None:
    report = import_csv(team, write(tmp_path, BAD), "leads", skip_bad=True)
    assert (report.refused, report.written, len(report.problems)) == (False, 2, 5)
    assert set(leads_by_name(team)) == {"Ann", "Fay"}
    assert leads_by_name(team)["Ann"].notes == "a note\nover two lines"
    assert report.summary() == "imported leads: 2 added, 0 updated, 0 unchanged, 5 skipped"


def test_skip_bad_with_no_good_row_is_still_refused(team: Store, tmp_path: Path) -> None:
    report = import_csv(team, write(tmp_path, "name,email\nAnn,nope\n"), "leads", skip_bad=True)
    assert report.refused and report.summary() == "refused: the only row is bad; nothing was imported"


def test_dry_run_checks_everything_and_writes_nothing(team: Store, folder: Path, tmp_path: Path) -> None:
    team.new(Lead, name="Already here")
    before = folder_bytes(folder)
    report = import_csv(team, write(tmp_path, GOOD), "leads", dry_run=True)
    assert report.summary() == "dry run, nothing written: leads 2 added, 0 updated, 0 unchanged, 0 skipped"
    assert not report.refused and report.written == 0
    report = import_csv(team, write(tmp_path, BAD), "leads", dry_run=True)
    assert report.refused and report.summary().startswith("dry run: refused: 5 of 7 rows are bad")
    assert folder_bytes(folder) == before and team.count(Lead) == 1


def test_values_are_checked_by_the_models(team: Store, tmp_path: Path) -> None:
    """Only what cannot be stored refuses a row; a value with no meaning here takes the
    field's default, keeps its text in the notes, and is counted once."""
    text = "name,phone,grade,status,owner\nAnn,call me,Z,won,zed\nBob,,b,Contacted,carol\nCy,,Z,Nurturing,\n"
    report = import_csv(team, write(tmp_path, text), "leads", skip_bad=True)
    assert report.problems == ["line 2: phone: not a valid phone number (digits, spaces, + - ( ), 6 to 16 digits)"]
    bob, cy = leads_by_name(team)["Bob"], leads_by_name(team)["Cy"]
    assert (bob.grade, bob.status, bob.owner) == ("B", "contacted", "carol")
    assert (cy.status, cy.owner, cy.notes) == ("new", "alice", "grade: Z\nstatus: Nurturing")
    assert cy.grade == team.config.grade_for(cy.score)
    assert report.value_notes() == [
        "grade 'Z' on 1 row → ungraded; map it with --map-value grade:Z=…",
        "status 'Nurturing' on 1 row → new; map it with --map-value status:Nurturing=…",
    ]


def test_an_unclosed_quote_refuses_the_file(team: Store, tmp_path: Path) -> None:
    report = import_csv(team, write(tmp_path, 'name,notes\nAnn,ok\nBob,"never closed\nCy,x\n'), "leads")
    assert report.refused
    assert report.problems == [f"{tmp_path / 'in.csv'} line 3: a quoted cell is never closed"]


def test_empty_files_and_missing_files(team: Store, tmp_path: Path) -> None:
    empty = import_csv(team, write(tmp_path, "\n\n", name="empty.csv"), "leads")
    assert empty.refused and "is empty" in empty.problems[0]
    header_only = import_csv(team, write(tmp_path, "name,email\n", name="h.csv"), "leads")
    assert header_only.refused and "no rows to import" in header_only.problems[0]
    assert header_only.summary() == "refused: nothing was imported"
    with pytest.raises(StoreError, match=r"no such file: .*missing\.csv"):
        import_csv(team, tmp_path / "missing.csv", "leads")


# --- duplicates and owners ---------------------------------------------------------------------


def test_duplicates_are_imported_with_a_warning(team: Store, tmp_path: Path) -> None:
    team.new(Lead, name="Emma Clarke", phone="+44 20 7946 0958", owner="bob")
    team.new(Customer, name="Globex Corporation")
    text = ("name,email,company,phone\n"
            "Emma C.,,,+44 20 7946 0958\n"
            "Sam,,Globex Corp,\n"
            "Tom,,,+1 555 0100 77\n"
            "Tommy,,,555 0100 77\n")
    report = import_csv(team, write(tmp_path, text), "leads")
    assert report.written == 4 and not report.problems
    assert report.warnings == [
        "line 2: looks like existing lead Emma Clarke (owner bob)",
        "line 3: looks like existing customer Globex Corporation (owner alice)",
        "line 5: looks like line 4 (Tom)",
    ]
    assert report.summary() == ("imported leads: 4 added, 0 updated, 0 unchanged, 0 skipped "
                                "(3 possible duplicates)")


def test_owner_auto_assigns_round_robin_after_the_latest_lead(team: Store, tmp_path: Path) -> None:
    team.new(Lead, name="Earlier", owner="bob")
    text = "name,owner\nA,\nB,\nC,alice\nD,\nE,auto\n"
    report = import_csv(team, write(tmp_path, text), "leads", ImportOptions(owner="auto"))
    assert report.written == 5, report.problems
    owners = {name: lead.owner for name, lead in leads_by_name(team).items()}
    assert [owners[n] for n in "ABCDE"] == ["carol", "alice", "alice", "bob", "carol"]
    assert [e.kind for e in leads_by_name(team)["A"].history] == ["assigned"]


def test_an_owner_that_is_not_a_rep_refuses_the_import(team: Store, tmp_path: Path) -> None:
    report = import_csv(team, write(tmp_path, GOOD), "leads", ImportOptions(owner="zed"))
    assert report.refused
    assert report.problems[0].startswith("--owner zed: 'zed' is not one of the team's reps")
    assert import_csv(team, write(tmp_path, GOOD), "leads", ImportOptions(owner="Bob Smith")).written == 2
    assert {lead.owner for lead in team.all(Lead)} == {"bob"}


# --- customers and contacts ------------------------------------------------------------------


def test_customers_import_with_industry_segment_and_lifecycle(team: Store, tmp_path: Path) -> None:
    text = "客户名称,行业,Segment,Lifecycle,Website,Tags\n北方贸易,制造,SMB,At risk,=cmd(),a;b\n"
    report = import_csv(team, write(tmp_path, text), "customers")
    assert report.written == 1, report.problems
    customer = team.all(Customer)[0]
    assert (customer.name, customer.industry, customer.segment) == ("北方贸易", "制造", "SMB")
    assert (customer.lifecycle, customer.website, customer.tags) == ("at_risk", "=cmd()", ["a", "b"])


def test_contacts_find_their_customer_by_name(team: Store, tmp_path: Path) -> None:
    acme = team.new(Customer, name="Acme Ltd")
    team.new(Customer, name="Globex Inc")
    team.new(Customer, name="Globex LLC")
    text = ("Contact Name,Company,Title,Birthday,Primary\n"
            "Ann,acme ltd,CEO,1980/05/06,yes\n"
            "Ben,Acme,CTO,,\n"
            "Cat,Globex,CFO,,\n"
            "Dan,Initech,,,\n"
            "Eve,,,,\n")
    report = import_csv(team, write(tmp_path, text), "contacts", skip_bad=True)
    assert report.problems == [
        "line 4: customer: 2 customers match 'Globex' (Globex Inc, Globex LLC); "
        "use the exact name or the customer's id",
        "line 5: customer: no customer named 'Initech' (import the customers first)",
        "line 6: customer: is empty (required)",
    ]
    contacts = {c.name: c for c in team.all(Contact)}
    assert set(contacts) == {"Ann", "Ben"} and {c.customer_id for c in contacts.values()} == {acme.id}
    assert (contacts["Ann"].role, contacts["Ann"].birthday, contacts["Ann"].primary) == (
        "CEO", date(1980, 5, 6), True)


def test_a_contacts_file_needs_a_customer_column(team: Store, tmp_path: Path) -> None:
    report = import_csv(team, write(tmp_path, "name,email\nAnn,ann@example.com\n"), "contacts")
    assert report.refused and "no column for customer" in report.problems[0]


# --- the command line ---------------------------------------------------------------------------


def test_cli_import_exit_codes(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    team_config(folder)
    good = write(tmp_path, GOOD, name="good.csv")
    assert main(["import", "csv", str(good), "--as", "leads", "--data", str(folder), "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "dry run, nothing written: leads 2 added, 0 updated, 0 unchanged, 0 skipped"
    assert "  email           → email  e.g. 'Emma@Northwind.example'" in out
    assert main(["import", "csv", str(good), "--as", "leads", "--data", str(folder)]) == 0
    assert capsys.readouterr().out == "imported leads: 2 added, 0 updated, 0 unchanged, 0 skipped\n"
    bad = write(tmp_path, "name,email\nAnn,ann@example.com\nBob,bob@\n", name="bad.csv")
    assert main(["--data", str(folder), "import", "csv", str(bad), "--as", "leads"]) == 1
    captured = capsys.readouterr()
    assert captured.err == "line 3: email: not a valid email address (expected name@example.com)\n"
    assert captured.out == ("refused: 1 of 2 rows is bad; nothing was imported "
                            "(use --skip-bad to import the 1 good row)\n")
    assert main(["import", "csv", str(bad), "--as", "leads", "--data", str(folder), "--skip-bad"]) == 0
    assert main(["import", "csv", str(tmp_path / "nope.csv"), "--as", "leads", "--data", str(folder)]) == 1
    assert "no such file" in capsys.readouterr().err
    with Store(folder) as store:
        assert sorted(leads_by_name(store)) == ["Ann", "Emma Clarke", "Li Wei"]


# --- size ---------------------------------------------------------------------------------------


def test_five_thousand_rows_import_in_one_go(team: Store, folder: Path, tmp_path: Path) -> None:
    """How long it takes is measured by hand, as a whole command: bench/commit_bench.py."""
    lines = ["Full Name,Company,Email,Phone,Source,Tags"]
    lines += [f"Person {i},Company {i % 300},p{i}@example.com,+1 555 {i:07d},website,\"a; b\""
              for i in range(5000)]
    path = write(tmp_path, "\n".join(lines) + "\n")
    report = import_csv(team, path, "leads", ImportOptions(owner="auto"))
    assert report.written == 5000 and not report.problems
    with Store(folder) as reopened:
        assert reopened.count(Lead) == 5000


def test_report_summary_wording() -> None:
    assert ImportReport(table="contacts", added=1, rows=1).summary() == (
        "imported contacts: 1 added, 0 updated, 0 unchanged, 0 skipped")
    assert ImportReport(table="leads", dry_run=True, rows=4, bad=1, added=2, unchanged=1, duplicates=1).summary() == (
        "dry run, nothing written: leads 2 added, 0 updated, 1 unchanged, 1 skipped (1 possible duplicate)")
