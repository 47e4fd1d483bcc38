"""Publish this replica's work to the team folder, as the only writer of its own folder:

- a **segment** of what it changed since its last one (``sync.segments``), then its
  **manifest**, rewritten atomically: the segment is complete on disk before any
  manifest names it;
- what it has merged of each teammate (``applied``, ``seen``), which tells them when a
  segment of theirs is safe to fold away;
- now and then a **snapshot** of its merged state, for reps who join later and for
  folding: one when segments it could fold are in no snapshot yet, or when the folder
  holds ``sync.snapshot_after_segments`` segments newer than the newest snapshot. A
  snapshot is a copy of the whole team state, and git keeps every one for good, so it is
  written only once the segments it would replace weigh as much as it does (see
  ``_snapshot_due``);
- **folding**: its segments that every active teammate has merged, older than
  ``sync.fold_after_days`` and held by a snapshot, are deleted (retired reps, listed in
  ``sync.retired``, hold nothing back); its older snapshots once a newer one holds more;
- **withdrawing** segments whose stamps ran ahead of the clock (the clock was set back and
  the replica repaired): readers pass over them, and what they held goes out again;
- while teammates are still on the first layout, its export file for them (``sync.legacy``).
"""

from __future__ import annotations

import contextlib
import hashlib
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from store.config import Sync as SyncConfig
from store.database import Store
from store.files import private_folder, write_atomic
from store.hlc import REPAIR_COMMAND, Stamp, describe_ahead
from store.records import DELETED, is_live
from store.tablefile import json_default
from sync.checks import Refused
from sync.errors import SyncError
from sync.format import SUFFIX, TABLES, RecordSet, export_name
from sync.legacy import app_version, newest_of, snapshot, write_export
from sync.segments import own_changes, stamp_range
from sync.state import SyncState
from sync.team import TeamFolder, export_checksum, scan
from sync.team_files import (
    LAYOUT_VERSION,
    MANIFEST,
    MANIFEST_FORMAT,
    SEGMENT_NAME,
    Manifest,
    SegmentRef,
    SnapshotRef,
    encode,
    manifest_bytes,
    read_file,
    read_manifest,
    segment_name,
    snapshot_name,
)
from sync.undo import counted

DAY_MS = 86_400_000
#: no second snapshot while one this fresh is in the folder (two reps syncing at once)
SNAPSHOT_QUIET_MS = 3_600_000
#: segments since the newest snapshot that call for a new one even while they weigh less
#: than it, in units of ``sync.snapshot_after_segments`` (a joiner reads every file)
SNAPSHOT_COUNT_CEILING = 10


@dataclass
class Published:
    """What one publish wrote."""

    segment: Path | None = None
    records: int = 0
    snapshot: Path | None = None
    folded: list[int] = field(default_factory=list)
    withdrawn: list[int] = field(default_factory=list)
    #: this replica's export file, for teammates still on the first layout
    export: Path | None = None
    manifest_changed: bool = False
    #: files the new manifest no longer names: deleted once it is written
    unlisted: list[Path] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"published {counted(self.records, 'changed record', 'changed records')} to the team folder"
               if self.segment else "nothing new to publish"]
        if self.withdrawn:
            out.append(f"withdrew {'segment' if len(self.withdrawn) == 1 else 'segments'} "
                       f"{', '.join(map(str, self.withdrawn))}: their stamps ran ahead of "
                       "the clock; what they held goes out again")
        if self.snapshot:
            out.append(f"wrote a snapshot for reps who join later ({self.snapshot.name})")
        if self.folded:
            out.append(f"folded away {counted(len(self.folded), 'segment', 'segments')} every teammate has merged")
        if self.export:
            out.append(f"wrote {self.export.name} for teammates still on the first sync layout")
        return out


def publish(store: Store, team_path: Path, state: SyncState) -> Published:
    """Publish into ``team_path``; ``state`` (this replica's sync state) gets the new segment."""
    if not team_path.is_dir():
        raise SyncError(f"no sync folder at {team_path}: create it, or set sync.folder in config.yaml")
    replica, now_ms = store.replica_id, store.clock.wall_ms()
    own = private_folder(team_path / replica)
    result = Published()
    with store.storage.locked():
        store.refresh()
        manifest = _own_manifest(own, store)
        before = manifest
        manifest = _withdraw(own, manifest, now_ms, store.clock.max_drift_ms, result)
        # Only the tables that can hold a change of ours newer than the last one published:
        # a sync after a few edits reads those, not the whole team's data.
        changed = store.storage.tables_changed_since(manifest.last_stamp)
        records = own_changes({name: store.storage.tables[name] for name in changed}, replica, manifest.last_stamp)
        if any(records.values()):
            manifest = _write_segment(own, store, manifest, state, records, now_ms, result)
        team = scan(team_path)
        manifest = manifest.model_copy(update={"applied": {**state.applied, replica: manifest.last_seq},
                                               "seen": newest_of(state.seen, {replica: store.clock.last})})
        manifest = _keep_snapshots(own, store, team, manifest, state, now_ms, result)
        manifest = _fold(own, store, team, manifest, now_ms, result)
        if manifest != before:
            write_atomic(own / MANIFEST, manifest_bytes(manifest))
            result.manifest_changed = True
        for path in result.unlisted:  # after the manifest: it never names a file that is gone
            path.unlink(missing_ok=True)
        state.applied[replica] = manifest.last_seq
        result.export = _first_layout_export(store, team, state)
    return result


# --- the manifest ---------------------------------------------------------------------------------


def _own_manifest(own: Path, store: Store) -> Manifest:
    """This replica's manifest; rebuilt from its files when it is missing or unreadable (a
    teammate's tool deleted it, say), so that numbering goes on and nothing is sent twice."""
    path = own / MANIFEST
    with contextlib.suppress(Refused):
        if path.exists():
            manifest = read_manifest(path, store.replica_id)
            if manifest.rep == store.me:
                return manifest
    return _rebuilt(own, store)


def _rebuilt(own: Path, store: Store) -> Manifest:
    segments: list[SegmentRef] = []
    for entry in sorted(own.iterdir()):
        found = SEGMENT_NAME.match(entry.name)
        header = _header_of(entry) if found else None
        if header is None or not isinstance(header.get("seq"), int):
            continue
        data = entry.read_bytes()
        segments.append(SegmentRef(seq=header["seq"], file=entry.name, first=header["first"], last=header["last"],
                                   sha256=_sha256(data), bytes=len(data), records=sum(header["counts"].values())))
    segments = _contiguous(segments)
    folded = segments[0].seq - 1 if segments else 0
    return Manifest(format=MANIFEST_FORMAT, version=LAYOUT_VERSION, replica=store.replica_id, rep=store.me,
                    app_version=app_version(), segments=segments, folded=folded)


def _contiguous(segments: list[SegmentRef]) -> list[SegmentRef]:
    """The newest run of numbers without a gap (older ones may have been folded)."""
    segments.sort(key=lambda ref: ref.seq)
    run: list[SegmentRef] = []
    for ref in segments:
        run = [*run, ref] if run and ref.seq == run[-1].seq + 1 else [ref]
    return run


def _header_of(path: Path) -> dict[str, object] | None:
    try:
        text = zlib.decompressobj(wbits=31).decompress(read_file(path, max_bytes=1 << 30), 1 << 20)
        header = orjson.loads(text.split(b"\n", 1)[0])
    except (Refused, zlib.error, orjson.JSONDecodeError):
        return None
    return header if isinstance(header, dict) else None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- segments -------------------------------------------------------------------------------------


def _withdraw(own: Path, manifest: Manifest, now_ms: int, drift_ms: int, result: Published) -> Manifest:
    """Segments whose stamps are beyond the clock (it was set back, and the replica repaired):
    withdrawn, so that the stamps repaired since are published after the last good one."""
    horizon = f"{now_ms + drift_ms:016d}"
    ahead = [ref for ref in manifest.segments if ref.last[:16] > horizon]
    if not ahead:
        return manifest
    result.unlisted += [own / ref.file for ref in ahead]
    result.withdrawn = [ref.seq for ref in ahead]
    return manifest.model_copy(update={"segments": [r for r in manifest.segments if r not in ahead],
                                       "withdrawn": sorted({*manifest.withdrawn, *result.withdrawn})})


def _write_segment(own: Path, store: Store, manifest: Manifest, state: SyncState, records: RecordSet,
                   now_ms: int, result: Published) -> Manifest:
    first, last = stamp_range(records) or ("", "")
    ahead = Stamp.parse(last).wall_ms - now_ms
    if ahead > store.clock.max_drift_ms:
        raise SyncError(f"this replica's changes are stamped {describe_ahead(ahead)} ahead of this computer's "
                        f"clock, so they are not sent (teammates would refuse them): if the clock is right now, "
                        f"run `{REPAIR_COMMAND}`")
    seq = manifest.last_seq + 1
    header = {"format": "dealdeck-segment", "version": LAYOUT_VERSION, "replica": store.replica_id,
              "rep": store.me, "app_version": app_version(), "seq": seq, "first": first, "last": last,
              "deps": {r: n for r, n in state.applied.items() if r != store.replica_id}, "seen": dict(state.seen)}
    data, _ = encode(header, records, default=json_default)
    path = own / segment_name(seq, first, last)
    write_atomic(path, data)
    ref = SegmentRef(seq=seq, file=path.name, first=first, last=last, sha256=_sha256(data), bytes=len(data),
                     records=sum(len(docs) for docs in records.values()))
    result.segment, result.records = path, ref.records
    return manifest.model_copy(update={"segments": [*manifest.segments, ref], "rep": store.me,
                                       "app_version": app_version()})


# --- snapshots and folding ------------------------------------------------------------------------


def _active(team: TeamFolder, store: Store) -> dict[str, Manifest]:
    """Teammates' manifests, but for retired reps' (``sync.retired``: rep or replica ids)."""
    retired = set(store.config.sync.retired)
    return {replica: manifest for replica, manifest in team.manifests().items()
            if replica != store.replica_id and replica not in retired and manifest.rep not in retired}


def _all_snapshots(team: TeamFolder, own: Manifest) -> list[SnapshotRef]:
    others = [ref for r, m in team.manifests().items() if r != own.replica for ref in m.snapshots]
    return [*others, *own.snapshots]


def _foldable(own: Manifest, active: dict[str, Manifest], now_ms: int, days: int) -> list[SegmentRef]:
    """Own segments every active teammate has merged and older than ``days``, oldest first,
    up to the first that is not (folding keeps the numbers without a gap)."""
    merged_by_all = min((m.applied.get(own.replica, 0) for m in active.values()), default=own.last_seq)
    cutoff = now_ms - days * DAY_MS
    foldable: list[SegmentRef] = []
    for ref in sorted(own.segments, key=lambda r: r.seq):
        if ref.seq > merged_by_all or Stamp.parse(ref.last).wall_ms > cutoff:
            break
        foldable.append(ref)
    return foldable


def _keep_snapshots(own: Path, store: Store, team: TeamFolder, manifest: Manifest, state: SyncState,
                    now_ms: int, result: Published) -> Manifest:
    config = store.config.sync
    snapshots = _all_snapshots(team, manifest)
    covered = max((ref.applied.get(manifest.replica, 0) for ref in snapshots), default=0)
    foldable = _foldable(manifest, _active(team, store), now_ms, config.fold_after_days)
    uncovered = bool(foldable) and foldable[-1].seq > covered
    quiet = all(now_ms - ref.written_ms > SNAPSHOT_QUIET_MS for ref in snapshots)
    if quiet and _snapshot_due(team, manifest, snapshots, uncovered, now_ms, config):
        manifest = _write_snapshot(own, store, team, manifest, state, now_ms, result)
    return _drop_covered_snapshots(own, manifest, _all_snapshots(team, manifest), result)


@dataclass
class _Since:
    """The segments in the folder that the newest snapshot does not hold."""

    count: int = 0
    bytes: int = 0
    #: bytes of the full copy they add to: the newest snapshot, or with none each
    #: replica's oldest segment (a replica's first one holds all it had then)
    base: int = 0


def _snapshot_due(team: TeamFolder, own: Manifest, snapshots: list[SnapshotRef], uncovered: bool, now_ms: int,
                  config: SyncConfig) -> bool:
    """Whether a new snapshot pays: once the segments since the newest full copy weigh as
    much as it does (a joiner then reads at most about twice the state). Whatever they
    weigh, folding gets one at most every ``fold_after_days``, and a folder of very many
    small segments one at ``SNAPSHOT_COUNT_CEILING`` times ``snapshot_after_segments``."""
    since = _segments_since(team, own, snapshots)
    outweighs = since.bytes >= since.base
    if uncovered:
        newest = max((ref.written_ms for ref in snapshots), default=None)
        return outweighs or newest is None or now_ms - newest >= config.fold_after_days * DAY_MS
    needed = config.snapshot_after_segments * (1 if outweighs else SNAPSHOT_COUNT_CEILING)
    return since.count >= needed


def _segments_since(team: TeamFolder, own: Manifest, snapshots: list[SnapshotRef]) -> _Since:
    newest = max(snapshots, key=lambda ref: ref.written_ms, default=None)
    held = newest.applied if newest else {}
    since = _Since(base=newest.bytes if newest else 0)
    for replica, manifest in {**team.manifests(), own.replica: own}.items():
        refs = sorted((ref for ref in manifest.segments if ref.seq > held.get(replica, 0)), key=lambda r: r.seq)
        if newest is None and refs:
            since.base += refs[0].bytes
            since.count += 1
            refs = refs[1:]
        since.count += len(refs)
        since.bytes += sum(ref.bytes for ref in refs)
    return since


def _write_snapshot(own: Path, store: Store, team: TeamFolder, manifest: Manifest, state: SyncState,
                    now_ms: int, result: Published) -> Manifest:
    records = _without_settled_deletes(snapshot(store), _active(team, store), store, now_ms)
    applied = {**state.applied, manifest.replica: manifest.last_seq}
    seen = newest_of(state.seen, {manifest.replica: store.clock.last})
    header = {"format": "dealdeck-snapshot", "version": LAYOUT_VERSION, "replica": store.replica_id,
              "rep": store.me, "app_version": app_version(), "applied": applied, "seen": seen,
              "written_ms": now_ms}
    data, _ = encode(header, records, default=json_default)
    path = own / snapshot_name(now_ms)
    write_atomic(path, data)
    ref = SnapshotRef(file=path.name, sha256=_sha256(data), bytes=len(data),
                      records=sum(len(docs) for docs in records.values()), applied=applied, seen=seen,
                      written_ms=now_ms)
    result.snapshot = path
    return manifest.model_copy(update={"snapshots": [*manifest.snapshots, ref]})


def _without_settled_deletes(records: RecordSet, active: dict[str, Manifest], store: Store,
                             now_ms: int) -> RecordSet:
    """Deleted records every active teammate has seen deleted, long enough ago, are left out:
    none of them can still send an older change of one."""
    cutoff = now_ms - store.config.sync.fold_after_days * DAY_MS
    kept: RecordSet = {}
    for table in TABLES:
        docs = records[table]
        gone = [record_id for record_id, doc in _deleted(docs) if _settled(doc, active, cutoff)]
        if gone:
            docs = dict(docs.items())
            for record_id in gone:
                del docs[record_id]
        kept[table] = docs
    return kept


def _deleted(docs: dict[str, dict[str, object]]) -> list[tuple[str, dict[str, object]]]:
    return [(record_id, doc) for record_id, doc in docs.items() if DELETED in doc and not is_live(doc)]  # type: ignore[arg-type]


def _settled(doc: dict[str, object], active: dict[str, Manifest], cutoff: int) -> bool:
    deleted = str(doc[DELETED])
    if Stamp.parse(deleted).wall_ms > cutoff:
        return False
    replica = deleted[-16:]
    return all(m.seen.get(replica, "") >= deleted for m in active.values())


def _drop_covered_snapshots(own: Path, manifest: Manifest, snapshots: list[SnapshotRef],
                            result: Published) -> Manifest:
    """Own snapshots that a newer one (anyone's) holds everything of are deleted."""
    def dominated(ref: SnapshotRef) -> bool:
        return any(other.written_ms > ref.written_ms
                   and all(other.applied.get(r, 0) >= n for r, n in ref.applied.items()) for other in snapshots)

    dropped = [ref for ref in manifest.snapshots if dominated(ref)]
    if not dropped:
        return manifest
    result.unlisted += [own / ref.file for ref in dropped]
    return manifest.model_copy(update={"snapshots": [r for r in manifest.snapshots if r not in dropped]})


def _fold(own: Path, store: Store, team: TeamFolder, manifest: Manifest, now_ms: int,
          result: Published) -> Manifest:
    covered = max((ref.applied.get(manifest.replica, 0) for ref in _all_snapshots(team, manifest)), default=0)
    foldable = [ref for ref in _foldable(manifest, _active(team, store), now_ms, store.config.sync.fold_after_days)
                if ref.seq <= covered]
    if not foldable:
        return manifest
    result.unlisted += [own / ref.file for ref in foldable]
    result.folded = [ref.seq for ref in foldable]
    return manifest.model_copy(update={"segments": [r for r in manifest.segments if r not in foldable],
                                       "folded": foldable[-1].seq,
                                       "withdrawn": [n for n in manifest.withdrawn if n > foldable[-1].seq]})


# --- the first layout -----------------------------------------------------------------------------


def _first_layout_export(store: Store, team: TeamFolder, state: SyncState) -> Path | None:
    """This replica's export file while a teammate without a manifest still writes one;
    deleted once every teammate has upgraded."""
    manifests = team.manifests()
    waiting = [path for path in team.exports
               if (found := export_checksum(path)) is not None and found[0] != store.replica_id
               and found[0] not in manifests]
    mine = team.path / export_name(store.replica_id)
    if not waiting:
        mine.unlink(missing_ok=True)
        return None
    return write_export(store, team.path, state.seen)


def own_paths(team_path: Path, replica: str) -> list[Path]:
    """What this replica writes in the team folder (for git to commit)."""
    return [team_path / replica, team_path / f"{replica}{SUFFIX}"]

