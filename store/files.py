"""Writing files safely: atomically (``write_atomic``: a temp file, fsync, rename, fsync
the folder) and readable by the user only, whatever the umask. A data folder and
everything Dealdeck writes outside it (CSV exports, review reports) list other
people's names, phones and e-mails.

A regular file is written to a private temp file beside it (0600), fsync'd and
renamed over the target, so an existing file is replaced by a private one (not
left as it was, 0644) and a crash leaves the old file or the new one. A target
that exists and is not a regular file (``/dev/stdout``, a named pipe) is written
in place: it has no permissions of its own to keep private.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from store.errors import StoreError

PRIVATE_FILE = 0o600


@contextlib.contextmanager
def private_text(path: Path, *, newline: str | None = None) -> Iterator[TextIO]:
    """Open ``path`` for writing UTF-8 text as a private file; it appears whole when the block ends.
    A symbolic link of the user's own is written through; one made by another user (planted
    in /tmp, say) is refused, as the kernel's protected_symlinks would refuse it."""
    if path.is_symlink() and path.lstat().st_uid != os.getuid():
        raise StoreError(f"{path} is a link made by another user; not writing through it")
    target = path.resolve()  # a symlink's target is replaced, not the link
    if target.exists() and not target.is_file():
        with target.open("w", newline=newline, encoding="utf-8") as out:
            yield out
        return
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()  # left by a killed run of this same process id
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "w", newline=newline, encoding="utf-8") as out:
            os.fchmod(out.fileno(), PRIVATE_FILE)  # exactly 0600, even under a umask such as 0277
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_private_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` as a private file (see ``private_text``)."""
    with private_text(path) as out:
        out.write(text)


def make_private(path: Path) -> None:
    """Take group and other permissions off a file of ours; a file we cannot change is left as it is."""
    with contextlib.suppress(OSError):
        mode = path.stat().st_mode
        if mode & 0o077:
            path.chmod(mode & 0o700)


TEMP_SUFFIX = ".tmp"


def private_folder(path: Path) -> Path:
    """Create ``path`` (and parents) readable by the user only."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    return path



def fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)



def write_atomic(path: Path, data: bytes | Iterable[bytes]) -> None:
    """Replace ``path`` with ``data`` (bytes, or pieces written one after the other)
    so that a crash leaves the old or the new file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}{TEMP_SUFFIX}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        try:
            os.fchmod(fd, 0o600)  # a temp file left by a killed process may be older and wider
            for piece in [data] if isinstance(data, bytes) else data:
                write_all(fd, piece)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    fsync_folder(path.parent)



def write_all(fd: int, data: bytes) -> None:
    """``os.write`` until all of ``data`` is written (a write may take only part)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]



def remove_stale_temp_files(folder: Path) -> list[Path]:
    """Remove the temp files (``.NAME.PID.tmp``) of processes that are gone: a kill
    between the write and the rename of ``write_atomic`` leaves one."""
    removed = []
    for path in folder.glob(f".*{TEMP_SUFFIX}"):
        pid = path.name.removesuffix(TEMP_SUFFIX).rpartition(".")[2]
        if pid.isdigit() and not _process_alive(int(pid)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(path)
    return removed



def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return pid != 0
