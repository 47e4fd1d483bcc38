"""Rolling backups of a data folder's table files (``backups/<group>.<time>.json``).

A backup is a hard link to the file about to be replaced (no copy; a copy where links
are not possible), made before each fold and at the first write of each day, so that
opening or reading a folder writes nothing. The newest ``kept`` of each file stay.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from store.files import fsync_folder, private_folder
from store.tablefile import read_table_file

BACKUP_DIR = "backups"
BACKUPS_KEPT = 10


class Backups:
    """The backups of one data folder's table files (``<folder>/<group>.json``)."""

    def __init__(self, folder: Path, kept: int = BACKUPS_KEPT) -> None:
        self.data_folder = folder
        self.folder = folder / BACKUP_DIR
        self.kept = kept
        #: the day (UTC) of the last daily backup this process made or found
        self._daily_done_on = ""

    def keep(self, group: str) -> None:
        """Keep the table file about to be replaced, and drop the oldest beyond ``kept``."""
        current = self.data_folder / f"{group}.json"
        if not current.exists():
            return
        folder = private_folder(self.folder)
        target = folder / f"{group}.{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}.json"
        try:
            os.link(current, target)
        except OSError:
            shutil.copy2(current, target)
        for old in self.of(group)[self.kept:]:
            old.unlink(missing_ok=True)
        fsync_folder(folder)

    def daily(self, groups: Iterable[str]) -> None:
        """At least one backup a day of each file, even when folds are rare (called at
        the first write, so that opening a folder or a refused merge writes nothing)."""
        today = datetime.now(UTC).strftime("%Y%m%d")
        if self._daily_done_on == today:
            return
        for group in groups:
            newest = self.of(group)[:1]
            if not newest or not newest[0].name.startswith(f"{group}.{today}"):
                self.keep(group)
        self._daily_done_on = today

    def of(self, group: str) -> list[Path]:
        """Rolling backups of one table file, newest first."""
        if not self.folder.is_dir():
            return []
        return sorted(self.folder.glob(f"{group}.2*.json"), reverse=True)

    def newest_good(self, group: str) -> Path | None:
        for candidate in self.of(group):
            try:
                read_table_file(candidate)
            except (OSError, ValueError):
                continue
            return candidate
        return None
