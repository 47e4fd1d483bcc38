"""The demo's records while the rest of the demo is still being drawn around them
(``store.demo``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from store.demo_people import Company, Person
from store.models import (
    Activity,
    Contact,
    Customer,
    Lead,
    LeadEvent,
    Opportunity,
    Record,
    Survey,
    Task,
    Ticket,
)


class _Draft:
    """A record's fields while the rest of the demo is still being drawn around it."""

    fields: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.fields["id"])

    @property
    def owner(self) -> str:
        return str(self.fields["owner"])


@dataclass
class _LeadDraft(_Draft):
    """A lead's fields while its activities and conversion are still being made."""

    fields: dict[str, Any]
    company: Company
    person: Person
    created: datetime
    contacted: datetime | None
    closed: datetime | None  # converted or disqualified at
    history: list[LeadEvent] = field(default_factory=list)

    @property
    def status(self) -> str:
        return str(self.fields["status"])


@dataclass
class _CustomerDraft(_Draft):
    fields: dict[str, Any]
    company: Company
    created: datetime
    contacts: list[Contact] = field(default_factory=list)
    deals: list[Opportunity] = field(default_factory=list)
    lifecycle: str = "prospect"
    active_since: date | None = None
    churned_at: date | None = None
    revisit_days: int | None = None


@dataclass
class _Built:
    leads: list[Lead]
    customers: list[Customer]
    contacts: list[Contact]
    opportunities: list[Opportunity]
    activities: list[Activity]
    tasks: list[Task]
    tickets: list[Ticket]
    surveys: list[Survey]

    def all(self) -> Iterator[Record]:
        for records in (self.leads, self.customers, self.contacts, self.opportunities,
                        self.activities, self.tasks, self.tickets, self.surveys):
            yield from records

    def summary(self, folder: Path, reps: int) -> DemoSummary:
        return DemoSummary(folder, reps, len(self.leads), len(self.opportunities), len(self.customers),
                           len(self.contacts), len(self.activities), len(self.tasks), len(self.tickets),
                           len(self.surveys))


@dataclass(frozen=True)
class DemoSummary:
    folder: Path
    reps: int
    leads: int
    opportunities: int
    customers: int
    contacts: int
    activities: int
    tasks: int
    tickets: int
    surveys: int

    def __str__(self) -> str:
        return (f"wrote {self.leads} leads, {self.opportunities} opportunities, "
                f"{self.customers} customers, {self.contacts} contacts, {self.activities} activities, "
                f"{self.tasks} tasks, {self.tickets} tickets, {self.surveys} surveys "
                f"for {self.reps} reps into {self.folder}")
