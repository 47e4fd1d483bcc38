"""A big file's rows are read and validated by worker processes: the result must be the
one the import gives without them, row for row, report line for report line."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from store.database import Store
from store.imports import ImportOptions, ImportReport, import_csv
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
