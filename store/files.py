"""Files Dealdeck writes outside the data folder (CSV exports, review reports), made
readable by the user only, whatever the umask: they list other people's names,
phones and e-mails.

A regular file is written to a private temp file beside it (0600), fsync'd and
renamed over the target, so an existing file is replaced by a private one (not
left as it was, 0644) and a crash leaves the old file or the new one. A target
that exists and is not a regular file (``/dev/stdout``, a named pipe) is written
in place: it has no permissions of its own to keep private.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
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
