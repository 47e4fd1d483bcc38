"""The body check compiled from the models (sync/wire.py): never looser than the models,
never refusing what Dealdeck writes, and refusing to compile past a validator it does not know."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import AfterValidator, ValidationError

from store.demo import generate_demo
from store.models import BY_TABLE, Lead, Opportunity, Record
from store.storage import DurableStorage
from store.tablefile import json_default
from sync.format import TABLES
from sync.wire import _NEEDS_CONFIG, _Compiler, body_validator
from tests.sync.test_validate import sample_tables

VALIDATOR = body_validator(20_000, 5_000)


def wire_accepts(tables: dict[str, Any]) -> bool:
    try:
        VALIDATOR.validate_python({"tables": tables})
    except ValidationError:
        return False
    return True


def model_accepts(cls: type[Record], doc: dict[str, Any]) -> bool:
    fields = {key: value for key, value in doc.items() if key not in ("_s", "_del")}
    try:
        cls.model_validate_json(orjson.dumps(fields), strict=True)
    except ValidationError:
        return False
    return True


TRICKY_TEXT = st.sampled_from([
    "", " ", " padded ", "x", "a\nb", "a\tb", "a\rb", "\x1b[31mred", "a\x9bb", "\x7f", "[bold]x[/]",
    "emma@northwind.example", "EMMA@X.IO", "a@b", "@b.c", "a b@c.d", "a\x1b@b.co",
    "+44 20 5478 5653", "12345", "555-1234 x12", "(555) 123-4567 ext. 89", "1234567890123456789",
    "2026-12-01", "2026-02-30", "2026-12-01T10:00:00Z", "2026-12-01T25:00:00Z", "yesterday", "2028-02-29",
    "2100-02-29", "2000-02-29", "0000-01-01", "2026-04-31", "2026-12-01T10:00:00.123456+05:30",
    "2026-12-01T10:00", "2026-12-01T10:00:00", "2026-12-01 10:00:00Z", "2026-12-01T10:00:60Z",
    "\u0662\u066024-02-29", "2024-01-01T1\u0669:00:00Z", "0000-02-29", "0001-01-01T00:30:00+01:00",
    "9999-12-31T23:30:00-01:00", "2026-12-01T10:00:00+00:00",
    "1200.50", "-5", "1e3", "NaN", "12.345", "USD", "usd", "EURO", "quote", "A", "Z", "new", "call",
    "0123456789abcdef0123456789abcdef", "../../etc/passwd", "x" * 201,
])
VALUES = st.one_of(
    TRICKY_TEXT, st.text(max_size=12), st.integers(-5, 200), st.booleans(), st.none(),
    st.floats(allow_nan=False, allow_infinity=False, width=32), st.lists(TRICKY_TEXT, max_size=3),
    st.just([{"id": "9" * 32, "kind": "created", "by": "ann"}]), st.just({"a": 1}),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), value=VALUES)
def test_what_the_body_check_accepts_its_model_accepts(data: st.DataObject, value: Any) -> None:
    """Differential: any one field of a good record set to any value. When the body check
    and the record's rules (run in Python beside it) pass, the model passes too."""
    tables = sample_tables()
    table = data.draw(st.sampled_from([t for t in TABLES if tables[t]]))
    key = data.draw(st.sampled_from(sorted(tables[table])))
    cls = BY_TABLE[table]
    field = data.draw(st.sampled_from(sorted(cls.model_fields)))
    tables[table][key] = doc = {**tables[table][key], field: value}
    if wire_accepts(tables) and not any(rule(doc) for rule in cls.rules):
        assert model_accepts(cls, doc), (table, field, value)


@pytest.mark.parametrize(("field", "value"), [
    ("name", " Emma"), ("name", "   "), ("company", "A\nB"), ("notes", "\x1b]8;;x\x07"),
    ("email", "EMMA@"), ("email", "a\x1b@b.co"), ("phone", "12345"), ("score", True), ("score", 101),
    ("next_follow_up", "2026-02-30"), ("created_at", 1_764_000_000), ("created_at", "2026-12-01"),
    ("created_at", "2024-01-01T1\u0669:00:00Z"), ("created_at", "0001-01-01T00:30:00+01:00"),
    ("tags", [""]), ("grade", "Z"),
    ("history", [{"kind": "created", "by": "ann"}]), ("owner", "Ann Smith"),
])
def test_what_a_stored_document_never_holds_is_refused(field: str, value: Any) -> None:
    """A stored value never needs cleaning: untrimmed text, controls and bad shapes are refused."""
    tables = sample_tables()
    lead = next(doc for doc in tables["leads"].values() if "_del" not in doc)
    lead[field] = value
    assert not wire_accepts(tables)


@pytest.mark.parametrize(("value", "valid"), [
    ("2028-02-29", True), ("2000-02-29", True), ("2027-02-29", False), ("2100-02-29", False),
    ("2026-04-31", False), ("2026-12-31", True), ("2026-13-01", False), ("0000-01-01", False),
    ("0000-02-29", False), ("0400-02-29", True), ("\u0662\u06602\u0664-02-29", False),  # Arabic-Indic digits
])
def test_a_date_is_a_real_day(value: str, valid: bool) -> None:
    tables = sample_tables()
    tables["leads"][next(iter(tables["leads"]))]["next_follow_up"] = value
    assert wire_accepts(tables) is valid


def test_every_record_dealdeck_writes_passes(tmp_path: Path) -> None:
    """The demo's whole data set (every table, every kind of value) goes through unrefused."""
    generate_demo(tmp_path, reps=4, leads=300, seed=3)
    storage = DurableStorage(tmp_path)
    # As an export writes them: the lean in-memory forms (encoded lists, packed tables) as JSON.
    tables = orjson.loads(orjson.dumps({table: storage.tables.get(table, {}) for table in TABLES},
                                       default=json_default))
    assert sum(map(len, tables.values())) > 1_000
    assert wire_accepts(tables)


def test_a_validator_without_a_check_for_files_stops_the_compile() -> None:
    """A validator added to a model must be given its plain form in sync/wire.py, or no
    file is merged past it unchecked."""

    def no_spam(value: str) -> str:
        return value

    class Shouty(Record):
        table: ClassVar[str] = "shouts"
        noun: ClassVar[str] = "shout"
        text: Annotated[str, AfterValidator(no_spam)]

    with pytest.raises(TypeError, match="no_spam has no check for a teammate's file"):
        _Compiler(100, 100).table(Shouty)
    assert all(hasattr(Opportunity, name) for name in _NEEDS_CONFIG)  # the validators it lets pass exist
    assert _Compiler(100, 100).table(Lead)["type"] == "dict"
