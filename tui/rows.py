"""Light rows for big lists, built straight from stored documents.

Building a pydantic model per lead costs 15 us (0.75 s at 50k), so the lists
work on these small slotted objects, made once and patched per change.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from store.dates import stored_day
from tui.widgets.table import widest

#: one tuple per set of tags the rows hold (a few dozen sets for 200k leads: 8 MB)
_TAG_SETS: dict[tuple[str, ...], tuple[str, ...]] = {}


def _one_tuple(tags: tuple[str, ...]) -> tuple[str, ...]:
    return _TAG_SETS.setdefault(tags, tags)


@dataclass(slots=True, eq=False)  # compared by identity: a list's ``index`` of one is a C loop
class LeadRow:
    id: str
    name: str
    company: str
    email: str
    phone: str
    grade: str
    source: str
    status: str
    owner: str
    follow_up: date | None
    created: date
    in_pool: bool
    tags: tuple[str, ...]
    #: lower-cased name, company, email, phone and tags, for filter-as-you-type
    search: str

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any], extra: str = "") -> LeadRow:
        """``extra``: more text ``/`` matches (the lead's custom text fields, lower-cased)."""
        get = doc.get
        follow, tags = get("next_follow_up"), get("tags")
        tags = _one_tuple(tuple(tags)) if tags else ()
        # Stored text was cleaned of control characters by the models when written.
        name, company = doc["name"], get("company") or ""
        email, phone = get("email") or "", get("phone") or ""
        search = "\x00".join((name, company, email, phone, *tags)).casefold()
        # Positional: keywords cost a fifth of the time of the 50k rows of a first screen.
        return cls(doc["id"], name, company, email, phone, get("grade") or "", get("source") or "",
                   get("status") or "new", get("owner") or "", stored_day(follow) if follow else None,
                   stored_day(str(doc["created_at"])), bool(get("in_pool")), tags,
                   search + "\x00" + extra if extra else search)

    def is_open(self) -> bool:
        return self.status in ("new", "contacted", "qualified")

    def overdue(self, today: date) -> bool:
        return self.follow_up is not None and self.follow_up < today and self.is_open()


def lead_widths(rows: Collection[LeadRow]) -> dict[str, int]:
    """The widths that show the lead list's owners, sources and statuses whole (a long
    source imported from another CRM is still cut, past 14 cells)."""
    return {"owner": widest((r.owner for r in rows), 12), "source": widest((r.source for r in rows), 14),
            "status": widest(("pool" if r.in_pool else r.status for r in rows), 12)}
