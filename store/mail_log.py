"""Writing an e-mail import: the messages ``store.mail_import`` read and matched, logged as
``email`` activities in one ``store.writing()`` transaction, and the report of the run.
The rules are in ``store.mail_import``'s docstring."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from store.errors import StoreError
from store.mail_import import AddressBook, MailMessage, Unreadable, check_paths, read_messages
from store.models import Activity, Customer, Lead, strip_controls

if TYPE_CHECKING:
    from store.database import Store
    from store.writer import Writer


def logged_message_ids(activities: Iterable[Mapping[str, Any]]) -> set[str]:
    """The Message-IDs of the e-mails logged so far."""
    return {doc["external_id"] for doc in activities if doc.get("kind") == "email" and doc.get("external_id")}


@dataclass
class MailReport:
    """One line per message, by outcome (plain text: control characters are stripped)."""

    dry_run: bool = False
    logged: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        groups = (("would log" if self.dry_run else "logged", self.logged), ("already logged", self.already),
                  ("unmatched", self.unmatched), ("unreadable", self.unreadable))
        return [f"{name}: {strip_controls(line)}" for name, lines in groups for line in lines]

    def summary(self) -> str:
        counts = (f"{len(self.logged)} {'would be logged' if self.dry_run else 'logged'}, "
                  f"{len(self.already)} already logged, {len(self.unmatched)} unmatched, "
                  f"{len(self.unreadable)} unreadable")
        return f"dry run, nothing written: {counts}" if self.dry_run else counts


def import_mail(store: Store, paths: Sequence[Path], *, dry_run: bool = False) -> MailReport:
    """Log the messages of ``paths`` (files and folders), all in one commit; see the module."""
    check_paths(paths)
    items = list(read_messages(paths))
    report = MailReport(dry_run=dry_run)
    if dry_run:
        _plan(store, items, report)
        return report
    with store.writing() as writer:  # read what is logged inside the transaction: current
        _write(writer, _plan(store, items, report))
    return report


def _plan(store: Store, items: Iterable[MailMessage | Unreadable], report: MailReport) -> list[Activity]:
    book, seen = AddressBook.of_store(store), logged_message_ids(store.rows(Activity))
    planned: list[Activity] = []
    for item in items:
        if isinstance(item, Unreadable):
            report.unreadable.append(f"{item.source}: {item.reason}")
        elif item.message_id in seen:
            report.already.append(f'{item.source}: "{item.subject}" ({item.message_id})')
        elif (target := book.target(item.addresses)) is None:
            report.unmatched.append(f'{item.source}: from {item.sender or "(nobody)"}: "{item.subject}"')
        else:
            try:
                planned.append(store.validate(Activity, {
                    "owner": store.me, "kind": "email", "at": item.at, "subject": item.subject,
                    "body": item.body, "external_id": item.message_id, **target.links()}))
            except StoreError as exc:
                report.unreadable.append(f"{item.source}: {exc}")
                continue
            seen.add(item.message_id)
            report.logged.append(f'{item.source}: "{item.subject}" ({item.at:%Y-%m-%d %H:%M} UTC) '
                                 f"on {target.describe()}")
    return planned


def _write(writer: Writer, activities: Sequence[Activity]) -> None:
    for activity in activities:
        writer.insert(activity)
    for lead_id, at in _latest(activities, "lead_id").items():
        lead, _ = writer.current(Lead, lead_id)
        changes: dict[str, Any] = {}
        if lead.last_contacted_at is None or at > lead.last_contacted_at:
            changes["last_contacted_at"] = at
        if lead.status == "new":
            changes["status"] = "contacted"
        if changes:
            writer.update(Lead, lead_id, changes)
    for customer_id, at in _latest(activities, "customer_id").items():
        customer, _ = writer.current(Customer, customer_id)
        if customer.last_contact_at is None or at > customer.last_contact_at:
            writer.update(Customer, customer_id, {"last_contact_at": at})


def _latest(activities: Iterable[Activity], link: str) -> dict[str, datetime]:
    """The newest activity time per linked record."""
    latest: dict[str, datetime] = {}
    for activity in activities:
        record_id = getattr(activity, link)
        if record_id and (record_id not in latest or activity.at > latest[record_id]):
            latest[record_id] = activity.at
    return latest
