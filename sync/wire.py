"""One Rust-side check of a whole export body, compiled from the record models.

Running each record of a teammate's file through its pydantic model calls the
models' Python validators (text cleaning, UTC conversion, tag dedup, e-mail and
phone shapes) value by value: most of the time of a merge. A stored document
never needs cleaning, since it was cleaned when it was written, so for a file
the same rules become plain constraints (and every field a stored document always
holds, ``store.records.required_fields``, a required key) that pydantic-core checks without
calling Python: a cleaning validator becomes "nothing to clean" (no control
characters, no white space at either end), a shape validator its pattern, dates
and times patterns of real days and times, and decimals are parsed (and the
result thrown away: the merge keeps documents as they are). Every string and
list also gets the file limits. The whole body then goes through one validator,
about 3x faster than a model per record (bench/README.md).

What a constraint cannot say is left to ``sync.validate``: the id a record is
filed under, ids unique within a grow-only list, stamps not in the future. Two
kinds of model checks do not apply to a teammate's file: those that need the
app's config (stage names), and the cross-field ``rules``, which a field-by-field
merge of two valid versions can break (the merge report lists such records).

A refused body is then re-checked record by record through the models, which
name the problem as a person reads it. This check must never be looser than the
models: tests/sync/test_wire.py compares the two on random values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from pydantic_core import SchemaValidator
from pydantic_core import core_schema as cs

from store.custom_fields import CUSTOM_TABLES, MAX_ITEMS, MAX_TEXT
from store.hlc import STAMP_PATTERN
from store.models import (
    BY_TABLE,
    EMAIL_MAX,
    EMAIL_PATTERN,
    ID_PATTERN,
    PHONE_PATTERN,
    Record,
    check_email,
    check_phone,
    clean_line,
    clean_text,
    to_utc,
    unique_tags,
    upper,
)
from store.records import DELETED, STAMPS, required_fields
from sync.format import TABLES

Schema = dict[str, Any]

_C0_C1 = r"\x00-\x1f\x7f-\x9f"  # control characters: C0, DEL, C1
_C0_C1_BUT_TAB_NEWLINE = r"\x00-\x08\x0b-\x1f\x7f-\x9f"
#: any string: no control characters (a name with an ANSI escape, say)
LINE = rf"^[^{_C0_C1}]*$"


def _nothing_to_clean(controls: str) -> str:
    """Text as the models store it once cleaned: none of ``controls``, no white space at
    either end (the empty string too)."""
    return rf"^(?:[^\s{controls}](?:[^{controls}]*[^\s{controls}])?)?$"


CLEAN_LINE = _nothing_to_clean(_C0_C1)
CLEAN_TEXT = _nothing_to_clean(_C0_C1_BUT_TAB_NEWLINE)  # notes keep tabs and newlines inside
# Dates and times as Dealdeck writes them (ISO 8601; times in UTC),
# checked as text, since the merge keeps them as text: a real day of a real month.
# [0-9], never \d: in Rust's regex (and Python's) \d is any Unicode digit, and "٢٠٢٤" is no year.
_YEAR = r"(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
_LEAP_YEAR = r"(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
_MONTH_DAY = (r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
              r"|02-(?:0[1-9]|1[0-9]|2[0-8]))")
_DAY = rf"(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)"
#: stored times are UTC: another offset could move a time past year 9999 or before year 1
_TIME = r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?(?:Z|[+-]00:00)"
DATE = rf"^{_DAY}$"
DATE_TIME = rf"^{_DAY}{_TIME}$"
_STAMP_KEY = r"^(\*|[a-z][a-z0-9_]{0,63}|cf\.[a-z][a-z0-9_]{0,31})$"
#: an e-mail or phone may also be stored empty (the model reads "" as none)
_EMAIL = f"^$|{EMAIL_PATTERN}"
_PHONE = f"(?i)^$|{PHONE_PATTERN}"


@dataclass(frozen=True)
class _Text:
    """How the strings under a validator are checked: what may be in them (``base``),
    a shape on top (e-mail, phone), a length limit."""

    base: str = LINE
    shape: str | None = None
    max_length: int | None = None


#: each Python validator of the models: what stands for it in the body check (a
#: validator that only converts needs nothing: the stored value is what it returns).
#: A validator missing here makes ``body_validator`` raise, so none slips past a merge.
_EQUIVALENTS: dict[Callable[..., Any], dict[str, Any]] = {
    clean_line: {"base": CLEAN_LINE},
    clean_text: {"base": CLEAN_TEXT},
    check_email: {"shape": _EMAIL, "max_length": EMAIL_MAX},
    check_phone: {"shape": _PHONE},
    to_utc: {},
    unique_tags: {},
    upper: {},
}
#: validators that need the app's config as context (stage names): not for a teammate's file
_NEEDS_CONFIG: frozenset[str] = frozenset({"_known_stage", "_lost_has_reason"})
#: model-level validators: ``Record._check_rules`` (not a file's problem) and config checks
_MODEL_CHECKS: frozenset[str] = frozenset({Record._check_rules.__name__} | _NEEDS_CONFIG)


@cache
def body_validator(max_string: int, max_list: int, *, partial: bool = False) -> SchemaValidator:
    """A validator for ``{"tables": {table: {record id: stored document}}}``. ``partial``: a
    segment's, whose documents may hold only the fields their replica changed (whether a
    whole one holds every field it must is checked in ``sync.checks``)."""
    compiler = _Compiler(max_string, max_list)
    tables = {table: cs.typed_dict_field(compiler.table(BY_TABLE[table], partial=partial), required=False)
              for table in TABLES}
    body = cs.typed_dict_schema(
        {"tables": cs.typed_dict_field(cs.typed_dict_schema(tables, extra_behavior="forbid"))},
        extra_behavior="forbid",
    )
    return SchemaValidator(body)


class _Compiler:
    def __init__(self, max_string: int, max_list: int) -> None:
        self.max_string = max_string
        self.max_list = max_list

    def table(self, cls: type[Record], *, partial: bool = False) -> Schema:
        document = self.node(cls.__pydantic_core_schema__, _Text())
        if partial:
            for name, field in document["fields"].items():
                document["fields"][name] = {**field, "required": False}
        stamp = self.string(cs.str_schema(pattern=STAMP_PATTERN.pattern), _Text())
        stamps = cs.dict_schema(cs.str_schema(pattern=_STAMP_KEY, strict=True), stamp, strict=True,
                                max_length=self.max_list)
        document["fields"][STAMPS] = cs.typed_dict_field(stamps)
        document["fields"][DELETED] = cs.typed_dict_field(stamp, required=False)
        if cls.table in CUSTOM_TABLES:
            # Custom fields (``cf.<key>``): any value a custom field may hold; their names are
            # checked in ``sync.checks`` (a schema cannot say what the extra keys look like).
            text = self.string(cs.str_schema(max_length=MAX_TEXT), _Text(base=CLEAN_TEXT))
            number = cs.float_schema(strict=True, allow_inf_nan=False)
            value = cs.nullable_schema(cs.union_schema([
                cs.bool_schema(strict=True), cs.int_schema(strict=True), number, text,
                cs.list_schema(text, strict=True, max_length=min(MAX_ITEMS, self.max_list))]))
            document = {**document, "extra_behavior": "allow", "extras_schema": value}
        return cs.dict_schema(cs.str_schema(pattern=ID_PATTERN, strict=True), document, strict=True)

    def node(self, node: Schema, text: _Text) -> Schema:
        kind = node["type"]
        if kind.startswith("function-"):
            return self.function(node, text)
        if kind == "model":
            return self.model(node)
        if kind == "default":
            return self.node(node["schema"], text)
        if kind == "nullable":
            return cs.nullable_schema(self.node(node["schema"], text), strict=True)
        if kind == "list":
            return cs.list_schema(self.node(node["items_schema"], text), strict=True,
                                  min_length=node.get("min_length"),
                                  max_length=min(node.get("max_length") or self.max_list, self.max_list))
        if kind == "str":
            return self.string(node, text)
        if kind in ("int", "bool", "literal"):
            return {**node, "strict": True}
        if kind == "decimal":  # stored as text ("17700.00"); numbers read as well, as from JSON
            number = cs.union_schema([cs.str_schema(max_length=64, strict=True), cs.int_schema(strict=True),
                                      cs.float_schema(strict=True)])
            return cs.chain_schema([number, {**node, "strict": False}])
        if kind == "date":
            return cs.str_schema(pattern=DATE, strict=True)
        if kind == "datetime":
            return cs.str_schema(pattern=DATE_TIME, strict=True)
        raise TypeError(f"the sync check has no form for a {kind!r} schema")

    def function(self, node: Schema, text: _Text) -> Schema:
        func = node["function"]["function"]
        if node["type"] == "function-after" and node["schema"]["type"] in ("model", "function-after"):
            if func.__name__ not in _MODEL_CHECKS:
                raise TypeError(f"model validator {func.__qualname__} has no check for a teammate's file")
            return self.node(node["schema"], text)
        if func.__name__ in _NEEDS_CONFIG:
            return self.node(node["schema"], text)
        if func not in _EQUIVALENTS:
            raise TypeError(f"validator {func.__qualname__} has no check for a teammate's file")
        return self.node(node["schema"], replace(text, **_EQUIVALENTS[func]))

    def model(self, node: Schema) -> Schema:
        # Required: every field a stored document always holds (its id, created_at, an
        # entry's at ...), as ``store.records.required_fields`` says, so that no record the
        # readers would fail on gets in; the others may be left out at their default.
        required = set(required_fields(node["cls"]))
        fields = {
            name: cs.typed_dict_field(self.node(field["schema"], _Text()), required=name in required)
            for name, field in node["schema"]["fields"].items()
        }
        return cs.typed_dict_schema(fields, extra_behavior="forbid", strict=True)

    def string(self, node: Schema, text: _Text) -> Schema:
        """A string: its own pattern (ids, rep ids, currency codes: narrower than any
        text) or the text rules; its own length limit within the file's."""
        limit = min(node.get("max_length") or self.max_string, text.max_length or self.max_string, self.max_string)
        patterns = [node["pattern"]] if node.get("pattern") else [text.base, *filter(None, [text.shape])]
        steps = [cs.str_schema(pattern=pattern, max_length=limit, min_length=node.get("min_length"), strict=True)
                 for pattern in patterns]
        return steps[0] if len(steps) == 1 else cs.chain_schema(steps)
