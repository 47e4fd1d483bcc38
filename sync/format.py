"""The team export file: what one replica writes for the others to merge.

Layout (two parts, so the body can be hashed as the exact bytes on disk)::

    {"format": "dealdeck-export", "version": 1, "replica": ..., "rep": ..., "app_version": ...,
     "exported_at": ..., "counts": {table: n}, "seen": {replica: stamp}, "sha256": <hex>}\\n
    {"tables": {table: {record id: stored document}}}

The first line is the header; everything after the first newline is the body.
``sha256`` covers both (``checksum``): the SHA-256 of the body bytes' SHA-256 followed
by every other header field (as JSON, keys sorted), so that a changed replica, rep,
``seen`` vector or count is caught like a changed body. Version 1 files, whose
``sha256`` is the body's alone, are still read (``sync.validate.MIGRATIONS``): a
team can upgrade one rep at a time. Documents are exactly as the
store keeps them: fields (falsy defaults left out), ``"_s"`` stamps (``"*"`` plus
per-field overrides) and ``"_del"`` tombstones (see ``store.records``).

``seen`` maps every replica whose writes this export contains to the newest
stamp of that replica in it: what this replica had seen of each teammate when
it exported. Merge uses it to tell concurrent edits from ordinary updates.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from store.hlc import Stamp
from store.records import DELETED, STAMPS

FORMAT = "dealdeck-export"
#: 2: ``sha256`` covers the header too (1: the body only)
VERSION = 2
SUFFIX = ".dealdeck.json"
#: the record tables an export carries, in a fixed order
TABLES = ("leads", "opportunities", "customers", "contacts", "activities", "tasks", "tickets", "surveys",
          "settings")

Doc = dict[str, Any]
#: table -> record id -> stored document
RecordSet = dict[str, dict[str, Doc]]


def checksum(header: Mapping[str, Any], body_sha256: str) -> str:
    """The ``sha256`` of a version-2 header: of the body's SHA-256 (hex) and every header
    field but ``sha256`` itself, as JSON with sorted keys."""
    fields = {key: value for key, value in header.items() if key != "sha256"}
    covered = body_sha256.encode() + b"\n" + orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(covered).hexdigest()


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
