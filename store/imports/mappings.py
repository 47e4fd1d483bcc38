"""Saved import mappings: ``--save-mapping NAME`` keeps a file's column and value
mapping under ``imports.mappings`` in ``config.yaml``; ``--mapping NAME`` reads it
back, so the weekly export from the old system imports with one command."""

from __future__ import annotations

from pathlib import Path

from store.config import Config, ImportMapping, save_config_values
from store.errors import StoreError
from store.imports.csv_import import ImportOptions


def saved_options(config: Config, name: str, table: str | None) -> tuple[str, ImportOptions]:
    """The table and options a saved mapping holds; ``table`` (given on the command
    line) must agree with the mapping's."""
    mapping = config.imports.mappings.get(name)
    if mapping is None:
        known = ", ".join(sorted(config.imports.mappings)) or "none saved yet"
        raise StoreError(f"no saved import mapping {name!r} (saved: {known}; save one with --save-mapping)")
    chosen = table or mapping.table
    if chosen is None:
        raise StoreError(f"the mapping {name!r} does not say what the rows are; give --as")
    if table and mapping.table and table != mapping.table:
        raise StoreError(f"the mapping {name!r} is for {mapping.table}, not {table}")
    options = ImportOptions(saved_columns=dict(mapping.columns),
                            saved_values={column: dict(values) for column, values in mapping.values.items()},
                            key=mapping.key or None, owner=mapping.owner or None,
                            keep_unmapped=mapping.keep_unmapped)
    return chosen, options


def combined(saved: ImportOptions, given: ImportOptions) -> ImportOptions:
    """Flags given now win over the saved mapping, value by value."""
    return ImportOptions(columns=dict(given.columns), values={c: dict(v) for c, v in given.values.items()},
                         key=given.key or saved.key, owner=given.owner or saved.owner,
                         keep_unmapped=given.keep_unmapped and saved.keep_unmapped,
                         saved_columns={**saved.saved_columns, **saved.columns},
                         saved_values={c: dict(v) for c, v in saved.saved_values.items()})


def save_mapping(folder: Path, config: Config, name: str, table: str, options: ImportOptions) -> None:
    """Keep ``options`` as the mapping ``name`` in the folder's ``config.yaml``."""
    if not name.strip() or len(name) > 60:
        raise StoreError("--save-mapping wants a name of 1 to 60 characters")
    values = {column: dict(v) for column, v in options.saved_values.items()}
    for column, more in options.values.items():
        values.setdefault(column, {}).update(more)
    mapping = ImportMapping(table=table, columns={**options.saved_columns, **options.columns},  # type: ignore[arg-type]
                            values=values, key=options.key or "", owner=options.owner or "",
                            keep_unmapped=options.keep_unmapped)
    mappings = {key: value.model_dump(mode="json") for key, value in config.imports.mappings.items()}
    mappings[name.strip()] = mapping.model_dump(mode="json")
    imports = config.imports.model_dump(mode="json")
    imports["mappings"] = mappings
    save_config_values(folder, {"imports": imports})
