"""The funnel chart: one bar per step, with its count and the conversion from the step before."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from store.funnel import FunnelStep
from tui.text import fit, percent
from tui.widgets.bars import rows_needed, thick_bars
from tui.widgets.styles import theme_colour


class FunnelChart(Widget):
    DEFAULT_CSS = "FunnelChart { height: auto; padding: 0 1; }"

    steps: reactive[list[FunnelStep]] = reactive(list, layout=True)
    #: a line under the steps for the part not counted yet ("Deals: loading…")
    waiting: reactive[str] = reactive("", layout=True)
    #: rows per bar: more on a projector (see ``bars.thickness_for``)
    thickness: reactive[int] = reactive(1, layout=True)

    def render(self) -> Text:
        steps = self.steps
        if not steps:
            return Text("No leads in this period.", style="italic")
        width = max(self.size.width - 2, 20)
        label_width = min(max(len(s.label) for s in steps), 16)
        bar_room = max(width - label_width - 14, 4)
        top = max(steps[0].count, max(s.count for s in steps), 1)
        bar_style = self._colour("funnel-bar")
        won_style = self._colour("stage-won")
        bars = []
        for index, step in enumerate(steps):
            length = round(bar_room * step.count / top) if step.count else 0
            style = won_style if index == len(steps) - 1 else bar_style
            bar = Text(end="")
            bar.append("█" * length, style=style)
            bar.append(" " * (bar_room - length))
            tail = Text(end="")
            tail.append(f"{step.count:>6,}", style="bold")
            tail.append(f" {percent(step.conversion):>5}" if step.conversion is not None else "      ")
            bars.append((Text(fit(step.label, label_width) + " "), bar, tail))
        text = thick_bars(bars, self.thickness)
        if self.waiting:
            text.append("\n" + self.waiting, style="italic")
        return text

    def _colour(self, variable: str) -> Style:
        return theme_colour(self.app, variable)

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return max(rows_needed(len(self.steps), self.thickness), 1) + (1 if self.waiting else 0)
