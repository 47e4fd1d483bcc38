"""The files of the team folder's layout, written and read as untrusted input.

Each replica owns one folder, named by its replica id, and is the only writer of
what is in it::

    <team>/<replica>/manifest.json                          rewritten atomically
    <team>/<replica>/<seq>-<first ms>-<last ms>.json.gz     a segment: immutable
    <team>/<replica>/snapshot-<ms>.json.gz                  a snapshot: immutable

A **segment** holds that replica's own changes since its previous one (``sync.segments``);
a **snapshot** the whole merged state of the replica that wrote it, at the segments it
names (``applied``), for a replica that joins or comes back after segments were folded
away. Both are gzip (a standard codec any tool reads) of a header line and a body, as
an export file is (``sync.format``), with the same checksum over the header and the
body. The **manifest** lists the replica's segments and snapshots with their sizes and
SHA-256, what it has merged of each replica (``applied``: segment numbers, ``seen``: the
newest stamps), the segments it folded away and those it withdrew (stamps that ran
ahead of the clock).

Reading refuses with one line, as :class:`Refused` (``where``: ``manifest``, ``file``,
``header``, ``body`` or a record): a file whose size or hash is not the manifest's (a
file still arriving, or changed), a header that disagrees with the manifest (a segment
of another replica, a replayed old one), a decompressed size over the limit, and every
check of ``sync.checks``.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import os
import re
import stat
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from store.hlc import REPLICA_PATTERN, STAMP_PATTERN
from sync.checks import (
    BodyRules,
    Limits,
    NotArrived,
    Refused,
    Sender,
    check_body,
    first_error,
    future_horizon,
    future_problem,
    refuse_duplicate_keys,
    show,
)
from sync.format import TABLES, RecordSet, checksum

MANIFEST = "manifest.json"
MANIFEST_FORMAT, SEGMENT_FORMAT, SNAPSHOT_FORMAT = "dealdeck-manifest", "dealdeck-segment", "dealdeck-snapshot"
LAYOUT_VERSION = 1
MANIFEST_MAX_BYTES = 16 * 2**20
SEGMENT_NAME = re.compile(r"^([0-9]{8})-([0-9]{16})-([0-9]{16})\.json\.gz$")
SNAPSHOT_NAME = re.compile(r"^snapshot-([0-9]{16})\.json\.gz$")
#: gzip level: JSON shrinks 6-8x; higher levels cost more time than they save bytes here
GZIP_LEVEL = 6

Json = dict[str, Any]
ReplicaId = Annotated[str, Field(pattern=REPLICA_PATTERN.pattern)]
StampText = Annotated[str, Field(pattern=STAMP_PATTERN.pattern)]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
RepId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,31}$")]
Count = Annotated[int, Field(ge=0)]
Vector = Annotated[dict[ReplicaId, Count], Field(max_length=10_000)]
Seen = Annotated[dict[ReplicaId, StampText], Field(max_length=10_000)]
AppVersion = Annotated[str, Field(max_length=64, pattern=r"^[\x20-\x7e]*$")]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class SegmentRef(_Strict):
    """A segment as its manifest lists it."""

    seq: Annotated[int, Field(ge=1)]
    file: str
    first: StampText
    last: StampText
    sha256: Sha256
    bytes: Count
    records: Count


class SnapshotRef(_Strict):
    """A snapshot as its manifest lists it: the segments it holds, per replica."""

    file: str
    sha256: Sha256
    bytes: Count
    records: Count
    applied: Vector
    seen: Seen
    written_ms: Count

    @field_validator("file")
    @classmethod
    def _name(cls, value: str) -> str:
        if not SNAPSHOT_NAME.match(value):
            raise ValueError("not a snapshot file name (snapshot-<ms>.json.gz)")
        return value


class Manifest(_Strict):
    format: Literal["dealdeck-manifest"]
    version: int
    replica: ReplicaId
    rep: RepId
    app_version: AppVersion
    segments: Annotated[list[SegmentRef], Field(max_length=100_000)] = []
    #: segments up to this number were folded away (a snapshot holds them)
    folded: Count = 0
    #: segments withdrawn (their stamps ran ahead of the clock): readers pass over them
    withdrawn: Annotated[list[Annotated[int, Field(ge=1)]], Field(max_length=100_000)] = []
    snapshots: Annotated[list[SnapshotRef], Field(max_length=100)] = []
    #: per replica, the newest segment it has merged (all before it too)
    applied: Vector = {}
    #: per replica, the newest stamp it has merged
    seen: Seen = {}

    @property
    def last_seq(self) -> int:
        return max([self.folded, *self.withdrawn, *(s.seq for s in self.segments)])

    @property
    def last_stamp(self) -> str:
        """The newest stamp this replica has published (in a segment still listed)."""
        return max((s.last for s in self.segments), default="")


def segment_name(seq: int, first: str, last: str) -> str:
    return f"{seq:08d}-{first[:16]}-{last[:16]}.json.gz"


def snapshot_name(written_ms: int) -> str:
    return f"snapshot-{written_ms:016d}.json.gz"


# --- writing ---------------------------------------------------------------------------------


def encode(header: Json, records: RecordSet | dict[str, Any], *, default: Any = None) -> tuple[bytes, Json]:
    """A segment's or snapshot's bytes (gzip of the header line and the body), and its
    header with the checksum. ``mtime=0``: the same content gives the same bytes."""
    body = orjson.dumps({"tables": records}, default=default)
    header = {**header, "counts": {table: len(records.get(table, {})) for table in TABLES}}
    header["sha256"] = checksum(header, hashlib.sha256(body).hexdigest())
    return gzip.compress(orjson.dumps(header) + b"\n" + body, compresslevel=GZIP_LEVEL, mtime=0), header


def manifest_bytes(manifest: Manifest) -> bytes:
    return orjson.dumps(manifest.model_dump(), option=orjson.OPT_INDENT_2) + b"\n"


# --- reading ---------------------------------------------------------------------------------


def read_manifest(path: Path, replica: str) -> Manifest:
    """The manifest of the replica whose folder is ``path.parent``, or :class:`Refused`."""
    data = read_file(path, max_bytes=MANIFEST_MAX_BYTES)
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise Refused("manifest", f"not valid JSON ({exc}); truncated, or still being written?") from None
    if not isinstance(raw, dict) or raw.get("format") != MANIFEST_FORMAT:
        raise Refused("manifest", "not a Dealdeck manifest")
    if type(raw.get("version")) is int and raw["version"] > LAYOUT_VERSION:
        raise Refused("manifest", f"written by a newer Dealdeck (layout version {raw['version']}); upgrade Dealdeck")
    try:
        manifest = Manifest.model_validate(raw)
    except ValidationError as exc:
        field, message = first_error(exc)
        raise Refused("manifest", f"{field}: {message}") from None
    if manifest.replica != replica:
        raise Refused("manifest", f"names replica {manifest.replica} but is in the folder of replica {replica}")
    _check_segment_list(manifest)
    return manifest


def _check_segment_list(manifest: Manifest) -> None:
    """Numbers in order after the folded ones, each name its own, stamps rising: a list
    that breaks this was not written by Dealdeck (an old segment replayed under a new number)."""
    listed = sorted([*(s.seq for s in manifest.segments), *manifest.withdrawn])
    if listed != list(range(manifest.folded + 1, manifest.folded + 1 + len(listed))):
        raise Refused("manifest", f"segment numbers {_numbers(listed)} are not the ones after the folded "
                                  f"{manifest.folded}, each once")
    previous = ""
    for ref in sorted(manifest.segments, key=lambda s: s.seq):
        if ref.file != segment_name(ref.seq, ref.first, ref.last):
            raise Refused("manifest", f"segment {ref.seq}: {show(ref.file)} is not its file name")
        if not ref.first.endswith(manifest.replica) or not ref.last.endswith(manifest.replica):
            raise Refused("manifest", f"segment {ref.seq}: its stamps are another replica's")
        if not previous < ref.first <= ref.last:
            raise Refused("manifest", f"segment {ref.seq}: its stamps ({ref.first} to {ref.last}) do not come "
                                      f"after those of the segment before it: a replayed old segment?")
        previous = ref.last


def _numbers(seqs: list[int]) -> str:
    return ", ".join(map(str, seqs[:8])) + (", ..." if len(seqs) > 8 else "")


@dataclass(frozen=True)
class Segment:
    """A segment read and checked: one replica's changes, in order."""

    replica: str
    rep: str
    seq: int
    first: str
    last: str
    #: per other replica, the newest segment its writer had merged: applied before this one
    deps: dict[str, int]
    #: the newest stamp of each replica its writer had merged
    seen: dict[str, str]
    records: RecordSet
    path: Path


@dataclass(frozen=True)
class Snapshot:
    """A snapshot read and checked: a merged state and the segments it holds."""

    replica: str
    rep: str
    applied: dict[str, int]
    seen: dict[str, str]
    records: RecordSet
    path: Path


def read_segment(path: Path, ref: SegmentRef, manifest: Manifest, limits: Limits, now_ms: int) -> Segment:
    """The segment ``ref`` of ``manifest`` at ``path``, checked, or :class:`Refused`."""
    header, body = _unpacked(path, ref.sha256, ref.bytes, limits)
    raw = _header(header, SEGMENT_FORMAT)
    expected = {"replica": manifest.replica, "rep": manifest.rep, "seq": ref.seq, "first": ref.first,
                "last": ref.last}
    for name, value in expected.items():
        if raw.get(name) != value:
            raise Refused("header", f"{name}: {show(raw.get(name))} is not its manifest's {show(value)} "
                                    "(a segment of another replica, or an old one replayed?)")
    deps, seen = _vector(raw, "deps"), _seen(raw, now_ms, limits, manifest)
    counts = _counts(raw)
    _check_sum(raw, body)
    rules = BodyRules(limits, now_ms, Sender(manifest.rep, manifest.replica), own_stamps=True,
                      first=ref.first, last=ref.last)
    records = check_body(body, counts, rules)
    return Segment(manifest.replica, manifest.rep, ref.seq, ref.first, ref.last, deps, seen, records, path)


def read_snapshot(path: Path, ref: SnapshotRef, manifest: Manifest, limits: Limits, now_ms: int) -> Snapshot:
    """The snapshot ``ref`` of ``manifest`` at ``path``, checked, or :class:`Refused`."""
    header, body = _unpacked(path, ref.sha256, ref.bytes, limits)
    raw = _header(header, SNAPSHOT_FORMAT)
    if raw.get("replica") != manifest.replica or _vector(raw, "applied") != ref.applied:
        raise Refused("header", "does not match its manifest (another replica's snapshot, or an old one?)")
    seen = _seen(raw, now_ms, limits, manifest)
    counts = _counts(raw)
    _check_sum(raw, body)
    records = check_body(body, counts, BodyRules(limits, now_ms, Sender(manifest.rep, manifest.replica)))
    return Snapshot(manifest.replica, manifest.rep, dict(ref.applied), seen, records, path)


def _unpacked(path: Path, sha256: str, size: int, limits: Limits) -> tuple[memoryview, memoryview]:
    data = read_file(path, max_bytes=limits.max_bytes)
    if len(data) != size or hashlib.sha256(data).hexdigest() != sha256:
        raise Refused("file", f"its size or SHA-256 is not the one in its manifest ({len(data):,} bytes, "
                              f"the manifest says {size:,}): still arriving, or changed since it was written")
    try:
        inflater = zlib.decompressobj(wbits=31)  # gzip
        text = inflater.decompress(data, limits.max_bytes + 1)
    except zlib.error as exc:
        raise Refused("file", f"not gzip data ({exc})") from None
    if len(text) > limits.max_bytes or inflater.unconsumed_tail:
        raise Refused("file", f"unpacks to more than the size limit of {limits.max_bytes // 2**20} MB "
                              "(sync.max_file_mb)")
    if not inflater.eof:
        raise Refused("file", "truncated gzip data")
    end = text.find(b"\n")
    view = memoryview(text)
    return (view, view[len(text):]) if end < 0 else (view[:end], view[end + 1:])


def read_file(path: Path, *, max_bytes: int) -> bytes:
    """A regular file's bytes (never through a link), at most ``max_bytes``, or :class:`Refused`."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise NotArrived from None
    except OSError as exc:
        raise Refused("file", "a symbolic link; team files are read only as regular files"
                      if exc.errno == errno.ELOOP else f"cannot be read ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Refused("file", "not a regular file")
        if info.st_size > max_bytes:
            raise Refused("file", f"{info.st_size / 2**20:.1f} MB is over the size limit of "
                                  f"{max_bytes / 2**20:.0f} MB (sync.max_file_mb)")
        with os.fdopen(fd, "rb", closefd=False) as file:
            # as many bytes as it holds, plus one to see it grow: a read of the limit itself
            # allocates the limit (200 MB) first, 0.2 ms a file
            want = min(info.st_size, max_bytes) + 1
            data = file.read(want)
            if len(data) == want and want <= max_bytes:  # it grew since fstat
                data += file.read(max_bytes + 1 - want)
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise Refused("file", "grew over the size limit while it was read")
    return data


def _header(line: memoryview, kind: str) -> Json:
    try:
        raw = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise Refused("header", f"not valid JSON ({exc})") from None
    if not isinstance(raw, dict) or raw.get("format") != kind:
        raise Refused("header", f"not a Dealdeck {kind.removeprefix('dealdeck-')}")
    refuse_duplicate_keys("header", line, raw, 0)
    version = raw.get("version")
    if type(version) is int and version > LAYOUT_VERSION:
        raise Refused("header", f"written by a newer Dealdeck (layout version {version}); upgrade Dealdeck to read it")
    if version != LAYOUT_VERSION:
        raise Refused("header", f"version: {show(version)} is not a layout version")
    return raw


def _vector(raw: Json, name: str) -> dict[str, int]:
    value = raw.get(name)
    if (not isinstance(value, dict) or len(value) > 10_000
            or not all(isinstance(k, str) and REPLICA_PATTERN.match(k) and type(v) is int and v >= 0
                       for k, v in value.items())):
        raise Refused("header", f"{name}: not segment numbers by replica id")
    return value


#: (replica, stamp) pairs of ``seen`` vectors already found well formed: a team's segments
#: repeat most of them (each names every replica), so each pair is matched once
_SEEN_PAIRS: set[tuple[str, str]] = set()


def _seen(raw: Json, now_ms: int, limits: Limits, manifest: Manifest) -> dict[str, str]:
    value = raw.get("seen")
    if not isinstance(value, dict) or len(value) > 10_000 or not all(map(_seen_pair, value.items())):
        raise Refused("header", "seen: not the newest stamps by replica id")
    if value:  # stamps of one width compare as text: the newest is the one to check
        problem = future_problem(max(value.values()), future_horizon(now_ms, limits), limits,
                                 Sender(manifest.rep, manifest.replica))
        if problem:
            raise Refused("header", f"seen: {problem}")
    return value


def _seen_pair(pair: tuple[Any, Any]) -> bool:
    replica, stamp = pair
    if not isinstance(stamp, str):  # (a list is not even hashable)
        return False
    if pair in _SEEN_PAIRS:
        return True
    good = (isinstance(replica, str) and stamp.endswith(replica)
            and bool(REPLICA_PATTERN.match(replica)) and bool(STAMP_PATTERN.match(stamp)))
    if good:
        if len(_SEEN_PAIRS) > 200_000:
            _SEEN_PAIRS.clear()
        _SEEN_PAIRS.add(pair)
    return good


def _counts(raw: Json) -> dict[str, int]:
    counts = raw.get("counts")
    if not isinstance(counts, dict) or not all(k in TABLES and type(v) is int and v >= 0 for k, v in counts.items()):
        raise Refused("header", "counts: not record counts by table")
    return counts


def _check_sum(raw: Json, body: memoryview) -> None:
    if raw.get("sha256") != checksum(raw, hashlib.sha256(body).hexdigest()):
        raise Refused("body", "sha256 does not match the header (changed after it was written)")
