"""The git transport against real repositories: a bare remote and clones acting as reps."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from sync.errors import SyncError
from sync.git import NO_REMOTE, GitSyncError, GitSyncResult, describe_failure, git_sync, redact

pytestmark = pytest.mark.skipif(subprocess.run(["git", "--version"], capture_output=True).returncode != 0,
                                reason="needs git")


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture(autouse=True)
def hermetic_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read or touch the user's git configuration; no identity, so the fallback is used."""
    config = tmp_path / "gitconfig"
    config.write_text("[init]\n\tdefaultBranch = main\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    path = tmp_path / "team.git"
    git(tmp_path, "init", "--quiet", "--bare", str(path))
    return path


class Rep:
    """One rep's clone of the team repository, with recording publish / merge callbacks:
    publishing writes the rep's own folder (as ``sync.publish`` does), merging notes the
    teammates' folders it found."""

    def __init__(self, folder: Path, replica: str, rep: str) -> None:
        self.folder, self.replica, self.rep = folder, replica, rep
        self.content = {"replica": replica, "n": 0}
        self.merged: list[list[str]] = []
        self.on_merge: Callable[[], None] = lambda: None

    @property
    def own(self) -> Path:
        return self.folder / self.replica

    @property
    def export(self) -> Path:
        """The export file of the first layout (written only by some tests)."""
        return self.folder / f"{self.replica}.dealdeck.json"

    def publish(self) -> list[Path]:
        self.own.mkdir(exist_ok=True)
        (self.own / "manifest.json").write_text(json.dumps(self.content))
        return [self.own, self.export]

    def merge(self) -> str:
        found = sorted(p.name for p in self.folder.iterdir() if not p.name.startswith(".") and p != self.own
                       and p != self.export)
        self.merged.append(found)
        self.on_merge()
        return f"merged {len(found)}"

    def sync(self) -> GitSyncResult:
        return git_sync(self.folder, publish=self.publish, merge=self.merge, replica=self.replica, rep=self.rep)

    def commits(self) -> int:
        return int(git(self.folder, "rev-list", "--count", "HEAD"))

    def clean(self) -> bool:
        return git(self.folder, "status", "--porcelain") == ""


@pytest.fixture
def clone(tmp_path: Path, remote: Path) -> Callable[[str, str], Rep]:
    def make(rep: str, replica: str) -> Rep:
        folder = tmp_path / rep
        git(tmp_path, "clone", "--quiet", str(remote), str(folder))
        return Rep(folder, replica, rep)

    return make


def remote_files(remote: Path) -> list[str]:
    return git(remote, "ls-tree", "--name-only", "main").split()


def test_first_sync_commits_and_pushes(clone: Callable[[str, str], Rep], remote: Path) -> None:
    ann = clone("ann", "a" * 16)
    result = ann.sync()
    assert (result.committed, result.pulled, result.pushed) == (True, False, True)
    assert remote_files(remote) == [ann.own.name]
    assert ann.merged == [[]] and result.report == "merged 0" and result.warning == ""
    assert "pushed" in result.message and "\n" not in result.message
    assert git(ann.folder, "log", "-1", "--format=%an <%ae> %s").startswith(
        f"ann <{'a' * 16}@dealdeck.invalid> dealdeck: ann ({'a' * 16}) sync ")
    assert ann.clean()


def test_second_rep_pulls_and_merges_the_first_reps_file(clone: Callable[[str, str], Rep], remote: Path) -> None:
    ann, bo = clone("ann", "a" * 16), clone("bo", "b" * 16)
    ann.sync()
    result = bo.sync()
    assert (result.committed, result.pulled, result.pushed) == (True, True, True)
    assert bo.merged == [[ann.own.name]]
    assert sorted(remote_files(remote)) == sorted([ann.own.name, bo.own.name])
    again = ann.sync()
    assert again.pulled and not again.committed and not again.pushed
    assert ann.merged[-1] == [bo.own.name]


def test_configured_identity_is_kept(clone: Callable[[str, str], Rep]) -> None:
    ann = clone("ann", "a" * 16)
    git(ann.folder, "config", "user.name", "Ann Example")
    git(ann.folder, "config", "user.email", "ann@example.com")
    ann.sync()
    assert git(ann.folder, "log", "-1", "--format=%an <%ae>") == "Ann Example <ann@example.com>"


def test_unchanged_export_makes_no_commit(clone: Callable[[str, str], Rep]) -> None:
    ann = clone("ann", "a" * 16)
    ann.sync()
    result = ann.sync()
    assert (result.committed, result.pushed) == (False, False)
    assert ann.commits() == 1 and "nothing new to commit" in result.message
    ann.content["n"] = 1
    assert ann.sync().committed and ann.commits() == 2


def test_a_new_export_time_alone_is_not_a_change(clone: Callable[[str, str], Rep]) -> None:
    ann = clone("ann", "a" * 16)
    body = b'{"tables":{}}'

    def export(when: str, data: bytes = body) -> Callable[[], list[Path]]:
        def write() -> list[Path]:
            header = {"format": "dealdeck-export", "exported_at": when}
            ann.export.write_bytes(json.dumps(header).encode() + b"\n" + data)
            return [ann.export]
        return write

    def sync(write: Callable[[], list[Path]]) -> GitSyncResult:
        return git_sync(ann.folder, publish=write, merge=ann.merge, replica=ann.replica, rep="ann")

    assert sync(export("2024-01-01T00:00:00Z")).committed
    assert not sync(export("2024-01-02T00:00:00Z")).committed
    assert ann.clean() and ann.commits() == 1
    assert sync(export("2024-01-03T00:00:00Z", b'{"tables":{"leads":{}}}')).committed


def test_concurrent_exports_both_land(clone: Callable[[str, str], Rep], remote: Path) -> None:
    """Both reps commit before either pushes: bo pushes while ann is between pull and push."""
    ann, bo = clone("ann", "a" * 16), clone("bo", "b" * 16)
    ann.sync()
    bo.sync()
    ann.content["n"] = bo.content["n"] = 1
    results: list[GitSyncResult] = []
    ann.on_merge = lambda: results.append(bo.sync()) if not results else None
    results.append(ann.sync())
    assert all(r.committed and r.pushed for r in results)
    for rep in (ann, bo):
        git(rep.folder, "pull", "--quiet")
        assert rep.clean()
        assert json.loads(git(remote, "show", f"main:{rep.own.name}/manifest.json")) == rep.content
    assert git(remote, "rev-parse", "main") == git(ann.folder, "rev-parse", "HEAD")


def test_diverged_histories_rebase_without_conflict(clone: Callable[[str, str], Rep], remote: Path) -> None:
    ann, bo = clone("ann", "a" * 16), clone("bo", "b" * 16)
    ann.sync()
    bo.sync()
    ann.content["n"] = bo.content["n"] = 2
    identity = ("-c", "user.name=Bo", "-c", "user.email=bo@example.com")
    git(bo.folder, *identity, "commit", "--quiet", "-m", "bo's own", "--allow-empty")
    ann.sync()
    result = bo.sync()
    assert result.pulled and result.pushed and bo.clean()
    assert git(remote, "log", "-1", "--format=%s", "main") == git(bo.folder, "log", "-1", "--format=%s")


def test_no_remote_commits_and_merges_locally(tmp_path: Path) -> None:
    folder = tmp_path / "solo"
    git(tmp_path, "init", "--quiet", str(folder))
    (folder / ("c" * 16)).mkdir()
    ann = Rep(folder, "a" * 16, "ann")
    result = ann.sync()
    assert (result.committed, result.pulled, result.pushed) == (True, False, False)
    assert result.warning == NO_REMOTE and NO_REMOTE in result.message
    assert ann.merged == [["c" * 16]]
    assert git(folder, "ls-files") == f"{ann.own.name}/manifest.json"


def test_unreachable_remote_keeps_the_local_commit(clone: Callable[[str, str], Rep], tmp_path: Path) -> None:
    ann = clone("ann", "a" * 16)
    ann.sync()
    gone = tmp_path / "moved.git"
    git(ann.folder, "remote", "set-url", "origin", str(gone))
    ann.content["n"] = 1
    with pytest.raises(SyncError, match=f"no git repository at the remote {gone}") as refused:
        ann.sync()
    assert "\n" not in str(refused.value)
    assert ann.commits() == 2 and ann.clean() and ann.merged == [[]]  # committed here; nothing merged


def test_refused_connection_says_check_the_network(clone: Callable[[str, str], Rep]) -> None:
    ann = clone("ann", "a" * 16)
    git(ann.folder, "remote", "set-url", "origin", "http://user:secret@127.0.0.1:9/team.git")
    with pytest.raises(SyncError) as refused:
        ann.sync()
    assert str(refused.value) == "cannot reach the git remote (http://127.0.0.1:9/team.git): check the network"
    assert ann.commits() == 1 and ann.clean()


def test_same_replica_in_two_folders_conflicts_and_is_undone(clone: Callable[[str, str], Rep]) -> None:
    ann, twin = clone("ann", "a" * 16), clone("twin", "a" * 16)
    twin.content["n"] = 7
    twin.publish()  # the twin committed its own files earlier, offline
    git(twin.folder, "add", "-A")
    git(twin.folder, "-c", "user.name=T", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "twin")
    ann.sync()
    with pytest.raises(SyncError, match="same replica"):
        twin.sync()
    assert twin.clean() and twin.commits() == 1 and twin.merged == []
    assert json.loads((twin.own / "manifest.json").read_text())["n"] == 7
    assert git(twin.folder, "status", "--short", "--branch").startswith("## main")


def test_refused_teammate_file_still_pushes(clone: Callable[[str, str], Rep], remote: Path) -> None:
    ann = clone("ann", "a" * 16)

    def bad() -> None:
        raise SyncError("the team folder is locked by another Dealdeck process")

    with pytest.raises(SyncError, match="locked by another"):
        git_sync(ann.folder, publish=ann.publish, merge=bad, replica=ann.replica, rep="ann")
    assert remote_files(remote) == [ann.own.name]


def test_refused_push_keeps_commit_and_report(clone: Callable[[str, str], Rep], remote: Path) -> None:
    ann = clone("ann", "a" * 16)
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\nexit 1\n")
    hook.chmod(0o755)
    with pytest.raises(GitSyncError, match="refused the push: pre-receive hook declined") as refused:
        ann.sync()
    result = refused.value.result
    assert result is not None and result.report == "merged 0" and not result.pushed
    assert ann.commits() == 1 and ann.clean()


def test_not_a_git_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    ann = Rep(plain, "a" * 16, "ann")
    with pytest.raises(SyncError, match="is not a git repository: `git clone` the team repository there"):
        ann.sync()
    with pytest.raises(SyncError, match="no folder at"):
        Rep(tmp_path / "missing", "a" * 16, "ann").sync()
    assert not ann.own.exists() and not ann.export.exists()


def test_git_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(SyncError, match="git is not installed"):
        Rep(tmp_path, "a" * 16, "ann").sync()


def test_unfinished_rebase_is_refused(clone: Callable[[str, str], Rep]) -> None:
    ann = clone("ann", "a" * 16)
    ann.sync()
    (ann.folder / ".git" / "rebase-merge").mkdir()
    with pytest.raises(SyncError, match="rebase is in progress"):
        ann.sync()


@pytest.mark.parametrize(("stderr", "expected"), [
    ("fatal: unable to access 'https://h/x/': Could not resolve host: h", "cannot reach the git remote (U)"),
    ("ssh: connect to host h port 22: Connection timed out\nfatal: Could not read from remote repository.",
     "cannot reach the git remote (U)"),
    ("remote: Invalid username or password.\nfatal: Authentication failed for 'https://h/x/'",
     "git remote refused the credentials: U"),
    ("git@h: Permission denied (publickey).\nfatal: Could not read from remote repository.",
     "git remote refused the credentials: U"),
    ("fatal: could not read Username for 'https://h': terminal prompts disabled",
     "git remote refused the credentials: U"),
    ("fatal: something odd\nmore", "git pull failed: something odd"),
])
def test_failures_are_explained(stderr: str, expected: str) -> None:
    assert describe_failure(stderr, "U", "pull").startswith(expected)


def test_credentials_never_appear_in_messages() -> None:
    assert redact("https://ann:tok3n@git.example.com/team.git") == "https://git.example.com/team.git"
    assert redact("git@example.com:team.git") == "git@example.com:team.git"


def test_a_silent_remote_times_out(clone: Callable[[str, str], Rep]) -> None:
    ann = clone("ann", "a" * 16)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/team.git"
        git(ann.folder, "remote", "set-url", "origin", url)
        with pytest.raises(SyncError, match=r"check the network \(no answer within 1 s\)"):
            git_sync(ann.folder, publish=ann.publish, merge=ann.merge, replica=ann.replica, rep="ann", timeout=1)
    assert ann.commits() == 1 and ann.clean() and ann.merged == []


def test_detached_head_is_refused_before_anything_is_written(clone: Callable[[str, str], Rep]) -> None:
    ann = clone("ann", "a" * 16)
    ann.sync()
    git(ann.folder, "checkout", "--quiet", "--detach")
    ann.content["n"] = 1
    with pytest.raises(SyncError, match="HEAD is detached"):
        ann.sync()
    assert ann.commits() == 1 and ann.clean()
