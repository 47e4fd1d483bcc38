"""CSV import: another CRM's export or a spreadsheet into leads, customers or contacts.

The file is streamed (``reading``), its columns planned (``columns``) and each
row read (``rows``) and validated through the pydantic models. A row whose key
(the other system's id, else its e-mail) matches a stored record updates it;
the others are added. Everything is written in one transaction, or nothing
when any row is bad (unless ``skip_bad``). Problems name the file's line.
"""

from __future__ import annotations

import contextlib
import gc
import marshal
import multiprocessing
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from store.config import Config
from store.database import Store
from store.errors import StoreError, ValidationFailed
from store.gc_pause import collector_paused
from store.imports.cells import friendly
from store.imports.columns import (
    IMPORT_TABLES,
    Layout,
    custom_targets,
    is_field_key_row,
    listing,
    normalise_header,
    plan_columns,
)
from store.imports.lookups import Customers, Duplicates, Existing, RepNames, Reps, duplicate_keys, identity_keys
from store.imports.parallel import BATCH_ROWS, prepare_in_parallel, worker_count
from store.imports.reading import BlockUnreadable, CsvFile, CsvRow, Refused, TextBlock, chunked, open_csv
from store.imports.report import ImportReport
from store.imports.rows import CHOICES, Row, RowReader, count_row, make_consistent
from store.imports.vocab import normalise_value, translate
from store.leads import score_lead
from store.models import LeadEvent, new_id, utc_now
from store.records import document_fields, field_errors

ImportTable = Literal["leads", "customers", "contacts"]
Progress = Callable[[int, int], None]


@dataclass
class ImportOptions:
    """How to read a file; the command line's flags, or a saved mapping's contents."""

    #: column (a header or a number) -> field, ``key``, ``notes-line`` or ``ignore``
    columns: dict[str, str] = field(default_factory=dict)
    #: column or field -> {the file's value: ours}
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    #: the column that holds the other system's record id
    key: str | None = None
    #: rep for rows without an owner, or whose owner is not a rep ("auto": the assignment rule)
    owner: str | None = None
    keep_unmapped: bool = True
    #: a saved mapping's columns and values: used where the file has them, under ``columns``
    saved_columns: dict[str, str] = field(default_factory=dict)
    saved_values: dict[str, dict[str, str]] = field(default_factory=dict)


class _Rollback(Exception):
    """The import is refused after some rows were put: take them back."""


def import_csv(store: Store, path: str | Path, table: ImportTable, options: ImportOptions | None = None, *,
               dry_run: bool = False, skip_bad: bool = False, progress: Progress | None = None) -> ImportReport:
    """Import a CSV file's rows as ``table`` records; see the module docstring.

    A file that does not exist raises ``StoreError``; every other problem is
    in the report (``refused`` when nothing was written). ``progress`` is
    called with (rows done, the file's size in bytes) every thousand rows; an
    exception it raises stops the import and writes nothing (the screen's Escape).
    """
    if table not in IMPORT_TABLES:
        raise StoreError(f"cannot import {table}; choose one of {', '.join(IMPORT_TABLES)}")
    report = ImportReport(table=table, dry_run=dry_run)
    try:
        run = _Run.start(store, Path(path), table, options or ImportOptions(), report)
        if dry_run:
            with collector_paused(keep=True):
                run.read_all(None, skip_bad, progress)
        else:
            with collector_paused(keep=True), store.writing() as writer:
                run.read_all(writer, skip_bad, progress)
                if run.refused(skip_bad):
                    raise _Rollback
    except Refused as exc:
        report.refused, report.problems = True, [str(exc)]
        report.added = report.updated = report.unchanged = 0
        return report
    except _Rollback:
        pass
    report.refused = run.refused(skip_bad)
    if report.refused:
        report.added = report.updated = report.unchanged = 0
    return report


#: a ``Prepared`` as a worker sends it (``Prepared.wire``)
Wire = tuple[Any, ...]


@dataclass
class Prepared:
    """A row read and validated, ready to be written (or why it cannot be)."""

    line: int
    row: Row
    key: str
    #: the row's fields before an owner, score and grade were added (an update writes only these)
    given: dict[str, Any]
    #: the record as stored, without stamps; None when the row is bad
    doc: dict[str, Any] | None = None
    errors: dict[str, str] = field(default_factory=dict)
    #: the owner is for the assignment rule to choose (``--owner auto``)
    auto_owner: bool = False
    #: ``lookups.duplicate_keys`` of the new record (leads and customers)
    match_keys: tuple[Collection[str], Collection[str]] = ((), ())
    #: the row read without errors (it may update a record even if it cannot make a new one)
    readable: bool = True
    #: ``lookups.identity_keys`` of a row without a key, to find the record it updates
    identity: tuple[str, ...] = ()

    def wire(self) -> Wire:
        """What a worker sends back: plain values, cheap to pickle (a dataclass with dates and
        sets costs more to unpickle than the row did to prepare). The fields an update needs
        are not sent: the rare row that matches a stored record is prepared again."""
        row = self.row
        return (self.line, self.key, self.readable, self.identity, self.doc, self.errors or None, self.auto_owner,
                tuple(self.match_keys[0]), tuple(self.match_keys[1]), row.defaulted or None,
                row.strangers or None, row.adjusted or None, row.notes_cut)

    @classmethod
    def from_wire(cls, wire: Wire) -> Prepared:
        (line, key, readable, identity, doc, errors, auto_owner, own, lookup, defaulted, strangers, adjusted,
         notes_cut) = wire
        row = Row({}, defaulted=defaulted or [], strangers=strangers or [], adjusted=adjusted or [],
                  notes_cut=notes_cut)
        return cls(line, row, key, {}, doc, errors or {}, auto_owner, (own, lookup), readable, tuple(identity),
                   complete=False)

    #: False for one rebuilt from ``wire``: it lacks what an update needs
    complete: bool = True


@dataclass
class Preparer:
    """Reads and validates rows on their own: what a row becomes depends only on the file,
    the mapping and the config, so import workers in other processes can do it (picklable)."""

    table: str
    layout: Layout
    reader: RowReader
    config: Config
    default_owner: str
    me: str
    note: str
    #: the file: a worker reads the blocks of it that it is given
    csv: CsvFile
    #: the import's time: every record it adds was created then (one clock reading, not
    #: one per field; the models' default factories cost a fifth of a row)
    now: datetime
    #: owner -> their new leads' first event, validated and dumped (``_first_event``)
    _events: dict[str, dict[str, Any]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        # looked up once: a model's ``model_fields`` is built afresh at each reading
        self._model = IMPORT_TABLES[self.table]
        self._has_tags = "tags" in self._model.model_fields
        self._context = {"config": self.config}

    def prepare(self, line: int, cells: list[str]) -> Prepared:
        row = self.reader.read(cells)
        extra = self.layout.extra_cells(cells)
        if extra:
            row.errors[""] = extra
        if self.table == "leads":
            make_consistent(row, self.reader.headers.get("status", "status"))
        key = self.layout.key(cells)
        if key:
            row.data["external_id"] = key
        prepared = Prepared(line, row, key, dict(row.data), errors=dict(row.errors), readable=not row.errors,
                            identity=() if key else identity_keys(self.table, row.data))
        if not row.errors:
            self._complete(prepared)
            self._validate(prepared)
        return prepared

    def prepare_batch(self, batch: list[CsvRow]) -> list[Prepared]:
        return [self.prepare(line, cells) for line, cells in batch]

    def _complete(self, prepared: Prepared) -> None:
        """Owner, and for a lead its score, grade and first history event."""
        data, row = prepared.row.data, prepared.row
        owner = data.get("owner") or self.default_owner
        prepared.auto_owner = owner == "auto"
        data["owner"] = self.me if prepared.auto_owner else owner
        data["id"] = new_id()
        data["created_at"] = data["updated_at"] = self.now
        if self._has_tags:
            data.setdefault("tags", [])  # given, a list's default is not deep-copied: 10% of a row's cost
        if self.table != "leads":
            return
        data["history"] = []  # the first event is added once validated (``_first_event``)
        data["score"] = score_lead(data)
        if "grade" not in data or "grade" in row.guessed:
            data["grade"] = self.config.grade_for(data["score"])

    def _first_event(self, owner: str) -> dict[str, Any]:
        """A new lead's "created" (or "assigned") event with an id of its own: validated once
        per owner, not once per row (a nested model is half the cost of a lead's validation)."""
        event = self._events.get(owner)
        if event is None:
            kind = "created" if owner == self.me else "assigned"
            event = LeadEvent(id=new_id(), at=self.now, kind=kind, by=self.me, to=owner, note=self.note)
            event = self._events[owner] = event.model_dump(mode="json", exclude_defaults=True)
        return {**event, "id": new_id()}

    def _validate(self, prepared: Prepared) -> None:
        try:
            record = self._model.model_validate(prepared.row.data, context=self._context)
        except ValidationError as exc:
            for name, message in field_errors(exc).items():
                column = "customer" if name == "customer_id" and self.table == "contacts" else name
                prepared.errors.setdefault(column, friendly(message))
            return
        prepared.doc = document_fields(record)
        if self.table == "leads":
            prepared.doc["history"] = [self._first_event(record.owner)]
        if self.table in ("leads", "customers"):
            prepared.match_keys = duplicate_keys(self.table, prepared.doc)


#: the preparer of this import worker process (set once, when the pool starts it)
_WORKER: Preparer | None = None


def _start_worker(preparer: Preparer) -> None:
    global _WORKER
    _WORKER = preparer
    if multiprocessing.parent_process() is not None:  # a worker, not this process preparing rows itself
        gc.disable()  # it makes only acyclic rows, freed as it goes (see collector_paused)


def _prepare_in_worker(batch: list[CsvRow] | TextBlock) -> bytes | None:
    """The batch's rows prepared, marshalled (plain values: a fifth of pickle's cost to
    make, and the main process reads them at a quarter of its cost per row); None for a
    block that does not read as whole records (``CsvFile.block_rows``)."""
    assert _WORKER is not None
    try:
        rows = batch if isinstance(batch, list) else _WORKER.csv.block_rows(batch)
    except BlockUnreadable:
        return None
    return marshal.dumps([prepared.wire() for prepared in _WORKER.prepare_batch(rows)])


class _Source:
    """The records of a batch a worker prepared, read again here the first time one is
    needed: a row that updates a stored record is prepared again in full (the worker
    sent only what a new record needs)."""

    def __init__(self, csv: CsvFile, batch: list[CsvRow] | TextBlock) -> None:
        self._csv, self._batch = csv, batch
        self._by_line: dict[int, list[str]] | None = None

    def cells(self, line: int) -> list[str]:
        if self._by_line is None:
            batch = self._batch
            self._by_line = dict(batch if isinstance(batch, list) else self._csv.block_rows(batch))
        return self._by_line[line]


@dataclass
class _Run:
    """One import's state: the file, the lookups, and what it has done so far."""

    store: Store
    csv: CsvFile
    layout: Layout
    preparer: Preparer
    report: ImportReport
    existing: Existing
    duplicates: Duplicates | None
    reps: Reps
    #: the file's first row (a data row when the file has no header)
    first: tuple[int, list[str]] = (0, [])

    @property
    def table(self) -> str:
        return self.preparer.table

    @classmethod
    def start(cls, store: Store, path: Path, table: str, options: ImportOptions, report: ImportReport) -> _Run:
        store.refresh()
        csv = open_csv(path, store.config.imports.max_file_mb * 2**20)
        first = next(csv.rows(), None)
        if first is None:
            raise Refused(f"{path} is empty: no header and no rows")
        layout = plan_columns(table, first[1], options.columns, path, key=options.key,
                              keep_unmapped=options.keep_unmapped, saved=options.saved_columns,
                              custom=custom_targets(store.config.custom(table)))
        layout.delimiter = csv.delimiter
        model = IMPORT_TABLES[table]
        reps = Reps(store, model)
        owner = _default_owner(reps, options.owner, store.me)
        reader = RowReader(layout, RepNames(store.config), sources=list(store.config.lead_sources),
                           value_maps=_value_maps(options, layout, store),
                           customers=Customers(store) if table == "contacts" else None)
        if csv.encoding in ("gbk", "cp1252"):
            report.warnings.append(f"note: {path} is not UTF-8; it was read as {csv.encoding_name}; "
                                   "check the names, or save it as CSV UTF-8")
        report.warnings += layout.notes
        report.fallback_owner = owner
        preparer = Preparer(table, layout, reader, store.config, owner, store.me,
                            f"imported from {path.name}"[:200], csv, utc_now())
        return cls(store, csv, layout, preparer, report, Existing(store, model),
                   Duplicates(store, table) if table in ("leads", "customers") else None, reps, first)

    def read_all(self, writer: Any, skip_bad: bool, progress: Progress | None) -> None:
        for count, (prepared, source) in enumerate(self._prepared(), 1):
            target = writer if not (self.report.bad and not skip_bad) else None
            if isinstance(prepared, tuple):
                self._apply_wire(prepared, source, target)
            else:
                self._apply(prepared, source, target)
            if progress is not None and count % 1000 == 0:
                progress(count, self.csv.size)
        if self.report.rows == 0:
            raise Refused(f"{self.csv.path} has a header row but no rows to import")

    def _data_rows(self, rows: Iterator[CsvRow]) -> Iterator[CsvRow]:
        """The file's records from its first, without the header (and the template's
        row of field names under it)."""
        if self.layout.has_header:
            next(rows, None)
        for count, (line, cells) in enumerate(rows, 1):
            if count == 1 and self.layout.has_header and is_field_key_row(self.first[1], cells):
                self.report.warnings.append(f"note: line {line} holds the template's field names "
                                            f"({listing(cells, limit=4)}), not a record; it was skipped")
                continue
            yield line, cells

    def _prepared(self) -> Iterator[tuple[Prepared, None] | tuple[Wire, _Source]]:
        """Rows prepared here, or by worker processes for a big file (in the file's order);
        a row a worker prepared comes as it was sent (``Prepared.wire``), with where to
        read it again (``_apply_wire``)."""
        workers = worker_count(self.csv.size)
        if workers < 2:
            for line, cells in self._data_rows(self.csv.rows()):
                yield self.preparer.prepare(line, cells), None
            return
        results = prepare_in_parallel(self.preparer, self._work(), workers, _prepare_in_worker, _start_worker)
        with contextlib.closing(results):
            for batch, result in results:
                if result is None:  # a block that is not whole records after all: read on in order
                    assert isinstance(batch, TextBlock)
                    results.close()
                    for line, cells in self.csv.rows(batch.offset, batch.line):
                        yield self.preparer.prepare(line, cells), None
                    return
                source = _Source(self.csv, batch)
                for wire in marshal.loads(result):
                    yield wire, source

    def _work(self) -> Iterator[list[CsvRow] | TextBlock]:
        """The workers' batches: the first records read here as ``_data_rows`` leaves them,
        then the blocks (and rows) of the rest of the file as ``CsvFile.batches`` cuts it."""
        pieces = self.csv.batches(BATCH_ROWS)
        first_block: list[TextBlock] = []

        def leading_rows() -> Iterator[CsvRow]:
            for piece in pieces:
                if isinstance(piece, TextBlock):
                    first_block.append(piece)
                    return
                yield from piece

        yield from chunked(self._data_rows(leading_rows()), BATCH_ROWS)
        yield from first_block
        yield from pieces

    def refused(self, skip_bad: bool) -> bool:
        return (self.report.bad > 0 and not skip_bad) or self.report.good == 0

    def _apply_wire(self, wire: Wire, source: _Source, writer: Any) -> None:
        """A row a worker prepared. The usual one, a new record, is added from the values
        sent, without rebuilding the row (a tenth of this process's time per row)."""
        (line, key, readable, identity, doc, _, auto_owner, own, lookup, *counts) = wire
        if doc is None or (readable and self.existing.find(key, identity) is not None):
            self._apply(Prepared.from_wire(wire), source, writer)
            return
        self.report.rows += 1
        self._add(line, key, doc, auto_owner, (own, lookup), writer)
        count_row(self.report, *counts)

    def _apply(self, prepared: Prepared, source: _Source | None, writer: Any) -> None:
        self.report.rows += 1
        if prepared.readable:  # a row that updates a record need not make a whole new one
            target = self.existing.find(prepared.key, prepared.identity)
            if target is not None:
                if not prepared.complete:
                    assert source is not None
                    prepared = self.preparer.prepare(prepared.line, source.cells(prepared.line))
                self._update(prepared, target, writer)
                return
        if prepared.doc is None:
            self._bad(prepared.line, prepared.errors)
            return
        self._add(prepared.line, prepared.key, prepared.doc, prepared.auto_owner, prepared.match_keys, writer)
        prepared.row.count_in(self.report)

    def _bad(self, line: int, errors: Mapping[str, str]) -> None:
        self.report.bad += 1
        for name, message in errors.items():
            self.report.problem(f"line {line}: {name}: {message}" if name else f"line {line}: {message}")

    def _add(self, line: int, key: str, doc: dict[str, Any], auto_owner: bool,
             match_keys: tuple[Collection[str], Collection[str]], writer: Any) -> None:
        if auto_owner:
            self._assign(doc)
        if writer is not None:
            writer.insert_document(IMPORT_TABLES[self.table], doc)
        self.report.added += 1
        self.reps.got(doc["owner"])
        self.existing.add(doc["id"], key, () if key else identity_keys(self.table, doc))
        if self.duplicates is not None:
            label = str(doc.get("name") or doc["id"])
            warning = self.duplicates.check(line, match_keys, label)
            if warning:
                self.report.warnings.append(warning)
                self.report.duplicates += 1

    def _assign(self, doc: dict[str, Any]) -> None:
        """The assignment rule's choice, in the file's order (a round robin is sequential)."""
        owner = self.reps.auto(doc)
        doc["owner"] = owner
        for event in doc.get("history", ()):
            event["to"] = owner
            if owner != self.store.me:
                event["kind"] = "assigned"

    def _update(self, prepared: Prepared, record_id: str, writer: Any) -> None:
        """Fields the file gives, over the stored ones; values the import had to guess,
        and notes lines the record already holds, leave the stored ones alone."""
        cls = IMPORT_TABLES[self.table]
        row = prepared.row
        doc = self.store.storage.tables[cls.table].get(record_id)
        if doc is None:  # a dry run: an earlier row of this file would have added it
            self.report.updated += 1
            row.count_in(self.report)
            return
        current = self.store.model_of(cls, doc)
        stored = current.model_dump()
        changes = {name: value for name, value in prepared.given.items()
                   if name in cls.model_fields and name not in row.guessed and name not in ("notes", "history")}
        if prepared.key == record_id:  # Dealdeck's own export: its id is no other system's
            changes.pop("external_id", None)
        if row.converted and (stored.get("customer_id") or stored.get("opportunity_id")):
            changes["status"] = "converted"  # the stored lead links what it was converted to
            row.adjusted.clear()
        if stored.get("status") == "disqualified" and changes.get("status") not in (None, "disqualified"):
            changes.setdefault("disqualified_reason", "")  # the reason went with the status
        notes = merged_notes(stored.get("notes", ""), row.own_notes, row.lines)
        if notes is not None:
            changes["notes"] = notes
        if "tags" in changes:
            changes["tags"] = list(dict.fromkeys([*stored.get("tags", []), *changes["tags"]]))
        try:
            candidate = self.store.validate(cls, {**stored, **changes})
        except ValidationFailed as exc:
            self._bad(prepared.line, {name: friendly(message) for name, message in exc.errors.items()})
            return
        row.count_in(self.report)
        differing = {name: getattr(candidate, name) for name in changes
                     if getattr(candidate, name) != getattr(current, name)}
        if not differing:
            self.report.unchanged += 1
            return
        if writer is not None:
            writer.update(cls, record_id, differing)
        self.report.updated += 1


def merged_notes(stored: str, own: str, lines: list[str]) -> str | None:
    """The stored notes with the file's: its notes cell added unless the notes hold it
    already, and each ``Column: value`` line replacing the stored line of that column
    (a newer export's value), or added. None when nothing changes."""
    kept = stored.strip().split("\n") if stored.strip() else []
    for line in lines:
        column = line.split(": ", 1)[0] + ": "
        at = next((i for i, old in enumerate(kept) if old.startswith(column)), None)
        if at is None:
            kept.append(line)
        else:
            kept[at] = line
    text = "\n".join(kept)
    if own and own not in text:
        text = f"{own}\n{text}" if text else own
    return None if text == stored.strip() else text


def _default_owner(reps: Reps, owner: str | None, me: str) -> str:
    if owner is None:
        return me
    try:
        return reps.resolve(owner)
    except ValueError as exc:
        raise Refused(f"--owner {owner}: {exc}") from None


def _value_maps(options: ImportOptions, layout: Layout, store: Store) -> dict[str, dict[str, str]]:
    """``--map-value`` by field: a column's header (or number) or a field names where it
    applies. A saved mapping's values for a column this file lacks are left out."""
    by_header = {normalise_header(c.header): c.target for c in layout.columns}
    by_header.update({str(c.index + 1): c.target for c in layout.columns})
    maps: dict[str, dict[str, str]] = {}
    given = [(column, values, False) for column, values in options.saved_values.items()]
    given += [(column, values, True) for column, values in options.values.items()]
    for column, values, required in given:
        name = column.strip().lower() if column.strip().lower() in layout.fields else \
            by_header.get(normalise_header(column)) or by_header.get(column.strip())
        if name is None or name not in layout.fields:
            if not required:
                continue
            raise Refused(f"--map-value {column}:…: the file has no column {column!r} read into a field")
        for value, ours in values.items():
            maps.setdefault(name, {})[normalise_value(value)] = _checked_value(name, value, ours, store, column)
    return maps


def _checked_value(name: str, value: str, ours: str, store: Store, column: str) -> str:
    allowed = list(store.config.lead_sources) if name == "source" else CHOICES.get(name)
    if allowed is None:
        return ours
    found = translate(name, ours, allowed)
    if found is None:
        raise Refused(f"--map-value {column}:{value}={ours}: {ours!r} is not a {name} here "
                      f"(one of: {', '.join(allowed)})")
    return found
