"""The activity log on disk: an append-only file of JSON lines, read a record at a time.

The activity log is the biggest table (137k documents at the 50k-lead demo, 550k at
200k leads) and the one read least: a detail screen wants one record's entries, the
board and the review want a few figures folded from all of them. So it is not held in
memory. ``activities.jsonl`` holds a header line and then one document per line, only
ever appended to: a change of an activity (an edit, a delete's tombstone) appends its
new version, and the newest line of an id wins. Beside it, ``activities.index.json``
holds where each id's newest line starts and what was folded from the live documents:
the ids linked to each lead, deal and customer (a timeline reads only those lines) and
the digest the board, the customer cards, the risk rules and the review need
(``ActivityDigest``). Both are kept up to date on write.

**The commit protocol is the storage's** (``store.storage``): a new activity is in the
journal first and in memory (``pending``); a fold appends the pending documents to the
log, fsyncs it, then replaces the index atomically, and only then is the journal set
aside. A kill anywhere in that leaves the old or the new state:
- during the append: a torn last line, cut off at the next open (the journal, still
  there, holds it);
- between the append and the index: the index covers less of the log than there is;
  the lines past it are read and indexed at the next open;
- before the journal is set aside: its lines are replayed over a log that holds them
  already, which changes nothing (a replayed line equal to the log's is not pending).
An index that is missing, damaged or not of this log (its size or file differs) is
rebuilt from the log in one pass. No backups are kept of the log: nothing in it is
ever overwritten.
"""

from __future__ import annotations

import binascii
import contextlib
import itertools
import os
from array import array
from base64 import b64decode
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any

import orjson

from store.activity_index import IdOffsets, LogIndex, id_key, index_body, index_of, newest_offsets
from store.files import fsync_folder, write_all, write_atomic
from store.tablefile import json_default

LOG_FORMAT = "dealdeck-log"
LOG_SCHEMA = 1
Doc = dict[str, Any]


def log_header(table: str) -> bytes:
    return orjson.dumps({"format": LOG_FORMAT, "table": table, "schema": LOG_SCHEMA}) + b"\n"


class ActivityLog(MutableMapping[str, Doc]):
    """The activity table, kept in the log file (see the module docstring). A read
    decodes a fresh copy, as ``PackedTable`` did: changing it changes nothing stored."""

    _serials = itertools.count()

    def __init__(self, path: Path, *, table: str = "activities", links: tuple[str, ...] = (),
                 required: frozenset[str] = frozenset()) -> None:
        self.path, self.table = path, table
        self.index_path = path.with_name(f"{path.stem}.index.json")
        self.link_fields, self.required = links, required
        self._fd: int | None = None
        self.serial = next(ActivityLog._serials)
        self._reset()

    def _reset(self) -> None:
        #: each committed id's newest line
        self._ids = IdOffsets()
        #: documents not in the log file yet, in the order they came, and their references
        self._pending: dict[str, bytes] = {}
        self._pending_refs: dict[str, int] = {}
        self._pending_ids: dict[int, str] = {}
        self._refs = itertools.count(-1, -1)
        #: documents (ids) in all
        self._count = 0
        #: bytes of the log file read and indexed, and the file's inode
        self.size, self.inode = 0, 0
        #: some id has more than one line (a whole pass then keeps the last of each)
        self.superseded = False
        self._index: LogIndex | None = LogIndex(self.link_fields, self.required)
        #: documents replaced so far (adding one only makes the log longer)
        self.replaced = 0
        #: the index file is behind what is in memory (written at the next fold)
        self.index_behind = False

    # -- opening ----------------------------------------------------------------------
    def open(self) -> None:
        """Read the index (or rebuild it) and the lines past it. Called under the folder's
        lock: a torn last line is a killed fold's, and is cut off."""
        self.close()
        self._reset()
        self.serial = next(ActivityLog._serials)
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return
        self.inode = st.st_ino
        if not self._read_index(st):
            self._rebuild()
        self.catch_up()
        if self.index_behind:  # rebuilt, or lines past it: keep it for the next open
            with contextlib.suppress(OSError):
                self.write_index()

    def _read_index(self, st: os.stat_result) -> bool:
        try:
            data = orjson.loads(self.index_path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return False
        found = index_of(data, inode=st.st_ino, size=st.st_size, links=self.link_fields, required=self.required)
        if found is None:
            return False
        self._ids, self._index, self.size, self.superseded = found
        self._count = len(self._ids)
        return True

    def _rebuild(self) -> None:
        """The index from the log itself: each id's last line, then the live documents."""
        header = self._header_size()
        latest, self.superseded = newest_offsets((offset, key) for offset, line in self._whole_lines(header)
                                                 if (key := _id_of(line)) is not None)
        index = LogIndex(self.link_fields, self.required)
        end = header
        for offset, line in self._whole_lines(header):
            end = offset + len(line)
            doc = orjson.loads(line)
            if latest.get(doc.get("id")) == offset:
                index.add(offset, doc)
        self._ids, self._index, self._count = IdOffsets.of(latest), index, len(latest)
        self.size, self.index_behind = end, True

    def _header_size(self) -> int:
        with self.path.open("rb") as log:
            header = log.readline()
        try:
            ok = header.endswith(b"\n") and orjson.loads(header).get("format") == LOG_FORMAT
        except (orjson.JSONDecodeError, AttributeError):
            ok = False
        if not ok:
            raise ValueError("is not a Dealdeck log file")
        return len(header)

    def _whole_lines(self, start: int) -> Iterator[tuple[int, bytes]]:
        """The complete lines that are records from ``start`` on (a torn or damaged tail ends them)."""
        for offset, line in self._lines_from(start):
            if not line.endswith(b"\n") or _id_of(line) is None:
                return
            yield offset, line

    def catch_up(self) -> bool:
        """Take in the lines another process's fold appended (or a killed fold left past
        the index); cut a torn last line. True if anything was read."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return False
        if st.st_ino != self.inode:  # the log was made anew (a rebuild, a migration)
            self.open()
            return True
        if st.st_size <= self.size:
            return False
        end = self.size
        for offset, line in self._whole_lines(self.size):
            self._take_line(offset, line)
            end = offset + len(line)
        if end < st.st_size:
            self._cut(end)
        self.size = end
        self.index_behind = True
        return True

    def _take_line(self, offset: int, line: bytes) -> None:
        doc = orjson.loads(line)
        key = str(doc["id"])
        pending = self._pending.get(key)
        if pending is not None and pending == line.rstrip(b"\n"):
            self._committed(key, offset, doc)  # folded by another process: the same document
            return
        if pending is None and self._ids.find(key, self._is_line_of) is None:
            self._ids.recent[key] = offset
            self._count += 1
            if self._index is not None:
                self._index.add(offset, doc)
            return
        self._ids.moved(key, offset, self._is_line_of)  # a newer version of a record
        self.superseded = True
        self.replaced += 1
        self._index = None

    def _committed(self, key: str, offset: int, doc: Doc) -> None:
        """A pending document is in the log at ``offset`` now."""
        del self._pending[key]
        ref = self._pending_refs.pop(key)
        del self._pending_ids[ref]
        self._ids.moved(key, offset, self._is_line_of)
        if self._index is not None:
            self._index.moved(ref, offset, doc)

    def _cut(self, end: int) -> None:
        with self.path.open("r+b") as log:
            log.truncate(end)
            os.fsync(log.fileno())

    # -- the mapping ------------------------------------------------------------------
    def __getitem__(self, key: str) -> Doc:
        raw = self._raw(key)
        if raw is None:
            raise KeyError(key)
        return orjson.loads(raw)  # type: ignore[no-any-return]

    def get(self, key: str, default: Any = None) -> Any:
        raw = self._raw(key)
        return default if raw is None else orjson.loads(raw)

    def _raw(self, key: str) -> bytes | None:
        pending = self._pending.get(key)
        if pending is not None:
            return pending
        offset = self._ids.find(key, self._is_line_of)
        return None if offset is None else self._line_at(offset)

    def _is_line_of(self, offset: int, key: str) -> bool:
        return _id_of(self._line_at(offset)) == key

    def doc_at(self, ref: int) -> Doc:
        """The document a link group refers to (``LogIndex``)."""
        if ref < 0:
            return orjson.loads(self._pending[self._pending_ids[ref]])  # type: ignore[no-any-return]
        return orjson.loads(self._line_at(ref))  # type: ignore[no-any-return]

    def __setitem__(self, key: str, doc: Doc) -> None:
        raw = bytes(memoryview(orjson.dumps(doc, default=json_default)))
        if key in self._pending:
            self._pending[key] = raw
            self.replaced += 1
            self._index = None
            return
        offset = self._ids.find(key, self._is_line_of)
        if offset is not None:
            if self._line_at(offset) == raw:
                return  # a journal line replayed over the log that holds it already
            self.replaced += 1
            self._index = None
        else:
            self._count += 1
        ref = next(self._refs)
        self._pending[key], self._pending_refs[key], self._pending_ids[ref] = raw, ref, key
        if offset is None and self._index is not None:
            self._index.add(ref, doc)

    def __delitem__(self, key: str) -> None:
        raise TypeError("activities are never removed; a delete is a tombstone")

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and (key in self._pending or self._ids.find(key, self._is_line_of) is not None)

    def __iter__(self) -> Iterator[str]:
        return (key for key, _ in self.encoded_items())

    def __len__(self) -> int:
        return self._count

    # -- whole passes ------------------------------------------------------------------
    def encoded_items(self) -> Iterator[tuple[str, bytes]]:
        """Each id and its newest document's JSON text: the log read once from start to
        end (twice when some id has more than one line), then what is pending."""
        if self.size:
            header = self._header_size()
            latest = (newest_offsets((o, k) for o, line in self._lines_from(header, self.size)
                                     if (k := _id_of(line)) is not None)[0] if self.superseded else None)
            for offset, line in self._lines_from(header, self.size):
                key = _id_of(line)
                if key is None or key in self._pending or (latest is not None and latest.get(key) != offset):
                    continue
                yield key, line.rstrip(b"\n")
        yield from self._pending.items()

    def items(self) -> Iterator[tuple[str, Doc]]:  # type: ignore[override]
        return ((key, orjson.loads(raw)) for key, raw in self.encoded_items())

    def items_from(self, start: int) -> Iterator[tuple[str, Doc]]:
        """Documents from the ``start``-th on, in the order they were first added (as
        ``PackedTable.items_from``: a fold goes on from where it was)."""
        return itertools.islice(self.items(), start, None)

    def values(self) -> Iterator[Doc]:  # type: ignore[override]
        return (orjson.loads(raw) for _, raw in self.encoded_items())

    def encoded(self) -> Iterator[bytes]:
        return (raw for _, raw in self.encoded_items())

    def fragments(self) -> dict[str, orjson.Fragment]:
        return {key: orjson.Fragment(raw) for key, raw in self.encoded_items()}

    def copy(self) -> dict[str, Doc]:  # type: ignore[override]
        """The whole table as plain documents (a snapshot; nothing stays linked to the log)."""
        return dict(self.items())

    # -- what is folded from it --------------------------------------------------------------
    def index(self) -> LogIndex:
        """Links and digest of the live documents; rebuilt in one pass after a replacement."""
        if self._index is None:
            index = LogIndex(self.link_fields, self.required)
            for key, raw in self.encoded_items():
                ref = self._pending_refs.get(key)
                index.add(ref if ref is not None else self._ids.find(key, self._is_line_of), orjson.loads(raw))
            self._index = index
            self.index_behind = True
        return self._index

    def link_groups(self, field: str) -> LinkGroups:
        """The documents linked to each value of ``field`` (read when a group is asked for)."""
        return LinkGroups(self.index().links[field], self)

    # -- folding ---------------------------------------------------------------------------
    def fold(self) -> None:
        """Append what is pending to the log, fsync it, then write the index (see the module
        docstring for why this order). Called under the folder's lock."""
        if not self.path.exists():
            write_atomic(self.path, log_header(self.table))
            self.inode, self.size = self.path.stat().st_ino, len(log_header(self.table))
        self.catch_up()  # what another process appended stays: this fold goes after it
        if self._pending:
            self._append_pending()
        if self.index_behind or not self.index_path.exists():
            self.write_index()

    def _append_pending(self) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            if os.fstat(fd).st_size != self.size:  # cannot be, after ``catch_up``: never write over
                raise OSError(f"{self.path} changed while it was being folded into")
            offsets, offset, pieces = {}, self.size, []
            for key, raw in self._pending.items():
                offsets[key] = offset
                pieces.append(raw + b"\n")
                offset += len(raw) + 1
            write_all(fd, b"".join(pieces))
            os.fsync(fd)
        finally:
            os.close(fd)
        for key, at in offsets.items():
            if self._ids.find(key, self._is_line_of) is not None:
                self.superseded = True
            self._committed(key, at, orjson.loads(self._pending[key]))
        self.size = offset
        self.index_behind = True

    def write_index(self) -> None:
        """Replace the index file with what is in memory (atomically)."""
        if self._pending:
            return  # pending documents are not in the log yet: the next fold writes it
        index = self.index()
        self._ids = self._ids.merged()
        body = index_body(self._ids, index, inode=self.inode, size=self.size, superseded=self.superseded)
        write_atomic(self.index_path, orjson.dumps(body))
        self.index_behind = False

    # -- reading lines -------------------------------------------------------------------------
    def _line_at(self, offset: int) -> bytes:
        """The line (without its newline) that starts at ``offset``."""
        fd = self._file()
        chunk = os.pread(fd, 2048, offset)
        while b"\n" not in chunk:
            more = os.pread(fd, 65536, offset + len(chunk))
            if not more:
                break
            chunk += more
        return chunk.split(b"\n", 1)[0]

    def _file(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)
        return self._fd

    def _lines_from(self, start: int, end: int | None = None) -> Iterator[tuple[int, bytes]]:
        with self.path.open("rb") as log:
            log.seek(start)
            offset = start
            for line in log:
                if end is not None and offset >= end:
                    return
                yield offset, line
                offset += len(line)

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None


class LinkGroups(Mapping[str, list[Doc]]):
    """For each value of a link field, its activities as a new list, read from the log."""

    def __init__(self, groups: Mapping[str, array[int]], log: ActivityLog) -> None:
        self._groups, self._log = groups, log

    def __getitem__(self, value: str) -> list[Doc]:
        return [self._log.doc_at(ref) for ref in self._groups[value]]

    def __iter__(self) -> Iterator[str]:
        return iter(self._groups)

    def __len__(self) -> int:
        return len(self._groups)


def write_new_log(path: Path, table: str, docs: Iterable[Doc]) -> None:
    """A log holding ``docs`` (a migration from a table file), made atomically; its index
    is built at the next open."""
    def pieces() -> Iterator[bytes]:
        yield log_header(table)
        batch: list[bytes] = []
        for doc in docs:
            batch.append(orjson.dumps(doc, default=json_default))
            if len(batch) >= 1000:
                yield b"\n".join(batch) + b"\n"
                batch = []
        if batch:
            yield b"\n".join(batch) + b"\n"
    write_atomic(path, pieces())
    with contextlib.suppress(FileNotFoundError):
        path.with_name(f"{path.stem}.index.json").unlink()
    fsync_folder(path.parent)


def _id_of(line: bytes) -> str | None:
    """The id of a document line, read without decoding it when it comes first (as orjson
    writes the documents Dealdeck makes); decoded otherwise."""
    if line.startswith(b'{"id":"'):
        end = line.find(b'"', 7)
        if end > 0 and b"\\" not in line[7:end]:
            return line[7:end].decode()
    try:
        key = orjson.loads(line).get("id")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return key if isinstance(key, str) else None



def read_log(path: Path) -> tuple[dict[str, Doc], list[str]]:
    """The documents of a log (the newest line of each id) and its problems, reading it
    strictly read-only as ``dealdeck check`` does. A torn last line is no problem: a
    fold killed mid-append leaves one, the journal holds it, the next open cuts it."""
    docs: dict[str, Doc] = {}
    offsets: dict[str, int] = {}
    with path.open("rb") as log:
        header = log.readline()
        try:
            ok = orjson.loads(header).get("format") == LOG_FORMAT
        except (orjson.JSONDecodeError, AttributeError):
            ok = False
        if not ok or not header.endswith(b"\n"):
            return {}, ["is not a Dealdeck log file"]
        offset = len(header)
        for line in log:
            if not line.endswith(b"\n"):
                break
            try:
                doc = orjson.loads(line)
                key = doc["id"]
                if not isinstance(key, str) or not isinstance(doc.get("_s"), dict):
                    raise TypeError
            except (orjson.JSONDecodeError, TypeError, KeyError):
                return docs, [f"line at byte {offset} is not a record"]
            docs[key], offsets[key] = doc, offset
            offset += len(line)
    return docs, _index_problems(path, offsets)


def _index_problems(path: Path, offsets: Mapping[str, int]) -> list[str]:
    """An index that says it is of this log must point at each id's newest line (one that
    does not say so is stale, and is rebuilt at the next open)."""
    index_path = path.with_name(f"{path.stem}.index.json")
    try:
        data = orjson.loads(index_path.read_bytes())
        st = path.stat()
        ours = data["log"]["inode"] == st.st_ino and data["log"]["size"] <= st.st_size
        covered = {key: offset for key, offset in offsets.items() if offset < data["log"]["size"]}
        listed = set(zip(array("Q", b64decode(data["keys"])), array("q", b64decode(data["offsets"])),
                         strict=True)) if ours else None
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError, binascii.Error):
        return [f"{index_path.name} is damaged; delete it and it is rebuilt at the next open"]
    if listed is None:
        return []
    wanted = {(id_key(key), offset) for key, offset in covered.items()}
    wrong = len(wanted ^ listed)
    if wrong:
        return [f"{index_path.name} points {wrong // 2 or 1} record(s) at the wrong line; "
                "delete it and it is rebuilt at the next open"]
    return []
