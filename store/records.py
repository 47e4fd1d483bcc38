"""Stored documents: a record's JSON fields plus its per-field change stamps.

A document is ``record.model_dump(mode="json")`` plus ``"_s"``, the HLC stamps of
the writes that set its fields, and, once deleted, ``"_del"`` (the stamp of the
delete). ``"_s"`` holds the stamp of the creating write under ``"*"`` and a stamp
of its own only for each field changed since: one stamp per field would make up
two thirds of the file. Grow-only list fields carry no stamp: they merge as sets by id.
A record is deleted while its delete stamp is newer than every field stamp, so
an edit made after a delete (on another replica) brings it back.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from functools import cache, lru_cache
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, TypeAdapter, ValidationError

from store.errors import ValidationFailed
from store.hlc import is_stamp
from store.models import BY_TABLE, Record
from store.tablefile import EncodedList

Doc = dict[str, Any]
R = TypeVar("R", bound=Record)
STAMPS = "_s"
DELETED = "_del"
#: key in ``"_s"`` for the stamp of every field without a stamp of its own
BASE = "*"


def stamp_of(doc: Doc, field: str) -> str:
    stamps = doc[STAMPS]
    return stamps.get(field) or stamps[BASE]


def is_live(doc: Doc) -> bool:
    deleted = doc.get(DELETED)
    if deleted is None:
        return True
    return any(stamp > deleted for stamp in doc[STAMPS].values())


def fields_of(doc: Doc) -> Doc:
    """The record's own fields, without the sync metadata (encoded lists decoded)."""
    return {k: v.decoded() if isinstance(v, EncodedList) else v for k, v in doc.items() if k not in (STAMPS, DELETED)}


@cache
def _truthy_defaults(cls: type[Record]) -> tuple[str, ...]:
    """Fields whose default is not falsy (status "new", currency ...): always stored."""
    return tuple(name for name, info in cls.model_fields.items()
                 if not info.is_required() and info.default_factory is None and info.default)


def document_fields(record: Record) -> Doc:
    """The record as stored: JSON values, leaving out every field (nested ones too)
    whose value is its falsy default (None, "", [], False, 0).

    Readers of raw documents use ``doc.get(field)``, which gives a falsy value
    for those; models fill the defaults back in. Leaving them out makes the files
    and the in-memory tables a good deal smaller (measured in bench/).
    """
    plain = _plain_document(record)
    if plain is not None:
        return plain
    cls, values = type(record), record.__dict__
    if not any(values[name] for name in nested_models(cls)):
        # Told which fields to leave out, pydantic does not compare every field with its
        # default, which calls the default factories (new ids, the clock).
        left_out = falsy_defaults(cls)
        return record.model_dump(mode="json", exclude={name for name, default in left_out.items()
                                                       if values[name] == default})
    return dumped_document(record)


_PLAIN = frozenset({str, int, bool, type(None)})
_DATETIME = TypeAdapter(datetime)


def _plain_document(record: Record) -> Doc | None:
    """``document_fields`` of a record whose values are all JSON already but for times and
    dates, read off its ``__dict__`` without a pydantic dump (a bulk import pays that
    per row); None for any other (a decimal, a float, a nested entry)."""
    left_out = falsy_defaults(type(record))
    doc: Doc = {}
    for name, value in record.__dict__.items():
        kind = type(value)
        if name in left_out and value == left_out[name]:
            continue
        if kind in _PLAIN:
            doc[name] = value
        elif kind is datetime:
            doc[name] = _json_time(value, value.tzinfo)
        elif kind is date:
            doc[name] = value.isoformat()
        elif kind is list and all(type(item) is str for item in value):
            doc[name] = list(value)
        else:
            return None
    if record.__pydantic_extra__:  # custom fields: JSON values already (``Record._custom_values``)
        doc.update(record.__pydantic_extra__)
    return doc


@lru_cache(maxsize=1024)
def _json_time(value: datetime, zone: tzinfo | None) -> str:
    """Pydantic's JSON form of a time; records of a bulk write share a few. ``zone`` is
    part of the key: times equal as instants in other zones are written differently."""
    return _DATETIME.dump_python(value, mode="json")


def dumped_document(record: Record) -> Doc:
    """``document_fields`` by pydantic's own leaving out of defaults, nested entries too."""
    data = record.model_dump(mode="json", exclude_defaults=True)
    missing = [name for name in _truthy_defaults(type(record)) if name not in data]
    if missing:
        simple = {name: getattr(record, name) for name in missing}
        if all(type(value) in (str, int, bool) for value in simple.values()):
            data.update(simple)  # already JSON: a second dump costs as much as the first
        else:
            data.update(record.model_dump(mode="json", include=set(missing)))
    return data


@cache
def falsy_defaults(cls: type[Record]) -> Doc:
    """The JSON values of the fields a stored document may leave out."""
    return {name: [] if isinstance(info.default, list) or info.default_factory is list else info.default
            for name, info in cls.model_fields.items()
            if not info.is_required() and ((info.default_factory is None and not info.default)
                                           or info.default_factory is list)}


@cache
def required_fields(cls: type[BaseModel]) -> tuple[str, ...]:
    """The fields every stored document of ``cls`` holds, in the model's order: all but
    those ``document_fields`` may leave out. A record leaves out only its fields at a
    falsy default (``falsy_defaults``); a nested model (a grow-only entry, a quote line)
    leaves out every field at its default, as ``model_dump(exclude_defaults=True)`` does.
    A field with a default factory (``id``, ``created_at``, an entry's ``at``) is always
    stored, and readers read it without a default: the sync body check, ``check`` and the
    readers' guard (``is_whole``) all take the required set from here."""
    if issubclass(cls, Record):
        left_out = falsy_defaults(cls).keys()
        return tuple(name for name in cls.model_fields if name not in left_out)
    return tuple(name for name, info in cls.model_fields.items()
                 if info.is_required() or info.default_factory is not None)


@cache
def nested_models(cls: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """Fields of ``cls`` that hold a list of models (grow-only entries, quote lines)."""
    nested: dict[str, type[BaseModel]] = {}
    for name, info in cls.model_fields.items():
        for arg in get_args(info.annotation):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                nested[name] = arg
    return nested


@cache
def required_keys(cls: type[BaseModel]) -> frozenset[str]:
    """``required_fields`` as a set: ``doc.keys() >= required_keys(cls)`` tells whether a
    stored document has every field its readers read without a default (top-level only:
    one set comparison in C, cheap enough for every row of a list)."""
    return frozenset(required_fields(cls))


def missing_field(cls: type[BaseModel], doc: Any) -> str | None:
    """The first required field (``required_fields``) a stored document lacks, as a
    path (``created_at``, ``stage_history.2.at``, as pydantic names them), or None."""
    if not isinstance(doc, dict):
        return None
    for name in required_fields(cls):
        if name not in doc:
            return name
    for name, nested in nested_models(cls).items():
        items = doc.get(name)
        if not isinstance(items, list | EncodedList):
            continue
        for index, item in enumerate(items):
            missing = missing_field(nested, item)
            if missing:
                return f"{name}.{index}.{missing}"
    return None


def whole_entries(entries: Any, cls: type[BaseModel]) -> list[Doc]:
    """The entries of a grow-only list that hold every required field: readers of
    histories skip a damaged entry (``check`` reports it) instead of failing on it."""
    required = required_keys(cls)
    return [entry for entry in entries or () if entry.keys() >= required]


def with_defaults(cls: type[Record], doc: Doc) -> Doc:
    """A stored document with the left-out fields filled in (for exports)."""
    return {**falsy_defaults(cls), **doc}


def stamp_new(data: Doc, stamp: str) -> Doc:
    """A new record's document (``document_fields``): every field stamped ``stamp``."""
    return {**data, STAMPS: {BASE: stamp}}


def stamp_record(record: Record, previous: Doc | None, stamp: str) -> Doc:
    """The document for ``record``: fields that differ from ``previous`` get ``stamp``."""
    data = document_fields(record)
    if previous is None:
        return stamp_new(data, stamp)
    stamps: dict[str, str] = dict(previous[STAMPS])
    for key in data.keys() | previous.keys():
        if key in ("id", STAMPS, DELETED) or key in record.grow_only:
            continue
        if previous.get(key) != data.get(key):  # a field left out reads as its falsy default
            stamps[key] = stamp
    doc = {**data, STAMPS: stamps}
    if previous is not None and DELETED in previous:
        doc[DELETED] = previous[DELETED]
    return doc


def tombstone(doc: Doc, stamp: str) -> Doc:
    return {**doc, DELETED: stamp}


def field_errors(error: ValidationError) -> dict[str, str]:
    """Map each failing field to a message a person understands.

    Model-level checks name their field as a ``field: message`` prefix.
    """
    errors: dict[str, str] = {}
    for item in error.errors():
        message = item["msg"].removeprefix("Value error, ")
        location = [str(part) for part in item["loc"]]
        field = location[0] if location else ""
        if not field and ": " in message:
            field, message = message.split(": ", 1)
        errors.setdefault(field or "record", message)
    return errors


def validation_failed(noun: str, error: ValidationError) -> ValidationFailed:
    errors = field_errors(error)
    first_field, first_message = next(iter(errors.items()))
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return ValidationFailed(f"{noun} {first_field}: {first_message}{more}", errors)


@cache
def _field_adapter(cls: type[Record], name: str) -> TypeAdapter[Any]:
    return TypeAdapter(cls.model_fields[name].rebuild_annotation())


def lenient_model(cls: type[R], fields: Doc) -> R:
    """The model for stored fields; if the record as a whole breaks a rule (two
    teammates' edits merged field by field, or a rule added later), each field is
    still checked on its own and the record is built without the whole-record rules,
    so it can be shown and fixed instead of failing every screen that reads it."""
    try:
        return cls.model_validate(fields)
    except ValidationError:
        values = {name: _field_adapter(cls, name).validate_python(value)
                  for name, value in fields.items() if name in cls.model_fields}
        custom = {name: value for name, value in fields.items() if name.startswith("cf.")}
        return cls.model_construct(**values, **custom)


def check_documents(tables: dict[str, dict[str, Doc]], limit: int = 20) -> list[str]:
    """Problems in stored documents: bad stamps, or fields their model refuses."""
    problems: list[str] = []
    for table, docs in tables.items():
        cls = BY_TABLE.get(table)
        if cls is None:
            continue
        for record_id, doc in docs.items():
            problem = _document_problem(cls, doc)
            if problem:
                problems.append(f"{table} record {record_id}: {problem}")
                if len(problems) >= limit:
                    return problems
    return problems


def _document_problem(cls: type[Record], doc: Doc) -> str | None:
    stamps = doc.get(STAMPS)
    if (not isinstance(stamps, dict) or BASE not in stamps
            or not all(is_stamp(v) for v in stamps.values())):
        return "has a malformed change stamp"
    if DELETED in doc and not is_stamp(doc[DELETED]):
        return "has a malformed delete stamp"
    try:
        missing = missing_field(cls, doc)
    except ValueError as exc:  # a grow-only list left on disk (``store.list_lines``) that does not decode
        return str(exc)
    if missing:  # the model would fill it in, but the readers of stored documents would fail
        return f"{missing}: missing (Dealdeck always stores it; the record is damaged)"
    try:
        cls.model_validate(fields_of(doc))
    except ValidationError as exc:
        field, message = next(iter(field_errors(exc).items()))
        return f"{field}: {message}"
    return None
