"""Rich styles for theme variables ("grade-a", "stage-won" ...), for widgets that paint
their own lines: colours come from the theme, never from literals."""

from __future__ import annotations

from typing import Any

from rich.style import Style
from textual.color import Color, ColorParseError


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
