"""Reading a data folder's tables (a mixin of ``store.storage.DurableStorage``): the groups
asked for at the open, any other the moment it is first used (``LazyTables``), or a batch of
documents at a time between the app's frames (``load_steps``). See docs/storage.md."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from store import records
from store.activity_store import ActivityLog, write_new_log
from store.errors import CorruptFileError, StoreError
from store.files import fsync_folder, private_folder, write_atomic
from store.gc_pause import collector_paused
from store.journal import committed_transactions
from store.models import BY_TABLE
from store.table_groups import ACTIVITY_LINK_FIELDS, LOG_GROUPS, OLD_ACTIVITY_FILE, TABLE_GROUPS
from store.tablefile import (
    FILE_LAYOUT,
    PACKED_TABLES,
    SCHEMA_VERSION,
    PackedTable,
    StringPool,
    read_table_file,
    table_file_pieces,
    table_steps,
)

if TYPE_CHECKING:
    from store.storage import DurableStorage


class TableLoading:
    """How ``DurableStorage`` reads its tables: the first ones at once, the others when used."""

    def _load_all(self: DurableStorage) -> None:
        """(Re)read the groups in memory (at the open: the first ones) and the journal."""
        groups = self.loaded_groups() or sorted(self._first_groups)
        # The tables are a few million small objects with no cycles: a cyclic
        # GC pass during the parse only costs time (40% of it, measured).
        # ``keep``: the loaded documents go out of the collector's sight before it
        # resumes: otherwise its first pass walks them all (0.33 s at 200k leads), and
        # every later one too (making 50k list rows took 1.1 s instead of 0.23 s). They
        # hold no cycles, so reference counting still frees them.
        with collector_paused(keep=True):
            self._move_old_activity_file()
            self._load_groups(groups)

    def _load_groups(self: DurableStorage, groups: Iterable[str]) -> None:
        self.tables = LazyTables(self)
        self._strings = StringPool() if self.lean else None
        schemas: dict[str, int] = dict.fromkeys(TABLE_GROUPS, SCHEMA_VERSION)
        old_layout: set[str] = set()
        generation, clock = 0, ""
        for group in TABLE_GROUPS:  # every header: the clock and the generation are the newest of all
            header = self._peek_header(group)
            clock = max(clock, str(header.get("clock") or ""))
            if isinstance(header.get("generation"), int):
                generation = max(generation, header["generation"])
        # Pooled as each batch is parsed: the strings it frees are reused by the next one.
        # Pooling after the first frame painted 0.3 s sooner at 200k leads but held 120 MB
        # more at the open, and the rows built next could not reuse those freed strings.
        for group in groups:
            parsed = self._read_into(group, self._strings)
            if parsed is not None:
                schemas[group] = parsed["schema"]
                if parsed.get("layout") != FILE_LAYOUT:
                    old_layout.add(group)
        self.changes.everything()
        self._dirty_groups.clear()
        self._view.files = self._signatures()
        self._view.journal_inode, self._view.journal_offset = None, 0
        self._view.generation = generation
        self._view.journal_puts = False
        self._schemas = schemas
        self.clock, self._clock_reset = clock, False  # what is on disk, not what this process held
        self._replay_journal(self.journal_path, start=0, strings=self._strings)
        if any(v < SCHEMA_VERSION for v in schemas.values()):
            self._migrate(schemas)
        elif old_layout:
            # Files in an old layout are read whole, at a high memory peak (one line), or
            # hold their lists in their documents (the lists then stay in memory): rewrite
            # them now (keeping the old ones as backups), once.
            self._dirty_groups |= old_layout
            self.compact()

    def _peek_header(self: DurableStorage, group: str) -> dict[str, Any]:
        """The header line of a group's table file ({} for none, or for the log)."""
        if group in LOG_GROUPS:
            return {}
        try:
            with self.group_path(group).open("rb") as file:
                header = orjson.loads(file.readline())
        except (OSError, orjson.JSONDecodeError):
            return {}
        return header if isinstance(header, dict) and "layout" in header else {}

    def _read_into(self: DurableStorage, group: str, strings: StringPool | None = None) -> dict[str, Any] | None:
        """Read one group's file into ``tables`` (empty tables when it has none)."""
        names = TABLE_GROUPS[group]
        path = self.group_path(group)
        if group in LOG_GROUPS:
            log = self.new_table(names[0])
            try:
                log.open()  # type: ignore[attr-defined]
            except ValueError as exc:
                raise CorruptFileError(f"{path} {exc}; it was left untouched") from None
            except OSError as exc:
                raise StoreError(f"cannot read {path}: {exc.strerror}") from None
            dict.__setitem__(self.tables, names[0], log)
            return None
        if not path.exists():
            for name in names:
                dict.__setitem__(self.tables, name, self.new_table(name))
            return None
        parsed = self._read_group(group, path, strings)
        for name in names:
            dict.__setitem__(self.tables, name, parsed["tables"].get(name) or self.new_table(name))
        return parsed

    def load_group(self: DurableStorage, group: str) -> None:
        """Read a group not read yet: its file, then what the journal holds for it. Under
        the lock, after catching up: the file and the journal are then of one state."""
        with self.locked():
            self._catch_up()
            if self.is_loaded(group):
                return
            with collector_paused(keep=True):
                self._read_into(group, self._strings)
            self._loaded(group)

    def load_steps(self: DurableStorage, group: str) -> Iterator[None]:
        """``load_group`` a batch of documents at a time, for the app to run between frames
        (``tui.loading``): yields after each. The file is read without the lock; its tables
        are put in, with the journal's changes, under the lock at the end, unless another
        process replaced the file meanwhile (then it is read again, at once)."""
        path = self.group_path(group)
        if self.is_loaded(group) or group in LOG_GROUPS or not path.exists():
            self.load_group(group)  # a log reads only its index: one step
            return
        seen = self._signature(path)
        try:
            with path.open("rb") as lines:
                steps = table_steps(lines, self._strings, make_table=self.new_table, files=self.list_files)
                while True:
                    with collector_paused(keep=True):  # as ``_load_all`` does
                        try:
                            next(steps)
                        except StopIteration as done:
                            parsed: dict[str, Any] = done.value
                            break
                    yield
        except (OSError, ValueError):
            self.load_group(group)  # gone or damaged: read again and say so in the usual way
            return
        with self.locked():
            self._catch_up()
            if self.is_loaded(group):
                return
            if self._signature(path) != seen:
                self.load_group(group)
                return
            for name in TABLE_GROUPS[group]:
                dict.__setitem__(self.tables, name, parsed["tables"].get(name) or self.new_table(name))
            self._loaded(group)

    def _loaded(self: DurableStorage, group: str) -> None:
        """A group's file is in ``tables``: add what the journal holds for it."""
        self._view.files = self._signatures()
        with collector_paused(keep=True):
            self._replay_for(group)
        self.changes.bump(TABLE_GROUPS[group])
        self._drop_pool_when_done()

    def _drop_pool_when_done(self: DurableStorage) -> None:
        if len(self.loaded_groups()) == len(TABLE_GROUPS):
            self._strings = None  # every string read is in the tables now; the pool can go

    def tables_changed_since(self: DurableStorage, stamp: str) -> list[str]:
        """The tables that may hold a stamp of this replica newer than ``stamp``: those whose
        table file was written after it (its header names the newest stamp committed when it
        was), or that the journal changed, or the log (no header). A stamp this replica issued
        is never newer than the folder's clock when it was committed, so the others cannot,
        and a reader looking for this replica's newest changes need not read them
        (``sync.publish``). After a clock reset not yet in every file: all of them."""
        if self._clock_reset or not stamp:
            return list(self.table_group)
        changed = []
        for group, names in TABLE_GROUPS.items():
            written = str(self._peek_header(group).get("clock") or "")
            if group in LOG_GROUPS or group in self._dirty_groups or not written or written > stamp:
                changed += names
        return changed

    def load_everything(self: DurableStorage) -> None:
        for group in TABLE_GROUPS:
            if not self.is_loaded(group):
                self.load_group(group)

    def _replay_for(self: DurableStorage, group: str) -> None:
        """Apply the journal's changes to one group just read (the journal up to where
        this process has read it; the other groups are at that point already)."""
        try:
            journal = self.journal_path.open("rb")
        except FileNotFoundError:
            return  # a new folder: nothing written yet
        with journal:
            for entries, end in committed_transactions(journal, 0):
                if end > self._view.journal_offset:
                    break
                for entry in entries:
                    self._apply_puts(entry, {group}, self._strings)

    def _move_old_activity_file(self: DurableStorage) -> None:
        """A folder from before the log held the activities and the tasks in one table
        file: the tasks get their own file, the activities a log, the old file is kept
        among the backups. Each step is atomic and the old file goes last, so a kill
        halfway leaves it, and the next open does it all again."""
        old = self.folder / OLD_ACTIVITY_FILE
        if not old.exists():
            return
        parsed = self._read_group("activities", old, None, plain=True)
        tables = parsed["tables"]
        clock, generation = str(parsed.get("clock") or ""), int(parsed.get("generation") or 0)
        write_atomic(self.group_path("tasks"), table_file_pieces(tables, ("tasks",), clock, generation))
        write_new_log(self.group_path("activities"), "activities", tables.get("activities", {}).values())
        backups = private_folder(self._backups.folder)
        os.replace(old, backups / f"activities.before-log.{generation}.json")
        fsync_folder(self.folder)

    def new_table(self: DurableStorage, name: str) -> dict[str, dict[str, Any]]:
        """An empty in-memory table: packed for the tables in ``PACKED_TABLES`` when lean,
        the log (not read yet) for a log group's."""
        group = self.table_group[name]
        if group in LOG_GROUPS:
            return ActivityLog(self.group_path(group), table=name, links=ACTIVITY_LINK_FIELDS,  # type: ignore[return-value]
                               required=records.required_keys(BY_TABLE[name]))
        return PackedTable() if self.lean and name in PACKED_TABLES else {}  # type: ignore[return-value]

    def packed(self: DurableStorage, name: str, docs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """``docs`` in the form this storage keeps table ``name`` in."""
        if self.lean and name in PACKED_TABLES and not isinstance(docs, PackedTable):
            return PackedTable(docs)  # type: ignore[return-value]
        return docs

    def _read_group(self: DurableStorage, group: str, path: Path, strings: StringPool | None, *,
                    plain: bool = False) -> dict[str, Any]:
        make_table: Callable[[str], dict[str, Any]] = (lambda _: {}) if plain else self.new_table
        try:
            return read_table_file(path, strings, make_table=make_table, files=None if plain else self.list_files)
        except OSError as exc:
            raise StoreError(f"cannot read {path}: {exc.strerror}") from None
        except ValueError as exc:
            backup = self._backups.newest_good(group)
            hint = f"newest good backup: {backup}" if backup else "no good backup was found"
            raise CorruptFileError(f"{path} {exc}; it was left untouched; {hint}") from None


class LazyTables(dict):  # type: ignore[type-arg]
    """The storage's tables by name: a table whose group has not been read yet is read
    when first asked for (``DurableStorage.load_group``), so that every reader sees
    every table whatever was read at the open. Going through all of them reads them all."""

    def __init__(self, storage: DurableStorage) -> None:
        super().__init__()
        self._storage = storage

    def __missing__(self, name: str) -> dict[str, Any]:
        group = self._storage.table_group.get(name)
        if group is None:
            raise KeyError(name)
        self._storage.load_group(group)
        return dict.__getitem__(self._storage.tables, name)  # type: ignore[no-any-return]

    def get(self, name: str, default: Any = None) -> Any:
        return self[name] if name in self._storage.table_group else dict.get(self, name, default)

    def setdefault(self, name: str, default: Any = None) -> Any:
        return self[name] if name in self._storage.table_group else dict.setdefault(self, name, default)

    def __contains__(self, name: object) -> bool:
        return name in self._storage.table_group or dict.__contains__(self, name)

    def _everything(self) -> LazyTables:
        self._storage.load_everything()
        return self._storage.tables  # type: ignore[return-value]

    def __iter__(self) -> Iterator[str]:
        return dict.__iter__(self._everything())

    def __len__(self) -> int:
        return len(self._storage.table_group)

    def keys(self) -> Any:
        return dict.keys(self._everything())

    def values(self) -> Any:
        return dict.values(self._everything())

    def items(self) -> Any:
        return dict.items(self._everything())
