"""Read a teammate's export file as untrusted input, refusing it whole on any problem.

``read_export`` returns the header and the record set of a file only when every
check passes; otherwise it raises :class:`SyncError` with one line
``<file name>: <where>: <problem>``, where ``<where>`` is ``file``, ``header``,
``body`` or ``<table> record <id>``. Nothing is read from the file's content that
decides where anything is read from or written to: paths come from the caller.

Export files are the first sync layout (a replica's whole state in one file); a team
folder still holding them merges them while its reps upgrade (``sync.team``).

The checks, in order: a regular file (never a link) named ``*.dealdeck.json``;
its size against the limit before it is read; the header line (a JSON object,
format, version: newer is refused, older is migrated through ``MIGRATIONS``,
strictly typed fields, replica id, ``seen``); the sha256 of the body bytes and the
header's other fields (of the body only in a version-1 file); then the body and every
record (``sync.checks``). The models' cross-field rules are not checked: a merge
of two valid versions field by field can break one, so a teammate's export may
hold such a record; the merge report lists it for a person to fix.
"""

from __future__ import annotations

import errno
import gc
import hashlib
import os
import stat
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from store.gc_pause import collector_paused
from store.hlc import REPLICA_PATTERN, is_stamp, wall_clock_ms
from sync.checks import (
    BodyRules,
    Limits,
    Refused,
    Sender,
    check_records,
    first_error,
    future_horizon,
    future_problem,
    parse_body,
    record_set,
    refuse_duplicate_keys,
    show,
    show_name,
)
from sync.errors import SyncError
from sync.format import FORMAT, SUFFIX, TABLES, VERSION, RecordSet, checksum

__all__ = ["ExportFile", "Header", "Limits", "read_export", "read_exports"]

Json = dict[str, Any]
#: ``MIGRATIONS[v]`` turns a version-``v`` export ``{"header": ..., "body": ...}`` into a
#: version ``v + 1`` one (``read_export`` then sets the header's version). Version 2 only
#: changed what ``sha256`` covers (the header too), checked before any migration.
MIGRATIONS: dict[int, Callable[[Json], Json]] = {1: lambda export: export}
#: the first version whose ``sha256`` covers the header (``sync.format.checksum``)
HEADER_CHECKSUM_VERSION = 2
DEFAULT_LIMITS = Limits()


class Header(BaseModel):
    """The first line of an export file, strictly typed."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    format: str
    version: int
    replica: str
    rep: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,31}$")]
    app_version: Annotated[str, Field(max_length=64, pattern=r"^[\x20-\x7e]*$")]
    exported_at: Annotated[str, Field(max_length=64)]
    counts: dict[str, Annotated[int, Field(ge=0)]]
    seen: dict[str, str]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]

    @field_validator("exported_at")
    @classmethod
    def _iso_time(cls, value: str) -> str:
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("not an ISO date and time") from None
        return value


@dataclass(frozen=True)
class ExportFile:
    path: Path
    header: Header
    records: RecordSet


def read_export(path: Path, *, limits: Limits = DEFAULT_LIMITS, now_ms: int | None = None) -> ExportFile:
    """The validated content of the export file at ``path``, or :class:`SyncError`."""
    return _checked(path, lambda: _load(path, limits), limits, wall_clock_ms() if now_ms is None else now_ms)


def read_exports(paths: Sequence[Path], *, limits: Limits = DEFAULT_LIMITS, now_ms: int | None = None,
                 freeze: bool = False) -> Iterator[ExportFile]:
    """``read_export`` of each path in turn, reading and hashing the next file in a
    thread while this one is checked (both let go of the GIL): on a network share
    the reading is most of the wait.

    ``freeze``: move each parsed file out of the cyclic collector's sight (``gc.freeze``),
    or every collection during the merge of the next files walks them all again (0.6 s
    of 5.5 for 20 files of 26k records). Only for a process that ends after the merge
    (the command line): ``gc.freeze`` freezes every object of the process, and in the app
    any cycle among them (a dismissed screen's widgets) would never be collected."""
    now_ms = wall_clock_ms() if now_ms is None else now_ms
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dealdeck-read")
    try:
        loads = deque(pool.submit(_load, path, limits) for path in paths[:1])  # one file ahead at most
        for index, path in enumerate(paths):
            if index + 1 < len(paths):
                loads.append(pool.submit(_load, paths[index + 1], limits))
            yield _checked(path, loads.popleft().result, limits, now_ms, freeze=freeze)
    finally:  # after a refusal, do not wait for the next file's read to say so
        pool.shutdown(wait=False, cancel_futures=True)


@dataclass(frozen=True)
class _Loaded:
    header_line: memoryview
    body: memoryview
    body_sha256: str


def _load(path: Path, limits: Limits) -> _Loaded:
    line, body = _split(_read_bytes(path, limits))
    return _Loaded(line, body, hashlib.sha256(body).hexdigest())


def _checked(path: Path, load: Callable[[], _Loaded], limits: Limits, now_ms: int, *,
             freeze: bool = False) -> ExportFile:
    try:
        with collector_paused():
            export = _read(path, load(), limits, now_ms)
            if freeze:  # before the collector runs again (see read_exports)
                gc.freeze()
            return export
    except Refused as refused:
        raise SyncError(f"{show_name(path.name)}: {refused}") from None


def _read(path: Path, loaded: _Loaded, limits: Limits, now_ms: int) -> ExportFile:
    raw = _header_object(loaded.header_line)
    version = _check_version(raw)
    header = _header(raw, limits, now_ms) if version == VERSION else None
    expected = loaded.body_sha256 if version < HEADER_CHECKSUM_VERSION else checksum(raw, loaded.body_sha256)
    if expected != raw.get("sha256"):
        raise Refused("body", "sha256 does not match the header (the file was truncated or changed after export)")
    body = parse_body(loaded.body)
    if header is None:
        raw, body = _migrate(version, raw, body)
        header = _header(raw, limits, now_ms)
    records = record_set(body, header.counts, limits)
    check_records(body, records, BodyRules(limits, now_ms, Sender(header.rep, header.replica)))
    return ExportFile(path, header, records)


def _split(data: bytes) -> tuple[memoryview, memoryview]:
    """The header line and the body, without copying a large file."""
    end = data.find(b"\n")
    view = memoryview(data)
    return (view, view[len(data):]) if end < 0 else (view[:end], view[end + 1:])


# --- the file --------------------------------------------------------------------------------


def _read_bytes(path: Path, limits: Limits) -> bytes:
    if not path.name.endswith(SUFFIX):
        raise Refused("file", f"not an export file (the name must end with {SUFFIX})")
    if path.is_symlink():
        raise Refused("file", "a symbolic link; export files are read only as regular files")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise Refused("file", _open_problem(exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise Refused("file", f"{kind}, not an export file")
        _check_size(info.st_size, limits)
        with os.fdopen(fd, "rb", closefd=False) as file:
            data = file.read(limits.max_bytes + 1)
    finally:
        os.close(fd)
    _check_size(len(data), limits)  # it grew while being read
    if not data:
        raise Refused("file", "empty")
    return data


def _open_problem(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "a symbolic link; export files are read only as regular files"
    if exc.errno == errno.ENOENT:
        return "no such file"
    if exc.errno == errno.EISDIR:
        return "a folder, not an export file"
    return f"cannot be read ({exc.strerror})"


def _check_size(size: int, limits: Limits) -> None:
    if size > limits.max_bytes:
        raise Refused("file", f"{_size(size)} is over the size limit of {_size(limits.max_bytes)} (sync.max_file_mb)")


def _size(count: int) -> str:
    return f"{count / 2**20:.1f} MB" if count >= 2**20 else f"{count:,} bytes"


# --- the header --------------------------------------------------------------------------------


def _header_object(line: memoryview) -> Json:
    try:
        raw = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise Refused("header", f"not valid JSON ({exc}); truncated, or not a Dealdeck export?") from None
    if not isinstance(raw, dict):
        raise Refused("header", "not a JSON object; not a Dealdeck export?")
    refuse_duplicate_keys("header", line, raw, 0)  # the first line
    return raw


def _check_version(raw: Json) -> int:
    if raw.get("format") != FORMAT:
        raise Refused("header", f"format: {show(raw.get('format'))} is not {FORMAT!r}; not a Dealdeck export")
    version = raw.get("version")
    if type(version) is not int:
        raise Refused("header", f"version: {show(version)} is not an integer")
    if version > VERSION:
        raise Refused("header", f"written by a newer Dealdeck (format version {version}); "
                                 "upgrade Dealdeck to read this file")
    if any(step not in MIGRATIONS for step in range(version, VERSION)):
        raise Refused("header", f"format version {version} is too old for this Dealdeck to read")
    return version


def _migrate(version: int, raw: Json, body: Any) -> tuple[Json, Any]:
    export: Json = {"header": raw, "body": body}
    for step in range(version, VERSION):
        try:
            export = MIGRATIONS[step](export)
            export["header"]["version"] = step + 1
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise Refused("header", f"cannot migrate format version {step} ({show(str(exc))})") from None
    return export["header"], export["body"]


def _header(raw: Json, limits: Limits, now_ms: int) -> Header:
    try:
        header = Header.model_validate(raw)
    except ValidationError as exc:
        field, message = first_error(exc)
        raise Refused("header", f"{field}: {message}") from None
    if not REPLICA_PATTERN.match(header.replica):
        raise Refused("header", f"replica: {show(header.replica)} is not a replica id (16 lowercase hex digits)")
    for table in header.counts:
        if table not in TABLES:
            raise Refused("header", f"counts: unknown table {show(table)}")
    horizon = future_horizon(now_ms, limits)
    for replica, stamp in header.seen.items():
        problem = _seen_problem(replica, stamp, horizon, limits, header)
        if problem:
            raise Refused("header", f"seen: {problem}")
    return header


def _seen_problem(replica: str, stamp: str, horizon: str, limits: Limits, header: Header) -> str | None:
    if not REPLICA_PATTERN.match(replica):
        return f"{show(replica)} is not a replica id (16 lowercase hex digits)"
    if not is_stamp(stamp):
        return f"{replica}: {show(stamp)} is not a change stamp"
    if not stamp.endswith(replica):
        return f"{replica}: stamp {stamp} is another replica's"
    # ``seen`` holds the newest stamp of each replica in the file: a clock that ran
    # ahead is refused here, naming the teammate, before any record is read.
    return future_problem(stamp, horizon, limits, Sender(header.rep, header.replica))


# --- the body --------------------------------------------------------------------------------
