"""The text of a screenshot (an SVG from ``App.export_screenshot`` or a snapshot file), line
by line, so that tests can check nothing promised is cut."""

from __future__ import annotations

import html
import re

_TEXT = re.compile(r'<text class="terminal-[^"]*" x="([\d.]+)" y="[\d.]+" textLength="[\d.]+" '
                   r'clip-path="url\(#terminal-(?:\d+-)?line-(\d+)\)">([^<]*)</text>')
#: the width of one cell in Textual's SVG export
CELL = 12.2


def svg_lines(svg: str) -> list[str]:
    """Each terminal line's text, with its spaces (trailing ones dropped)."""
    lines: dict[int, list[str]] = {}
    for x, number, text in _TEXT.findall(svg):
        row = lines.setdefault(int(number), [])
        column = round(float(x) / CELL)
        if len(row) < column:
            row.extend(" " * (column - len(row)))
        value = html.unescape(text).replace("\xa0", " ")
        row[column:column + len(value)] = list(value)
    return ["".join(lines.get(n, [])).rstrip() for n in range(max(lines, default=-1) + 1)]
