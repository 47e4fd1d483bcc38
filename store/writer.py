"""One transaction's view of the store (``Store.writing`` yields it): reads the current
documents, validates and stamps what it writes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

from store import records
from store.errors import StoreError
from store.models import FieldChange, Opportunity, Record, utc_now
from store.transaction import Transaction

if TYPE_CHECKING:
    from store.database import Store

R = TypeVar("R", bound=Record)


class Writer:
    """One transaction's view: reads current docs, writes stamped ones."""

    def __init__(self, store: Store, txn: Transaction) -> None:
        self.store, self.txn = store, txn
        self._stamp: str | None = None
        #: the day an operation was given (rules count due dates from it); None: the clock's
        self.today: date | None = None

    @property
    def stamp(self) -> str:
        if self._stamp is None:
            self._stamp = self.store.clock.now()
            self.store.storage.note_clock(self._stamp)
        return self._stamp

    def current(self, cls: type[R], record_id: str) -> tuple[R, records.Doc]:
        doc = self.txn.get(cls.table, record_id)
        if doc is None or not records.is_live(doc):
            raise StoreError(f"no {cls.noun} with id {record_id}")
        return self.store.model_of(cls, doc), doc

    def insert(self, record: R, *, checked: bool = False) -> R:
        """``checked``: ``record`` comes from ``Store.validate`` (bulk imports), so it is
        not validated a second time."""
        if self.txn.get(record.table, record.id) is not None:
            raise StoreError(f"a {record.noun} with id {record.id} already exists")
        if not checked:
            record = self.store.validate(type(record), record.model_dump())
        self.txn.put(record.table, records.stamp_record(record, None, self.stamp))
        return record

    def insert_document(self, cls: type[Record], doc: records.Doc) -> None:
        """A new record's document as ``records.document_fields`` made it from a model that
        was validated elsewhere (a bulk import's worker process)."""
        if self.txn.get(cls.table, doc["id"]) is not None:
            raise StoreError(f"a {cls.noun} with id {doc['id']} already exists")
        self.txn.put(cls.table, records.stamp_new(doc, self.stamp))

    def update(self, cls: type[R], record_id: str, changes: Mapping[str, Any]) -> R:
        current, doc = self.current(cls, record_id)
        if cls.table in self.store.append_only:
            raise StoreError(f"a logged {cls.noun} cannot be edited")
        if "id" in changes and changes["id"] != record_id:
            raise StoreError("a record's id cannot change")
        data = current.model_dump()
        for name in cls.grow_only & changes.keys():
            data[name] = _grow(data[name], changes[name])
        data.update({k: v for k, v in changes.items() if k not in cls.grow_only})
        data["updated_at"] = utc_now()
        updated = self.store.validate(cls, data)
        if isinstance(updated, Opportunity) and isinstance(current, Opportunity):
            updated = _track_changes(current, updated, self.store.me)
        self.txn.put(cls.table, records.stamp_record(updated, doc, self.stamp))
        return updated

    def delete(self, cls: type[Record], record_id: str) -> None:
        _, doc = self.current(cls, record_id)
        self.txn.put(cls.table, records.tombstone(doc, self.stamp))


def _grow(old: list[Any], new: list[Any]) -> list[Any]:
    """Grow-only lists: keep every old entry, add the new ones (by id)."""
    merged = {entry["id"] if isinstance(entry, dict) else entry.id: entry for entry in old}
    for entry in new:
        merged.setdefault(entry["id"] if isinstance(entry, dict) else entry.id, entry)
    return list(merged.values())


def _track_changes(before: Opportunity, after: Opportunity, by: str) -> Opportunity:
    changes = list(after.changes)
    for name in Opportunity.tracked:
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            changes.append(FieldChange(field=name, by=by, old=_text(old), new=_text(new)))
    return after.model_copy(update={"changes": changes}) if len(changes) != len(after.changes) else after


def _text(value: object) -> str | None:
    return None if value is None else str(value)
