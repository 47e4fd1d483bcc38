"""A big file's rows are read and validated by worker processes: the result must be the
one the import gives without them, row for row, report line for report line."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from store.database import Store
from store.imports import ImportOptions, ImportReport, import_csv, reading
from store.imports.parallel import WORKERS_VARIABLE
from store.models import Lead

DATA = Path(__file__).resolve().parents[1] / "data" / "csv"
TEAM = ("me: alice\nreps:\n  - {id: alice, name: Alice Smith}\n  - {id: david, name: David Love}\n"
        "  - {id: bob, name: Bob}\n")


def zoho_twice_over(path: Path) -> Path:
    """The real Zoho export, its rows repeated with new ids (more than a few batches), and
    a bad row and a repeated id in the middle."""
    with (DATA / "zoho_leads.csv").open(encoding="utf-8", newline="") as file:
        header, *rows = list(csv.reader(file))
    key = header.index("Record Id") if "Record Id" in header else 0
    email = next(i for i, name in enumerate(header) if name.lower() == "email")
    out = [header]
    for copy in range(3):
        for row in rows:
            row = list(row)
            row[key] = f"{row[key]}-{copy}"
            out.append(row)
    out[1500][email] = "not an address"
    again = list(out[10])  # the same id again, one value changed: an update of what row 10 added
    again[header.index("Industry")] = "Shipbuilding"
    out.append(again)
    with path.open("w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows(out)
    return path


def imported(folder: Path, source: Path, workers: str, monkeypatch: pytest.MonkeyPatch,
             options: ImportOptions | None = None) -> tuple[ImportReport, dict[str, dict[str, object]]]:
    folder.mkdir()
    (folder / "config.yaml").write_text(TEAM, encoding="utf-8")
    monkeypatch.setenv(WORKERS_VARIABLE, workers)
    with Store(folder) as store:
        report = import_csv(store, source, "leads", options, skip_bad=True)
    with Store(folder) as reopened:
        leads = {lead.external_id: lead.model_dump(exclude={"id", "created_at", "updated_at", "history"})
                 for lead in reopened.all(Lead)}
    return report, leads


@pytest.mark.slow
@pytest.mark.parametrize("owner", [None, "auto"])
def test_workers_give_the_result_of_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                owner: str | None) -> None:
    source = zoho_twice_over(tmp_path / "zoho-x3.csv")
    options = ImportOptions(owner=owner)
    alone, alone_leads = imported(tmp_path / "alone", source, "0", monkeypatch, options)
    shared, shared_leads = imported(tmp_path / "shared", source, "2", monkeypatch, options)
    assert (alone.added, alone.updated, alone.unchanged, alone.bad) == (2999, 1, 0, 1)
    assert (shared.added, shared.updated, shared.unchanged, shared.bad) == (2999, 1, 0, 1)
    assert shared.problems == alone.problems and shared.warnings == alone.warnings
    assert shared.value_notes() == alone.value_notes()
    assert shared_leads == alone_leads
    if owner == "auto":  # the round robin went on in the file's order, across batches
        assert {lead["owner"] for lead in shared_leads.values()} == {"alice", "david", "bob"}


def awkward_file(path: Path, *, broken: bool = False) -> Path:
    """Rows that mislead a cut by counting quotes: a quote inside an unquoted cell
    (``27" screen``) and quoted notes over several lines; ``broken``: a row late in the
    file whose quoted cell is never closed."""
    lines = ["Record Id,Last Name,Company,Email,Description\n"]
    for i in range(600):
        if i % 7 == 3:
            lines.append(f'r{i},Lee{i},Acme,p{i}@example.com,wants a 27" screen\n')
        elif i % 5 == 1:
            lines.append(f'r{i},Ray{i},"Beta, Inc",q{i}@example.com,"first line\nsecond ""quoted"" line\n"\n')
        else:
            lines.append(f"r{i},Ng{i},Gamma,s{i}@example.com,plain\n")
    if broken:
        lines.insert(500, 'r-bad,Oops,Delta,bad@example.com,"never closed\n')
    path.write_text("".join(lines), encoding="utf-8")
    return path


@pytest.mark.slow
@pytest.mark.parametrize("broken", [False, True])
def test_blocks_cut_where_quotes_mislead_give_the_result_of_one_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broken: bool) -> None:
    monkeypatch.setattr(reading, "BLOCK_BYTES", 2048)  # dozens of blocks, many cut near a stray quote
    source = awkward_file(tmp_path / "awkward.csv", broken=broken)
    alone, alone_leads = imported(tmp_path / "alone", source, "0", monkeypatch)
    shared, shared_leads = imported(tmp_path / "shared", source, "2", monkeypatch)
    assert (shared.refused, shared.added, shared.problems) == (alone.refused, alone.added, alone.problems)
    assert shared_leads == alone_leads
    if broken:
        assert shared.refused and "awkward.csv line " in shared.problems[0]
    else:
        assert shared.added == 600 and "second \"quoted\" line" in shared_leads["r1"]["notes"]


def test_a_file_without_a_header_imports_each_row_once(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(TEAM, encoding="utf-8")
    source = tmp_path / "plain.csv"
    source.write_text("Ann Lee,ann@example.com,Acme\nBob Ray,bob@example.com,Beta\n", encoding="utf-8")
    options = ImportOptions(columns={"1": "name", "2": "email", "3": "company"})
    with Store(tmp_path) as store:
        report = import_csv(store, source, "leads", options)
        assert (report.rows, report.added, report.unchanged) == (2, 2, 0)
        assert sorted(lead.name for lead in store.all(Lead)) == ["Ann Lee", "Bob Ray"]
