"""Contacts as a vCard file (``dealdeck export vcf``): one customer's, a saved
segment's (the customers the segment filter of the customer tab shows), or all.

Each card carries FN, N, ORG (the customer), TITLE, EMAIL, TEL, BDAY, NOTE and a
UID that stays the same from one export to the next, so a phone or mail program
that reads the file again updates its cards, and ``import vcf`` of the file
changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, TextIO

from store.config import SavedSegment
from store.customers import customer_rows, in_segment
from store.database import Store
from store.errors import StoreError
from store.models import Contact, Customer, Opportunity, Survey, Task, Ticket
from store.vcard_import import customer_index
from store.vcards import write_cards

Doc = Mapping[str, Any]


def find_segment(store: Store, name: str) -> SavedSegment:
    for segment in store.config.segments:
        if segment.name.casefold() == name.strip().casefold():
            return segment
    known = ", ".join(s.name for s in store.config.segments) or "none saved yet"
    raise StoreError(f"no saved segment {name!r} (segments: {known})")


def segment_customers(store: Store, segment: SavedSegment, today: date) -> set[str]:
    """The ids of the customers in ``segment`` today, as the customer tab filters them."""
    rows = customer_rows(store.config, customers=store.rows(Customer), opportunities=store.rows(Opportunity),
                         last_activity=store.activity_digest().last_by_customer(), tickets=store.rows(Ticket),
                         surveys=store.rows(Survey), today=today, tasks=store.rows(Task),
                         contacts=store.rows(Contact))
    return {row.id for row in rows if in_segment(row, segment, today)}


def contacts_to_export(store: Store, *, customer: str | None = None, segment: str | None = None,
                       today: date | None = None) -> list[tuple[Doc, str]]:
    """(contact, its customer's name), by customer and then contact name."""
    if customer is not None and segment is not None:
        raise StoreError("give a customer or a segment, not both")
    names = {doc["id"]: str(doc["name"]) for doc in store.rows(Customer)}
    wanted: set[str] | None = None
    if customer is not None:
        try:
            found = customer_index(store).find(customer)
        except ValueError as exc:
            raise StoreError(f"--customer {customer}: {exc}") from None
        if found is None:
            raise StoreError(f"--customer {customer}: no customer named {customer!r}")
        wanted = {found}
    elif segment is not None:
        wanted = segment_customers(store, find_segment(store, segment), today or date.today())
    chosen = [(doc, names[doc["customer_id"]]) for doc in store.rows(Contact)
              if doc["customer_id"] in names and (wanted is None or doc["customer_id"] in wanted)]
    return sorted(chosen, key=lambda pair: (pair[1].casefold(), str(pair[0]["name"]).casefold(), pair[0]["id"]))


def export_vcf(store: Store, out: TextIO, *, customer: str | None = None, segment: str | None = None,
               version: str = "3.0", today: date | None = None) -> int:
    """Write the chosen contacts to ``out`` as vCards (``store.vcards.card_text``); return how many."""
    return write_cards(out, contacts_to_export(store, customer=customer, segment=segment, today=today), version)
