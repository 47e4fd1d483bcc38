"""Whole sync round trips: real data folders as replicas, a real git remote, bad files."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from store.database import Store
from store.models import Lead
from sync.errors import SyncError
from sync.exchange import export_to, merge_files
from sync.format import checksum
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
    assert "ann (" in out and "1 added" in out
    with Store(bo) as store:
        assert store.require(Lead, lead.id).name == "Emma Clarke"
        store.update(Lead, lead.id, title="Buyer")
    assert main(["sync", "git", "--data", str(bo)]) == 0
    assert main(["sync", "git", "--data", str(ann)]) == 0
    with Store(ann) as store:
        assert store.require(Lead, lead.id).title == "Buyer"
    assert os.listdir(remote)  # the remote holds both exports' history


def corrupt(kind: str, path: Path) -> None:
    header, body = path.read_bytes().split(b"\n", 1)
    meta = orjson.loads(header)
    if kind == "truncated":
        path.write_bytes(path.read_bytes()[: len(header) + 40])
    elif kind == "hash":
        path.write_bytes(header + b"\n" + body.replace(b"Ada", b"Eve"))
    elif kind == "future version":
        meta["version"] = 99
        path.write_bytes(orjson.dumps(meta) + b"\n" + body)
    elif kind == "path-like replica":
        meta["replica"] = "../../etc/passwd"
        path.write_bytes(orjson.dumps(meta) + b"\n" + body)
    elif kind == "ansi in a name":
        tampered = body.replace(b'"Ada"', b'"\\u001b[31mAda"')
        import hashlib

        meta["sha256"] = checksum(meta, hashlib.sha256(tampered).hexdigest())
        path.write_bytes(orjson.dumps(meta) + b"\n" + tampered)


@pytest.mark.parametrize("kind", ["truncated", "hash", "future version", "path-like replica", "ansi in a name"])
def test_a_bad_file_leaves_the_database_byte_for_byte_unchanged(replica: Replica, shared: Path, kind: str) -> None:
    ann, bo = replica("ann"), replica("bo")
    ann.new(Lead, name="Ada")
    bo.new(Lead, name="Bo's")
    corrupt(kind, export_to(ann, shared))
    bo.storage.compact()
    before = folder_bytes(bo.folder)
    with pytest.raises(SyncError) as refused:
        merge_files(bo, [shared])
    assert ".dealdeck.json" in str(refused.value) and "\n" not in str(refused.value)
    assert folder_bytes(bo.folder) == before
