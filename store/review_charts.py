"""The geometry of the review's charts, the same in the app and the report: pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from store.review_week import Waterfall

ZERO = Decimal(0)


@dataclass(frozen=True)
class FloatingBar:
    """One bar of a waterfall: it runs from ``start`` to ``end`` (a step down ends below
    where it starts); ``amount`` is what the label says, signed for a step."""

    label: str
    start: Decimal
    end: Decimal
    kind: Literal["total", "up", "down"]

    @property
    def amount(self) -> Decimal:
        return self.end - self.start

    @property
    def low(self) -> Decimal:
        return min(self.start, self.end)

    @property
    def high(self) -> Decimal:
        return max(self.start, self.end)


def waterfall_bars(fall: Waterfall) -> list[FloatingBar]:
    """The open pipeline at the week's start, each change floating from where the one
    before ended (up or down), and the pipeline at the end: the last step ends where the
    end bar does, to the cent (``Waterfall.balances``)."""
    bars = [FloatingBar("Open at the start", ZERO, fall.start, "total")]
    level = fall.start
    for label, delta in (("New and reopened", fall.new), ("Increased", fall.increased),
                         ("Decreased", -fall.decreased), ("Won", -fall.won), ("Lost", -fall.lost)):
        bars.append(FloatingBar(label, level, level + delta, "up" if delta >= 0 else "down"))
        level += delta
    bars.append(FloatingBar("Open at the end", ZERO, fall.end, "total"))
    return bars


def scale_top(bars: list[FloatingBar]) -> Decimal:
    """The value the chart's full width stands for: the highest any bar reaches."""
    return max((bar.high for bar in bars), default=ZERO) or Decimal(1)
