"""The board's filter, its forecast strip and the words it shows, apart from the tab's
widgets and keys (tui/tabs/board.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from store.config import Config
from store.pipeline import ZERO, ColumnTotal, DealRow, Forecast, short_money
from tui.fitting import by_priority
from tui.text import counted
from tui.widgets.board import BoardColumn

RISK_WORDS = {"stale": "stale", "stuck": "stuck", "slipped": "slipped", "no_next_step": "no step",
              "amount_dropped": "amount↓", "flagged": "flagged"}
CATEGORY_LABELS = {"commit": "commit", "best_case": "best case", "pipeline": "pipeline", "omitted": "omitted"}
#: won and lost deals show for this long after closing (older ones stay in reports)
CLOSED_DAYS = 90


def stage_style(config: Config, key: str) -> str:
    """The theme variable for a stage: early, mid and late open stages, won, lost."""
    stage = next((s for s in config.stages if s.key == key), None)
    if stage is None or stage.kind != "open":
        return {"won": "stage-won", "lost": "stage-lost"}.get(stage.kind if stage else "", "quiet")
    keys = [s.key for s in config.open_stages]
    position = keys.index(key)
    return "stage-early" if position == 0 else "stage-late" if position == len(keys) - 1 else "stage-mid"


#: the board column of deals whose stage the team's settings no longer have
RETIRED_STAGE = "No longer used"  # a stage the team dropped: 14 cells, whole in a column at 80


def retired_column(rows: list[DealRow]) -> BoardColumn:
    """Deals in stages the team dropped: counted and summed, weighted at nothing (no
    probability is known for them); ``m`` moves one to a stage of today's."""
    amount = sum((row.value for row in rows if row.value is not None), ZERO)
    return BoardColumn("", RETIRED_STAGE, "quiet", ColumnTotal(len(rows), amount, ZERO), rows)


def risk_text(row: DealRow, width: int = 99) -> str:
    """The risks in a word each, as many whole words as fit ``width`` and a count of the
    rest ("stuck +1"), never a cut word."""
    words = [RISK_WORDS[r.kind] for r in row.risks]
    for count in range(len(words), 0, -1):
        rest = len(words) - count
        text = ", ".join(words[:count]) + (f" +{rest}" if rest else "")
        if len(text) <= width:
            return text
    return f"+{len(words)}" if words else ""


@dataclass(frozen=True)
class DealFilter:
    text: str = ""
    #: "me", "team" or a rep id
    owner: str = "me"
    customer_id: str | None = None
    customer: str = ""
    #: "2026-12": deals expected to close that month
    close_month: str | None = None
    at_risk: bool = False
    show_lost: bool = False
    #: closed deals older than this many days are left out (None: all)
    closed_days: int | None = CLOSED_DAYS
    #: the saved view in use, if any
    view: str = ""
    #: a custom field's quick filter: (field, value, in words)
    custom: tuple[str, str, str] | None = None

    def describe(self) -> str:
        parts = [f"view “{self.view}”"] if self.view else []
        parts.append(f"owner {self.owner}")
        if self.closed_days:
            parts.append(f"closed in the last {self.closed_days}d")
        if self.customer_id:
            parts.append(f"customer {self.customer}")
        if self.close_month:
            parts.append(f"closing {self.close_month}")
        if self.at_risk:
            parts.append("at risk only")
        if self.show_lost:
            parts.append("lost shown")
        if self.custom:
            parts.append(self.custom[2])
        if self.text:
            parts.append(f"“{self.text}”")
        return " · ".join(parts)


def strip_lines(result: Forecast, today_: date, width: int = 200) -> tuple[str, str]:
    """The forecast strip's two lines, each fitted to ``width`` by priority."""
    month, quarter = today_.strftime("%b"), f"Q{(today_.month - 1) // 3 + 1}"
    coverage = "-" if result.coverage is None else f"{result.coverage:.1f}x"
    first = by_priority([
        (0, f"pipeline {short_money(result.pipeline)}"),
        (2, f"weighted {month} {short_money(result.weighted_month)}, {quarter} {short_money(result.weighted_quarter)}"),
        (1, f"commit {short_money(result.commit_quarter)}"),
        (3, f"best case {short_money(result.best_case_quarter)}"),
    ], width)
    second = by_priority([
        (1, f"won {month} {short_money(result.won_month)} of {short_money(result.target_month)} "
            f"(gap {short_money(result.gap_month)})"),
        (0, f"{quarter} {short_money(result.won_quarter)} of {short_money(result.target_quarter)} "
            f"(gap {short_money(result.gap_quarter)})"),
        (2, f"coverage {coverage}"),
    ], width)
    return first, second


def rate_warning(missing: dict[str, int], width: int = 200) -> str:
    """One line: ``1 deal in CHF has no rate: not in the totals; add rates.CHF to config.yaml``."""
    if not missing:
        return ""
    deals = ", ".join(f"{counted(n, 'deal')} in {currency}" for currency, n in missing.items())
    verb = "has" if sum(missing.values()) == 1 else "have"
    rates = ", ".join(f"rates.{currency}" for currency in missing)
    return by_priority([(0, f"⚠ {deals} {verb} no rate: not in the totals"), (1, f"add {rates} to config.yaml")],
                       width, sep="; ")
