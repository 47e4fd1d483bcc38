"""Merges kept for ``dealdeck sync undo``: what each merge changed, before and after,
and the records it added (``backups/undo-<number>.json``), and the undo itself, one new
change that syncs like any edit (``sync.undo`` decides what it writes)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import orjson

from store.database import Store
from store.files import fsync_folder, private_folder, write_atomic
from store.hlc import is_stamp
from store.tablefile import json_default
from sync.errors import SyncError
from sync.undo import (
    Current,
    MergeUndo,
    in_use,
    merge_applied,
    merge_time,
    plan_undo,
    undo_from_json,
    undo_lines,
    undo_to_json,
    written_with,
)

UNDO_PREFIX = "undo-"
#: the suffix of an undo file whose merge has not been seen to commit
PENDING = ".pending"
UNDO_NAME = re.compile(r"undo-([0-9]{8})\.json(?:\.pending)?")
UNDO_FORMAT = "dealdeck-undo-1"
#: what Dealdeck kept for undo before: every table as it was before the last merge
LEGACY_UNDO_FILE = "before-last-merge.json"


@dataclass
class KeptMerge:
    """A merge kept for undo: ``backups/undo-<number>.json``, numbered in merge order."""

    path: Path
    merged_at: str
    undo: MergeUndo
    #: the stamp of an undo of this merge that may have committed
    undone_by: str | None = None


def keep_for_undo(store: Store, undo: MergeUndo) -> Path:
    """Write what undoing the merge needs (the records it changes, before and after; those
    it adds, their stamps), under the merge's lock before it commits, as a pending file
    that ``confirm_undo`` names for good once the merge has committed. A merge killed
    before that leaves a pending file: ``undo_last_merge`` drops it when its changes are
    not in the database, and takes the one before, which stays until a newer merge is
    confirmed."""
    folder = private_folder(store.folder / "backups")
    number = max((_undo_number(path) for path in undo_paths(store)), default=0) + 1
    kept = KeptMerge(folder / f"{UNDO_PREFIX}{number:08d}.json{PENDING}", datetime.now(UTC).isoformat(), undo)
    _write_kept(kept)
    return kept.path


def confirm_undo(pending: Path) -> Path:
    """After the merge's commit: its undo file is no longer pending."""
    final = pending.with_name(pending.name.removesuffix(PENDING))
    os.replace(pending, final)
    fsync_folder(final.parent)
    return final


def _undo_number(path: Path) -> int:
    found = UNDO_NAME.fullmatch(path.name)
    return int(found.group(1)) if found else 0


def _write_kept(kept: KeptMerge) -> None:
    data = {"format": UNDO_FORMAT, "merged_at": kept.merged_at, "undone_by": kept.undone_by,
            **undo_to_json(kept.undo)}
    write_atomic(kept.path, orjson.dumps(data, default=json_default))


def undo_paths(store: Store) -> list[Path]:
    """The kept merges, pending ones included, newest first."""
    found = (path for path in (store.folder / "backups").glob(f"{UNDO_PREFIX}*") if UNDO_NAME.fullmatch(path.name))
    return sorted(found, key=_undo_number, reverse=True)


def forget_undo(store: Store, newest: Path, *, keep_newest: bool) -> None:
    """Drop the kept merges older than ``newest`` (and ``newest`` unless kept), and the
    whole-table copy that Dealdeck kept for undo before."""
    for path in undo_paths(store):
        if _undo_number(path) < _undo_number(newest) or (path == newest and not keep_newest):
            path.unlink(missing_ok=True)
    (store.folder / "backups" / LEGACY_UNDO_FILE).unlink(missing_ok=True)


def read_kept(path: Path) -> KeptMerge:
    try:
        data = orjson.loads(path.read_bytes())
        if data.get("format") != UNDO_FORMAT:
            raise ValueError("not an undo file")
        undone_by = data.get("undone_by")
        return KeptMerge(path, str(data["merged_at"]), undo_from_json(data),
                         undone_by if is_stamp(undone_by) else None)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise SyncError(f"{path} is damaged; the merge cannot be undone from it") from None


def last_kept_merge(store: Store, *, forget: bool) -> tuple[KeptMerge, Current]:
    """The newest kept merge that is in the database, and its records as they are now.
    Merges that never committed are passed over (and their files dropped: ``forget``)."""
    for path in undo_paths(store):
        kept = read_kept(path)
        current = {(table, record_id): store.storage.tables[table].get(record_id)
                   for table, record_id in kept.undo.records()}
        if not merge_applied(kept.undo, current):
            if forget:
                path.unlink(missing_ok=True)
            continue
        if path.name.endswith(PENDING) and not kept.undo.added:
            # Interrupted between its commit and its confirmation, or never committed and
            # every field it would have changed was changed since: nothing tells which.
            raise SyncError(f"the merge of {merge_time(kept.merged_at)} was interrupted, and whether it went "
                            f"in cannot be told (every change it made was changed since); nothing was undone: "
                            f"delete {path} to undo the merge before it")
        if kept.undone_by is not None and written_with(kept.undone_by, current.values()):
            if forget:
                forget_undo(store, path, keep_newest=False)
            raise SyncError(f"the merge of {merge_time(kept.merged_at)} is already undone")
        return kept, current
    raise SyncError("there is no merge to undo")


def undo_last_merge(store: Store, *, dry_run: bool = False) -> list[str]:
    """Undo what the last merge changed and nothing has changed since, as one new
    change stamped now (see ``sync.undo``); returns the lines that say what it did.
    ``dry_run``: the lines of what it would do, changing nothing."""
    if dry_run:
        with store.storage.locked():
            store.refresh()
            kept, current = last_kept_merge(store, forget=False)
            plan = plan_undo(kept.undo, current, store.clock.now(), in_use(kept.undo, store.storage.tables))
            return undo_lines(plan, kept.merged_at, dry_run=True)
    with store.writing(rules=False) as w:
        kept, current = last_kept_merge(store, forget=True)
        plan = plan_undo(kept.undo, current, w.stamp, in_use(kept.undo, store.storage.tables))
        if plan.puts:  # marked first, so that a second undo can tell whether this one committed
            _write_kept(replace(kept, undone_by=w.stamp))
        for table, doc in plan.puts:
            w.txn.put(table, doc)
    forget_undo(store, kept.path, keep_newest=False)
    return undo_lines(plan, kept.merged_at)
