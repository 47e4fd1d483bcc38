"""Undo and redo of this session's changes, on any record (``ctrl+z`` / ``ctrl+y`` in the app).

Every transaction this Store commits through ``Store.writing`` (an edit, a delete, a
conversion, a stage move, a bulk action: one commit each) is remembered with the
documents it replaced. Undoing it is a new change, stamped now, that syncs like any other:

- a record the change created is deleted;
- each field the change set is put back to what it was, unless it was changed again since
  (by this session, another process or a merge): the later change is kept;
- a record the change deleted comes back, as it was;
- grow-only lists (histories, quotes) keep their entries: they only ever grow.

Redo puts back what the undo took away, the same way. A new change after an undo drops
what could be redone, as editors do. Merges are not in this list (``dealdeck sync undo``
takes back a merge), nor are changes too big to keep (an import of thousands of rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from store.errors import StoreError
from store.models import BY_TABLE, utc_now
from store.records import BASE, DELETED, STAMPS, Doc, is_live, stamp_of

if TYPE_CHECKING:
    from store.database import Store

#: changes remembered per session, newest last
HISTORY_KEPT = 100
#: a change of more records than this is not kept for undo
UNDO_RECORDS_MAX = 5000
#: keys of a document that are no fields
_META = frozenset({"id", STAMPS, DELETED})


@dataclass(frozen=True)
class SessionChange:
    """One commit of this session: per record, its document before and after."""

    records: tuple[tuple[str, str, Doc | None, Doc], ...]
    #: what the change was, as its notice says it ("assign 12 leads to Bo"); kept by its
    #: undo and redo, so both name the action
    label: str = ""

    def describe(self) -> str:
        """The label, else ``lead Emma Clarke``, ``3 leads``, ``a deal and its customer``."""
        if self.label:
            return self.label
        if len(self.records) == 1:
            table, _, before, after = self.records[0]
            noun = BY_TABLE[table].noun
            name = after.get("name") or after.get("title") or (before or {}).get("name") or ""
            return f"{noun} {name}".strip()
        counts: dict[str, int] = {}
        for table, *_ in self.records:
            counts[table] = counts.get(table, 0) + 1
        return ", ".join(f"{n} {table if n > 1 else BY_TABLE[table].noun}" for table, n in counts.items())


class SessionUndo:
    """Store's undo and redo (its methods run on a ``Store``)."""

    def remember(self: Store, change: SessionChange) -> None:  # type: ignore[misc]
        self.undo_stack.append(change)
        del self.undo_stack[:-HISTORY_KEPT]
        self.redo_stack.clear()

    def undo_last(self: Store) -> str | None:  # type: ignore[misc]
        """Undo this session's last change; what it undid, in words (None: nothing to undo)."""
        return _replay(self, self.undo_stack, self.redo_stack)

    def redo_last(self: Store) -> str | None:  # type: ignore[misc]
        """Put back what the last undo took away (None: nothing to redo)."""
        return _replay(self, self.redo_stack, self.undo_stack)


def _replay(store: Store, source: list[SessionChange], target: list[SessionChange]) -> str | None:
    """Write ``source``'s last change back to its ``before`` documents, as a new change;
    the change that would take it back again goes on ``target``."""
    if not source:
        return None
    change = source[-1]
    with store.writing(remember=False, rules=False) as w:
        written = []
        for table, record_id, before, after in reversed(change.records):
            current = w.txn.get(table, record_id)
            doc = _put_back(table, current, before, after, w.stamp)
            if doc is not None:
                store.validate(BY_TABLE[table], {k: v for k, v in doc.items() if k not in _META} | {"id": record_id})
                w.txn.put(table, doc)
                written.append((table, record_id, current, doc))
    source.pop()
    target.append(SessionChange(tuple(written), change.label))
    return change.describe()


def _put_back(table: str, current: Doc | None, before: Doc | None, after: Doc, stamp: str) -> Doc | None:
    """``current`` with what the change from ``before`` to ``after`` set taken back, where
    nothing changed it since; None when there is nothing to write."""
    if current is None:
        raise StoreError("the record is no longer here")
    if not before:  # the change created it: delete it (if it is still there)
        return {**current, DELETED: stamp} if is_live(current) else None
    doc = dict(current)
    stamps = dict(doc[STAMPS])
    grow_only = BY_TABLE[table].grow_only
    names = (set(before) | set(after) | set(before[STAMPS]) | set(after[STAMPS])) - _META - {BASE} - grow_only
    for name in names - {"updated_at"}:
        if _same(before, after, name) or stamp_of(current, name) != stamp_of(after, name):
            continue  # not set by the change, or changed again since: the later change stays
        if name in before:
            doc[name] = before[name]
        else:
            doc.pop(name, None)
        stamps[name] = stamp
    revived = DELETED in current and not is_live(current) and (DELETED not in before or is_live(before))
    if stamps == doc[STAMPS] and not revived:
        return None
    stamps["updated_at"] = stamp  # a change like any other (and newer than a delete it takes back)
    doc["updated_at"] = utc_now().isoformat().replace("+00:00", "Z")
    doc[STAMPS] = stamps
    return doc


def _same(a: Doc, b: Doc, name: str) -> bool:
    return (name in a) == (name in b) and a.get(name) == b.get(name)


def session_change(before: dict[tuple[str, str], Doc | None], puts: list[tuple[str, Doc]]) -> SessionChange | None:
    """What a committed transaction changed, for undo (None: too big to keep, or nothing)."""
    if not puts or len(before) > UNDO_RECORDS_MAX:
        return None
    after: dict[tuple[str, str], Doc] = {}
    for table, doc in puts:
        after[(table, doc["id"])] = doc
    return SessionChange(tuple((table, record_id, before.get((table, record_id)), doc)
                               for (table, record_id), doc in after.items()))

