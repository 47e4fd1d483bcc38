"""The ``dealdeck`` command line (a stable interface: scripts and tests rely on it).

Exit status: 0 success, 1 a refused input (one clear line on stderr, nothing
changed), 2 a usage error, 141 when the reader of the output went away early
(``| head``), like any Unix tool stopped by SIGPIPE.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from store.errors import StoreError
from store.locations import data_folder
from tui import cli_csv, cli_eml, cli_ics, cli_team, cli_vcf

if TYPE_CHECKING:
    from store.review import Week

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
#: the reader of stdout went away (``| head``): the status of a Unix tool killed by SIGPIPE
EXIT_PIPE = 128 + 13


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        raise UsageError(f"{self.prog}: {message}")


def _common(parser: argparse.ArgumentParser, *, top: bool = False, rep: bool = True) -> None:
    """--data and --as, accepted before or after the subcommand.

    Below the top level the defaults are suppressed so that an option given
    before the subcommand is not overwritten by the subcommand's default.
    """
    default = None if top else argparse.SUPPRESS
    parser.add_argument("--data", metavar="DIR", default=default,
                        help="data folder (default: $DEALDECK_DATA or the user data dir)")
    if rep:
        parser.add_argument("--as", dest="rep", metavar="REP", default=default,
                            help="act as this rep (default: the config's `me`)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="dealdeck", description="A keyboard-driven terminal CRM for small sales teams.")
    _common(parser, top=True)
    parser.add_argument("--theme", metavar="NAME", help="colour theme for this run")
    parser.add_argument("--present", action="store_true", help="open in the weekly review's presentation")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)

    demo = commands.add_parser("demo", help="fill a database with realistic, reproducible data")
    _common(demo)
    demo.add_argument("--reps", type=int, default=5, help="number of reps (default 5)")
    demo.add_argument("--leads", type=int, default=400, help="number of leads (default 400)")
    demo.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    demo.add_argument("--weeks", type=int, default=12, help="weeks of history (default 12)")
    demo.set_defaults(run=_run_demo)

    imp = commands.add_parser("import", help="import records from a file")
    imp_kinds = imp.add_subparsers(dest="format", required=True, parser_class=_Parser)

    exp = commands.add_parser("export", help="export records to a file")
    exp_kinds = exp.add_subparsers(dest="format", required=True, parser_class=_Parser)
    exp_csv = exp_kinds.add_parser("csv", help="export a table as CSV")
    _common(exp_csv)
    exp_csv.add_argument("table", choices=["leads", "opportunities", "customers", "contacts", "activities",
                                           "tasks", "tickets", "surveys"])
    exp_csv.add_argument("-o", "--output", type=Path, metavar="FILE", help="write here (default: stdout)")
    exp_csv.add_argument("--excel", action="store_true",
                         help="for Excel: a UTF-8 byte order mark and CRLF line ends (default: plain UTF-8, LF)")
    exp_csv.set_defaults(run=_run_export_csv)
    for formats in (cli_csv, cli_vcf, cli_ics, cli_eml):
        formats.add_parsers(imp_kinds, exp_kinds, _common)

    sync = commands.add_parser("sync", help="share work with the team through a folder or git")
    sync_commands = sync.add_subparsers(dest="sync_command", required=True, parser_class=_Parser)
    sync_export = sync_commands.add_parser("export", help="write this replica's export file")
    _common(sync_export)
    sync_export.add_argument("folder", nargs="?", type=Path, help="the team folder (default: sync.folder)")
    sync_export.set_defaults(run=_run_sync_export)
    sync_merge = sync_commands.add_parser("merge", help="merge teammates' export files or folders of them")
    _common(sync_merge)
    sync_merge.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    sync_merge.add_argument("--dry-run", action="store_true", help="show what would change, write nothing")
    sync_merge.set_defaults(run=_run_sync_merge)
    sync_undo = sync_commands.add_parser(
        "undo", help="undo what the last merge changed and nothing changed since (a new change: it syncs)")
    _common(sync_undo)
    sync_undo.add_argument("--dry-run", action="store_true", help="say what it would undo, changing nothing")
    sync_undo.set_defaults(run=_run_sync_undo)
    sync_git = sync_commands.add_parser("git", help="export, commit, pull, merge and push with git")
    _common(sync_git)
    sync_git.add_argument("folder", nargs="?", type=Path, help="the team repository (default: sync.folder)")
    sync_git.set_defaults(run=_run_sync_git)
    new_replica = sync_commands.add_parser("new-replica", help="give a copied data folder a replica id of its own")
    _common(new_replica, rep=False)
    new_replica.add_argument("--moved", action="store_true",
                             help="the folder was moved or restored, not copied: keep its replica id")
    new_replica.set_defaults(run=_run_new_replica)

    review = commands.add_parser("review", help="the weekly review as a report (Markdown, HTML or JSON)")
    _common(review)
    review.add_argument("--week", metavar="YYYY-Www", help="ISO week (default: the last full week)")
    review.add_argument("--rep", metavar="REP", help="one rep's review (default: the team)")
    review.add_argument("--format", choices=["md", "html", "json", "eml"], default="md",
                        help="default md; eml: an e-mail to the team's reps, ready to send")
    review.add_argument("-o", "--output", type=Path, metavar="FILE", help="write here (default: stdout)")
    review.add_argument("--send", action="store_true",
                        help="mail it to the team's reps through the team's SMTP server (mail in `team edit`; "
                             "the password from DEALDECK_SMTP_PASSWORD or the system keyring)")
    review.set_defaults(run=_run_review)

    cli_team.add_parsers(commands, _common, _open_store)
    cli_team.add_rules_parsers(commands, _common, _open_store)

    serve = commands.add_parser("serve", help="serve the app to a browser (the meeting room's PC), with a token")
    _common(serve)
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1, this machine only; 0.0.0.0: its network)")
    serve.add_argument("--present", action="store_true", default=argparse.SUPPRESS,
                       help="each browser tab opens in the weekly review's presentation")
    serve.set_defaults(run=_run_serve)

    check = commands.add_parser("check", help="verify the database files; non-zero exit on damage")
    _common(check)
    check.add_argument("--repair-clock", action="store_true",
                       help="re-stamp this replica's changes stamped in the future at the current time")
    check.set_defaults(run=_run_check)
    return parser


def _run_review(args: argparse.Namespace) -> int:
    from store.review import Week
    from tui.clock import today
    from tui.report import RENDERERS, collect_review

    try:
        week = Week.parse(args.week) if args.week else Week.last_full(today())
    except ValueError as exc:
        raise StoreError(str(exc)) from None
    if week > Week.of(today()):
        raise StoreError(f"{week} has not begun yet (this week is {Week.of(today())}): pick a week up to this one")
    if args.send or args.format == "eml":
        return _mail_review(args, week)
    with _open_store(args) as store:
        text = RENDERERS[args.format](collect_review(store, week, store.me if args.rep else None, today()))
    _write_review(args.output, text, f"the {week} review")
    return EXIT_OK


def _write_review(output: Path | None, text: str, what: str) -> None:
    """To ``output`` as a private file (its line ends kept), or to stdout."""
    from store.files import private_text

    if output is None:
        sys.stdout.write(text)
        return
    try:
        with private_text(output, newline="") as out:
            out.write(text)
    except OSError as exc:
        raise StoreError(f"cannot write {output}: {exc.strerror}") from None
    print(f"wrote {what} to {output}", file=sys.stderr)


def _mail_review(args: argparse.Namespace, week: Week) -> int:
    """``review --format eml`` (the message, to a file or stdout) and ``review --send``."""
    from datetime import UTC, datetime, time

    from tui.clock import today
    from tui.report import collect_review
    from tui.report_mail import review_message, send

    with _open_store(args) as store:
        review = collect_review(store, week, store.me if args.rep else None, today())
        config = store.config
    # The Date header: now, or the fixed day's noon (DEALDECK_TODAY: tests, demos).
    now = datetime.now(UTC) if today() == datetime.now(UTC).date() else datetime.combine(today(), time(12), UTC)
    message = review_message(review, config, now)
    if args.send:
        send(message, config.mail)
        print(f"mailed the {week} review to {message['To']}", file=sys.stderr)
    if args.format == "eml" and (args.output or not args.send):
        # ASCII with CRLF line ends (the SMTP policy), written as they are
        _write_review(args.output, message.as_string(), f"the {week} review as an e-mail")
    return EXIT_OK


def _folder(args: argparse.Namespace) -> Path:
    return data_folder(args.data)


def _open_store(args: argparse.Namespace):
    """The data folder's store, as the rep ``--as`` names (by id, name or e-mail). A
    command that only reads does not make a data folder where there is none."""
    from store.database import Store
    from store.imports.lookups import RepNames

    folder = _folder(args)
    if _reads_only(args) and not folder.is_dir():
        raise StoreError(f"no data folder at {folder}: start `dealdeck` to make one, or give --data")
    # One read, then exit: the plain load is faster than the lean one the app keeps.
    store = Store(folder, lean=False, load=())  # each table read when the command first uses it
    if args.rep:
        rep = RepNames(store.config).find(args.rep)
        if rep is None or rep == "auto":
            store.close()
            raise StoreError(f"{args.rep!r} is not one of the reps in {folder / 'config.yaml'} "
                             f"({', '.join(store.config.rep_ids())})")
        store.me = rep
    return store


def _reads_only(args: argparse.Namespace) -> bool:
    if args.command == "import":
        return bool(getattr(args, "dry_run", False))
    return (args.command in ("export", "review") or (args.command == "sync" and args.sync_command == "export")
            or (args.command == "team" and args.team_command == "show")
            or (args.command == "rules" and args.rules_command == "test"))


def _run_demo(args: argparse.Namespace) -> int:
    from store.demo import generate_demo
    from tui.clock import today

    for name in ("reps", "leads", "weeks"):
        if getattr(args, name) < (1 if name != "leads" else 0):
            raise UsageError(f"dealdeck demo: --{name} must be at least 1")
    summary = generate_demo(_folder(args), reps=args.reps, leads=args.leads, seed=args.seed,
                            weeks=args.weeks, today=today())
    print(summary)
    return EXIT_OK


def _run_export_csv(args: argparse.Namespace) -> int:
    from store.csv_export import export_csv
    from store.files import private_text

    with _open_store(args) as store:
        if args.output:
            try:
                with private_text(args.output, newline="") as out:
                    count = export_csv(store, args.table, out, excel=args.excel)
            except OSError as exc:
                raise StoreError(f"cannot write {args.output}: {exc.strerror}") from None
            print(f"wrote {count} {args.table} to {args.output}", file=sys.stderr)
        else:
            export_csv(store, args.table, sys.stdout, excel=args.excel)
    return EXIT_OK


def _sync_folder(store: Any, given: Path | None) -> Path:
    if given is not None:
        return given
    if store.config.sync.folder:
        return Path(store.config.sync.folder).expanduser()
    raise StoreError("no team folder: give one, or set sync.folder in config.yaml")


def _run_sync_export(args: argparse.Namespace) -> int:
    from sync.exchange import export_to

    with _open_store(args) as store:
        published = export_to(store, _sync_folder(store, args.folder))
    print("\n".join(published.lines()))
    return EXIT_OK


def _run_sync_merge(args: argparse.Namespace) -> int:
    from sync.exchange import merge_files

    with _open_store(args) as store:
        report = merge_files(store, args.paths, dry_run=args.dry_run, freeze=True)  # the process ends after
    _print_report(report.lines())
    return EXIT_REFUSED if report.refused else EXIT_OK


def _print_report(lines: list[str]) -> None:
    """A merge report on stdout, but for the files it refused: those on stderr, one line each."""
    for line in lines:
        if line.startswith("refused "):
            print(f"dealdeck: {line}", file=sys.stderr)
        else:
            print(line)


def _run_sync_undo(args: argparse.Namespace) -> int:
    from sync.exchange import undo_last_merge

    with _open_store(args) as store:
        lines = undo_last_merge(store, dry_run=args.dry_run)
    print("\n".join(lines))
    return EXIT_OK


def _run_sync_git(args: argparse.Namespace) -> int:
    from sync.exchange import export_to, join_team_settings, merge_files, refuse_copied_folder
    from sync.git import git_sync
    from sync.publish import own_paths

    with _open_store(args) as store:
        refuse_copied_folder(store)  # before git is asked anything
        folder = _sync_folder(store, args.folder)
        lines: list[str] = []
        refused = False

        def merge() -> object:
            nonlocal refused
            report = merge_files(store, [folder], freeze=True)
            join_team_settings(store, report)
            lines.extend(report.lines())
            refused = bool(report.refused)
            return report

        def publish() -> list[Path]:
            lines.extend(export_to(store, folder).lines())
            return own_paths(folder, store.replica_id)

        try:
            result = git_sync(folder, publish=publish, merge=merge, replica=store.replica_id, rep=store.me)
        except StoreError:
            _print_report(lines)  # what was merged and published before the step that failed
            raise
    _print_report([*lines, result.message])
    if result.warning:
        print(f"dealdeck: {result.warning}", file=sys.stderr)
    return EXIT_REFUSED if refused else EXIT_OK


def _run_new_replica(args: argparse.Namespace) -> int:
    from store.replica import renew_replica

    folder = _folder(args)
    old, new = renew_replica(folder, moved=args.moved)
    if args.moved:
        print(f"{folder} keeps the replica id {old}: it is now the folder that syncs as {old}")
    else:
        print(f"{folder} now syncs as the new replica {new} (it was a copy of {old})")
    return EXIT_OK


def _run_check(args: argparse.Namespace) -> int:
    from store.folder_check import inspect_folder
    from store.records import check_documents

    folder = _folder(args)
    if not folder.is_dir():
        raise StoreError(f"no data folder at {folder}")
    if args.repair_clock:
        print(_repair_clock(args))
    tables, file_problems = inspect_folder(folder)
    problems: list[object] = [*_config_problems(folder), *file_problems, *check_documents(tables)]
    problems += _future_stamps(folder, tables)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return EXIT_REFUSED
    print(f"{folder}: all files are sound")
    return EXIT_OK


def _repair_clock(args: argparse.Namespace) -> str:
    with _open_store(args) as store:
        found = store.repair_clock()
    if not found.own_future:
        return "no change stamps of this replica are in the future; the clock is as it should be"
    return (f"re-stamped {len(found.own_future)} change(s) of this replica that were in the future at the "
            "current time; they sync again with the next export")


def _config_problems(folder: Path) -> list[str]:
    """``config.yaml`` through the loader every command uses: a bad one is one line (a
    missing one is no problem: the next command writes the defaults)."""
    from store.config import CONFIG_NAME, load_config

    if not (folder / CONFIG_NAME).exists():
        return []
    try:
        load_config(folder)
    except StoreError as exc:
        return [" ".join(str(exc).split("\n"))]
    return []


def _future_stamps(folder: Path, tables: Any) -> list[str]:
    """This replica's stamps in the future, one line per kind (problems: nothing can be
    saved until the repair); other replicas' are printed as notes."""
    import orjson

    from store.clockfix import future_limit, report_lines, scan
    from store.config import CONFIG_NAME, load_config
    from store.hlc import DEFAULT_DRIFT_MS, wall_clock_ms
    from store.replica import REPLICA_FILE

    try:
        replica = str(orjson.loads((folder / REPLICA_FILE).read_bytes())["replica"])
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError):
        return []  # nothing written here yet, or a damaged file that is reported on its own
    try:
        drift = load_config(folder).sync.max_drift_ms if (folder / CONFIG_NAME).exists() else DEFAULT_DRIFT_MS
    except StoreError:
        drift = DEFAULT_DRIFT_MS  # a bad config.yaml is reported on its own
    now = wall_clock_ms()
    found = scan(tables, replica, future_limit(now, drift))
    lines = report_lines(found, now, drift)
    for note in lines[len(found.own):]:
        print(f"note: {note}", file=sys.stderr)
    return lines[:len(found.own)] or _clock_ahead(folder, now, drift)


def _clock_ahead(folder: Path, now: int, drift: int) -> list[str]:
    """The folder's committed clock beyond the drift, when no stored stamp is: the next
    process would start from it, and refuse to save."""
    from store.folder_check import committed_clock
    from store.hlc import REPAIR_COMMAND, Stamp, describe_ahead

    clock = committed_clock(folder)
    ahead = Stamp.parse(clock).wall_ms - now if clock else 0
    if ahead <= drift:
        return []
    return [f"this folder's clock (the newest change stamp it issued) is {describe_ahead(ahead)} ahead of this "
            f"computer's clock: if the clock is right now, run `{REPAIR_COMMAND}`"]


def _run_serve(args: argparse.Namespace) -> int:
    from tui.serve import serve

    return serve(_folder(args), host=args.host, port=args.port, rep=args.rep, theme=args.theme, present=args.present)


def _run_app(args: argparse.Namespace) -> int:
    from tui.app import run_app

    return run_app(_folder(args), rep=args.rep, theme=args.theme, present=args.present)


def _reader_went_away() -> int:
    """Stdout's pipe closed early: stop quietly, as Python's docs recommend (their note on
    SIGPIPE): point stdout at /dev/null so the flush at exit finds no closed pipe either."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_PIPE


def main(argv: Sequence[str] | None = None) -> int:
    from store.imports.parallel import allow_workers

    allow_workers()  # this entry point's callers guard their main module (console script, -m)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        run: Callable[[argparse.Namespace], int] = getattr(args, "run", _run_app)
        status = run(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the try, not at exit
        return status
    except BrokenPipeError:
        return _reader_went_away()
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    except StoreError as exc:
        print(f"dealdeck: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except OSError as exc:  # a full disk, a folder that is a file: one line, nothing half-done
        where = f": {exc.filename}" if exc.filename else ""
        print(f"dealdeck: {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        return 130


def entry() -> NoReturn:
    """The ``dealdeck`` program: ``main``, then out without taking the heap apart object by
    object (a 100k-row import leaves a few million; freeing them took 0.3 s). Everything
    is on disk by now: every commit is fsynced and the store closed."""
    status = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        status = _reader_went_away()
    os._exit(status)


if __name__ == "__main__":
    entry()
