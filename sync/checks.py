"""The checks of a teammate's records, whatever file brought them: an export of the
whole state (``sync.validate``), or a segment of one replica's own changes or a
snapshot of a merged state (``sync.segment_files``).

A body is ``{"tables": {table: {record id: stored document}}}``. It is parsed (no key
twice in an object), checked against the counts its header gives (known tables only,
no id in two tables), then every record at once against its model's constraints,
compiled into one Rust-side check (``sync.wire``: id and stamp shapes, types, sizes of
strings and lists, no control characters or ANSI escapes), and in Python what that
cannot say: the id a record is filed under, stamps not too far in the future, ids
unique in grow-only lists, and for a segment that every stamp is its writer's. A
refused record is then checked step by step, ending with its pydantic model, for a
message a person can act on. Every problem raises :class:`Refused` with where it is
(``body``, ``<table> record <id>``) and what it is, in one line.

A segment's documents may be **partial**: the fields one replica stamped, under their
own stamps and without the ``"*"`` stamp of the write that created the record (the
creation is another replica's). Such a document holds only fields it stamps; one with
``"*"`` is whole, as in an export.

Markup-like text (``[bold]x``) is not refused: Dealdeck shows data as plain text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, NoReturn

import orjson
from pydantic import ValidationError

from store.custom_fields import CUSTOM_TABLES, FIELD_NAME
from store.hlc import DEFAULT_DRIFT_MS, REPAIR_COMMAND, describe_ahead, is_stamp
from store.models import BY_TABLE, ID_PATTERN, Record, TeamSetting, clean_text
from store.records import BASE, DELETED, STAMPS, missing_field, required_keys
from store.team_settings import setting_id
from sync.duplicate_keys import first_duplicate, same_bytes
from sync.format import TABLES, RecordSet
from sync.wire import body_validator

Json = dict[str, Any]

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


@dataclass(frozen=True)
class Sender:
    """Who wrote a file, to name them in a message."""

    rep: str
    replica: str


class Refused(Exception):
    """One problem of a file: ``where`` it is and what."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")


class NotArrived(Refused):
    """A file its manifest names is not there yet: a sync tool (Syncthing) often brings a
    manifest before the segment it lists. Not a fault: it is merged at a later sync."""

    def __init__(self) -> None:
        super().__init__("file", "not there (not arrived yet?)")


@dataclass(frozen=True)
class BodyRules:
    """What a body must be, beyond the records' models."""

    limits: Limits
    now_ms: int
    #: the file's writer, to name them in a message
    writer: Sender | None = None
    #: a segment: every stamp is the writer's and lies within [first, last] (its header's);
    #: its documents may be partial
    own_stamps: bool = False
    first: str = ""
    last: str = ""


def check_body(body: memoryview, counts: Mapping[str, int], rules: BodyRules) -> RecordSet:
    """The records of a body, checked (see the module docstring), or :class:`Refused`."""
    parsed = parse_body(body)
    records = record_set(parsed, counts, rules.limits)
    check_records(parsed, records, rules)
    return records


def parse_body(body: memoryview) -> Any:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Refused("body", f"not valid JSON ({exc})") from None
    refuse_duplicate_keys("body", body, parsed, len(body.obj) - len(body))  # the rest of the file
    return parsed


# --- duplicate keys ----------------------------------------------------------------------------


def refuse_duplicate_keys(where: str, data: memoryview, parsed: Any, start: int) -> None:
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
        raise Refused(f"{show_key(path[1])} record {show_id(key)}", "appears twice in the file "
                      "(another JSON reader may keep the other copy; Dealdeck never writes that)")
    if where == "body" and len(path) >= 3 and path[0] == "tables":
        where, path = f"{show_key(path[1])} record {show_id(path[2])}", path[3:]
    inside = ".".join(show_key(part) for part in path)
    raise Refused(where, f"{inside + ': ' if inside else ''}the key {show(key)} appears twice in one object "
                         "(another JSON reader may keep the other value; Dealdeck never writes that)")


# --- the body --------------------------------------------------------------------------------


def record_set(body: Any, counts: Mapping[str, int], limits: Limits) -> RecordSet:
    if not isinstance(body, dict) or list(body) != ["tables"] or not isinstance(body["tables"], dict):
        raise Refused("body", 'not {"tables": {table: {id: record}}}')
    tables: Json = body["tables"]
    for table, docs in tables.items():
        if table not in TABLES:
            raise Refused("body", f"unknown table {show(table)}")
        if not isinstance(docs, dict):
            raise Refused("body", f"{table}: not an object of records by id")
    records: RecordSet = {table: tables.get(table, {}) for table in TABLES}
    _check_counts(records, counts, limits)
    _check_one_table_per_id(records)
    return records


def _check_counts(records: RecordSet, counts: Mapping[str, int], limits: Limits) -> None:
    total = 0
    for table, docs in records.items():
        expected, actual = counts.get(table, 0), len(docs)
        if expected != actual:
            hint = " (duplicate ids?)" if actual < expected else ""
            raise Refused("body", f"header counts {expected} {table} but the body has {actual}{hint}")
        total += actual
    if total > limits.max_records:
        raise Refused("body", f"{total:,} records is over the limit of {limits.max_records:,}")


def _check_one_table_per_id(records: RecordSet) -> None:
    filed: set[str] = set()
    for table, docs in records.items():
        if not filed.isdisjoint(docs):
            record_id = next(key for key in docs if key in filed)
            other = next(other for other, others in records.items() if other != table and record_id in others)
            raise Refused(f"{table} record {show_id(record_id)}", f"the same id is also in {other}")
        filed.update(docs)


# --- records --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Checks:
    rules: BodyRules
    horizon: str
    multiline: frozenset[str] = frozenset()

    @property
    def limits(self) -> Limits:
        return self.rules.limits


def check_records(body: Json, records: RecordSet, rules: BodyRules) -> None:
    """Every record: first the whole body at once against the models' constraints
    (``sync.wire``), then what they cannot say, record by record. A record refused
    there is checked again through ``_record_problem``, which names its problem."""
    limits = rules.limits
    horizon = future_horizon(rules.now_ms, limits)
    try:
        body_validator(limits.max_string, limits.max_list, partial=rules.own_stamps).validate_python(body)
    except ValidationError as exc:
        _refuse_record(records, exc, rules, horizon)
    newest = horizon + ":~"  # after every stamp of that wall time: stamps compare as text
    for table, docs in records.items():
        cls = BY_TABLE[table]
        suspects = _own_suspects(cls, docs, rules, newest) if rules.own_stamps else _suspects(cls, docs, newest)
        for key in suspects:
            _refuse(cls, key, docs[key], _Checks(rules, horizon, _multiline(cls)))
        for key in _grow_only_suspects(cls, docs):
            _refuse(cls, key, docs[key], _Checks(rules, horizon, _multiline(cls)))
    for table in CUSTOM_TABLES:
        for key, name in _unknown_fields(BY_TABLE[table], records.get(table, {})):
            raise Refused(f"{table} record {show_id(key)}", f"{show_key(name)}: not a field of "
                                                             f"{_with_article(BY_TABLE[table].noun)}")
    for key, doc in records.get(TeamSetting.table, {}).items():
        problem = _setting_problem(key, doc)
        if problem:
            raise Refused(f"settings record {show_id(key)}", problem)


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


def _own_suspects(cls: type[Record], docs: dict[str, Json], rules: BodyRules, newest: str) -> Iterator[str]:
    """A segment's records that break its own rules: a stamp of another replica, outside the
    segment's range or in the future, a whole document without a field every record holds,
    a partial one with a field it does not stamp."""
    replica = rules.writer.replica if rules.writer else ""
    required, grow_only = required_keys(cls), cls.grow_only
    first, last = rules.first, min(rules.last, newest)
    for key, doc in docs.items():
        stamps = doc[STAMPS]
        own = [*stamps.values(), doc[DELETED]] if DELETED in doc else stamps.values()
        if doc["id"] != key or not own or any(
                not (first <= stamp <= last) or not stamp.endswith(replica) for stamp in own):
            yield key
        elif BASE in stamps:
            if not doc.keys() >= required:
                yield key
        elif any(name not in stamps for name in doc if name not in _NOT_STAMPED and name not in grow_only):
            yield key


def _unknown_fields(cls: type[Record], docs: dict[str, Json]) -> Iterator[tuple[str, str]]:
    """(record id, field) for each field that is neither the model's nor a custom field
    (``cf.<key>``): the body check lets extra keys through for the custom fields."""
    known = _known_fields(cls)
    for key, doc in docs.items():
        if not known.issuperset(doc):  # the usual case, in C: nothing but the model's fields
            for name in doc.keys() - known:
                if not FIELD_NAME.match(name):
                    yield key, name


def _with_article(noun: str) -> str:
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


@cache
def _known_fields(cls: type[Record]) -> frozenset[str]:
    return frozenset(cls.model_fields) | {STAMPS, DELETED}


def _setting_problem(key: str, doc: Json) -> str | None:
    """A team setting must be filed under its key's id (else two replicas' records for one
    key would both stand, and which one counts would depend on the order they were read)
    and hold JSON."""
    if "key" in doc and setting_id(str(doc["key"])) != key:
        return f"key: {show(doc['key'])} is filed under an id that is not its own"
    for text in [doc.get("value"), *(entry.get("value") for entry in doc.get("history") or ())]:
        if text is not None:
            try:
                orjson.loads(text)
            except orjson.JSONDecodeError:
                return "value: not JSON"
    return None


#: keys of a document that carry no stamp of their own
_NOT_STAMPED = frozenset({"id", STAMPS, DELETED})


def _grow_only_suspects(cls: type[Record], docs: dict[str, Json]) -> Iterator[str]:
    for field in cls.grow_only:
        # entry ids are random: all of a table's unique means each list's are; else look closer
        ids = [entry["id"] for doc in docs.values() for entry in doc.get(field, ())]
        if len(set(ids)) < len(ids):
            for key, doc in docs.items():
                entries = doc.get(field, ())
                if len({entry["id"] for entry in entries}) < len(entries):
                    yield key


def _refuse_record(records: RecordSet, exc: ValidationError, rules: BodyRules, horizon: str) -> NoReturn:
    error = exc.errors(include_url=False)[0]
    table, key = (*error["loc"][1:3], "", "")[:2]
    cls = BY_TABLE.get(str(table))
    if cls is None or key not in records[cls.table]:  # not at a record: cannot happen after record_set
        raise Refused("body", f"{'.'.join(map(str, error['loc']))}: {error['msg']}")
    path = ".".join(show_key(str(part)) for part in error["loc"][3:]) or "record"
    _refuse(cls, str(key), records[cls.table][key], _Checks(rules, horizon, _multiline(cls)),
            fallback=f"{path}: {error['msg']}")


def _refuse(cls: type[Record], key: str, doc: Any, checks: _Checks, fallback: str = "refused") -> NoReturn:
    raise Refused(f"{cls.table} record {show_id(key)}", _record_problem(cls, key, doc, checks) or fallback)


def _record_problem(cls: type[Record], key: str, doc: Any, checks: _Checks) -> str | None:
    """What is wrong with one record, in words: the checks of the body check and of
    ``check_records``, one at a time, ending with the record's model (for a whole one)."""
    if not _ID.match(key):
        return "not a record id (32 lowercase hex digits)"
    if not isinstance(doc, dict):
        return "not a JSON object"
    if doc.get("id") != key:
        return f"id: {show(doc.get('id'))} differs from the id it is filed under"
    problem = _stamps_problem(doc, checks)
    if problem:
        return problem
    fields = {name: value for name, value in doc.items() if name not in (STAMPS, DELETED)}
    problem = _values_problem(fields, checks.multiline, checks.limits)
    if problem:
        return problem
    if checks.rules.own_stamps and BASE not in doc[STAMPS]:
        return _partial_problem(cls, doc)
    try:
        encoded = orjson.dumps(fields)
    except orjson.JSONEncodeError:  # nested too deep
        return "record: cannot be encoded as JSON"
    return _model_problem(cls, encoded) or _entries_problem(cls, doc) or _missing_problem(cls, doc)


def _partial_problem(cls: type[Record], doc: Json) -> str | None:
    """A partial document's own problem: a field it does not stamp."""
    for name in doc:
        if name not in _NOT_STAMPED and name not in cls.grow_only and name not in doc[STAMPS]:
            return (f"{show_key(name)}: a change of another replica's record without its own stamp "
                    "(a segment holds only the fields its replica stamped)")
    return _entries_problem(cls, doc)


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
    if BASE not in stamps and not checks.rules.own_stamps:
        return f'{STAMPS}: no "{BASE}" stamp (the stamp of the write that created the record)'
    if not stamps and DELETED not in doc:
        return f"{STAMPS}: no stamp at all (a segment holds only what its replica changed)"
    for field, stamp in stamps.items():
        if not _STAMP_KEY.match(field):
            return f"{STAMPS}: {show(field)} is not a field name"
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
        return f"{show(stamp)} is not a change stamp"
    rules = checks.rules
    problem = future_problem(stamp, checks.horizon, checks.limits, rules.writer if rules.own_stamps else None)
    if problem:
        return problem
    if rules.own_stamps and rules.writer is not None:
        if not stamp.endswith(rules.writer.replica):
            return (f"stamp {stamp} is replica {stamp[-16:]}'s, not {rules.writer.rep}'s "
                    f"(replica {rules.writer.replica}): a segment holds only its own replica's changes")
        if not rules.first <= stamp <= rules.last:
            return (f"stamp {stamp} is outside the segment's range ({rules.first} to {rules.last}): "
                    "an altered segment?")
    return None


def future_horizon(now_ms: int, limits: Limits) -> str:
    """The wall-time part of the newest acceptable stamp (stamps compare as strings)."""
    return f"{min(now_ms + limits.max_future_skew_ms, 10**16 - 1):016d}"


def future_problem(stamp: str, horizon: str, limits: Limits, sender: Sender | None = None) -> str | None:
    """A stamp beyond the drift, in words: whose clock, how far ahead, and the way out.
    ``sender``: who wrote the file, to name the teammate."""
    if stamp[:16] <= horizon:
        return None
    ahead = int(stamp[:16]) - (int(horizon) - limits.max_future_skew_ms)
    return (f"stamp {stamp} is in the future (year {_year(int(stamp[:16]))}): {_whose(stamp[-16:], sender)} "
            f"is {describe_ahead(ahead)} ahead of this computer's clock, over the "
            f"{describe_ahead(limits.max_future_skew_ms)} allowed (sync.max_clock_drift_minutes); "
            f"if that clock is wrong, fix it and run `{REPAIR_COMMAND}` there, else fix this computer's clock")


def _whose(replica: str, sender: Sender | None) -> str:
    if sender is None:
        return f"replica {replica}"
    if sender.replica == replica:
        return f"{sender.rep} (replica {replica})"
    return f"replica {replica} (in the file of {sender.rep}, replica {sender.replica})"


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
            return f"{show_key(field)}{problem}"
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
            return f".{show_key(key)}{problem}"
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
        field, message = first_error(exc)
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


def first_error(error: ValidationError) -> tuple[str, str]:
    """The first problem as (dotted field path, message); model-level checks name
    their field as a ``field: message`` prefix."""
    item = error.errors(include_url=False)[0]
    message = item["msg"].removeprefix("Value error, ")
    field = ".".join(show_key(str(part)) for part in item["loc"])
    if not field and ": " in message:
        field, message = message.split(": ", 1)
    return field or "record", message


def show(value: Any) -> str:
    """An untrusted value for a message: quoted, escaped, cut short."""
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:40] + "...")
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    return f"a {type(value).__name__}"


def show_id(key: str) -> str:
    return key if _ID.match(key) else show(key)


def show_key(key: str) -> str:
    return key if key.isprintable() and len(key) <= 40 else show(key)


def show_name(name: str) -> str:
    return name if name.isprintable() else repr(name)
