"""A week's decisions as the review lists them (the slide, the report, the mail): from the
``decisions`` entries of the stored deals and customers (``store.decisions`` writes them).
Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: how each kind of decision is named in lists and the report
KIND_LABELS: dict[str, str] = {"next_step": "Next step", "close_date": "New close date", "stage": "Stage move",
                               "note": "Note"}


@dataclass(frozen=True)
class DecisionLine:
    """A decision as the report lists it: what it was about and what was decided."""

    table: str
    record_id: str
    title: str
    owner: str
    kind: str
    text: str
    by: str
    at: str



def decisions_of(week: str, opportunities: Iterable[Mapping[str, Any]],
                 customers: Iterable[Mapping[str, Any]]) -> list[DecisionLine]:
    """Every decision taken in ``week``'s review, in the order they were taken. Pure: the
    documents as stored."""
    lines = []
    for table, docs in (("opportunities", opportunities), ("customers", customers)):
        for doc in docs:
            for entry in doc.get("decisions") or ():
                if entry.get("week") == week:
                    lines.append(DecisionLine(table, doc["id"], doc.get("title") or doc.get("name") or doc["id"],
                                              doc.get("owner", ""), entry["kind"], entry["text"], entry["by"],
                                              str(entry["at"])))
    return sorted(lines, key=lambda line: (line.at, line.title))
