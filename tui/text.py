"""Showing data safely: every string from a record or a file is plain text.

Textual parses strings as markup in many places (Static, Label, notify, option
lists). A lead named ``[@click=app.quit]x[/]`` must appear literally and run
nothing, so record text reaches the screen only through these helpers.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual.content import Content

from store.models import clean_line, strip_controls


def plain(text: object) -> Content:
    """Record text as Content that is never parsed as markup."""
    return Content(clean_line(str(text)) if text is not None else "")


def plain_lines(lines: Iterable[object]) -> Content:
    """Several lines of record text: each cleaned, the line breaks and indentation kept."""
    return Content("\n".join(strip_controls(str(line)) for line in lines))


def plain_text(text: object, style: str = "") -> Text:
    """Record text as a Rich Text (no markup, no emoji codes)."""
    return Text(clean_line(str(text)) if text is not None else "", style=style, end="")


def labelled(template: str, **values: object) -> Content:
    """Our markup with record values substituted as plain text: ``"Owner: $owner"``."""
    return Content.from_markup(template, **{k: clean_line(str(v)) for k, v in values.items()})


def fit(text: str, width: int, align: str = "left") -> str:
    """Pad or cut ``text`` to exactly ``width`` terminal cells (CJK-aware), with an ellipsis."""
    if width <= 0:
        return ""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    pad = width - cell_len(text)
    return " " * pad + text if align == "right" else text + " " * pad


def counted(count: int, noun: str, plural: str = "") -> str:
    """``1 won deal``, ``2 won deals``: a count and its noun in agreement."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


def with_article(noun: str) -> str:
    """The noun with its article: ``a prospect``, ``an opportunity``."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def percent(rate: float | None) -> str:
    return "" if rate is None else f"{rate * 100:.0f}%"
