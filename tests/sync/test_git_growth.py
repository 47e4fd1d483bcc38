"""With git as the transport, each replica commits only its own new segments and its
manifest: a bare remote and three clones show that the repository grows by the size of
what changed in a round, not by the size of the team's data."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from store.database import Store
from store.demo import generate_demo
from store.models import Lead
from tui.cli import main

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(subprocess.run(["git", "--version"], capture_output=True).returncode != 0,
                                 reason="needs git")]
REPS = ("ann", "bo", "cy")


def git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, check=True).stdout


def packed_bytes(remote: Path) -> int:
    """The bare repository's size once packed (``git gc``): loose and packed objects."""
    git(remote, "gc", "--quiet", "--aggressive", "--prune=now")
    counts = dict(line.split(": ") for line in git(remote, "count-objects", "-v").splitlines())
    return (int(counts["size"]) + int(counts["size-pack"])) * 1024


def team_bytes(clone: Path) -> int:
    return sum(p.stat().st_size for p in clone.rglob("*") if p.is_file() and ".git" not in p.parts)


def new_files(clone: Path, before: set[Path]) -> int:
    """Bytes of the team files a round wrote: new segments, and the manifests rewritten."""
    return sum(p.stat().st_size for p in clone.rglob("*")
               if p.is_file() and ".git" not in p.parts and (p not in before or p.name == "manifest.json"))


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "gitconfig"
    config.write_text("[init]\n\tdefaultBranch = main\n[user]\n\tname = T\n\temail = t@example.invalid\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


def test_the_repository_grows_by_what_changed_not_by_the_team_data(tmp_path: Path, env: None) -> None:
    remote = tmp_path / "team.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(remote)], check=True)
    folders: dict[str, tuple[Path, Path]] = {}
    for number, rep in enumerate(REPS):
        data, clone = tmp_path / rep, tmp_path / f"{rep}-clone"
        generate_demo(data, reps=2, leads=150, seed=number + 1)
        subprocess.run(["git", "clone", "--quiet", str(remote), str(clone)], check=True, capture_output=True)
        folders[rep] = (data, clone)

    def round_of_syncs() -> None:
        for _ in range(2):  # twice, so that every replica has merged everyone's work
            for data, clone in folders.values():
                assert main(["sync", "git", str(clone), "--data", str(data)]) == 0

    round_of_syncs()
    first = packed_bytes(remote)
    data_bytes = team_bytes(folders["ann"][1])
    before = {p for p in folders["ann"][1].rglob("*") if p.is_file()}
    for data, _ in folders.values():  # each rep changes three of their own leads
        with Store(data) as store:
            for lead in [lead for lead in store.all(Lead) if lead.owner == store.me][:3]:
                store.update(Lead, lead.id, title="Head of purchasing")
    round_of_syncs()
    growth = packed_bytes(remote) - first
    written = new_files(folders["ann"][1], before)
    assert first > 200_000  # the team's data went in once
    assert growth <= 3 * written + 16_000, (growth, written)  # what changed, and the commits
    assert growth < data_bytes / 10, (growth, data_bytes)
    with Store(folders["cy"][0]) as store:  # and the change arrived
        assert sum(1 for lead in store.all(Lead) if lead.title == "Head of purchasing") >= 9
