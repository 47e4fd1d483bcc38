"""One cell's text made into a field's value, or a reason why it cannot be."""

from __future__ import annotations

import re
from datetime import date

_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*"
                  r"(?:Z|[+-]\d{2}:?\d{2}|UTC|GMT)?)?$", re.IGNORECASE)
_DAY_FIRST = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
_SLASHED = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ ,]+\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AP]M)?)?$", re.IGNORECASE)
_CHINESE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日")
_TAG_SPLIT = re.compile(r"[,;，；、]")
DATE_FIELDS = frozenset({"next_follow_up", "next_revisit", "birthday", "active_since", "churned_at"})


def parse_date(value: str) -> date:
    """A date as spreadsheets and CRMs write it: ``2026-11-30`` (a time after it is
    ignored), ``2026/11/30``, ``30.11.2026``, ``2026年11月30日``, and ``11/30/2026``
    (month first, as US exports write it, unless the first number cannot be a month)."""
    text = value.strip()
    for pattern, order in ((_ISO, (0, 1, 2)), (_CHINESE, (0, 1, 2)), (_DAY_FIRST, (2, 1, 0))):
        match = pattern.match(text)
        if match:
            return _real_date(value, *(int(match.group(i + 1)) for i in order))
    match = _SLASHED.match(text)
    if match:
        first, second, year = (int(part) for part in match.groups())
        month, day = (second, first) if first > 12 else (first, second)
        return _real_date(value, year, month, day)
    raise ValueError(f"{value!r} is not a date (expected YYYY-MM-DD)")


def _real_date(value: str, year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"{value!r} is not a real date (expected YYYY-MM-DD)") from None


def split_tags(value: str) -> list[str]:
    tags = [tag.strip() for tag in _TAG_SPLIT.split(value) if tag.strip()]
    for tag in tags:
        if len(tag) > 40:
            raise ValueError(f"tag {tag[:20]!r}... is longer than 40 characters")
    if len(tags) > 50:
        raise ValueError(f"{len(tags)} tags (at most 50)")
    return tags


_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]")


def join_name(first: str, last: str) -> str:
    """Chinese names are family name first, without a space (姓 + 名)."""
    if (first + last).isascii():
        return f"{first} {last}" if first and last else first or last
    if _CJK.search(first + last):
        return last + first
    return " ".join(part for part in (first, last) if part)


_FRIENDLY = (
    (re.compile(r"^Field required$"), "is empty (required)"),
    (re.compile(r"^Value should have at least 1 item after validation, not 0$"), "is empty (required)"),
    (re.compile(r"^Value should have at most (\d+) items after validation, not (\d+)$"),
     r"too long: \2 characters (at most \1)"),
    (re.compile(r"^Input should be a valid integer.*$"), "should be a whole number"),
    (re.compile(r"^Input should be (.*)$"), r"should be \1"),
)


def friendly(message: str) -> str:
    """Pydantic's wording, made for a person fixing a spreadsheet."""
    for pattern, replacement in _FRIENDLY:
        if pattern.match(message):
            return pattern.sub(replacement, message)
    return message[:1].lower() + message[1:]
