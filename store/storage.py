"""Durable, process-safe storage for the record tables (the design: docs/storage.md).

TinyDB's stock ``JSONStorage`` rewrites its file in place and has no lock. This
storage keeps every table in memory and persists it in two layers: **table files**,
one per table group, only ever replaced whole (``store.files.write_atomic``; their
format and the lean in-memory forms in ``store.tablefile``), and a **journal** of
committed transactions, fsync'd before a commit returns (``store.journal``). A
single write at 50k records costs one small append instead of a 37 MB rewrite.

**One commit protocol for every write**, one record or a bulk import of 100k: the
transaction is appended to the journal (a big one as part lines, then the line that
commits them) and fsync'd. Lines of a transaction whose last line never came were
written by a process killed mid-commit and are dropped by the next process that
holds the lock. A kill at any instruction leaves the old or the new state, and
every other process sees a bulk write as it sees a small one: journal lines to
replay before its own next write. An exclusive ``flock`` on ``.lock`` serialises
writers, and every writer first catches up with what the others committed.

The journal is folded into the table files (``compact``) when it grows past a
limit, and when a session opened with ``fold_at_close`` (the app) closes after
writing while no other session has the folder open (``store.sessions``): a fold
costs every other open session a catch-up, and then none is left to pay it.
Replaying a line twice is harmless, so a crash halfway through a fold leaves
the journal that rebuilds the rest. Each fold starts a new **generation**: the
folded journal is kept as ``journal.prev.jsonl``, and another process that was
reading it replays its rest and then the new journal instead of re-reading every
table file (1.3 s at 50k leads). A one-shot command passes ``lean=False`` and gets
plain documents, faster to load.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from tinydb.storages import Storage

from store.backups import BACKUPS_KEPT, Backups
from store.changes import ChangeLog
from store.errors import CorruptFileError, StoreError
from store.files import fsync_folder, private_folder, remove_stale_temp_files, write_all, write_atomic
from store.journal import JournalDamaged, committed_transactions, journal_header, journal_lines
from store.list_lines import ListFiles
from store.sessions import Sessions
from store.table_groups import (
    LOG_GROUPS,
    TABLE_GROUPS,
    group_file_name,
)
from store.table_loading import LazyTables, TableLoading
from store.tablefile import (
    FILE_FORMAT,
    SCHEMA_VERSION,
    StringPool,
    Tables,
    json_default,
    table_file_pieces,
)
from store.transaction import Transaction

JOURNAL_NAME = "journal.jsonl"
PREVIOUS_JOURNAL_NAME = "journal.prev.jsonl"
LOCK_NAME = ".lock"
JOURNAL_LIMIT_BYTES = 4 * 1024 * 1024
LOCK_TIMEOUT_S = 30.0

#: A migration turns a parsed table file of schema N into schema N + 1.
Migration = Callable[[dict[str, Any]], dict[str, Any]]
MIGRATIONS: dict[int, Migration] = {}


@dataclass
class _DiskView:
    """What this process last saw on disk, to notice other processes' commits."""

    files: dict[str, tuple[int, int, int] | None] = field(default_factory=dict)
    journal_inode: int | None = None
    journal_offset: int = 0
    #: generation of the table files and journal this process has read
    generation: int = 0
    #: the journal read so far holds a change (not only the header a fold starts it with)
    journal_puts: bool = False


class DurableStorage(TableLoading, Storage):
    """A TinyDB ``Storage`` over a Dealdeck data folder (see module docstring)."""

    def __init__(
        self,
        folder: Path | str,
        *,
        migrations: dict[int, Migration] | None = None,
        journal_limit: int = JOURNAL_LIMIT_BYTES,
        backups_kept: int = BACKUPS_KEPT,
        lean: bool = True,
        fold_at_close: bool = False,
        load: Iterable[str] | None = None,
    ) -> None:
        """``lean``: keep the tables small in memory for a long session (strings pooled,
        the tables in ``PACKED_TABLES`` encoded). A one-shot command reads once and
        exits: ``lean=False`` loads 0.7 s faster at the 50k demo, for 200 MB more.
        ``fold_at_close``: fold what this session wrote into the table files when it
        closes as the folder's last open session (the app; a script's one-shot command
        would rewrite a table file per call).
        ``load``: the tables to read now (None: all); the others are read when first used
        (``tables`` is a ``LazyTables``), or ahead of that a step at a time (``load_steps``)."""
        self.folder = private_folder(Path(folder))
        self.migrations = MIGRATIONS if migrations is None else migrations
        self.journal_limit = journal_limit
        self._backups = Backups(self.folder, backups_kept)
        #: the table files that lists are read from (``store.list_lines``), closed with this
        self.list_files = ListFiles()
        #: newest change stamp committed by any process on this folder (or the one a
        #: clock repair set it back to: ``Transaction.set_clock``)
        self.clock = ""
        #: a clock reset is in the journal and not yet in every table file's header
        self._clock_reset = False
        self.table_group = {t: g for g, names in TABLE_GROUPS.items() for t in names}
        #: what changed since the app last asked (``store.changes``)
        self.changes = ChangeLog(self.table_group)
        self.lean = lean
        self.tables: Tables = LazyTables(self)
        self._strings: StringPool | None = None
        #: the groups read now; the others wait until they are used
        self._first_groups = set(TABLE_GROUPS) if load is None else {self.table_group[t] for t in load}
        self._dirty_groups: set[str] = set()
        self._view = _DiskView()
        self._schemas = {g: SCHEMA_VERSION for g in TABLE_GROUPS}
        self._lock_fd: int | None = None
        self._lock_depth = 0
        self.fold_at_close = fold_at_close
        #: this session committed something since it opened
        self.wrote = False
        self._sessions = Sessions(self.folder)
        with self.locked():
            remove_stale_temp_files(self.folder)
            self._load_all()
            self._sessions.join()

    # -- TinyDB Storage interface ---------------------------------------------
    def read(self) -> Tables:
        return self.tables

    def write(self, data: Tables) -> None:
        """Whole-database write (only if TinyDB's own write API is called): committed as
        one transaction of the documents that differ, like any other write. Records are
        never removed (a delete is a tombstone), so a write that drops one is refused."""
        with self.transaction() as txn:
            for name, docs in data.items():
                table = self.tables.get(name, {})
                if any(key not in docs for key in table):
                    raise StoreError(f"a write may not remove records from {name!r}; delete them instead")
                for key, doc in docs.items():
                    if table.get(key) != doc:
                        txn.put(name, doc)

    def close(self) -> None:
        """Release the folder. The journal is folded first when it is past half its limit,
        or, for a ``fold_at_close`` session that wrote, when no other session has the
        folder open: a fold costs a whole-file rewrite here and a catch-up in every other
        open session, while a short journal is cheap to replay at the next open."""
        with self.locked():
            self._catch_up()
            last = self.fold_at_close and self.wrote and self._sessions.alone()
            self.compact_if_due(0 if last and self._journal_holds_changes() else self.journal_limit // 2)
            self._sessions.leave()  # under the lock: a session opening now waits for the fold
        self._release_lock_file()
        for group in LOG_GROUPS:
            if self.is_loaded(group):
                dict.__getitem__(self.tables, TABLE_GROUPS[group][0]).close()
        self.list_files.close()

    def _journal_holds_changes(self) -> bool:
        """Whether the journal holds more than the header a fold starts it with."""
        return self._view.journal_puts

    def compact_if_due(self, threshold: int | None = None) -> bool:
        """Compact when the journal has grown past ``threshold`` bytes (for idle time).
        A fold that fails (a full disk) is left for later: the journal holds everything."""
        limit = self.journal_limit if threshold is None else threshold
        with self.locked():
            self._catch_up()
            missing = any(not self.group_path(g).exists() for g in self._dirty_groups)
            if self._view.journal_offset > limit or missing:
                try:
                    self.compact()
                except OSError:
                    return False
                return True
        return False

    # -- paths ------------------------------------------------------------------
    def group_path(self, group: str) -> Path:
        return self.folder / group_file_name(group)

    def is_loaded(self, group: str) -> bool:
        """Whether the group's tables are in memory (read, or made empty)."""
        return dict.__contains__(self.tables, TABLE_GROUPS[group][0])

    def loaded_groups(self) -> list[str]:
        return [group for group in TABLE_GROUPS if self.is_loaded(group)]

    @property
    def journal_path(self) -> Path:
        return self.folder / JOURNAL_NAME

    @property
    def previous_journal_path(self) -> Path:
        return self.folder / PREVIOUS_JOURNAL_NAME

    # -- locking ------------------------------------------------------------------
    @contextlib.contextmanager
    def locked(self, timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
        """Hold the folder's exclusive lock (re-entrant within this object)."""
        if self._lock_depth == 0:
            self._acquire(timeout)
        self._lock_depth += 1
        try:
            yield
        finally:
            self._lock_depth -= 1
            if self._lock_depth == 0 and self._lock_fd is not None:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _acquire(self, timeout: float) -> None:
        if self._lock_fd is None:
            self._lock_fd = os.open(self.folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StoreError(
                        f"{self.folder} is locked by another Dealdeck process; try again"
                    ) from None
                time.sleep(0.01)

    def _release_lock_file(self) -> None:
        if self._lock_fd is not None and self._lock_depth == 0:
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- transactions ---------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Lock, catch up with other processes, yield, then commit durably.

        If the body raises, nothing is written and the in-memory tables are
        reloaded from disk so that no half-applied change lingers.
        """
        with self.locked():
            self._catch_up()
            txn = Transaction(self)
            try:
                yield txn
            except BaseException:
                if txn.puts or txn.clock_reset:
                    self._load_all()
                    self.changes.notify()  # what the views showed of it is gone
                raise
            if txn.puts or txn.clock_reset:
                self._commit(txn)

    def refresh(self) -> bool:
        """Pick up other processes' commits; True if anything changed."""
        with self.locked():
            changed = self._catch_up()
        if changed:
            self.changes.notify()
        return changed

    def _commit(self, txn: Transaction) -> None:
        """Append the transaction to the journal and fsync it: committed (see the module
        docstring). A big one is then folded into the table files like any journal
        that grew past its limit."""
        self._backups.daily(g for g in TABLE_GROUPS if g not in LOG_GROUPS)
        for table, _ in txn.puts:
            self._dirty_groups.add(self.table_group[table])
        if txn.clock_reset is not None:
            self.clock = txn.clock_reset
        st = self._append_to_journal(txn)
        self.wrote = True
        self._view.journal_puts = True
        self._view.journal_inode = st.st_ino
        self._view.journal_offset = st.st_size
        if txn.clock_reset is not None:
            self._clock_reset = True
        if st.st_size > self.journal_limit or self._clock_reset:
            # Committed: a fold that fails now (a full disk) leaves the journal, which
            # holds the commit, and is tried again at the next write or at close.
            with contextlib.suppress(OSError):
                self.compact()
        self.changes.notify()

    def _append_to_journal(self, txn: Transaction) -> os.stat_result:
        """Write the transaction's lines and fsync them. If that fails (a full disk, an
        I/O error), cut the journal back to where it was and reload the tables, so that
        nothing of the failed transaction is left in memory or on disk, then raise."""
        fd = os.open(self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            before = os.fstat(fd)
            try:
                for line in journal_lines(txn.puts, self.clock, clock_reset=txn.clock_reset is not None):
                    write_all(fd, line)
                os.fsync(fd)
            except BaseException:
                os.ftruncate(fd, before.st_size)
                os.fsync(fd)
                self._load_all()
                raise
            st = os.fstat(fd)
        finally:
            os.close(fd)
        if self._view.journal_inode != st.st_ino:
            fsync_folder(self.folder)  # the journal file itself was just created
        return st

    def note_clock(self, stamp: str) -> None:
        """Record the newest stamp issued, persisted with the next commit."""
        if stamp > self.clock:
            self.clock = stamp

    # -- compaction and backups ---------------------------------------------------------
    def compact(self) -> None:
        """Fold the journal into the table files and start a new generation.

        Order matters for crashes: the table files are replaced (the log appended to)
        first (a crash then leaves the old journal, whose replay is harmless), then the
        journal is set aside as the previous one and a new one is begun.
        """
        with self.locked():
            self._catch_up()  # never fold a journal we have not read to the end
            generation = self._view.generation + 1
            # After a clock reset every file is rewritten: each header names the clock.
            dirty = set(TABLE_GROUPS) if self._clock_reset else self._dirty_groups or set(TABLE_GROUPS)
            for group in TABLE_GROUPS:
                path = self.group_path(group)
                if group not in dirty and path.exists():
                    continue
                if group in LOG_GROUPS:
                    self.tables[TABLE_GROUPS[group][0]].fold()  # type: ignore[attr-defined]
                    continue
                self._backups.keep(group)
                write_atomic(path, table_file_pieces(self.tables, TABLE_GROUPS[group], self.clock, generation))
            if self.journal_path.exists():
                os.replace(self.journal_path, self.previous_journal_path)
            write_atomic(self.journal_path, journal_header(generation, self.clock))
            self._dirty_groups.clear()
            self._clock_reset = False
            self._view.generation = generation
            self._view.journal_puts = False
            self._remember_disk()

    def backups(self, group: str) -> list[Path]:
        """Rolling backups of one table file, newest first."""
        return self._backups.of(group)

    # -- loading ---------------------------------------------------------------------------
    def _signature(self, path: Path) -> tuple[int, int, int] | None:
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _remember_disk(self) -> None:
        self._view.files = self._signatures()
        journal = self._signature(self.journal_path)
        self._view.journal_inode = journal[0] if journal else None
        self._view.journal_offset = journal[2] if journal else 0

    def _signatures(self) -> dict[str, tuple[int, int, int] | None]:
        """The table files in memory, as they are on disk now (the log is followed by
        ``ActivityLog.catch_up``: another process's fold appends to it)."""
        return {g: self._signature(self.group_path(g)) for g in self.loaded_groups() if g not in LOG_GROUPS}

    def _catch_up(self) -> bool:
        """Under the lock: apply what other processes committed since we last looked."""
        journal = self._signature(self.journal_path)
        journal_inode = journal[0] if journal else None
        if journal_inode == self._view.journal_inode:
            if self._files_changed():
                self._load_all()  # someone edited the files by hand
                return True
            if journal and journal[2] > self._view.journal_offset:
                self._replay_journal(self.journal_path, start=self._view.journal_offset)
                return True
            return False
        if self._follow_compaction():
            return True
        self._load_all()
        return True

    def _files_changed(self) -> bool:
        return self._signatures() != self._view.files

    def _catch_up_logs(self) -> None:
        for group in LOG_GROUPS:
            if self.is_loaded(group):
                self.tables[TABLE_GROUPS[group][0]].catch_up()  # type: ignore[attr-defined]

    def _follow_compaction(self) -> bool:
        """Catch up across journal changes without re-reading the table files.

        Possible when the journal was only created by an append, or when exactly
        one compaction happened since: then the journal we were reading is now
        the previous one, and the new journal's header names the next generation.
        """
        if self._view.journal_inode is None:
            if self._files_changed():
                return False
            self._replay_journal(self.journal_path, start=0)
            return True
        previous = self._signature(self.previous_journal_path)
        if previous is None or previous[0] != self._view.journal_inode:
            return False
        if self._journal_generation(self.journal_path) != self._view.generation + 1:
            return False
        self._replay_journal(self.previous_journal_path, start=self._view.journal_offset, owned=False)
        # Everything up to here is in the new table files; what the new journal
        # holds is not, so its groups must stay dirty for our next compaction.
        self._dirty_groups.clear()
        self._view.journal_puts = False
        self._catch_up_logs()  # the fold appended what we hold pending to the log
        self._replay_journal(self.journal_path, start=0)
        self._view.files = self._signatures()
        return True

    def _journal_generation(self, path: Path) -> int | None:
        try:
            with path.open("rb") as journal:
                first = journal.readline()
            generation = orjson.loads(first).get("generation")
        except (OSError, orjson.JSONDecodeError, AttributeError):
            return None
        return generation if isinstance(generation, int) else None

    def _replay_journal(self, path: Path, start: int, *, owned: bool = True,
                        strings: StringPool | None = None) -> None:
        """Apply the committed transactions of the journal at ``path`` from byte ``start``.

        ``owned``: the live journal, whose position this process then tracks and
        whose uncommitted tail (a torn line, or the lines of a transaction whose
        writer was killed before its last line) it drops: we hold the lock, so no
        live writer is behind them. The previous journal is only read.
        """
        try:
            journal = path.open("r+b" if owned else "rb")
        except FileNotFoundError:
            return
        with journal:
            st = os.fstat(journal.fileno())
            journal.seek(start)
            committed = start
            try:
                for entries, end in committed_transactions(journal, start):
                    for entry in entries:
                        self._apply_entry(entry, strings or self._strings)
                    committed = end
            except JournalDamaged as exc:
                raise CorruptFileError(
                    f"{path} is damaged at byte {exc.offset}; it was left untouched; "
                    "run `dealdeck check` for details"
                ) from None
            if owned and committed < st.st_size:
                journal.truncate(committed)
                os.fsync(journal.fileno())
            if owned:
                self._view.journal_inode = st.st_ino
                self._view.journal_offset = committed

    def _apply_entry(self, entry: dict[str, Any], strings: StringPool | None = None) -> None:
        if isinstance(entry.get("generation"), int):
            # max: after a crash mid-compaction the old journal (older header)
            # is replayed over newer files.
            self._view.generation = max(self._view.generation, entry["generation"])
        if entry["puts"]:
            self._view.journal_puts = True
        self._apply_puts(entry, set(self.loaded_groups()), strings)
        if isinstance(entry.get("clock"), str):
            if entry.get("clock_reset") is True:
                self.clock = entry["clock"]
                self._clock_reset = True
            else:
                self.note_clock(entry["clock"])

    def _apply_puts(self, entry: dict[str, Any], groups: set[str], strings: StringPool | None) -> None:
        """Put the entry's documents of ``groups``; the others' groups are only marked dirty
        (read later from their file and this journal: ``load_group``)."""
        version = entry.get("v", SCHEMA_VERSION)
        for table, doc in entry["puts"]:
            group = self.table_group.get(table)
            if group is None:
                continue
            # A line older than its file's schema was folded in before a migration.
            if version < self._schemas.get(group, SCHEMA_VERSION):
                continue
            self._dirty_groups.add(group)
            if group not in groups:
                continue
            docs = dict.__getitem__(self.tables, table)
            if strings is not None and type(docs) is dict:
                strings.pool_docs([doc], table)
            docs[doc["id"]] = doc
            self.changes.record(table, doc["id"])

    def _migrate(self, schemas: dict[str, int]) -> None:
        """Bring older files up to SCHEMA_VERSION, after keeping a backup of each."""
        for group, version in schemas.items():
            if version >= SCHEMA_VERSION:
                continue
            path = self.group_path(group)
            folder = private_folder(self._backups.folder)
            shutil.copy2(path, folder / f"{group}.pre-schema-{SCHEMA_VERSION}.json")
            # A migration gets plain documents (no encoded lists or packed tables).
            plain = orjson.loads(orjson.dumps({n: self.tables[n] for n in TABLE_GROUPS[group]},
                                              default=json_default))
            body: dict[str, Any] = {"format": FILE_FORMAT, "schema": version, "tables": plain}
            while body["schema"] < SCHEMA_VERSION:
                step = self.migrations.get(body["schema"])
                if step is None:
                    raise StoreError(f"{path}: no migration from schema {body['schema']}")
                body = step(body)
                body["schema"] += 1
            for name in TABLE_GROUPS[group]:
                self.tables[name] = self.packed(name, body["tables"].get(name, {}))
            self.changes.everything()
            self._dirty_groups.add(group)
        self._schemas = {g: SCHEMA_VERSION for g in TABLE_GROUPS}
        self.compact()
