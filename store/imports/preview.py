"""A file looked at before it is imported: its encoding and delimiter, the first
rows, where each column goes with a sample value, and for each choice column
the values it holds, how often, and what each becomes here."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from store.database import Store
from store.imports.columns import IMPORT_TABLES, Column, Layout, custom_targets, is_field_key_row, plan_columns
from store.imports.csv_import import ImportOptions
from store.imports.reading import CsvFile, Refused, open_csv, with_first
from store.imports.rows import CHOICE_DEFAULTS, translated
from store.imports.vocab import normalise_value

FIRST_ROWS = 5
#: distinct values listed per choice column; the rest are counted together
MAX_VALUES = 40


@dataclass(frozen=True)
class ColumnPlan:
    column: Column
    sample: str


@dataclass(frozen=True)
class ValueCount:
    value: str
    count: int
    #: what it becomes here; None: nothing (the field's default, the value kept in the notes)
    ours: str | None


@dataclass
class Preview:
    file: CsvFile
    table: str
    layout: Layout
    header: list[str]
    first_rows: list[tuple[int, list[str]]]
    columns: list[ColumnPlan]
    #: field -> its values, most frequent first
    values: dict[str, list[ValueCount]] = field(default_factory=dict)
    rows: int = 0


def preview_csv(store: Store, path: Path, table: str, options: ImportOptions | None = None) -> Preview:
    """Read ``path`` once, writing nothing. Raises ``reading.Refused`` (one line) or ``StoreError``."""
    options = options or ImportOptions()
    if table not in IMPORT_TABLES:
        raise ValueError(f"cannot import {table}")
    csv = open_csv(path, store.config.imports.max_file_mb * 2**20)
    rows = csv.rows()
    first = next(rows, None)
    if first is None:
        raise Refused(f"{path} is empty: no header and no rows")
    layout = plan_columns(table, first[1], options.columns, path, key=options.key,
                          keep_unmapped=options.keep_unmapped, saved=options.saved_columns,
                          custom=custom_targets(store.config.custom(table)))
    data_rows = rows if layout.has_header else with_first(first, rows)
    choice_columns = [c for c in layout.columns if c.target in CHOICE_DEFAULTS]
    counts: dict[int, Counter[str]] = {c.index: Counter() for c in choice_columns}
    samples: dict[int, str] = {}
    shown: list[tuple[int, list[str]]] = []
    total = 0
    for line, cells in data_rows:
        if total == 0 and layout.has_header and is_field_key_row(first[1], cells) and not shown:
            shown.append((line, cells))  # shown, as the import skips it with a note
            continue
        total += 1
        if len(shown) < FIRST_ROWS:
            shown.append((line, cells))
        for index in counts:
            if index < len(cells) and cells[index].strip():
                counts[index][cells[index].strip()] += 1
        if len(samples) < len(layout.columns) and total <= 200:
            for column in layout.columns:
                if column.index not in samples and column.index < len(cells) and cells[column.index].strip():
                    samples[column.index] = cells[column.index].strip()
    plans = [ColumnPlan(c, samples.get(c.index, "")) for c in layout.columns]
    values = {c.target: _value_counts(store, c, counts[c.index], options) for c in choice_columns}
    return Preview(csv, table, layout, first[1] if layout.has_header else [], shown, plans, values, total)


def _value_counts(store: Store, column: Column, counts: Counter[str], options: ImportOptions) -> list[ValueCount]:
    value_map = {normalise_value(k): v for values in (options.saved_values, options.values)
                 for key in (column.header, column.target) for k, v in values.get(key, {}).items()}
    listed = []
    for value, count in counts.most_common(MAX_VALUES):
        ours = translated(column.target, value, value_map, list(store.config.lead_sources))
        if column.target == "status" and ours == "converted":
            ours = "qualified"  # a converted lead links its customer here (see rows.make_consistent)
        listed.append(ValueCount(value, count, ours))
    return listed


def describe_target(column: Column) -> str:
    """Where a column goes, in words for the dry run and the import screen."""
    if column.target == "key":
        return "key (the other system's id)"
    if column.target == "notes-line":
        return "notes, as a 'Column: value' line"
    if column.target == "ignore":
        return "not imported"
    return column.target
