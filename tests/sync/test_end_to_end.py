"""Whole sync round trips: real data folders as replicas, a real git remote, bad files."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from store.database import Store
from store.models import Lead
from store.team_settings import TEAM_KEYS
from sync.exchange import export_to, merge_files
from tests.sync import tamper
from tests.sync.conftest import TEAM, folder_bytes
from tui.cli import main

Replica = Callable[[str], Store]


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "gitconfig"
    config.write_text("[user]\n\tname = Test\n\temail = test@example.invalid\n[init]\n\tdefaultBranch = main\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))


def make_rep(tmp_path: Path, rep: str, remote: Path) -> tuple[Path, Path]:
    data = tmp_path / f"{rep}-data"
    data.mkdir()
    work = tmp_path / f"{rep}-team"
    git("clone", "-q", str(remote), str(work), cwd=tmp_path)
    (data / "config.yaml").write_text(f"me: {rep}\n{TEAM}sync: {{folder: '{work}', transport: git}}\n")
    return data, work


def test_two_reps_share_their_work_through_a_git_remote(tmp_path: Path, isolated_git: None,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    remote = tmp_path / "remote.git"
    git("init", "-q", "--bare", str(remote), cwd=tmp_path)
    ann, _ = make_rep(tmp_path, "ann", remote)
    bo, _ = make_rep(tmp_path, "bo", remote)
    with Store(ann) as store:
        lead = store.new(Lead, name="Emma Clarke", email="emma@northwind.example")
    assert main(["sync", "git", "--data", str(ann)]) == 0
    assert main(["sync", "git", "--data", str(bo)]) == 0
    out = capsys.readouterr().out
    # the lead, and the team settings ann's first sync seeded from her config.yaml
    assert "ann (" in out and f"{1 + len(TEAM_KEYS)} added" in out
    assert f"team settings changed: reps, currency, rates, stages and {len(TEAM_KEYS) - 4} more" in out
    with Store(bo) as store:
        assert store.require(Lead, lead.id).name == "Emma Clarke"
        store.update(Lead, lead.id, title="Buyer")
    assert main(["sync", "git", "--data", str(bo)]) == 0
    assert main(["sync", "git", "--data", str(ann)]) == 0
    with Store(ann) as store:
        assert store.require(Lead, lead.id).title == "Buyer"
    assert os.listdir(remote)  # the remote holds both exports' history


def corrupt(kind: str, path: Path) -> None:
    """A segment as a broken sync tool or a tampering teammate leaves it."""
    if kind == "truncated":
        path.write_bytes(path.read_bytes()[:-30])
    elif kind == "hash":  # changed, the manifest not told
        tamper.rewrite(path, body_bytes=lambda data: data.replace(b"Ada", b"Eve"), list_it=False)
    elif kind == "future version":
        tamper.rewrite(path, header=lambda header: header.update(version=99))
    elif kind == "path-like replica":
        tamper.rewrite(path, header=lambda header: header.update(replica="../../etc/passwd"))
    elif kind == "ansi in a name":
        tamper.rewrite(path, body_bytes=lambda data: data.replace(b'"Ada"', b'"\\u001b[31mAda"'))


@pytest.mark.parametrize("kind", ["truncated", "hash", "future version", "path-like replica", "ansi in a name"])
def test_a_bad_segment_leaves_the_database_byte_for_byte_unchanged(replica: Replica, shared: Path, kind: str) -> None:
    ann, bo = replica("ann"), replica("bo")
    ann.new(Lead, name="Ada")
    bo.new(Lead, name="Bo's")
    segment = export_to(ann, shared).segment
    assert segment is not None
    corrupt(kind, segment)
    bo.storage.compact()
    before = database_bytes(bo.folder)
    report = merge_files(bo, [shared])
    assert [path for path, _ in report.refused] == [segment]
    line = next(line for line in report.lines() if line.startswith("refused "))
    assert segment.name in line and "\n" not in line
    assert database_bytes(bo.folder) == before


def database_bytes(folder: Path) -> dict[str, bytes]:
    """The data folder but for the sync state (when the last merge ran, which files it read)."""
    return {name: data for name, data in folder_bytes(folder).items() if name != "sync-state.json"}
