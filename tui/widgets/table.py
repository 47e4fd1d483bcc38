"""A table that renders only the rows on screen (Textual's Line API).

Textual's stock DataTable mounts every row: 2.4 s for 10k rows, 11.5 s for 50k
(measured, STYLE.md). This one keeps rows as plain Python objects and paints
the visible lines in ``render_line``, so 50k rows cost nothing until seen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from tui.text import fit
from tui.widgets.styles import ThemeStyles

RowT = TypeVar("RowT")
#: a cell: its text and an optional style name (a theme variable such as "grade-a")
Cell = tuple[str, str | None]


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int
    #: flexible columns share the width left over by the fixed ones
    flex: bool = False
    align: str = "left"
    #: columns with a higher number are dropped first when the table is narrow
    priority: int = 0
    #: the sort order in words: (the sort key's order, reversed), for the filter line
    order: tuple[str, str] = ("A to Z", "Z to A")
    #: the sort key's own order runs from the largest shown value down (e.g. value, largest
    #: first), so its header glyph is ▼: ▲ always means smallest (or A, or earliest) first
    falling: bool = False
    #: the column's name in words when the label is short ("Gr": "grade")
    noun: str = ""
    #: the width that shows its widest value whole (a rep id, a source): spare room goes
    #: here before the flexible columns grow (``VirtualTable.want_widths``)
    wanted: int = 0

    @property
    def spoken(self) -> str:
        return self.noun or self.label.casefold()


def layout_columns(columns: Sequence[Column], width: int) -> list[tuple[int, Column, int]]:
    """(index, column, width) that fit ``width`` cells: drop low-priority columns, let
    columns that would cut a value grow to their ``wanted`` width while there is room,
    then share what is left among the flexible ones (every cell of it: none left blank)."""
    chosen = list(columns)
    while len(chosen) > 1:
        needed = sum(c.width for c in chosen) + len(chosen) - 1
        if needed <= width:
            break
        drop = max(chosen, key=lambda c: c.priority)
        if drop.priority == 0:
            break
        chosen.remove(drop)
    sizes = [c.width for c in chosen]
    room = width - sum(sizes) - (len(chosen) - 1)
    for i, column in enumerate(chosen):
        grow = max(min(column.wanted - sizes[i], room), 0)
        sizes[i] += grow
        room -= grow
    flexible = [i for i, c in enumerate(chosen) if c.flex]
    if flexible:
        spare = max(width - sum(s for i, s in enumerate(sizes) if i not in flexible) - (len(chosen) - 1), 0)
        share, extra = divmod(spare, len(flexible))
        for n, i in enumerate(flexible):
            sizes[i] = share + (n < extra)
    return [(columns.index(column), column, size) for column, size in zip(chosen, sizes, strict=True)]


def widest(values: Iterable[str], cap: int) -> int:
    """The cells the widest of ``values`` takes, at most ``cap``."""
    return min(max(map(cell_len, set(values)), default=0), cap)


def sort_label(label: str, glyph: str, width: int) -> str:
    """The sort column's title with its glyph, which is never the part cut off."""
    if cell_len(label) + 2 <= width:
        return f"{label} {glyph}"
    return set_cell_size(label, max(width - 1, 0)) + glyph


class TableHeader(Widget):
    """The column titles of a VirtualTable, with the sort column marked."""

    DEFAULT_CSS = "TableHeader { height: 1; background: $panel; text-style: bold; }"

    def __init__(self, table: VirtualTable, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.table = table

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        cells = []
        for _, column, column_width in self.table.layout(self.table.content_width - 1):
            label = column.label
            if column.key == self.table.sort_key:
                label = sort_label(label, self.table.sort_glyph(), column_width)
            cells.append(fit(label, column_width, column.align))
        text = " " + " ".join(cells)
        return Strip([Segment(fit(text, width), self.rich_style)])

    def on_click(self, event: events.Click) -> None:
        x = 1
        for _, column, column_width in self.table.layout(self.table.content_width - 1):
            if x <= event.x < x + column_width + 1:
                self.table.sort_by(column.key)
                return
            x += column_width + 1


class VirtualTable(ThemeStyles, ScrollView, Generic[RowT], can_focus=True):
    """Rows of any type, rendered by ``cells(row)``; only visible lines are painted."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False, id="table.up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id="table.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="table.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="table.page_down"),
        Binding("home,g", "jump(0)", "First", show=False, id="table.first"),
        Binding("end", "jump(-1)", "Last", show=False, id="table.last"),
        Binding("enter", "select", "Open", show=False, id="table.open"),
        Binding("o", "cycle_sort", "Sort", show=False, id="table.sort"),
    ]
    COMPONENT_CLASSES = {"virtual-table--cursor"}
    DEFAULT_CSS = """
    VirtualTable { background: $surface; overflow-x: hidden; }
    VirtualTable > .virtual-table--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold;
    }
    VirtualTable:blur > .virtual-table--cursor {
        background: $block-cursor-blurred-background; text-style: none;
    }
    """

    cursor: reactive[int] = reactive(0, always_update=True)

    class Highlighted(Message):
        def __init__(self, table: VirtualTable, index: int) -> None:
            super().__init__()
            self.table, self.index = table, index

        @property
        def control(self) -> VirtualTable:
            return self.table

    class Selected(Highlighted):
        """Enter or a double click on a row."""

    class SortChanged(Message):
        """The sort column or direction changed (owners of the full row list re-sort it)."""

    def __init__(self, columns: Sequence[Column], cells: Callable[[RowT], Sequence[Cell]],
                 sort_keys: dict[str, Callable[[RowT], object]] | None = None,
                 empty_text: str = "Nothing to show", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.columns = list(columns)
        self.cells = cells
        self.sort_keys = sort_keys or {}
        self.sort_key: str | None = None
        self.sort_reverse = False
        self.empty_text = empty_text
        self.rows: list[RowT] = []
        #: rows marked for a bulk action get a mark in the first cell
        self.is_marked: Callable[[RowT], bool] | None = None
        self._layouts: dict[int, list[tuple[int, Column, int]]] = {}
        self.header = TableHeader(self)
        #: the content width the header was last laid out for after new rows
        self._header_width = -1

    def set_columns(self, columns: Sequence[Column]) -> None:
        """Other columns (the team's stage names changed, say): laid out again."""
        self.columns = list(columns)
        self._layouts.clear()
        self.refresh()
        self.header.refresh()

    def want_widths(self, wanted: dict[str, int]) -> None:
        """Let the columns named grow to these widths when the table has the room."""
        columns = [replace(c, wanted=wanted.get(c.key, c.wanted)) for c in self.columns]
        if columns != self.columns:
            self.columns = columns
            self._layouts.clear()
            self.refresh()
            self.header.refresh()

    def layout(self, width: int) -> list[tuple[int, Column, int]]:
        """The columns in ``width`` cells (the table's less the mark's): one cell is kept
        blank on the right, so that the last column never touches the scrollbar."""
        if width not in self._layouts:
            self._layouts[width] = layout_columns(self.columns, width - 1)
        return self._layouts[width]

    # -- data -----------------------------------------------------------------------
    def set_rows(self, rows: list[RowT], keep: Callable[[RowT], bool] | None = None,
                 presorted: bool = False, keep_row: RowT | None = None) -> None:
        """Replace the rows; the cursor stays on the row ``keep`` picks (or on ``keep_row``,
        found by the rows' own equality: identity for rows that compare so), if still there.

        ``presorted``: the rows are already in this table's sort order (a filtered
        slice of a sorted list), so sorting is skipped: a keystroke stays cheap.
        """
        self.rows = rows if presorted else self.sort_rows(rows)
        target = 0
        if keep_row is not None:
            try:
                target = self.rows.index(keep_row)  # in C: a keystroke in a 50k list scans it once, not row by row
            except ValueError:
                target = min(self.cursor, len(rows) - 1)
        elif keep is not None:
            target = next((i for i, row in enumerate(self.rows) if keep(row)), min(self.cursor, len(rows) - 1))
        # No width: the cells always fit, so there is never a horizontal scrollbar to
        # hide the last row under.
        self.virtual_size = Size(0, len(self.rows))
        self.cursor = max(0, min(target, len(self.rows) - 1))
        self.refresh()
        # The scrollbar may come or go with the row count, changing the cell widths:
        # the header must follow once the new layout is known (only then: a repaint of
        # it is one more frame after each keystroke of a filter).
        self.call_after_refresh(self._header_follows_width)
        # The list's height may change with it too (a filter line that wraps, the search
        # box hidden): scroll again once laid out, so the cursor row is always in sight.
        self.call_after_refresh(self._scroll_to_cursor)

    def replace_row(self, index: int, row: RowT) -> None:
        self.rows[index] = row
        self.refresh_lines(index - self.scroll_offset.y, 1)

    @property
    def current(self) -> RowT | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    def sort_by(self, key: str, reverse: bool | None = None) -> None:
        if key not in self.sort_keys:
            return
        if reverse is None:
            reverse = not self.sort_reverse if key == self.sort_key else False
        current = self.current
        self.sort_key, self.sort_reverse = key, reverse
        self.set_rows(self.rows, keep=(lambda row: row is current) if current is not None else None)
        self.header.refresh()
        self.post_message(self.SortChanged())

    def shown_keys(self) -> list[str]:
        """The keys of the columns shown at the current width (all of them when the table
        is not on screen: the customers' cards sort by any column)."""
        if not self.size.width:
            return [column.key for column in self.columns]
        return [column.key for _, column, _ in self.layout(self.content_width - 1)]

    def sort_glyph(self) -> str:
        column = next((c for c in self.columns if c.key == self.sort_key), None)
        return "▼" if column is not None and column.falling != self.sort_reverse else "▲"

    def sort_text(self) -> str:
        """The sort in words for a filter line: ``sorted by value, largest first``."""
        column = next((c for c in self.columns if c.key == self.sort_key), None)
        if column is None:
            return ""
        text = f"sorted by {column.spoken}, {column.order[1 if self.sort_reverse else 0]}"
        if column.key not in self.shown_keys():
            text += " (column hidden at this width)"
        return text

    def sort_rows(self, rows: list[RowT]) -> list[RowT]:
        if self.sort_key is None:
            return rows
        key = self.sort_keys[self.sort_key]
        return sorted(rows, key=key, reverse=self.sort_reverse)  # type: ignore[arg-type]

    # -- actions --------------------------------------------------------------------------
    def action_cursor(self, delta: int) -> None:
        if self.rows:
            self.cursor = max(0, min(self.cursor + delta, len(self.rows) - 1))

    @property
    def visible_height(self) -> int:
        """Rows on screen: the height less a horizontal scrollbar, if one is ever drawn."""
        return self.scrollable_content_region.height or self.size.height

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(self.visible_height - 1, 1))

    def action_jump(self, index: int) -> None:
        if self.rows:
            self.cursor = index % len(self.rows)

    def action_select(self) -> None:
        if self.current is not None:
            self.post_message(self.Selected(self, self.cursor))

    def action_cycle_sort(self) -> None:
        """The next shown column (a column hidden at this width is skipped: its order
        could not be seen), each first in its own order, then reversed."""
        shown = self.shown_keys()
        keys = [c.key for c in self.columns if c.key in self.sort_keys and c.key in shown]
        if not keys:
            return
        if self.sort_key in keys and not self.sort_reverse:
            self.sort_by(self.sort_key, reverse=True)
            return
        index = (keys.index(self.sort_key) + 1) % len(keys) if self.sort_key in keys else 0
        self.sort_by(keys[index], reverse=False)

    def watch_cursor(self, old: int, new: int) -> None:
        self._scroll_to_cursor()
        self.refresh_lines(old - self.scroll_offset.y, 1)
        self.refresh_lines(new - self.scroll_offset.y, 1)
        if self.rows:
            self.post_message(self.Highlighted(self, new))

    def _header_follows_width(self) -> None:
        if self.content_width != self._header_width:
            self._header_width = self.content_width
            self.header.refresh()

    def _scroll_to_cursor(self) -> None:
        top, height = self.scroll_offset.y, self.visible_height
        if height <= 0:
            return
        # force: when the rows just grew, the scrollbar is not drawn yet and Textual would
        # refuse to scroll, leaving the cursor row below the screen.
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True, force=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True, force=True)

    # -- mouse --------------------------------------------------------------------------------
    def on_click(self, event: events.Click) -> None:
        index = self.scroll_offset.y + event.y
        if 0 <= index < len(self.rows):
            self.cursor = index
            if event.chain >= 2:
                self.action_select()

    # -- painting ---------------------------------------------------------------------------
    def on_resize(self) -> None:
        self.virtual_size = Size(0, len(self.rows))
        self.header.refresh()
        self.call_after_refresh(self._scroll_to_cursor)

    @property
    def content_width(self) -> int:
        """Width left for cells once the scrollbar is drawn."""
        return self.scrollable_content_region.width or self.size.width

    def render_line(self, y: int) -> Strip:
        width = self.content_width
        index = self.scroll_offset.y + y
        base = self.rich_style
        if not self.rows:
            text = fit(f"  {self.empty_text}", width) if y == 1 else " " * width
            return Strip([Segment(text, base + Style(italic=True))])
        if index >= len(self.rows):
            return Strip.blank(width, base)
        selected = index == self.cursor
        row_style = self.get_component_rich_style("virtual-table--cursor") if selected else Style()
        row = self.rows[index]
        mark = "✓" if self.is_marked is not None and self.is_marked(row) else " "
        segments = [Segment(mark, base + row_style)]
        used = 1
        cells = self.cells(row)
        for column_index, column, column_width in self.layout(width - 1):
            text, style_name = cells[column_index]
            style = base + (self.style_for(style_name) if style_name else Style()) + row_style
            segments.append(Segment(fit(text, column_width, column.align), style))
            segments.append(Segment(" ", base + row_style))
            used += column_width + 1
        if used < width:
            segments.append(Segment(" " * (width - used), base + row_style))
        return Strip(segments).crop(0, width)
