"""Export this replica, merge teammates' exports into it, and undo the last merge.

Everything that decides (merge, validation, what an undo writes) is pure and lives
in ``sync.merge``, ``sync.validate`` and ``sync.undo``; this module does the I/O
around them: files are fully validated before the database is touched, the merge is
applied inside one locked storage transaction, and the records it changed, before
and after, are kept for ``undo``.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson

from store.database import Store
from store.files import fsync_folder, private_folder, write_atomic
from store.hlc import is_stamp
from store.leads import customer_match_keys, match_keys
from store.models import BY_TABLE
from store.records import is_live
from store.tablefile import json_default
from sync.errors import SyncError
from sync.format import FORMAT, SUFFIX, TABLES, VERSION, RecordSet, checksum, export_name, seen_vector
from sync.merge import Conflict, MergeChanges, describe_changes, merge_into, observed_max_stamp
from sync.undo import (
    Current,
    MergeUndo,
    in_use,
    merge_applied,
    merge_changes,
    merge_time,
    plan_undo,
    undo_from_json,
    undo_lines,
    undo_to_json,
    written_with,
)
from sync.validate import ExportFile, Limits, read_exports

#: told each step of a sync, for a status line
Progress = Callable[[str], None]
UNDO_PREFIX = "undo-"
#: the suffix of an undo file whose merge has not been seen to commit
PENDING = ".pending"
UNDO_NAME = re.compile(r"undo-([0-9]{8})\.json(?:\.pending)?")
UNDO_FORMAT = "dealdeck-undo-1"
#: what Dealdeck kept for undo before: every table as it was before the last merge
LEGACY_UNDO_FILE = "before-last-merge.json"
STATE_FILE = "sync-state.json"
ACTIVE_LEAD = frozenset({"new", "contacted", "qualified"})


def app_version() -> str:
    try:
        return metadata.version("dealdeck")
    except metadata.PackageNotFoundError:
        return "0"


# --- export ----------------------------------------------------------------------------


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


def local_seen(store: Store, records: RecordSet) -> dict[str, str]:
    """What this replica has seen of each teammate: the stamps in its records, and
    everything it merged before (a teammate's write that was later overwritten
    no longer shows in the records, yet it was seen)."""
    return newest_of(seen_vector(records), load_state(store).get("seen", {}))


def export_bytes(store: Store, records: RecordSet | None = None) -> bytes:
    records = snapshot(store) if records is None else records
    body = orjson.dumps({"tables": records}, default=json_default)
    header = {
        "format": FORMAT, "version": VERSION, "replica": store.replica_id, "rep": store.me,
        "app_version": app_version(), "exported_at": datetime.now(UTC).isoformat(),
        "counts": {table: len(records[table]) for table in TABLES},
        "seen": local_seen(store, records),
    }
    header["sha256"] = checksum(header, hashlib.sha256(body).hexdigest())
    return orjson.dumps(header) + b"\n" + body


def refuse_copied_folder(store: Store) -> None:
    """A copied data folder does not sync: with the replica id of the folder it was copied
    from, it would pass for that folder (see ``store.replica``)."""
    refusal = store.replica.sync_refusal(store.folder)
    if refusal:
        raise SyncError(refusal)


def export_to(store: Store, folder: Path) -> Path:
    """Write ``<folder>/<replica>.dealdeck.json`` atomically; what this replica merged
    from others is included, so changes travel even between reps who never share a folder."""
    refuse_copied_folder(store)
    if not folder.is_dir():
        raise SyncError(f"no sync folder at {folder}: create it, or set sync.folder in config.yaml")
    path = folder / export_name(store.replica_id)
    with store.storage.locked():
        store.refresh()
        data = export_bytes(store)
    write_atomic(path, data)
    return path


# --- the merge report ---------------------------------------------------------------------


@dataclass
class FileReport:
    path: Path
    replica: str
    rep: str
    changes: MergeChanges


@dataclass
class DoubleFollowUp:
    """Two reps working the same person or company at once."""

    key: str
    records: list[tuple[str, str, str, str]]  # (table, id, name, owner)


@dataclass
class MergeReport:
    files: list[FileReport] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    #: files with this replica's id that are not its export: (file, why), not merged
    not_ours: list[tuple[Path, str]] = field(default_factory=list)
    #: entries of a team folder named like an export that are no file: skipped, one line each
    notes: list[str] = field(default_factory=list)
    double_follow_ups: list[DoubleFollowUp] = field(default_factory=list)
    needs_a_look: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return any(_counts(f.changes) != (0, 0, 0, 0) for f in self.files)

    def lines(self) -> list[str]:
        """The report as plain lines (the CLI prints them; the app shows them)."""
        verb = "would merge" if self.dry_run else "merged"
        out = [f"{verb} {len(self.files)} teammate file(s)" + (" (dry run: nothing written)" if self.dry_run else "")]
        for report in self.files:
            added, updated, deleted, resurrected = _counts(report.changes)
            conflicts = len(report.changes.conflicts)
            out.append(f"{report.rep} ({report.replica}, {report.path.name}): {added} added, {updated} updated, "
                       f"{deleted} deleted, {resurrected} resurrected, {conflicts} concurrent edits")
            out.extend(f"  {describe_conflict(c)}" for c in report.changes.conflicts)
        for path in self.skipped:
            out.append(f"skipped {path.name}: this replica's own export")
        for path, why in self.not_ours:
            out.append(f"not merged {path.name}: {why}")
        out.extend(self.notes)
        if self.needs_a_look:
            out.append(f"{len(self.needs_a_look)} merged records break a rule and need a look (edit them):")
            out.extend(f"  {problem}" for problem in self.needs_a_look)
        if self.double_follow_ups:
            out.append(f"double follow-up: {len(self.double_follow_ups)} people or companies worked by two reps")
            for double in self.double_follow_ups:
                who = "; ".join(f"{table[:-1]} {name} ({owner})" for table, _, name, owner in double.records)
                out.append(f"  {double.key}: {who}")
        return out


def _counts(changes: MergeChanges) -> tuple[int, int, int, int]:
    return (len(changes.added), len(changes.updated), len(changes.deleted), len(changes.resurrected))


def describe_conflict(conflict: Conflict) -> str:
    return (f"{conflict.table} {conflict.record_id} {conflict.field}: "
            f"local {_short(conflict.local_value)} vs {_short(conflict.remote_value)}; "
            f"kept {conflict.winner} ({conflict.reason})")


def _short(value: Any) -> str:
    text = orjson.dumps(value, default=json_default).decode() if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def records_needing_a_look(before: RecordSet, after: RecordSet, limit: int = 100) -> list[str]:
    """Merged records that break a rule of their model as a whole (each side's fields
    were valid, but e.g. one rep disqualified a lead while another cleared the reason).
    Every field of a merged record comes from a version that passed its checks, so only
    the whole-record rules (``Record.rules``, plain functions over a stored document)
    can fail: they are run on the document, not a model built for each record (a 20 x 5k
    merge into an empty replica built 519k models here, a quarter of its time)."""
    problems = []
    for table in TABLES:
        rules = BY_TABLE[table].rules
        if not rules:
            continue
        for record_id, doc in after[table].items():
            if before[table].get(record_id) is doc or not is_live(doc):
                continue
            for rule in rules:
                problem = rule(doc)
                if problem:
                    problems.append(f"{table} record {record_id}: {problem}")
                    if len(problems) >= limit:
                        return problems
                    break
    return problems


def double_follow_ups(records: RecordSet, limit: int = 200) -> list[DoubleFollowUp]:
    """Leads and customers that match (email, phone, company + name) under different owners."""
    groups: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)
    for table, keys_of in (("leads", match_keys), ("customers", customer_match_keys)):
        for doc in records.get(table, {}).values():
            if not is_live(doc) or (table == "leads" and doc.get("status", "new") not in ACTIVE_LEAD):
                continue
            entry = (table, doc["id"], str(doc.get("name", "")), str(doc.get("owner", "")))
            for key in keys_of(doc):
                groups[key].append(entry)
    found = []
    for key, entries in sorted(groups.items()):
        unique = list(dict.fromkeys(entries))
        if len({owner for *_, owner in unique}) > 1:
            found.append(DoubleFollowUp(key, unique))
    return _one_per_group(found)[:limit]


def _one_per_group(found: list[DoubleFollowUp]) -> list[DoubleFollowUp]:
    """The same pair matched by email and by phone is reported once."""
    seen: set[frozenset[str]] = set()
    kept = []
    for double in found:
        ids = frozenset(record_id for _, record_id, _, _ in double.records)
        if ids not in seen:
            seen.add(ids)
            kept.append(double)
    return kept


# --- merge --------------------------------------------------------------------------------


def export_paths(paths: Iterable[Path], notes: list[str] | None = None) -> list[Path]:
    """The export files named directly or found in the folders named. In a folder, an
    entry named like an export that is no regular file (a folder ``x.dealdeck.json/``, a
    link, a pipe) is skipped with a line in ``notes``: it must not block the team's merge.
    One named directly is read, and refused if it is no export file."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            for entry in sorted(path.glob(f"*{SUFFIX}")):
                kind = _not_a_file(entry)
                if kind is None:
                    found.append(entry)
                elif notes is not None:
                    notes.append(f"skipped {_shown_name(entry.name)}: {kind}, not an export file")
        elif path.exists():
            found.append(path)
        else:
            raise SyncError(f"no such file or folder: {path}")
    return list(dict.fromkeys(found))


def _not_a_file(path: Path) -> str | None:
    """None for a regular file (not a link), else what it is."""
    try:
        mode = path.lstat().st_mode
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    return "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file"


def _shown_name(name: str) -> str:
    return name if name.isprintable() else repr(name)


def read_all(store: Store, paths: Sequence[Path], limits: Limits, progress: Progress = lambda step: None, *,
             freeze: bool = False, notes: list[str] | None = None,
             ) -> tuple[list[ExportFile], list[Path], list[tuple[Path, str]]]:
    """Validate every file before anything is merged: one bad file refuses them all.
    Returns the teammates' exports, this replica's own export, and the files that carry
    this replica's id but are not its export, with why (merged by no one: see ``_not_ours``).
    ``freeze``: see ``sync.validate.read_exports`` (for the command line only)."""
    exports, skipped, not_ours = [], [], []
    files = export_paths(paths, notes)  # ``notes``: entries of a folder skipped, see there
    with closing(read_exports(files, limits=limits, now_ms=store.clock.wall_ms(), freeze=freeze)) as checked:
        for number, path in enumerate(files, 1):
            progress(f"checking {path.name} ({number} of {len(files)})")
            export = next(checked)
            if export.header.replica != store.replica_id:
                exports.append(export)
            elif why := _not_ours(store, export):
                not_ours.append((path, why))
            else:
                skipped.append(path)
    return exports, skipped, not_ours


def _not_ours(store: Store, export: ExportFile) -> str:
    """Why a file with this replica's id is not this replica's export ("" when it is):
    another rep's, or under another name (a copy of this data folder exporting?)."""
    if export.header.rep != store.me:
        why = f"exported by {export.header.rep}, not {store.me}"
    elif export.path.name != export_name(store.replica_id):
        why = f"this replica's export is {export_name(store.replica_id)}"
    else:
        return ""
    return (f"it has this replica's id ({store.replica_id}) but {why}: is a copy of this data folder "
            "syncing? run `dealdeck sync new-replica` in the copy")


def merge_files(store: Store, paths: Sequence[Path], *, dry_run: bool = False, limits: Limits | None = None,
                progress: Progress = lambda step: None, freeze: bool = False) -> MergeReport:
    """Validate every file, then merge them all in one locked transaction.

    ``progress`` is told each step (a line for a status bar)."""
    config = store.config.sync
    limits = limits or Limits(max_bytes=config.max_file_mb * 2**20, max_future_skew_ms=config.max_drift_ms)
    refuse_copied_folder(store)
    notes: list[str] = []
    exports, skipped, not_ours = read_all(store, paths, limits, progress, freeze=freeze, notes=notes)
    report = MergeReport(skipped=skipped, not_ours=not_ours, notes=notes, dry_run=dry_run)
    progress(f"merging {len(exports)} teammate file(s)")
    with store.storage.transaction() as txn:
        store.catch_up_clock()  # a clock repair in another process may have set it back
        local = snapshot(store)
        current = {table: dict(docs) for table, docs in local.items()}
        seen = local_seen(store, local)
        touched: dict[str, dict[str, None]] = {}
        for export in exports:
            replaced = merge_into(current, export.records)
            for table, ids in replaced.items():
                touched.setdefault(table, {}).update(dict.fromkeys(ids))
            changes = describe_changes(replaced, current, local_seen=seen, remote=export.records,
                                       remote_seen=dict(export.header.seen))
            report.files.append(FileReport(export.path, export.header.replica, export.header.rep, changes))
        report.double_follow_ups = double_follow_ups(current)
        report.needs_a_look = records_needing_a_look(local, current)
        seen = newest_of(seen, *(dict(e.header.seen) for e in exports), *(seen_vector(e.records) for e in exports))
        if dry_run:
            return report
        if current == local:
            save_state(store, [f.rep for f in report.files], seen)
            return report
        kept = keep_for_undo(store, merge_changes(local, current, touched))
        for table in TABLES:
            for record_id, doc in current[table].items():
                if local[table].get(record_id) != doc:
                    txn.put(table, doc)
        # What came in (checked against the drift); our own records may hold older stamps
        # beyond it, which ``dealdeck check`` reports and the clock must not move to.
        newest = max((observed_max_stamp(e.records) or "" for e in exports), default="")
        if newest:
            store.clock.observe(newest)
            store.storage.note_clock(store.clock.last)
    store.version += 1
    forget_undo(store, confirm_undo(kept), keep_newest=True)
    save_state(store, [f.rep for f in report.files], seen)
    return report


# --- undo and state -------------------------------------------------------------------------


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
    with store.writing() as w:
        kept, current = last_kept_merge(store, forget=True)
        plan = plan_undo(kept.undo, current, w.stamp, in_use(kept.undo, store.storage.tables))
        if plan.puts:  # marked first, so that a second undo can tell whether this one committed
            _write_kept(replace(kept, undone_by=w.stamp))
        for table, doc in plan.puts:
            w.txn.put(table, doc)
    forget_undo(store, kept.path, keep_newest=False)
    return undo_lines(plan, kept.merged_at)


def save_state(store: Store, reps: list[str], seen: dict[str, str]) -> None:
    state = {"last_merge_at": datetime.now(UTC).isoformat(), "from": sorted(set(reps)), "seen": seen}
    write_atomic(store.folder / STATE_FILE, orjson.dumps(state))


def load_state(store: Store) -> dict[str, Any]:
    """The sync state file; a missing or damaged one reads as empty (it only ever holds
    what the next merge or export can rebuild from the records)."""
    try:
        state = orjson.loads((store.folder / STATE_FILE).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    if not isinstance(state, dict):
        return {}
    seen = state.get("seen")
    state["seen"] = {k: v for k, v in seen.items() if is_stamp(v)} if isinstance(seen, dict) else {}
    return state


def last_merge(store: Store) -> tuple[str, list[str]] | None:
    state = load_state(store)
    when, reps = state.get("last_merge_at"), state.get("from")
    if not isinstance(when, str) or not isinstance(reps, list):
        return None
    return when, [str(r) for r in reps]
