"""Importing a vCard file's cards as contacts (``dealdeck import vcf``).

Each card becomes a contact of the customer its ORG names, found as the CSV import
finds one (exact name, then without Ltd/Inc) or created; a card without ORG goes to
the customer given, else is skipped. A card whose UID (or, without one, whose e-mail)
matches a contact updates the fields that changed instead of adding a copy; a card
that cannot be stored is skipped with its reason. Everything is written in one
transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from store.database import Store
from store.errors import StoreError, ValidationFailed
from store.leads import normalise_company, normalise_name
from store.models import Contact, Customer
from store.vcards import CARD_FIELDS, OWN_UID, Card, contact_fields, read_cards

_PROPERTY = {"name": "FN", "role": "TITLE", "email": "EMAIL", "phone": "TEL", "birthday": "BDAY",
             "notes": "NOTE", "external_id": "UID", "customer_id": "ORG"}


@dataclass
class VcfReport:
    """What an import did (or, with ``dry_run``, would do)."""

    path: str
    dry_run: bool = False
    cards: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    #: one line per skipped card: its position, name and why
    skipped: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def imported_nothing(self) -> bool:
        return len(self.skipped) == self.cards

    def summary(self) -> str:
        would = "would be " if self.dry_run else ""
        counts = (f"{self.added} {would}added, {self.updated} {would}updated, {self.unchanged} unchanged, "
                  f"{len(self.skipped)} {would}skipped")
        head = f"dry run, nothing written: {self.path}" if self.dry_run else f"imported {self.path}"
        cards = f"{self.cards} card{'s' if self.cards != 1 else ''}"
        text = f"{head}: {cards}: {counts}"
        if self.created:
            verb = "would create" if self.dry_run else "created"
            text += f"; {verb} {len(self.created)} customer{'s' if len(self.created) != 1 else ''}: " \
                    + ", ".join(self.created)
        return text


class CustomerIndex:
    """Customers by id, exact name, then name without Ltd/Inc (as the CSV import finds them)."""

    def __init__(self, docs: Iterable[Mapping[str, Any]]) -> None:
        self.names: dict[str, str] = {}
        self.exact: dict[str, list[str]] = defaultdict(list)
        self.loose: dict[str, list[str]] = defaultdict(list)
        for doc in docs:
            self.add(doc["id"], doc["name"])

    def add(self, customer_id: str, name: str) -> None:
        self.names[customer_id] = name
        self.exact[name.strip().casefold()].append(customer_id)
        self.loose[normalise_company(name)].append(customer_id)

    def find(self, name: str) -> str | None:
        """The customer's id; None when there is none; ``ValueError`` when several match."""
        if name in self.names:
            return name
        for found in (self.exact.get(name.strip().casefold(), []), self.loose.get(normalise_company(name), [])):
            if len(found) > 1:
                names = ", ".join(self.names[i] for i in found[:3])
                raise ValueError(f"{len(found)} customers match {name!r} ({names})")
            if found:
                return found[0]
        return None


def customer_index(store: Store) -> CustomerIndex:
    return CustomerIndex(store.rows(Customer))


class _Contacts:
    """Existing contacts by id, UID (``external_id``) and e-mail."""

    def __init__(self, docs: Iterable[Mapping[str, Any]]) -> None:
        self.by_id: dict[str, Mapping[str, Any]] = {}
        self.by_uid: dict[str, Mapping[str, Any]] = {}
        self.by_email: dict[str, Mapping[str, Any]] = {}
        self.by_name: dict[tuple[str, str], Mapping[str, Any]] = {}
        for doc in docs:
            self.add(doc)

    def add(self, doc: Mapping[str, Any]) -> None:
        self.by_id[doc["id"]] = doc
        if doc.get("external_id"):
            self.by_uid.setdefault(doc["external_id"], doc)
        if doc.get("email"):
            self.by_email.setdefault(str(doc["email"]).lower(), doc)
        self.by_name.setdefault((doc["customer_id"], normalise_name(str(doc["name"]))), doc)

    def match(self, uid: str, email: str | None) -> Mapping[str, Any] | None:
        """By UID; else by e-mail (a contact of another UID is another person)."""
        own = OWN_UID.match(uid)
        doc = self.by_id.get(own.group(1)) if own else self.by_uid.get(uid) if uid else None
        return doc or self._unless_other(self.by_email.get(email.lower()) if email else None, uid)

    def same_name(self, customer_id: str, name: str, uid: str) -> Mapping[str, Any] | None:
        """The customer's contact of the same name: for a card with neither UID nor e-mail
        that matches, or one whose contact was entered by hand."""
        return self._unless_other(self.by_name.get((customer_id, normalise_name(name))), uid)

    @staticmethod
    def _unless_other(doc: Mapping[str, Any] | None, uid: str) -> Mapping[str, Any] | None:
        return doc if doc is not None and (not uid or not doc.get("external_id")) else None


@dataclass
class _Plan:
    customers: list[Customer] = field(default_factory=list)
    inserts: list[Contact] = field(default_factory=list)
    updates: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    #: contact id (an existing or a new contact's) -> the card that set it
    seen: dict[str, int] = field(default_factory=dict)


class _Skip(Exception):
    """This card is skipped; ``str()`` says why."""


class _Importer:
    def __init__(self, store: Store, customer: str | None, report: VcfReport) -> None:
        self.store, self.report, self.plan = store, report, _Plan()
        self.customers = customer_index(store)
        self.contacts = _Contacts(store.rows(Contact))
        self.default = self._default_customer(customer)

    def _default_customer(self, name: str | None) -> str | None:
        if name is None:
            return None
        try:
            found = self.customers.find(name)
        except ValueError as exc:
            raise StoreError(f"--customer {name}: {exc}") from None
        if found is None:
            raise StoreError(f"--customer {name}: no customer named {name!r}")
        return found

    def take(self, card: Card) -> None:
        try:
            self._take(card)
        except _Skip as exc:
            self.report.skipped.append(f"{card.label()}: skipped: {exc}")

    def _take(self, card: Card) -> None:
        if card.problem:
            raise _Skip(card.problem)
        if not card.name:
            raise _Skip("no name (the card has neither FN nor N)")
        data, problems = contact_fields(card)
        if problems:
            raise _Skip("; ".join(problems))
        doc = self.contacts.match(card.uid, data.get("email"))
        customer_id, new_customer = self._customer(card, doc)
        if doc is None and new_customer is None:
            doc = self.contacts.same_name(customer_id, card.name, card.uid)
        if doc is not None and doc["id"] in self.plan.seen:
            raise _Skip(f"the same contact as card {self.plan.seen[doc['id']]}")
        data["customer_id"] = customer_id
        contact_id = self._add(data) if doc is None else self._update(doc, data)
        self.plan.seen[contact_id] = card.position
        if new_customer is not None:
            self.plan.customers.append(new_customer)
            self.customers.add(new_customer.id, new_customer.name)
            self.report.created.append(new_customer.name)

    def _customer(self, card: Card, doc: Mapping[str, Any] | None) -> tuple[str, Customer | None]:
        if not card.org:
            if doc is not None:
                return doc["customer_id"], None  # already someone's contact: it stays there
            if self.default is None:
                raise _Skip("no ORG (company) on the card; give --customer NAME for such cards")
            return self.default, None
        try:
            found = self.customers.find(card.org)
        except ValueError as exc:
            raise _Skip(f"ORG: {exc}; rename one of them or use the exact name") from None
        if found is not None:
            return found, None
        try:
            customer = self.store.validate(Customer, {"name": card.org, "owner": self.store.me})
        except ValidationFailed as exc:
            raise _Skip(f"ORG {card.org[:40]!r}: {next(iter(exc.errors.values()))}") from None
        return customer.id, customer

    def _add(self, data: dict[str, Any]) -> str:
        contact = self._valid({**data, "owner": self.store.me})
        self.plan.inserts.append(contact)
        self.contacts.add(contact.model_dump())  # a later card of the same person finds it
        self.report.added += 1
        return contact.id

    def _update(self, doc: Mapping[str, Any], data: dict[str, Any]) -> str:
        current = self.store.model_of(Contact, doc)
        updated = self._valid({**current.model_dump(), **data})
        changes = {name: getattr(updated, name) for name in (*CARD_FIELDS, "customer_id")
                   if getattr(updated, name) != getattr(current, name)}
        if changes:
            self.plan.updates.append((doc["id"], changes))
            self.report.updated += 1
        else:
            self.report.unchanged += 1
        return str(doc["id"])

    def _valid(self, data: dict[str, Any]) -> Contact:
        try:
            return self.store.validate(Contact, data)
        except ValidationFailed as exc:
            raise _Skip("; ".join(_problem(name, message, data) for name, message in exc.errors.items())) from None

    def write(self) -> None:
        """Everything in one transaction: all of it is written, or none."""
        with self.store.writing() as w:
            for customer in self.plan.customers:
                w.insert(customer)
            for contact in self.plan.inserts:
                w.insert(contact)
            for contact_id, changes in self.plan.updates:
                w.update(Contact, contact_id, changes)


def _problem(name: str, message: str, data: Mapping[str, Any]) -> str:
    value = data.get(name)
    shown = f" {str(value)[:60]!r}" if isinstance(value, str) and name != "notes" else ""
    return f"{_PROPERTY.get(name, name)}{shown}: {message}"


def import_vcf(store: Store, path: str | Path, *, customer: str | None = None,
               dry_run: bool = False) -> VcfReport:
    """Import a ``.vcf`` file's cards as contacts; see the module docstring.
    An unreadable file, or a ``customer`` that names no customer, raises ``StoreError``."""
    path = Path(path)
    cards, notes = read_cards(path)
    report = VcfReport(str(path), dry_run=dry_run, cards=len(cards), notes=notes)
    store.refresh()
    importer = _Importer(store, customer, report)
    for card in cards:
        importer.take(card)
    if not dry_run and (importer.plan.inserts or importer.plan.updates):
        importer.write()
    return report
