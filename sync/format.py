"""The team export file: what one replica writes for the others to merge.

Layout (two parts, so the body can be hashed as the exact bytes on disk)::

    {"format": "dealdeck-export", "version": 1, "replica": ..., "rep": ..., "app_version": ...,
     "exported_at": ..., "counts": {table: n}, "seen": {replica: stamp}, "sha256": <hex>}\\n
    {"tables": {table: {record id: stored document}}}

The first line is the header; everything after the first newline is the body,
and ``sha256`` is the SHA-256 of those body bytes. Documents are exactly as the
store keeps them: fields (falsy defaults left out), ``"_s"`` stamps (``"*"`` plus
per-field overrides) and ``"_del"`` tombstones (see ``store.records``).

``seen`` maps every replica whose writes this export contains to the newest
stamp of that replica in it: what this replica had seen of each teammate when
it exported. Merge uses it to tell concurrent edits from ordinary updates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from store.hlc import Stamp
from store.records import DELETED, STAMPS

FORMAT = "dealdeck-export"
VERSION = 1
SUFFIX = ".dealdeck.json"
#: the record tables an export carries, in a fixed order
TABLES = ("leads", "opportunities", "customers", "contacts", "activities", "tasks", "tickets", "surveys")

Doc = dict[str, Any]
#: table -> record id -> stored document
RecordSet = dict[str, dict[str, Doc]]


def export_name(replica: str) -> str:
    return f"{replica}{SUFFIX}"


def empty_set() -> RecordSet:
    return {table: {} for table in TABLES}


def doc_stamps(doc: Mapping[str, Any]) -> Iterable[str]:
    yield from doc[STAMPS].values()
    if DELETED in doc:
        yield doc[DELETED]


def seen_vector(records: RecordSet) -> dict[str, str]:
    """replica -> newest stamp of that replica anywhere in ``records``."""
    seen: dict[str, str] = {}
    for docs in records.values():
        for doc in docs.values():
            for stamp in doc_stamps(doc):
                replica = stamp[-16:]
                if stamp > seen.get(replica, ""):
                    seen[replica] = stamp
    return seen


def replica_of(stamp: str) -> str:
    return Stamp.parse(stamp).replica
