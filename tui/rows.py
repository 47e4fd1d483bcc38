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
        follow = doc.get("next_follow_up")
        tags = tuple(doc.get("tags") or ())
        # Stored text was cleaned of control characters by the models when written.
        name, company = doc["name"], doc.get("company") or ""
        email, phone = doc.get("email") or "", doc.get("phone") or ""
        return cls(
            id=doc["id"], name=name, company=company, email=email, phone=phone,
            grade=doc.get("grade") or "", source=doc.get("source") or "",
            status=doc.get("status") or "new", owner=doc.get("owner") or "",
            follow_up=stored_day(follow) if follow else None,
            created=stored_day(str(doc["created_at"])),
            in_pool=bool(doc.get("in_pool")), tags=tags,
            search="\x00".join((name, company, email, phone, *tags)).casefold() + ("\x00" + extra if extra else ""),
        )

    def is_open(self) -> bool:
        return self.status in ("new", "contacted", "qualified")

    def overdue(self, today: date) -> bool:
        return self.follow_up is not None and self.follow_up < today and self.is_open()


def lead_widths(rows: Collection[LeadRow]) -> dict[str, int]:
    """The widths that show the lead list's owners, sources and statuses whole (a long
    source imported from another CRM is still cut, past 14 cells)."""
    return {"owner": widest((r.owner for r in rows), 12), "source": widest((r.source for r in rows), 14),
            "status": widest(("pool" if r.in_pool else r.status for r in rows), 12)}
