"""The kanban board: a column per stage, cards painted line by line.

One widget paints every column (Textual's Line API), so a column of thousands of
cards costs only the cards on screen. Each column keeps its own cursor and
scroll position: columns scroll on their own, and moving left and right comes
back to where you were in each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from store.pipeline import ColumnTotal, DealRow, Risk, short_money
from tui.fitting import whole_words
from tui.text import fit
from tui.widgets.styles import Run, ThemeStyles

#: lines per card, the blank line between cards included
CARD_HEIGHT = 7
#: lines above the cards: stage name and count, totals, a rule
HEAD_HEIGHT = 3
#: when the narrowest column is narrower than this, every card uses short words
NARROW_CARD = 26


@dataclass
class BoardColumn:
    key: str
    label: str
    #: theme variable for the column title ("stage-early", "stage-won" ...)
    style: str
    total: ColumnTotal
    rows: list[DealRow] = field(default_factory=list)
    cursor: int = 0
    top: int = 0


def card_lines(row: DealRow, today: date, currency: str, width: int, marked: bool = False) -> list[list[Run]]:
    """The six lines of a card (data text only: painted, never parsed as markup).
    The amount names its currency only when it is not the team's ``currency``;
    narrow cards say less in fewer words."""
    narrow = width < NARROW_CARD
    close = row.expected_close.strftime("%m-%d") if row.expected_close else "no date"
    days = f"{close} · {row.days_in_stage(today)}d" if narrow else \
        f"close {close} · {row.days_in_stage(today)}d in stage"
    title = row.title
    if row.customer and title.startswith(row.customer) and title[len(row.customer):][:1] in (":", " ", "-"):
        title = title[len(row.customer):].lstrip(":- ") or title  # the customer has a line of its own
    late = row.expected_close is not None and row.expected_close < today and row.closed is None
    # The next step has a line of its own; "no next step" is shown there, not twice.
    risks = [r for r in row.risks if r.kind != "no_next_step"]
    risk = risk_line(risks, width - 1, narrow)  # less the leading space
    if row.closed is not None:  # days in a won or lost "stage" mean nothing: when it closed does
        ago = (today - row.closed).days
        when = "today" if ago == 0 else f"{ago}d ago"
        days = f"closed {row.closed.strftime('%m-%d')} · {when}" if not narrow else f"closed {when}"
        step: Run = ("", None, False)
    elif row.next_step:
        step = (f"→ {row.next_step}", "quiet", False)
    else:
        step = ("no next step", "health-risk", False)
    return [
        [("✓ " if marked else "", None, True), ("⚠ " if row.risks else "", "health-risk", True), (title, None, True)],
        [(row.customer, "quiet", False)],
        [(short_money(row.amount) + ("" if row.currency == currency else f" {row.currency}"), None, True),
         (f" · {row.owner}", "quiet", False)],
        [(days, "overdue" if late else None, False)],
        [step],
        [(risk, "health-risk", False)],
    ]


def risk_line(risks: list[Risk], width: int, narrow: bool) -> str:
    """The first risk's words, with the count of the others: whole parts are left out
    (the limit in brackets, then the reason for its short form) rather than a figure
    cut in half ("limit 1…" reads as a one-day limit)."""
    if not risks:
        return ""
    first, more = risks[0], len(risks) - 1
    reason, _, limit = first.reason.partition(" (")
    choices = [] if narrow else [first.reason, reason] if limit else [first.reason]
    choices.append(first.short)
    if more:  # the count goes in front, where it is never the part left out
        choices = [f"{len(risks)} risks · {text}" for text in choices] if not narrow else \
            [f"{text} +{more}" for text in choices]
    return first_fitting(choices, width)


def first_fitting(choices: list[str], width: int) -> str:
    """The first (the most telling) of ``choices`` that fits ``width``; else the last, to be cut."""
    return next((text for text in choices if len(text) <= width), choices[-1])


def head_titles(column: BoardColumn, width: int) -> list[str]:
    """The stage's name, or where it does not fit, its leading whole words."""
    short = whole_words(column.label, width - 1)
    return [f" {column.label}", column.label, f" {short}", whole_words(column.label, width)]


def head_totals(total: ColumnTotal) -> list[str]:
    """Count and amount before the weighted amount (the forecast strip has that too)."""
    count, amount, weighted = f"{total.count:,}", short_money(total.amount), short_money(total.weighted)
    return [f" {count} · {amount} · w {weighted}", f" {count} · {amount}", f"{count}·{amount}", count]


def totals_level(columns: list[BoardColumn], widths: list[int]) -> int:
    """The fullest form of the column totals that every column fits, so all heads say
    the same things (an empty column does not show a weighted figure the others drop)."""
    levels = len(head_totals(ColumnTotal(0, Decimal(0), Decimal(0))))
    return max((next((i for i, text in enumerate(head_totals(c.total)) if len(text) <= w), levels - 1)
                for c, w in zip(columns, widths, strict=True)), default=0)


def column_widths(width: int, count: int) -> list[int]:
    """Share ``width`` among ``count`` columns with a one-cell rule between them."""
    if count == 0:
        return []
    room = max(width - (count - 1), count)
    base, extra = divmod(room, count)
    return [base + (1 if i < extra else 0) for i in range(count)]


class KanbanBoard(ThemeStyles, Widget, can_focus=True):
    BINDINGS = [
        Binding("left,h", "column(-1)", "Left", show=False, id="board.left"),
        Binding("right,l", "column(1)", "Right", show=False, id="board.right"),
        Binding("up,k", "card(-1)", "Up", show=False, id="board.up"),
        Binding("down,j", "card(1)", "Down", show=False, id="board.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="board.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="board.page_down"),
        Binding("home,g", "ends(0)", "First card", show=False, id="board.first"),
        Binding("end", "ends(-1)", "Last card", show=False, id="board.last"),
        Binding("enter", "select", "Open", show=False, id="board.open"),
    ]
    COMPONENT_CLASSES = {"kanban-board--cursor", "kanban-board--rule"}
    DEFAULT_CSS = """
    KanbanBoard { background: $surface; }
    KanbanBoard > .kanban-board--cursor { background: $block-cursor-background; color: $block-cursor-foreground; }
    KanbanBoard:blur > .kanban-board--cursor { background: $block-cursor-blurred-background; }
    KanbanBoard > .kanban-board--rule { color: $panel-lighten-2; }
    """

    class Highlighted(Message):
        def __init__(self, row: DealRow | None) -> None:
            super().__init__()
            self.row = row

    class Selected(Highlighted):
        """Enter or a double click on a card."""

    def __init__(self, today: Callable[[], date], currency: str,
                 is_marked: Callable[[DealRow], bool] = lambda row: False, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.today = today
        #: marked cards (for a bulk action) show a ✓
        self.is_marked = is_marked
        self.currency = currency
        self.columns: list[BoardColumn] = []
        self.column_index = 0
        #: last known size; asking the compositor while the tab is hidden is not safe
        self._width, self._height = 80, 24

    # -- data -------------------------------------------------------------------------
    def set_columns(self, columns: list[BoardColumn], keep_id: str | None = None) -> None:
        """New columns (after a filter or a change); each keeps its cursor and scroll,
        and the selection follows the card ``keep_id`` wherever it went."""
        old = {c.key: c for c in self.columns}
        for column in columns:
            before = old.get(column.key)
            if before is not None:
                column.cursor, column.top = before.cursor, before.top
            column.cursor = max(0, min(column.cursor, len(column.rows) - 1))
            # a column that shrank keeps no scroll past its end ("↑ 6 more" over one card)
            column.top = max(0, min(column.top, column.cursor, len(column.rows) - self.cards_per_column))
        self.columns = columns
        self.column_index = min(self.column_index, max(len(columns) - 1, 0))
        if keep_id is None or not self.select(keep_id):
            self.column_index = self._nearest_with_cards()
            self._scroll_to_cursor()
            self.refresh()
            self.post_message(self.Highlighted(self.current))

    def _nearest_with_cards(self) -> int:
        """The cursor's column, or when a filter emptied it the nearest one with cards
        (to the left on a tie), so that the highlighted card is one you can act on."""
        filled = [index for index, column in enumerate(self.columns) if column.rows]
        here = self.column_index
        if not filled or here in filled:
            return here
        return min(filled, key=lambda index: (abs(index - here), index))

    def select(self, deal_id: str) -> bool:
        """Put the cursor on a deal, in whichever column it is; False if not on the board."""
        for index, column in enumerate(self.columns):
            for position, row in enumerate(column.rows):
                if row.id == deal_id:
                    self.column_index, column.cursor = index, position
                    self._scroll_to_cursor()
                    self.refresh()
                    self.post_message(self.Highlighted(row))
                    return True
        return False

    @property
    def column(self) -> BoardColumn | None:
        return self.columns[self.column_index] if self.columns else None

    @property
    def current(self) -> DealRow | None:
        column = self.column
        if column is None or not column.rows:
            return None
        return column.rows[column.cursor]

    # -- geometry -----------------------------------------------------------------------
    @property
    def cards_per_column(self) -> int:
        return max((self._height - HEAD_HEIGHT) // CARD_HEIGHT, 1)

    def _scroll_to_cursor(self) -> None:
        column, visible = self.column, self.cards_per_column
        if column is None:
            return
        if column.cursor < column.top:
            column.top = column.cursor
        elif column.cursor >= column.top + visible:
            column.top = column.cursor - visible + 1
        column.top = max(0, min(column.top, max(len(column.rows) - visible, 0)))

    def column_at(self, x: int) -> int | None:
        left = 0
        for index, width in enumerate(column_widths(self._width, len(self.columns))):
            if left <= x < left + width + 1:
                return index
            left += width + 1
        return None

    def on_resize(self, event: events.Resize) -> None:
        self._width, self._height = event.size.width, event.size.height
        self._scroll_to_cursor()

    # -- actions ------------------------------------------------------------------------
    def _moved(self) -> None:
        self._scroll_to_cursor()
        self.refresh()
        self.post_message(self.Highlighted(self.current))

    def action_column(self, step: int) -> None:
        if self.columns:
            self.column_index = max(0, min(self.column_index + step, len(self.columns) - 1))
            self._moved()

    def action_card(self, step: int) -> None:
        column = self.column
        if column is not None and column.rows:
            column.cursor = max(0, min(column.cursor + step, len(column.rows) - 1))
            self._moved()

    def action_page(self, direction: int) -> None:
        self.action_card(direction * self.cards_per_column)

    def action_ends(self, end: int) -> None:
        column = self.column
        if column is not None and column.rows:
            column.cursor = 0 if end == 0 else len(column.rows) - 1
            self._moved()

    def action_select(self) -> None:
        if self.current is not None:
            self.post_message(self.Selected(self.current))

    # -- mouse ------------------------------------------------------------------------------
    def on_click(self, event: events.Click) -> None:
        index = self.column_at(event.x)
        if index is None:
            return
        self.column_index = index
        column = self.columns[index]
        card = column.top + (event.y - HEAD_HEIGHT) // CARD_HEIGHT
        if event.y >= HEAD_HEIGHT and card < len(column.rows):
            column.cursor = card
            if event.chain >= 2:
                self._moved()
                self.action_select()
                return
        self._moved()

    def _wheel(self, event: events.MouseEvent, step: int) -> None:
        index = self.column_at(event.x)
        if index is not None:
            column = self.columns[index]
            column.top = max(0, min(column.top + step, max(len(column.rows) - self.cards_per_column, 0)))
            self.refresh()
            event.stop()

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self._wheel(event, 1)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self._wheel(event, -1)

    # -- painting ----------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.size.width
        self._width, self._height = width, self.size.height
        base = self.rich_style
        if not self.columns:
            return Strip.blank(width, base)
        rule = base + self.get_component_rich_style("kanban-board--rule", partial=True)
        segments: list[Segment] = []
        widths = column_widths(width, len(self.columns))
        for index, (column, column_width) in enumerate(zip(self.columns, widths, strict=True)):
            if index:
                segments.append(Segment("│", rule))
            segments.extend(self._column_line(index, column, column_width, y, base))
        return Strip(segments).crop(0, width)

    def _column_line(self, index: int, column: BoardColumn, width: int, y: int, base: Style) -> list[Segment]:
        quiet = base + self.style_for("quiet")
        if y == 0:
            return [Segment(fit(first_fitting(head_titles(column, width), width), width),
                            base + self.style_for(column.style, bold=True))]
        if y == 1:
            level = totals_level(self.columns, column_widths(self._width, len(self.columns)))
            return [Segment(fit(head_totals(column.total)[level], width), quiet)]
        if y == 2:
            rule = base + self.get_component_rich_style("kanban-board--rule", partial=True)
            if column.top > 0:  # cards scrolled out above: said where they went, as below
                above = first_fitting([f"─ ↑ {column.top:,} more ", f"↑ {column.top:,} more", f"↑{column.top:,}"],
                                      width)
                return [Segment(above, quiet + Style(italic=True)), Segment("─" * (width - len(above)), rule)]
            return [Segment("─" * width, rule)]
        card, line = divmod(y - HEAD_HEIGHT, CARD_HEIGHT)
        position = column.top + card
        if y == self._height - 1:
            hidden = len(column.rows) - column.top - self.cards_per_column
            if hidden > 0:
                return [Segment(fit(f" ↓ {hidden:,} more", width), quiet + Style(italic=True))]
        if card >= self.cards_per_column or position >= len(column.rows) or line == CARD_HEIGHT - 1:
            if not column.rows and y == HEAD_HEIGHT:
                return [Segment(fit("  (none)", width), quiet + Style(italic=True))]
            return [Segment(" " * width, base)]
        selected = index == self.column_index and position == column.cursor
        card_style = self.get_component_rich_style("kanban-board--cursor") if selected else Style()
        narrowest = min(column_widths(self._width, len(self.columns)))
        row = column.rows[position]
        lines = card_lines(row, self.today(), self.currency, narrowest, self.is_marked(row))
        return self.paint_runs(lines[line], width, base, card_style)
