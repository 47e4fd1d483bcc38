"""A replica's own changes as the records of a segment, and a segment's records made
ready to merge. Pure: no I/O.

A segment holds, for every record this replica changed since its last segment, only
what this replica stamped: the fields it wrote (a field left out under a stamp of its
own was set to its falsy default), its delete, and the record's grow-only lists (their
entries carry no stamps; merged as sets by id, a list sent again changes nothing). A
record created here since then is sent whole, under its ``"*"`` stamp, minus fields a
teammate has changed since (their stamp is newer and theirs to send).

A partial document (no ``"*"``) merges like a whole one whose every other field is
absent under the oldest stamp there is: it loses to anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

import orjson

from store.activity_store import ActivityLog
from store.records import BASE, DELETED, STAMPS, Doc
from store.tablefile import PackedTable
from sync.format import TABLES, RecordSet, empty_set
from sync.merge import grow_only_fields

#: keys of a document that are not fields
_META = frozenset({"id", STAMPS, DELETED})


def own_changes(tables: Mapping[str, Mapping[str, Doc]], replica: str, after: str) -> RecordSet:
    """What ``replica`` changed after stamp ``after`` (``""``: everything it ever wrote),
    as a segment's records (see the module docstring)."""
    changes = empty_set()
    for table in TABLES:
        grow_only = grow_only_fields(table)
        found = changes[table]
        for record_id, doc in _with_stamps_of(tables.get(table, {}), replica):
            entry = own_entry(doc, replica, after, grow_only)
            if entry is not None:
                found[record_id] = entry
    return changes


def _with_stamps_of(docs: Mapping[str, Doc], replica: str) -> Iterator[tuple[str, Doc]]:
    """The documents that may hold a stamp of ``replica``: an encoded table decodes only
    those whose text names it (the activity log is mostly teammates' here)."""
    if isinstance(docs, PackedTable | ActivityLog):
        marker = replica.encode()
        for record_id, raw in docs.encoded_items():
            if marker in raw:
                yield record_id, orjson.loads(raw)
    else:
        yield from docs.items()


def own_entry(doc: Doc, replica: str, after: str, grow_only: Iterable[str]) -> Doc | None:
    """``doc``'s part a segment of ``replica`` after ``after`` holds, or None."""
    stamps: dict[str, str] = doc[STAMPS]
    own = {name: stamp for name, stamp in stamps.items() if stamp > after and stamp.endswith(replica)}
    deleted = doc.get(DELETED)
    own_delete = deleted is not None and deleted > after and deleted.endswith(replica)
    if not own and not own_delete:
        return None
    entry: Doc = {"id": doc["id"]}
    grow_only = frozenset(grow_only)
    created_here = BASE in own
    for name, value in doc.items():
        if name in _META:
            continue
        if name in grow_only or name in own or (created_here and name not in stamps):
            entry[name] = value
    entry[STAMPS] = own
    if own_delete:
        entry[DELETED] = deleted
    return entry


def own_stamps(records: RecordSet) -> Iterator[str]:
    """Every stamp in a segment's records."""
    for docs in records.values():
        for doc in docs.values():
            yield from doc[STAMPS].values()
            if DELETED in doc:
                yield doc[DELETED]


def stamp_range(records: RecordSet) -> tuple[str, str] | None:
    """The oldest and newest stamp of a segment's records (None when it has none)."""
    stamps = list(own_stamps(records))
    return (min(stamps), max(stamps)) if stamps else None
