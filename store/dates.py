"""Dates as people type them: ``2026-12-01``, ``+3d``, ``+2w``, ``tomorrow``, ``next mon``."""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import lru_cache

_RELATIVE = re.compile(r"^(?:\+|in\s+)(\d{1,4})\s*(d|day|days|w|wk|week|weeks|m|mo|month|months)$")
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
HINT = "a date like 2026-12-01, +3d, +2w, tomorrow or next mon"


def stored_day(text: str) -> date:
    """The day of a stored date or time (``2026-12-01``, ``2026-12-01T09:30:00Z``).

    One object per day: rows keep one or more days for each of 50k leads, and a
    ``date`` takes 32 bytes; a few hundred distinct days cover them all."""
    return _day(text[:10])


@lru_cache(maxsize=4096)
def _day(text: str) -> date:
    return date.fromisoformat(text)


def parse_when(text: str, today: date) -> date:
    """The date ``text`` means, seen from ``today``; ValueError with a hint otherwise."""
    phrase = " ".join(text.strip().lower().split())
    if not phrase:
        raise ValueError(f"expected {HINT}")
    simple = {"today": 0, "tod": 0, "tomorrow": 1, "tom": 1, "tmr": 1, "yesterday": -1}
    if phrase in simple:
        return today + timedelta(days=simple[phrase])
    if match := _ISO.match(phrase):
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:
            raise ValueError(f"{text.strip()!r} is not a real date") from None
    if match := _RELATIVE.match(phrase):
        return _add(today, int(match.group(1)), match.group(2)[0])
    weekday = _weekday(phrase)
    if weekday is not None:
        # "mon" and "next mon" both mean the coming Monday, never today.
        return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)
    raise ValueError(f"{text.strip()!r} is not {HINT}")


def _add(today: date, amount: int, unit: str) -> date:
    if unit == "d":
        return today + timedelta(days=amount)
    if unit == "w":
        return today + timedelta(weeks=amount)
    month_index = today.month - 1 + amount
    year, month = today.year + month_index // 12, month_index % 12 + 1
    for day in (today.day, 30, 29, 28):  # clamp 31 Jan + 1 month to the month's end
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise ValueError("date out of range")


_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _weekday(phrase: str) -> int | None:
    """The weekday index for 'mon', 'monday', 'next mon' (at least three letters)."""
    word = phrase.removeprefix("next ").strip()
    if len(word) < 3:
        return None
    for index, name in enumerate(_DAY_NAMES):
        if name.startswith(word):
            return index
    return None
