"""A data folder read strictly read-only, as ``dealdeck check`` reads it: its tables with
the journal's committed transactions applied, its committed clock, and the problems
found. Takes no lock and writes nothing (see ``store.storage`` for the layout)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import orjson

from store.activity_store import read_log
from store.journal import JournalDamaged, committed_transactions
from store.storage import JOURNAL_NAME
from store.table_groups import LOG_GROUPS, OLD_ACTIVITY_FILE, TABLE_GROUPS
from store.tablefile import Tables, read_table_file


@dataclass
class FileProblem:
    path: Path
    problem: str

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"



def committed_clock(folder: Path) -> str:
    """The folder's committed clock, read as a Store would (table file headers, then the
    journal's committed transactions, a clock reset setting it), changing nothing."""
    clock = ""
    for group in TABLE_GROUPS:
        with contextlib.suppress(OSError, ValueError, AttributeError), (folder / f"{group}.json").open("rb") as lines:
            clock = max(clock, str(orjson.loads(lines.readline()).get("clock") or ""))
    with contextlib.suppress(OSError, JournalDamaged), (folder / JOURNAL_NAME).open("rb") as journal:
        for entries, _ in committed_transactions(journal):
            last = entries[-1]
            if isinstance(last.get("clock"), str):
                clock = last["clock"] if last.get("clock_reset") is True else max(clock, last["clock"])
    return clock



def check_folder(folder: Path) -> list[FileProblem]:
    """Verify every table file and the journal without changing anything."""
    return inspect_folder(folder)[1]



def inspect_folder(folder: Path) -> tuple[Tables, list[FileProblem]]:
    """Read a data folder strictly read-only: its tables with the journal applied,
    and the problems found. Takes no lock and writes nothing."""
    tables: Tables = {t: {} for names in TABLE_GROUPS.values() for t in names}
    problems: list[FileProblem] = []
    old = folder / OLD_ACTIVITY_FILE  # not yet moved to the log and the tasks file: the next open does it
    sources = [(group, names, folder / f"{group}.json") for group, names in TABLE_GROUPS.items()
               if group not in LOG_GROUPS] + ([("activities", ("activities", "tasks"), old)] if old.exists() else [])
    for group in LOG_GROUPS:
        path = folder / f"{group}.jsonl"
        if path.exists() and not old.exists():
            docs, found = read_log(path)
            tables[TABLE_GROUPS[group][0]] = docs
            problems += [FileProblem(path, problem) for problem in found]
    for _, names, path in sources:
        if not path.exists():
            continue
        try:
            parsed = read_table_file(path)
        except (OSError, ValueError) as exc:
            problems.append(FileProblem(path, str(exc)))
            continue
        for name in names:
            tables[name] = parsed["tables"].get(name, {})
    journal = folder / JOURNAL_NAME
    with contextlib.suppress(FileNotFoundError), journal.open("rb") as lines:
        try:
            for entries, _ in committed_transactions(lines):
                for entry in entries:
                    for table, doc in entry["puts"]:
                        tables.setdefault(table, {})[doc["id"]] = doc
        except JournalDamaged as exc:
            problems.append(FileProblem(journal, str(exc)))
    return tables, problems
