from __future__ import annotations

from datetime import date

import pytest

from store.dates import parse_when

WEDNESDAY = date(2026, 11, 25)


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-12-01", date(2026, 12, 1)),
    ("2026/1/5", date(2026, 1, 5)),
    ("today", WEDNESDAY),
    ("tomorrow", date(2026, 11, 26)),
    ("+3d", date(2026, 11, 28)),
    ("+2w", date(2026, 12, 9)),
    ("in 10 days", date(2026, 12, 5)),
    ("+1m", date(2026, 12, 25)),
    ("next mon", date(2026, 11, 30)),
    ("Friday", date(2026, 11, 27)),
    ("wed", date(2026, 12, 2)),  # the coming Wednesday, never today
    ("  NEXT   Tue ", date(2026, 12, 1)),
])
def test_phrases(text: str, expected: date) -> None:
    assert parse_when(text, WEDNESDAY) == expected


def test_months_clamp_to_the_end_of_a_short_month() -> None:
    assert parse_when("+1m", date(2027, 1, 31)) == date(2027, 2, 28)
    assert parse_when("+13m", date(2026, 1, 31)) == date(2027, 2, 28)


@pytest.mark.parametrize("text", ["", "soon", "2026-02-30", "+d", "next", "31/12/2026", "mo"])
def test_nonsense_is_refused_with_a_hint(text: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_when(text, WEDNESDAY)
    assert "2026-12-01" in str(refused.value) or "not a real date" in str(refused.value)
