"""`dealdeck import csv`: the command-line side of the CSV import."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from store.errors import StoreError

if TYPE_CHECKING:
    from store.database import Store
    from store.imports import ImportOptions

Common = Callable[..., None]
TABLES = ("leads", "customers", "contacts")


def add_parsers(imp_kinds: argparse._SubParsersAction, exp_kinds: argparse._SubParsersAction,
                common: Common) -> None:
    parser = imp_kinds.add_parser(
        "csv", help="import a CSV file (another CRM's export, a spreadsheet)",
        description="Import a CSV file's rows as leads, customers or contacts. Other CRMs' values "
                    "(Salesforce, HubSpot, Zoho, Pipedrive, Dynamics, Odoo, Chinese CRMs) are translated; "
                    "a row whose id (or e-mail) matches a stored record updates it.")
    common(parser, rep=False)
    parser.add_argument("file", type=Path)
    parser.add_argument("--as", dest="table", choices=TABLES, help="what the rows are (or from --mapping)")
    parser.add_argument("--owner", metavar="REP",
                        help="owner of rows without one or whose owner is not a rep (default: me; "
                             "'auto' assigns by the config's rule)")
    parser.add_argument("--map", action="append", default=[], metavar="COLUMN=field",
                        help="read COLUMN into field, or key / notes-line / ignore (repeatable)")
    parser.add_argument("--map-value", action="append", default=[], metavar="COLUMN:VALUE=ours",
                        help="read VALUE of COLUMN as ours, e.g. 'Lead Status:Nurturing=contacted' (repeatable)")
    parser.add_argument("--key", metavar="COLUMN",
                        help="the column with the other system's record id (found by itself: Id, Contact ID, ...)")
    parser.add_argument("--drop-unmapped", action="store_true",
                        help="drop columns with no field instead of keeping them in the notes")
    parser.add_argument("--mapping", metavar="NAME", help="use a mapping saved with --save-mapping")
    parser.add_argument("--save-mapping", metavar="NAME", help="keep this command's mapping in config.yaml")
    parser.add_argument("--dry-run", action="store_true", help="show where each column goes and check every row")
    parser.add_argument("--skip-bad", action="store_true", help="import the good rows, report the bad")
    parser.set_defaults(run=run_import_csv)


def parse_map(pairs: Sequence[str]) -> dict[str, str]:
    from tui.cli import UsageError

    mapping: dict[str, str] = {}
    for pair in pairs:
        column, sep, field = pair.rpartition("=")
        if not sep or not column or not field:
            raise UsageError(f"dealdeck import csv: --map wants COLUMN=field, got {pair!r}")
        mapping[column] = field
    return mapping


def parse_value_map(pairs: Sequence[str]) -> dict[str, dict[str, str]]:
    from tui.cli import UsageError

    values: dict[str, dict[str, str]] = {}
    for pair in pairs:
        left, sep, ours = pair.rpartition("=")
        column, colon, value = left.partition(":")
        if not sep or not colon or not column.strip() or not value.strip() or not ours.strip():
            raise UsageError(f"dealdeck import csv: --map-value wants COLUMN:VALUE=ours, got {pair!r}")
        values.setdefault(column.strip(), {})[value.strip()] = ours.strip()
    return values


def run_import_csv(args: argparse.Namespace) -> int:
    from store.imports import ImportOptions, import_csv
    from store.imports.mappings import combined, save_mapping, saved_options
    from tui.cli import EXIT_OK, EXIT_REFUSED, UsageError, _folder, _open_store

    given = ImportOptions(columns=parse_map(args.map), values=parse_value_map(args.map_value), key=args.key,
                          owner=args.owner, keep_unmapped=not args.drop_unmapped)
    if not args.table and not args.mapping:
        raise UsageError("dealdeck import csv: say what the rows are: --as leads|customers|contacts")
    with _open_store(args) as store:
        table, options = args.table, given
        if args.mapping:
            table, saved = saved_options(store.config, args.mapping, args.table)
            options = combined(saved, given)
        if args.dry_run:
            _print_plan(store, args.file, table, options)
        report = import_csv(store, args.file, table, options, dry_run=args.dry_run, skip_bad=args.skip_bad)
        saving = args.save_mapping and not report.refused and not args.dry_run
        if saving:
            save_mapping(_folder(args), store.config, args.save_mapping, table, options)
    if report.refused and not report.rows and report.problems:  # the file itself: one line
        print(f"dealdeck: {report.problems[0]}", file=sys.stderr)
        return EXIT_REFUSED
    for line in report.condensed():
        print(line, file=sys.stderr)
    print(report.summary())
    if args.save_mapping and args.dry_run:
        print(f"the mapping {args.save_mapping!r} is saved by the import itself, not by a dry run", file=sys.stderr)
    elif saving:
        print(f"saved the mapping {args.save_mapping!r}: next time, "
              f"dealdeck import csv FILE --mapping {_shell_word(args.save_mapping)}", file=sys.stderr)
    return EXIT_REFUSED if report.refused else EXIT_OK


def _print_plan(store: Store, path: Path, table: str, options: ImportOptions) -> None:
    """Per column: where it goes and a sample value (the dry run's first part)."""
    from rich.cells import cell_len, set_cell_size

    from store.imports.preview import describe_target, preview_csv
    from store.imports.reading import Refused
    from store.imports.rows import CHOICE_DEFAULTS

    try:
        preview = preview_csv(store, path, table, options)
    except (Refused, StoreError):
        return  # import_csv reports the same refusal in its one line
    print(f"{path}: {preview.file.encoding_name}, delimiter {_shown(preview.file.delimiter)}, "
          f"{preview.rows} rows; columns:")
    width = min(30, max((cell_len(plan.column.header) for plan in preview.columns), default=0))
    for plan in preview.columns:
        sample = f"  e.g. {plan.sample[:40]!r}" if plan.sample else ""
        print(f"  {set_cell_size(plan.column.header, width)}  → {describe_target(plan.column)}{sample}")
    for name, counts in preview.values.items():
        guess = f"{CHOICE_DEFAULTS.get(name) or 'ungraded'} (the value kept in the notes)"
        listed = ", ".join(f"{c.value!r}×{c.count} → {c.ours or guess}" for c in counts[:8])
        more = f", ... ({len(counts)} values)" if len(counts) > 8 else ""
        print(f"  values of {name}: {listed}{more}")


def _shown(delimiter: str) -> str:
    return {"\t": "tab", ",": "comma", ";": "semicolon", "|": "bar"}.get(delimiter, repr(delimiter))


def _shell_word(text: str) -> str:
    return text if text.replace("-", "").replace("_", "").isalnum() else repr(text)
