"""CSV import and export (stdlib ``csv`` only).

Import reads a spreadsheet or another CRM's export into leads, customers or
contacts. Headers are matched to fields through a synonym table (English and
Chinese), ``--map COLUMN=field`` overrides, every row is validated through the
pydantic models, and the good rows are written in one transaction, or none of
them when any row is bad (unless ``skip_bad``). Problems name the file's line.

Export writes one table for a spreadsheet: stable columns, ISO dates, lists
joined with ``"; "``, and cells that a spreadsheet would run as a formula
prefixed with ``'``; import strips that prefix again, so files round-trip.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal, TextIO

from store.config import Config
from store.database import Store
from store.errors import StoreError, ValidationFailed
from store.leads import (
    customer_match_keys,
    lead_lookup_keys,
    match_keys,
    normalise_company,
    pick_owner,
    score_lead,
)
from store.models import Activity, Contact, Customer, Lead, Opportunity, Record
from store.records import with_defaults

ImportTable = Literal["leads", "customers", "contacts"]
ExportTable = Literal["leads", "opportunities", "customers", "contacts", "activities"]
IMPORT_TABLES: dict[str, type[Record]] = {"leads": Lead, "customers": Customer, "contacts": Contact}
EXPORT_TABLES: dict[str, type[Record]] = {
    "leads": Lead, "opportunities": Opportunity, "customers": Customer, "contacts": Contact,
    "activities": Activity,
}
MAX_FILE_BYTES = 256 * 1024 * 1024
#: a cell starting with one of these is a formula (or can start one) in a spreadsheet
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
IGNORE = "ignore"
Row = tuple[int, list[str]]


class _Refused(Exception):
    """The whole file is refused; ``str(error)`` is the one line to show."""


# --- the report ------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import did (or would do): problems are bad rows, ordered by line."""

    problems: list[str] = field(default_factory=list)
    #: notes about the file (ignored columns, encoding) first, then possible duplicates by line
    warnings: list[str] = field(default_factory=list)
    written: int = 0
    refused: bool = False
    table: str = "leads"
    dry_run: bool = False
    rows: int = 0
    bad: int = 0
    duplicates: int = 0

    @property
    def good(self) -> int:
        return self.rows - self.bad

    def summary(self) -> str:
        if self.refused:
            return self._refusal()
        skipped = "would be skipped" if self.dry_run else "skipped"
        extras = [f"{_plural(self.bad, 'bad row')} {skipped}"] * bool(self.bad)
        extras += [_plural(self.duplicates, "possible duplicate")] * bool(self.duplicates)
        tail = f" ({', '.join(extras)})" if extras else ""
        if self.dry_run:
            return f"dry run: {self._records(self.good)} would be imported{tail}"
        return f"imported {self._records(self.written)}{tail}"

    def _refusal(self) -> str:
        if not self.bad:
            return "refused: nothing was imported"
        if self.bad == self.rows:
            what, hint = ("the only row is bad" if self.rows == 1 else f"all {self.rows} rows are bad"), ""
        else:
            what = f"{self.bad} of {self.rows} rows {'is' if self.bad == 1 else 'are'} bad"
            hint = f" (use --skip-bad to import the {_plural(self.good, 'good row')})"
        if self.dry_run:
            return f"dry run: refused: {what}; nothing would be imported{hint}"
        return f"refused: {what}; nothing was imported{hint}"

    def _records(self, count: int) -> str:
        return f"{count} {self.table if count != 1 else self.table.removesuffix('s')}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


# --- header synonyms ---------------------------------------------------------------------

_COMMON: dict[str, tuple[str, ...]] = {
    "owner": ("owner", "assigned to", "assignee", "sales rep", "rep", "lead owner", "account owner",
              "contact owner", "负责人", "所有者", "跟进人", "销售"),
    "email": ("email", "e-mail", "email address", "e-mail address", "mail", "邮箱", "电子邮件",
              "电子邮箱", "邮件"),
    "phone": ("phone", "mobile", "tel", "telephone", "phone number", "mobile phone", "cell",
              "cell phone", "电话", "手机", "手机号", "手机号码", "联系电话", "电话号码"),
    "notes": ("notes", "note", "description", "comments", "comment", "remarks", "备注", "说明", "描述"),
    "tags": ("tags", "tag", "labels", "label", "标签"),
}
_PERSON = ("name", "full name", "contact name", "contact", "person", "姓名", "名字", "联系人", "联系人姓名")
_FIRST = ("first name", "given name", "forename", "名")
_LAST = ("last name", "surname", "family name", "姓")
_COMPANY = ("company", "company name", "account", "account name", "organization", "organisation",
            "org", "公司", "公司名称", "单位", "企业", "企业名称")
_REGION = ("region", "territory", "area", "地区", "区域")
_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "leads": {
        "name": (*_PERSON, "lead name"), "first_name": _FIRST, "last_name": _LAST, "company": _COMPANY,
        "title": ("title", "job title", "position", "role", "职位", "职务", "头衔"),
        "source": ("source", "lead source", "channel", "来源", "线索来源", "渠道"),
        "region": _REGION,
        "grade": ("grade", "rating", "lead rating", "等级", "评级"),
        "status": ("status", "lead status", "状态"),
        "next_follow_up": ("next follow-up", "next follow up", "follow up date", "follow-up date",
                           "follow up", "next contact", "next contact date", "下次跟进", "下次跟进日期",
                           "跟进日期"),
        "disqualified_reason": ("disqualified reason", "disqualification reason", "无效原因"),
    },
    "customers": {
        "name": ("name", *_COMPANY, "customer", "customer name", "客户", "客户名称"),
        "industry": ("industry", "sector", "行业"),
        "segment": ("segment", "customer segment", "tier", "客户分级", "细分"),
        "region": _REGION,
        "website": ("website", "web site", "web", "url", "homepage", "网站", "官网", "网址"),
        "address": ("address", "street address", "地址"),
        "lifecycle": ("lifecycle", "lifecycle stage", "生命周期"),
        "revisit_days": ("revisit days", "revisit every", "回访周期"),
        "next_revisit": ("next revisit", "下次回访"),
        "active_since": ("active since", "customer since"),
        "churned_at": ("churned at", "churn date", "流失日期"),
    },
    "contacts": {
        "customer": ("customer", "customer name", "customer id", *_COMPANY, "客户", "客户名称"),
        "name": _PERSON, "first_name": _FIRST, "last_name": _LAST,
        "role": ("role", "title", "job title", "position", "职位", "职务"),
        "birthday": ("birthday", "birth date", "date of birth", "dob", "生日", "出生日期"),
        "primary": ("primary", "primary contact", "main contact", "主要联系人"),
    },
}
_REQUIRED: dict[str, tuple[str, ...]] = {"leads": ("name",), "customers": ("name",),
                                         "contacts": ("name", "customer")}
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise_header(text: str) -> str:
    """Case, width, spaces and punctuation do not matter in a header."""
    return _NON_WORD.sub("", unicodedata.normalize("NFKC", text).casefold())


def importable_fields(table: str) -> list[str]:
    """Fields a column can be read into (``first_name``/``last_name`` build ``name``)."""
    return [*_SYNONYMS[table], *(name for name in _COMMON if name not in _SYNONYMS[table])]


def _synonym_index(table: str) -> dict[str, str]:
    index: dict[str, str] = {}
    for name, words in {**_COMMON, **_SYNONYMS[table]}.items():
        for word in (name, *words):
            index.setdefault(normalise_header(word), name)
    return index


_INDEX = {table: _synonym_index(table) for table in _SYNONYMS}


# --- reading the file ----------------------------------------------------------------------


def _read_text(path: Path) -> tuple[str, str]:
    """The file's text and the encoding it was read as."""
    try:
        if path.is_dir():
            raise StoreError(f"{path} is a folder, not a CSV file")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise _Refused(f"{path} is larger than {MAX_FILE_BYTES // 2**20} MB; split it")
        data = path.read_bytes()
    except FileNotFoundError:
        raise StoreError(f"no such file: {path}") from None
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}") from None
    return _decode(data, path)


def _decode(data: bytes, path: Path) -> tuple[str, str]:
    """UTF-8 (BOM or not), UTF-16 (as Excel's "Unicode text"), else GBK or
    Windows-1252 when the text plainly is one of them (Excel's "CSV" on Chinese
    or Western Windows); anything else is refused."""
    boms = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
    candidates: list[tuple[str, Callable[[str], bool]]] = [
        (codec, _anything) for bom, codec in boms if data.startswith(bom)]
    if not candidates:
        candidates = [(_utf16_without_bom(data) or "utf-8", _anything), ("gbk", _looks_chinese),
                      ("cp1252", _looks_western)]
    for codec, plausible in candidates:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if plausible(text):
            return text, codec
    raise _Refused(f"{path} is not UTF-8 text (save it as CSV UTF-8)")


def _anything(text: str) -> bool:
    return True


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[:2000]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2].count(0) / len(sample[0::2]), sample[1::2].count(0) / len(sample[1::2])
    if odd > 0.3 and even == 0:
        return "utf-16-le"
    return "utf-16-be" if even > 0.3 and odd == 0 else None


def _looks_chinese(text: str) -> bool:
    """Read as GBK, nearly every non-ASCII character is a common (GB2312) one:
    Western text read as GBK makes rare characters out of a letter and its neighbour."""
    wide = [ch for ch in text if ord(ch) > 127]
    common = sum(1 for ch in wide if _gb2312(ch))
    return bool(wide) and common >= 0.9 * len(wide)


def _gb2312(ch: str) -> bool:
    encoded = ch.encode("gbk")
    return len(encoded) == 2 and encoded[0] >= 0xA1 and encoded[1] >= 0xA1


def _looks_western(text: str) -> bool:
    """Read as Windows-1252, accented letters mostly stand alone among ASCII ones
    (East Asian text read that way is all runs of accented letters)."""
    wide = [i for i, ch in enumerate(text) if ord(ch) > 127]
    paired = sum(1 for i in wide if (i > 0 and ord(text[i - 1]) > 127)
                 or (i + 1 < len(text) and ord(text[i + 1]) > 127))
    return paired <= 0.5 * len(wide)


def _delimiter(text: str) -> tuple[str, bool]:
    """The delimiter, and whether the first line is Excel's ``sep=X`` hint."""
    hint = re.match(r"sep=([,;\t|])\r?\n", text)
    if hint:
        return hint.group(1), True
    sample = text[:65536]
    widths = {d: len(next(csv.reader(io.StringIO(sample, newline=""), delimiter=d), [])) for d in ",;\t"}
    return max(widths, key=lambda d: widths[d]), False


def _parse(text: str, path: Path) -> tuple[list[Row], str]:
    """Non-blank records with the line each starts on (quoted cells may span lines)."""
    delimiter, hint = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[Row] = []
    start = 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        problem = "a quoted cell is never closed" if "end of data" in str(exc) else str(exc)
        raise _Refused(f"{path} line {start}: {problem}") from None
    return rows[1:] if hint else rows, delimiter


# --- columns -------------------------------------------------------------------------------


@dataclass
class _Layout:
    """Which cell goes into which field."""

    table: str
    columns: list[tuple[int, str]]
    width: int
    has_header: bool
    delimiter: str = ","
    notes: list[str] = field(default_factory=list)

    def values(self, cells: list[str]) -> dict[str, str]:
        values: dict[str, str] = {}
        for index, name in self.columns:
            cell = _unescape(cells[index]).strip() if index < len(cells) else ""
            if not cell:
                continue
            if name == "tags" and "tags" in values:
                values["tags"] += ";" + cell
            else:
                values.setdefault(name, cell)
        return values

    def extra_cells(self, cells: list[str]) -> str | None:
        if not self.has_header or len(cells) <= self.width or not any(c.strip() for c in cells[self.width:]):
            return None
        shown = "tab" if self.delimiter == "\t" else repr(self.delimiter)
        return (f"{len(cells)} cells but the header has {self.width} "
                f"(a value that contains {shown} needs quotes)")


def _unescape(cell: str) -> str:
    """Undo the ``'`` that an export puts before a formula-like cell."""
    return cell[1:] if cell.startswith("'") and cell[1:2] and cell[1] in FORMULA_START else cell


def _layout(table: str, first: list[str], mapping: Mapping[str, str], path: Path) -> _Layout:
    fields = importable_fields(table)
    explicit = {col: _mapped_field(table, col, name, fields) for col, name in mapping.items()}
    by_name = _columns_by_name(first, explicit)
    known = set(_INDEX[table]) | _dealdeck_fields(table)
    has_header = (bool(by_name) or any(normalise_header(cell) in known for cell in first)
                  or any(not column.strip().isdigit() for column in explicit))
    if not has_header and not explicit:
        raise _Refused(_no_header(path, table, first))
    columns = _explicit_columns(explicit, by_name, first, path, has_header)
    notes: list[str] = []
    if has_header:
        columns += _header_columns(table, first, columns, notes)
    columns = sorted(c for c in columns if c[1] != IGNORE)
    _check_required(table, columns, first if has_header else [], path)
    notes += _shared_fields(columns, first, has_header)
    return _Layout(table, columns, len(first), has_header, notes=notes)


def _mapped_field(table: str, column: str, name: str, fields: list[str]) -> str:
    wanted = name.strip().lower()
    if wanted in fields or wanted == IGNORE:
        return wanted
    noun = IMPORT_TABLES[table].noun
    raise _Refused(f"--map {column}={name}: {name!r} is not a {noun} field "
                   f"(fields: {', '.join(fields)}; or {IGNORE})")


def _columns_by_name(first: list[str], explicit: Mapping[str, str]) -> dict[str, int]:
    """Mapped column -> index, for mapping keys that name a header cell."""
    found: dict[str, int] = {}
    stripped = [cell.strip() for cell in first]
    normalised = [normalise_header(cell) for cell in first]
    for column in explicit:
        if column.strip() in stripped:
            found[column] = stripped.index(column.strip())
        elif normalise_header(column) and normalise_header(column) in normalised:
            found[column] = normalised.index(normalise_header(column))
    return found


def _explicit_columns(explicit: Mapping[str, str], by_name: Mapping[str, int], first: list[str],
                      path: Path, has_header: bool) -> list[tuple[int, str]]:
    columns: list[tuple[int, str]] = []
    for column, name in explicit.items():
        index = by_name.get(column)
        if index is None and column.strip().isdigit() and int(column) >= 1:
            index = int(column) - 1
        if index is None:
            raise _Refused(f"--map {column}={name}: {path} has no column {column!r} "
                           f"(columns: {_listing(first) if has_header else 'no header row'})")
        columns.append((index, name))
    return columns


def _header_columns(table: str, first: list[str], explicit: list[tuple[int, str]],
                    notes: list[str]) -> list[tuple[int, str]]:
    """Columns named by the header, minus those --map already took."""
    taken_cells = {index for index, _ in explicit}
    taken_fields = {name for _, name in explicit}
    columns: list[tuple[int, str]] = []
    unknown, dealdeck, overridden = [], [], []
    for index, cell in enumerate(first):
        if index in taken_cells or not cell.strip():
            continue
        key = normalise_header(cell)
        name = _INDEX[table].get(key)
        if name is None:
            (dealdeck if key in _dealdeck_fields(table) else unknown).append(cell.strip())
        elif name in taken_fields:
            overridden.append(cell.strip())
        else:
            columns.append((index, name))
    noun = IMPORT_TABLES[table].noun
    if unknown:
        notes.append(f"note: ignored columns that are not {noun} fields: {_listing(unknown)} "
                     "(use --map COLUMN=field to read one)")
    if dealdeck:
        notes.append(f"note: ignored columns that Dealdeck sets itself: {_listing(dealdeck)}")
    if overridden:
        notes.append(f"note: ignored columns replaced by --map: {_listing(overridden)}")
    return columns


def _dealdeck_fields(table: str) -> set[str]:
    """Model fields a file cannot set (ids, stamps, computed values)."""
    cls = IMPORT_TABLES[table]
    return {normalise_header(name) for name in cls.model_fields} - set(_INDEX[table])


def _check_required(table: str, columns: list[tuple[int, str]], first: list[str], path: Path) -> None:
    present = {name for _, name in columns}
    if present & {"first_name", "last_name"}:
        present.add("name")
    for name in _REQUIRED[table]:
        if name not in present:
            columns = f"columns: {_listing(first)}" if first else "no header row"
            raise _Refused(f"{path}: no column for {name} ({columns}); "
                           f"name one {name!r} or use --map COLUMN={name}")


def _shared_fields(columns: list[tuple[int, str]], first: list[str], has_header: bool) -> list[str]:
    by_field: dict[str, list[str]] = defaultdict(list)
    for index, name in columns:
        label = first[index].strip() if has_header and index < len(first) else f"column {index + 1}"
        by_field[name].append(label)
    return [f"note: columns {_listing(labels)} all read {name}; "
            f"{'they are merged' if name == 'tags' else 'the first non-empty one is used'}"
            for name, labels in by_field.items() if len(labels) > 1]


def _no_header(path: Path, table: str, first: list[str]) -> str:
    return (f"{path}: the first row ({_listing(first)}) is not a header naming {table} fields; "
            f"add a header row (e.g. {', '.join(importable_fields(table)[:4])}) "
            "or use --map COLUMN=field (COLUMN: a header or a column number)")


def _listing(items: Iterable[str], limit: int = 12) -> str:
    items = [item.strip() for item in items]
    shown = ", ".join(items[:limit])
    return shown + (f", ... ({len(items)} in all)" if len(items) > limit else "")


# --- cell values ---------------------------------------------------------------------------

_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_TAG_SPLIT = re.compile(r"[,;，；、]")
_TRUE = {"yes", "y", "true", "t", "1", "x", "on", "是"}
_FALSE = {"no", "n", "false", "f", "0", "off", "否"}
DATE_FIELDS = frozenset({"next_follow_up", "next_revisit", "birthday", "active_since", "churned_at"})


def parse_date(value: str) -> date:
    """``YYYY-MM-DD`` or ``YYYY/MM/DD`` (a time after it is ignored)."""
    match = _DATE.match(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a date (expected YYYY-MM-DD)")
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        raise ValueError(f"{value!r} is not a real date (expected YYYY-MM-DD)") from None


def split_tags(value: str) -> list[str]:
    tags = [tag.strip() for tag in _TAG_SPLIT.split(value) if tag.strip()]
    for tag in tags:
        if len(tag) > 40:
            raise ValueError(f"tag {tag[:20]!r}... is longer than 40 characters")
    if len(tags) > 50:
        raise ValueError(f"{len(tags)} tags (at most 50)")
    return tags


def _yes_no(value: str) -> bool:
    lowered = value.strip().casefold()
    if lowered in _TRUE or lowered in _FALSE:
        return lowered in _TRUE
    raise ValueError(f"{value!r} is not yes or no")


def _choice(value: str) -> str:
    return re.sub(r"[\s-]+", "_", value.strip().casefold())


def _join_name(first: str, last: str) -> str:
    if any(_is_cjk(ch) for ch in first + last):
        return last + first
    return " ".join(part for part in (first, last) if part)


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


_FRIENDLY = (
    (re.compile(r"^Field required$"), "is empty (required)"),
    (re.compile(r"^Value should have at least 1 item after validation, not 0$"), "is empty (required)"),
    (re.compile(r"^Value should have at most (\d+) items after validation, not (\d+)$"),
     r"too long: \2 characters (at most \1)"),
    (re.compile(r"^Input should be a valid integer.*$"), "should be a whole number"),
    (re.compile(r"^Input should be (.*)$"), r"should be \1"),
)


def friendly(message: str) -> str:
    """Pydantic's wording, made for a person fixing a spreadsheet."""
    for pattern, replacement in _FRIENDLY:
        if pattern.match(message):
            return pattern.sub(replacement, message)
    return message[:1].lower() + message[1:]


# --- lookups ----------------------------------------------------------------------------------


class _Reps:
    """Rep ids and names from the config; ``auto`` assigns by the config's rule."""

    def __init__(self, store: Store, table: str) -> None:
        self.config: Config = store.config
        self.store, self.cls = store, IMPORT_TABLES[table]
        self.ids = {r.id.casefold(): r.id for r in store.config.reps}
        self.names = {r.name.strip().casefold(): r.id for r in store.config.reps}
        self._last: str | None = None
        self._last_known = False

    def resolve(self, value: str) -> str:
        key = value.strip().casefold()
        if key == "auto":
            return "auto"
        rep = self.ids.get(key) or self.names.get(key)
        if rep is None:
            reps = _listing(self.ids.values())
            raise ValueError(f"{value.strip()!r} is not one of the team's reps ({reps})")
        return rep

    def auto(self, data: Mapping[str, Any]) -> str:
        if not self._last_known:
            newest = max(self.store.rows(self.cls), key=lambda d: str(d.get("created_at")), default=None)
            self._last, self._last_known = (newest or {}).get("owner"), True
        return pick_owner(self.config, data, [self._last] if self._last else [])

    def got(self, owner: str) -> None:
        """``owner`` got the latest record: round robin continues after them."""
        self._last, self._last_known = owner, True


class _Customers:
    """Find a contact's customer by id, exact name, or name without Ltd/Inc."""

    def __init__(self, store: Store) -> None:
        self.ids: set[str] = set()
        self.exact: dict[str, list[str]] = defaultdict(list)
        self.loose: dict[str, list[str]] = defaultdict(list)
        self.names: dict[str, str] = {}
        for doc in store.rows(Customer):
            self.ids.add(doc["id"])
            self.names[doc["id"]] = doc["name"]
            self.exact[doc["name"].strip().casefold()].append(doc["id"])
            self.loose[normalise_company(doc["name"])].append(doc["id"])

    def find(self, value: str) -> str:
        if value in self.ids:
            return value
        for found in (self.exact.get(value.casefold(), []), self.loose.get(normalise_company(value), [])):
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                names = _listing((self.names[i] for i in found), limit=3)
                raise ValueError(f"{len(found)} customers match {value!r} ({names}); "
                                 "use the exact name or the customer's id")
        raise ValueError(f"no customer named {value!r} (import the customers first)")


class _Duplicates:
    """Existing records and earlier rows that look like the same person or company
    (the keys of ``store.leads``, as ``Store.duplicates_of`` uses them, indexed once)."""

    def __init__(self, store: Store, table: str) -> None:
        self.table = table
        self.existing: dict[str, list[str]] = defaultdict(list)
        self.in_file: dict[str, str] = {}
        if table == "leads":
            self._index(store.rows(Lead), match_keys, "lead")
        self._index(store.rows(Customer), customer_match_keys, "customer")

    def _index(self, docs: Iterable[Mapping[str, Any]], keys: Callable[[Mapping[str, Any]], set[str]],
               noun: str) -> None:
        for doc in docs:
            label = f"existing {noun} {doc['name']} (owner {doc['owner']})"
            for key in keys(doc):
                self.existing[key].append(label)

    def check(self, line: int, record: Record) -> str | None:
        doc = record.model_dump(include={"name", "company", "email", "phone"})
        lookup = lead_lookup_keys(doc) if self.table == "leads" else customer_match_keys(doc)
        own = match_keys(doc) if self.table == "leads" else lookup
        found = list(dict.fromkeys(label for key in lookup for label in self.existing.get(key, [])))
        found += list(dict.fromkeys(self.in_file[key] for key in own if key in self.in_file))
        for key in own:
            self.in_file.setdefault(key, f"line {line} ({record.label()})")
        if not found:
            return None
        more = f" and {len(found) - 1} more" if len(found) > 1 else ""
        return f"line {line}: looks like {found[0]}{more}"


# --- import -----------------------------------------------------------------------------------


class _Importer:
    """Turns each row into a validated record, or into problems."""

    def __init__(self, store: Store, table: str, layout: _Layout, owner: str | None, path: Path) -> None:
        self.store, self.table, self.layout = store, table, layout
        self.cls = IMPORT_TABLES[table]
        self.reps = _Reps(store, table)
        self.owner = self._default_owner(owner)
        self.customers = _Customers(store) if table == "contacts" else None
        self.duplicates = _Duplicates(store, table) if table in ("leads", "customers") else None
        self.sources = {s.casefold(): s for s in store.config.lead_sources}
        self.note = f"imported from {path.name}"[:200]
        #: with a grade column, its cells are the grades (an empty one: ungraded)
        self.graded = any(name == "grade" for _, name in layout.columns)
        self.converters: dict[str, Callable[[str], Any]] = {
            **dict.fromkeys(DATE_FIELDS, parse_date), "tags": split_tags, "grade": str.upper,
            "status": _choice, "lifecycle": _choice, "primary": _yes_no, "owner": self.reps.resolve,
            "source": lambda v: self.sources.get(v.casefold(), v),
        }
        if self.customers is not None:
            self.converters["customer"] = self.customers.find

    def _default_owner(self, owner: str | None) -> str:
        if owner is None:
            return self.store.me
        try:
            return self.reps.resolve(owner)
        except ValueError as exc:
            raise _Refused(f"--owner {owner}: {exc}") from None

    def convert(self, values: Mapping[str, str], errors: dict[str, str]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name, value in values.items():
            try:
                data[name] = self.converters.get(name, str)(value)
            except ValueError as exc:
                errors[name] = str(exc)
        first, last = data.pop("first_name", ""), data.pop("last_name", "")
        if "name" not in data and "name" not in errors and (first or last):
            data["name"] = _join_name(first, last)
        if "customer" in data:
            data["customer_id"] = data.pop("customer")
        return data

    def record(self, line: int, cells: list[str]) -> tuple[Record | None, list[str]]:
        errors: dict[str, str] = {}
        extra = self.layout.extra_cells(cells)
        if extra:
            errors[""] = extra
        data = self.convert(self.layout.values(cells), errors)
        self._complete(data)
        try:
            record = self.store.validate(self.cls, data)
        except ValidationFailed as exc:
            for name, message in exc.errors.items():
                errors.setdefault(self._column_of(name), friendly(message))
            record = None
        if errors:
            return None, [f"line {line}: {name}: {message}" if name else f"line {line}: {message}"
                          for name, message in errors.items()]
        return record, []

    def _column_of(self, name: str) -> str:
        return "customer" if name == "customer_id" and self.table == "contacts" else name

    def _complete(self, data: dict[str, Any]) -> None:
        """Owner, and for a lead its score, grade and first history event."""
        owner = data.get("owner") or self.owner
        data["owner"] = self.reps.auto(data) if owner == "auto" else owner
        if self.table != "leads":
            return
        data["score"] = score_lead(data)
        if not self.graded:
            data["grade"] = self.store.config.grade_for(data["score"])
        kind = "created" if data["owner"] == self.store.me else "assigned"
        data["history"] = [{"kind": kind, "by": self.store.me, "to": data["owner"], "note": self.note}]

    def run(self, rows: list[Row], report: ImportReport) -> list[Record]:
        good: list[Record] = []
        for line, cells in rows:
            record, problems = self.record(line, cells)
            report.problems += problems
            if record is None:
                report.bad += 1
                continue
            good.append(record)
            self.reps.got(record.owner)
            warning = self.duplicates.check(line, record) if self.duplicates else None
            if warning:
                report.warnings.append(warning)
                report.duplicates += 1
        report.rows = len(rows)
        return good


def import_csv(store: Store, path: str | Path, table: ImportTable, *,
               mapping: Mapping[str, str] | None = None, owner: str | None = None,
               dry_run: bool = False, skip_bad: bool = False) -> ImportReport:
    """Import a CSV file's rows as ``table`` records; see the module docstring.

    A file that does not exist raises ``StoreError``; every other problem is
    in the report (``refused`` when nothing may be written).
    """
    if table not in IMPORT_TABLES:
        raise StoreError(f"cannot import {table}; choose one of {', '.join(IMPORT_TABLES)}")
    path = Path(path)
    report = ImportReport(table=table, dry_run=dry_run)
    try:
        records = _check_file(store, path, table, mapping or {}, owner, report)
    except _Refused as exc:
        report.refused, report.problems = True, [str(exc)]
        return report
    report.refused = (report.bad > 0 and not skip_bad) or report.good == 0
    if not report.refused and not dry_run:
        report.written = _write(store, records)
    return report


def _check_file(store: Store, path: Path, table: str, mapping: Mapping[str, str], owner: str | None,
                report: ImportReport) -> list[Record]:
    text, encoding = _read_text(path)
    rows, delimiter = _parse(text, path)
    if not rows:
        raise _Refused(f"{path} is empty: no header and no rows")
    layout = _layout(table, rows[0][1], mapping, path)
    layout.delimiter = delimiter
    data_rows = rows[1:] if layout.has_header else rows
    if not data_rows:
        raise _Refused(f"{path} has a header row but no rows to import")
    if encoding in ("gbk", "cp1252"):
        report.warnings.append(f"note: {path} is not UTF-8; it was read as "
                               f"{'GBK (Chinese)' if encoding == 'gbk' else 'Windows-1252 (Western)'}; "
                               "check the names, or save it as CSV UTF-8")
    report.warnings += layout.notes
    store.refresh()
    return _Importer(store, table, layout, owner, path).run(data_rows, report)


def _write(store: Store, records: list[Record]) -> int:
    """All records in one transaction: every one is written, or none."""
    with store.writing() as w:
        for record in records:
            w.insert(record)
    return len(records)


# --- export ------------------------------------------------------------------------------------

_LINKS: dict[str, type[Record]] = {"lead_id": Lead, "opportunity_id": Opportunity,
                                   "customer_id": Customer, "contact_id": Contact}
#: link fields exported as the linked record's name; other links are left out
_EXPORTED_LINKS: dict[str, tuple[str, ...]] = {
    "opportunities": ("customer_id", "contact_id"),
    "contacts": ("customer_id",),
    "activities": ("lead_id", "opportunity_id", "customer_id", "contact_id"),
}


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


def escape_cell(text: str) -> str:
    """Keep a spreadsheet from running a cell as a formula (CSV injection)."""
    return "'" + text if text.startswith(FORMULA_START) else text


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return escape_cell("; ".join(str(item) for item in value))
    return escape_cell(str(value))


def export_csv(store: Store, table: ExportTable, out: TextIO, *, bom: bool = False) -> int:
    """Write ``table``'s live records to ``out`` as CSV; return how many.

    ``bom`` starts the text with a byte order mark, which makes Excel read the
    file as UTF-8 (its default is the system code page).
    """
    if table not in EXPORT_TABLES:
        raise StoreError(f"cannot export {table}; choose one of {', '.join(EXPORT_TABLES)}")
    cls = EXPORT_TABLES[table]
    columns = export_columns(table)
    labels = {key: _labels(store, _LINKS[key]) for _, key in columns if key in _LINKS}
    stages = {stage.key: stage.label for stage in store.config.stages}
    if bom:
        out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([header for header, _ in columns])
    count = 0
    for doc in sorted(store.rows(cls), key=lambda d: (str(d.get("created_at")), d["id"])):
        full = with_defaults(cls, doc)
        writer.writerow([_export_value(full, header, key, labels, stages) for header, key in columns])
        count += 1
    return count


SEGMENT_COLUMNS = ("name", "industry", "segment", "tags", "lifecycle", "health", "owner", "email", "phone",
                   "contact", "contact_role", "contact_email", "contact_phone", "lifetime_value",
                   "open_deals", "last_contact", "next_revisit", "rfm", "satisfaction")


def export_customers(store: Store, ids: Iterable[str], out: TextIO, *, facts: Mapping[str, Any],
                     bom: bool = True) -> int:
    """Customers (a segment, in the given order) for a mailing or a campaign: the
    card's figures and the primary contact (or the first one). ``facts`` maps a
    customer id to its ``store.customers.CustomerRow``."""
    contacts: dict[str, Mapping[str, Any]] = {}
    for doc in store.rows(Contact):
        known = contacts.get(doc["customer_id"])
        if known is None or (doc.get("primary") and not known.get("primary")):
            contacts[doc["customer_id"]] = doc
    if bom:
        out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(SEGMENT_COLUMNS)
    count = 0
    table = store.storage.tables[Customer.table]
    for customer_id in ids:
        doc, row = table.get(customer_id), facts.get(customer_id)
        if doc is None or row is None:
            continue
        contact = contacts.get(customer_id, {})
        answer = row.latest_answer
        writer.writerow([_cell(value) for value in (
            doc["name"], doc.get("industry"), doc.get("segment"), list(doc.get("tags") or ()),
            doc.get("lifecycle") or "prospect", row.health, doc.get("owner"), doc.get("email"), doc.get("phone"),
            contact.get("name"), contact.get("role"), contact.get("email"), contact.get("phone"),
            f"{row.value:.2f}", row.open_deals, row.last_contact, row.next_revisit,
            f"{row.rfm[0]}{row.rfm[1]}{row.rfm[2]}", answer.shown() if answer else "")])
        count += 1
    return count


def _export_value(doc: Mapping[str, Any], header: str, key: str, labels: Mapping[str, Mapping[str, str]],
                  stages: Mapping[str, str]) -> str:
    value = doc.get(key)
    if key in labels:
        return _cell(labels[key].get(value or "", ""))
    if header == "stage_label":
        return _cell(stages.get(str(value), value))
    return _cell(value)


def _labels(store: Store, cls: type[Record]) -> dict[str, str]:
    return {doc["id"]: str(doc.get("name") or doc.get("title") or "") for doc in store.rows(cls)}


__all__ = ["EXPORT_TABLES", "IMPORT_TABLES", "ImportReport", "escape_cell", "export_columns",
           "export_csv", "export_customers", "import_csv", "normalise_header", "parse_date"]
