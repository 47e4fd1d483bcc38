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
from store.vcards import is_cjk

Doc = Mapping[str, Any]
VERSIONS = ("3.0", "4.0")
PRODID = "-//Dealdeck//Dealdeck CRM//EN"


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
    """Write the chosen contacts to ``out`` as vCards; return how many."""
    if version not in VERSIONS:
        raise StoreError(f"vCard version {version}? (choose {' or '.join(VERSIONS)})")
    chosen = contacts_to_export(store, customer=customer, segment=segment, today=today)
    for contact, customer_name in chosen:
        out.write(card_text(contact, customer_name, version))
    return len(chosen)



def uid_of(contact: Doc) -> str:
    """The card's UID: the contact's own from where it came, else one made of its id."""
    return str(contact.get("external_id") or f"dealdeck-{contact['id']}")


def card_text(contact: Doc, customer: str, version: str = "3.0") -> str:
    """One contact (a stored document) as a vCard of ``version``, lines folded, CRLF."""
    import vobject
    from vobject.vcard import Name

    if version not in VERSIONS:
        raise StoreError(f"vCard version {version}? (choose {' or '.join(VERSIONS)})")
    card = vobject.vCard()
    card.add("version").value = version
    card.add("prodid").value = PRODID
    card.add("uid").value = uid_of(contact)
    name = str(contact["name"])
    card.add("fn").value = name
    given, family = _split_name(name)
    card.add("n").value = Name(family=family, given=given)
    card.add("org").value = [customer]
    if contact.get("role"):
        card.add("title").value = str(contact["role"])
    for kind, key in (("email", "email"), ("tel", "phone")):
        if contact.get(key):
            line = card.add(kind)
            line.value = str(contact[key])
            internet = ["INTERNET"] if kind == "email" and version == "3.0" else []
            line.type_paramlist = ["WORK" if version == "3.0" else "work", *internet]
    birthday = contact.get("birthday")
    if birthday:
        day = birthday if isinstance(birthday, date) else date.fromisoformat(str(birthday)[:10])
        card.add("bday").value = day.isoformat() if version == "3.0" else day.strftime("%Y%m%d")
    if contact.get("notes"):
        card.add("note").value = str(contact["notes"])
    return card.serialize()


def _split_name(name: str) -> tuple[str, str]:
    """(given, family) for N: the last word is the family name; a name of one word, or
    written in CJK, is all family name (FN is what programs show)."""
    given, _, family = name.rpartition(" ")
    if not given or any(is_cjk(ch) for ch in name):
        return "", name
    return given, family
