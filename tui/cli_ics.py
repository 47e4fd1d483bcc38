"""`dealdeck import/export ics`: the command-line side (parsers and their run functions)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from store.database import Store

Common = Callable[..., None]


def add_parsers(imp_kinds: argparse._SubParsersAction, exp_kinds: argparse._SubParsersAction,
                common: Common) -> None:
    """Add this format's `import` and/or `export` subcommands."""
    exp_ics = exp_kinds.add_parser(
        "ics", help="follow-ups, revisits, tasks, birthdays and expected closes as an iCalendar file",
        description="Write a rep's follow-ups, planned revisits, open tasks, contacts' birthdays and "
                    "expected closes as all-day events with stable UIDs: a calendar subscribed to the "
                    "file updates its events when it is written again.")
    common(exp_ics)
    exp_ics.add_argument("-o", "--output", type=Path, metavar="FILE", help="write here (default: stdout)")
    who = exp_ics.add_mutually_exclusive_group()
    who.add_argument("--rep", dest="calendar_rep", metavar="REP",
                     help="this rep's calendar, by id, name or e-mail (default: --as, or me)")
    who.add_argument("--team", action="store_true", help="the whole team's calendar")
    exp_ics.set_defaults(run=_run_export_ics)


def _owner(args: argparse.Namespace, store: Store) -> str | None:
    """Whose calendar: None for the team's; ``--rep`` names a rep by id, name or e-mail,
    without case, as ``--as`` and an import's owner column do; an unknown rep is refused."""
    from store.errors import StoreError
    from store.imports.lookups import RepNames

    if args.team:
        return None
    reps = store.config.rep_ids()
    wanted: str = args.calendar_rep or store.me
    rep = wanted if wanted in reps else RepNames(store.config).find(wanted)  # an id first, as written
    if rep is None or rep not in reps:  # RepNames also knows "auto", which is no one's calendar
        raise StoreError(f"no rep {wanted!r} (reps: {', '.join(reps)}; by id, name or e-mail)")
    return rep


def _run_export_ics(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from store.calendar_export import export_calendar
    from store.errors import StoreError
    from store.files import private_text
    from tui.cli import EXIT_OK, _open_store

    with _open_store(args) as store:
        owner = _owner(args, store)
        exported = export_calendar(store, owner=owner, now=datetime.now(UTC))
    if args.output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(exported.ics)  # bytes as built: CRLF line ends, UTF-8
        return EXIT_OK
    try:
        with private_text(args.output, newline="") as out:
            out.write(exported.ics.decode("utf-8"))
    except OSError as exc:
        raise StoreError(f"cannot write {args.output}: {exc.strerror}") from None
    whose = "the team" if owner is None else owner
    print(f"wrote {exported.events} events for {whose} to {args.output}", file=sys.stderr)
    return EXIT_OK
