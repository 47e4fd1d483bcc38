"""What an import did, or would do: counts, the rows it could not store, and
the values it had to guess, each said once with how to fix it."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

#: bad rows listed one by one; beyond this only counted
MAX_PROBLEMS = 1000
#: a value quoted in a problem (``no customer named 'acme.com'``)
_QUOTED = re.compile(r"'[^']*'")


@dataclass
class ImportReport:
    problems: list[str] = field(default_factory=list)
    #: notes about the file (columns, encoding) first, then possible duplicates by line
    warnings: list[str] = field(default_factory=list)
    table: str = "leads"
    dry_run: bool = False
    refused: bool = False
    rows: int = 0
    bad: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    #: (column, value, what it became) -> rows: a value with no meaning here
    defaulted: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    #: (column, owner) -> rows whose owner is not one of the team's reps
    strangers: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: rows whose owner was a stranger went to this rep
    fallback_owner: str = ""
    #: (column, value, what it became, why) -> rows, for values made consistent
    adjusted: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    notes_cut: int = 0

    @property
    def good(self) -> int:
        return self.rows - self.bad

    @property
    def written(self) -> int:
        return 0 if self.dry_run or self.refused else self.added + self.updated

    def problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)
        elif len(self.problems) == MAX_PROBLEMS:
            self.problems.append("... more bad rows are counted, not listed")

    def value_notes(self) -> list[str]:
        """One line per guessed value, the most frequent first."""
        lines = [f"{column} {value!r} on {_rows(count)} → {ours}; map it with "
                 f"--map-value {_quoted(f'{column}:{value}=…')}"
                 for (column, value, ours), count in self.defaulted.most_common()]
        lines += [f"{column} {value!r} on {_rows(count)} → {ours}: {why}"
                  for (column, value, ours, why), count in self.adjusted.most_common()]
        lines += [f"{column} {owner!r} on {_rows(count)} is not one of the team's reps → {self.fallback_owner} "
                  "(add them to reps in config.yaml, or choose with --owner)"
                  for (column, owner), count in self.strangers.most_common()]
        if self.notes_cut:
            lines.append(f"notes cut to 20,000 characters on {_rows(self.notes_cut)}")
        return lines

    def condensed(self, limit: int = 10) -> list[str]:
        """The report for a terminal: bad rows grouped by problem (with their first line
        numbers), notes about the file, at most ``limit`` possible duplicates, and the
        guessed values. The app lists everything; a terminal would scroll it away."""
        groups: dict[str, tuple[list[str], dict[str, None]]] = {}
        for problem in self.problems:
            line, _, what = problem.partition(": ") if problem.startswith("line ") else ("", "", problem)
            values = _QUOTED.findall(what)  # the same problem with another value is one group
            numbers, examples = groups.setdefault(_QUOTED.sub("…", what), ([], {}))
            numbers.append(line.removeprefix("line "))
            examples.update(dict.fromkeys(values))
        lines = [_group_line(what, numbers, examples, limit)
                 for what, (numbers, examples) in list(groups.items())[:limit]]
        if len(groups) > limit:
            lines.append(f"... and {len(groups) - limit} other problems")
        notes = [w for w in self.warnings if not w.startswith("line ")]
        duplicates = [w for w in self.warnings if w.startswith("line ")]
        lines += notes + duplicates[:limit]
        if len(duplicates) > limit:
            lines.append(f"... and {len(duplicates) - limit} more rows that look like a record already "
                         "here or an earlier row")
        return lines + self.value_notes()

    def summary(self) -> str:
        if self.refused:
            return self._refusal()
        counts = (f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
                  f"{self.bad} skipped")
        tail = f" ({_plural(self.duplicates, 'possible duplicate')})" if self.duplicates else ""
        if self.dry_run:
            return f"dry run, nothing written: {self.table} {counts}{tail}"
        return f"imported {self.table}: {counts}{tail}"

    def _refusal(self) -> str:
        if not self.bad:
            return "refused: nothing was imported"
        if self.bad == self.rows:
            what, hint = ("the only row is bad" if self.rows == 1 else f"all {self.rows} rows are bad"), ""
        else:
            what = f"{self.bad} of {self.rows} rows {'is' if self.bad == 1 else 'are'} bad"
            hint = f" (use --skip-bad to import the {_plural(self.good, 'good row')})"
        if self.dry_run:
            return f"dry run: refused: {what}; nothing would be imported{hint}"
        return f"refused: {what}; nothing was imported{hint}"


def _group_line(what: str, numbers: list[str], examples: dict[str, None], limit: int) -> str:
    if numbers == [""]:
        return what
    shown = ", ".join(numbers[:limit]) + (", ..." if len(numbers) > limit else "")
    where = f"line {shown}" if len(numbers) == 1 else f"{_rows(len(numbers))}: lines {shown}"
    if len(examples) <= 1:
        return f"{where}: {_QUOTED.sub(lambda _: next(iter(examples)), what, count=1) if examples else what}"
    values = list(examples)
    more = f" and {len(values) - 3} more" if len(values) > 3 else ""
    return f"{where}: {what} ({', '.join(values[:3])}{more})"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def _rows(count: int) -> str:
    return _plural(count, "row")


def _quoted(text: str) -> str:
    return f'"{text}"' if any(ch in text for ch in " '\"") else text
