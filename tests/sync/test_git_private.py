"""`dealdeck sync git` leaves every team file in the clone 0600: the files it writes, the
files git checks out for it, and the files a plain `git clone` checked out before."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from store.database import Store
from store.models import Lead
from tests.sync.conftest import TEAM

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(subprocess.run(["git", "--version"], capture_output=True).returncode != 0,
                                reason="needs git")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Never read the user's git configuration."""
    config = tmp_path / "gitconfig"
    config.write_text("[init]\n\tdefaultBranch = main\n[user]\n\tname = Test\n\temail = test@example.com\n")
    return {**os.environ, "PYTHONPATH": str(ROOT), "GIT_CONFIG_GLOBAL": str(config), "GIT_CONFIG_NOSYSTEM": "1"}


def run(env: dict[str, str], *argv: str, umask: int = 0o022) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, env=env, umask=umask, check=True)


def rep(tmp_path: Path, env: dict[str, str], name: str, remote: Path) -> tuple[Path, Path]:
    data, clone = tmp_path / f"{name}-data", tmp_path / f"{name}-clone"
    data.mkdir()
    (data / "config.yaml").write_text(f"me: {name}\n{TEAM}")
    with Store(data) as store:
        store.new(Lead, name=f"{name}'s lead")
    run(env, "git", "clone", "--quiet", str(remote), str(clone))  # as a user would, umask 022
    return data, clone


def sync(env: dict[str, str], data: Path, clone: Path) -> None:
    run(env, sys.executable, "-m", "tui.cli", "sync", "git", str(clone), "--data", str(data), umask=0)


def modes(clone: Path) -> dict[str, int]:
    """Every file of the team's (segments, manifests), but git's own."""
    return {str(p.relative_to(clone)): p.stat().st_mode & 0o777 for p in clone.rglob("*")
            if p.is_file() and ".git" not in p.relative_to(clone).parts}


def test_every_team_file_in_a_git_clone_is_private(tmp_path: Path, env: dict[str, str]) -> None:
    remote = tmp_path / "team.git"
    run(env, "git", "init", "--quiet", "--bare", str(remote))
    ann, bo = rep(tmp_path, env, "ann", remote), rep(tmp_path, env, "bo", remote)
    sync(env, *ann)
    sync(env, *bo)   # pulls ann's export
    sync(env, *ann)  # pulls bo's
    cy = rep(tmp_path, env, "cy", remote)  # a clone made after both pushed: their files are 0644
    assert set(modes(cy[1]).values()) == {0o644}
    sync(env, *cy)
    for _, clone in (ann, bo, cy):
        assert len(modes(clone)) >= 4 and set(modes(clone).values()) == {0o600}, clone.name
    with Store(cy[0]) as store:
        assert store.count(Lead) == 3
