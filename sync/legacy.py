"""The first sync layout, kept while a team upgrades one rep at a time: each replica's
whole state in ``<replica>.dealdeck.json`` (``sync.format``).

A replica on this version merges such files from teammates who have not upgraded (once
per version of each file), and writes its own for as long as one of them is still in the
folder, so that they keep seeing everyone's work. Once every rep has a folder of their
own, it deletes its export file, and the team folder is in the new layout.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import orjson

from store.database import Store
from store.files import write_atomic
from store.tablefile import json_default
from sync.format import FORMAT, TABLES, VERSION, RecordSet, checksum, export_name, seen_vector


def app_version() -> str:
    try:
        return metadata.version("dealdeck")
    except metadata.PackageNotFoundError:
        return "0"


def snapshot(store: Store) -> RecordSet:
    """Every record of every table, tombstones included (shallow copies of the tables;
    a packed table's copy shares its encoded documents)."""
    return {table: store.storage.tables[table].copy() for table in TABLES}


def newest_of(*vectors: dict[str, str]) -> dict[str, str]:
    """Per replica, the newest stamp any of the vectors has seen."""
    seen: dict[str, str] = {}
    for vector in vectors:
        for replica, stamp in vector.items():
            if stamp > seen.get(replica, ""):
                seen[replica] = stamp
    return seen


def export_bytes(store: Store, seen: dict[str, str], records: RecordSet | None = None) -> bytes:
    """This replica's whole state as an export file of the first layout."""
    records = snapshot(store) if records is None else records
    body = orjson.dumps({"tables": records}, default=json_default)
    header = {
        "format": FORMAT, "version": VERSION, "replica": store.replica_id, "rep": store.me,
        "app_version": app_version(), "exported_at": datetime.now(UTC).isoformat(),
        "counts": {table: len(records[table]) for table in TABLES},
        "seen": newest_of(seen_vector(records), seen),
    }
    header["sha256"] = checksum(header, hashlib.sha256(body).hexdigest())
    return orjson.dumps(header) + b"\n" + body


def write_export(store: Store, team: Path, seen: dict[str, str]) -> Path:
    path = team / export_name(store.replica_id)
    with store.storage.locked():
        store.refresh()
        data = export_bytes(store, seen)
    write_atomic(path, data)
    return path
