"""Read a teammate's export file as untrusted input, refusing it whole on any problem.

``read_export`` returns the header and the record set of a file only when every
check passes; otherwise it raises :class:`SyncError` with one line
``<file name>: <where>: <problem>``, where ``<where>`` is ``file``, ``header``,
``body`` or ``<table> record <id>``. Nothing is read from the file's content that
decides where anything is read from or written to: paths come from the caller.

The checks, in order: a regular file (never a link) named ``*.dealdeck.json``;
its size against the limit before it is read; the header line (a JSON object,
format, version: newer is refused, older is migrated through ``MIGRATIONS``,
strictly typed fields, replica id, ``seen``); the sha256 of the body bytes; the
body (JSON, known tables only, counts as in the header, no id in two tables);
then every record: id shape, stamps (shape, not too far in the future), sizes
of strings and lists, no control characters or ANSI escapes, its fields through
the strict pydantic model, and an id on every grow-only list entry.

Markup-like text (``[bold]x``) is not refused: Dealdeck shows data as plain text.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from store.hlc import REPLICA_PATTERN, is_stamp, wall_clock_ms
from store.models import BY_TABLE, ID_PATTERN, Record, clean_text
from store.records import BASE, DELETED, STAMPS
from store.storage import collector_paused
from sync.errors import SyncError
from sync.format import FORMAT, SUFFIX, TABLES, VERSION, RecordSet

Json = dict[str, Any]
#: ``MIGRATIONS[v]`` turns a version-``v`` export ``{"header": ..., "body": ...}`` into a
#: version ``v + 1`` one (``read_export`` then sets the header's version); empty while
#: there is only one format version.
MIGRATIONS: dict[int, Callable[[Json], Json]] = {}

_ID = re.compile(ID_PATTERN)
_STAMP_KEY = re.compile(r"^(\*|[a-z][a-z0-9_]{0,63})$")
_ANSI = re.compile(r"\x1b[@-_]|\x9b")  # ESC + CSI/OSC/... introducer, or the 8-bit CSI
_CONTROL_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: in a record's JSON text: an escaped control character, DEL, or a C1 control (U+0080-U+009F)
_SUSPECT = re.compile(rb"\\(?:u00|[bfnrt])|\x7f|\xc2[\x80-\x9f]")
_MAX_DEPTH = 12
#: digests of (table, record fields as JSON) that passed their model. The same record
#: arrives in every teammate's file (an export carries what its replica merged), so a
#: merge of many files runs each distinct record through pydantic once. Bounded: ~100 B each.
_PASSED: set[bytes] = set()
_PASSED_MAX = 1_000_000  # records nest 5 levels deep (opportunity > quotes > quote > lines > line)


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 200 * 2**20
    max_string: int = 20_000
    max_list: int = 5_000
    max_records: int = 5_000_000
    max_future_skew_ms: int = 24 * 3600 * 1000


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
    try:
        with collector_paused():
            return _read(path, limits, wall_clock_ms() if now_ms is None else now_ms)
    except _Refused as refused:
        raise SyncError(f"{_show_name(path.name)}: {refused}") from None


def _read(path: Path, limits: Limits, now_ms: int) -> ExportFile:
    line, body_bytes = _split(_read_bytes(path, limits))
    raw = _header_object(line)
    version = _check_version(raw)
    header = _header(raw, limits, now_ms) if version == VERSION else None
    if hashlib.sha256(body_bytes).hexdigest() != raw.get("sha256"):
        raise _Refused("body", "sha256 does not match the header (the file was truncated or changed after export)")
    body = _parse_body(body_bytes)
    if header is None:
        raw, body = _migrate(version, raw, body)
        header = _header(raw, limits, now_ms)
    records = _record_set(body, header, limits)
    _check_records(records, limits, now_ms)
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
        problem = _seen_problem(replica, stamp, horizon, limits)
        if problem:
            raise _Refused("header", f"seen: {problem}")
    return header


def _seen_problem(replica: str, stamp: str, horizon: str, limits: Limits) -> str | None:
    if not REPLICA_PATTERN.match(replica):
        return f"{_show(replica)} is not a replica id (16 lowercase hex digits)"
    if not is_stamp(stamp):
        return f"{replica}: {_show(stamp)} is not a change stamp"
    if not stamp.endswith(replica):
        return f"{replica}: stamp {stamp} is another replica's"
    return _future_problem(stamp, horizon, limits)


# --- the body --------------------------------------------------------------------------------


def _parse_body(body: memoryview) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise _Refused("body", f"not valid JSON ({exc})") from None


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
    table_of: dict[str, str] = {}
    for table, docs in records.items():
        for record_id in docs:
            other = table_of.setdefault(record_id, table)
            if other != table:
                raise _Refused(f"{table} record {_show_id(record_id)}", f"the same id is also in {other}")


# --- records --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rules:
    limits: Limits
    horizon: str
    multiline: frozenset[str] = frozenset()


def _check_records(records: RecordSet, limits: Limits, now_ms: int) -> None:
    horizon = _horizon(now_ms, limits)
    for table, docs in records.items():
        cls = BY_TABLE[table]
        rules = _Rules(limits, horizon, _multiline(cls))
        for key, doc in docs.items():
            problem = _record_problem(cls, key, doc, rules)
            if problem:
                raise _Refused(f"{table} record {_show_id(key)}", problem)


def _record_problem(cls: type[Record], key: str, doc: Any, rules: _Rules) -> str | None:
    if not _ID.match(key):
        return "not a record id (32 lowercase hex digits)"
    if not isinstance(doc, dict):
        return "not a JSON object"
    if doc.get("id") != key:
        return f"id: {_show(doc.get('id'))} differs from the id it is filed under"
    problem = _stamps_problem(doc, rules)
    if problem:
        return problem
    fields = dict(doc)  # as store.records.fields_of, faster
    del fields[STAMPS]
    fields.pop(DELETED, None)
    encoded = _encoded(fields)
    if encoded is None or not _looks_clean(encoded, rules.limits):
        problem = _values_problem(fields, rules.multiline, rules.limits)
        if problem:
            return problem
    if encoded is None:
        return "record: cannot be encoded as JSON"
    return _model_problem(cls, encoded) or _entries_problem(cls, doc)


def _encoded(fields: Json) -> bytes | None:
    try:
        return orjson.dumps(fields)
    except orjson.JSONEncodeError:  # nested too deep
        return None


def _looks_clean(encoded: bytes, limits: Limits) -> bool:
    """True when no string or list in the record can break a limit and no string holds
    a control character (orjson writes those escaped, and U+007F-U+009F as raw UTF-8):
    the walk over every value is skipped for such records, which are nearly all of them.
    A string of more than ``max_string`` characters, or a list of more than ``max_list``
    items, takes more bytes than that."""
    if len(encoded) > min(limits.max_string, 2 * limits.max_list):
        return False
    if b"\\" in encoded or b"\x7f" in encoded or b"\xc2" in encoded:  # a quick look first
        return _SUSPECT.search(encoded) is None
    return True


def _stamps_problem(doc: Json, rules: _Rules) -> str | None:
    stamps = doc.get(STAMPS)
    if not isinstance(stamps, dict):
        return f"{STAMPS}: missing, or not an object of change stamps"
    if BASE not in stamps:
        return f'{STAMPS}: no "{BASE}" stamp (the stamp of the write that created the record)'
    for field, stamp in stamps.items():
        if not _STAMP_KEY.match(field):
            return f"{STAMPS}: {_show(field)} is not a field name"
        problem = _stamp_problem(stamp, rules)
        if problem:
            return f"{STAMPS}.{field}: {problem}"
    if DELETED in doc:
        problem = _stamp_problem(doc[DELETED], rules)
        if problem:
            return f"{DELETED}: {problem}"
    return None


def _stamp_problem(stamp: Any, rules: _Rules) -> str | None:
    if not is_stamp(stamp):
        return f"{_show(stamp)} is not a change stamp"
    return _future_problem(stamp, rules.horizon, rules.limits)


def _horizon(now_ms: int, limits: Limits) -> str:
    """The wall-time part of the newest acceptable stamp (stamps compare as strings)."""
    return f"{min(now_ms + limits.max_future_skew_ms, 10**16 - 1):016d}"


def _future_problem(stamp: str, horizon: str, limits: Limits) -> str | None:
    if stamp[:16] <= horizon:
        return None
    hours = limits.max_future_skew_ms / 3_600_000
    return (f"stamp {stamp} is in the future (year {_year(int(stamp[:16]))}), "
            f"more than {hours:g} h ahead of this computer's clock")


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
    (``"50"`` for a number) is refused, since the document is merged as it is. (Strict
    validation of the JSON text costs about as much as lax validation of the dict.)"""
    key = hashlib.blake2b(encoded, digest_size=20, person=cls.table.encode()).digest()
    if key in _PASSED:
        return None
    try:
        cls.model_validate_json(encoded, strict=True)
    except ValidationError as exc:
        field, message = _first_error(exc)
        return f"{field}: {message}"
    if len(_PASSED) >= _PASSED_MAX:
        _PASSED.clear()
    _PASSED.add(key)
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
