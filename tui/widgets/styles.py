"""Rich styles for theme variables ("grade-a", "stage-won" ...), for widgets that paint
their own lines: colours come from the theme, never from literals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual._styles_cache import StylesCache
from textual.color import Color, ColorParseError

from tui.text import fit

#: a run of styled text on one painted line: (text, theme variable or None, bold)
Run = tuple[str, str | None, bool]
NO_STYLE = Style()


class ThemeStyles:
    """Mixin (before the widget class) for Line-API widgets: ``style_for(name)``,
    cached until the theme changes. A plain class, so it adds no CSS type."""

    app: Any

    def notify_style_update(self) -> None:
        super().notify_style_update()  # type: ignore[misc]
        self.__dict__["_theme_styles"] = {}

    def style_for(self, name: str, **extra: bool) -> Style:
        key = name + "".join(sorted(k for k, v in extra.items() if v))
        cache = self.__dict__.setdefault("_theme_styles", {})
        style = cache.get(key)
        if style is None:
            value = self.app.theme_variables.get(name)
            try:
                style = Style(color=Color.parse(value).rich_color) if value else Style()
            except ColorParseError:  # a user theme with an unparsable colour: no colour
                style = Style()
            style += Style(**extra)  # type: ignore[arg-type]
            cache[key] = style
        return style

    def paint_runs(self, runs: Sequence[Run], width: int, under: Style, over: Style = NO_STYLE, *,
                   margin: int = 0) -> list[Segment]:
        """One line of a card: a leading space, the runs cut to fit (their theme colours
        between ``under`` and ``over``), padded to ``width`` less a right ``margin``."""
        segments = [Segment(" ", under + over)]
        used, room_end = 1, width - margin
        for text, style_name, bold in runs:
            if not text or used >= room_end:
                continue
            room = room_end - used
            shown = fit(text, room) if cell_len(text) > room else text
            style = under + (self.style_for(style_name) if style_name else Style()) + over
            if bold:
                style += Style(bold=True)
            segments.append(Segment(shown, style))
            used += cell_len(shown)
        if used < width:
            segments.append(Segment(" " * (width - used), under + over))
        return segments


def theme_colour(app: Any, variable: str) -> Style:
    """The theme variable's colour as a Rich style (none if the theme lacks it)."""
    try:
        return Style(color=Color.parse(app.theme_variables.get(variable, "")).rich_color)
    except ColorParseError:
        return NO_STYLE


def release_removed_widgets() -> None:
    """Let go of the widgets a view just removed. Textual caches ``get_inner_outer`` with
    ``lru_cache`` on the instance (Textualize/textual#6665): its 1024 entries pin as many
    removed widgets' style caches, with their painted lines. A view that rebuilds its
    widgets (a slide at each key) held ~130k objects more for the collector to walk, and
    its full passes took a slide change from 15 ms to 60-100 ms at 50k leads."""
    get_inner_outer = getattr(StylesCache, "get_inner_outer", None)
    if get_inner_outer is not None and hasattr(get_inner_outer, "cache_clear"):
        get_inner_outer.cache_clear()
