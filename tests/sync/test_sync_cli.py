"""`dealdeck sync ...` through the real command line entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from store.database import Store
from store.models import Lead
from tests.sync.conftest import TEAM
from tui.cli import main


def make(folder: Path, rep: str) -> Path:
    folder.mkdir()
    (folder / "config.yaml").write_text(f"me: {rep}\n{TEAM}")
    with Store(folder) as store:
        store.new(Lead, name=f"{rep}'s lead")
    return folder


def test_export_merge_and_undo(tmp_path: Path, shared: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ann, bo = make(tmp_path / "ann", "ann"), make(tmp_path / "bo", "bo")
    assert main(["sync", "export", str(shared), "--data", str(ann)]) == 0
    assert main(["sync", "merge", str(shared), "--dry-run", "--data", str(bo)]) == 0
    assert "would merge 1 teammate(s)" in capsys.readouterr().out
    with Store(bo) as store:
        assert store.count(Lead) == 1
    assert main(["sync", "merge", str(shared), "--data", str(bo)]) == 0
    assert "ann (" in capsys.readouterr().out
    with Store(bo) as store:
        assert store.count(Lead) == 2
    assert main(["sync", "undo", "--data", str(bo)]) == 0
    assert ": 1 lead removed" in capsys.readouterr().out
    with Store(bo) as store:
        assert store.count(Lead) == 1


def test_refusals_are_one_line_with_exit_1(tmp_path: Path, shared: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bo = make(tmp_path / "bo", "bo")
    assert main(["sync", "export", "--data", str(bo)]) == 1  # no folder given, none configured
    assert "set sync.folder" in capsys.readouterr().err
    (shared / ("0" * 16 + ".dealdeck.json")).write_text("{not json")
    assert main(["sync", "merge", str(shared), "--data", str(bo)]) == 1  # a teammate's file is refused
    err = capsys.readouterr().err
    assert err.startswith(f"dealdeck: refused {'0' * 16}.dealdeck.json: header: not valid JSON")
    assert err.count("\n") == 1
    assert main(["sync", "undo", "--data", str(bo)]) == 1
    assert main(["sync", "merge", str(tmp_path / "nowhere"), "--data", str(bo)]) == 1
