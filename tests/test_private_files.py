"""Files Dealdeck writes outside the data folder are 0600 whatever the umask, and a
reader that goes away early (``| head``) gets no traceback: real processes, real files."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from store.database import Store
from store.errors import StoreError
from store.files import make_private, private_text, write_private_text
from store.models import Lead
from tests.sync.conftest import TEAM
from tui.cli import EXIT_PIPE

ROOT = Path(__file__).resolve().parents[1]
UMASKS = [0o000, 0o022]


def dealdeck(*args: str, umask: int = 0o022, **popen: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "tui.cli", *args], capture_output=True, text=True, env=env,
                          umask=umask, **popen)  # type: ignore[call-overload]


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def rep_folder(folder: Path, rep: str = "ann", leads: int = 3) -> Path:
    folder.mkdir()
    (folder / "config.yaml").write_text(f"me: {rep}\n{TEAM}")
    with Store(folder) as store:
        for number in range(leads):
            store.new(Lead, name=f"{rep}'s lead {number}", email=f"{rep}{number}@example.com")
    return folder


@pytest.mark.parametrize("umask", UMASKS)
def test_csv_export_and_review_files_are_private(tmp_path: Path, umask: int) -> None:
    data = rep_folder(tmp_path / "data")
    csv_file, report = tmp_path / "leads.csv", tmp_path / "review"
    assert dealdeck("export", "csv", "leads", "--data", str(data), "-o", str(csv_file), umask=umask).returncode == 0
    assert mode(csv_file) == 0o600 and "ann0@example.com" in csv_file.read_text(encoding="utf-8-sig")
    for kind in ("md", "html", "json"):
        target = report.with_suffix(f".{kind}")
        done = dealdeck("review", "--format", kind, "--data", str(data), "-o", str(target), umask=umask)
        assert done.returncode == 0, done.stderr
        assert mode(target) == 0o600 and target.stat().st_size > 0


def test_an_existing_readable_file_is_replaced_by_a_private_one(tmp_path: Path) -> None:
    data = rep_folder(tmp_path / "data")
    target = tmp_path / "leads.csv"
    target.write_text("old")
    target.chmod(0o666)
    assert dealdeck("export", "csv", "leads", "--data", str(data), "-o", str(target), umask=0).returncode == 0
    assert mode(target) == 0o600 and "ann0@example.com" in target.read_text(encoding="utf-8-sig")
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_what_sync_export_publishes_is_private(tmp_path: Path) -> None:
    data, team = rep_folder(tmp_path / "data"), tmp_path / "team"
    team.mkdir()
    done = dealdeck("sync", "export", str(team), "--data", str(data), umask=0)
    assert done.returncode == 0, done.stderr
    [folder] = team.iterdir()  # the replica's own folder: a segment and the manifest
    assert mode(folder) == 0o700
    files = list(folder.iterdir())
    assert len(files) == 2 and {mode(path) for path in files} == {0o600}


def test_a_symlinked_target_keeps_its_link_and_the_file_it_names_is_private(tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("old")
    real.chmod(0o644)
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    write_private_text(link, "new")
    assert link.is_symlink() and real.read_text() == "new" and mode(real) == 0o600


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), private_text(target) as out:
        out.write("half")
        raise RuntimeError("stop")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_make_private_takes_group_and_other_bits_off(tmp_path: Path) -> None:
    path = tmp_path / "x"
    path.write_text("x")
    path.chmod(0o664)
    make_private(path)
    assert mode(path) == 0o600
    make_private(tmp_path / "missing")  # nothing to do, no error


# --- a reader that goes away -------------------------------------------------------------------


def closed_early(*args: str) -> tuple[int, str]:
    """Run the command with its stdout a pipe whose reader closed before anything was written
    (``| head`` that has read enough): the status and stderr."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen([sys.executable, "-m", "tui.cli", *args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        err = proc.stderr.read().decode()
    return proc.returncode, err


def reads_a_line_then_closes(*args: str) -> tuple[int, str, bytes]:
    """``dealdeck ... | head -1``: read one line of a long output, then close the pipe."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen([sys.executable, "-m", "tui.cli", *args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()
        proc.stdout.close()
        err = proc.stderr.read().decode()
    return proc.returncode, err, first


@pytest.fixture
def team(tmp_path: Path) -> Callable[[], tuple[Path, Path]]:
    def make() -> tuple[Path, Path]:
        shared = tmp_path / "team"
        shared.mkdir()
        ann, bo = rep_folder(tmp_path / "ann", "ann"), rep_folder(tmp_path / "bo", "bo")
        assert dealdeck("sync", "export", str(shared), "--data", str(ann)).returncode == 0
        return shared, bo
    return make


def test_sync_merge_into_a_closed_pipe_prints_no_traceback(team: Callable[[], tuple[Path, Path]]) -> None:
    shared, bo = team()
    status, err = closed_early("sync", "merge", str(shared), "--data", str(bo))
    assert (status, err) == (EXIT_PIPE, "")
    with Store(bo) as store:
        assert store.count(Lead) == 6  # the merge was done; only its report had no reader


@pytest.mark.parametrize("command", [["export", "csv", "leads"], ["review"], ["review", "--format", "json"]])
def test_reports_into_a_closed_pipe_print_no_traceback(tmp_path: Path, command: list[str]) -> None:
    data = rep_folder(tmp_path / "data")
    assert closed_early(*command, "--data", str(data)) == (EXIT_PIPE, "")


def test_export_csv_piped_to_head_stops_quietly(tmp_path: Path) -> None:
    data = rep_folder(tmp_path / "data", leads=800)  # far more than a pipe's buffer
    status, err, first = reads_a_line_then_closes("export", "csv", "leads", "--data", str(data))
    assert (status, err) == (EXIT_PIPE, "") and first.startswith(b"id,owner,")


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a link another owner needs root")
def test_a_link_made_by_another_user_is_not_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "authorized_keys"
    victim.write_text("keep me")
    planted = tmp_path / "report.md"
    planted.symlink_to(victim)
    os.lchown(planted, 4321, 4321)  # as if another user had planted it (the tests run as root)
    with pytest.raises(StoreError, match="link made by another user"):
        write_private_text(planted, "REPORT")
    assert victim.read_text() == "keep me"
