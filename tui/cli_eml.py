"""`dealdeck import eml`: the command-line side (parsers and their run functions).

The import itself, and its rules, are in ``store.mail_import`` (reading, matching) and
``store.mail_log`` (writing). Exit 0 when the run went through, unmatched and unreadable
messages included (each has its line); 1, with one line on stderr and nothing written, for
a path that is not there, folders with nothing in them, and files none of which is a
message that can be logged (a photo given by mistake).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

Common = Callable[..., None]

_DESCRIPTION = """\
Log e-mails as activities on the lead, contact or customer whose address is in the
message's From, To or Cc (the most specific: contact > lead > customer; a contact's
customer too, and the customer's deal when it has exactly one open). A message is
logged once (by its Message-ID), also when imported again; messages that match nobody
are listed, not guessed. FILE_OR_FOLDER: .eml files, Maildir folders (cur/ and new/),
or folders of messages (every file in them but hidden ones is tried, whatever its name)."""


def add_parsers(imp_kinds: argparse._SubParsersAction, exp_kinds: argparse._SubParsersAction,
                common: Common) -> None:
    """Add this format's `import` and/or `export` subcommands."""
    imp_eml = imp_kinds.add_parser("eml", help="log e-mails (.eml files, Maildir folders) as activities",
                                   description=_DESCRIPTION)
    common(imp_eml)
    imp_eml.add_argument("paths", nargs="+", type=Path, metavar="FILE_OR_FOLDER")
    imp_eml.add_argument("--dry-run", action="store_true", help="match every message, write nothing")
    imp_eml.set_defaults(run=_run_import_eml)


def _run_import_eml(args: argparse.Namespace) -> int:
    from store.errors import StoreError
    from store.mail_import import check_paths
    from store.mail_log import import_mail
    from tui.cli import EXIT_OK, _open_store

    check_paths(args.paths)  # a mistyped path, an empty folder: one line, before the data folder is opened
    with _open_store(args) as store:
        report = import_mail(store, args.paths, dry_run=args.dry_run)
    if report.unreadable and not (report.logged or report.already or report.unmatched):
        raise StoreError(_nothing_readable(report.unreadable))  # nothing logged, so nothing was written
    for line in report.lines():
        print(line)
    print(report.summary())
    return EXIT_OK


def _nothing_readable(unreadable: list[str]) -> str:
    """One line for a run in which no file was a message: the file and why, or the first of them."""
    from store.models import strip_controls

    first = strip_controls(unreadable[0])
    if len(unreadable) == 1:
        return first
    return f"none of the {len(unreadable)} files is a message that can be logged; the first: {first}"
