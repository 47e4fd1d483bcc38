"""A rep's follow-ups, revisits, tasks, birthdays and expected closes as an iCalendar file.

Pure: stored documents in, bytes out (RFC 5545, built with the ``icalendar`` package,
which is imported only when a calendar is built). Every event is an all-day VEVENT whose
UID is ``<kind>-<record id>@dealdeck``, so a calendar subscribed to the file updates an
event when the record changes instead of adding a copy; its SEQUENCE, DTSTAMP and
LAST-MODIFIED follow the newest ``updated_at`` of the records it shows, so exporting
unchanged data gives the same bytes. What is in it follows Today (``store.agenda``), with
no horizon: open leads' follow-ups, active and at-risk customers' planned revisits, open
tasks (birthday greetings aside), every contact's birthday (yearly) and the expected close
of every open opportunity.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import chain
from typing import TYPE_CHECKING, Any, Literal

from store.agenda import OPEN_LEAD_STATUSES

if TYPE_CHECKING:
    from store.config import Config
    from store.database import Store

Doc = Mapping[str, Any]
EntryKind = Literal["follow-up", "revisit", "task", "birthday", "close"]
PRODID = "-//Dealdeck//Dealdeck calendar export 1.0//EN"
UID_DOMAIN = "dealdeck"
#: customers whose planned revisit is on the calendar (as in Today)
REVISIT_LIFECYCLES = frozenset({"active", "at_risk"})
#: how often a subscribed calendar should fetch the file again (a hint; RFC 7986)
REFRESH = timedelta(hours=1)
#: SEQUENCE counts seconds from here: it grows with every edit and fits 32 bits until 2068
SEQUENCE_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
NOTES_MAX = 500
CATEGORY = "Dealdeck"
KIND_LABEL: dict[EntryKind, str] = {"follow-up": "Follow up", "revisit": "Revisit", "task": "Task",
                                    "birthday": "Birthday", "close": "Expected close"}
KIND_CATEGORY: dict[EntryKind, str] = {"follow-up": "Follow-up", "revisit": "Revisit", "task": "Task",
                                       "birthday": "Birthday", "close": "Expected close"}
TASK_LABEL = {"todo": "Task", "follow_up": "Follow up", "revisit": "Revisit",
              "after_sales": "After-sales call", "survey": "Survey request"}


@dataclass(frozen=True)
class Sources:
    """The stored documents a calendar is made from (``Store.rows`` of each table)."""

    leads: Sequence[Doc] = ()
    customers: Sequence[Doc] = ()
    contacts: Sequence[Doc] = ()
    tasks: Sequence[Doc] = ()
    opportunities: Sequence[Doc] = ()


@dataclass(frozen=True)
class CalendarEntry:
    """One all-day event, before it is written as iCalendar."""

    kind: EntryKind
    record_id: str
    day: date
    summary: str
    owner: str
    details: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    #: the newest ``updated_at`` of the records the event shows (None: unknown)
    updated: datetime | None = None
    location: str = ""
    yearly: bool = False

    @property
    def uid(self) -> str:
        return f"{self.kind}-{self.record_id}@{UID_DOMAIN}"


@dataclass(frozen=True)
class CalendarFile:
    ics: bytes
    events: int


@dataclass
class _Index:
    """Records by id, to say for whom an event is."""

    leads: dict[str, Doc] = field(default_factory=dict)
    customers: dict[str, Doc] = field(default_factory=dict)
    contacts: dict[str, Doc] = field(default_factory=dict)
    opportunities: dict[str, Doc] = field(default_factory=dict)

    @classmethod
    def of(cls, sources: Sources) -> _Index:
        return cls(*({str(d.get("id")): d for d in docs} for docs in
                     (sources.leads, sources.customers, sources.contacts, sources.opportunities)))


# --- reading stored values ------------------------------------------------------------


def _day(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _time(value: object) -> datetime | None:
    if isinstance(value, str) and value:
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _latest(*docs: Doc | None) -> datetime | None:
    times = [t for t in (_time(d.get("updated_at")) for d in docs if d) if t is not None]
    return max(times, default=None)


def _text(value: object) -> str:
    return str(value).strip() if value not in (None, "") else ""


def _lines(*pairs: tuple[str, object]) -> tuple[str, ...]:
    """``Label: value`` lines, leaving out empty values."""
    return tuple(f"{label}: {_text(value)}" for label, value in pairs if _text(value))


def _notes(value: object) -> tuple[str, ...]:
    notes = _text(value)
    if not notes:
        return ()
    if len(notes) > NOTES_MAX:
        notes = notes[:NOTES_MAX].rstrip() + " …"
    return ("", notes)


def _summary(kind: str, what: str, whom: str = "") -> str:
    """``Follow up: Ana Li (Acme)``; the ``(whom)`` is left out when ``what`` names it."""
    text = what if what.casefold().startswith(kind.casefold()) else f"{kind}: {what}"
    return f"{text} ({whom})" if whom and whom not in what else text


def _owner_line(doc: Doc, rep_names: Mapping[str, str]) -> tuple[str, ...]:
    owner = _text(doc.get("owner"))
    name = rep_names.get(owner, "")
    return _lines(("Owner", f"{name} ({owner})" if name and name != owner else owner))


# --- what goes on the calendar -----------------------------------------------------------


def _follow_up(lead: Doc, rep_names: Mapping[str, str]) -> CalendarEntry | None:
    day = _day(lead.get("next_follow_up"))
    if day is None or lead.get("status") not in OPEN_LEAD_STATUSES or lead.get("in_pool"):
        return None
    details = _lines(("Company", lead.get("company")), ("Title", lead.get("title")),
                     ("Phone", lead.get("phone")), ("Email", lead.get("email")),
                     ("Status", lead.get("status")), ("Grade", lead.get("grade")),
                     ("Source", lead.get("source"))) + _owner_line(lead, rep_names) + _notes(lead.get("notes"))
    return CalendarEntry("follow-up", str(lead["id"]), day, _summary("Follow up", lead["name"],
                         _text(lead.get("company"))), str(lead["owner"]), details,
                         (CATEGORY, KIND_CATEGORY["follow-up"]), _latest(lead))


def _revisit(customer: Doc, primary: Doc | None, rep_names: Mapping[str, str]) -> CalendarEntry | None:
    day = _day(customer.get("next_revisit"))
    if day is None or customer.get("lifecycle") not in REVISIT_LIFECYCLES:
        return None
    every = customer.get("revisit_days")
    contact = primary or {}
    details = _lines(("Plan", f"revisit every {every} days" if every else ""),
                     ("Lifecycle", customer.get("lifecycle")), ("Contact", contact.get("name")),
                     ("Contact phone", contact.get("phone")), ("Phone", customer.get("phone")),
                     ("Email", customer.get("email")), ("Address", customer.get("address"))
                     ) + _owner_line(customer, rep_names)
    return CalendarEntry("revisit", str(customer["id"]), day, _summary("Revisit", customer["name"]),
                         str(customer["owner"]), details, (CATEGORY, KIND_CATEGORY["revisit"]),
                         _latest(customer, primary), location=_text(customer.get("address")))


def _linked(task: Doc, index: _Index) -> tuple[str, Doc | None, tuple[str, ...]]:
    """Whom a task is for: a name, the record it names, and detail lines."""
    lead = index.leads.get(str(task.get("lead_id")))
    customer = index.customers.get(str(task.get("customer_id")))
    opportunity = index.opportunities.get(str(task.get("opportunity_id")))
    contact = index.contacts.get(str(task.get("contact_id")))
    if customer is None and opportunity is not None:
        customer = index.customers.get(str(opportunity.get("customer_id")))
    details = _lines(("Lead", lead and lead.get("name")), ("Customer", customer and customer.get("name")),
                     ("Opportunity", opportunity and opportunity.get("title")),
                     ("Contact", contact and contact.get("name")),
                     ("Phone", (contact or lead or customer or {}).get("phone")))
    for named, key in ((lead, "name"), (customer, "name"), (opportunity, "title"), (contact, "name")):
        if named is not None:
            return _text(named.get(key)), named, details
    return "", None, details


def _task(task: Doc, index: _Index, rep_names: Mapping[str, str]) -> CalendarEntry | None:
    day = _day(task.get("due"))
    if day is None or task.get("done") or task.get("kind") == "birthday":
        return None
    label = TASK_LABEL.get(_text(task.get("kind")), "Task")
    whom, named, details = _linked(task, index)
    details = (*_lines(("Kind", label)), *details, *_owner_line(task, rep_names), *_notes(task.get("notes")))
    return CalendarEntry("task", str(task["id"]), day, _summary(label, task["title"], whom), str(task["owner"]),
                         details, (CATEGORY, KIND_CATEGORY["task"]), _latest(task, named))


def _birthday(contact: Doc, customer: Doc | None, rep_names: Mapping[str, str]) -> CalendarEntry | None:
    born = _day(contact.get("birthday"))
    if born is None:
        return None
    company = _text((customer or {}).get("name"))
    details = _lines(("Born", born.isoformat()), ("Role", contact.get("role")), ("Customer", company),
                     ("Phone", contact.get("phone")), ("Email", contact.get("email"))
                     ) + _owner_line(customer or contact, rep_names)
    return CalendarEntry("birthday", str(contact["id"]), born, _summary("Birthday", contact["name"], company),
                         _birthday_owner(contact, customer), details, (CATEGORY, KIND_CATEGORY["birthday"]),
                         _latest(contact, customer), yearly=True)


def _birthday_owner(contact: Doc, customer: Doc | None) -> str:
    """A contact's birthday is on the calendar of whoever owns the customer."""
    return str((customer or contact).get("owner") or contact.get("owner"))


def _close(opportunity: Doc, index: _Index, config: Config, rep_names: Mapping[str, str]) -> CalendarEntry | None:
    day = _day(opportunity.get("expected_close"))
    if day is None or not _is_open(opportunity, config):
        return None
    customer = index.customers.get(str(opportunity.get("customer_id")))
    contact = index.contacts.get(str(opportunity.get("contact_id")))
    company = _text((customer or {}).get("name"))
    details = _lines(("Customer", company), ("Amount", _amount(opportunity)),
                     ("Stage", _stage(opportunity, config)), ("Next step", opportunity.get("next_step")),
                     ("Contact", contact and contact.get("name")), ("Contact phone", contact and contact.get("phone")),
                     ) + _owner_line(opportunity, rep_names) + _notes(opportunity.get("notes"))
    return CalendarEntry("close", str(opportunity["id"]), day,
                         _summary("Expected close", opportunity["title"], company), str(opportunity["owner"]),
                         details, (CATEGORY, KIND_CATEGORY["close"]), _latest(opportunity, customer, contact))


def _is_open(opportunity: Doc, config: Config) -> bool:
    """Not won or lost (a stage since taken out of the config counts as open until it closes)."""
    closed = {s.key for s in config.stages if s.kind != "open"}
    return opportunity.get("stage") not in closed and not opportunity.get("closed_at")


def _amount(opportunity: Doc) -> str:
    amount = _text(opportunity.get("amount"))
    return f"{amount} {_text(opportunity.get('currency'))}".strip() if amount else ""


def _stage(opportunity: Doc, config: Config) -> str:
    key = _text(opportunity.get("stage"))
    try:
        stage = config.stage(key)
    except KeyError:
        return key
    return f"{stage.label} ({stage.probability}%)"


def _primary_contacts(contacts: Iterable[Doc]) -> dict[str, Doc]:
    """Each customer's primary contact (else its first contact by name)."""
    chosen: dict[str, Doc] = {}
    for contact in sorted(contacts, key=lambda c: (not c.get("primary"), _text(c.get("name")))):
        chosen.setdefault(str(contact.get("customer_id")), contact)
    return chosen


def calendar_entries(sources: Sources, config: Config, *, owner: str | None) -> list[CalendarEntry]:
    """The events of ``owner``'s calendar (None: the whole team's), by day."""
    index = _Index.of(sources)
    names = {rep.id: rep.name for rep in config.reps}
    primary = _primary_contacts(sources.contacts)
    candidates = chain(
        (_follow_up(lead, names) for lead in sources.leads),
        (_revisit(c, primary.get(str(c.get("id"))), names) for c in sources.customers),
        (_task(task, index, names) for task in sources.tasks),
        (_birthday(c, index.customers.get(str(c.get("customer_id"))), names) for c in sources.contacts),
        (_close(o, index, config, names) for o in sources.opportunities),
    )
    entries = [e for e in candidates if e is not None and (owner is None or e.owner == owner)]
    return sorted(entries, key=lambda e: (e.day, e.kind, e.uid))


# --- writing iCalendar ---------------------------------------------------------------------


def _stamp(entry: CalendarEntry, now: datetime) -> datetime:
    """When the event last changed: its records' ``updated_at``, never later than ``now``."""
    now = _time(now) or now
    updated = entry.updated if entry.updated is not None and entry.updated <= now else now
    return updated.replace(microsecond=0)


def sequence_of(stamp: datetime) -> int:
    return max(0, int((stamp - SEQUENCE_EPOCH).total_seconds()))


def _rrule(born: date) -> dict[str, Any]:
    if (born.month, born.day) == (2, 29):  # the last day of February: the 28th in common years
        return {"freq": "yearly", "bymonth": 2, "bymonthday": -1}
    return {"freq": "yearly"}


def _event(entry: CalendarEntry, now: datetime, team_names: Mapping[str, str] | None) -> Any:
    from icalendar import Event

    stamp = _stamp(entry, now)
    summary = entry.summary
    if team_names is not None:
        summary = f"{summary} · {team_names.get(entry.owner, entry.owner)}"
    event = Event()
    event.add("uid", entry.uid)
    event.add("dtstamp", stamp)
    event.add("last-modified", stamp)
    event.add("sequence", sequence_of(stamp))
    event.add("dtstart", entry.day)
    event.add("dtend", entry.day + timedelta(days=1))
    if entry.yearly:
        event.add("rrule", _rrule(entry.day))
    event.add("summary", summary)
    if entry.details:
        event.add("description", "\n".join(entry.details))
    if entry.location:
        event.add("location", entry.location)
    if entry.categories:
        event.add("categories", list(entry.categories))
    event.add("transp", "TRANSPARENT")  # a reminder: it does not make the rep busy
    return event


def build_calendar(entries: Iterable[CalendarEntry], *, name: str, now: datetime,
                   team_names: Mapping[str, str] | None = None) -> bytes:
    """The iCalendar bytes (UTF-8, CRLF, folded at 75 octets). ``now`` (the export's time)
    is used only for an event whose records say nothing later about when they changed;
    ``team_names`` (rep id -> name) adds the owner to each summary, for a team calendar."""
    from icalendar import Calendar

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("name", name)
    calendar.add("x-wr-caldesc", f"{name}: follow-ups, revisits, tasks, birthdays and expected closes")
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    for entry in entries:
        calendar.add_component(_event(entry, now, team_names))
    return calendar.to_ical()


def calendar_name(config: Config, owner: str | None) -> str:
    if owner is None:
        return "Dealdeck: team"
    names = {rep.id: rep.name for rep in config.reps}
    return f"Dealdeck: {names.get(owner, owner)}"


def sources_of(store: Store) -> Sources:
    from store.models import Contact, Customer, Lead, Opportunity, Task

    return Sources(*(list(store.rows(cls)) for cls in (Lead, Customer, Contact, Task, Opportunity)))


def export_calendar(store: Store, *, owner: str | None, now: datetime) -> CalendarFile:
    """``owner``'s calendar (None: the team's) from the store's records, as of ``now``."""
    entries = calendar_entries(sources_of(store), store.config, owner=owner)
    team = None if owner is not None else {rep.id: rep.name for rep in store.config.reps}
    ics = build_calendar(entries, name=calendar_name(store.config, owner), now=now, team_names=team)
    return CalendarFile(ics, len(entries))
