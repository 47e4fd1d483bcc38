"""The pipeline waterfall as floating bars: the open pipeline at the week's start, each
change from where the one before ended (up in the success colour, down in the error
colour), and the pipeline at the end, each with its amount."""

from __future__ import annotations

from decimal import Decimal

from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from store.review_charts import FloatingBar, scale_top
from tui.report_charts import signed
from tui.text import fit
from tui.widgets.bars import rows_needed, thick_bars
from tui.widgets.styles import theme_colour

#: the theme variable each kind of bar is drawn in
COLOURS = {"total": "primary", "up": "success", "down": "error"}


def bar_cells(bar: FloatingBar, top: Decimal, room: int) -> tuple[int, int]:
    """The bar's first cell and its length in ``room`` cells (at least one for a change
    that is not zero: 20k beside a 4M pipeline still shows)."""
    first = int(max(bar.low, Decimal(0)) / top * room)
    last = int(max(bar.high, Decimal(0)) / top * room)
    length = max(last - first, 1 if bar.amount else 0)
    return min(first, room - length), length


class WaterfallChart(Widget):
    DEFAULT_CSS = "WaterfallChart { height: auto; }"

    bars: reactive[list[FloatingBar]] = reactive(list, layout=True)
    #: rows per bar: more on a projector (see ``bars.thickness_for``)
    thickness: reactive[int] = reactive(1, layout=True)

    def render(self) -> Text:
        bars = self.bars
        if not bars:
            return Text("")
        width = max(self.size.width, 30)
        label_width = min(max(len(bar.label) for bar in bars), 18)
        amounts = [signed(bar) for bar in bars]
        amount_width = max(len(a) for a in amounts)
        room = max(width - label_width - amount_width - 3, 4)
        top = scale_top(bars)
        rows = []
        for bar, amount in zip(bars, amounts, strict=True):
            first, length = bar_cells(bar, top, room)
            head = Text(fit(bar.label, label_width) + " ")
            head.append(f"{amount:>{amount_width}} ", style="bold" if bar.kind == "total" else "")
            drawn = Text(" " * first)
            drawn.append("█" * length, style=self._colour(COLOURS[bar.kind]))
            drawn.append(" " * (room - first - length))
            rows.append((head, drawn, Text()))
        return thick_bars(rows, self.thickness)

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return rows_needed(len(self.bars), self.thickness)

    def _colour(self, variable: str) -> Style:
        return theme_colour(self.app, variable)
