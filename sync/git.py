"""Git transport: pull, merge, publish, commit and push a team folder with the system ``git``.

The folder is a clone of the team repository. Every replica writes only its own folder
of segments and manifest (``sync.publish``; and its export file while teammates are on
the first layout), so git never sees a content conflict: a ``git pull --rebase``
replays this replica's commits on top of the teammates' and always applies cleanly,
and each commit adds the size of what changed, not of the team's data.

``git`` runs as a subprocess with an explicit argv (``git -C <folder> ...``, no
shell), ``LC_ALL=C`` (so its messages can be recognised), no terminal prompts
(``GIT_TERMINAL_PROMPT=0``, askpass programs that answer nothing, a new session
without a controlling terminal, so ssh cannot ask either) and a timeout on every
call, after which git and its helpers are killed: it never hangs waiting for a
password. Stored credentials (credential helpers,
ssh agents and keys) still work. Git runs with umask 077, so the files it checks
out are 0600 (they list other people's names and phones), and files checked out
earlier are made 0600 before they are merged (git keeps no permission bits but the
executable one, so this changes nothing in the repository).

Behaviour a user can rely on:

* **Nothing half-done.** A failure leaves the work tree as it was and the local
  commits intact; a pull that fails part-way is undone (``git rebase --abort``).
  Teammates' files are merged into the database only after a successful pull, so the
  merge sees what is current.
* **No remote** is not an error: what is in the folder is merged, this replica's work
  committed locally, and the result carries ``warning`` (the "add a remote" hint) with
  ``pushed=False``.
* **A merge that fails** does not hold back this replica's changes: they are
  published, committed and pushed anyway, then the merge's error is raised.
* **A push that fails** after the merge raises :class:`GitSyncError` whose
  ``result`` holds what was done (the merge report included); the commit stays and
  goes out with the next sync. A push rejected because a teammate pushed in between
  is retried once after pulling again.
* A sync that changes nothing of this replica's files adds no commit; an export file
  that differs only in its ``exported_at`` time is not committed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from store.files import make_private
from sync.errors import SyncError
from sync.format import SUFFIX

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


def _commit(git: _Git, paths: Sequence[Path], replica: str, rep: str) -> bool:
    """Commit this replica's own files (``paths``: its folder, its export file) where they
    changed; True when a commit was made."""
    names = [_own_name(git.folder, path) for path in paths]
    names = [name for name in names if (git.folder / name).exists() or git.value("ls-files", "--", name)]
    for name in names:
        if name.endswith(SUFFIX) and _only_time_changed(git, name):
            git.check("checkout", "HEAD", "--", name)
    names = [name for name in names if (git.folder / name).exists() or git.value("ls-files", "--", name)]
    if not names:
        return False
    added = git.run("add", "--all", "--", *names)
    if not added.ok:
        hint = "remove the .gitignore rule that hides it" if "ignored" in added.stderr else _reason(added.stderr)
        raise SyncError(f"git cannot add {', '.join(names)} in {git.folder}: {hint}")
    if git.run("diff", "--cached", "--quiet", "--", *names).ok:
        return False
    when = datetime.now(UTC).isoformat(timespec="seconds")
    git.check("commit", "--quiet", "-m", f"dealdeck: {rep} ({replica}) sync {when}", "--", *names)
    return True


def _own_name(folder: Path, path: Path) -> str:
    if path.parent.resolve() != folder.resolve():
        raise SyncError(f"{path} is not in the git folder {folder}")
    return path.name


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


def _summary(result: GitSyncResult, remote: _Remote | None) -> str:
    parts = ["committed this replica's changes" if result.committed else "nothing new to commit"]
    where = remote.url if remote else ""
    if remote:
        parts.append(f"pulled from {where}" if result.pulled else "nothing new to pull")
        parts.append(f"pushed to {where}" if result.pushed else "nothing to push")
    else:
        parts.append(NO_REMOTE)
    return "; ".join(parts)


# --- the whole sync ------------------------------------------------------------------------


def git_sync(folder: Path, *, publish: Callable[[], Sequence[Path]], merge: Callable[[], object],
             replica: str, rep: str, timeout: float = TIMEOUT) -> GitSyncResult:
    """Pull (rebase), merge what is new, publish, commit this replica's files, push.

    ``merge()`` merges the team folder into the database; its return value (the report)
    is kept in ``result.report``. ``publish()`` writes this replica's files into the folder
    and returns them (its folder, its export file), to be committed. Raises SyncError with
    one actionable line; see the module docstring for what each failure leaves behind
    (never a half-done pull, local commits kept).
    """
    git = _open_repo(folder, timeout)
    try:
        return _sync(git, publish, merge, replica, rep)
    except _Timeout as slow:
        _abort_rebase(git)
        raise SyncError(f"git {slow} did not finish within {timeout:g} s in {folder}") from None


def _sync(git: _Git, publish: Callable[[], Sequence[Path]], merge: Callable[[], object],
          replica: str, rep: str) -> GitSyncResult:
    git.config = _identity(git, replica, rep)
    remote = _remote(git)
    before = git.value("rev-parse", "HEAD")
    tip: str | None = None
    failed: Exception | None = None
    try:
        tip = _pull(git, remote) if remote is not None else None
    except SyncError as unreachable:  # this replica's work is still committed here, to go out later
        failed = unreachable
    pulled = failed is None
    result = GitSyncResult(pulled and remote is not None and _brought_in(git, tip, before), False, False, "")
    if pulled:
        try:
            _make_private(git.folder)
            result.report = merge()
        except Exception as error:  # this replica's work still goes out; the error is raised after
            failed = error
    result.committed = _commit(git, publish(), replica, rep)
    if remote is None:
        result.warning = NO_REMOTE
    elif not pulled:
        raise failed  # type: ignore[misc]  # no pull, so no push either
    else:
        try:
            result.pushed = _push(git, remote, tip)
        except SyncError as error:
            result.message = _summary(result, remote)
            if failed is not None:
                raise failed from None
            raise GitSyncError(f"{error}; this replica's commit stays here and goes out with the next sync",
                               result) from None
    result.message = _summary(result, remote)
    if failed is not None:
        raise failed
    return result


def _make_private(folder: Path) -> None:
    """Files git checked out before, under the user's umask, made 0600 before they are read."""
    for path in folder.rglob("*"):
        if ".git" not in path.relative_to(folder).parts and path.is_file() and not path.is_symlink():
            make_private(path)
