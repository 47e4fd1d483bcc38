"""A grid of cards painted line by line: as many columns as fit, rows of cards scroll.

Only the cards on screen are drawn, so thousands of customers cost nothing until seen.
A card is a list of lines, each a list of runs (text, theme variable, bold).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from tui.text import fit
from tui.widgets.styles import Run, ThemeStyles

ItemT = TypeVar("ItemT")
CardLines = list[list[Run]]


class CardGrid(ThemeStyles, Widget, Generic[ItemT], can_focus=True):
    BINDINGS = [
        Binding("left,h", "move(-1, 0)", "Left", show=False, id="cards.left"),
        Binding("right,l", "move(1, 0)", "Right", show=False, id="cards.right"),
        Binding("up,k", "move(0, -1)", "Up", show=False, id="cards.up"),
        Binding("down,j", "move(0, 1)", "Down", show=False, id="cards.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="cards.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="cards.page_down"),
        Binding("home,g", "jump(0)", "First", show=False, id="cards.first"),
        Binding("end", "jump(-1)", "Last", show=False, id="cards.last"),
        Binding("enter", "select", "Open", show=False, id="cards.open"),
    ]
    COMPONENT_CLASSES = {"card-grid--cursor", "card-grid--card"}
    DEFAULT_CSS = """
    CardGrid { background: $surface; }
    CardGrid > .card-grid--card { background: $panel; }
    CardGrid > .card-grid--cursor { background: $block-cursor-background; color: $block-cursor-foreground; }
    CardGrid:blur > .card-grid--cursor { background: $block-cursor-blurred-background; }
    """

    class Highlighted(Message):
        def __init__(self, grid: CardGrid[Any], item: object) -> None:
            super().__init__()
            self.grid, self.item = grid, item

        @property
        def control(self) -> CardGrid[Any]:
            return self.grid

    class Selected(Highlighted):
        """Enter or a double click on a card."""

    def __init__(self, render_card: Callable[[ItemT, int], CardLines], *, card_width: int = 38,
                 card_height: int = 6, empty_text: str = "Nothing to show", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.render_card = render_card
        self.card_width, self.card_height = card_width, card_height
        self.empty_text = empty_text
        self.items: list[ItemT] = []
        self.cursor = 0
        self.top_row = 0
        self._width, self._height = 80, 24

    # -- geometry ----------------------------------------------------------------------
    @property
    def per_row(self) -> int:
        return max(1, (self._width + 1) // (self.card_width + 1))

    @property
    def rows_visible(self) -> int:
        return max(1, self._height // (self.card_height + 1))

    def _width_of_card(self) -> int:
        return (self._width - (self.per_row - 1)) // self.per_row

    # -- data --------------------------------------------------------------------------------
    def set_items(self, items: list[ItemT], keep: Callable[[ItemT], bool] | None = None) -> None:
        self.items = items
        target = next((i for i, item in enumerate(items) if keep(item)), self.cursor) if keep else self.cursor
        self.cursor = max(0, min(target, len(items) - 1))
        self._follow()

    @property
    def current(self) -> ItemT | None:
        return self.items[self.cursor] if 0 <= self.cursor < len(self.items) else None

    def _follow(self) -> None:
        row = self.cursor // self.per_row
        if row < self.top_row:
            self.top_row = row
        elif row >= self.top_row + self.rows_visible:
            self.top_row = row - self.rows_visible + 1
        self.refresh()
        self.post_message(self.Highlighted(self, self.current))

    # -- actions --------------------------------------------------------------------------------
    def action_move(self, dx: int, dy: int) -> None:
        if self.items:
            self.cursor = max(0, min(self.cursor + dx + dy * self.per_row, len(self.items) - 1))
            self._follow()

    def action_page(self, direction: int) -> None:
        self.action_move(0, direction * self.rows_visible)

    def action_jump(self, index: int) -> None:
        if self.items:
            self.cursor = index % len(self.items)
            self._follow()

    def action_select(self) -> None:
        if self.current is not None:
            self.post_message(self.Selected(self, self.current))

    def on_resize(self, event: events.Resize) -> None:
        self._width, self._height = event.size.width, event.size.height
        self._follow()

    def on_click(self, event: events.Click) -> None:
        column = event.x // (self._width_of_card() + 1)
        index = (self.top_row + event.y // (self.card_height + 1)) * self.per_row + column
        if column < self.per_row and 0 <= index < len(self.items):
            self.cursor = index
            self._follow()
            if event.chain >= 2:
                self.action_select()

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self._scroll(1)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self._scroll(-1)

    def _scroll(self, rows: int) -> None:
        last = max(0, (len(self.items) - 1) // self.per_row - self.rows_visible + 1)
        self.top_row = max(0, min(self.top_row + rows, last))
        self.refresh()

    # -- painting ----------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        self._width, self._height = self.size.width, self.size.height
        base = self.rich_style
        width = self._width
        if not self.items:
            text = fit(f"  {self.empty_text}", width) if y == 1 else " " * width
            return Strip([Segment(text, base + Style(italic=True))])
        grid_row, line = divmod(y, self.card_height + 1)
        if line == self.card_height:
            return Strip.blank(width, base)
        card_width = self._width_of_card()
        segments: list[Segment] = []
        card_base = base + self.get_component_rich_style("card-grid--card", partial=True)
        for column in range(self.per_row):
            if column:
                segments.append(Segment(" ", base))
            index = (self.top_row + grid_row) * self.per_row + column
            if index >= len(self.items):
                segments.append(Segment(" " * card_width, base))
                continue
            style = card_base + (self.get_component_rich_style("card-grid--cursor") if index == self.cursor
                                 else Style())
            lines = self.render_card(self.items[index], card_width)
            runs = lines[line] if line < len(lines) else []
            segments.extend(self.paint_runs(runs, card_width, style, margin=1))
        return Strip(segments).crop(0, width).extend_cell_length(width, base)
