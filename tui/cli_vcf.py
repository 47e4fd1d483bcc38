"""`dealdeck import/export vcf`: the command-line side (parsers and their run functions).

The store modules (and vobject with them) are imported inside the run functions, so
that `dealdeck --help` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

Common = Callable[..., None]


def add_parsers(imp_kinds: argparse._SubParsersAction, exp_kinds: argparse._SubParsersAction,
                common: Common) -> None:
    """Add this format's `import` and/or `export` subcommands."""
    imp = imp_kinds.add_parser("vcf", help="import contacts from a vCard file (.vcf: 2.1, 3.0, 4.0)")
    common(imp)
    imp.add_argument("file", type=Path)
    imp.add_argument("--customer", metavar="NAME",
                     help="customer of the cards without an ORG (default: such cards are skipped)")
    imp.add_argument("--dry-run", action="store_true", help="check every card, write nothing")
    imp.set_defaults(run=_run_import)

    exp = exp_kinds.add_parser("vcf", help="export contacts as vCards for a phone or a mail program")
    common(exp)
    which = exp.add_mutually_exclusive_group()
    which.add_argument("--customer", metavar="NAME", help="this customer's contacts (default: every contact)")
    which.add_argument("--segment", metavar="NAME", help="the contacts of a saved customer segment")
    exp.add_argument("--version", dest="vcard_version", choices=["3.0", "4.0"], default="3.0",
                     help="vCard version (default 3.0, which phones and Thunderbird read best)")
    exp.add_argument("-o", "--output", type=Path, metavar="FILE", help="write here (default: stdout)")
    exp.set_defaults(run=_run_export)


def _run_import(args: argparse.Namespace) -> int:
    from store.vcard_import import import_vcf
    from tui.cli import EXIT_OK, EXIT_REFUSED, _open_store

    with _open_store(args) as store:
        report = import_vcf(store, args.file, customer=args.customer, dry_run=args.dry_run)
    for line in (*report.notes, *report.skipped):
        print(line, file=sys.stderr)
    print(report.summary())
    return EXIT_REFUSED if report.imported_nothing else EXIT_OK


def _run_export(args: argparse.Namespace) -> int:
    from store.errors import StoreError
    from store.files import private_text
    from store.vcard_export import contacts_to_export
    from store.vcards import write_cards
    from tui.cli import EXIT_OK, _open_store
    from tui.clock import today

    with _open_store(args) as store:
        chosen = contacts_to_export(store, customer=args.customer, segment=args.segment, today=today())
    if not chosen:  # an empty file would look like an export that worked
        raise StoreError(_nothing_to_export(args))
    if args.output is None:
        write_cards(sys.stdout, chosen, args.vcard_version)
        return EXIT_OK
    try:
        with private_text(args.output, newline="") as out:  # CRLF as written, as vCard wants
            count = write_cards(out, chosen, args.vcard_version)
    except OSError as exc:
        raise StoreError(f"cannot write {args.output}: {exc.strerror}") from None
    print(f"wrote {count} contact{'s' if count != 1 else ''} to {args.output}", file=sys.stderr)
    return EXIT_OK


def _nothing_to_export(args: argparse.Namespace) -> str:
    if args.customer is not None:
        return f"--customer {args.customer}: no contacts to export (the customer has none)"
    if args.segment is not None:
        return f"--segment {args.segment}: no contacts to export (no customer in the segment has one)"
    return "no contacts to export (there are none yet)"
