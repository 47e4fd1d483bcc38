"""Git transport: export, commit, pull, merge and push a team folder with the system ``git``.

The folder is a clone of the team repository. Every replica writes only its own
``<replica>.dealdeck.json``, so git never sees a content conflict: a
``git pull --rebase`` replays this replica's export commit on top of the
teammates' commits and always applies cleanly.

``git`` runs as a subprocess with an explicit argv (``git -C <folder> ...``, no
shell), ``LC_ALL=C`` (so its messages can be recognised), no terminal prompts
(``GIT_TERMINAL_PROMPT=0``, askpass programs that answer nothing, a new session
without a controlling terminal, so ssh cannot ask either) and a timeout on every
call, after which git and its helpers are killed: it never hangs waiting for a
password. Stored credentials (credential helpers,
ssh agents and keys) still work. Git runs with umask 077, so the files it checks
out are 0600 (exports list other people's names and phones), and export files
checked out earlier are made 0600 before they are merged (git keeps no permission
bits but the executable one, so this changes nothing in the repository).

Behaviour a user can rely on:

* **Nothing half-done.** A failure leaves the work tree as it was and the local
  export commit intact; a pull that fails part-way is undone (``git rebase
  --abort``). Teammates' files are merged into the database only after a
  successful pull, so the merge sees what is current.
* **No remote** is not an error: the export is committed locally and the files
  already in the folder are merged, and the result carries ``warning`` (the
  "add a remote" hint) with ``pushed=False``. A repository without a remote
  still keeps history, and a folder that another tool keeps in step (Syncthing,
  a network share) still merges.
* **A teammate's file that is refused** by ``merge`` does not hold back this
  replica's changes: the export is pushed anyway, then the merge error is raised.
* **A push that fails** after the merge raises :class:`GitSyncError` whose
  ``result`` holds what was done (the merge report included); the export stays
  committed and goes out with the next sync. A push rejected because a
  teammate pushed in between is retried once after pulling again.
* An export that differs from the committed one only in its ``exported_at``
  time is not committed (the file is restored), so syncing without changes adds
  no commits to the team's history.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from store.files import make_private
from sync.errors import SyncError
from sync.format import SUFFIX, export_name

TIMEOUT = 60.0
NO_REMOTE = "no git remote: add one with `git remote add origin URL`"
IDENTITY_DOMAIN = "dealdeck.invalid"
#: git checks out and writes files readable by the user only (0600), whatever the umask
PRIVATE_UMASK = 0o077

_NETWORK = (
    "could not resolve host", "could not resolve hostname", "temporary failure in name resolution",
    "name or service not known", "connection refused", "network is unreachable", "no route to host",
    "timed out", "failed to connect", "couldn't connect to server", "connection reset", "connection closed",
)
_AUTH = (
    "authentication failed", "permission denied", "could not read username", "could not read password",
    "terminal prompts disabled", "invalid username or password", "returned error: 401", "returned error: 403",
    "access denied", "host key verification failed",
)
_NO_REPO = ("does not appear to be a git repository", "repository not found", "not a git repository")


@dataclass
class GitSyncResult:
    """What one ``git_sync`` did; ``message`` is a one-line summary for the screen."""

    pulled: bool
    pushed: bool
    committed: bool
    message: str
    merged: list[Path] | None = None
    report: object = None
    warning: str = ""


class GitSyncError(SyncError):
    """A refused sync step; ``result`` is set when files were merged before it failed."""

    def __init__(self, message: str, result: GitSyncResult | None = None) -> None:
        super().__init__(message)
        self.result = result


# --- running git ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Out:
    code: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.code == 0


class _Timeout(Exception):
    pass


class _Git:
    """``git -C folder`` with a quiet, prompt-free environment and a timeout."""

    def __init__(self, folder: Path, timeout: float) -> None:
        self.folder = folder
        self.timeout = timeout
        self.env = _environment()
        #: ``-c`` options given to every call (the fallback identity, for commit and rebase)
        self.config: tuple[str, ...] = ()

    def run(self, *args: str) -> _Out:
        argv = ["git", "-C", str(self.folder), *self.config, *args]
        with subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=self.env, start_new_session=True, umask=PRIVATE_UMASK) as proc:
            try:
                out, err = proc.communicate(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                _kill(proc)
                raise _Timeout(args[0]) from None
        return _Out(proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))

    def check(self, *args: str) -> str:
        """Run a local step; a failure becomes a SyncError with git's own reason."""
        try:
            out = self.run(*args)
        except _Timeout:
            raise SyncError(f"git {args[0]} did not finish within {self.timeout:g} s in {self.folder}") from None
        if not out.ok:
            raise SyncError(f"git {args[0]} failed in {self.folder}: {_reason(out.stderr)}")
        return out.stdout.strip()

    def value(self, *args: str) -> str:
        """Output of a query that may legitimately fail or time out (then "")."""
        try:
            out = self.run(*args)
        except _Timeout:
            return ""
        return out.stdout.strip() if out.ok else ""


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env.update(LC_ALL="C", LANGUAGE="C", GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="true", SSH_ASKPASS="true",
               GIT_EDITOR="true", GIT_MERGE_AUTOEDIT="no")
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    return env


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill git and its helpers (ssh, remote-https), which hold the pipes open."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (AttributeError, ProcessLookupError, PermissionError):
        proc.kill()
    proc.communicate()


# --- messages ------------------------------------------------------------------------------


def _reason(stderr: str) -> str:
    """The most telling line of git's stderr, without its "fatal:"/"error:" prefix."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        for prefix in ("fatal:", "error:"):
            if line.startswith(prefix):
                return line[len(prefix):].strip()
    return lines[0] if lines else "no reason given"


def redact(url: str) -> str:
    """A remote URL fit for a message: any ``user:password@`` part removed."""
    return re.sub(r"^([a-z][a-z0-9+.-]*://)[^/@]*@", r"\1", url, flags=re.IGNORECASE)


def describe_failure(stderr: str, url: str, step: str) -> str:
    """One actionable line for a failed ``git pull`` / ``git push`` (``step``)."""
    text = stderr.lower()
    if any(sign in text for sign in _NETWORK):
        return f"cannot reach the git remote ({url}): check the network"
    if any(sign in text for sign in _AUTH):
        return f"git remote refused the credentials: {url}"
    if any(sign in text for sign in _NO_REPO):
        return f"no git repository at the remote {url}, or no access to it: check the URL with `git remote -v`"
    match = re.search(r"\[remote rejected\][^(]*\((.*)\)", stderr)
    if match:
        return f"the git remote {url} refused the push: {match.group(1)}"
    return f"git {step} failed: {_reason(stderr)}"


# --- the steps -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Remote:
    name: str
    branch: str
    url: str
    tracked: bool


def _open_repo(folder: Path, timeout: float) -> _Git:
    if shutil.which("git") is None:
        raise SyncError("git is not installed: install git, or sync through a shared folder instead")
    if not folder.is_dir():
        raise SyncError(f"no folder at {folder}: `git clone` the team repository there")
    git = _Git(folder, timeout)
    if git.value("rev-parse", "--is-inside-work-tree") != "true":
        raise SyncError(f"{folder} is not a git repository: `git clone` the team repository there, or `git init` it")
    _refuse_unfinished(git)
    return git


def _refuse_unfinished(git: _Git) -> None:
    for marker, command in (("rebase-merge", "rebase"), ("rebase-apply", "rebase"), ("MERGE_HEAD", "merge")):
        if _marker(git, marker):
            raise SyncError(f"a git {command} is in progress in {git.folder}: finish it or run "
                            f"`git {command} --abort`, then sync again")


def _marker(git: _Git, name: str) -> bool:
    """True when ``.git/<name>`` exists (an unfinished rebase or merge)."""
    path = git.value("rev-parse", "--git-path", name)
    return bool(path) and Path(git.folder, path).exists()


def _own_file(folder: Path, path: Path) -> str:
    if path.resolve().parent != folder.resolve():
        raise SyncError(f"the export {path} is not in the git folder {folder}")
    return path.name


def _commit(git: _Git, name: str, replica: str, rep: str) -> bool:
    """Commit this replica's export if it changed; True when a commit was made."""
    if _only_time_changed(git, name):
        git.check("checkout", "HEAD", "--", name)
        return False
    added = git.run("add", "--", name)
    if not added.ok:
        hint = "remove the .gitignore rule that hides it" if "ignored" in added.stderr else _reason(added.stderr)
        raise SyncError(f"git cannot add {name} in {git.folder}: {hint}")
    if git.run("diff", "--cached", "--quiet", "--", name).ok:
        return False
    when = datetime.now(UTC).isoformat(timespec="seconds")
    git.check("commit", "--quiet", "-m", f"dealdeck: {rep} ({replica}) export {when}", "--", name)
    return True


def _only_time_changed(git: _Git, name: str) -> bool:
    """True when the file differs from the committed one only in the header's ``exported_at``."""
    committed = git.run("show", f"HEAD:./{name}")
    if not committed.ok:
        return False
    old = committed.stdout.encode("utf-8")
    new = (git.folder / name).read_bytes()
    stripped = _without_time(old)
    return old != new and stripped is not None and stripped == _without_time(new)


def _without_time(data: bytes) -> tuple[object, bytes] | None:
    head, _, body = data.partition(b"\n")
    try:
        header = json.loads(head)
    except ValueError:
        return None
    if not isinstance(header, dict) or "exported_at" not in header:
        return None
    header.pop("exported_at")
    return header, body


def _identity(git: _Git, replica: str, rep: str) -> tuple[str, ...]:
    """``-c user.name/email`` for whatever the repository's configuration lacks (commit and rebase need both)."""
    config: list[str] = []
    if not git.value("config", "user.name"):
        config += ["-c", f"user.name={rep or replica}"]
    if not git.value("config", "user.email"):
        config += ["-c", f"user.email={replica}@{IDENTITY_DOMAIN}"]
    return tuple(config)


def _remote(git: _Git) -> _Remote | None:
    """The remote and branch to sync with: the branch's upstream, else origin (or the only remote)."""
    branch = git.value("symbolic-ref", "--quiet", "--short", "HEAD")
    if not branch:
        raise SyncError(f"HEAD is detached in {git.folder}: check out the team branch (`git switch main`)")
    remotes = git.value("remote").split()
    if not remotes:
        return None
    name = git.value("config", f"branch.{branch}.remote")
    if name not in remotes:
        name = "origin" if "origin" in remotes or len(remotes) > 1 else remotes[0]
    if name not in remotes:
        raise SyncError(f"several git remotes and none is the upstream: run `git push -u REMOTE {branch}` once")
    merge = git.value("config", f"branch.{branch}.merge")
    upstream = merge.removeprefix("refs/heads/") or branch
    return _Remote(name, upstream, redact(git.value("remote", "get-url", name)), bool(merge))


def _network(git: _Git, remote: _Remote, *args: str) -> _Out:
    try:
        return git.run(*args)
    except _Timeout:
        _abort_rebase(git)
        raise SyncError(f"cannot reach the git remote ({remote.url}): check the network "
                        f"(no answer within {git.timeout:g} s)") from None


def _pull(git: _Git, remote: _Remote) -> str | None:
    """Rebase onto the remote branch; its tip, or None when the remote has no such branch yet."""
    out = _network(git, remote, "pull", "--rebase", "--autostash", "--quiet", remote.name, remote.branch)
    if out.ok:
        return git.check("rev-parse", "FETCH_HEAD")
    if "couldn't find remote ref" in out.stderr:
        return None
    conflicted = git.value("diff", "--name-only", "--diff-filter=U")
    if _abort_rebase(git) and conflicted:
        raise SyncError(f"pulling from {remote.url} conflicted with the local commit of {conflicted.split()[0]}, "
                        "and was undone: are two data folders exporting as the same replica?")
    raise SyncError(describe_failure(out.stderr, remote.url, "pull"))


def _abort_rebase(git: _Git) -> bool:
    """Undo a rebase left half-done; True if there was one."""
    if not (_marker(git, "rebase-merge") or _marker(git, "rebase-apply")):
        return False
    git.value("rebase", "--abort")
    return True


def _brought_in(git: _Git, tip: str | None, before: str) -> bool:
    """True when the pulled tip had commits this replica had not seen."""
    return tip is not None and not git.run("merge-base", "--is-ancestor", tip, before).ok


def _push(git: _Git, remote: _Remote, tip: str | None) -> bool:
    """Push HEAD to the remote branch; False when there was nothing to push."""
    if tip is not None and git.check("rev-parse", "HEAD") == tip:
        return False
    out = _push_once(git, remote)
    if not out.ok and _rejected(out.stderr):
        _pull(git, remote)
        out = _push_once(git, remote)
        if not out.ok and _rejected(out.stderr):
            raise SyncError(f"the git remote {remote.url} keeps moving ahead of this push: sync again")
    if not out.ok:
        raise SyncError(describe_failure(out.stderr, remote.url, "push"))
    return True


def _push_once(git: _Git, remote: _Remote) -> _Out:
    upstream = () if remote.tracked else ("--set-upstream",)
    return _network(git, remote, "push", "--quiet", *upstream, remote.name, f"HEAD:refs/heads/{remote.branch}")


def _rejected(stderr: str) -> bool:
    return "[rejected]" in stderr or "non-fast-forward" in stderr or "fetch first" in stderr


def teammate_files(folder: Path, own: str) -> list[Path]:
    """Every ``*.dealdeck.json`` in ``folder`` except this replica's own, by name."""
    return sorted(p for p in folder.glob(f"*{SUFFIX}") if p.name != own and p.is_file())


def _summary(result: GitSyncResult, remote: _Remote | None) -> str:
    parts = ["committed the export" if result.committed else "export unchanged"]
    where = remote.url if remote else ""
    if remote:
        parts.append(f"pulled from {where}" if result.pulled else "nothing new to pull")
    parts.append(f"merged {len(result.merged or [])} teammate file(s)")
    if remote:
        parts.append(f"pushed to {where}" if result.pushed else "nothing to push")
    else:
        parts.append(NO_REMOTE)
    return "; ".join(parts)


# --- the whole sync ------------------------------------------------------------------------


def git_sync(folder: Path, *, export: Callable[[], Path], merge: Callable[[list[Path]], object],
             replica: str, rep: str, timeout: float = TIMEOUT) -> GitSyncResult:
    """Export, commit, pull (rebase), merge the teammates' files, push.

    ``export()`` writes this replica's file into ``folder`` and returns its path;
    ``merge(paths)`` merges the teammates' files (never this replica's own) into
    the database, its return value (the report) is kept in ``result.report``.
    Raises SyncError with one actionable line; see the module docstring for what
    each failure leaves behind (never a half-done pull, the export commit kept).
    """
    git = _open_repo(folder, timeout)
    try:
        return _sync(git, export, merge, replica, rep)
    except _Timeout as slow:
        _abort_rebase(git)
        raise SyncError(f"git {slow} did not finish within {timeout:g} s in {folder}") from None


def _sync(git: _Git, export: Callable[[], Path], merge: Callable[[list[Path]], object],
          replica: str, rep: str) -> GitSyncResult:
    git.config = _identity(git, replica, rep)
    remote = _remote(git)
    own = _own_file(git.folder, export())
    committed = _commit(git, own, replica, rep)
    if remote is None:
        result = _merge(git.folder, own, replica, merge, GitSyncResult(False, False, committed, ""))
        result.warning = NO_REMOTE
        result.message = _summary(result, None)
        return result
    before = git.value("rev-parse", "HEAD")
    tip = _pull(git, remote)
    result = GitSyncResult(_brought_in(git, tip, before), False, committed, "")
    try:
        _merge(git.folder, own, replica, merge, result)
    except Exception:
        _push_quietly(git, remote, tip)
        raise
    try:
        result.pushed = _push(git, remote, tip)
    except SyncError as error:
        result.message = _summary(result, remote)
        raise GitSyncError(f"{error}; the export stays committed here and goes out with the next sync",
                           result) from None
    result.message = _summary(result, remote)
    return result

def _merge(folder: Path, own: str, replica: str, merge: Callable[[list[Path]], object],
           result: GitSyncResult) -> GitSyncResult:
    paths = [p for p in teammate_files(folder, own) if p.name != export_name(replica)]
    for path in [*paths, folder / own]:
        make_private(path)  # checked out before, under the user's umask
    result.report = merge(paths)
    result.merged = paths
    return result


def _push_quietly(git: _Git, remote: _Remote, tip: str | None) -> None:
    """Share this replica's export even though merging a teammate's file failed."""
    with contextlib.suppress(SyncError):
        _push(git, remote, tip)
