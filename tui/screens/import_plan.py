"""The import screen's second step: what the file looks like and where it goes.

The detected encoding, delimiter and row count; the first rows; each column
with its target and a sample value; each value of a choice column with its
count and what it becomes. The keys change a column's target or a value's
meaning; each change asks the screen for a new preview (``Replan``), which
comes back through ``show``. Every string from the file is plain text.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from store.database import Store
from store.imports import ImportOptions, importable_fields
from store.imports.columns import IGNORE, KEY, NOTES_LINE, TARGETS, Column
from store.imports.preview import ColumnPlan, Preview, ValueCount
from store.imports.rows import CHOICE_DEFAULTS, CHOICES
from tui.screens.dialogs import PickScreen
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

    def refill(self, labels: tuple[str, ...], rows: list[list[Text]]) -> None:
        """New rows, the cursor kept on the same row number."""
        row = self.cursor_row
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
        #: a Replan is on its way: changes wait for its answer
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Static("", id="preview-info", classes="import-note")
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
    def show(self, path: Path, preview: Preview, options: ImportOptions) -> None:
        self.path, self.preview, self.options, self.busy = path, preview, options, False
        self.say("")
        self._paint_info()
        self._paint_rows(preview)
        self.query_one(ColumnsTable).refill(("column", "goes to", "e.g."), [
            [cell(plan.column.header, 24), target_cell(plan.column), cell(plan.sample, 26)]
            for plan in preview.columns])
        values = self.query_one(ValuesTable)
        values.refill(("field", "their value", "rows", "becomes"),
                      [self._value_cells(name, count) for name, count in self._value_rows()])
        self.query_one("#preview-values-box").set_class(not values.row_count, "-hidden")

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
            f"{self.path.name} · {preview.file.encoding_name} · {delimiter} · {preview.rows} rows → "
            f"{preview.table} · no rep → {owner} (o)"))

    def _paint_rows(self, preview: Preview) -> None:
        table = self.query_one("#preview-rows", DataTable)
        table.clear(columns=True)
        width = max((len(cells) for _, cells in preview.first_rows), default=0)
        headers = preview.header or [f"column {n + 1}" for n in range(width)]
        size = 20 if self.app.size.width < WIDE_CELLS else 32
        table.add_column(Text("line", style="dim"))
        for header in headers:
            table.add_column(cell(header, size, "bold"))
        for line, cells in preview.first_rows:
            padded = [*cells, *[""] * (len(headers) - len(cells))][:len(headers)]
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
        self.app.push_screen(PickScreen(f"Read {plan.column.header} into", labels),
                             lambda chosen: self._set_column(plan, chosen))

    def _set_column(self, plan: ColumnPlan, target: str | None) -> None:
        if target is None or target == plan.column.target:
            return
        self._replan(replace(self.options, columns={**self.options.columns, self._column_key(plan): target}))

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
        self.app.push_screen(PickScreen(f"{name} {count.value!r} becomes", [(v, v) for v in allowed]),
                             lambda chosen: self._set_value(name, count, chosen))

    def _set_value(self, name: str, count: ValueCount, ours: str | None) -> None:
        if ours is None or ours == count.ours:
            return
        values = {key: dict(mapped) for key, mapped in self.options.values.items()}
        values.setdefault(name, {})[count.value] = ours
        self._replan(replace(self.options, values=values))

    def action_owner(self) -> None:
        reps = [(f"{rep.name} ({rep.id})", rep.id) for rep in self.store.config.reps]
        reps.append(("auto: the config's assignment rule", "auto"))

        def chosen(owner: str | None) -> None:
            if owner is not None:
                self.options = replace(self.options, owner=owner)
                self._paint_info()

        self.app.push_screen(PickScreen("Rows with no owner, or an owner who is not a rep, go to", reps), chosen)
