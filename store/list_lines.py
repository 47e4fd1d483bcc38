"""A table file's grow-only lists on lines of their own, left on disk until read.

A lead's history (and a deal's quotes and change log: ``ENCODED_FIELDS``) grows with
every step and is read by few: the record's own screens, the review, the pool sweep,
the merge. In a table file, after each line of documents come two lines per such field:
the ids of the documents whose list is not empty and the length of each list's text,
then the lists themselves, in that order, as one JSON array::

    ["leads",[{"id":"a1",...},{"id":"b2",...}]]
    ["leads","history",["a1","b2"],[63,121]]
    [[{"id":"e1","kind":"created",...}],[{...},{...}]]

Still JSON, readable by hand. Reading the file decodes the first line and not the
second: where each list starts follows from the lengths (``StoredList``), and its text
is read from the file when the list is. A line of lists edited by hand (the lengths no
longer add up) is decoded instead. At 200k leads this opens the leads 0.2 s sooner and
in 120 MB less memory than decoding the histories and keeping their text.

The file is kept open by its lists (``ListFile``): a file replaced by a fold (an atomic
rename) stays readable through it until its last list is dropped, or its storage closed.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any

import orjson

from store.errors import CorruptFileError

#: grow-only lists kept encoded in memory and decoded when read (``EncodedList``)
ENCODED_FIELDS: dict[str, tuple[str, ...]] = {"leads": ("history",),
                                              "opportunities": ("quotes", "changes")}


class EncodedList(Sequence[dict[str, Any]]):
    """A list field of a stored document (``ENCODED_FIELDS``: a lead's history, a
    deal's quotes and change log), kept as its JSON text and decoded each time it is
    read: the 196k history entries of the 50k-lead demo take 56 MB decoded and 25 MB
    encoded. Few readers need them: a record's own screens and model, the review, the
    pool sweep and automatic assignment (which decode only what they need), a deal's
    risks, the merge. Stored documents are never changed in place, and neither is
    this. ``orjson.dumps`` needs ``default=json_default``."""

    __slots__ = ("raw",)

    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    @classmethod
    def of(cls, items: list[Any]) -> EncodedList:
        # Copied: orjson's bytes keep its whole write buffer (see PackedTable).
        return cls(bytes(memoryview(orjson.dumps(items))))

    def decoded(self) -> list[Any]:
        return orjson.loads(self.raw)  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.decoded())

    def __len__(self) -> int:
        return len(self.decoded())

    def __getitem__(self, index: Any) -> Any:
        return self.decoded()[index]

    def __reversed__(self) -> Iterator[dict[str, Any]]:
        return reversed(self.decoded())

    def __contains__(self, item: object) -> bool:
        return item in self.decoded()

    def __bool__(self) -> bool:
        return self.raw != b"[]"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, EncodedList):
            return self.raw == other.raw or self.decoded() == other.decoded()
        if isinstance(other, list):
            return self.decoded() == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"EncodedList({self.decoded()!r})"



def json_default(value: Any) -> Any:
    """``orjson.dumps(..., default=json_default)`` writes documents and record sets
    that hold an ``EncodedList`` or a ``PackedTable``, without decoding them."""
    if isinstance(value, EncodedList):
        return orjson.Fragment(value.raw)
    if hasattr(value, "fragments"):  # a packed table, the activity log
        return value.fragments()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


class DamagedList(CorruptFileError, ValueError):
    """A stored list that cannot be read back (its file was changed in place)."""


class ListFile:
    """An open table file that stored lists are read from (``os.pread``: no shared
    position). Closed when the last list that reads it is dropped, or with the storage
    that read it (``ListFiles``).

    Reads go through a window of the file (``WINDOW`` bytes from the last list read that
    was not in it): a pass over every lead's history (the review, the pool sweep) reads
    the lists in the file's order, a few hundred per read instead of one. The window is
    replaced whole, so a thread reading beside another only reads again."""

    __slots__ = ("__weakref__", "_closer", "_window", "fd", "name")
    WINDOW = 1 << 16

    def __init__(self, file: IO[bytes]) -> None:
        self.fd = os.dup(file.fileno())  # the same open file: the same inode, whatever is renamed over it
        self.name = getattr(file, "name", "?")
        self._closer = weakref.finalize(self, os.close, self.fd)
        self._window: tuple[int, bytes] = (0, b"")

    def read(self, at: int, size: int) -> bytes:
        start, data = self._window
        if start <= at and at + size <= start + len(data):
            return data[at - start:at - start + size]
        if self.fd < 0:
            raise ValueError(f"{self.name}: a list read after its store was closed")
        data = self._pread(at, max(size, self.WINDOW))
        if len(data) < size:
            raise DamagedList(f"{self.name} was cut short after it was read; run `dealdeck check`")
        self._window = (at, data)
        return data[:size]

    def _pread(self, at: int, size: int) -> bytes:
        """Up to ``size`` bytes from ``at`` (fewer at the end of the file)."""
        chunks, done = [], 0
        while done < size:
            chunk = os.pread(self.fd, size - done, at + done)
            if not chunk:
                break
            chunks.append(chunk)
            done += len(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def close(self) -> None:
        self._closer()
        self.fd = -1
        self._window = (0, b"")


class ListFiles:
    """The files a storage's lists are read from, to close with it (a process that opens
    many stores, as the tests do, would otherwise keep one open per store)."""

    def __init__(self) -> None:
        self._files: weakref.WeakSet[ListFile] = weakref.WeakSet()

    def opened(self, file: IO[bytes]) -> ListFile:
        source = ListFile(file)
        self._files.add(source)
        return source

    def close(self) -> None:
        for source in list(self._files):
            source.close()


class StoredList(EncodedList):
    """An ``EncodedList`` whose text stays in its table file: ~90 bytes in memory instead
    of the list's text. Read again each time it is decoded or written (a fold copies it
    into the new file)."""

    __slots__ = ("_file", "_where")

    def __init__(self, file: ListFile, at: int, size: int) -> None:
        self._file = file
        self._where = at << 32 | size  # one int object, not two in a tuple (20 MB at 200k leads)

    @property  # type: ignore[override]
    def raw(self) -> bytes:
        return self._file.read(self._where >> 32, self._where & 0xFFFFFFFF)

    def decoded(self) -> list[Any]:
        try:
            return orjson.loads(self.raw)  # type: ignore[no-any-return]
        except orjson.JSONDecodeError:
            raise DamagedList(f"{self._file.name}: the list at byte {self._where >> 32} is damaged; "
                              "run `dealdeck check`") from None

    def __bool__(self) -> bool:
        return self._where & 0xFFFFFFFF > 2  # "[]" is never written on a line of its own


def split_lists(name: str, docs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[bytes]]:
    """A batch's documents without their non-empty grow-only lists, and the lines that
    hold those lists: for each field, which documents and how long each list's text is,
    then the lists themselves (see the module docstring)."""
    fields = ENCODED_FIELDS.get(name)
    if not fields:
        return docs, []
    slim = [doc if not any(doc.get(field) for field in fields)
            else {key: value for key, value in doc.items() if not (key in fields and value)} for doc in docs]
    lines = []
    for field in fields:
        keys, texts = [], []
        for doc in docs:
            value = doc.get(field)
            if value:
                keys.append(doc["id"])
                texts.append(value.raw if isinstance(value, EncodedList) else orjson.dumps(value, default=json_default))
        if keys:
            lines.append(orjson.dumps([name, field, keys, [len(text) for text in texts]]) + b"\n")
            lines.append(b"[" + b",".join(texts) + b"]\n")
    return slim, lines


class ListLines:
    """Puts a table file's lists back on their documents as they are read. Lists spelt
    as Dealdeck writes them are not decoded: where each starts is worked out from the
    lengths on the line before (a few hundred thousand of them open a team's leads)."""

    def __init__(self, file: IO[bytes] | None, *, lean: bool, files: ListFiles | None = None) -> None:
        """``lean``: lists left in ``file`` (else decoded); ``files``: where the file is
        registered, to be closed with its storage."""
        self._file, self._lean, self._files = file, lean, files or ListFiles()
        self._source: ListFile | None = None

    @staticmethod
    def is_index(parsed: Any) -> bool:
        """Whether a decoded line is the line before a batch's lists (documents' lines
        hold two items)."""
        return isinstance(parsed, list) and len(parsed) == 4

    def add(self, index: list[Any], line: bytes, at: int, tables: Mapping[str, dict[str, Any]]) -> None:
        """Put the lists on ``line`` (which starts at byte ``at`` of the file) on the
        documents ``index`` names; raise ValueError when either line is wrong."""
        name, field, keys, sizes = index
        if not (name in tables and field in ENCODED_FIELDS.get(name, ()) and type(keys) is list
                and type(sizes) is list and len(keys) == len(sizes)
                and all(type(key) is str for key in keys) and all(type(size) is int and size > 1 for size in sizes)):
            raise ValueError(f"has a malformed line of lists for table {str(name)[:40]!r}")
        values = self._in_file(line, at, sizes) if self._lean and self._file is not None else None
        if values is None:  # decoded: not lean, or the line was edited (by hand) or damaged
            values = self._decoded(line, len(keys))
        table = tables[name]
        for key, value in zip(keys, values, strict=True):
            doc = table.get(key)
            if doc is None or field in doc:
                raise ValueError(f"has a list for table {name!r}, record {key[:40]!r} out of place")
            doc[field] = value

    def _in_file(self, line: bytes, at: int, sizes: list[int]) -> list[StoredList] | None:
        """Each list where it is on ``line``, or None if the line is not spelt as written."""
        end = len(line) - (1 if line[-1:] == b"\n" else 0)
        if end != sum(sizes) + len(sizes) + 1 or line[:1] != b"[" or line[end - 1:end] != b"]":
            return None
        if self._source is None:
            self._source = self._files.opened(self._file)  # type: ignore[arg-type]
        source, values, start = self._source, [], 1
        for size in sizes:
            if line[start] != 91 or line[start + size - 1] != 93:  # "[" and "]"
                return None
            values.append(StoredList(source, at + start, size))
            start += size + 1
        return values

    def _decoded(self, line: bytes, count: int) -> list[Any]:
        try:
            items = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"has a damaged line of lists ({exc})") from None
        if not (type(items) is list and len(items) == count and all(type(item) is list for item in items)):
            raise ValueError("has a malformed line of lists")
        return [EncodedList.of(item) for item in items] if self._lean else items
