"""``dealdeck team show|edit``: the team settings on the command line, edited in $EDITOR
(a real child process: a small shell script standing in for the rep's editor)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml

from store.database import Store
from store.models import TeamSetting
from tui.cli import main


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "config.yaml").write_text("me: ann\nreps: [{id: ann, name: Ann}, {id: bo, name: Bo}]\n")
    return data


def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sed: str) -> None:
    """$EDITOR: a script that edits the file it is given with ``sed``."""
    script = tmp_path / "edit.sh"
    script.write_text(f"#!/bin/sh\nsed -i '{sed}' \"$1\"\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("EDITOR", str(script))
    monkeypatch.delenv("VISUAL", raising=False)


def test_show_prints_the_settings_in_force_as_yaml(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["team", "show", "--data", str(folder)]) == 0
    shown = yaml.safe_load(capsys.readouterr().out)
    assert [rep["id"] for rep in shown["reps"]] == ["ann", "bo"]
    assert shown["stages"][2] == {"key": "quote", "label": "Quote", "probability": 50, "kind": "open",
                                  "stale_days": 10, "stuck_days": 30, "forecast": "best_case"}
    assert "theme" not in shown and "me" not in shown  # personal: they stay in config.yaml


def test_an_invalid_save_is_refused_with_its_line_and_nothing_is_written(
        folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    editor(tmp_path, monkeypatch, "s/probability: 50/probability: 140/")
    main(["team", "show", "--data", str(folder)])
    line = next(i for i, text in enumerate(capsys.readouterr().out.splitlines(), 1) if "probability: 50" in text)
    assert main(["team", "edit", "--data", str(folder)]) == 1
    assert capsys.readouterr().err == (f"dealdeck: team settings not saved: line {line}: stages.2.probability: "
                                       "Input should be less than or equal to 100\n")
    with Store(folder) as store:
        assert store.count(TeamSetting) == 0


def test_a_valid_save_applies_and_goes_to_the_team(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    editor(tmp_path, monkeypatch, "s/probability: 50/probability: 60/")
    assert main(["team", "edit", "--data", str(folder)]) == 0
    assert "they go to the team with the next sync" in capsys.readouterr().out
    with Store(folder) as store:
        assert store.config.stage("quote").probability == 60
    editor(tmp_path, monkeypatch, "s/probability: 60/probability: 65/")
    assert main(["team", "edit", "--data", str(folder)]) == 0
    assert capsys.readouterr().out == "dealdeck: saved stages; they go to the team with the next sync\n"


def test_an_editor_that_fails_saves_nothing(folder: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("EDITOR", "false")
    assert main(["team", "edit", "--data", str(folder)]) == 1
    assert capsys.readouterr().err == "dealdeck: the editor 'false' exited with status 1: nothing saved\n"


def test_purge_clears_a_deleted_custom_field_and_refuses_a_live_one(folder: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from store.models import Lead

    field = {"key": "industry", "label": "Industry"}
    with Store(folder) as store:
        store.save_team_settings({"custom_fields": {"leads": [field]}})
        store.new(Lead, name="Emma", **{"cf.industry": "Retail"})
    assert main(["team", "purge-field", "leads.industry", "--data", str(folder)]) == 1
    assert "only a deleted field is purged" in capsys.readouterr().err
    with Store(folder) as store:
        store.save_team_settings({"custom_fields": {"leads": [{**field, "deleted": True}]}})
    assert main(["team", "purge-field", "leads.industry", "--data", str(folder)]) == 0
    assert capsys.readouterr().out.startswith("dealdeck: cleared leads.industry on 1 record;")
    with Store(folder) as store:
        assert all("cf.industry" not in doc for doc in store.rows(Lead))
    assert main(["team", "purge-field", "nowhere", "--data", str(folder)]) == 1
