"""The table files' format, and the lean forms the tables take in memory.

A table file is a header line and then lines of up to ``BATCH_DOCS`` documents,
so that it is written and read a piece at a time: one ``orjson.loads`` of a 58 MB
file peaks at 400 MB, most of it orjson's own tree of the text. While the pieces
are read, repeated strings (owners, stages, kinds, days, change stamps) are made
one object each (``StringPool``), the activity log is kept encoded (``PackedTable``)
and so are a few cold lists (``EncodedList``): at the 50k-lead demo the tables take
270 MB instead of 610 MB. No I/O here but reading a file named by the caller.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any

import orjson

from store.list_lines import ENCODED_FIELDS, EncodedList, ListFiles, ListLines, json_default, split_lists

SCHEMA_VERSION = 1
FILE_FORMAT = "dealdeck-tables"
#: the table file's layout: a header line, then ``[table, [document, ...]]`` lines, each
#: followed by its documents' grow-only lists, ``[table, field, id, [entry, ...]]`` (see
#: ``store.list_lines``). Files without it are one JSON object (Dealdeck before
#: 2026-11-25); they are still read, and rewritten in this layout when opened.
FILE_LAYOUT = "batches+lists"
#: layouts read: "batches" (before 2026-12-07) holds the lists in their documents; it is
#: rewritten in this layout when opened, as the one-line files are
READ_LAYOUTS = frozenset({FILE_LAYOUT, "batches"})
#: documents per line of a table file: a few hundred kB of text at a time
BATCH_DOCS = 1000
#: tables kept encoded in memory, each document decoded when it is read (``PackedTable``)
PACKED_TABLES: frozenset[str] = frozenset()
Tables = dict[str, dict[str, dict[str, Any]]]


def table_file_pieces(tables: Tables, names: tuple[str, ...], clock: str, generation: int) -> Iterator[bytes]:
    """A table file's lines: the header, then the documents ``BATCH_DOCS`` at a time
    (one ``orjson.dumps`` per batch: a call per document takes four times as long)."""
    counts = {name: len(tables.get(name, {})) for name in names}
    yield orjson.dumps({"format": FILE_FORMAT, "layout": FILE_LAYOUT, "schema": SCHEMA_VERSION,
                        "clock": clock, "generation": generation, "counts": counts}) + b"\n"
    for name in names:
        table = tables.get(name, {})
        if isinstance(table, PackedTable):
            encoded = list(table.encoded())
            head = orjson.dumps(name)
            for start in range(0, len(encoded), BATCH_DOCS):
                yield b"[" + head + b",[" + b",".join(encoded[start:start + BATCH_DOCS]) + b"]]\n"
            continue
        docs = list(table.values())
        for start in range(0, len(docs), BATCH_DOCS):
            slim, lists = split_lists(name, docs[start:start + BATCH_DOCS])
            yield orjson.dumps([name, slim], default=json_default) + b"\n"
            yield from lists



class PackedTable(MutableMapping[str, dict[str, Any]]):
    """A table whose documents are kept as their JSON text and decoded when read.

    For the activity log: the largest table (137k documents at the 50k-lead demo),
    only appended to, and read whole only to work out figures, or a few documents at
    a time for a detail screen. Decoded it holds 130 MB, encoded 67 MB. A read decodes
    a fresh copy (3 us): changing it changes nothing stored, and identity says
    nothing. A full pass over the table costs ~0.3 s at the 50k demo, so what is worked
    out from the whole table is kept and brought up to date with the documents added
    since (``serial``, ``replaced``, ``items_from``; see ``Store.fold``).
    """

    __slots__ = ("_raw", "replaced", "serial")
    _serials = itertools.count()

    def __init__(self, docs: Mapping[str, dict[str, Any]] | None = None) -> None:
        self._raw: dict[str, bytes] = {}
        #: which table this is, for caches of what was worked out from it
        self.serial = next(PackedTable._serials)
        #: documents replaced or removed so far (adding one only makes the table longer)
        self.replaced = 0
        for key, doc in (docs or {}).items():
            self[key] = doc

    def __getitem__(self, key: str) -> dict[str, Any]:
        return orjson.loads(self._raw[key])  # type: ignore[no-any-return]

    def get(self, key: str, default: Any = None) -> Any:
        raw = self._raw.get(key)
        return default if raw is None else orjson.loads(raw)

    def __setitem__(self, key: str, doc: dict[str, Any]) -> None:
        # Copied: the bytes orjson returns keep its whole write buffer (4 kB for a
        # 400-byte document); the copy is allocated at its size.
        if key in self._raw:
            self.replaced += 1
        self._raw[key] = bytes(memoryview(orjson.dumps(doc, default=json_default)))

    def __delitem__(self, key: str) -> None:
        del self._raw[key]
        self.replaced += 1

    def __contains__(self, key: object) -> bool:
        return key in self._raw

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def values(self) -> Iterator[dict[str, Any]]:  # type: ignore[override]
        """Each document decoded in turn (one at a time: nothing is kept)."""
        return map(orjson.loads, self._raw.values())

    def items(self) -> Iterator[tuple[str, dict[str, Any]]]:  # type: ignore[override]
        return self.items_from(0)

    def items_from(self, start: int) -> Iterator[tuple[str, dict[str, Any]]]:
        """Documents from the ``start``-th on, in the order they were first added: new
        ones come last (a replaced one keeps its place)."""
        raw = self._raw
        return ((key, orjson.loads(raw[key])) for key in itertools.islice(raw, start, None))

    def copy(self) -> PackedTable:
        """A copy that shares the encoded documents (bytes never change)."""
        copied = PackedTable()
        copied._raw = dict(self._raw)
        return copied

    def encoded(self) -> Iterable[bytes]:
        return self._raw.values()

    def encoded_items(self) -> Iterable[tuple[str, bytes]]:
        """Each document's id and JSON text, without decoding (to pick a few by their text)."""
        return self._raw.items()

    def fragments(self) -> dict[str, orjson.Fragment]:
        """The table as ``orjson.dumps`` can write it without decoding a document."""
        return {key: orjson.Fragment(raw) for key, raw in self._raw.items()}



class StringPool:
    """One object for each repeated string value of the documents being read.

    orjson makes a new string for every value it parses, so 137k activities hold
    137k copies of "call" and of their owners' names, and a document's
    ``created_at``, ``updated_at`` and ``at`` are three copies of one time. Reading
    the 50k-lead demo through a pool takes the tables from 546 MB to 350 MB. Only the
    fields that repeat are pooled: which they are is learnt from each table's first
    batch of documents (a field whose values are at least half repeats), so a name or
    a company, unique by nature, costs no pool lookup (0.1 s of the 0.27 s it took to
    pool the 50k demo's leads).
    """

    UNIQUE = frozenset({"id", "email", "phone", "notes", "body", "comment"})
    #: documents a table's first batch needs to learn its repeating fields from
    LEARN_FROM = 100

    def __init__(self) -> None:
        self._strings: dict[str, str] = {}
        #: table -> the fields of its documents worth pooling
        self._fields: dict[str, tuple[str, ...]] = {}

    def pool_docs(self, docs: list[dict[str, Any]], table: str = "") -> None:
        """Replace the documents' repeating string values (and those of their lists and
        sub-documents, one level down, which is as deep as records go) by their pooled
        objects; the table's ``ENCODED_FIELDS`` are encoded instead (those a file holds
        in its documents, or a journal's). One loop, inlined: a call per document and per
        entry was a third of the time."""
        for name in ENCODED_FIELDS.get(table, ()):
            for doc in docs:
                value = doc.get(name)
                if value and type(value) is list:
                    doc[name] = EncodedList.of(value)
        fields = self._fields_of(docs, table)
        pool, unique = self._strings.setdefault, self.UNIQUE
        last_stamp, last_stamps = None, None
        for doc in docs:
            stamps = doc.get("_s")
            if type(stamps) is dict and len(stamps) == 1:
                # A run of documents written together (an import, a merge) has one stamp
                # for every field: one dict for the run (stored stamps are never changed
                # in place; 37 MB at 200k imported leads).
                if stamps.get("*") == last_stamp and last_stamp is not None:
                    doc["_s"] = last_stamps
                else:
                    last_stamp, last_stamps = stamps.get("*"), stamps
            created = doc.get("created_at")
            if created is not None and doc.get("updated_at") == created:
                doc["updated_at"] = created  # never changed since: one object for both times
            for key in fields if fields is not None else list(doc):
                value = doc.get(key)
                kind = type(value)
                if kind is str:
                    if key not in unique:
                        doc[key] = pool(value, value)  # type: ignore[arg-type]
                elif kind is list:
                    for index, item in enumerate(value):  # type: ignore[arg-type]
                        if type(item) is str:
                            value[index] = pool(item, item)  # type: ignore[index]
                        elif type(item) is dict:
                            for sub, text in item.items():
                                if type(text) is str and sub not in unique:
                                    item[sub] = pool(text, text)
                elif kind is dict:
                    for sub, text in value.items():  # type: ignore[union-attr]
                        if type(text) is str and sub not in unique:
                            value[sub] = pool(text, text)  # type: ignore[index]

    def _fields_of(self, docs: list[dict[str, Any]], table: str) -> tuple[str, ...] | None:
        """The table's fields worth pooling, learnt from the first batch big enough (None:
        every field, for a few documents of a table not learnt yet)."""
        fields = self._fields.get(table)
        if fields is None and table and len(docs) >= self.LEARN_FROM:
            fields = self._fields[table] = repeating_fields(docs, self.UNIQUE)
        return fields



def repeating_fields(docs: list[dict[str, Any]], unique: frozenset[str]) -> tuple[str, ...]:
    """The fields whose string values repeat in ``docs`` (at most half of them distinct),
    and every list and sub-document (tags, stamps, stage changes: they repeat)."""
    values: dict[str, list[str]] = {}
    nested: set[str] = set()
    for doc in docs:
        for key, value in doc.items():
            if type(value) is str:
                values.setdefault(key, []).append(value)
            elif type(value) in (list, dict):
                nested.add(key)
    repeating = {key for key, seen in values.items()
                 if key not in unique and len(set(seen)) * 2 <= len(seen)}
    return tuple(sorted(repeating | nested))



def read_table_file(path: Path, strings: StringPool | None = None, *,
                    make_table: Callable[[str], dict[str, Any]] = lambda _: {},
                    files: ListFiles | None = None) -> dict[str, Any]:
    """Read one table file a line at a time; raise ValueError with its problem and
    OSError when it cannot be read."""
    with path.open("rb") as lines:
        return read_table_lines(lines, strings, make_table=make_table, files=files)



def read_table_lines(lines: Iterator[bytes], strings: StringPool | None = None, *,
                     make_table: Callable[[str], dict[str, Any]] = lambda _: {},
                     files: ListFiles | None = None) -> dict[str, Any]:
    """A table file's header with its ``tables`` (name -> id -> document), from its
    lines; raise ValueError with the problem. ``make_table`` makes each empty table
    (``DurableStorage.new_table``); ``strings`` pools the strings of the documents."""
    steps = table_steps(lines, strings, make_table=make_table, files=files)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]



def table_steps(lines: Iterator[bytes], strings: StringPool | None = None, *,
                make_table: Callable[[str], dict[str, Any]] = lambda _: {},
                files: ListFiles | None = None) -> Generator[None, None, dict[str, Any]]:
    """``read_table_lines`` a line (``BATCH_DOCS`` documents) at a time: yields after each,
    returns the header with its tables (so that the app reads a table between frames)."""
    first = next(lines, b"")
    header = _json_line(first)
    if not isinstance(header, dict) or header.get("format") != FILE_FORMAT:
        raise ValueError("not a Dealdeck table file")
    schema = header.get("schema")
    if not isinstance(schema, int) or schema < 1:
        raise ValueError("has no valid schema version")
    if schema > SCHEMA_VERSION:
        raise ValueError(f"was written by a newer Dealdeck (schema {schema}); upgrade Dealdeck")
    if "layout" not in header:  # the whole file on one line
        _check_tables(header.get("tables"))
        for name, docs in header["tables"].items():
            header["tables"][name] = table = make_table(name)
            if strings is not None and not isinstance(table, PackedTable):
                strings.pool_docs(list(docs.values()), name)
            table.update(docs)
        return header
    counts = header.get("counts")
    if (header["layout"] not in READ_LAYOUTS or not isinstance(counts, dict)
            or not all(isinstance(count, int) for count in counts.values())):
        raise ValueError(f"has an unknown layout {str(header['layout'])[:40]!r}; upgrade Dealdeck")
    tables: Tables = {str(name): make_table(str(name)) for name in counts}
    lists = ListLines(lines if hasattr(lines, "fileno") else None, lean=strings is not None, files=files)
    at, index = len(first), None
    for line in lines:
        if index is not None:  # the line after a line of lists' ids: the lists
            lists.add(index, line, at, tables)
            index = None
        else:
            parsed = _json_line(line)
            if lists.is_index(parsed):
                index = parsed
            else:
                _add_batch(parsed, tables, strings)
                yield
        at += len(line)
    if index is not None:
        raise ValueError("is cut short: a line of lists is missing")
    for name, docs in tables.items():
        if len(docs) != counts[name]:
            raise ValueError(f"is cut short: table {name!r} has {len(docs)} of {counts[name]} records")
    header["tables"] = tables
    return header



def _add_batch(parsed: Any, tables: Tables, strings: StringPool | None) -> None:
    name, docs = _batch(parsed, tables)
    table = tables[name]
    for doc in docs:
        key = doc.get("id") if type(doc) is dict else None
        if type(key) is not str or key in table or type(doc.get("_s")) is not dict:
            raise ValueError(f"table {name!r}, record {str(key)[:40]!r} is malformed")
    if strings is not None and not isinstance(table, PackedTable):
        strings.pool_docs(docs, name)
    before = len(table)
    table.update({doc["id"]: doc for doc in docs})
    if len(table) - before != len(docs):
        raise ValueError(f"table {name!r} holds a record twice")



def _json_line(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc})") from None



def _batch(parsed: Any, tables: Tables) -> tuple[str, list[Any]]:
    if (not isinstance(parsed, list) or len(parsed) != 2 or parsed[0] not in tables
            or not isinstance(parsed[1], list)):
        raise ValueError("has a malformed line of records")
    return parsed[0], parsed[1]



def _check_tables(tables: Any) -> None:
    if not isinstance(tables, dict):
        raise ValueError("has no tables")
    for name, docs in tables.items():
        if not isinstance(docs, dict):
            raise ValueError(f"table {name!r} is not a mapping")
        for key, doc in docs.items():
            if not isinstance(doc, dict) or doc.get("id") != key or not isinstance(doc.get("_s"), dict):
                raise ValueError(f"table {name!r}, record {key[:40]!r} is malformed")
