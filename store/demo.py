"""Demo data: a realistic, reproducible team history for an empty data folder.

``generate_demo`` writes a team of reps into ``config.yaml``, then leads,
customers, contacts, opportunities, activities, tasks, service tickets and
surveys spread over the last weeks. Everything random comes from one
``random.Random(seed)`` and every date from ``today``, so the same seed and
``today`` give the same records; only their ids are drawn afresh for every
folder (two teammates' demo folders must not share ids, or merging them would
mix unrelated records).

Records are assembled with ``model_construct`` and validated once, by the
``Store`` on insert, like any other write (validating them twice would double
the cost of a 50k-lead run). They all go in as one transaction, committed to the
journal like any other (in parts, the last one committing the lot) and then folded
into the table files.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, TypeVar

from store.config import Config, Rep, save_config_values
from store.database import Store
from store.demo_data import (
    CHINA_REGIONS,
    CLOSE_DATE_MOVES,
    CSAT_SCORES,
    DEAL_ACTIVITY_KINDS,
    DEAL_TYPES,
    DISCOUNTS,
    DISQUALIFY_REASONS,
    EXTRA_CONTACTS,
    FOLLOW_UPS,
    LEAD_ACTIVITY_KINDS,
    LEAD_NOTES,
    LEAD_STATUSES,
    LIFECYCLES,
    NEXT_STEPS,
    NPS_SCORES,
    PRODUCTS,
    REGIONS,
    REPEAT_DEALS,
    REVISIT_DAYS,
    REVISIT_KINDS,
    SEVERITIES,
    SOURCE_WEIGHTS,
    STATUSES,
    SUBJECTS,
    SURVEY_COMMENTS,
    TAG_COUNTS,
    TAGS,
    TEAM,
    TICKET_STATUSES,
    TICKET_TITLES,
    TODOS,
    UNHAPPY_SEVERITIES,
    Culture,
    DealType,
    Weights,
)
from store.demo_people import Company, Draw, People, Person
from store.errors import StoreError
from store.folder_check import inspect_folder
from store.gc_pause import collector_paused
from store.leads import due_for_pool, score_lead
from store.models import (
    Activity,
    Contact,
    Customer,
    FieldChange,
    Lead,
    LeadEvent,
    Opportunity,
    Quote,
    QuoteLine,
    Record,
    StageChange,
    Survey,
    Task,
    Ticket,
)
from store.records import is_live

T = TypeVar("T")

#: converted leads (one opportunity each) are capped so that huge runs stay a plausible pipeline
MAX_CONVERTED = 12_000
#: near-duplicate leads (same email or phone under another rep), at most
MAX_DUPLICATES = 10
#: the chance that an open lead gone quiet stays so: its rep let it go, and it is (or goes)
#: back to the lead pool. A few percent of all leads end there, as in a real team
NEGLECTED = 0.12
#: a lead counts as being worked while in one of these
OPEN_LEAD_STATUSES = ("new", "contacted", "qualified")
CENT = Decimal("0.01")


# --- the summary and the entry point -------------------------------------------------------


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


def generate_demo(folder: Path, *, reps: int = 5, leads: int = 400, seed: int = 7, weeks: int = 12,
                  today: date | None = None, id_seed: int | None = None) -> DemoSummary:
    """Fill an empty data folder with a reproducible team history (see the module docstring).
    ``id_seed`` fixes the ids too (for a byte-for-byte comparison); by default they differ
    from folder to folder."""
    if reps < 1 or weeks < 1 or leads < 0:
        raise StoreError("demo needs at least 1 rep, 1 week and 0 or more leads")
    folder = Path(folder)
    refuse_if_holds_records(folder)
    rng = random.Random(seed)
    team = demo_team(rng, reps)
    save_team(folder, team)
    with Store(folder, lean=False) as store, collector_paused():
        ids = random.Random(id_seed) if id_seed is not None else None
        builder = _DemoBuilder(rng, store.config, today or datetime.now(UTC).date(), weeks, ids)
        built = builder.build(leads)
        built.leads = _pool_overdue_leads(built.leads, store.config, builder)
        with store.writing(rules=False) as writer:  # history, made whole: no rule fires on it
            # Checked again under the lock: another process may have written since.
            _refuse_held(folder, _live_counts(store.storage.tables))
            for record in built.all():
                writer.insert(record)
        store.storage.compact()  # folded now, so the app's first open replays no journal
    save_team(folder, with_stretch_targets(team, built.opportunities, store.config, weeks, rng))
    return built.summary(folder, reps)


def with_stretch_targets(team: list[dict[str, Any]], deals: list[Opportunity], config: Config, weeks: int,
                         rng: random.Random) -> list[dict[str, Any]]:
    """Monthly targets a little above what each rep won a month on average, so that the
    forecast's gap and coverage mean something whatever the demo's size."""
    won: dict[str, Decimal] = {}
    for deal in deals:
        if deal.stage == config.won_stage.key:
            won[deal.owner] = won.get(deal.owner, Decimal(0)) + deal.amount
    months = Decimal(weeks) / Decimal("4.345")
    stretched = []
    for rep in team:
        if rep["id"] not in won:  # nothing won yet: keep the target the team was made with
            stretched.append(rep)
            continue
        monthly = won[rep["id"]] / months * Decimal(rng.choice((110, 120, 130, 140))) / 100
        stretched.append({**rep, "monthly_target": (int(monthly) // 5000 + 1) * 5000})
    return stretched


def _pool_overdue_leads(leads: list[Lead], config: Config, builder: _DemoBuilder) -> list[Lead]:
    """Apply the lead-pool rule as of ``today``, as the app would have done day by day,
    so that the first start does not send a hundred demo leads to the pool at once."""
    days = config.lead_pool.return_after_days
    docs = [lead.model_dump(mode="json") for lead in leads]
    draw = builder.draw
    due = set(due_for_pool(docs, draw.today, days))
    at = draw.horizon - timedelta(minutes=1)
    pooled = []
    for lead in leads:
        if lead.id in due:
            event = LeadEvent(id=draw.uid(), at=at, kind="returned_to_pool", by=lead.owner,
                              note=f"not followed up for {days} days")
            lead = lead.model_copy(update={"in_pool": True, "history": [*lead.history, event]})
        pooled.append(lead)
    return pooled


# --- the folder and the team ---------------------------------------------------------------------


def live_record_counts(folder: Path) -> dict[str, int]:
    """Live records per table, read without a lock and without writing anything (the
    journal's committed transactions included, as ``check`` reads them)."""
    try:
        tables, problems = inspect_folder(folder)
    except OSError as exc:
        raise StoreError(f"cannot read {folder}: {exc.strerror}") from None
    if problems:
        raise StoreError(f"cannot read {problems[0]}")
    return _live_counts(tables)


def _live_counts(tables: Mapping[str, Mapping[str, dict[str, Any]]]) -> dict[str, int]:
    return {table: sum(1 for doc in docs.values() if is_live(doc)) for table, docs in tables.items()}


def refuse_if_holds_records(folder: Path) -> None:
    """Demo data never mixes into real data: refuse a folder that holds any record."""
    if folder.exists() and not folder.is_dir():
        raise StoreError(f"{folder} is a file, not a data folder")
    if not folder.is_dir():
        return
    try:
        counts = live_record_counts(folder)
    except ValueError as exc:
        raise StoreError(f"{folder} holds a damaged file ({exc}); demo data goes only into an "
                         "empty data folder") from None
    _refuse_held(folder, counts)


def _refuse_held(folder: Path, counts: Mapping[str, int]) -> None:
    held = {table: n for table, n in counts.items() if n}
    if held:
        listed = ", ".join(f"{n} {table}" for table, n in held.items())
        raise StoreError(f"{folder} already holds records ({listed}); demo data goes only into an "
                         "empty data folder (choose another with --data)")


def demo_team(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """``count`` reps as config entries: English and Chinese names, regions, monthly targets."""
    team = []
    for index in range(count):
        if index < len(TEAM):
            rep_id, name, region = TEAM[index]
        else:
            rep_id, name, region = f"rep{index + 1}", f"Rep {index + 1}", REGIONS[index % len(REGIONS)]
        team.append({"id": rep_id, "name": name, "region": region,
                     "monthly_target": rng.randrange(40_000, 120_001, 5_000)})
    return team


def save_team(folder: Path, team: list[dict[str, Any]]) -> None:
    """Put ``reps`` and ``me`` (the first rep) into ``config.yaml`` in one write:
    one at a time would leave ``me`` outside the team in between."""
    save_config_values(folder, {"reps": team, "me": team[0]["id"]})


# --- what gets built --------------------------------------------------------------------------------


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
class _Offer:
    """What a deal sells: its quote lines, and the amount estimated before any quote."""

    lines: tuple[QuoteLine, ...]
    estimate: Decimal


class _DemoBuilder:
    """Builds every demo record in memory, in a fixed order of random draws."""

    def __init__(self, rng: random.Random, config: Config, today: date, weeks: int,
                 ids: random.Random | None = None) -> None:
        self.draw = Draw(rng, today, weeks, ids)
        self.people = People(self.draw)
        self.config = config
        self.reps: list[Rep] = config.reps
        self.regions = {rep.id: rep.region for rep in config.reps}
        self.manager = config.me
        self.won, self.lost = config.won_stage.key, config.lost_stage.key
        self.open_keys = [stage.key for stage in config.open_stages]
        keys = self.open_keys
        self.quote_index = keys.index("quote") if "quote" in keys else len(keys) // 2
        self.sources = Weights([(s, SOURCE_WEIGHTS.get(s, 5)) for s in config.lead_sources])
        self.targets = {repeat: self._target_weights(repeat) for repeat in (False, True)}
        self.leads: list[_LeadDraft] = []
        self.customers: dict[str, _CustomerDraft] = {}  # by company name
        self.opportunities: list[Opportunity] = []
        self.activities: list[Activity] = []
        self.tasks: list[Task] = []
        self.tickets: list[Ticket] = []
        self.surveys: list[Survey] = []
        self.converted_count = 0
        self.birthdays_this_week = 0

    def _target_weights(self, repeat: bool) -> Weights[str]:
        """Where deals end up: a deal of a returning customer wins more often."""
        open_weights = [(key, 8 if repeat else max(6, 16 - 2 * i)) for i, key in enumerate(self.open_keys)]
        return Weights([*open_weights, (self.won, 45 if repeat else 26), (self.lost, 10 if repeat else 16)])

    # -- order of work ----------------------------------------------------------------------------------
    def build(self, lead_count: int) -> _Built:
        duplicates = min(MAX_DUPLICATES, lead_count // 30)
        pools = self.people.company_pools(lead_count)
        for index in range(lead_count - duplicates):
            self._add_lead(pools, index)
        self._add_near_duplicates(duplicates)
        for index, draft in enumerate(d for d in self.leads if d.status == "converted"):
            self._convert(draft, index)
        self._add_repeat_deals()
        for customer in self.customers.values():
            self._settle_lifecycle(customer)
            self._add_customer_care(customer)
        self._add_tasks()
        return self._finish()

    def _finish(self) -> _Built:
        lead_contact, customer_contact, customer_visit = self._last_contacts()
        leads = [self._lead(d, lead_contact.get(d.id)) for d in self.leads]
        customers = [self._customer(c, customer_contact.get(c.id), customer_visit.get(c.id))
                     for c in self.customers.values()]
        contacts = [contact for c in self.customers.values() for contact in c.contacts]
        return _Built(leads, customers, contacts, self.opportunities, self.activities, self.tasks,
                      self.tickets, self.surveys)

    # -- leads -------------------------------------------------------------------------------------------
    def _owner_and_culture(self) -> tuple[str, Culture]:
        """A rep, and mostly a lead from the rep's own part of the world."""
        rep = self.draw.pick(self.reps)
        home: Culture = "cn" if rep.region in CHINA_REGIONS else "en"
        return rep.id, home if self.draw.chance(0.85) else ("en" if home == "cn" else "cn")

    def _status(self, index: int) -> str:
        if index < len(LEAD_STATUSES):  # every status shows up, even in a tiny run
            return LEAD_STATUSES[index]
        status = self.draw.weighted(STATUSES)
        return "qualified" if status == "converted" and self.converted_count >= MAX_CONVERTED else status

    def _add_lead(self, pools: dict[Culture, list[Company]], index: int) -> None:
        status = self._status(index)
        owner, culture = self._owner_and_culture()
        company = self.draw.pick(pools[culture])
        has_email = self.draw.chance(0.9)
        person = self.people.person(company, email=has_email, phone=not has_email or self.draw.chance(0.85))
        draft = self._lead_draft(status, owner, company, person)
        self.converted_count += status == "converted"
        self.leads.append(draft)
        self._lead_activities(draft)

    def _lead_times(self, status: str) -> tuple[datetime, datetime | None, datetime | None]:
        """(created, first contacted, converted or disqualified): new leads are recent."""
        draw, latest = self.draw, self.draw.horizon - timedelta(hours=2)
        if status == "new":  # recent enough that the pool rule has not taken it yet
            fresh = min(21, max(1, self.config.lead_pool.return_after_days - 1))
            return draw.moment(max(draw.start, latest - timedelta(days=fresh)), latest), None, None
        if status == "converted":  # early in the weeks, so that their deals had time to move on
            created = draw.start + (latest - timedelta(days=3) - draw.start) * draw.rng.random() ** 1.5
            created = created.replace(second=0, microsecond=0)
        else:
            created = draw.moment(draw.start, latest - timedelta(days=1))
        contacted = draw.within(created, 3)
        if status in ("contacted", "qualified"):
            return created, contacted, None
        closing = contacted + timedelta(minutes=30)
        days = 14 if status == "converted" else 20
        return created, contacted, draw.moment(closing, min(closing + timedelta(days=days), latest))

    def _lead_draft(self, status: str, owner: str, company: Company, person: Person) -> _LeadDraft:
        draw = self.draw
        created, contacted, closed = self._lead_times(status)
        fields: dict[str, Any] = {
            "id": draw.uid(), "owner": owner, "name": person.name, "company": company.name,
            "title": person.title, "phone": person.phone, "email": person.email,
            "source": draw.weighted(self.sources), "region": self.regions[owner] or draw.pick(REGIONS),
            "status": status, "created_at": created,
            "tags": draw.rng.sample(TAGS, draw.weighted(TAG_COUNTS)),
            "notes": draw.pick(LEAD_NOTES[company.culture]) if draw.chance(0.3) else "",
        }
        fields["score"] = self._score(fields)
        fields["grade"] = self.config.grade_for(fields["score"])
        draft = _LeadDraft(fields, company, person, created, contacted, closed)
        self._lead_history(draft)
        if status in ("new", "contacted", "qualified"):
            days = draw.weighted(FOLLOW_UPS)
            draft.fields["next_follow_up"] = draw.day(*days) if days else None
        return draft

    def _score(self, fields: dict[str, Any]) -> int:
        """The store's score for what is known, moved by chance; the grade follows from it."""
        bonus = {"converted": 20, "disqualified": -15}.get(fields["status"], 0)
        return max(0, min(100, score_lead(fields) + bonus + self.draw.rng.randint(-45, 5)))

    def _lead_history(self, draft: _LeadDraft) -> None:
        draw, owner, status = self.draw, draft.owner, draft.status
        events = [self._event(draft.created, "created", owner),
                  self._event(draft.created + timedelta(minutes=1), "assigned", self.manager, to=owner)]
        if draft.contacted:
            events.append(self._event(draft.contacted, "status", owner, to="contacted"))
        if status in ("qualified", "converted"):
            qualified = draw.moment(draft.contacted or draft.created, draft.closed)
            events.append(self._event(qualified, "status", owner, to="qualified"))
        if status == "disqualified" and draft.closed:
            reason = draw.pick(DISQUALIFY_REASONS[draft.company.culture])
            draft.fields["disqualified_reason"] = reason
            events.append(self._event(draft.closed, "disqualified", owner, note=reason))
        draft.history = events

    def _event(self, at: datetime, kind: str, by: str, *, to: str = "", note: str = "") -> LeadEvent:
        return LeadEvent.model_construct(id=self.draw.uid(), at=at, kind=kind, by=by, to=to, note=note)

    def _lead_activities(self, draft: _LeadDraft) -> None:
        if draft.contacted is None:
            return
        end = draft.closed or self.draw.horizon
        extra = self.draw.rng.randint(0, 1 if draft.status == "contacted" else 2)
        times = [draft.contacted, *self.draw.moments(draft.contacted, end, extra)]
        quiet_since = self.draw.horizon - timedelta(days=self.config.lead_pool.return_after_days - 1)
        if draft.status in OPEN_LEAD_STATUSES and times[-1] < quiet_since and not self.draw.chance(NEGLECTED):
            times.append(self.draw.moment(max(times[-1], quiet_since)))  # worked: followed up lately
        for at in times:
            kind = self.draw.weighted(LEAD_ACTIVITY_KINDS)
            self._activity(kind, at, draft.owner, draft.company.culture, lead_id=draft.id)
        self._maybe_return_to_pool(draft, times[-1])

    def _maybe_return_to_pool(self, draft: _LeadDraft, last_touch: datetime) -> None:
        days = self.config.lead_pool.return_after_days
        returned = last_touch + timedelta(days=days)
        if draft.status in ("new", "contacted") and returned < self.draw.horizon:
            draft.fields["in_pool"] = True
            draft.history.append(self._event(returned, "returned_to_pool", self.manager,
                                             note=f"no follow-up for {days} days"))

    def _add_near_duplicates(self, count: int) -> None:
        """Leads that share an email or phone with an earlier lead, under another rep."""
        for _ in range(count):
            original = self.draw.pick(self.leads)
            others = [r.id for r in self.reps if r.id != original.owner] or [original.owner]
            person = original.person
            if original.company.culture == "en" and self.draw.chance(0.5):
                first, _, last = person.name.partition(" ")
                person = Person(f"{first[0]}. {last}", person.email, person.phone, person.title)
            same_email = person.email is not None and (person.phone is None or self.draw.chance(0.5))
            twin = Person(person.name, person.email if same_email else None,
                           None if same_email else person.phone, person.title)
            status = self.draw.pick(("new", "contacted"))
            draft = self._lead_draft(status, self.draw.pick(others), original.company, twin)
            self.leads.append(draft)
            self._lead_activities(draft)

    # -- conversion: customer, contact, opportunity -------------------------------------------------------
    def _convert(self, draft: _LeadDraft, index: int) -> None:
        at = draft.closed or draft.created
        customer = self.customers.get(draft.company.name) or self._new_customer(draft, at)
        contact = self._contact(customer, draft.person, at, primary=not customer.contacts)
        keys = self.config.stage_keys  # the first conversions cover every stage, even in a small demo
        target = keys[index] if index < len(keys) else None
        deal = self._opportunity(customer, contact, at, draft.owner, lead_id=draft.id, target=target)
        draft.fields.update(customer_id=customer.id, contact_id=contact.id, opportunity_id=deal.id,
                            next_follow_up=None)
        draft.history.append(self._event(at, "converted", draft.owner, to=deal.id))

    def _new_customer(self, draft: _LeadDraft, at: datetime) -> _CustomerDraft:
        company, draw = draft.company, self.draw
        fields: dict[str, Any] = {
            "id": draw.uid(), "owner": draft.owner, "name": company.name, "industry": company.industry,
            "segment": company.segment, "region": draft.fields["region"], "phone": draft.person.phone,
            "email": draft.person.email, "website": f"https://www.{company.domain}",
            "address": self.people.address(company), "tags": draft.fields["tags"], "lead_id": draft.id,
            "created_at": at,
        }
        customer = _CustomerDraft(fields, company, at)
        self.customers[company.name] = customer
        for _ in range(draw.weighted(EXTRA_CONTACTS)):
            self._contact(customer, self.people.person(company), at, primary=False)
        return customer

    def _contact(self, customer: _CustomerDraft, person: Person, at: datetime, *, primary: bool) -> Contact:
        contact = Contact.model_construct(
            id=self.draw.uid(), owner=customer.owner, created_at=at, updated_at=at, customer_id=customer.id,
            name=person.name, role=person.title, phone=person.phone, email=person.email,
            birthday=self._birthday(), primary=primary)
        customer.contacts.append(contact)
        return contact

    def _birthday(self) -> date | None:
        """Four in ten contacts have a birthday on file; a few fall in the coming week."""
        draw = self.draw
        year = draw.rng.randint(1962, 1998)
        if self.birthdays_this_week < 2 or draw.chance(0.01):
            self.birthdays_this_week += 1
            soon = draw.day(0, 6)
            return date(1988 if (soon.month, soon.day) == (2, 29) else year, soon.month, soon.day)
        if draw.chance(0.4):
            return date(year, 1, 1) + timedelta(days=draw.rng.randrange(365))
        return None

    # -- opportunities -----------------------------------------------------------------------------------
    def _stage_sequence(self, target: str, allowed: int, forced: bool) -> list[str]:
        """Stages a deal went through to reach ``target``; at most ``allowed`` of them."""
        if target == self.won:
            path, tail = self._with_skips(self.open_keys), [self.won]
        elif target == self.lost:
            reached = self.draw.rng.randrange(len(self.open_keys)) + 1
            path, tail = self._with_skips(self.open_keys[:reached]), [self.lost]
        else:
            path, tail = self._with_skips(self.open_keys[: self.open_keys.index(target) + 1]), []
        sequence = (path if forced else self._maybe_backwards(path, closing=bool(tail))) + tail
        limit = max(allowed, 2) if forced else allowed
        if len(sequence) <= limit:
            return sequence
        if limit < 2 or sequence[0] == sequence[-1]:
            return sequence[:1]
        return [sequence[0], sequence[-1]]

    def _with_skips(self, keys: list[str]) -> list[str]:
        inner = [key for key in keys[1:-1] if not self.draw.chance(0.12)]
        return keys[:1] + inner + keys[-1:] if len(keys) > 1 else list(keys)

    def _maybe_backwards(self, path: list[str], *, closing: bool) -> list[str]:
        """Now and then a deal moves a stage back (and, unless it ends there, on again)."""
        if len(path) < 2 or not self.draw.chance(0.07):
            return path
        i = self.draw.rng.randrange(1, len(path))
        if i == len(path) - 1 and not closing:
            return [*path, path[i - 1]]
        return [*path[: i + 1], path[i - 1], path[i], *path[i + 1:]]

    def _stage_history(self, created: datetime, owner: str, target: str | None,
                       repeat: bool) -> tuple[list[StageChange], bool]:
        """Backdated stage changes, and whether the deal went quiet (stale) after the last one."""
        draw = self.draw
        elapsed = draw.horizon - created
        sequence = self._stage_sequence(target or draw.weighted(self.targets[repeat]),
                                        1 + elapsed.days // 3, forced=target is not None)
        still_open = sequence[-1] in self.open_keys
        stale = still_open and elapsed.days > 21 and draw.chance(0.15)
        share = draw.rng.uniform(0.1, 0.35) if stale else draw.rng.uniform(0.3 if still_open else 0.15, 1.0)
        end = min(created + elapsed * share, draw.horizon)
        times = [created, *draw.moments(created, end, len(sequence) - 1)]
        history = [StageChange.model_construct(id=draw.uid(), stage=stage, at=at, by=owner)
                   for stage, at in zip(sequence, times, strict=True)]
        return history, stale

    def _opportunity(self, customer: _CustomerDraft, contact: Contact, created: datetime, owner: str, *,
                     lead_id: str | None = None, target: str | None = None,
                     repeat: bool = False) -> Opportunity:
        history, stale = self._stage_history(created, owner, target, repeat)
        deal_type = self.draw.pick(DEAL_TYPES)
        offer = self._offer(customer.company, deal_type[2])
        quotes = self._quotes(history, offer, owner, customer.company.culture)
        title = self._deal_title(customer.company, deal_type, repeat)
        deal = self._deal_record(customer, contact, owner, lead_id, title, history, quotes, offer)
        self.opportunities.append(deal)
        customer.deals.append(deal)
        self._deal_activities(deal, customer.company.culture, stale)
        return deal

    def _deal_title(self, company: Company, deal_type: DealType, repeat: bool) -> str:
        cn = company.culture == "cn"
        title = deal_type[1] if cn else deal_type[0]
        if repeat:
            again = self.draw.pick(REPEAT_DEALS)
            title = f"{title}（{again[1]}）" if cn else f"{title} ({again[0]})"
        return f"{company.name}: {title}"

    def _deal_record(self, customer: _CustomerDraft, contact: Contact, owner: str, lead_id: str | None,
                     title: str, history: list[StageChange], quotes: list[Quote],
                     offer: _Offer) -> Opportunity:
        draw, culture = self.draw, customer.company.culture
        stage, closed = history[-1].stage, history[-1].at
        closes = stage in (self.won, self.lost)
        amount, changes = self._amount_changes(history, quotes, offer, owner)
        expected, close_changes = self._expected_close(history, closes, owner)
        changes = sorted(changes + close_changes, key=lambda c: c.at)
        stamps = [c.at for c in history] + [q.at for q in quotes] + [c.at for c in changes]
        return Opportunity.model_construct(
            id=draw.uid(), owner=owner, created_at=history[0].at, updated_at=max(stamps), title=title,
            customer_id=customer.id, contact_id=contact.id, lead_id=lead_id, amount=amount,
            currency=self.config.currency, stage=stage, expected_close=expected,
            next_step="" if closes or draw.chance(0.15) else draw.pick(NEXT_STEPS[culture]),
            lost_reason=draw.pick(self.config.lost_reasons) if stage == self.lost else "",
            forecast_category=None, closed_at=closed if closes else None, notes="",
            stage_history=history, quotes=quotes, changes=changes)

    def _offer(self, company: Company, product_indexes: tuple[int, ...]) -> _Offer:
        draw = self.draw
        lines = []
        for index in product_indexes[: draw.rng.randint(1, len(product_indexes))]:
            name_en, name_cn, low, high, per_seat = PRODUCTS[index]
            quantity = draw.rng.randint(5, 60) if per_seat else draw.rng.randint(1, 8)
            lines.append(QuoteLine.model_construct(
                product=name_cn if company.culture == "cn" else name_en,
                quantity=Decimal(quantity * company.size),
                unit_price=Decimal(draw.rng.randrange(low, high + 1, 10)),
                discount_pct=Decimal(draw.pick(DISCOUNTS))))
        total = sum((line.total for line in lines), Decimal(0))
        estimate = Decimal(round(float(total) * draw.rng.uniform(0.8, 1.25), -2)).quantize(CENT)
        return _Offer(tuple(lines), max(estimate, Decimal(500)))

    def _quote_sent_at(self, history: list[StageChange]) -> datetime | None:
        """When the deal first reached the quote stage or a later one (a win counts)."""
        for change in history:
            if change.stage == self.won:
                return change.at
            if change.stage in self.open_keys and self.open_keys.index(change.stage) >= self.quote_index:
                return change.at
        return None

    def _quotes(self, history: list[StageChange], offer: _Offer, owner: str, culture: Culture) -> list[Quote]:
        """Version 1 when the deal reached the quote stage; now and then a revised version 2."""
        sent = self._quote_sent_at(history)
        if sent is None:
            return []
        draw, currency = self.draw, self.config.currency
        quotes = [Quote.model_construct(id=draw.uid(), version=1, at=sent, by=owner, currency=currency,
                                        lines=list(offer.lines), note="")]
        end = history[-1].at if history[-1].at > sent else draw.horizon
        if draw.chance(0.18) and end - sent > timedelta(hours=2):
            revised = [line.model_copy(update={"discount_pct": min(line.discount_pct + 5, Decimal(30))})
                       for line in offer.lines]
            note = "修订：批量折扣" if culture == "cn" else "Revised: volume discount"
            quotes.append(Quote.model_construct(id=draw.uid(), version=2,
                                                at=draw.moment(sent + timedelta(hours=1), end), by=owner,
                                                currency=currency, lines=revised, note=note))
        return quotes

    def _amount_changes(self, history: list[StageChange], quotes: list[Quote], offer: _Offer,
                        owner: str) -> tuple[Decimal, list[FieldChange]]:
        """The amount and its changes: the estimate becomes the quoted total, a revision changes
        it again; now and then an early estimate is raised before any quote."""
        changes: list[FieldChange] = []
        amount = offer.estimate
        if not quotes and len(history) > 1 and self.draw.chance(0.1):
            first_guess = (offer.estimate * Decimal("0.8")).quantize(CENT)
            changes.append(self._change("amount", history[-1].at, owner, first_guess, amount))
        for quote in quotes:
            if quote.total != amount:
                changes.append(self._change("amount", quote.at, owner, amount, quote.total))
                amount = quote.total
        return amount, changes

    def _change(self, name: str, at: datetime, by: str, old: object, new: object) -> FieldChange:
        return FieldChange.model_construct(id=self.draw.uid(), field=name, at=at, by=by,
                                           old=str(old), new=str(new))

    def _expected_close(self, history: list[StageChange], closes: bool,
                        owner: str) -> tuple[date, list[FieldChange]]:
        """The expected close date and its recorded moves: open deals slip, some past due."""
        draw = self.draw
        if closes:
            expected = history[-1].at.date() + timedelta(days=draw.rng.randint(-10, 20))
            moves = 1 if draw.chance(0.1) else 0
            return expected, self._close_moves(expected, moves, history[0].at, history[-1].at, owner)
        expected = draw.day(-25, -1) if draw.chance(0.15) else draw.day(3, 80)
        moves = draw.weighted(CLOSE_DATE_MOVES)
        return expected, self._close_moves(expected, moves, history[0].at, draw.horizon, owner)

    def _close_moves(self, current: date, count: int, lo: datetime, hi: datetime,
                     owner: str) -> list[FieldChange]:
        """``count`` moves of the expected close date, each later than the one before; half
        of the time within the last week, for the weekly review's slipped deals."""
        if count == 0:
            return []
        draw = self.draw
        recent = max(lo, hi - timedelta(days=7))
        times = draw.moments(recent if draw.chance(0.5) else lo, hi - timedelta(minutes=1), count)
        values = [current]
        for _ in range(count):
            values.insert(0, values[0] - timedelta(days=draw.rng.randint(7, 30)))
        return [self._change("expected_close", at, owner, old, new)
                for at, old, new in zip(times, values, values[1:], strict=False)]

    def _deal_activities(self, deal: Opportunity, culture: Culture, stale: bool) -> None:
        """An activity for each stage change and quote, a few more, and for a live deal
        often one in the last ten days; a stale deal has none after its last change."""
        draw = self.draw
        links = {"opportunity_id": deal.id, "customer_id": deal.customer_id, "contact_id": deal.contact_id}
        for change in deal.stage_history:
            kind = "call" if change.stage == self.open_keys[0] else draw.pick(REVISIT_KINDS)
            self._activity(kind, draw.within(change.at, 0.1), deal.owner, culture, **links)
        for quote in deal.quotes:
            body = f"v{quote.version}: {quote.total:,.2f} {quote.currency}"
            self._activity("quote_sent", quote.at, deal.owner, culture, body=body, **links)
        last = deal.stage_history[-1].at
        end = min(last + timedelta(days=1), draw.horizon) if stale or deal.closed_at else draw.horizon
        for at in draw.moments(deal.created_at, end, draw.rng.randint(0, 2)):
            self._activity(draw.weighted(DEAL_ACTIVITY_KINDS), at, deal.owner, culture, **links)
        if not stale and deal.closed_at is None and draw.chance(0.6):
            recent = draw.moment(max(deal.created_at, draw.horizon - timedelta(days=10)))
            self._activity(draw.weighted(DEAL_ACTIVITY_KINDS), recent, deal.owner, culture, **links)

    def _activity(self, kind: str, at: datetime, owner: str, culture: Culture, *, body: str = "",
                  **links: str | None) -> None:
        self.activities.append(Activity.model_construct(
            id=self.draw.uid(), owner=owner, created_at=at, updated_at=at, kind=kind, at=at,
            subject=self.draw.pick(SUBJECTS[(culture, kind)]), body=body, **links))

    def _add_repeat_deals(self) -> None:
        """Customers who come back after a first win: a follow-on deal (the first one wins)."""
        forced_win: str | None = self.won
        for customer in list(self.customers.values()):
            wins = [d.closed_at for d in customer.deals if d.stage == self.won and d.closed_at]
            if not wins or min(wins) > self.draw.horizon - timedelta(days=10) or not self.draw.chance(0.25):
                continue
            created = self.draw.moment(min(wins) + timedelta(days=3), self.draw.horizon - timedelta(days=1))
            contact = self.draw.pick(customer.contacts)
            self._opportunity(customer, contact, created, customer.owner, repeat=True, target=forced_win)
            forced_win = None

    # -- after the sale -------------------------------------------------------------------------------------
    def _settle_lifecycle(self, customer: _CustomerDraft) -> None:
        """A win makes a customer active with a maintenance plan; some are at risk, a few churned."""
        wins = [d.closed_at for d in customer.deals if d.stage == self.won and d.closed_at]
        if not wins:
            return
        since = min(wins).date()
        days_active = (self.draw.today - since).days
        lifecycle = self.draw.weighted(LIFECYCLES)
        if lifecycle == "churned" and days_active < 14:
            lifecycle = "at_risk"
        customer.lifecycle, customer.active_since = lifecycle, since
        if lifecycle == "churned":
            customer.churned_at = since + timedelta(days=self.draw.rng.randint(7, days_active - 1))
        else:
            customer.revisit_days = self.draw.pick(REVISIT_DAYS)

    def _add_customer_care(self, customer: _CustomerDraft) -> None:
        since = customer.active_since
        if since is None:
            return
        self._care_activities(customer, since)
        for _ in range(self._ticket_count(customer.lifecycle)):
            self._ticket(customer, since)
        if self.draw.chance(0.4):
            self._survey(customer, "nps", self.draw.moment(self.draw.at_day(since)))
        if self.draw.chance(0.35):  # how the rollout went
            self._survey(customer, "csat", self.draw.within(self.draw.at_day(since, 10), 14))

    def _care_activities(self, customer: _CustomerDraft, since: date) -> None:
        """Visits and calls after the sale, about one per revisit period; fewer when at risk,
        and for some customers with no deal in progress the last revisit is overdue."""
        draw, revisit = self.draw, customer.revisit_days
        lo = draw.at_day(since)
        hi = draw.at_day(customer.churned_at, 0) if customer.churned_at else draw.horizon
        if customer.lifecycle == "at_risk":
            hi = lo + (hi - lo) * 0.4
        elif revisit and all(d.closed_at for d in customer.deals) and draw.chance(0.5):
            hi = draw.horizon - timedelta(days=revisit + draw.rng.randint(1, 10))
        if hi <= lo:
            return
        count = max(0, (hi - lo).days // (revisit or 30) + draw.rng.choice((-1, 0, 0, 1)))
        contact = customer.contacts[0]
        for at in draw.moments(lo, hi, count):
            self._activity(draw.pick(REVISIT_KINDS), at, customer.owner, customer.company.culture,
                           customer_id=customer.id, contact_id=contact.id)

    def _ticket_count(self, lifecycle: str) -> int:
        chance = {"active": 0.45, "at_risk": 0.85, "churned": 0.6}[lifecycle]
        return self.draw.rng.randint(1, 3) if self.draw.chance(chance) else 0

    def _ticket(self, customer: _CustomerDraft, since: date) -> None:
        draw = self.draw
        created = draw.moment(draw.at_day(since))
        severity = draw.weighted(SEVERITIES if customer.lifecycle == "active" else UNHAPPY_SEVERITIES)
        status, resolved, closed = self._ticket_progress(created)
        ticket = Ticket.model_construct(
            id=draw.uid(), owner=customer.owner, created_at=created, updated_at=closed or resolved or created,
            customer_id=customer.id, contact_id=customer.contacts[0].id,
            title=draw.pick(TICKET_TITLES[customer.company.culture]), description="", severity=severity,
            status=status, assignee=draw.pick(self.reps).id, resolved_at=resolved, closed_at=closed)
        self.tickets.append(ticket)
        if closed and draw.chance(0.6):
            self._survey(customer, "csat", draw.within(closed, 2), ticket_id=ticket.id)

    def _ticket_progress(self, created: datetime) -> tuple[str, datetime | None, datetime | None]:
        """(status, resolved at, closed at); a ticket of the last day is still being worked on."""
        draw = self.draw
        status = draw.weighted(TICKET_STATUSES)
        if status in ("open", "in_progress") or created > draw.horizon - timedelta(days=1):
            return ("open" if status == "open" else "in_progress"), None, None
        resolved = draw.within(created + timedelta(hours=2), 10)
        if status == "resolved" or resolved > draw.horizon - timedelta(hours=2):
            return "resolved", resolved, None
        return "closed", resolved, draw.within(resolved + timedelta(hours=1), 5)

    def _survey(self, customer: _CustomerDraft, kind: Literal["csat", "nps"], at: datetime,
                ticket_id: str | None = None) -> None:
        """A satisfaction answer; customers who are not simply active answer low."""
        draw, unhappy = self.draw, customer.lifecycle != "active"
        if kind == "csat":
            score = draw.rng.randint(1, 2) if unhappy else draw.weighted(CSAT_SCORES)
            mood = "low" if score <= 2 else "mid" if score == 3 else "high"
        else:
            score = draw.rng.randint(0, 6) if unhappy else draw.weighted(NPS_SCORES)
            mood = "low" if score <= 6 else "mid" if score <= 8 else "high"
        comment = draw.pick(SURVEY_COMMENTS[(customer.company.culture, mood)]) if draw.chance(0.7) else ""
        self.surveys.append(Survey.model_construct(
            id=draw.uid(), owner=customer.owner, created_at=at, updated_at=at, customer_id=customer.id,
            contact_id=customer.contacts[0].id, ticket_id=ticket_id, kind=kind, score=score,
            comment=comment, at=at))

    # -- tasks ----------------------------------------------------------------------------------------------
    def _add_tasks(self) -> None:
        """Follow-ups on open leads, to-dos on open deals, after-sales checks on open tickets."""
        for draft in self.leads:
            due = draft.fields.get("next_follow_up")
            if due is not None and self.draw.chance(0.35):
                name = draft.fields["name"]
                title = f"跟进 {name}" if draft.company.culture == "cn" else f"Follow up with {name}"
                self._task(draft.owner, "follow_up", title, due, lead_id=draft.id)
        cultures = {c.id: c.company.culture for c in self.customers.values()}
        for deal in self.opportunities:
            if deal.closed_at is None and self.draw.chance(0.5):
                title = self.draw.pick(TODOS[cultures[deal.customer_id]])
                self._task(deal.owner, "todo", title, self.draw.day(-10, 14), opportunity_id=deal.id,
                           customer_id=deal.customer_id)
        for ticket in self.tickets:
            if ticket.status in ("open", "in_progress") and self.draw.chance(0.5):
                self._task(ticket.owner, "after_sales", f"Check the fix: {ticket.title}",
                           self.draw.day(-5, 7), customer_id=ticket.customer_id, ticket_id=ticket.id)

    def _task(self, owner: str, kind: str, title: str, due: date, **links: str | None) -> None:
        """A task made up to ten days before it is due; about a third of the past-due ones are done."""
        draw = self.draw
        created = draw.moment(max(draw.start, draw.at_day(due, 0) - timedelta(days=10)))
        done = due < draw.today and draw.chance(0.35)
        done_at = draw.moment(created) if done else None
        self.tasks.append(Task.model_construct(
            id=draw.uid(), owner=owner, created_at=created, updated_at=done_at or created, title=title,
            kind=kind, due=due, done=done, done_at=done_at, notes="", **links))

    # -- contact dates and the final records -------------------------------------------------------------
    def _last_contacts(self) -> tuple[dict[str, datetime], dict[str, datetime], dict[str, datetime]]:
        """Latest activity per lead and per customer, and latest revisit per customer
        (what ``Store.log_activity`` would have kept up to date)."""
        lead_contact: dict[str, datetime] = {}
        customer_contact: dict[str, datetime] = {}
        customer_visit: dict[str, datetime] = {}
        for activity in self.activities:
            _keep_latest(lead_contact, activity.lead_id, activity.at)
            _keep_latest(customer_contact, activity.customer_id, activity.at)
            if activity.kind in REVISIT_KINDS:
                _keep_latest(customer_visit, activity.customer_id, activity.at)
        return lead_contact, customer_contact, customer_visit

    def _lead(self, draft: _LeadDraft, last_contact: datetime | None) -> Lead:
        history = sorted(draft.history, key=lambda e: e.at)
        updated = max([history[-1].at] + ([last_contact] if last_contact else []))
        return Lead.model_construct(**draft.fields, updated_at=updated,
                                    last_contacted_at=last_contact, history=history)

    def _customer(self, draft: _CustomerDraft, last_contact: datetime | None,
                  last_visit: datetime | None) -> Customer:
        next_revisit = None
        if draft.active_since is not None and draft.revisit_days is not None:
            since = draft.active_since
            visited = last_visit.date() if last_visit and last_visit.date() > since else since
            next_revisit = visited + timedelta(days=draft.revisit_days)
        times = [draft.created, *(d.closed_at for d in draft.deals if d.closed_at)]
        updated = max(times + ([last_contact] if last_contact else []))
        return Customer.model_construct(
            **draft.fields, updated_at=updated, lifecycle=draft.lifecycle, revisit_days=draft.revisit_days,
            next_revisit=next_revisit, last_contact_at=last_contact, active_since=draft.active_since,
            churned_at=draft.churned_at)


def _keep_latest(latest: dict[str, datetime], key: str | None, at: datetime) -> None:
    if key and (key not in latest or at > latest[key]):
        latest[key] = at


__all__ = ["DemoSummary", "generate_demo"]
