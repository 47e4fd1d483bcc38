"""A team folder read for a merge: which files hold what this replica has not merged yet,
checked, in an order that respects what each was written after.

The folder holds one folder per replica (``sync.team_files``) and, while a team
upgrades, the export files of reps still on the first layout (``sync.format``). A merge
reads:

1. export files of replicas that have no manifest yet (not upgraded), each only when it
   changed since it was last merged;
2. a snapshot, when this replica has merged nothing yet (it joins), or when segments it
   has not merged were folded away (it was restored from an old backup);
3. per replica, the segments after the last one merged here, in order. A segment is
   applied only once everything its writer had merged when writing it is applied here
   (its ``deps``), so no record is changed here before it exists. A refused segment
   stops its replica's later ones (never applied out of order) and those that depend on
   it; a segment its manifest names and that is not there yet waits the same way.

Nothing here writes.
"""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from store.hlc import REPLICA_PATTERN
from sync.checks import Limits, NotArrived, Refused, show_name
from sync.format import SUFFIX
from sync.team_files import (
    MANIFEST,
    Manifest,
    Segment,
    SegmentRef,
    Snapshot,
    SnapshotRef,
    read_manifest,
    read_segment,
    read_snapshot,
)

#: bytes of an export file's header line read to tell whether it changed
_HEADER_MAX = 1 << 20


@dataclass
class Teammate:
    """A replica's folder in the team folder (this replica's own too)."""

    replica: str
    folder: Path
    manifest: Manifest | None = None
    #: why its manifest was refused ("" when it was read)
    problem: str = ""


@dataclass
class TeamFolder:
    path: Path
    teammates: dict[str, Teammate] = field(default_factory=dict)
    #: export files of the first layout (regular files named ``*.dealdeck.json``)
    exports: list[Path] = field(default_factory=list)
    #: entries passed over, one line each
    notes: list[str] = field(default_factory=list)

    def manifests(self) -> dict[str, Manifest]:
        return {r: t.manifest for r, t in self.teammates.items() if t.manifest is not None}


def scan(path: Path) -> TeamFolder:
    """The team folder at ``path`` (or one replica's folder in it, given directly)."""
    team = TeamFolder(path)
    if (path / MANIFEST).exists() and REPLICA_PATTERN.match(path.name):
        team.teammates[path.name] = _teammate(path)
        return team
    for entry in sorted(path.iterdir()):
        name = entry.name
        if name.startswith("."):  # .git, .stfolder, a sync tool's temp files
            continue
        kind = _kind(entry)
        if REPLICA_PATTERN.match(name):
            if kind == "a folder":
                team.teammates[name] = _teammate(entry)
            else:
                team.notes.append(f"skipped {show_name(name)}: {kind}, not a replica's folder")
        elif name.endswith(SUFFIX):
            if kind == "a file":
                team.exports.append(entry)
            else:
                team.notes.append(f"skipped {show_name(name)}: {kind}, not an export file")
    return team


def _teammate(folder: Path) -> Teammate:
    teammate = Teammate(folder.name, folder)
    if not (folder / MANIFEST).exists():
        return teammate  # made, nothing published yet (or the manifest has not arrived)
    try:
        teammate.manifest = read_manifest(folder / MANIFEST, folder.name)
    except Refused as refused:
        teammate.problem = str(refused)
    return teammate


def _kind(path: Path) -> str:
    try:
        mode = path.lstat().st_mode
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "a file" if stat.S_ISREG(mode) else "not a regular file"


def team_reps(team: TeamFolder) -> list[str]:
    """The reps who publish in a team folder (by their manifests, and the export files of
    those still on the first layout), in order of first appearance."""
    reps = [manifest.rep for manifest in team.manifests().values()]
    for path in team.exports:
        try:
            with path.open("rb") as file:
                header = orjson.loads(file.readline(_HEADER_MAX))
        except (OSError, orjson.JSONDecodeError):
            continue
        if isinstance(header, dict) and isinstance(header.get("rep"), str):
            reps.append(header["rep"])
    return list(dict.fromkeys(reps))


def export_checksum(path: Path) -> tuple[str, str] | None:
    """An export file's replica and checksum, from its header line alone (None if it has none:
    the full check of the file says what is wrong)."""
    try:
        with path.open("rb") as file:
            header = orjson.loads(file.readline(_HEADER_MAX))
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(header, dict) or not isinstance(header.get("sha256"), str):
        return None
    return str(header.get("replica")), header["sha256"]


@dataclass
class Plan:
    """What a merge applies, in order, and what it could not."""

    snapshot: Snapshot | None = None
    segments: list[Segment] = field(default_factory=list)
    #: per replica, the newest segment merged once the plan is applied
    applied: dict[str, int] = field(default_factory=dict)
    #: (file, why) for each file refused
    refused: list[tuple[Path, str]] = field(default_factory=list)
    #: one line per replica whose new segments wait, and why
    waiting: list[str] = field(default_factory=list)


@dataclass
class _Queue:
    """One replica's segments still to merge, oldest first."""

    manifest: Manifest
    folder: Path
    refs: list[SegmentRef]
    withdrawn: frozenset[int]
    stopped: bool = False
    #: the first of ``refs``, read and checked, while it waits for what it depends on
    ready: Segment | None = None


def plan(team: TeamFolder, applied: dict[str, int], limits: Limits, now_ms: int,
         progress: Callable[[str], None] = lambda step: None) -> Plan:
    """The snapshot and segments to merge into a replica that has merged ``applied``."""
    result = Plan(applied=dict(applied))
    manifests = team.manifests()
    for _, teammate in sorted(team.teammates.items()):
        if teammate.problem:
            result.refused.append((teammate.folder / MANIFEST, teammate.problem))
    _start_from_snapshot(result, team, manifests, limits, now_ms)
    queues = {replica: _queue(team.teammates[replica].folder, manifest, result.applied)
              for replica, manifest in sorted(manifests.items())}
    waits: dict[str, str] = {}
    moved = True
    while moved:
        moved = False
        for replica, queue in queues.items():
            while queue.refs and not queue.stopped:
                ref = queue.refs[0]
                progress(f"checking {queue.manifest.rep}'s segment {ref.seq}")
                segment = _read(queue, ref, limits, now_ms, result)
                if segment is None:
                    break
                missing = _missing_dep(segment, result.applied, manifests)
                if missing:
                    waits[replica] = missing
                    break
                waits.pop(replica, None)
                result.segments.append(segment)
                result.applied[replica] = ref.seq
                queue.refs.pop(0)
                _skip_withdrawn(queue, result.applied)
                moved = True
    result.waiting += [waits[replica] for replica in sorted(waits)]
    return result


def _queue(folder: Path, manifest: Manifest, applied: dict[str, int]) -> _Queue:
    done = applied.get(manifest.replica, 0)
    queue = _Queue(manifest, folder, sorted((r for r in manifest.segments if r.seq > done), key=lambda r: r.seq),
                   frozenset(manifest.withdrawn))
    _skip_withdrawn(queue, applied)
    return queue


def _skip_withdrawn(queue: _Queue, applied: dict[str, int]) -> None:
    """Withdrawn numbers count as merged: their files are gone, and nothing needs them."""
    replica = queue.manifest.replica
    following = queue.refs[0].seq if queue.refs else queue.manifest.last_seq + 1
    seq = applied.get(replica, 0)
    while seq + 1 < following and seq + 1 in queue.withdrawn:
        seq += 1
    if seq > applied.get(replica, 0):
        applied[replica] = seq


def _read(queue: _Queue, ref: SegmentRef, limits: Limits, now_ms: int, result: Plan) -> Segment | None:
    if queue.ready is not None and queue.ready.seq == ref.seq:
        return queue.ready
    path = queue.folder / ref.file
    try:
        queue.ready = read_segment(path, ref, queue.manifest, limits, now_ms)
        return queue.ready
    except NotArrived:
        queue.stopped = True
        result.waiting.append(f"{queue.manifest.rep} ({queue.manifest.replica}): segment {ref.seq} has not "
                              "arrived yet (its manifest names it); it merges at a later sync")
        return None
    except Refused as refused:
        queue.stopped = True
        result.refused.append((path, str(refused)))
        later = len(queue.refs) - 1
        result.waiting.append(f"{queue.manifest.rep} ({queue.manifest.replica}): segment {ref.seq} was not "
                              f"merged" + (f"; {later} later segment(s) wait for it" if later else ""))
        return None


def _missing_dep(segment: Segment, applied: dict[str, int], manifests: dict[str, Manifest]) -> str:
    """Why ``segment`` cannot be applied yet ("" when it can)."""
    for replica, seq in sorted(segment.deps.items()):
        if replica == segment.replica or applied.get(replica, 0) >= seq:
            continue
        other = manifests.get(replica)
        whose = other.rep if other else f"replica {replica}"
        return (f"{segment.rep} ({segment.replica}): segment {segment.seq} waits for {whose}'s segment {seq}, "
                "which is not merged here yet (not arrived, or refused)")
    return ""


def _start_from_snapshot(result: Plan, team: TeamFolder, manifests: dict[str, Manifest], limits: Limits,
                         now_ms: int) -> None:
    """Merge a snapshot first when segments this replica needs were folded away, or when it
    has merged nothing yet (a new rep: one snapshot instead of every segment so far)."""
    folded = {r: m.folded for r, m in manifests.items() if result.applied.get(r, 0) < m.folded}
    if not folded and (result.applied or not any(m.snapshots for m in manifests.values())):
        return
    candidates = [(ref, manifest) for manifest in manifests.values() for ref in manifest.snapshots
                  if all(ref.applied.get(r, 0) >= seq for r, seq in folded.items())]
    for ref, manifest in sorted(candidates, key=lambda c: (c[0].written_ms, sum(c[0].applied.values())),
                                reverse=True):
        path = team.teammates[manifest.replica].folder / ref.file
        try:
            snapshot = read_snapshot(path, ref, manifest, limits, now_ms)
        except Refused as refused:
            result.refused.append((path, str(refused)))
            continue
        result.snapshot = snapshot
        for replica, seq in snapshot.applied.items():
            result.applied[replica] = max(seq, result.applied.get(replica, 0))
        return
    for replica in folded:
        manifest = manifests[replica]
        result.waiting.append(f"{manifest.rep} ({replica}): segments up to {manifest.folded} were folded away "
                              "and no snapshot in the folder holds them: ask a teammate to sync")


def newest_snapshot(refs: Iterable[SnapshotRef]) -> SnapshotRef | None:
    return max(refs, key=lambda ref: ref.written_ms, default=None)
