"""Which sessions have a data folder open: each holds a shared ``flock`` on
``.sessions`` while open (the kernel drops it if the process dies), so the one that
closes last can tell it is alone and fold the journal without costing any other
session a catch-up."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

SESSIONS_NAME = ".sessions"


class Sessions:
    """This session's place among those with the folder open. Join and ask only while
    holding the folder's lock: then no session can open between the question and the fold."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / SESSIONS_NAME
        self._fd: int | None = None

    def join(self) -> None:
        try:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:  # a read-only folder, a file system without flock: never alone then
            self.leave()

    def alone(self) -> bool:
        """Whether no other session has the folder open (this one's lock becomes exclusive)."""
        if self._fd is None:
            return False
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True

    def leave(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
