"""Custom fields in the views: their lines in the details, cards and lists."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from store.config import Config
from store.custom_fields import CustomField, shown, sort_key
from tui.widgets.table import Cell, Column


def custom_pairs(config: Config, table: str, values: Mapping[str, Any], *, card_only: bool = False
                 ) -> list[tuple[str, str]]:
    """(label, value) of each declared custom field the record holds a value of, in the
    order declared; fields the team deleted, or whose declaration has not arrived, stay hidden."""
    pairs = []
    for spec in config.custom(table):
        if card_only and not spec.card:
            continue
        value = shown(spec, values.get(spec.name), config.currency)
        if value:
            pairs.append((spec.label, value))
    return pairs


def declared(config: Config, table: str) -> dict[str, CustomField]:
    """Every declaration of the record type, deleted ones too, by document field."""
    return {spec.name: spec for spec in config.custom(table, with_deleted=True)}


#: a custom column's width by the field's type (text ones flex with the name columns)
_WIDTHS = {"date": 10, "number": 8, "money": 12, "yes_no": 3, "choice": 12, "email": 16, "phone": 14}


def custom_columns(config: Config, table: str, *, priority: int = 3) -> list[Column]:
    """The list columns of the fields declared ``column: true``. A narrow list (80 columns)
    keeps the first one before the company, age and source columns (the team asked for it)
    and drops the later declared ones first."""
    return [Column(spec.name, spec.label, max(_WIDTHS.get(spec.type, 12), len(spec.label)), priority=priority + index,
                   align="right" if spec.type in ("number", "money") else "left",
                   order=("smallest first", "largest first") if spec.type in ("number", "money", "date")
                   else ("A to Z", "Z to A"), noun=spec.label.casefold(),
                   wanted=max((len(choice) for choice in spec.choices), default=0))
            for index, spec in enumerate(s for s in config.custom(table) if s.column)]


def custom_cells(config: Config, table: str, doc: Mapping[str, Any] | None) -> list[Cell]:
    """A row's cells of the custom columns, from its stored document."""
    return [(shown(spec, doc.get(spec.name) if doc else None, config.currency), None)
            for spec in config.custom(table) if spec.column]


def custom_sort_keys(config: Config, table: str, doc_of: Callable[[str], Mapping[str, Any] | None]
                     ) -> dict[str, Callable[[Any], Any]]:
    """Sort keys of the custom columns, by row (its ``id``): empty values last."""
    keys: dict[str, Callable[[Any], Any]] = {}
    for spec in config.custom(table):
        if spec.column:
            keys[spec.name] = lambda row, spec=spec: sort_key(spec, (doc_of(row.id) or {}).get(spec.name))
    return keys


def search_text(config: Config, table: str) -> Callable[[Mapping[str, Any]], str]:
    """What ``/`` matches of a document's custom text fields (nothing when none is declared)."""
    names = [spec.name for spec in config.custom(table) if spec.is_text]
    if not names:
        return lambda doc: ""
    if len(names) == 1:  # the usual case, at every lead of a 50k list: one lookup
        name = names[0]
        return lambda doc: value.casefold() if type(value := doc.get(name)) is str else ""

    def text(doc: Mapping[str, Any]) -> str:
        values = [doc.get(name) for name in names]
        return "\x00".join(str(v) for v in values if v).casefold()

    return text


def filter_choices(config: Config, table: str) -> list[tuple[str, tuple[str, str] | None]]:
    """(label, (field, value)) for the quick filter on the fields declared ``filter: true``
    of a choice, multi-choice or yes/no type; ``None`` first: any value."""
    choices: list[tuple[str, tuple[str, str] | None]] = [("any value (no custom filter)", None)]
    for spec in config.custom(table):
        if not spec.filter:
            continue
        values = spec.choices if spec.type in ("choice", "multi_choice") else ["yes", "no"] \
            if spec.type == "yes_no" else []
        choices += [(f"{spec.label}: {value}", (spec.name, value)) for value in values]
    return choices


def matches(doc: Mapping[str, Any] | None, wanted: tuple[str, str]) -> bool:
    """Whether a document's custom field holds the quick filter's value."""
    name, value = wanted
    held = doc.get(name) if doc else None
    if isinstance(held, list):
        return value in held
    if isinstance(held, bool) or (value in ("yes", "no") and held is None):
        return (value == "yes") == bool(held)
    return held == value


class CustomList:
    """A list tab's custom fields: its columns, cells, sort keys, ``/`` text and quick
    filter, read from the settings in force each time (they change with a sync)."""

    def __init__(self, store: Any, table: str, doc_of: Callable[[str], Any]) -> None:
        self.store, self.table, self.doc_of = store, table, doc_of

    def columns(self) -> list[Column]:
        return custom_columns(self.store.config, self.table)

    def cells(self, row_id: str) -> list[Cell]:
        return custom_cells(self.store.config, self.table, self.doc_of(row_id))

    def sort_keys(self) -> dict[str, Callable[[Any], Any]]:
        return custom_sort_keys(self.store.config, self.table, self.doc_of)

    def search_text(self) -> Callable[[Mapping[str, Any]], str]:
        return search_text(self.store.config, self.table)

    def has_text(self) -> bool:
        """Whether the table has a custom text field ``/`` matches."""
        return any(spec.is_text for spec in self.store.config.custom(self.table))

    def matches(self, row_id: str, wanted: tuple[str, str, str]) -> bool:
        return matches(self.doc_of(row_id), (wanted[0], wanted[1]))

    def still_filters(self, wanted: tuple[str, str, str]) -> bool:
        return any(choice == wanted[:2] for _, choice in filter_choices(self.store.config, self.table))

    def refit(self, table: Any, base: list[Column], wanted: tuple[str, str, str] | None,
              ) -> tuple[str, str, str] | None:
        """The team's custom fields changed: the list's columns and sort keys again; the
        quick filter kept while its field still is one (else None)."""
        table.set_columns([*base, *self.columns()])
        table.sort_keys.update(self.sort_keys())
        return wanted if wanted and self.still_filters(wanted) else None

    def pick_filter(self, app: Any, then: Callable[[tuple[str, str, str] | None], None]) -> None:
        """``F``: pick a value of a custom field declared ``filter: true``."""
        from tui.screens.dialogs import PickScreen

        choices = filter_choices(self.store.config, self.table)
        if len(choices) == 1:
            app.notify("No custom field of this list is a filter yet: in the team settings, give a choice "
                       "or yes/no field `filter: true`.", severity="warning", markup=False)
            return

        def chosen(answer: Any) -> None:
            if answer is False:  # PickScreen's None is "cancelled": "any value" comes back as False
                then(None)
            elif answer:
                label = next(label for label, value in choices if value == answer)
                then((answer[0], answer[1], label))

        app.push_screen(PickScreen("Filter by a custom field", [(label, value or False) for label, value in choices]),
                        chosen)
