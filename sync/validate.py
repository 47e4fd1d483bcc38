"""Read a teammate's export file as untrusted input, refusing it whole on any problem.

``read_export`` returns the header and the record set of a file only when every
check passes; otherwise it raises :class:`SyncError` with one line
``<file name>: <where>: <problem>``, where ``<where>`` is ``file``, ``header``,
``body`` or ``<table> record <id>``. Nothing is read from the file's content that
decides where anything is read from or written to: paths come from the caller.

The checks, in order: a regular file (never a link) named ``*.dealdeck.json``;
its size against the limit before it is read; the header line (a JSON object,
format, version: newer is refused, older is migrated through ``MIGRATIONS``,
strictly typed fields, replica id, ``seen``); the sha256 of the body bytes and the
header's other fields (of the body only in a version-1 file); the
body (JSON, no key twice in an object, known tables only, counts as in the header, no id
in two tables);
then every record at once against its model's constraints, compiled into one
Rust-side check (``sync.wire``: every field a stored record always holds present, id
and stamp shapes, types, sizes of strings and lists, no control characters or ANSI
escapes), and in Python what that cannot
say (the id a record is filed under, stamps not too far in the future, ids
unique in grow-only lists). The models' cross-field rules are not checked: a merge
of two valid versions field by field can break one, so a teammate's export may
hold such a record; the merge report lists it for a person to fix. A refused record is
then checked step by step, ending with its pydantic model, for the message.

Markup-like text (``[bold]x``) is not refused: Dealdeck shows data as plain text.
"""

from __future__ import annotations

import errno
import gc
import hashlib
import os
import re
import stat
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from store.hlc import DEFAULT_DRIFT_MS, REPAIR_COMMAND, REPLICA_PATTERN, describe_ahead, is_stamp, wall_clock_ms
from store.models import BY_TABLE, ID_PATTERN, Record, clean_text
from store.records import BASE, DELETED, STAMPS, missing_field
from store.storage import collector_paused
from sync.duplicate_keys import first_duplicate, same_bytes
from sync.errors import SyncError
from sync.format import FORMAT, SUFFIX, TABLES, VERSION, RecordSet, checksum
from sync.wire import body_validator

Json = dict[str, Any]
#: ``MIGRATIONS[v]`` turns a version-``v`` export ``{"header": ..., "body": ...}`` into a
#: version ``v + 1`` one (``read_export`` then sets the header's version). Version 2 only
#: changed what ``sha256`` covers (the header too), checked before any migration.
MIGRATIONS: dict[int, Callable[[Json], Json]] = {1: lambda export: export}
#: the first version whose ``sha256`` covers the header (``sync.format.checksum``)
HEADER_CHECKSUM_VERSION = 2

_ID = re.compile(ID_PATTERN)
_STAMP_KEY = re.compile(r"^(\*|[a-z][a-z0-9_]{0,63})$")
_ANSI = re.compile(r"\x1b[@-_]|\x9b")  # ESC + CSI/OSC/... introducer, or the 8-bit CSI
_CONTROL_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_MAX_DEPTH = 12


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 200 * 2**20
    max_string: int = 20_000
    max_list: int = 5_000
    max_records: int = 5_000_000
    #: how far ahead of this computer's clock a change stamp may be (sync.max_clock_drift_minutes)
    max_future_skew_ms: int = DEFAULT_DRIFT_MS


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


class _Refused(Exception):
    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")


def read_export(path: Path, *, limits: Limits = Limits(), now_ms: int | None = None) -> ExportFile:
    """The validated content of the export file at ``path``, or :class:`SyncError`."""
    return _checked(path, lambda: _load(path, limits), limits, wall_clock_ms() if now_ms is None else now_ms)


def read_exports(paths: Sequence[Path], *, limits: Limits = Limits(), now_ms: int | None = None,
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
    except _Refused as refused:
        raise SyncError(f"{_show_name(path.name)}: {refused}") from None


def _read(path: Path, loaded: _Loaded, limits: Limits, now_ms: int) -> ExportFile:
    raw = _header_object(loaded.header_line)
    version = _check_version(raw)
    header = _header(raw, limits, now_ms) if version == VERSION else None
    expected = loaded.body_sha256 if version < HEADER_CHECKSUM_VERSION else checksum(raw, loaded.body_sha256)
    if expected != raw.get("sha256"):
        raise _Refused("body", "sha256 does not match the header (the file was truncated or changed after export)")
    body = _parse_body(loaded.body)
    if header is None:
        raw, body = _migrate(version, raw, body)
        header = _header(raw, limits, now_ms)
    records = _record_set(body, header, limits)
    _check_records(body, records, limits, now_ms)
    return ExportFile(path, header, records)


def _split(data: bytes) -> tuple[memoryview, memoryview]:
    """The header line and the body, without copying a large file."""
    end = data.find(b"\n")
    view = memoryview(data)
    return (view, view[len(data):]) if end < 0 else (view[:end], view[end + 1:])


# --- the file --------------------------------------------------------------------------------


def _read_bytes(path: Path, limits: Limits) -> bytes:
    if not path.name.endswith(SUFFIX):
        raise _Refused("file", f"not an export file (the name must end with {SUFFIX})")
    if path.is_symlink():
        raise _Refused("file", "a symbolic link; export files are read only as regular files")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise _Refused("file", _open_problem(exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise _Refused("file", f"{kind}, not an export file")
        _check_size(info.st_size, limits)
        with os.fdopen(fd, "rb", closefd=False) as file:
            data = file.read(limits.max_bytes + 1)
    finally:
        os.close(fd)
    _check_size(len(data), limits)  # it grew while being read
    if not data:
        raise _Refused("file", "empty")
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
        raise _Refused("file", f"{_size(size)} is over the size limit of {_size(limits.max_bytes)} (sync.max_file_mb)")


def _size(count: int) -> str:
    return f"{count / 2**20:.1f} MB" if count >= 2**20 else f"{count:,} bytes"


# --- the header --------------------------------------------------------------------------------


def _header_object(line: memoryview) -> Json:
    try:
        raw = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise _Refused("header", f"not valid JSON ({exc}); truncated, or not a Dealdeck export?") from None
    if not isinstance(raw, dict):
        raise _Refused("header", "not a JSON object; not a Dealdeck export?")
    _refuse_duplicate_keys("header", line, raw, 0)  # the first line
    return raw


def _check_version(raw: Json) -> int:
    if raw.get("format") != FORMAT:
        raise _Refused("header", f"format: {_show(raw.get('format'))} is not {FORMAT!r}; not a Dealdeck export")
    version = raw.get("version")
    if type(version) is not int:
        raise _Refused("header", f"version: {_show(version)} is not an integer")
    if version > VERSION:
        raise _Refused("header", f"written by a newer Dealdeck (format version {version}); "
                                 "upgrade Dealdeck to read this file")
    if any(step not in MIGRATIONS for step in range(version, VERSION)):
        raise _Refused("header", f"format version {version} is too old for this Dealdeck to read")
    return version


def _migrate(version: int, raw: Json, body: Any) -> tuple[Json, Any]:
    export: Json = {"header": raw, "body": body}
    for step in range(version, VERSION):
        try:
            export = MIGRATIONS[step](export)
            export["header"]["version"] = step + 1
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise _Refused("header", f"cannot migrate format version {step} ({_show(str(exc))})") from None
    return export["header"], export["body"]


def _header(raw: Json, limits: Limits, now_ms: int) -> Header:
    try:
        header = Header.model_validate(raw)
    except ValidationError as exc:
        field, message = _first_error(exc)
        raise _Refused("header", f"{field}: {message}") from None
    if not REPLICA_PATTERN.match(header.replica):
        raise _Refused("header", f"replica: {_show(header.replica)} is not a replica id (16 lowercase hex digits)")
    for table in header.counts:
        if table not in TABLES:
            raise _Refused("header", f"counts: unknown table {_show(table)}")
    horizon = _horizon(now_ms, limits)
    for replica, stamp in header.seen.items():
        problem = _seen_problem(replica, stamp, horizon, limits, header)
        if problem:
            raise _Refused("header", f"seen: {problem}")
    return header


def _seen_problem(replica: str, stamp: str, horizon: str, limits: Limits, header: Header) -> str | None:
    if not REPLICA_PATTERN.match(replica):
        return f"{_show(replica)} is not a replica id (16 lowercase hex digits)"
    if not is_stamp(stamp):
        return f"{replica}: {_show(stamp)} is not a change stamp"
    if not stamp.endswith(replica):
        return f"{replica}: stamp {stamp} is another replica's"
    # ``seen`` holds the newest stamp of each replica in the file: a clock that ran
    # ahead is refused here, naming the teammate, before any record is read.
    return _future_problem(stamp, horizon, limits, header)


# --- the body --------------------------------------------------------------------------------


def _parse_body(body: memoryview) -> Any:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise _Refused("body", f"not valid JSON ({exc})") from None
    _refuse_duplicate_keys("body", body, parsed, len(body.obj) - len(body))  # the rest of the file
    return parsed


# --- duplicate keys ----------------------------------------------------------------------------


def _refuse_duplicate_keys(where: str, data: memoryview, parsed: Any, start: int) -> None:
    """An object with the same key twice: orjson keeps the last value, another JSON reader
    (a teammate's editor, a diff) may show the first, so what is merged is not what was
    looked at. Dealdeck writes with orjson, so its files read back to the very same bytes:
    one ``orjson.dumps`` tells (35-60 ms for a 14 MB file of 26k records: 5-7% of its check
    on a loaded 2-core machine; counting ``":`` in the bytes costs as much and misses more).
    Only a file that does not (hand-edited, or tampered) is parsed again, slowly, to find
    the key and the record that holds it."""
    try:
        if same_bytes(orjson.dumps(parsed), data, start):
            return
    except orjson.JSONEncodeError:  # nested too deep to write back: look closer
        pass
    found = first_duplicate(data)
    if found is None:  # the same content, written another way
        return
    path, key = found
    if where == "body" and len(path) == 2 and path[0] == "tables":  # a record id twice in a table
        raise _Refused(f"{_show_key(path[1])} record {_show_id(key)}", "appears twice in the file "
                       "(another JSON reader may keep the other copy; Dealdeck never writes that)")
    if where == "body" and len(path) >= 3 and path[0] == "tables":
        where, path = f"{_show_key(path[1])} record {_show_id(path[2])}", path[3:]
    inside = ".".join(_show_key(part) for part in path)
    raise _Refused(where, f"{inside + ': ' if inside else ''}the key {_show(key)} appears twice in one object "
                          "(another JSON reader may keep the other value; Dealdeck never writes that)")


def _record_set(body: Any, header: Header, limits: Limits) -> RecordSet:
    if not isinstance(body, dict) or list(body) != ["tables"] or not isinstance(body["tables"], dict):
        raise _Refused("body", 'not {"tables": {table: {id: record}}}')
    tables: Json = body["tables"]
    for table, docs in tables.items():
        if table not in TABLES:
            raise _Refused("body", f"unknown table {_show(table)}")
        if not isinstance(docs, dict):
            raise _Refused("body", f"{table}: not an object of records by id")
    records: RecordSet = {table: tables.get(table, {}) for table in TABLES}
    _check_counts(records, header.counts, limits)
    _check_one_table_per_id(records)
    return records


def _check_counts(records: RecordSet, counts: Mapping[str, int], limits: Limits) -> None:
    total = 0
    for table, docs in records.items():
        expected, actual = counts.get(table, 0), len(docs)
        if expected != actual:
            hint = " (duplicate ids?)" if actual < expected else ""
            raise _Refused("body", f"header counts {expected} {table} but the body has {actual}{hint}")
        total += actual
    if total > limits.max_records:
        raise _Refused("body", f"{total:,} records is over the limit of {limits.max_records:,}")


def _check_one_table_per_id(records: RecordSet) -> None:
    filed: set[str] = set()
    for table, docs in records.items():
        if not filed.isdisjoint(docs):
            record_id = next(key for key in docs if key in filed)
            other = next(other for other, others in records.items() if other != table and record_id in others)
            raise _Refused(f"{table} record {_show_id(record_id)}", f"the same id is also in {other}")
        filed.update(docs)


# --- records --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Checks:
    limits: Limits
    horizon: str
    multiline: frozenset[str] = frozenset()


def _check_records(body: Json, records: RecordSet, limits: Limits, now_ms: int) -> None:
    """Every record: first the whole body at once against the models' constraints
    (``sync.wire``), then what they cannot say, record by record. A record refused
    there is checked again through ``_record_problem``, which names its problem."""
    horizon = _horizon(now_ms, limits)
    try:
        body_validator(limits.max_string, limits.max_list).validate_python(body)
    except ValidationError as exc:
        _refuse_record(records, exc, limits, horizon)
    newest = horizon + ":~"  # after every stamp of that wall time: stamps compare as text
    for table, docs in records.items():
        cls = BY_TABLE[table]
        for key in _suspects(cls, docs, newest):
            _refuse(cls, key, docs[key], _Checks(limits, horizon, _multiline(cls)))


def _suspects(cls: type[Record], docs: dict[str, Json], newest: str) -> Iterator[str]:
    """Ids of records that break what the body check cannot see (the body check has
    passed: every id and stamp is there and of its shape). A loop per check, as few
    Python steps per record as can be: this runs for every record of every file."""
    for key, doc in docs.items():
        stamps = doc[STAMPS]
        if doc["id"] != key or BASE not in stamps or max(stamps.values()) > newest:
            yield key
        if DELETED in doc and doc[DELETED] > newest:
            yield key
    for field in cls.grow_only:
        # entry ids are random: all of a table's unique means each list's are; else look closer
        ids = [entry["id"] for doc in docs.values() for entry in doc.get(field, ())]
        if len(set(ids)) < len(ids):
            for key, doc in docs.items():
                entries = doc.get(field, ())
                if len({entry["id"] for entry in entries}) < len(entries):
                    yield key


def _refuse_record(records: RecordSet, exc: ValidationError, limits: Limits, horizon: str) -> NoReturn:
    error = exc.errors(include_url=False)[0]
    table, key = (*error["loc"][1:3], "", "")[:2]
    cls = BY_TABLE.get(str(table))
    if cls is None or key not in records[cls.table]:  # not at a record: cannot happen after _record_set
        raise _Refused("body", f"{'.'.join(map(str, error['loc']))}: {error['msg']}")
    path = ".".join(_show_key(str(part)) for part in error["loc"][3:]) or "record"
    _refuse(cls, str(key), records[cls.table][key], _Checks(limits, horizon, _multiline(cls)),
            fallback=f"{path}: {error['msg']}")


def _refuse(cls: type[Record], key: str, doc: Any, checks: _Checks, fallback: str = "refused") -> NoReturn:
    raise _Refused(f"{cls.table} record {_show_id(key)}", _record_problem(cls, key, doc, checks) or fallback)


def _record_problem(cls: type[Record], key: str, doc: Any, checks: _Checks) -> str | None:
    """What is wrong with one record, in words: the checks of the body check and of
    ``_check_records``, one at a time, ending with the record's model."""
    if not _ID.match(key):
        return "not a record id (32 lowercase hex digits)"
    if not isinstance(doc, dict):
        return "not a JSON object"
    if doc.get("id") != key:
        return f"id: {_show(doc.get('id'))} differs from the id it is filed under"
    problem = _stamps_problem(doc, checks)
    if problem:
        return problem
    fields = {name: value for name, value in doc.items() if name not in (STAMPS, DELETED)}
    problem = _values_problem(fields, checks.multiline, checks.limits)
    if problem:
        return problem
    try:
        encoded = orjson.dumps(fields)
    except orjson.JSONEncodeError:  # nested too deep
        return "record: cannot be encoded as JSON"
    return _model_problem(cls, encoded) or _entries_problem(cls, doc) or _missing_problem(cls, doc)


def _missing_problem(cls: type[Record], doc: Json) -> str | None:
    """A field the model would fill in with a default (``created_at``, an entry's ``at``),
    which a stored document always holds and the app reads without one."""
    missing = missing_field(cls, doc)
    if missing:
        return f"{missing}: missing (every record Dealdeck writes has it, and the app reads it)"
    return None


def _stamps_problem(doc: Json, checks: _Checks) -> str | None:
    stamps = doc.get(STAMPS)
    if not isinstance(stamps, dict):
        return f"{STAMPS}: missing, or not an object of change stamps"
    if BASE not in stamps:
        return f'{STAMPS}: no "{BASE}" stamp (the stamp of the write that created the record)'
    for field, stamp in stamps.items():
        if not _STAMP_KEY.match(field):
            return f"{STAMPS}: {_show(field)} is not a field name"
        problem = _stamp_problem(stamp, checks)
        if problem:
            return f"{STAMPS}.{field}: {problem}"
    if DELETED in doc:
        problem = _stamp_problem(doc[DELETED], checks)
        if problem:
            return f"{DELETED}: {problem}"
    return None


def _stamp_problem(stamp: Any, checks: _Checks) -> str | None:
    if not is_stamp(stamp):
        return f"{_show(stamp)} is not a change stamp"
    return _future_problem(stamp, checks.horizon, checks.limits)


def _horizon(now_ms: int, limits: Limits) -> str:
    """The wall-time part of the newest acceptable stamp (stamps compare as strings)."""
    return f"{min(now_ms + limits.max_future_skew_ms, 10**16 - 1):016d}"


def _future_problem(stamp: str, horizon: str, limits: Limits, sender: Header | None = None) -> str | None:
    """A stamp beyond the drift, in words: whose clock, how far ahead, and the way out.
    ``sender``: the header of the file, to name the teammate who sent it."""
    if stamp[:16] <= horizon:
        return None
    ahead = int(stamp[:16]) - (int(horizon) - limits.max_future_skew_ms)
    return (f"stamp {stamp} is in the future (year {_year(int(stamp[:16]))}): {_whose(stamp[-16:], sender)} "
            f"is {describe_ahead(ahead)} ahead of this computer's clock, over the "
            f"{describe_ahead(limits.max_future_skew_ms)} allowed (sync.max_clock_drift_minutes); "
            f"if that clock is wrong, fix it and run `{REPAIR_COMMAND}` there, else fix this computer's clock")


def _whose(replica: str, sender: Header | None) -> str:
    if sender is None:
        return f"replica {replica}"
    if sender.replica == replica:
        return f"{sender.rep} (replica {replica})"
    return f"replica {replica} (in the export of {sender.rep}, replica {sender.replica})"


def _year(wall_ms: int) -> str:
    try:
        return str(datetime.fromtimestamp(wall_ms / 1000, UTC).year)
    except (OverflowError, ValueError, OSError):
        return "after 9999"


def _multiline(cls: type[Record]) -> frozenset[str]:
    """Fields that keep newlines and tabs (``Text``: notes, body, description ...)."""
    return frozenset(name for name, info in cls.model_fields.items()
                     if any(getattr(meta, "func", None) is clean_text for meta in info.metadata))


def _values_problem(fields: Json, multiline: frozenset[str], limits: Limits) -> str | None:
    for field, value in fields.items():
        problem = _key_problem(field, limits) or _value_problem(value, field in multiline, limits, 1)
        if problem:
            return f"{_show_key(field)}{problem}"
    return None


def _value_problem(value: Any, multiline: bool, limits: Limits, depth: int) -> str | None:
    """Size and character problems in a JSON value, as ``<path>: <problem>``, or None."""
    if isinstance(value, str):
        return _string_problem(value, multiline, limits)
    if isinstance(value, list):
        return _list_problem(value, limits, depth)
    if isinstance(value, dict):
        return _object_problem(value, limits, depth)
    return None


def _string_problem(value: str, multiline: bool, limits: Limits) -> str | None:
    if len(value) > limits.max_string:
        return f": a string of {len(value):,} characters is over the limit of {limits.max_string:,}"
    if value.isprintable():  # fast path: most strings
        return None
    found = (_CONTROL_TEXT if multiline else _CONTROL_LINE).search(value)
    if found is None:
        return None
    if _ANSI.search(value):
        return ": contains an ANSI escape sequence (Dealdeck never stores them: a tampered or foreign file)"
    return (f": contains the control character U+{ord(found.group()):04X} "
            "(Dealdeck never stores them: a tampered or foreign file)")


def _list_problem(value: list[Any], limits: Limits, depth: int) -> str | None:
    if len(value) > limits.max_list:
        return f": a list of {len(value):,} items is over the limit of {limits.max_list:,}"
    if depth >= _MAX_DEPTH:
        return f": nested more than {_MAX_DEPTH} levels deep"
    for index, item in enumerate(value):
        problem = _value_problem(item, False, limits, depth + 1)
        if problem:
            return f"[{index}]{problem}"
    return None


def _object_problem(value: Json, limits: Limits, depth: int) -> str | None:
    if len(value) > limits.max_list:
        return f": an object of {len(value):,} keys is over the limit of {limits.max_list:,}"
    if depth >= _MAX_DEPTH:
        return f": nested more than {_MAX_DEPTH} levels deep"
    for key, item in value.items():
        problem = _key_problem(key, limits) or _value_problem(item, False, limits, depth + 1)
        if problem:
            return f".{_show_key(key)}{problem}"
    return None


def _key_problem(key: str, limits: Limits) -> str | None:
    if len(key) > limits.max_string or not key.isprintable():
        return ": not a field name"
    return None


def _model_problem(cls: type[Record], encoded: bytes) -> str | None:
    """The fields through the record's model, strictly: a JSON value of the wrong type
    (``"50"`` for a number) is refused, since the document is merged as it is. A rule
    across fields (``Record.rules``) is not a file's problem: merging two valid versions
    field by field can break one, on the teammate's side as on ours; the merge report
    lists such records for a person to fix."""
    try:
        cls.model_validate_json(encoded, strict=True)
    except ValidationError as exc:
        if not exc.errors(include_url=False)[0]["loc"]:  # the record as a whole
            return None
        field, message = _first_error(exc)
        return f"{field}: {message}"
    return None


def _entries_problem(cls: type[Record], doc: Json) -> str | None:
    """Grow-only list entries merge as sets by id: each needs its own."""
    for field in sorted(cls.grow_only):
        ids: set[str] = set()
        for index, entry in enumerate(doc.get(field) or ()):
            entry_id = entry.get("id")
            if entry_id is None:
                return f"{field}[{index}]: an entry without an id"
            if entry_id in ids:
                return f"{field}[{index}]: entry id {entry_id} appears twice"
            ids.add(entry_id)
    return None


# --- messages --------------------------------------------------------------------------------


def _first_error(error: ValidationError) -> tuple[str, str]:
    """The first problem as (dotted field path, message); model-level checks name
    their field as a ``field: message`` prefix."""
    item = error.errors(include_url=False)[0]
    message = item["msg"].removeprefix("Value error, ")
    field = ".".join(_show_key(str(part)) for part in item["loc"])
    if not field and ": " in message:
        field, message = message.split(": ", 1)
    return field or "record", message


def _show(value: Any) -> str:
    """An untrusted value for a message: quoted, escaped, cut short."""
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:40] + "...")
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    return f"a {type(value).__name__}"


def _show_id(key: str) -> str:
    return key if _ID.match(key) else _show(key)


def _show_key(key: str) -> str:
    return key if key.isprintable() and len(key) <= 40 else _show(key)


def _show_name(name: str) -> str:
    return name if name.isprintable() else repr(name)
