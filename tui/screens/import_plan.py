"""The import screen's second step: what the file looks like and where it goes.

The detected encoding, delimiter and row count; the first rows; each column
with its target and a sample value; each value of a choice column with its
count and what it becomes. The keys change a column's target or a value's
meaning; each change asks the screen for a new preview (``Replan``), which
comes back through ``show``. Every string from the file is plain text.

A file with no column for a field the records need (a contacts file that names
no company) is still previewed (``planned_preview``): the step names the field,
and the dry run waits until a column is read into it.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import combinations
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, OptionList, Static

from store.database import Store
from store.imports import ImportOptions, importable_fields
from store.imports.columns import (
    IGNORE,
    KEY,
    NOTES_LINE,
    REQUIRED,
    TARGETS,
    Column,
    custom_targets,
    is_field_key_row,
    plan_columns,
)
from store.imports.preview import ColumnPlan, Preview, ValueCount, preview_csv
from store.imports.reading import Refused, open_csv
from store.imports.rows import CHOICE_DEFAULTS, CHOICES
from tui.screens.dialogs import PickScreen
from tui.screens.import_steps import rows_words
from tui.text import fit, plain, plain_text

#: where a column goes, in words short enough for 80 columns
TARGET_WORDS = {KEY: "key: their record id", NOTES_LINE: "notes line", IGNORE: "not imported"}
TARGET_HELP = {KEY: "the other system's record id (re-importing updates instead of adding)",
               NOTES_LINE: "kept in the notes as a 'Column: value' line", IGNORE: "not imported"}
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "bar"}
#: from this terminal width the first rows show more of each cell
WIDE_CELLS = 150
#: a mark on what the user changed
CHANGED = " •"


def cell(text: str, width: int, style: str = "") -> Text:
    """A cell from the file: plain text, one line, cut to ``width``."""
    return plain_text(fit(" ".join(text.split()), width).rstrip(), style)


def planned_preview(store: Store, path: Path, table: str, options: ImportOptions) -> tuple[Preview, tuple[str, ...]]:
    """The preview, and the fields the records need that no column is read into.

    ``store.imports`` refuses a file that leaves such a field without a column (the
    command line then says ``--map COLUMN=field``). Here the file is previewed all the
    same: each missing field is read from a column past the file's last (the engine
    takes a column number there as a column of empty cells), and those stand-ins are
    left out of the preview, so they never show nor reach the import. Anything else
    the engine refuses is raised as it was (``Refused`` / ``StoreError``)."""
    try:
        return preview_csv(store, path, table, options), ()
    except Refused as refused:
        missing, width = _missing_fields(store, path, table, options)
        if not missing:
            raise refused from None
    stand_ins = {str(width + n + 1): name for n, name in enumerate(missing)}
    preview = preview_csv(store, path, table, replace(options, columns={**options.columns, **stand_ins}))
    real = [plan for plan in preview.columns if plan.column.index < width]
    return replace(preview, columns=real), missing


def _missing_fields(store: Store, path: Path, table: str, options: ImportOptions) -> tuple[tuple[str, ...], int]:
    """The fewest required fields whose stand-ins make the header plan, and the
    file's width; ``()`` when none do (the refusal was for something else)."""
    rows = open_csv(path, store.config.imports.max_file_mb * 2**20).rows()
    try:
        first = next(rows, None)
    finally:
        rows.close()
    if first is None:
        return (), 0
    header, width = first[1], len(first[1])
    needed = REQUIRED.get(table, ())
    for size in range(1, len(needed) + 1):
        for missing in combinations(needed, size):
            stand_ins = {str(width + n + 1): name for n, name in enumerate(missing)}
            try:
                layout = plan_columns(table, header, {**options.columns, **stand_ins}, path, key=options.key,
                                      keep_unmapped=options.keep_unmapped, saved=options.saved_columns,
                                      custom=custom_targets(store.config.custom(table)))
            except Refused:
                continue
            if layout.has_header:
                return missing, width
    return (), width


def target_cell(column: Column) -> Text:
    words = TARGET_WORDS.get(column.target, column.target)
    if column.how in ("--map", "mapping"):
        return Text(words + CHANGED, style="bold")
    return Text(words, style="dim" if column.target in (IGNORE, NOTES_LINE) else "")


class ChoiceTable(DataTable[Text]):
    """A table whose rows each hold a choice: enter picks from the list, ←/→ step through it."""

    BINDINGS = [
        Binding("enter", "choose", "Choose", id="import.choose"),
        Binding("right", "step(1)", "Next", id="import.next_choice"),
        Binding("left", "step(-1)", "Previous", id="import.previous_choice"),
    ]

    class Change(Message):
        """Row ``row`` of ``table``: ``step`` through the choices, ``target`` set, or neither: pick."""

        def __init__(self, table: ChoiceTable, row: int, *, step: int = 0, target: str | None = None) -> None:
            super().__init__()
            self.table, self.row, self.step, self.target = table, row, step, target

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]

    def _change(self, *, step: int = 0, target: str | None = None) -> None:
        if self.row_count:
            self.post_message(self.Change(self, self.cursor_row, step=step, target=target))

    def action_choose(self) -> None:
        self._change()

    def action_step(self, step: int) -> None:
        self._change(step=step)

    def refill(self, labels: tuple[str, ...], rows: list[list[Text]], *, top: bool = False) -> None:
        """New rows, the cursor kept on the same row number (``top``: on the first, for a new file)."""
        row = 0 if top else self.cursor_row
        self.clear(columns=True)
        for label in labels:
            self.add_column(Text(label, style="bold"))
        for cells in rows:
            self.add_row(*cells)
        self.move_cursor(row=min(row, max(self.row_count - 1, 0)))


class ColumnsTable(ChoiceTable):
    """Each column of the file and where it goes; k / n / x set key, notes line, not imported."""

    BINDINGS = [
        Binding("enter", "choose", "Field", id="import.choose"),
        Binding("k", "set('key')", "Key", id="import.key"),
        Binding("n", "set('notes-line')", "Notes", id="import.notes_line"),
        Binding("x", "set('ignore')", "Skip", id="import.ignore"),
    ]

    def action_set(self, target: str) -> None:
        self._change(target=target)


class ValuesTable(ChoiceTable):
    """Each value of a choice column, how often, and what it becomes."""

    BINDINGS = [Binding("enter", "choose", "Becomes", id="import.choose")]


class FieldPicker(PickScreen):
    """The picker of where a column goes (or what a value becomes), opened on the
    current choice, so that enter straight away changes nothing."""

    def __init__(self, title: str, choices: list[tuple[str, Any]], current: object) -> None:
        super().__init__(title, choices)
        self.current = current

    def _show(self, text: str) -> None:
        super()._show(text)
        values = [value for _, value in self._matches(text)]
        if not text.strip() and self.current in values:
            self.query_one("#pick-options", OptionList).highlighted = values.index(self.current)


class PlanStep(Vertical):
    """The preview, and the keys that change where the file goes."""

    BINDINGS = [Binding("o", "owner", "Owner", id="import.owner")]

    class Replan(Message):
        """Preview the file again with these options (a column or a value changed)."""

        def __init__(self, options: ImportOptions) -> None:
            super().__init__()
            self.options = options

    def __init__(self, store: Store, **kwargs: str) -> None:
        super().__init__(**kwargs)
        self.store = store
        self.path = Path()
        self.preview: Preview | None = None
        self.options = ImportOptions()
        #: fields the records need that no column is read into yet (the dry run waits for them)
        self.missing: tuple[str, ...] = ()
        #: where each column went, and what each choice value became, before any change of
        #: the user's: a change back to it is no change (nothing marked, nothing saved)
        self.detected: dict[str, str] = {}
        self.detected_values: dict[tuple[str, str], str | None] = {}
        #: a Replan is on its way: changes wait for its answer
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Static("", id="preview-info", classes="import-note")
        yield Static("", id="preview-missing", classes="import-error")
        yield DataTable(id="preview-rows", cursor_type="none", show_cursor=False)
        with Horizontal(id="preview-plan"):
            with Vertical(id="preview-columns-box"):
                yield Static(plain("Columns: enter a field, ←/→ the next, k key, n notes, x skip"),
                             classes="import-label")
                yield ColumnsTable(id="preview-columns")
            with Vertical(id="preview-values-box"):
                yield Static(plain("Values: what each becomes (enter or ←/→ to change)"), classes="import-label")
                yield ValuesTable(id="preview-values")
        yield Static("", id="preview-error", classes="import-error")

    # -- showing ---------------------------------------------------------------------------------
    def show(self, path: Path, preview: Preview, options: ImportOptions, missing: tuple[str, ...] = ()) -> None:
        """Paint a preview; a new file (or the same one as other records) starts at the top."""
        new_file = self.preview is None or path != self.path or preview.table != self.preview.table
        if new_file:
            self.detected, self.detected_values = {}, {}
        self.path, self.preview, self.options, self.missing, self.busy = path, preview, options, missing, False
        self._remember_detected(preview)
        self.say("")
        self._paint_info()
        self._paint_missing()
        self._paint_rows(preview, new_file)
        self.query_one(ColumnsTable).refill(("column", "goes to", "e.g."), [
            [cell(plan.column.header, 24), target_cell(plan.column), cell(plan.sample, 26)]
            for plan in preview.columns], top=new_file)
        values = self.query_one(ValuesTable)
        values.refill(("field", "their value", "rows", "becomes"),
                      [self._value_cells(name, count) for name, count in self._value_rows()], top=new_file)
        self.query_one("#preview-values-box").set_class(not values.row_count, "-hidden")

    def _remember_detected(self, preview: Preview) -> None:
        for plan in preview.columns:
            if plan.column.how in ("header", "unmapped"):
                self.detected[self._column_key(plan)] = plan.column.target
        for name, count in self._value_rows():
            if count.value not in self.options.values.get(name, {}):
                self.detected_values[name, count.value] = count.ours

    def refused(self, message: str) -> None:
        """The change asked for cannot be made: say why; the plan stays as it was."""
        self.busy = False
        self.say(message)

    def say(self, message: str) -> None:
        error = self.query_one("#preview-error", Static)
        error.update(plain(message))
        error.display = bool(message)

    def _paint_info(self) -> None:
        preview = self.preview
        assert preview is not None
        delimiter = DELIMITERS.get(preview.file.delimiter, repr(preview.file.delimiter))
        owner = self.options.owner or self.store.me
        self.query_one("#preview-info", Static).update(plain(
            f"{self.path.name} · {preview.file.encoding_name} · {delimiter} · {rows_words(preview.rows)} → "
            f"{preview.table} · no rep → {owner} (o)"))

    def _paint_missing(self) -> None:
        """The fields the records need that no column gives yet, and how to give them one."""
        note = self.query_one("#preview-missing", Static)
        note.display = bool(self.missing)
        if self.missing:
            assert self.preview is not None
            table = self.preview.table.capitalize()
            if len(self.missing) == 1:
                field = self.missing[0]
                text = (f"{table} need a {field}, and no column gives one: on the column that holds it, "
                        f"press enter and choose {field}. The dry run waits until then.")
            else:
                fields = " and ".join(f"a {name}" for name in self.missing)
                text = (f"{table} need {fields}, and no column gives them: on the column that holds each, "
                        "press enter and choose it. The dry run waits until then.")
            note.update(plain(text))

    def _paint_rows(self, preview: Preview, new_file: bool = False) -> None:
        table = self.query_one("#preview-rows", DataTable)
        table.clear(columns=True)
        if new_file:
            table.scroll_home(animate=False)
        width = max((len(cells) for _, cells in preview.first_rows), default=0)
        headers = preview.header or [f"column {n + 1}" for n in range(width)]
        size = 20 if self.app.size.width < WIDE_CELLS else 32
        table.add_column(Text("line", style="dim"))
        for header in headers:
            table.add_column(cell(header, size, "bold"))
        for number, (line, cells) in enumerate(preview.first_rows):
            padded = [*cells, *[""] * (len(headers) - len(cells))][:len(headers)]
            if number == 0 and preview.header and is_field_key_row(preview.header, cells):
                # a Chinese template's row of field names: the import skips it, and says so
                table.add_row(Text(f"{line} skipped", style="dim italic"),
                              *[cell(value, size, "dim strike") for value in padded])
            else:
                table.add_row(Text(str(line), style="dim"), *[cell(value, size) for value in padded])

    def _value_rows(self) -> list[tuple[str, ValueCount]]:
        assert self.preview is not None
        return [(name, count) for name, counts in self.preview.values.items() for count in counts]

    def _value_cells(self, name: str, count: ValueCount) -> list[Text]:
        if count.value in self.options.values.get(name, {}):
            ours = Text(f"{count.ours}{CHANGED}", style="bold")
        elif count.ours:
            ours = Text(count.ours)
        else:
            warning = self.app.current_theme.warning or ""
            ours = Text(f"? → {CHOICE_DEFAULTS[name] or 'from the score'}", style=f"bold {warning}".strip())
        return [Text(name), cell(count.value, 24), Text(str(count.count)), ours]

    # -- changing --------------------------------------------------------------------------------
    @on(ChoiceTable.Change)
    def _change(self, event: ChoiceTable.Change) -> None:
        event.stop()
        if self.preview is None or self.busy:
            return
        if isinstance(event.table, ColumnsTable):
            self._change_column(self.preview.columns[event.row], event.step, event.target)
        else:
            name, count = self._value_rows()[event.row]
            self._change_value(name, count, event.step)

    def _replan(self, options: ImportOptions) -> None:
        self.busy = True
        self.post_message(self.Replan(options))

    def _change_column(self, plan: ColumnPlan, step: int, target: str | None) -> None:
        assert self.preview is not None
        choices = [*importable_fields(self.preview.table), *TARGETS]
        if target is None and step:
            current = choices.index(plan.column.target) if plan.column.target in choices else -1
            target = choices[(current + step) % len(choices)]
        if target is not None:
            self._set_column(plan, target)
            return
        labels = [(f"{name}: {TARGET_HELP[name]}" if name in TARGET_HELP else name, name) for name in choices]
        self.app.push_screen(FieldPicker(f"Read {plan.column.header} into", labels, plan.column.target),
                             lambda chosen: self._set_column(plan, chosen))

    def _set_column(self, plan: ColumnPlan, target: str | None) -> None:
        if target is None or target == plan.column.target:
            return
        key = self._column_key(plan)
        columns = {**self.options.columns, key: target}
        others = {wanted for column, wanted in columns.items() if column != key}
        if self.detected.get(key) == target and target not in others:
            del columns[key]  # back to what the header said: no change of the user's
        self._replan(replace(self.options, columns=columns))

    def _column_key(self, plan: ColumnPlan) -> str:
        """The column by its header, or by its number when the header is not unique."""
        assert self.preview is not None
        header = plan.column.header
        if self.preview.header and [h.strip() for h in self.preview.header].count(header) == 1:
            return header
        return str(plan.column.index + 1)

    def _allowed(self, name: str) -> list[str]:
        allowed = self.store.config.lead_sources if name == "source" else CHOICES[name]
        return [value for value in allowed if value]

    def _change_value(self, name: str, count: ValueCount, step: int) -> None:
        allowed = self._allowed(name)
        if step:
            current = count.ours or CHOICE_DEFAULTS[name]
            index = allowed.index(current) if current in allowed else (-1 if step > 0 else 0)
            self._set_value(name, count, allowed[(index + step) % len(allowed)])
            return
        current = count.ours or CHOICE_DEFAULTS[name]
        self.app.push_screen(FieldPicker(f"{name} {count.value!r} becomes", [(v, v) for v in allowed], current),
                             lambda chosen: self._set_value(name, count, chosen))

    def _set_value(self, name: str, count: ValueCount, ours: str | None) -> None:
        if ours is None or ours == count.ours:
            return
        values = {key: dict(mapped) for key, mapped in self.options.values.items()}
        values.setdefault(name, {})[count.value] = ours
        if (name, count.value) in self.detected_values and self.detected_values[name, count.value] == ours:
            del values[name][count.value]  # back to what it meant before: no change of the user's
            if not values[name]:
                del values[name]
        self._replan(replace(self.options, values=values))

    def action_owner(self) -> None:
        reps = [(f"{rep.name} ({rep.id})", rep.id) for rep in self.store.config.reps]
        reps.append(("auto: the config's assignment rule", "auto"))

        def chosen(owner: str | None) -> None:
            if owner is not None:
                self.options = replace(self.options, owner=owner)
                self._paint_info()

        self.app.push_screen(FieldPicker("Rows with no owner, or an owner who is not a rep, go to", reps,
                                         self.options.owner or self.store.me), chosen)
