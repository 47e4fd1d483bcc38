"""The funnel chart: one bar per step, with its count and the conversion from the step before."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from store.funnel import FunnelStep
from tui.text import fit, percent
from tui.widgets.styles import theme_colour


class FunnelChart(Widget):
    DEFAULT_CSS = "FunnelChart { height: auto; padding: 0 1; }"

    steps: reactive[list[FunnelStep]] = reactive(list, layout=True)
    #: a line under the steps for the part not counted yet ("Deals: loading…")
    waiting: reactive[str] = reactive("", layout=True)

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
        text = Text(end="")
        for index, step in enumerate(steps):
            length = round(bar_room * step.count / top) if step.count else 0
            style = won_style if index == len(steps) - 1 else bar_style
            text.append(fit(step.label, label_width) + " ")
            text.append("█" * length, style=style)
            text.append(" " * (bar_room - length))
            text.append(f"{step.count:>6,}", style="bold")
            text.append(f" {percent(step.conversion):>5}" if step.conversion is not None else "      ")
            if index < len(steps) - 1:
                text.append("\n")
        if self.waiting:
            text.append("\n" + self.waiting, style="italic")
        return text

    def _colour(self, variable: str) -> Style:
        return theme_colour(self.app, variable)

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return max(len(self.steps), 1) + (1 if self.waiting else 0)
