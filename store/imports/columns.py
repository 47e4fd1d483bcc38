"""Which column of a CSV file goes where: headers matched to fields.

Headers are matched through a synonym table (English and Chinese, and the
column names of the usual CRMs' exports); ``--map COLUMN=target`` overrides.
A target is a field, ``key`` (the other system's record id), ``notes-line``
(kept as a ``Column: value`` line in the notes) or ``ignore``. Columns no
field takes are notes lines too, unless the import drops them.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from store.csv_export import FORMULA_START
from store.custom_fields import CustomField
from store.imports.reading import Refused
from store.models import Contact, Customer, Lead, Record

IMPORT_TABLES: dict[str, type[Record]] = {"leads": Lead, "customers": Customer, "contacts": Contact}
IGNORE, KEY, NOTES_LINE = "ignore", "key", "notes-line"
TARGETS = (KEY, NOTES_LINE, IGNORE)

_COMMON: dict[str, tuple[str, ...]] = {
    "owner": ("owner", "assigned to", "assignee", "sales rep", "rep", "lead owner", "account owner",
              "contact owner", "owner name", "owner email", "record owner", "salesperson", "sales person",
              "assigned user", "user", "负责人", "所有者", "跟进人", "销售", "销售人员", "归属人", "业务员"),
    "email": ("email", "e-mail", "email address", "e-mail address", "mail", "work email", "primary email",
              "business email", "email 1", "e-mail 1 - value", "邮箱", "电子邮件", "电子邮箱", "邮件", "邮箱地址"),
    "phone": ("phone", "mobile", "tel", "telephone", "phone number", "mobile phone", "mobile number", "cell",
              "cell phone", "work phone", "business phone", "primary phone", "phone 1 - value", "电话", "手机",
              "手机号", "手机号码", "联系电话", "电话号码", "联系方式"),
    "notes": ("notes", "note", "description", "comments", "comment", "remarks", "备注", "说明", "描述"),
    "tags": ("tags", "tag", "labels", "label", "标签"),
}
_PERSON = ("name", "full name", "contact name", "contact", "person", "person name", "姓名", "名字", "联系人",
           "联系人姓名")
_FIRST = ("first name", "firstname", "given name", "forename", "名")
_LAST = ("last name", "lastname", "surname", "family name", "姓")
_COMPANY = ("company", "company name", "account", "account name", "organization", "organisation", "organization name",
            "org", "org name", "公司", "公司名称", "单位", "企业", "企业名称")
_REGION = ("region", "territory", "area", "state/region", "state", "province", "sales region", "地区", "区域", "省份",
           "所在地区")
_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "leads": {
        "name": (*_PERSON, "lead name", "线索名称"), "first_name": _FIRST, "last_name": _LAST, "company": _COMPANY,
        "title": ("title", "job title", "position", "role", "designation", "职位", "职务", "头衔"),
        "source": ("source", "lead source", "original source", "channel", "来源", "线索来源", "客户来源", "渠道"),
        "region": _REGION,
        "grade": ("grade", "rating", "lead rating", "lead grade", "等级", "评级", "客户级别", "线索等级", "级别"),
        "status": ("status", "lead status", "跟进状态", "线索状态", "状态"),
        "next_follow_up": ("next follow-up", "next follow up", "follow up date", "follow-up date", "follow up",
                           "next contact", "next contact date", "next activity date", "下次跟进", "下次跟进日期",
                           "下次跟进时间", "跟进日期"),
        "disqualified_reason": ("disqualified reason", "disqualification reason", "unqualified reason",
                                "lost reason", "无效原因"),
    },
    "customers": {
        "name": ("name", *_COMPANY, "customer", "customer name", "客户", "客户名称", "客户姓名"),
        "industry": ("industry", "sector", "行业", "所属行业"),
        "segment": ("segment", "customer segment", "tier", "customer level", "客户分级", "客户级别", "细分"),
        "region": _REGION,
        "website": ("website", "web site", "web", "url", "homepage", "website url", "company domain name",
                    "domain", "网站", "官网", "网址"),
        "address": ("address", "street address", "street", "billing street", "billing address", "地址", "详细地址"),
        "lifecycle": ("lifecycle", "lifecycle stage", "type", "account type", "customer status", "生命周期",
                      "客户状态", "客户类型"),
        "revisit_days": ("revisit days", "revisit every", "回访周期"),
        "next_revisit": ("next revisit", "下次回访"),
        "active_since": ("active since", "customer since", "became a customer date", "成为客户日期"),
        "churned_at": ("churned at", "churn date", "流失日期"),
    },
    "contacts": {
        "customer": ("customer", "customer name", "customer id", *_COMPANY, "客户", "客户名称"),
        "name": _PERSON, "first_name": _FIRST, "last_name": _LAST,
        "role": ("role", "title", "job title", "position", "职位", "职务"),
        "birthday": ("birthday", "birth date", "date of birth", "dob", "birthdate", "生日", "出生日期"),
        "primary": ("primary", "primary contact", "main contact", "主要联系人"),
    },
}
#: read only when no column above gave the field a value (HubSpot's lifecycle stage
#: tells a lead's status less well than its lead status)
_OTHER_CONTACT = {"email": ("email work", "email home", "email other", "other email", "email 2", "email2"),
                  "phone": ("phone work", "phone home", "phone other", "home phone", "other phone", "phone 2")}
_FALLBACKS: dict[str, dict[str, tuple[str, ...]]] = {
    "leads": {"status": ("lifecycle stage", "stage", "阶段"), "grade": ("priority", "优先级"), **_OTHER_CONTACT},
    "customers": dict(_OTHER_CONTACT),
    "contacts": dict(_OTHER_CONTACT),
}
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_KEYS: dict[str, tuple[str, ...]] = {
    "leads": ("id", "record id", "lead id", "leadid", "contact id", "person id", "external id", "uid",
              "zcrm id", "线索编号", "线索id", "编号"),
    "customers": ("id", "record id", "account id", "company id", "organization id", "customer id", "external id",
                  "uid", "客户编号", "客户id", "编号"),
    "contacts": ("id", "record id", "contact id", "person id", "external id", "uid", "联系人编号", "联系人id"),
}
REQUIRED: dict[str, tuple[str, ...]] = {"leads": ("name",), "customers": ("name",), "contacts": ("name", "customer")}
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise_header(text: str) -> str:
    """Case, width, spaces and punctuation do not matter in a header."""
    return _NON_WORD.sub("", unicodedata.normalize("NFKC", text).casefold())


def _common(table: str) -> dict[str, tuple[str, ...]]:
    """The shared fields this table's records have (a contact has no tags)."""
    fields = IMPORT_TABLES[table].model_fields
    return {name: words for name, words in _COMMON.items() if name in fields}


def importable_fields(table: str) -> list[str]:
    """Fields a column can be read into (``first_name``/``last_name`` build ``name``)."""
    return [*_SYNONYMS[table], *(name for name in _common(table) if name not in _SYNONYMS[table])]


def _index(groups: Mapping[str, tuple[str, ...]], into: dict[str, str]) -> dict[str, str]:
    for name, words in groups.items():
        for word in (name, *words):
            into.setdefault(normalise_header(word), name)
    return into


_INDEX = {table: _index({**_common(table), **_SYNONYMS[table]}, {}) for table in _SYNONYMS}
_FALLBACK_INDEX = {table: _index(_FALLBACKS[table], {}) for table in _SYNONYMS}
_KEY_INDEX = {table: {normalise_header(word) for word in words} for table, words in _KEYS.items()}


@dataclass(frozen=True)
class Column:
    """One file column and where it goes."""

    index: int
    header: str
    target: str
    #: 0 for a column named for its field, 1 for a fallback (read when the others are empty)
    rank: int = 0
    #: how the target was chosen: "header", "--map", "mapping" or "unmapped"
    how: str = "header"


@dataclass
class Layout:
    """Which cell goes into which field, for every row of one file."""

    table: str
    columns: list[Column]
    width: int
    has_header: bool
    delimiter: str = ","
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        reads = [c for c in self.columns if c.target not in TARGETS]
        self._fields = [(c.index, c.target, c.header) for c in sorted(reads, key=lambda c: (c.rank, c.index))]
        self._key = next((c.index for c in self.columns if c.target == KEY), None)
        self._lines = [(c.index, c.header) for c in self.columns if c.target == NOTES_LINE]

    @property
    def fields(self) -> set[str]:
        return {name for _, name, _ in self._fields}

    @property
    def key_column(self) -> Column | None:
        return next((c for c in self.columns if c.target == KEY), None)

    def values(self, cells: list[str], lines: list[str] | None = None) -> dict[str, str]:
        """Each field's value: the first non-empty cell of the columns that read it (tags
        from all of them). Another column's different value for a field already read (a
        second phone, a home e-mail) is not lost: it goes to ``lines`` as ``Column: value``."""
        values: dict[str, str] = {}
        width = len(cells)
        for index, name, header in self._fields:
            cell = unescape(cells[index]).strip() if index < width else ""
            if not cell:
                continue
            if name == "tags" and "tags" in values:
                values["tags"] += ";" + cell
            elif name not in values:
                values[name] = cell
            elif lines is not None and cell != values[name]:
                lines.append(f"{header}: {' '.join(cell.split())}")
        return values

    def key(self, cells: list[str]) -> str:
        index = self._key
        return cells[index].strip() if index is not None and index < len(cells) else ""

    def note_lines(self, cells: list[str]) -> list[str]:
        width = len(cells)
        return [f"{header}: {' '.join(cells[index].split())}" for index, header in self._lines
                if index < width and cells[index].strip()]

    def extra_cells(self, cells: list[str]) -> str | None:
        if not self.has_header or len(cells) <= self.width or not any(c.strip() for c in cells[self.width:]):
            return None
        shown = "tab" if self.delimiter == "\t" else repr(self.delimiter)
        return (f"{len(cells)} cells but the header has {self.width} "
                f"(a value that contains {shown} needs quotes)")


def is_field_key_row(header: list[str], cells: list[str]) -> bool:
    """A Chinese CRM's import template puts the program's field names (``customerName``)
    under the header: a row of identifiers under a header in Chinese is not a record."""
    filled = [cell.strip() for cell in cells if cell.strip()]
    chinese = sum(1 for cell in header if any("\u4e00" <= ch <= "\u9fff" for ch in cell))
    return (len(filled) >= 3 and chinese >= len(filled) // 2
            and all(_IDENTIFIER.match(cell) for cell in filled))


def unescape(cell: str) -> str:
    """Undo the ``'`` that an export puts before a formula-like cell (or before a
    value that itself began with ``'`` and a formula character)."""
    if cell.startswith("'") and cell.lstrip("'").startswith(FORMULA_START):
        return cell[1:]
    return cell


def custom_targets(specs: Iterable[CustomField]) -> dict[str, str]:
    """The words that name each custom field in a header or a ``--map``: its key, its label
    and ``cf.<key>``, normalised -> ``cf.<key>``."""
    words: dict[str, str] = {}
    for spec in specs:
        for word in (spec.name, spec.key, spec.label):
            words.setdefault(normalise_header(word), spec.name)
    return words


def plan_columns(table: str, first: list[str], mapping: Mapping[str, str], path: Path, *,
                 key: str | None = None, keep_unmapped: bool = True, saved: Mapping[str, str] | None = None,
                 custom: Mapping[str, str] | None = None) -> Layout:
    """The layout of a file whose first row is ``first``: ``mapping`` (``--map``) wins over
    ``saved`` (a saved mapping), which wins over the header; ``key`` names the id column;
    ``custom``: the team's custom fields of ``table`` (``custom_targets``), matched by key or label."""
    custom = custom or {}
    explicit = {**{col: (t, "mapping") for col, t in (saved or {}).items()},
                **{col: (t, "--map") for col, t in mapping.items()}}
    if key:
        explicit[key] = (KEY, "--key")
    targets = {col: (_target(table, col, wanted, how, custom), how) for col, (wanted, how) in explicit.items()}
    positions = _columns_by_name(first, targets)
    known = set(_INDEX[table]) | _dealdeck_fields(table) | _KEY_INDEX[table] | set(custom)
    has_header = (bool(positions) or any(normalise_header(cell) in known for cell in first)
                  or any(not column.strip().isdigit() for column in targets))
    if not has_header and not targets:
        raise Refused(_no_header(path, table, first))
    columns = _explicit_columns(targets, positions, first, path, has_header, saved or {})
    notes: list[str] = []
    if has_header:
        columns += _header_columns(table, first, columns, notes, keep_unmapped, custom)
    columns.sort(key=lambda c: c.index)
    _check_required(table, columns, first if has_header else [], path)
    notes += _shared_fields(columns)
    return Layout(table, columns, len(first), has_header, notes=notes)


def _target(table: str, column: str, wanted: str, how: str, custom: Mapping[str, str]) -> str:
    name = wanted.strip().lower()
    fields = importable_fields(table)
    if name in fields or name in TARGETS:
        return name
    if name.startswith("cf.") and normalise_header(name) in custom:
        return custom[normalise_header(name)]
    noun = IMPORT_TABLES[table].noun
    flag = "--key" if how == "--key" else f"{'--map' if how == '--map' else 'the saved mapping'} {column}={wanted}"
    own = sorted(set(custom.values()))
    raise Refused(f"{flag}: {wanted!r} is not a {noun} field "
                  f"(fields: {', '.join([*fields, *own])}; or {', '.join(TARGETS)})")


def _columns_by_name(first: list[str], targets: Mapping[str, object]) -> dict[str, int]:
    """Mapped column -> index, for mapping keys that name a header cell."""
    found: dict[str, int] = {}
    stripped = [cell.strip() for cell in first]
    normalised = [normalise_header(cell) for cell in first]
    for column in targets:
        if column.strip() in stripped:
            found[column] = stripped.index(column.strip())
        elif normalise_header(column) and normalise_header(column) in normalised:
            found[column] = normalised.index(normalise_header(column))
    return found


def _explicit_columns(targets: Mapping[str, tuple[str, str]], positions: Mapping[str, int], first: list[str],
                      path: Path, has_header: bool, saved: Mapping[str, str]) -> list[Column]:
    columns: list[Column] = []
    for column, (target, how) in targets.items():
        index = positions.get(column)
        if index is None and column.strip().isdigit() and int(column) >= 1:
            index = int(column) - 1
        if index is None:
            if how == "mapping":
                continue  # a saved mapping may name columns this week's file lacks
            flag = "--key" if target == KEY and how == "--key" else f"--map {column}={target}"
            raise Refused(f"{flag}: {path} has no column {column!r}{_did_you_mean(column, first)} "
                          f"(columns: {listing(first, limit=80) if has_header else 'no header row'})")
        header = first[index].strip() if has_header and index < len(first) else f"column {index + 1}"
        columns = [c for c in columns if c.index != index]
        columns.append(Column(index, header, target, how=how))
    return columns


def _did_you_mean(column: str, first: list[str]) -> str:
    close = difflib.get_close_matches(column.strip().casefold(), [c.strip().casefold() for c in first], n=1)
    if not close:
        return ""
    return f"; did you mean {next(c.strip() for c in first if c.strip().casefold() == close[0])!r}?"


def _header_columns(table: str, first: list[str], explicit: list[Column], notes: list[str],
                    keep_unmapped: bool, custom: Mapping[str, str]) -> list[Column]:
    """Columns named by the header, minus those --map already took."""
    taken_cells = {c.index for c in explicit}
    taken_fields = {c.target for c in explicit if c.target not in (IGNORE, NOTES_LINE)}
    columns: list[Column] = []
    unknown, dealdeck, overridden = [], [], []
    for index, cell in enumerate(first):
        if index in taken_cells or not cell.strip():
            continue
        header, normalised = cell.strip(), _without_entity(table, normalise_header(cell))
        name, rank = _INDEX[table].get(normalised), 0
        if name is None and normalised in _FALLBACK_INDEX[table]:
            name, rank = _FALLBACK_INDEX[table][normalised], 1
        if name is None and normalise_header(cell) in custom:  # the team's own field, by key or label
            name = custom[normalise_header(cell)]
        if name is None and normalised in _KEY_INDEX[table]:
            if KEY not in taken_fields:
                name = KEY
            elif normalised == "externalid":  # Dealdeck's own export: its id column is the key
                columns.append(Column(index, header, IGNORE, how="unmapped"))
                continue
        if name is None:
            target = NOTES_LINE if keep_unmapped else IGNORE
            (dealdeck if normalised in _dealdeck_fields(table) else unknown).append(header)
            if normalised in _dealdeck_fields(table):
                target = IGNORE
            columns.append(Column(index, header, target, how="unmapped"))
        elif name in taken_fields and name != "tags":
            overridden.append(header)
            columns.append(Column(index, header, IGNORE, how="unmapped"))
        else:
            if name == KEY:
                taken_fields.add(KEY)
            columns.append(Column(index, header, name, rank))
    noun = IMPORT_TABLES[table].noun
    if unknown:
        kept = "kept in the notes as 'Column: value' lines" if keep_unmapped else "dropped"
        notes.append(f"note: columns that are not {noun} fields are {kept}: {listing(unknown)} "
                     "(use --map COLUMN=field to read one into a field)")
    if dealdeck:
        notes.append(f"note: ignored columns that Dealdeck sets itself: {listing(dealdeck)}")
    if overridden:
        notes.append(f"note: ignored columns replaced by --map: {listing(overridden)}")
    return columns


#: Pipedrive (and others) name a column for its record: "Person - Email - Work"
_ENTITY_PREFIXES = ("person", "organization", "organisation", "contact", "lead", "deal", "account", "company")


def _without_entity(table: str, normalised: str) -> str:
    """A header without the record's name in front, when only that way it means a field."""
    if normalised in _INDEX[table] or normalised in _FALLBACK_INDEX[table] or normalised in _KEY_INDEX[table]:
        return normalised
    for prefix in _ENTITY_PREFIXES:
        rest = normalised.removeprefix(prefix)
        if rest != normalised and rest and (rest in _INDEX[table] or rest in _FALLBACK_INDEX[table]
                                            or rest in _KEY_INDEX[table]):
            return rest
    return normalised


def _dealdeck_fields(table: str) -> set[str]:
    """Model fields a file cannot set (ids, stamps, computed values)."""
    cls = IMPORT_TABLES[table]
    return ({normalise_header(name) for name in cls.model_fields} - set(_INDEX[table]) - _KEY_INDEX[table]
            - set(_FALLBACK_INDEX[table]))


def _check_required(table: str, columns: list[Column], first: list[str], path: Path) -> None:
    present = {c.target for c in columns}
    if present & {"first_name", "last_name"}:
        present.add("name")
    for name in REQUIRED[table]:
        if name not in present:
            shown = f"columns: {listing(first)}" if first else "no header row"
            raise Refused(f"{path}: no column for {name} ({shown}); "
                          f"name one {name!r} or use --map COLUMN={name}")


def _shared_fields(columns: list[Column]) -> list[str]:
    by_field: dict[str, list[str]] = defaultdict(list)
    for column in sorted(columns, key=lambda c: (c.rank, c.index)):
        if column.target not in TARGETS:
            by_field[column.target].append(column.header)
    return [f"note: columns {listing(labels)} all read {name}; "
            f"{'they are merged' if name == 'tags' else 'the first non-empty one is used, the others go to the notes'}"
            for name, labels in by_field.items() if len(labels) > 1]


def _no_header(path: Path, table: str, first: list[str]) -> str:
    return (f"{path}: the first row ({listing(first)}) is not a header naming {table} fields; "
            f"add a header row (e.g. {', '.join(importable_fields(table)[:4])}) "
            "or use --map COLUMN=field (COLUMN: a header or a column number)")


def listing(items: Iterable[str], limit: int = 12) -> str:
    items = [item.strip() for item in items]
    shown = ", ".join(items[:limit])
    return shown + (f", ... ({len(items)} in all)" if len(items) > limit else "")
