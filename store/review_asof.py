"""Deals as they stood at a moment in the past: the review's figures for a week are as of
that week's end, rebuilt from the same stage history and tracked changes the waterfall
walks (``stage_at``, ``amount_at``), so the headline and the waterfall always agree.
Pure functions; no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from store.config import Config
from store.models import FieldChange, StageChange
from store.pipeline import DealRow, deal_row
from store.records import whole_entries
from store.review_week import Week, _instant, _kind, amount_at, effective_moves, stage_at

Doc = Mapping[str, Any]


def _iso(value: object) -> str:
    return value if isinstance(value, str) else ""


def field_at(doc: Doc, name: str, moment: str) -> Any:
    """A tracked field's value at ``moment``, from its recorded changes."""
    changes = sorted((c for c in whole_entries(doc.get("changes"), FieldChange) if c.get("field") == name),
                     key=lambda c: _iso(c["at"]))
    if not changes:
        return doc.get(name)
    before = [c for c in changes if _iso(c["at"]) <= moment]
    return before[-1].get("new") if before else changes[0].get("old")


def deal_at(doc: Doc, config: Config, moment: str) -> dict[str, Any] | None:
    """The stored document as it was at ``moment`` (ISO time); None if made later."""
    stage = stage_at(doc, moment)
    if stage is None:
        return None
    moves = sorted((c for c in effective_moves(whole_entries(doc.get("stage_history"), StageChange))
                    if _iso(c["at"]) <= moment), key=lambda c: _iso(c["at"]))
    closed = None
    if _kind(config, stage) != "open":
        entered = [c for c in moves if c["stage"] == stage]
        closed = _iso(entered[-1]["at"]) if entered else (_iso(doc.get("closed_at")) or None)
    return {**doc, "stage": stage, "amount": str(amount_at(doc, moment)),
            "expected_close": field_at(doc, "expected_close", moment), "closed_at": closed,
            "stage_history": moves,
            "changes": [c for c in whole_entries(doc.get("changes"), FieldChange) if _iso(c["at"]) <= moment]}


def changed_since(doc: Doc, moment: str) -> bool:
    """Written at or after ``moment``: its current state may not be the one it had then."""
    return _iso(doc.get("updated_at")) >= moment or _iso(doc.get("created_at")) >= moment


def rows_as_of(week: Week, config: Config, opportunities: Iterable[Doc], rows: Iterable[DealRow],
               owner: str | None = None) -> list[DealRow]:
    """The deal rows as at the end of ``week``. A deal untouched since then keeps its row
    (the board's, built today); one written since is rebuilt from its history. Deals
    made after the week are left out; deals lost since are back in as they were."""
    moment = _instant(week.end + timedelta(days=1))
    current = {row.id: row for row in rows}
    result: list[DealRow] = []
    for doc in opportunities:
        if owner is not None and doc.get("owner") != owner:
            continue
        if not changed_since(doc, moment):
            row = current.get(doc["id"])
            if row is not None:
                result.append(row)
            continue  # not among the rows: lost long ago, in no figure
        then = deal_at(doc, config, moment)
        if then is None:
            continue
        row = current.get(doc["id"])
        result.append(deal_row(then, config, customers={doc["customer_id"]: row.customer} if row else {},
                               last_activity={}, today=week.end))
    return result
