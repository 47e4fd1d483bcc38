"""Bar charts drawn thicker on a larger screen: each bar ``thickness`` rows tall with its
label and figures on the middle row, a blank row between bars when there is room, so that
a projector's 55 rows show a chart instead of seven lines at the top."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

#: the thickest bar worth drawing: past it a chart is stripes, not bars
MOST_ROWS = 5


def thickness_for(rows: int, bars: int) -> int:
    """Rows per bar that let ``bars`` bars, with a blank row between two, fit ``rows``."""
    if bars <= 0:
        return 1
    return max(1, min(MOST_ROWS, (rows + 1) // bars - 1))


def rows_needed(bars: int, thickness: int) -> int:
    return bars * thickness + (bars - 1 if thickness > 1 else 0)


def thick_bars(bars: Sequence[tuple[Text, Text, Text]], thickness: int) -> Text:
    """Each bar as (head, bar, tail): the head and tail are written on the bar's middle row
    and left blank on its others; a blank row parts two bars thicker than one row."""
    text = Text(end="")
    middle = thickness // 2
    for index, (head, bar, tail) in enumerate(bars):
        if index and thickness > 1:
            text.append("\n")
        for row in range(thickness):
            if index or row:
                text.append("\n")
            text.append_text(head if row == middle else Text(" " * head.cell_len))
            text.append_text(bar)
            if row == middle:
                text.append_text(tail)
    return text
