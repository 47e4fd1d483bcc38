"""The import screen's first and last parts: the path input that completes like
a shell, and the words for a dry run's or an import's report. Every string from
the file is shown as plain text."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from textual import events
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.suggester import Suggester
from textual.widgets import Input

from store.imports.report import ImportReport
from tui.text import plain_lines

MAX_LISTED = 20
#: lines of each report section shown
REPORT_LINES = 12


# -- the file ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Completion:
    """What Tab makes of a typed path: the text extended by the common prefix of
    the names it could become, and those names (folders end in "/")."""

    text: str
    matches: tuple[str, ...]


def complete_path(text: str, cwd: Path) -> Completion:
    """Shell-like completion of ``text`` (relative to ``cwd``; ``~`` is home)."""
    if text == "~":
        return Completion("~/", ("~/",))
    head, sep, prefix = text.rpartition("/")
    folder_text = head + sep
    folder = Path(os.path.expanduser(folder_text or "."))
    if not folder.is_absolute():
        folder = cwd / folder
    names = tuple(_names(folder, prefix))
    if not names:
        return Completion(text, ())
    return Completion(folder_text + _common_prefix(names), names)


def _common_prefix(names: tuple[str, ...]) -> str:
    """The characters every name starts with (not path parts: "zoho_" of "zoho_a", "zoho_b")."""
    first, last = min(names), max(names)
    size = next((i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), min(len(first), len(last)))
    return first[:size]


def _names(folder: Path, prefix: str) -> Iterator[str]:
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(prefix) and (prefix.startswith(".") or not entry.name.startswith(".")):
            yield entry.name + ("/" if _is_dir(entry) else "")


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def typed_path(text: str, cwd: Path) -> Path:
    path = Path(os.path.expanduser(text.strip()))
    return path if path.is_absolute() else cwd / path


def shown_folder(folder: Path) -> str:
    """A folder as a path to type from: ``~/...`` under home, ending in "/"."""
    home = Path.home()
    try:
        relative = folder.resolve().relative_to(home.resolve())
    except ValueError:
        return str(folder).rstrip("/") + "/"
    return "~/" if str(relative) == "." else f"~/{relative}/"


class PathSuggester(Suggester):
    """The inline suggestion: what Tab would complete to (→ accepts it)."""

    def __init__(self, cwd: Path) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.cwd = cwd

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        done = complete_path(value, self.cwd)
        return done.text if done.text != value else None


class PathInput(Input):
    """A path; Tab completes it from the file system, or moves on once it is whole."""

    BINDINGS = [Binding("tab", "complete", "Complete", id="import.complete")]

    class Listed(Message):
        """Tab found several names (or none): show them under the input."""

        def __init__(self, matches: tuple[str, ...], typed: str, *, missing: bool = False) -> None:
            super().__init__()
            self.matches, self.typed, self.missing = matches, typed, missing

    def __init__(self, value: str, cwd: Path, **kwargs: str) -> None:
        super().__init__(value, suggester=PathSuggester(cwd), select_on_focus=False, **kwargs)
        self.cwd = cwd

    async def _on_key(self, event: events.Key) -> None:
        """Run a bound key (ctrl+u, ctrl+a, backspace, tab, ↑, enter ...) here, in turn with the
        typed characters. Textual inserts a printable key at once but runs bound keys only
        once the key has bubbled up to the app, so keys that arrive together (tmux send-keys,
        a paste of keystrokes, a fast typist) were applied out of order: ``C-u /tmp/x.csv``
        left the field empty (Textual issue #6605). The bindings are looked up as the app
        would, from this field up; the app has run the priority ones already."""
        if not event.is_printable:
            for namespace, bindings in self.screen._modal_binding_chain:
                for binding in bindings.key_to_bindings.get(event.key, ()):
                    if not binding.priority and await self.app.run_action(binding.action, namespace):
                        event.stop()
                        event.prevent_default()
                        return
        await super()._on_key(event)

    def action_complete(self) -> None:
        done = complete_path(self.value, self.cwd)
        if done.text != self.value:
            self.value = done.text
            self.cursor_position = len(self.value)
            self.post_message(self.Listed(done.matches if len(done.matches) > 1 else (), self.value))
        elif len(done.matches) > 1 or not done.matches:
            self.post_message(self.Listed(done.matches, self.value, missing=not done.matches))
        else:
            self.post_message(self.Listed((), self.value))
            self.screen.focus_next()


def listed(matches: tuple[str, ...], typed: str, missing: bool) -> Content:
    """The line under the path: the names Tab could complete to, or that there are none."""
    if missing:
        name = typed.rpartition("/")[2]
        return Content(f"Nothing in that folder starts with {name!r}." if name else "That folder is empty "
                       "or cannot be read.")
    if not matches:
        return Content("")
    shown = "  ".join(matches[:MAX_LISTED]) + (f"  … ({len(matches)} in all)" if len(matches) > MAX_LISTED else "")
    return Content(f"{counted(len(matches), 'match', 'matches')}: {shown}")


# -- the reports ---------------------------------------------------------------------------------
def counted(count: int, noun: str, plural: str = "") -> str:
    """``1 row``, ``2 rows``: a count and its noun in agreement."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def rows_words(count: int) -> str:
    return counted(count, "row")


def counts_line(report: ImportReport) -> str:
    """The counts in the command line's words and order (``3 added, 0 updated, ...``);
    before the import, what it would do."""
    if report.dry_run:
        line = (f"would add {report.added}, update {report.updated}, leave {report.unchanged} unchanged, "
                f"skip {report.bad}")
    else:
        line = f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, {report.bad} skipped"
    if report.duplicates:
        line += f" ({counted(report.duplicates, 'possible duplicate')})"
    return line


def headline(report: ImportReport, skip_bad: bool) -> tuple[str, str]:
    """The report's first line and its style ("" / "error" / "success")."""
    if report.refused and report.bad and not skip_bad:
        good = report.rows - report.bad
        if good:
            what = f"{report.bad} of {report.rows} rows {'is' if report.bad == 1 else 'are'} bad"
        else:
            what = "The only row is bad" if report.rows == 1 else f"All {report.rows} rows are bad"
        fine = f"the {rows_words(good)} that {'is' if good == 1 else 'are'} fine"
        tail = f"; b skips {'it' if report.bad == 1 else 'them'} and imports {fine}" if good else ""
        return f"{what}: nothing {'would be' if report.dry_run else 'was'} imported{tail}.", "error"
    if report.refused:
        first = report.problems[0] if report.problems else "nothing to import"
        return f"Refused, nothing {'would be' if report.dry_run else 'was'} imported: {first}", "error"
    if report.dry_run:
        return f"Dry run of {rows_words(report.rows)}, nothing written: {counts_line(report)}.", ""
    return f"Imported {report.table}: {counts_line(report)}.", "success"


def value_notes(report: ImportReport, *, before: bool) -> list[str]:
    """The values the import had to guess and the owners who are not reps, a line per
    column. ``before``: said before the import, with the keys that change them."""
    guessed: dict[tuple[str, str], list[str]] = {}
    for (column, value, ours), count in report.defaulted.most_common():
        guessed.setdefault((column, ours), []).append(f"{value!r} ×{count}")
    hint = " (esc: map them in the values list)" if before else ""
    lines = [f"{column}: {', '.join(values)} unknown here → {ours or 'no value'}{hint}"
             for (column, ours), values in guessed.items()]
    lines += [f"{column} {value!r} on {rows_words(count)} → {ours}: {why}"
              for (column, value, ours, why), count in report.adjusted.most_common()]
    strangers: dict[str, list[tuple[str, int]]] = {}
    for (column, owner), count in report.strangers.most_common():
        strangers.setdefault(column, []).append((owner, count))
    hint = "; esc, then o chooses who" if before else ""
    for column, owners in strangers.items():
        names = ", ".join(f"{owner!r} ×{count}" for owner, count in owners[:MAX_LISTED])
        more = f", … ({len(owners)} in all)" if len(owners) > MAX_LISTED else ""
        total = sum(count for _, count in owners)
        lines.append(f"{column}: {rows_words(total)} {'names' if total == 1 else 'name'} someone who is not one of "
                     f"the team's reps, so {'it goes' if total == 1 else 'they go'} "
                     f"to {report.fallback_owner}{hint}: {names}{more}")
    if report.notes_cut:
        lines.append(f"notes cut to 20,000 characters on {rows_words(report.notes_cut)}")
    return lines


def report_sections(report: ImportReport, *, limit: int) -> list[tuple[str, list[str]]]:
    """(title, lines) for the problems, value notes and file notes, the first ``limit`` of each."""
    problems = [] if report.refused and not report.bad else report.problems
    sections = [("Rows that cannot be stored" if report.dry_run else "Rows skipped", problems),
                ("Values", value_notes(report, before=report.dry_run)),
                ("About the file", [_for_the_screen(w, before=report.dry_run) for w in report.warnings])]
    shown = []
    for title, lines in sections:
        if lines:
            more = [f"… and {len(lines) - limit} more"] if len(lines) > limit else []
            shown.append((f"{title} ({len(lines)})", [*lines[:limit], *more]))
    return shown


#: the command line's advice in the engine's notes, and the same on this screen
CLI_HINTS = {"(use --map COLUMN=field to read one into a field)": "(esc: give them fields in the columns list)"}


def _for_the_screen(warning: str, *, before: bool) -> str:
    """A note of the engine's with the screen's advice (before the import) or none (after)."""
    warning = warning.removeprefix("note: ")
    for cli, here in CLI_HINTS.items():
        warning = warning.replace(" " + cli, " " + here if before else "")
    return warning


def report_content(report: ImportReport, *, skip_bad: bool, keys: str) -> Content:
    """The whole report as one block: the headline, its sections, then the keys."""
    first, style = headline(report, skip_bad)
    parts: list[Content] = [Content.styled(first, f"bold ${style}" if style else "bold")]
    for title, lines in report_sections(report, limit=REPORT_LINES):
        parts += [Content("\n\n"), Content.styled(title, "bold $primary"), Content("\n"), plain_lines(lines)]
    parts += [Content("\n\n"), Content.styled(keys, "dim")]
    return Content.assemble(*parts)
