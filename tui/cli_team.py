"""`dealdeck team show|edit`: the team's shared settings on the command line."""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from store.errors import StoreError

Common = Callable[..., None]
OpenStore = Callable[[argparse.Namespace], Any]
#: shown above the settings when an edit is opened again after a refused save
_AGAIN = "# NOT SAVED: {problem}\n# Fix it and save again, or empty the file to give up.\n"


def add_parsers(commands: argparse._SubParsersAction, common: Common, open_store: OpenStore) -> None:
    team = commands.add_parser("team", help="the team's shared settings (reps, stages, rules ...)")
    team_commands = team.add_subparsers(dest="team_command", required=True, parser_class=type(team))
    show = team_commands.add_parser("show", help="print the team settings as YAML")
    common(show)
    show.set_defaults(run=lambda args: _run_show(args, open_store))
    edit = team_commands.add_parser("edit", help="edit them in $EDITOR; an invalid save is refused with its line")
    common(edit)
    edit.set_defaults(run=lambda args: _run_edit(args, open_store))
    purge = team_commands.add_parser("purge-field", help="clear a deleted custom field's values from every record")
    common(purge)
    purge.add_argument("field", metavar="TABLE.KEY", help="e.g. leads.industry (declared deleted: true)")
    purge.set_defaults(run=lambda args: _run_purge(args, open_store))


def add_rules_parsers(commands: argparse._SubParsersAction, common: Common, open_store: OpenStore) -> None:
    rules = commands.add_parser("rules", help="the team's rules: what they would do, and the timed ones' sweep")
    rule_commands = rules.add_subparsers(dest="rules_command", required=True, parser_class=type(rules))
    test = rule_commands.add_parser("test", help="what the rules would do on the current data, changing nothing")
    common(test)
    test.set_defaults(run=lambda args: _run_rules_test(args, open_store))
    run = rule_commands.add_parser("run", help="fire the timed rules (dates reached, no activity) on your records")
    common(run)
    run.set_defaults(run=lambda args: _run_rules_run(args, open_store))


def _run_rules_test(args: argparse.Namespace, open_store: OpenStore) -> int:
    from tui.clock import today

    with open_store(args) as store:
        lines = store.rules_dry_run(today())
    sys.stdout.write("\n".join(lines or ["no rules"]) + "\n")
    return 0


def _run_rules_run(args: argparse.Namespace, open_store: OpenStore) -> int:
    from tui.clock import today

    with open_store(args) as store:
        lines = store.run_timed_rules(today())
    sys.stdout.write("\n".join(lines or ["no timed rule had anything to do"]) + "\n")
    return 0


def _run_show(args: argparse.Namespace, open_store: OpenStore) -> int:
    from store.team_settings import as_yaml

    with open_store(args) as store:
        for line in (store.settings_notice(), *store.settings_problems()):
            if line:
                print(f"dealdeck: {line}", file=sys.stderr)
        sys.stdout.write(as_yaml(store.config))
    return 0


def _run_edit(args: argparse.Namespace, open_store: OpenStore) -> int:
    import yaml

    from store.team_settings import as_yaml, parse_team_yaml

    with open_store(args) as store:
        original = as_yaml(store.config)
        text = original
        while True:
            text = _edit_in_editor(text)
            if not text.strip() or _without_notice(text) == original:
                print("dealdeck: team settings unchanged", file=sys.stderr)
                return 0
            try:
                values = parse_team_yaml(_without_notice(text), store.config)
                store.save_team_settings(values)
                was = yaml.safe_load(original) or {}
                changed = [key for key, value in values.items() if value != was.get(key)]
            except StoreError as exc:
                if not _interactive():
                    raise StoreError(f"team settings not saved: {exc}") from None
                print(f"dealdeck: not saved: {exc}", file=sys.stderr)
                text = _AGAIN.format(problem=exc) + _without_notice(text)
                continue
            break
    saved = ", ".join(changed) if len(changed) <= 4 else f"{len(changed)} team settings"
    print(f"dealdeck: saved {saved or 'the team settings as they were'}; they go to the team with the next sync")
    return 0


def _run_purge(args: argparse.Namespace, open_store: OpenStore) -> int:
    from store.custom_fields import CUSTOM_TABLES

    table, _, key = args.field.partition(".")
    if table not in CUSTOM_TABLES or not key:
        raise StoreError(f"{args.field!r}: give TABLE.KEY, TABLE one of {', '.join(CUSTOM_TABLES)}")
    with open_store(args) as store:
        count = store.purge_custom_field(table, key)
    print(f"dealdeck: cleared {table}.{key} on {count} record{'' if count == 1 else 's'}; "
          "this goes to the team with the next sync")
    return 0


def _without_notice(text: str) -> str:
    """The edited text without the "not saved" lines an earlier refusal put on top."""
    lines = text.splitlines(keepends=True)
    notice = _AGAIN.splitlines(keepends=True)
    while lines and any(lines[0].startswith(line.split("{")[0]) for line in notice):
        lines.pop(0)
    return "".join(lines)


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def _edit_in_editor(text: str) -> str:
    """``text`` as the rep's editor leaves it (``$VISUAL``, ``$EDITOR``, else ``vi``), through
    a private temporary file that is gone afterwards."""
    command = shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")
    handle, name = tempfile.mkstemp(prefix="dealdeck-team-", suffix=".yaml")  # 0600
    path = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        try:
            status = subprocess.call([*command, str(path)])
        except OSError as exc:
            raise StoreError(f"cannot start the editor {command[0]!r}: {exc.strerror}; set $EDITOR") from None
        if status != 0:
            raise StoreError(f"the editor {command[0]!r} exited with status {status}: nothing saved")
        return path.read_text(encoding="utf-8")
    finally:
        path.unlink(missing_ok=True)
