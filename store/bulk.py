"""Bulk actions on the rows a rep marked: each is one commit and one undo entry, whose
notice names the action ("Undid: assign 12 leads to Bo"), and the export of chosen leads."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from datetime import date
from typing import TYPE_CHECKING, Any, TextIO

from store.csv_export import export_csv
from store.errors import StoreError
from store.models import GRADES, Customer, Lead, Record
from store.session_undo import SessionChange

if TYPE_CHECKING:
    from store.database import Store


@contextlib.contextmanager
def one_change(store: Store, label: str) -> Iterator[None]:
    """Every write inside is one commit and one undo entry, described by ``label``."""
    top = store.undo_stack[-1] if store.undo_stack else None
    with store.writing():
        yield
    if store.undo_stack and store.undo_stack[-1] is not top:
        store.undo_stack[-1] = SessionChange(store.undo_stack[-1].records, label)


def assign_leads(store: Store, ids: Iterable[str], rep: str, label: str) -> int:
    """Give the leads (with their open tasks) to ``rep``."""
    return _each(store, ids, label, lambda lead_id: store.assign_lead(lead_id, rep))


def claim_leads(store: Store, ids: Iterable[str], today: date, label: str) -> int:
    """Claim the leads from the pool, each with a fresh follow-up."""
    return _each(store, ids, label, lambda lead_id: store.claim_lead(lead_id, today=today))


def disqualify_leads(store: Store, ids: Iterable[str], reason: str, label: str) -> int:
    if not reason.strip():
        raise StoreError("disqualifying a lead needs a reason")
    return _each(store, ids, label, lambda lead_id: store.disqualify_lead(lead_id, reason))


def grade_leads(store: Store, ids: Iterable[str], step: int, label: str) -> int:
    """Move each lead's grade ``step`` places (-1: up, towards A), each from its own grade."""
    def regrade(lead_id: str) -> None:
        grade = store.require(Lead, lead_id).grade
        index = GRADES.index(grade) if grade else len(GRADES) - 1
        store.update(Lead, lead_id, grade=GRADES[max(0, min(index + step, len(GRADES) - 1))])

    return _each(store, ids, label, regrade)


def follow_up_leads(store: Store, ids: Iterable[str], when: date, label: str) -> int:
    return _each(store, ids, label, lambda lead_id: store.update(Lead, lead_id, next_follow_up=when))


def tag_records(store: Store, ids: Iterable[str], cls: type[Record], tag: str, label: str) -> int:
    """Add ``tag`` to each record that does not have it yet."""
    tag = tag.strip()
    if not tag:
        raise StoreError("a tag needs a name")

    def add(record_id: str) -> None:
        tags = list(store.require(cls, record_id).tags)  # type: ignore[attr-defined]
        if tag not in tags:
            store.update(cls, record_id, tags=[*tags, tag])

    return _each(store, ids, label, add)


def assign_customers(store: Store, ids: Iterable[str], rep: str, label: str) -> int:
    if rep not in store.config.rep_ids():
        raise StoreError(f"{rep!r} is not one of the team's reps")
    return _each(store, ids, label, lambda customer_id: store.update(Customer, customer_id, owner=rep))


def _each(store: Store, ids: Iterable[str], label: str, write: Any) -> int:
    count = 0
    with one_change(store, label):
        for record_id in ids:
            write(record_id)
            count += 1
    return count


def export_leads(store: Store, ids: Iterable[str], out: TextIO, *, excel: bool = False) -> int:
    """The chosen leads as ``export csv leads`` writes every lead: the same columns, cells,
    order (oldest first) and, unless ``excel``, the same bytes (no BOM, ``\n`` line ends)."""
    return export_csv(store, Lead.table, out, excel=excel, ids=ids)
