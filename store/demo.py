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
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from store.config import Config, Rep, save_config_values
from store.database import Store
from store.demo_care import CareDrafts
from store.demo_data import (
    CHINA_REGIONS,
    DISQUALIFY_REASONS,
    EXTRA_CONTACTS,
    FOLLOW_UPS,
    LEAD_ACTIVITY_KINDS,
    LEAD_NOTES,
    LEAD_STATUSES,
    REGIONS,
    REVISIT_KINDS,
    SOURCE_WEIGHTS,
    STATUSES,
    TAG_COUNTS,
    TAGS,
    TEAM,
    Culture,
    Weights,
)
from store.demo_deals import DealDrafts
from store.demo_drafts import DemoSummary, _Built, _CustomerDraft, _LeadDraft
from store.demo_people import Company, Draw, People, Person
from store.errors import StoreError
from store.folder_check import inspect_folder
from store.gc_pause import collector_paused
from store.leads import due_for_pool, score_lead
from store.models import (
    Activity,
    Contact,
    Customer,
    Lead,
    LeadEvent,
    Opportunity,
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


# --- the summary and the entry point -------------------------------------------------------


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


class _DemoBuilder(DealDrafts, CareDrafts):
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
