"""One CSV row made into the fields of a record: values translated from the other
system's words, the owner found among the team's reps, the columns Dealdeck has
no field for kept as notes lines. Nothing here writes; problems are returned."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from store.imports.cells import DATE_FIELDS, join_name, parse_date, split_tags
from store.imports.columns import TARGETS, Layout
from store.imports.lookups import Customers, RepNames
from store.imports.report import ImportReport
from store.imports.vocab import normalise_value, translate
from store.models import GRADES, LEAD_STATUSES

NOTES_MAX = 20_000
#: the value each choice field takes when the file's value means nothing here
CHOICE_DEFAULTS = {"status": "new", "grade": "", "lifecycle": "prospect", "source": "other", "primary": "no"}
CHOICES: dict[str, tuple[str, ...]] = {
    "status": LEAD_STATUSES, "grade": GRADES, "lifecycle": ("prospect", "active", "at_risk", "churned"),
    "primary": ("yes", "no"),
}


@dataclass
class Row:
    """A row's fields, and what the import had to decide about them."""

    data: dict[str, Any]
    #: fields that took a default because the file's value meant nothing here (not
    #: written over a stored value when the row updates a record)
    guessed: set[str] = field(default_factory=set)
    errors: dict[str, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    #: for the report, once the row is stored: (column, value, ours) guessed, (column, owner)
    #: not a rep, and (column, value, ours, why) made consistent
    defaulted: list[tuple[str, str, str]] = field(default_factory=list)
    strangers: list[tuple[str, str]] = field(default_factory=list)
    adjusted: list[tuple[str, str, str, str]] = field(default_factory=list)
    notes_cut: bool = False
    #: the file's own notes cell, before the ``Column: value`` lines were added
    own_notes: str = ""
    #: the file says "converted", read as "qualified" (nothing here links its customer);
    #: a row that updates a lead converted here keeps it
    converted: bool = False

    def count_in(self, report: ImportReport) -> None:
        count_row(report, self.defaulted, self.strangers, self.adjusted, self.notes_cut)


def count_row(report: ImportReport, defaulted: Iterable[tuple[str, str, str]] | None,
              strangers: Iterable[tuple[str, str]] | None, adjusted: Iterable[tuple[str, str, str, str]] | None,
              notes_cut: bool) -> None:
    """A stored row's guesses in the report (``Row``'s lists, or as a worker sent them)."""
    if defaulted:
        report.defaulted.update(defaulted)
    if strangers:
        report.strangers.update(strangers)
    if adjusted:
        report.adjusted.update(adjusted)
    report.notes_cut += notes_cut


class RowReader:
    """Turns a row's cells into a record's fields for one import."""

    def __init__(self, layout: Layout, reps: RepNames, *, sources: list[str],
                 value_maps: Mapping[str, Mapping[str, str]], customers: Customers | None = None) -> None:
        self.layout, self.reps = layout, reps
        self.sources = sources
        self.value_maps = value_maps
        self.headers = {c.target: c.header for c in sorted(layout.columns, key=lambda c: (c.rank, c.index))
                        if c.target not in TARGETS}
        self.converters: dict[str, Callable[[str], Any]] = {
            **dict.fromkeys(DATE_FIELDS, parse_date), "tags": split_tags,
        }
        if customers is not None:
            self.converters["customer"] = customers.find
        #: (field, the file's value) -> ours, or None: values repeat down a column
        self._choices: dict[tuple[str, str], str | None] = {}
        self._owners: dict[str, str | None] = {}

    def read(self, cells: list[str]) -> Row:
        row = Row({}, lines=self.layout.note_lines(cells))
        for name, value in self.layout.values(cells, row.lines).items():
            self._read_value(row, name, value)
        first, last = row.data.pop("first_name", ""), row.data.pop("last_name", "")
        if "name" not in row.data and "name" not in row.errors and (first or last):
            row.data["name"] = join_name(first, last)
        if "customer" in row.data:
            row.data["customer_id"] = row.data.pop("customer")
        self._owner(row)
        self._notes(row)
        return row

    def _mapped(self, name: str, value: str) -> str:
        mapped = self.value_maps.get(name)
        return mapped.get(normalise_value(value), value) if mapped else value

    def _read_value(self, row: Row, name: str, value: str) -> None:
        if name in CHOICE_DEFAULTS:
            self._choice(row, name, value)
            return
        if name == "owner":
            row.data["owner_cell"] = value
            return
        converter = self.converters.get(name)
        if converter is None:
            row.data[name] = self._mapped(name, value) if self.value_maps else value
            return
        try:
            row.data[name] = converter(self._mapped(name, value) if self.value_maps else value)
        except ValueError as exc:
            row.errors[name] = str(exc)

    def _choice(self, row: Row, name: str, value: str) -> None:
        try:
            ours = self._choices[(name, value)]
        except KeyError:
            ours = self._choices[(name, value)] = translated(name, value, self.value_maps.get(name), self.sources)
        if ours is None:
            ours = CHOICE_DEFAULTS[name]
            header = self.headers.get(name, name)
            row.defaulted.append((header, value, ours or "ungraded"))
            row.lines.append(f"{header}: {value}")
            row.guessed.add(name)
        if name == "primary":
            row.data[name] = ours == "yes"
        elif name == "grade":
            row.data[name] = ours or None
        else:
            row.data[name] = ours
        if name == "status":
            row.data["status_cell"] = value

    def _owner(self, row: Row) -> None:
        cell = row.data.pop("owner_cell", "")
        if not cell:
            return
        try:
            rep = self._owners[cell]
        except KeyError:
            rep = self._owners[cell] = self.reps.find(cell)
        if rep is None:
            row.strangers.append((self.headers.get("owner", "owner"), cell))
            row.lines.append(f"{self.headers.get('owner', 'Owner')}: {cell}")
            row.guessed.add("owner")
            return
        row.data["owner"] = rep

    def _notes(self, row: Row) -> None:
        row.own_notes = str(row.data.get("notes", "")).strip()
        if not row.lines:
            return
        text = "\n".join(part for part in (row.own_notes, "\n".join(row.lines)) if part)
        if len(text) > NOTES_MAX:
            text = text[:NOTES_MAX - 1] + "…"
            row.notes_cut = True
        row.data["notes"] = text


def translated(name: str, value: str, value_map: Mapping[str, str] | None, sources: list[str]) -> str | None:
    """Dealdeck's value of choice field ``name`` for the file's ``value``: through the
    import's value map (normalised keys), then the other systems' vocabularies; None
    when it means nothing here."""
    mapped = value_map.get(normalise_value(value), value) if value_map else value
    return translate(name, mapped, sources if name == "source" else CHOICES[name])


def make_consistent(row: Row, header: str) -> None:
    """A lead's status as Dealdeck can hold it: "converted" links a customer here,
    and "disqualified" gives a reason (the other system's status, when it has none)."""
    data = row.data
    cell = data.pop("status_cell", "")
    if data.get("status") == "converted" and not (data.get("customer_id") or data.get("opportunity_id")):
        data["status"] = "qualified"
        row.converted = True
        row.adjusted.append((header, cell, "qualified", "a converted lead links its customer here; "
                             "import the customers, then convert"))
    if data.get("status") == "disqualified" and not data.get("disqualified_reason"):
        data["disqualified_reason"] = cell[:200] or "imported as disqualified"
