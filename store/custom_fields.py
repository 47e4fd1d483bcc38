"""Custom fields: declared in the team settings, stored on records as fields of their own.

A custom field ``industry`` of a lead is the document field ``cf.industry``: stamped,
merged and synced like any other field, so two reps' edits of two custom fields of one
lead both stay. Values are plain JSON (text, a number, true/false, a list of text);
money is text ("1200.50"), dates ISO text. Pure: no I/O.

A record keeps a value for a field the settings do not declare (a teammate's settings
arrived first, or the team deleted the field): it is shown once the declaration
arrives, and kept until the team purges it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PREFIX = "cf."
KEY_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
#: a document field holding a custom value
FIELD_NAME = re.compile(r"^cf\.[a-z][a-z0-9_]{0,31}$")
FieldType = Literal["text", "long_text", "number", "money", "date", "yes_no", "choice", "multi_choice",
                    "email", "phone", "url"]
CustomTable = Literal["leads", "opportunities", "customers", "contacts", "tickets"]
CUSTOM_TABLES: tuple[str, ...] = ("leads", "opportunities", "customers", "contacts", "tickets")
#: limits of a stored value, as the sync's check of a teammate's file has them too
MAX_TEXT, MAX_ITEMS = 20_000, 50
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
_PHONE = re.compile(r"^\+?[ ()./-]*(?:[0-9][ ()./-]*){6,16}(?:\s*(?:x|ext\.?)\s*[0-9]{1,6})?$", re.IGNORECASE)
_URL = re.compile(r"^(https?://)?[^\s/$.?#][^\s]*\.[^\s]{2,}$", re.IGNORECASE)
_TRUE, _FALSE = {"yes", "y", "true", "1", "x", "ja", "是"}, {"no", "n", "false", "0", "", "nein", "否"}


class CustomField(BaseModel):
    """One field the team added to a record type."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    key: Annotated[str, Field(pattern=KEY_PATTERN)]
    label: str = Field(min_length=1, max_length=40)
    type: FieldType = "text"
    required: bool = False
    choices: list[Annotated[str, Field(min_length=1, max_length=80)]] = []
    default: str | int | float | bool | list[str] | None = None
    #: for money: the currency (empty: the team's)
    currency: Annotated[str, Field(pattern=r"^([A-Z]{3})?$")] = ""
    #: where it shows besides the forms and the details
    column: bool = False
    card: bool = False
    filter: bool = False
    #: deleted by the team: hidden everywhere, its values kept until purged
    deleted: bool = False

    @model_validator(mode="after")
    def _fits(self) -> CustomField:
        if self.type in ("choice", "multi_choice"):
            if not self.choices:
                raise ValueError(f"{self.key}: a {self.type.replace('_', '-')} field needs choices")
            if len(set(self.choices)) != len(self.choices):
                raise ValueError(f"{self.key}: a choice is listed twice")
        elif self.choices:
            raise ValueError(f"{self.key}: only a choice field has choices")
        if self.default is not None:
            try:
                check_value(self, self.default)
            except ValueError as exc:
                raise ValueError(f"{self.key}: default {exc}") from None
        return self

    @property
    def name(self) -> str:
        """The document field: ``cf.<key>``."""
        return PREFIX + self.key

    @property
    def is_text(self) -> bool:
        """Matched by ``/`` and the palette's search (a choice has its quick filter instead)."""
        return self.type in ("text", "long_text", "email", "phone", "url")


def check_value(spec: CustomField, value: Any) -> Any:
    """``value`` (as typed, read from a file or stored) as the field stores it; None when
    empty; ``ValueError`` with the problem in words when it does not fit."""
    if value is None or value == "" or value == []:
        return None
    kind = spec.type
    if kind in ("text", "long_text", "email", "phone", "url"):
        return _text(kind, value)
    if kind == "number":
        return _number(value)
    if kind == "money":
        return _money(value)
    if kind == "date":
        return _date(value)
    if kind == "yes_no":
        return _yes_no(value)
    if kind == "choice":
        return _choice(spec, value)
    return _choices(spec, value)


def _text(kind: str, value: Any) -> str:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ValueError("should be text")
    text = str(value).strip() if kind == "long_text" else " ".join(str(value).split())
    if len(text) > MAX_TEXT:
        raise ValueError(f"too long: at most {MAX_TEXT:,} characters")
    if kind == "email" and not _EMAIL.match(text):
        raise ValueError("not a valid email address (expected name@example.com)")
    if kind == "phone" and not _PHONE.match(text):
        raise ValueError("not a valid phone number (digits, spaces, + - ( ), 6 to 16 digits)")
    if kind == "url" and not _URL.match(text):
        raise ValueError("not a web address (expected example.com or https://example.com/page)")
    return text.lower() if kind == "email" else text


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueError("should be a number, such as 12 or 12.5")
    if isinstance(value, int | float):
        number = value
    else:
        try:
            number = float(str(value).replace(",", "").strip())
        except ValueError:
            raise ValueError("should be a number, such as 12 or 12.5") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError("should be a number, such as 12 or 12.5")
    return int(number) if float(number).is_integer() and abs(number) < 2**53 else float(number)


def _money(value: Any) -> str:
    if isinstance(value, bool):
        raise ValueError("should be an amount, such as 12500 or 12,500.50")
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        raise ValueError("should be an amount, such as 12500 or 12,500.50") from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")) or amount >= 10**16:
        raise ValueError("should be an amount of 0 or more, with at most 2 decimals")
    return f"{amount:.2f}"


def _date(value: Any) -> str:
    try:
        return date.fromisoformat(str(value).strip()[:10]).isoformat()
    except ValueError:
        raise ValueError("should be a date such as 2026-12-31") from None


def _yes_no(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().casefold()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError("should be yes or no")


def _choice(spec: CustomField, value: Any) -> str:
    text = str(value).strip()
    found = next((choice for choice in spec.choices if choice.casefold() == text.casefold()), None)
    if found is None:
        raise ValueError(f"should be one of {', '.join(spec.choices)}")
    return found


def _choices(spec: CustomField, value: Any) -> list[str]:
    items = value if isinstance(value, list) else [part for part in re.split(r"[;,]", str(value))]
    picked = [_choice(spec, item) for item in items if str(item).strip()]
    if len(picked) > MAX_ITEMS:
        raise ValueError(f"too many: at most {MAX_ITEMS}")
    return list(dict.fromkeys(picked))


def is_stored_shape(value: Any) -> bool:
    """A value any Dealdeck may store (whatever its field's type now): the sync's check
    of a teammate's file, and the models' check of a field no declaration names."""
    if value is None or isinstance(value, bool | int):
        return True
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    if isinstance(value, str):
        return len(value) <= MAX_TEXT
    return (isinstance(value, list) and len(value) <= MAX_ITEMS
            and all(isinstance(item, str) and len(item) <= MAX_TEXT for item in value))


def shown(spec: CustomField, value: Any, currency: str = "") -> str:
    """A value as a person reads it in a list, a card or the details."""
    if value is None or value == "" or value == []:
        return ""
    if spec.type == "yes_no" and isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if spec.type == "money":
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            return str(value)
        code = spec.currency or currency
        return f"{amount:,.2f} {code}".strip()
    if spec.type == "number" and isinstance(value, float):
        return f"{value:,.6g}"
    return str(value)


def sort_key(spec: CustomField, value: Any) -> tuple[int, Any]:
    """Empty values last; numbers and money by size, the rest as text."""
    if value is None or value == "" or value == []:
        return (1, "")
    if spec.type in ("number", "money"):
        try:
            return (0, Decimal(str(value)))
        except InvalidOperation:
            return (0, Decimal(0))
    return (0, shown(spec, value).casefold())


def fields_of(declared: Mapping[str, list[CustomField]], table: str, *, with_deleted: bool = False
              ) -> list[CustomField]:
    return [spec for spec in declared.get(table, ()) if with_deleted or not spec.deleted]


def custom_values(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The custom fields a stored document holds (declared or not)."""
    return {name: value for name, value in doc.items() if name.startswith(PREFIX)}
