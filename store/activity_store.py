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

import contextlib
import hashlib
import itertools
import os
from array import array
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any

import orjson

from store import records
from store.activity_log import ActivityDigest
from store.files import fsync_folder, write_all, write_atomic
from store.tablefile import json_default

LOG_FORMAT = "dealdeck-log"
INDEX_FORMAT = "dealdeck-log-index"
LOG_SCHEMA = 1
#: not yet in the log file: the document is in ``pending``
PENDING = -1
Doc = dict[str, Any]


def log_header(table: str) -> bytes:
    return orjson.dumps({"format": LOG_FORMAT, "table": table, "schema": LOG_SCHEMA}) + b"\n"


def stable_key(text: str) -> int:
    """A 63-bit hash of ``text`` that is the same in every process (``hash`` of a str is
    not), for the digest's sets of leads, which the index keeps on disk."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") >> 1


class LogIndex:
    """What is folded from the live documents of the log: ids by linked record, and the digest."""

    def __init__(self, links: tuple[str, ...], required: frozenset[str]) -> None:
        self.links: dict[str, dict[str, tuple[str, ...]]] = {name: {} for name in links}
        self.digest = ActivityDigest(key=stable_key)
        self.required = required
        #: ids of documents left out for lacking a field their readers need
        self.damaged: set[str] = set()

    def add(self, key: str, doc: Mapping[str, Any]) -> None:
        if records.DELETED in doc and not records.is_live(doc):
            return
        if not doc.keys() >= self.required:
            self.damaged.add(key)
            return
        for name, by_value in self.links.items():
            value = doc.get(name)
            if value:
                by_value[value] = (*by_value.get(value, ()), key)
        self.digest.add(doc)

    def to_json(self, slot_of: Mapping[str, int]) -> dict[str, Any]:
        return {"links": {name: {value: [slot_of[key] for key in keys] for value, keys in by_value.items()}
                          for name, by_value in self.links.items()},
                "digest": self.digest.to_json(), "damaged": sorted(self.damaged)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], ids: list[str], links: tuple[str, ...],
                  required: frozenset[str]) -> LogIndex:
        index = cls(links, required)
        for name in links:
            index.links[name] = {value: tuple(ids[slot] for slot in slots)
                                 for value, slots in data["links"][name].items()}
        index.digest = ActivityDigest.from_json(data["digest"], key=stable_key)
        index.damaged = set(data["damaged"])
        return index


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
        #: slot -> id; slot -> offset of the id's newest line (``PENDING``: not in the file)
        self._ids: list[str] = []
        self._offsets = array("q")
        self._slots: dict[str, int] = {}
        self._pending: dict[int, bytes] = {}
        #: bytes of the log file read and indexed, and the file's inode
        self.size, self.inode = 0, 0
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
            self._reset_to_header()
            self.index_behind = True
        self.catch_up()
        if self.index_behind:  # rebuilt, or lines past it: keep it for the next open
            with contextlib.suppress(OSError):
                self.write_index()

    def _read_index(self, st: os.stat_result) -> bool:
        try:
            data = orjson.loads(self.index_path.read_bytes())
            if (data.get("format") != INDEX_FORMAT or data["log"]["inode"] != st.st_ino
                    or not 0 < data["log"]["size"] <= st.st_size or len(data["ids"]) != len(data["offsets"])):
                return False
            ids: list[str] = data["ids"]
            index = LogIndex.from_json(data, ids, self.link_fields, self.required)
            offsets = array("q", data["offsets"])
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
            return False
        self._ids, self._offsets, self._index = ids, offsets, index
        self._slots = {key: slot for slot, key in enumerate(ids)}
        self.size = data["log"]["size"]
        return True

    def _reset_to_header(self) -> None:
        self._ids, self._offsets, self._slots = [], array("q"), {}
        self._index = LogIndex(self.link_fields, self.required)
        with self.path.open("rb") as log:
            header = log.readline()
        if not header.endswith(b"\n") or orjson.loads(header).get("format") != LOG_FORMAT:
            raise ValueError("is not a Dealdeck log file")
        self.size = len(header)

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
        for offset, line in self._lines_from(self.size):
            if not line.endswith(b"\n"):
                break
            try:
                doc = orjson.loads(line)
                key = doc["id"]
            except (orjson.JSONDecodeError, TypeError, KeyError):
                break
            self._take_line(str(key), offset, line, doc)
            end = offset + len(line)
        if end < st.st_size:
            self._cut(end)
        self.size = end
        self.index_behind = True
        return True

    def _take_line(self, key: str, offset: int, line: bytes, doc: Doc) -> None:
        slot = self._slots.get(key)
        if slot is None:
            self._new_slot(key, offset)
            if self._index is not None:
                self._index.add(key, doc)
            return
        pending = self._pending.get(slot)
        if pending is not None and pending == line.rstrip(b"\n"):
            del self._pending[slot]  # folded by another process: the same document
        elif pending is None:
            self.replaced += 1
            self._index = None
        self._offsets[slot] = offset

    def _cut(self, end: int) -> None:
        with self.path.open("r+b") as log:
            log.truncate(end)
            os.fsync(log.fileno())

    # -- the mapping ------------------------------------------------------------------
    def __getitem__(self, key: str) -> Doc:
        slot = self._slots[key]
        pending = self._pending.get(slot)
        return orjson.loads(pending if pending is not None else self._line_at(self._offsets[slot]))  # type: ignore[no-any-return]

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self._slots else default

    def __setitem__(self, key: str, doc: Doc) -> None:
        raw = bytes(memoryview(orjson.dumps(doc, default=json_default)))
        slot = self._slots.get(key)
        if slot is None:
            self._new_slot(key, PENDING)
            self._pending[len(self._ids) - 1] = raw
            if self._index is not None:
                self._index.add(key, doc)
            return
        if slot not in self._pending and self._offsets[slot] != PENDING \
                and self._line_at(self._offsets[slot]) == raw:
            return  # a journal line replayed over the log that holds it already
        self._pending[slot] = raw
        self.replaced += 1
        self._index = None

    def __delitem__(self, key: str) -> None:
        raise TypeError("activities are never removed; a delete is a tombstone")

    def __contains__(self, key: object) -> bool:
        return key in self._slots

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def _new_slot(self, key: str, offset: int) -> None:
        self._slots[key] = len(self._ids)
        self._ids.append(key)
        self._offsets.append(offset)

    # -- whole passes ------------------------------------------------------------------
    def encoded_items(self) -> Iterator[tuple[str, bytes]]:
        """Each id and its newest document's JSON text: the log read once from start to
        end, then what is pending."""
        offsets, slots = self._offsets, self._slots
        if self.size:
            header = len(self._line_at(0)) + 1
            for offset, line in self._lines_from(header, self.size):
                key = _id_of(line)
                slot = slots.get(key) if key is not None else None
                if slot is not None and offsets[slot] == offset and slot not in self._pending:
                    yield key, line.rstrip(b"\n")  # type: ignore[misc]
        for slot, raw in sorted(self._pending.items()):
            yield self._ids[slot], raw

    def items(self) -> Iterator[tuple[str, Doc]]:  # type: ignore[override]
        return ((key, orjson.loads(raw)) for key, raw in self.encoded_items())

    def items_from(self, start: int) -> Iterator[tuple[str, Doc]]:
        """Documents from the ``start``-th on, in the order they were first added (as
        ``PackedTable.items_from``: a fold goes on from where it was)."""
        if start == 0:
            return self.items()
        return ((key, self[key]) for key in self._ids[start:])

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
            for key, doc in self.items():
                index.add(key, doc)
            self._index = index
            self.index_behind = True
        return self._index

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
            offset, pieces = self.size, []
            for slot in sorted(self._pending):
                line = self._pending[slot] + b"\n"
                pieces.append(line)
                self._offsets[slot] = offset
                offset += len(line)
            write_all(fd, b"".join(pieces))
            os.fsync(fd)
        except BaseException:
            for slot in self._pending:
                self._offsets[slot] = PENDING
            raise
        finally:
            os.close(fd)
        self._pending.clear()
        self.size = offset
        self.index_behind = True

    def write_index(self) -> None:
        """Replace the index file with what is in memory (atomically)."""
        index = self.index()
        committed = [slot for slot in range(len(self._ids)) if self._offsets[slot] != PENDING]
        if len(committed) != len(self._ids):
            return  # pending documents are not in the log yet: the next fold writes it
        body = {"format": INDEX_FORMAT, "log": {"inode": self.inode, "size": self.size},
                "ids": self._ids, "offsets": self._offsets.tolist(), **index.to_json(self._slots)}
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
        ours = data["log"]["inode"] == path.stat().st_ino and data["log"]["size"] <= path.stat().st_size
        listed = dict(zip(data["ids"], data["offsets"], strict=True)) if ours else {}
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError):
        return [f"{index_path.name} is damaged; delete it and it is rebuilt at the next open"]
    wrong = [key for key, offset in listed.items() if offsets.get(key) != offset]
    if wrong:
        return [f"{index_path.name} points {len(wrong)} record(s) at the wrong line (e.g. {wrong[0][:40]}); "
                "delete it and it is rebuilt at the next open"]
    return []
