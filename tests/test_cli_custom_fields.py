"""Custom fields through the command line: a real Salesforce export imported into the
team's own fields (matched by label, or by ``--map``), exported as columns named by key,
and imported again unchanged."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from store.database import Store
from store.models import Lead
from tui.cli import main

SALESFORCE = Path(__file__).parent / "data" / "csv" / "salesforce_leads.csv"
FIELDS = {"leads": [
    {"key": "industry", "label": "Industry", "type": "choice", "choices": ["Agriculture", "Apparel", "Energy"],
     "column": True, "filter": True},
    {"key": "annual_revenue", "label": "Annual revenue", "type": "money"},
    {"key": "interest", "label": "Product interest", "type": "text"},
]}


def team_folder(path: Path) -> Path:
    path.mkdir()
    (path / "config.yaml").write_text("me: ann\nreps: [{id: ann, name: Ann}]\n")
    with Store(path) as store:
        store.save_team_settings({"custom_fields": FIELDS})
    return path


def custom_of(folder: Path) -> dict[str, dict[str, object]]:
    with Store(folder) as store:
        return {doc["name"]: {k: v for k, v in doc.items() if k.startswith("cf.")} for doc in store.rows(Lead)}


def test_an_export_of_another_crm_fills_the_teams_fields_and_comes_back_the_same(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = team_folder(tmp_path / "first")
    status = main(["import", "csv", str(SALESFORCE), "--as", "leads", "--data", str(first),
                   "--map", "ProductInterest__c=cf.interest"])
    assert status == 0, capsys.readouterr().err
    leads = custom_of(first)
    bertha = leads["Bertha Boxer"]
    # "Industry" and "AnnualRevenue" matched by label; the product interest by --map
    assert bertha == {"cf.industry": "Agriculture", "cf.annual_revenue": "900750000.00", "cf.interest": "GC5000 series"}
    capsys.readouterr()
    assert main(["export", "csv", "leads", "--data", str(first)]) == 0
    exported = capsys.readouterr().out
    header = next(csv.reader(io.StringIO(exported)))
    assert header[-3:] == ["industry", "annual_revenue", "interest"]
    again = team_folder(tmp_path / "again")
    copy = tmp_path / "leads.csv"
    copy.write_text(exported, encoding="utf-8")
    assert main(["import", "csv", str(copy), "--as", "leads", "--data", str(again)]) == 0
    assert custom_of(again) == leads


def test_a_value_that_does_not_fit_a_field_is_reported_with_its_line(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    folder = team_folder(tmp_path / "data")
    bad = tmp_path / "bad.csv"
    bad.write_text("Name,Industry\nEmma Clarke,Agriculture\nTom Ford,Mining\n", encoding="utf-8")
    main(["import", "csv", str(bad), "--as", "leads", "--data", str(folder)])
    err = capsys.readouterr().err
    assert "line 3" in err and "cf.industry: should be one of Agriculture, Apparel, Energy" in err
    assert set(custom_of(folder)) <= {"Emma Clarke"}


def test_map_to_a_field_the_team_has_not_declared_says_which_fields_there_are(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = team_folder(tmp_path / "data")
    assert main(["import", "csv", str(SALESFORCE), "--as", "leads", "--data", str(folder),
                 "--map", "Rating=cf.rating"]) == 1
    err = capsys.readouterr().err
    assert "'cf.rating' is not a lead field" in err and "cf.industry" in err
