"""`dealdeck import csv` and the read-only commands as a person meets them: one line for a
bad input, grouped problems instead of a screenful, columns that line up in Chinese."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.cells import cell_len

from store.database import Store
from store.models import Lead
from tests.store.test_csv_import_real import DATA, folder_bytes, team_folder
from tui.cli import main


def test_acting_as_someone_who_is_not_a_rep_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = team_folder(tmp_path / "data")
    Store(folder).close()
    before = folder_bytes(folder)
    assert main(["--data", str(folder), "--as", "nobody", "import", "csv", str(DATA / "zoho_leads.csv"),
                 "--as", "leads"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("dealdeck: 'nobody' is not one of the reps") and err.count("\n") == 1
    assert folder_bytes(folder) == before


def test_a_rep_may_be_named_by_name(tmp_path: Path) -> None:
    folder = team_folder(tmp_path / "data")
    assert main(["--data", str(folder), "--as", "Bob Jones", "import", "csv", str(DATA / "salesforce_leads.csv"),
                 "--as", "leads"]) == 0
    with Store(folder) as store:
        assert {lead.owner for lead in store.all(Lead)} == {"bob"}


@pytest.mark.parametrize("command", [["export", "csv", "leads"], ["review"],
                                     ["import", "csv", str(DATA / "zoho_leads.csv"), "--as", "leads", "--dry-run"]])
def test_a_command_that_only_reads_makes_no_data_folder(tmp_path: Path, command: list[str],
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "nowhere"
    assert main(["--data", str(folder), *command]) == 1
    assert not folder.exists()
    assert capsys.readouterr().err == f"dealdeck: no data folder at {folder}: start `dealdeck` to make one, " \
                                      "or give --data\n"


def test_the_same_problem_on_many_rows_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """HubSpot's contacts name companies by domain, which no customer here has: 950 bad rows."""
    folder = team_folder(tmp_path / "data")
    assert main(["import", "csv", str(DATA / "hubspot_contacts.csv"), "--as", "contacts", "--data", str(folder),
                 "--map", "Associated Company Domain=customer"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) <= 25
    grouped = [line for line in err if " rows: lines " in line]
    assert grouped and all(line.count(",") <= 12 for line in grouped)


def test_a_missing_mapped_column_names_the_likely_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = team_folder(tmp_path / "data")
    assert main(["import", "csv", str(DATA / "zoho_leads.csv"), "--as", "leads", "--data", str(folder),
                 "--map", "Lead Stat=status"]) == 1
    err = capsys.readouterr().err
    assert "has no column 'Lead Stat'; did you mean 'Lead Status'?" in err
    assert "in all" not in err and err.count("\n") == 1


def test_the_dry_run_lines_up_chinese_headers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = team_folder(tmp_path / "data")
    assert main(["import", "csv", str(DATA / "chinese_crm_leads.csv"), "--as", "leads", "--data", str(folder),
                 "--dry-run"]) == 0
    columns = [line for line in capsys.readouterr().out.splitlines() if " → " in line and "values of" not in line]
    assert len(columns) >= 8
    assert len({cell_len(line.split(" → ")[0]) for line in columns}) == 1
