"""CSV export: one table for a spreadsheet or another program.

Every cell is plain text another program reads without guessing:

- the header is the stored field names (lower case, so a file never starts with
  ``ID``, which Excel takes for a SYLK file); a link to another record is its
  name (``customer``), an opportunity's stage also as ``stage_label``; grow-only
  histories and the ids of linked records are left out;
- dates are ISO dates (``2026-11-30``), timestamps ISO 8601 in UTC to the second
  (``2026-11-30T09:15:00Z``), amounts plain numbers with two decimals and no
  thousands separator or currency symbol (``1234.50``; the currency is its own
  column), booleans ``yes``/``no``, lists joined with ``"; "``;
- UTF-8 without a byte order mark and ``\\n`` line ends, unless ``excel=True``
  (``dealdeck export csv --excel``): a BOM, without which Excel reads the file in
  the system code page, and ``\\r\\n`` line ends.

Formulas (CSV injection). A spreadsheet runs a cell that starts with ``=``, ``+``,
``-`` or ``@`` as a formula, and OWASP's CSV Injection page also lists tab, CR and
LF; a formula can call HYPERLINK or WEBSERVICE with the sheet's data, or start a
program through DDE (``=cmd|' /C calc'!A0``; ``|`` is DDE's separator, so a cell
starting with it is treated the same). The full-width ``＝ ＋ － ＠`` are treated
as their ASCII forms, which an East Asian input method in Excel turns them into
(an edit of the cell is enough). A cell that starts
with any of ``FORMULA_START`` gets a ``'`` in front: Excel and LibreOffice show
the text after it and run nothing, and ``dealdeck import csv`` strips the ``'``
again (``store.imports.columns.unescape``), so an export imports back to the same values.

Phones are the one exception, because ``+`` starts most international numbers.
What makes a cell dangerous is what the formula can do: call a function or name
a cell (both need letters), or compute (an operator). A value in a phone column
is left as it is when it is a valid phone (``store.models.check_phone``), starts
with ``+`` and holds after it only digits, spaces, ``( )`` and ``.``. A space
between two numbers is Excel's intersection operator, which only joins
references, so ``+49 30 1234567`` cannot be a working formula; and with no letter
there is no function and no cell to read. At worst Excel shows such a value as
a number, as it shows any string of digits. Every other phone starting with a
formula character keeps the ``'``:

- ``-`` and ``/`` are arithmetic that Excel does evaluate: ``+1-555-0100`` would
  show ``-654`` (Microsoft KB 212152: ``555-1212`` opens as ``-657``; iota-sdk
  pull 1080 review: ``+1-1`` opens as ``0``);
- letters are cell names: the extension in ``+1 555 0100 x12`` or ``…-ext12``
  names cell X12 or EXT12;
- anything that fails ``check_phone`` (a damaged record) is treated as text.
"""

from __future__ import annotations

import csv
import types
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal, TextIO, Union, get_args, get_origin

from store.database import Store
from store.errors import StoreError
from store.models import (
    Activity,
    Contact,
    Customer,
    Lead,
    Opportunity,
    Record,
    Survey,
    Task,
    Ticket,
    check_phone,
)
from store.records import with_defaults

ExportTable = Literal["leads", "opportunities", "customers", "contacts", "activities", "tasks", "tickets",
                      "surveys"]
EXPORT_TABLES: dict[str, type[Record]] = {
    cls.table: cls for cls in (Lead, Opportunity, Customer, Contact, Activity, Task, Ticket, Survey)
}
#: a cell starting with one of these is a formula (or can start one) in a spreadsheet;
#: ``store.csvfiles`` strips the ``'`` put before them
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "\uff1d", "\uff0b", "\uff0d", "\uff20")
#: what a phone may hold after its leading ``+`` and still be left as it is (see above)
_PHONE_SAFE = frozenset("0123456789 ().")
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

_LINKS: dict[str, type[Record]] = {"lead_id": Lead, "opportunity_id": Opportunity, "customer_id": Customer,
                                   "contact_id": Contact, "ticket_id": Ticket}
#: link fields exported as the linked record's name; other links are left out
_EXPORTED_LINKS: dict[str, tuple[str, ...]] = {
    "opportunities": ("customer_id", "contact_id"),
    "contacts": ("customer_id",),
    "activities": ("lead_id", "opportunity_id", "customer_id", "contact_id"),
    "tasks": ("lead_id", "opportunity_id", "customer_id", "contact_id", "ticket_id"),
    "tickets": ("customer_id", "contact_id"),
    "surveys": ("customer_id", "contact_id", "ticket_id"),
}

Kind = Literal["text", "phone", "amount", "timestamp", "date"]


# --- columns ------------------------------------------------------------------------------


def export_columns(table: str) -> list[tuple[str, str]]:
    """(header, stored field) in model order: grow-only histories and ids of
    linked records left out, links shown by name, an opportunity's stage label."""
    cls = EXPORT_TABLES[table]
    columns: list[tuple[str, str]] = []
    for name in cls.model_fields:
        if name in cls.grow_only:
            continue
        if name in _LINKS:
            if name in _EXPORTED_LINKS.get(table, ()):
                columns.append((name.removesuffix("_id"), name))
            continue
        columns.append((name, name))
        if table == "opportunities" and name == "stage":
            columns.append(("stage_label", name))
    return columns


def field_kind(cls: type[Record], name: str) -> Kind:
    """How a stored field is written: from the model's type, so a new field needs no list here."""
    info = cls.model_fields[name]
    if any(getattr(meta, "func", None) is check_phone for meta in info.metadata):
        return "phone"
    kind = _plain_type(info.annotation)
    if kind is Decimal:
        return "amount"
    if kind is datetime:
        return "timestamp"
    if kind is date:
        return "date"
    return "text"


def _plain_type(annotation: Any) -> Any:
    """``X`` from ``X | None`` and ``Annotated[X, ...]``, nested as pydantic leaves them."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin is Union or origin is types.UnionType:
            annotation = next(arg for arg in get_args(annotation) if arg is not type(None))
        else:
            return annotation


# --- cells --------------------------------------------------------------------------------


def escape_cell(text: str) -> str:
    """Keep a spreadsheet from running a cell as a formula (CSV injection). A value that
    itself starts with ``'`` (or several) and a formula character gets one more, so that
    the import, which strips one, gives it back as it was."""
    return "'" + text if text.lstrip("'").startswith(FORMULA_START) else text


def is_safe_phone(text: str) -> bool:
    """A valid phone that Excel cannot read as a working formula: ``+`` and then only
    digits, spaces, parentheses and dots (no operator that computes, no letter)."""
    if not text.startswith("+") or not _PHONE_SAFE.issuperset(text[1:]):
        return False
    try:
        return check_phone(text) is not None
    except ValueError:
        return False


def escape_phone(text: str) -> str:
    """``escape_cell`` for a phone column: a safe phone (``is_safe_phone``) stays as it is."""
    return text if is_safe_phone(text) else escape_cell(text)


def format_amount(value: Any) -> str:
    """``1234.50``: two decimals, no thousands separator, no exponent."""
    try:
        return format(Decimal(str(value)).quantize(Decimal("0.01")), "f")
    except (InvalidOperation, ValueError):
        return escape_cell(str(value))


def format_timestamp(value: Any) -> str:
    """ISO 8601 in UTC to the second: ``2026-11-30T09:15:00Z``."""
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return escape_cell(str(value))
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime(TIMESTAMP_FORMAT)


def format_date(value: Any) -> str:
    """An ISO date, ``2026-11-30``."""
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        return escape_cell(str(value))


_FORMATS: dict[Kind, Callable[[Any], str]] = {
    "phone": lambda value: escape_phone(str(value)), "amount": format_amount,
    "timestamp": format_timestamp, "date": format_date,
}


def format_cell(value: Any, kind: Kind = "text") -> str:
    """One cell's text: empty for nothing, yes/no, lists joined with ``"; "``, the
    formats above for ``kind``, and formula-looking text escaped."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return escape_cell("; ".join(str(item) for item in value))
    if kind in _FORMATS:
        return _FORMATS[kind](value)
    if isinstance(value, Decimal):
        return format_amount(value)
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, date):
        return format_date(value)
    return escape_cell(str(value))


# --- tables -------------------------------------------------------------------------------


def csv_writer(out: TextIO, *, excel: bool) -> Any:
    """A writer for ``out`` (opened with ``newline=""``): with ``excel`` a BOM first
    and ``\r\n`` line ends, otherwise plain UTF-8 with ``\n``."""
    if excel:
        out.write("\ufeff")
    return csv.writer(out, lineterminator="\r\n" if excel else "\n")


def export_csv(store: Store, table: ExportTable | str, out: TextIO, *, excel: bool = False,
               ids: Iterable[str] | None = None) -> int:
    """Write ``table``'s live records (only those of ``ids``, when given) to ``out`` as CSV;
    return how many.

    ``excel`` starts the text with a byte order mark, which makes Excel read the
    file as UTF-8 (its default is the system code page), and ends lines with CRLF.
    """
    if table not in EXPORT_TABLES:
        raise StoreError(f"cannot export {table}; choose one of {', '.join(EXPORT_TABLES)}")
    cls = EXPORT_TABLES[table]
    columns = export_columns(table)
    cells = [_column_cell(store, cls, header, key) for header, key in columns]
    for spec in store.config.custom(table):  # the team's fields: a column named by the key
        taken = any(header == spec.key for header, _ in columns)
        columns.append((spec.name if taken else spec.key, spec.name))
        cells.append(lambda doc, name=spec.name: format_cell(doc.get(name)))
    writer = csv_writer(out, excel=excel)
    writer.writerow([header for header, _ in columns])
    chosen = None if ids is None else set(ids)
    docs = store.rows(cls) if chosen is None else [doc for doc in store.rows(cls) if doc["id"] in chosen]
    count = 0
    for doc in sorted(docs, key=lambda d: (str(d.get("created_at")), d["id"])):
        full = with_defaults(cls, doc)
        writer.writerow([cell(full) for cell in cells])
        count += 1
    return count


def _column_cell(store: Store, cls: type[Record], header: str, key: str) -> Callable[[Mapping[str, Any]], str]:
    """The function that writes one column's cell from a stored document."""
    if key in _LINKS:
        names = _labels(store, _LINKS[key])
        return lambda doc: format_cell(names.get(doc.get(key) or "", ""))
    if header == "stage_label":
        stages = {stage.key: stage.label for stage in store.config.stages}
        return lambda doc: format_cell(stages.get(str(doc.get(key)), doc.get(key)))
    kind = field_kind(cls, key)
    return lambda doc: format_cell(doc.get(key), kind)


def _labels(store: Store, cls: type[Record]) -> dict[str, str]:
    return {doc["id"]: str(doc.get("name") or doc.get("title") or "") for doc in store.rows(cls)}


SEGMENT_COLUMNS = ("name", "industry", "segment", "tags", "lifecycle", "health", "owner", "email", "phone",
                   "contact", "contact_role", "contact_email", "contact_phone", "lifetime_value",
                   "open_deals", "last_contact", "next_revisit", "rfm", "satisfaction")
_SEGMENT_PHONES = frozenset({"phone", "contact_phone"})


def export_customers(store: Store, ids: Iterable[str], out: TextIO, *, facts: Mapping[str, Any],
                     bom: bool = True) -> int:
    """Customers (a segment, in the given order) for a mailing or a campaign: the
    card's figures and the primary contact (or the first one). ``facts`` maps a
    customer id to its ``store.customers.CustomerRow``. ``bom``: the ``excel``
    form of ``export_csv`` (a BOM and CRLF line ends)."""
    contacts: dict[str, Mapping[str, Any]] = {}
    for doc in store.rows(Contact):
        known = contacts.get(doc["customer_id"])
        if known is None or (doc.get("primary") and not known.get("primary")):
            contacts[doc["customer_id"]] = doc
    writer = csv_writer(out, excel=bom)
    writer.writerow(SEGMENT_COLUMNS)
    kinds: list[Kind] = ["phone" if name in _SEGMENT_PHONES else "text" for name in SEGMENT_COLUMNS]
    count = 0
    table = store.storage.tables[Customer.table]
    for customer_id in ids:
        doc, row = table.get(customer_id), facts.get(customer_id)
        if doc is None or row is None:
            continue
        values = _segment_values(doc, row, contacts.get(customer_id, {}))
        writer.writerow([format_cell(value, kind) for value, kind in zip(values, kinds, strict=True)])
        count += 1
    return count


def _segment_values(doc: Mapping[str, Any], row: Any, contact: Mapping[str, Any]) -> tuple[Any, ...]:
    answer = row.latest_answer
    return (
        doc["name"], doc.get("industry"), doc.get("segment"), list(doc.get("tags") or ()),
        doc.get("lifecycle") or "prospect", row.health, doc.get("owner"), doc.get("email"), doc.get("phone"),
        contact.get("name"), contact.get("role"), contact.get("email"), contact.get("phone"),
        format_amount(row.value), row.open_deals, row.last_contact, row.next_revisit,
        f"{row.rfm[0]}{row.rfm[1]}{row.rfm[2]}", answer.shown() if answer else "")


__all__ = ["EXPORT_TABLES", "FORMULA_START", "TIMESTAMP_FORMAT", "escape_cell", "escape_phone", "export_columns",
           "export_csv", "export_customers", "field_kind", "format_cell", "is_safe_phone"]
