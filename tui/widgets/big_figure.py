"""A headline figure drawn as large as its place allows, for a room that reads it from the
back: a 5x7 pixel font scaled by a whole number and drawn with half blocks (two pixels a
cell, so a scale of 4 is 14 rows). The figure is never cut or wrapped: when it does not fit
it is drawn smaller, or in a shorter form (4.2M for 4,213,500) when that is much larger, and
as plain text when no form can be drawn at all."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui.text import fit

GLYPH_ROWS = 7
#: the largest scale drawn: past it a figure is more ink than information
MAX_SCALE = 8

_FONT_ROWS: dict[str, tuple[str, ...]] = {
    "0": (".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."),
    "1": ("..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "2": (".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"),
    "3": (".###.", "#...#", "....#", "..##.", "....#", "#...#", ".###."),
    "4": ("...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."),
    "5": ("#####", "#....", "####.", "....#", "....#", "#...#", ".###."),
    "6": ("..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."),
    "7": ("#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."),
    "8": (".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."),
    "9": (".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."),
    ".": ("..", "..", "..", "..", "..", "##", "##"),
    ",": ("..", "..", "..", "..", "##", ".#", "#."),
    "-": ("....", "....", "....", "####", "....", "....", "...."),
    "+": (".....", "..#..", "..#..", "#####", "..#..", "..#..", "....."),
    "%": ("##..#", "##..#", "...#.", "..#..", ".#...", "#..##", "#..##"),
    "k": ("#...", "#...", "#..#", "#.#.", "##..", "#.#.", "#..#"),
    "M": ("#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"),
    "B": ("####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."),
    " ": ("...", "...", "...", "...", "...", "...", "..."),
}
_FONT_ROWS["−"] = _FONT_ROWS["–"] = _FONT_ROWS["-"]  # minus signs, and the dash of "no figure"
#: half-block characters by their (top, bottom) pixels
_CELLS = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


def drawable(text: str) -> bool:
    return bool(text) and all(char in _FONT_ROWS for char in text)


def big_width(text: str, scale: int) -> int:
    """Cells ``text`` takes at ``scale``: its glyphs and one pixel between each two."""
    pixels = sum(len(_FONT_ROWS[char][0]) for char in text) + len(text) - 1
    return pixels * scale


def big_height(scale: int) -> int:
    return (GLYPH_ROWS * scale + 1) // 2


@cache
def big_lines(text: str, scale: int) -> tuple[str, ...]:
    """``text`` drawn at ``scale`` as lines of half blocks, all of one width."""
    pixel_rows = []
    for row in range(GLYPH_ROWS):
        line = ".".join(_FONT_ROWS[char][row] for char in text)
        pixel_rows += ["".join(pixel * scale for pixel in line)] * scale
    if len(pixel_rows) % 2:
        pixel_rows.append("." * len(pixel_rows[0]))
    return tuple(
        "".join(_CELLS[top == "#", bottom == "#"] for top, bottom in zip(upper, lower, strict=True))
        for upper, lower in zip(pixel_rows[::2], pixel_rows[1::2], strict=True))


def largest_scale(text: str, width: int, height: int) -> int:
    """The largest scale at which ``text`` fits ``width`` x ``height`` cells (0: none)."""
    if not drawable(text):
        return 0
    by_width = width // big_width(text, 1) if big_width(text, 1) else 0
    by_height = next((s for s in range(MAX_SCALE, 0, -1) if big_height(s) <= height), 0)
    return min(by_width, by_height, MAX_SCALE)


def choose(forms: Sequence[str], width: int, height: int) -> tuple[str, int]:
    """The most precise form drawn at least three quarters as large as the largest one, and
    its scale: it is read from the back of the room, but 4.2M says more than 4M (0: no form
    fits, show it as text)."""
    scales = [largest_scale(form, width, height) for form in forms]
    largest = max(scales, default=0)
    if not largest:
        return (forms[-1] if forms else ""), 0
    return next((form, scale) for form, scale in zip(forms, scales, strict=True) if 4 * scale >= 3 * largest)


class BigFigure(Widget):
    """``forms``: the figure from most to least precise ("4,213,500", "4.2M")."""

    DEFAULT_CSS = "BigFigure { height: 1fr; min-height: 1; }"

    forms: reactive[tuple[str, ...]] = reactive(tuple, layout=True)

    def __init__(self, *forms: str, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.set_reactive(BigFigure.forms, tuple(forms))

    @property
    def shown(self) -> tuple[str, int]:
        """What is drawn at the widget's present size: the form and its scale."""
        return choose(self.forms, self.size.width, self.size.height)

    def render(self) -> Text:
        form, scale = self.shown
        if not scale:  # too small a place for any drawn form: plain text, never cut mid-figure
            return Text(fit(form, self.size.width), style="bold", end="")
        return Text("\n".join(big_lines(form, scale)), end="", no_wrap=True)
