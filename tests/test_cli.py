"""The command line's stable interface: exit codes and one-line messages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from store.database import Store
from store.models import Lead
from tui.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_check_passes_on_a_sound_folder(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Store(folder) as store:
        store.new(Lead, name="Ada")
    assert main(["check", "--data", str(folder)]) == 0
    assert "all files are sound" in capsys.readouterr().out


def test_check_fails_on_a_damaged_file_and_changes_nothing(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Store(folder) as store:
        store.new(Lead, name="Ada")
    (folder / "pipeline.json").write_bytes(b'{"format": "dealdeck-tables", "sch')
    before = (folder / "pipeline.json").read_bytes()
    assert main(["--data", str(folder), "check"]) == 1
    err = capsys.readouterr().err
    assert "pipeline.json" in err and "not valid JSON" in err
    assert (folder / "pipeline.json").read_bytes() == before


def test_a_corrupt_database_gives_one_line_not_a_traceback(folder: Path) -> None:
    with Store(folder) as store:
        store.new(Lead, name="Ada")
    (folder / "leads.json").write_bytes(b"\x00garbage")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "tui.cli", "export", "csv", "leads", "--data", str(folder)],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "leads.json" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_config_gives_one_line(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder.mkdir()
    (folder / "config.yaml").write_text("stages: 7\n")
    assert main(["export", "csv", "leads", "--data", str(folder)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("dealdeck: ") and "stages" in err and err.count("\n") == 1


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frobnicate"]) == 2
    assert main(["demo", "--leads", "many"]) == 2
    assert main(["import", "csv", "x.csv", "--map", "nocolumn", "--as", "leads"]) == 2
    assert "usage:" in capsys.readouterr().err


def test_options_before_and_after_the_subcommand(folder: Path, tmp_path: Path) -> None:
    with Store(folder) as store:
        store.new(Lead, name="Ada")
    out = tmp_path / "leads.csv"
    assert main(["--data", str(folder), "export", "csv", "leads", "-o", str(out)]) == 0
    assert "Ada" in out.read_text()
    out.unlink()
    assert main(["export", "csv", "leads", "--data", str(folder), "-o", str(out)]) == 0
    assert "Ada" in out.read_text()


def test_data_folder_comes_from_the_environment(folder: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    with Store(folder) as store:
        store.new(Lead, name="Ada")
    monkeypatch.setenv("DEALDECK_DATA", str(folder))
    assert main(["check"]) == 0
    assert str(folder) in capsys.readouterr().out


def test_check_finds_a_record_its_model_refuses(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Store(folder) as store:
        lead = store.new(Lead, name="Ada")
        store.storage.compact()
    from store.tablefile import read_table_file, table_file_pieces

    body = read_table_file(folder / "leads.json")
    body["tables"]["leads"][lead.id]["email"] = "not an email"
    (folder / "leads.json").write_bytes(b"".join(table_file_pieces(body["tables"], ("leads",), body["clock"], 1)))
    assert main(["check", "--data", str(folder)]) == 1
    assert f"leads record {lead.id}: email: not a valid email" in capsys.readouterr().err


def test_an_unwritable_output_is_one_line(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Store(folder).close()
    assert main(["export", "csv", "leads", "--data", str(folder), "-o", "/nonexistent/x.csv"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("dealdeck: cannot write /nonexistent/x.csv") and "Traceback" not in err


def test_acting_as_an_unknown_rep_is_refused_before_the_app_opens(folder: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    with Store(folder) as store:
        store.new(Lead, name="Ada")
    assert main(["--data", str(folder), "--as", "zed"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("dealdeck: 'zed' is not one of the reps") and err.count("\n") == 1
