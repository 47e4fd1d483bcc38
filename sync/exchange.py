"""Sync with the team folder: merge what teammates published into this replica, publish
this replica's own work, undo the last merge.

Everything that decides (merge, validation, what a segment holds, what an undo writes)
is pure and lives in ``sync.merge``, ``sync.checks``, ``sync.segments`` and
``sync.undo``; reading the team folder is ``sync.team``, writing it ``sync.publish``.
This module does the rest of the I/O: files are fully checked before the database is
touched, the merge is applied inside one locked storage transaction, the records it
changed, before and after, are kept for ``undo``, and what was merged is recorded
(``sync.state``) so that the next merge reads only what is new.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from store.database import Store
from store.gc_pause import collector_paused
from store.records import DELETED, Doc, is_live
from sync.checks import Limits
from sync.errors import SyncError
from sync.format import RecordSet, export_name, seen_vector
from sync.kept import confirm_undo, forget_undo, keep_for_undo
from sync.kept import undo_last_merge as undo_last_merge
from sync.legacy import newest_of, snapshot
from sync.merge import Overlay, describe_changes, merge_into, merge_partial_into, observed_max_stamp, overlays
from sync.publish import Published, publish
from sync.report import FileReport, MergeReport, combined, double_follow_ups, records_needing_a_look
from sync.state import SyncState, load_state, save_state
from sync.team import TeamFolder, export_checksum, plan, scan
from sync.undo import merge_changes
from sync.validate import ExportFile, read_exports

__all__ = ["MergeReport", "Published", "export_to", "last_merge", "merge_files", "snapshot", "sync_folder",
           "undo_last_merge"]

#: told each step of a sync, for a status line
Progress = Callable[[str], None]


def refuse_copied_folder(store: Store) -> None:
    """A copied data folder does not sync: with the replica id of the folder it was copied
    from, it would pass for that folder (see ``store.replica``)."""
    refusal = store.replica.sync_refusal(store.folder)
    if refusal:
        raise SyncError(refusal)


def export_to(store: Store, folder: Path) -> Published:
    """Publish this replica's changes since its last segment into the team folder
    (``dealdeck sync export``); see ``sync.publish``."""
    refuse_copied_folder(store)
    _refuse_a_twin(store, folder)
    state = load_state(store.folder)
    published = publish(store, folder, state)
    save_state(store.folder, state, merged=False)
    return published


def sync_folder(store: Store, folder: Path, progress: Progress = lambda step: None,
                ) -> tuple[MergeReport, Published]:
    """A whole sync through a shared folder: merge what is new, then publish (this
    replica's changes go out even when the merge fails), acknowledging what was merged."""
    try:
        report = merge_files(store, [folder], progress=progress)
        join_team_settings(store, report)
    finally:
        progress("publishing")
        published = export_to(store, folder)
    return report, published


def join_team_settings(store: Store, report: MergeReport) -> None:
    """After a whole sync's merge: the first replica in a team folder seeds the team
    settings from its own, a rep the team's reps lack adds themselves. Only with every
    teammate's files read: settings seeded beside a refused file's would win over them."""
    if not (report.refused or report.waiting or report.dry_run):
        store.seed_team_settings()


def _refuse_a_twin(store: Store, folder: Path) -> None:
    """Another data folder publishing with this replica's id (a copy of this one)."""
    team = scan(folder) if folder.is_dir() else None
    own = team.teammates.get(store.replica_id) if team else None
    if own is not None and own.manifest is not None and own.manifest.rep != store.me:
        raise SyncError(f"{own.folder} is published by {own.manifest.rep}, not {store.me}, with this replica's id "
                        f"({store.replica_id}): is a copy of this data folder syncing? run `dealdeck sync "
                        "new-replica` in the copy")


# --- merge --------------------------------------------------------------------------------


@dataclass
class _Source:
    """Records to merge, and whose they are."""

    kind: Literal["export", "snapshot", "segment"]
    path: Path
    replica: str
    rep: str
    records: RecordSet
    #: the newest stamp of each replica its writer had merged
    seen: dict[str, str]

    @functools.cached_property
    def newest(self) -> str:
        """The newest stamp in its records ("" if none): asked three times a merge."""
        return observed_max_stamp(self.records) or ""


@dataclass
class _Gathered:
    sources: list[_Source]
    #: per replica, the newest segment merged once the sources are
    applied: dict[str, int]
    #: export files of the first layout merged: replica -> checksum
    exports: dict[str, str]


def merge_files(store: Store, paths: Sequence[Path], *, dry_run: bool = False, limits: Limits | None = None,
                progress: Progress = lambda step: None, freeze: bool = False) -> MergeReport:
    """Merge what is new in the team folders (or export files) ``paths`` into this
    replica, in one locked transaction; files that are refused are reported, and nothing
    of them is merged. ``progress`` is told each step (a line for a status bar).
    ``freeze``: move what was read out of the cyclic collector's sight (``gc.freeze``),
    for a process that ends after the merge (the command line)."""
    config = store.config.sync
    limits = limits or Limits(max_bytes=config.max_file_mb * 2**20, max_future_skew_ms=config.max_drift_ms)
    refuse_copied_folder(store)
    state = load_state(store.folder)
    report = MergeReport(dry_run=dry_run)
    with collector_paused():  # the merge makes many small acyclic dicts: the collector's passes over them are waste
        gathered = _gather(store, paths, state, limits, report, progress)
        if freeze:
            gc.freeze()
        kept = _merge_gathered(store, gathered, state, report, progress, dry_run=dry_run)
    if dry_run:
        return report
    if kept is not None:
        store.version += 1
        forget_undo(store, confirm_undo(kept), keep_newest=True)
    _record(store, state, gathered, report)
    return report


def _merge_gathered(store: Store, gathered: _Gathered, state: SyncState, report: MergeReport,
                    progress: Progress, *, dry_run: bool) -> Path | None:
    """Merge the checked sources in one transaction; the undo file kept (None: nothing changed,
    or a dry run, which writes nothing)."""
    progress(f"merging {len({s.replica for s in gathered.sources})} teammate(s)")
    kept = None
    with store.storage.transaction() as txn:
        store.catch_up_clock()  # a clock repair in another process may have set it back
        working = overlays(store.storage.tables)
        local_seen = newest_of(state.seen or seen_vector(snapshot(store)), {store.replica_id: store.clock.last})
        for source in gathered.sources:
            _merge_source(working, source, local_seen, report)
        changed = {table: overlay.written() for table, overlay in working.items()}
        before = {table: {key: working[table].before[key] for key in docs} for table, docs in changed.items()}
        report.double_follow_ups = double_follow_ups(_may_double(before, changed),
                                                     {t: _values(working[t]) for t in _DOUBLE_TABLES})
        report.needs_a_look = records_needing_a_look(before, changed)
        if dry_run:
            return None
        if any(changed.values()):
            undo = merge_changes({t: {k: d for k, d in docs.items() if d is not None} for t, docs in before.items()},
                                 changed, {table: list(docs) for table, docs in changed.items() if docs})
            kept = keep_for_undo(store, undo)
            for table, docs in changed.items():
                for doc in docs.values():
                    txn.put(table, doc)
            _observe(store, gathered.sources)
    return kept


#: the tables a double follow-up is looked for in, and the fields it depends on
#: (``store.leads.match_keys``, ``customer_match_keys``, the owner, a lead's status)
_DOUBLE_TABLES = ("leads", "customers")
_DOUBLE_FIELDS = ("email", "phone", "company", "name", "owner", "status")


def _fields(doc: Doc) -> tuple[object, ...]:
    return tuple(map(doc.get, _DOUBLE_FIELDS))


def _may_double(before: RecordSet, changed: RecordSet) -> RecordSet:
    """The merged leads and customers that may be new double follow-ups: new here, or with a
    field a match depends on changed, or live again. An edit of the notes of a lead already
    followed up twice is not reported again at every merge (and 200 reps' edits are not
    all matched against every lead)."""
    out: RecordSet = {}
    for table in _DOUBLE_TABLES:
        olds = before.get(table, {})
        out[table] = {key: doc for key, doc in changed.get(table, {}).items()
                      if (old := olds.get(key)) is None or _fields(old) != _fields(doc)
                      or ((DELETED in old or DELETED in doc) and is_live(old) != is_live(doc))}
    return out


def _values(overlay: Overlay) -> Iterator[dict[str, object]]:
    return (overlay[key] for key in overlay)


def _observe(store: Store, sources: list[_Source]) -> None:
    """Move the clock past what came in (checked against the drift); our own records may
    hold older stamps beyond it, which ``dealdeck check`` reports and the clock must not move to."""
    newest = max((source.newest for source in sources), default="")
    if newest:
        store.clock.observe(newest)
        store.storage.note_clock(store.clock.last)


def _record(store: Store, state: SyncState, gathered: _Gathered, report: MergeReport) -> None:
    for replica, seq in gathered.applied.items():
        state.applied[replica] = max(seq, state.applied.get(replica, 0))
    state.seen = newest_of(state.seen, *(source.seen for source in gathered.sources),
                           *({s.replica: max(s.newest, s.seen.get(s.replica, ""))}
                             for s in gathered.sources if s.kind == "segment"))
    state.legacy.update(gathered.exports)
    state.merged_from = sorted({f.rep for f in report.files})
    save_state(store.folder, state, merged=True)


def _merge_source(working: dict[str, Overlay], source: _Source, local_seen: dict[str, str],
                  report: MergeReport) -> None:
    if source.kind == "segment":
        replaced, orphans = merge_partial_into(working, source.records)
        report.orphans += orphans
    else:
        replaced = merge_into(working, source.records)  # type: ignore[arg-type]
    remote_seen = newest_of(source.seen, {source.replica: max(source.seen.get(source.replica, ""), source.newest)})
    changes = describe_changes(replaced, working, local_seen=local_seen, remote=source.records,  # type: ignore[arg-type]
                               remote_seen=remote_seen)
    if source.kind == "segment":
        for file in report.files:
            if file.replica == source.replica and file.what.endswith("segment(s)"):
                file.changes = combined(file.changes, changes)
                file.what = f"{int(file.what.split()[0]) + 1} segment(s)"
                return
        report.files.append(FileReport(source.path.parent, source.replica, source.rep, changes, "1 segment(s)"))
        return
    what = "snapshot " + source.path.name if source.kind == "snapshot" else source.path.name
    report.files.append(FileReport(source.path, source.replica, source.rep, changes, what))


def _gather(store: Store, paths: Sequence[Path], state: SyncState, limits: Limits, report: MergeReport,
            progress: Progress) -> _Gathered:
    """Every file to merge, checked, in the order to merge them: export files of the first
    layout, then per team folder a snapshot (a replica that joins) and the new segments."""
    gathered = _Gathered([], dict(state.applied), {})
    now_ms = store.clock.wall_ms()
    files: list[Path] = []
    teams: list[TeamFolder] = []
    for path in paths:
        if path.is_dir():
            team = scan(path)
            report.notes.extend(team.notes)
            _pass_over_a_twin(store, team, report)
            teams.append(team)
            files.extend(p for p in team.exports if _new_export(store, p, state, team))
        elif path.exists():
            files.append(path)
        else:
            raise SyncError(f"no such file or folder: {path}")
    _gather_exports(store, files, limits, now_ms, gathered, report, progress)
    for team in teams:
        found = plan(team, gathered.applied, limits, now_ms, progress)
        report.refused.extend(found.refused)
        report.waiting.extend(found.waiting)
        gathered.applied = found.applied
        if found.snapshot is not None:
            snap = found.snapshot
            gathered.sources.append(_Source("snapshot", snap.path, snap.replica, snap.rep, snap.records, snap.seen))
        for segment in found.segments:
            seen = newest_of(segment.seen, {segment.replica: segment.last})
            gathered.sources.append(_Source("segment", segment.path, segment.replica, segment.rep, segment.records,
                                            seen))
    return gathered


def _pass_over_a_twin(store: Store, team: TeamFolder, report: MergeReport) -> None:
    """A folder with this replica's id published by another rep: another data folder syncs
    with this id (a copy of this one). Named, never merged."""
    own = team.teammates.get(store.replica_id)
    if own is not None and own.manifest is not None and own.manifest.rep != store.me:
        del team.teammates[store.replica_id]
        report.not_ours.append((own.folder, f"it has this replica's id ({store.replica_id}) but is published by "
                                             f"{own.manifest.rep}, not {store.me}: is a copy of this data folder "
                                             "syncing? run `dealdeck sync new-replica` in the copy"))


def _new_export(store: Store, path: Path, state: SyncState, team: TeamFolder) -> bool:
    """An export file of the first layout to merge: a teammate's who has not upgraded, changed
    since it was last merged. This replica's own is passed over as before."""
    found = export_checksum(path)
    if found is None:
        return True  # its check says what is wrong
    replica, checksum = found
    if replica in team.manifests() and replica != store.replica_id:
        return False  # upgraded: what it holds is in its segments
    return replica == store.replica_id or state.legacy.get(replica) != checksum


def _gather_exports(store: Store, files: list[Path], limits: Limits, now_ms: int, gathered: _Gathered,
                    report: MergeReport, progress: Progress) -> None:
    checked = read_exports(files, limits=limits, now_ms=now_ms)
    for number, path in enumerate(files, 1):
        progress(f"checking {path.name} ({number} of {len(files)})")
        try:
            export = next(checked)
        except SyncError as refused:
            report.refused.append((path, str(refused).removeprefix(f"{path.name}: ")))
            checked = read_exports(files[number:], limits=limits, now_ms=now_ms)
            continue
        if export.header.replica != store.replica_id:
            gathered.sources.append(_Source("export", path, export.header.replica, export.header.rep,
                                            export.records, dict(export.header.seen)))
            gathered.exports[export.header.replica] = export.header.sha256
        elif why := _not_ours(store, export):
            report.not_ours.append((path, why))
        else:
            report.skipped.append(path)


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


def last_merge(store: Store) -> tuple[str, list[str]] | None:
    state = load_state(store.folder)
    if state.last_merge_at is None:
        return None
    return state.last_merge_at, state.merged_from
