"""Domain records (pydantic v2).

Every record has a random 32-hex-digit ``id``, an ``owner`` rep, ``created_at`` and
``updated_at``. Values are validated here, once, for every path that writes:
forms, CSV import, the command line and sync. Stage names are checked against
the config passed as validation context: ``model_validate(data, context={"config": cfg})``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from store.custom_fields import CUSTOM_TABLES, FIELD_NAME, check_value, is_stored_shape

ID_PATTERN = r"^[0-9a-f]{32}$"
_ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")
_CONTROL_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: shapes also checked, as plain patterns, by the sync's check of a teammate's file
EMAIL_PATTERN = r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$"
EMAIL_MAX = 254
#: 6 to 16 digits among spaces and + - ( ) . /, then an optional extension
PHONE_PATTERN = r"^\+?[ ()./-]*(?:[0-9][ ()./-]*){6,16}(?:\s*(?:x|ext\.?)\s*[0-9]{1,6})?$"
_EMAIL = re.compile(EMAIL_PATTERN)
_NO_OFFSET = timedelta(0)
_PHONE = re.compile(PHONE_PATTERN, re.IGNORECASE)


#: ids made ahead, from one read of the system's randomness: a bulk import makes two a row,
#: and a read of 16 bytes costs a system call each
_spare_ids: list[str] = []
_IDS_AHEAD = 256
# A forked process (an import worker) must not hand out the ids its parent also holds.
os.register_at_fork(after_in_child=_spare_ids.clear)


def new_id() -> str:
    """32 random hex digits (a version-4 UUID's worth of randomness, at a tenth of its cost)."""
    if not _spare_ids:
        digits = os.urandom(16 * _IDS_AHEAD).hex()
        _spare_ids.extend(digits[start:start + 32] for start in range(0, len(digits), 32))
    return _spare_ids.pop()


def utc_now() -> datetime:
    return datetime.now(UTC)


def strip_controls(text: str) -> str:
    """``text`` without ANSI escapes or control characters (newlines included)."""
    if text.isprintable():  # the usual case, checked in C: nothing to strip
        return text
    return _CONTROL_LINE.sub("", _ANSI.sub("", text))


def clean_line(value: Any) -> Any:
    """Strip ANSI escapes and control characters; trim. For one-line text."""
    if isinstance(value, str):
        return strip_controls(value).strip()
    return value


def clean_text(value: Any) -> Any:
    """As ``clean_line`` but keeps newlines and tabs, for notes."""
    if not isinstance(value, str):
        return value
    if not _CONTROL_TEXT.search(value):  # the usual case: no escape, no CR, nothing to strip
        return value.strip()
    return _CONTROL_TEXT.sub("", _ANSI.sub("", value.replace("\r\n", "\n"))).strip()


def check_email(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    value = value.lower()  # first: lower-casing can lengthen it ("İ" is two characters lower-cased)
    if len(value) > EMAIL_MAX or not _EMAIL.match(value):
        raise ValueError("not a valid email address (expected name@example.com)")
    return value


def check_phone(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not _PHONE.match(value):
        raise ValueError("not a valid phone number (digits, spaces, + - ( ), 6 to 16 digits)")
    return value


def to_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    if value.utcoffset() == _NO_OFFSET:  # stored times are UTC already: skip the conversion
        return value
    return value.astimezone(UTC)


def upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


# Field(...) before the cleaning validator, so length errors read "at most 200 characters".
Line = Annotated[str, Field(max_length=200), BeforeValidator(clean_line)]
Name = Annotated[str, Field(min_length=1, max_length=200), BeforeValidator(clean_line)]
Text = Annotated[str, Field(max_length=20_000), BeforeValidator(clean_text)]
Email = Annotated[str | None, BeforeValidator(clean_line), AfterValidator(check_email)]
Phone = Annotated[str | None, BeforeValidator(clean_line), AfterValidator(check_phone)]
RecordId = Annotated[str, Field(pattern=ID_PATTERN)]
#: the record's id in the system it came from (a CRM export's id column, a vCard's UID,
#: a message's Message-ID): a second import of the same record updates it instead of copying it
ExternalId = Annotated[str, Field(max_length=400), BeforeValidator(clean_line)]
RepId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,31}$"), BeforeValidator(clean_line)]
Timestamp = Annotated[datetime, AfterValidator(to_utc)]
Money = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$"), BeforeValidator(upper)]
TAG_MAX = 40
Tag = Annotated[str, Field(min_length=1, max_length=TAG_MAX), BeforeValidator(clean_line)]
Grade = Literal["A", "B", "C", "D"]
LeadStatus = Literal["new", "contacted", "qualified", "converted", "disqualified"]
Lifecycle = Literal["prospect", "active", "at_risk", "churned"]
ActivityKind = Literal["call", "visit", "meeting", "email", "note", "quote_sent", "message"]
TaskKind = Literal["todo", "follow_up", "revisit", "birthday", "after_sales", "survey"]
Severity = Literal["low", "normal", "high", "urgent"]
TicketStatus = Literal["open", "in_progress", "resolved", "closed"]
SurveyKind = Literal["csat", "nps"]
ForecastCategory = Literal["commit", "best_case", "pipeline", "omitted"]

ACTIVITY_KINDS: tuple[str, ...] = get_args(ActivityKind)
LEAD_STATUSES: tuple[LeadStatus, ...] = ("new", "contacted", "qualified", "converted", "disqualified")
GRADES: tuple[Grade, ...] = ("A", "B", "C", "D")


def unique_tags(tags: list[str]) -> list[str]:
    """Tags compare without case and are kept lower-cased, unless that would take one past
    the length limit ("İ" is two characters lower-cased), which a later check would refuse."""
    seen: dict[str, str] = {}
    for tag in tags:
        lowered = tag.lower()
        seen.setdefault(lowered, lowered if len(lowered) <= TAG_MAX else tag)
    return list(seen.values())


Tags = Annotated[list[Tag], Field(max_length=50), AfterValidator(unique_tags)]


class Entry(BaseModel):
    """An element of a grow-only list inside a record (merged as a set by id)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: RecordId = Field(default_factory=new_id)


#: a rule across a record's fields: ``"field: problem"``, or None when it holds. It reads
#: values with ``.get`` and tests them for truth, so the same rule holds for a model's
#: fields and for a stored document, which leaves out falsy defaults. A field-by-field merge
#: of two valid versions can break one: sync merges such a record and asks for a look
Rule = Callable[[Mapping[str, Any]], str | None]


class Record(BaseModel):
    """Fields every record has. Subclasses set ``table``."""

    # Extra fields are the team's custom fields (``cf.<key>``): ``_custom_values`` refuses any other.
    model_config = ConfigDict(extra="allow", validate_assignment=False)
    table: ClassVar[str]
    rules: ClassVar[tuple[Rule, ...]] = ()
    #: list fields merged as grow-only sets of ``Entry`` (append, never edit)
    grow_only: ClassVar[frozenset[str]] = frozenset()
    #: what to call a record of this kind in a message
    noun: ClassVar[str]

    id: RecordId = Field(default_factory=new_id)
    owner: RepId
    created_at: Timestamp = Field(default_factory=utc_now)
    updated_at: Timestamp = Field(default_factory=utc_now)

    @model_validator(mode="after")
    def _check_rules(self, info: ValidationInfo) -> Record:
        """The record's rules, then its custom fields (one validator: a bulk import pays
        for each call at every row)."""
        for rule in self.rules:
            problem = rule(self.__dict__)
            if problem:
                raise ValueError(problem)
        if self.__pydantic_extra__:
            self._custom_values(info)
        return self

    def _custom_values(self, info: ValidationInfo) -> Record:
        """Custom fields: only on the record types that have them, each value as its
        declaration in the settings (the validation context) reads it; a field the settings
        do not declare (not yet, or no longer) is kept as stored, if it is of a shape any
        Dealdeck stores. An emptied value goes (the document leaves it out)."""
        extra = self.__pydantic_extra__
        assert extra is not None
        config = info.context.get("config") if info.context else None
        if config is None and self.table in CUSTOM_TABLES and all(name[:3] == "cf." for name in extra):
            # A stored document read back (the store validates with the settings as context):
            # its values were checked when written, or by the sync's check of a teammate's file.
            return self
        declared = {spec.name: spec for spec in config.custom(self.table, with_deleted=True)} if config else {}
        for name, value in list(extra.items()):
            if self.table not in CUSTOM_TABLES or not FIELD_NAME.match(name):
                raise ValueError(f"{name}: not a field of {'an' if self.noun[0] in 'aeiou' else 'a'} {self.noun}")
            spec = declared.get(name)
            try:
                checked = check_value(spec, value) if spec is not None else value
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
            if spec is None and not is_stored_shape(value):
                raise ValueError(f"{name}: not a value a custom field holds")
            if checked is None or checked == "" or checked == []:
                del extra[name]
            else:
                extra[name] = checked
        return self

    def label(self) -> str:
        """A one-line name for messages and lists."""
        return getattr(self, "name", None) or getattr(self, "title", None) or self.id


class RuleRun(Entry):
    """What one of the team's rules did to a record (``store.rules``): its history line.
    Its id is made from the rule, the record and the occurrence, the same on every replica."""

    at: Timestamp = Field(default_factory=utc_now)
    rule: Line
    did: Line


# --- leads --------------------------------------------------------------------


class LeadEvent(Entry):
    """An assignment, claim, return to the pool or status change of a lead."""

    at: Timestamp = Field(default_factory=utc_now)
    kind: Literal["created", "assigned", "claimed", "returned_to_pool", "converted",
                  "disqualified", "status", "graded"]
    by: RepId
    to: str = ""
    note: Line = ""


def _lead_is_consistent(values: Mapping[str, Any]) -> str | None:
    status = values.get("status")
    if status == "disqualified" and not values.get("disqualified_reason"):
        return "disqualified_reason: a disqualified lead needs a reason"
    if status == "converted" and not values.get("opportunity_id") and not values.get("customer_id"):
        return "status: a converted lead must link its customer or opportunity"
    return None


class Lead(Record):
    table: ClassVar[str] = "leads"
    rules: ClassVar[tuple[Rule, ...]] = (_lead_is_consistent,)
    noun: ClassVar[str] = "lead"
    grow_only: ClassVar[frozenset[str]] = frozenset({"history", "rule_log"})

    name: Name
    company: Line = ""
    title: Line = ""
    phone: Phone = None
    email: Email = None
    source: Line = "other"
    region: Line = ""
    grade: Grade | None = None
    score: int = Field(default=0, ge=0, le=100)
    status: LeadStatus = "new"
    next_follow_up: date | None = None
    last_contacted_at: Timestamp | None = None
    in_pool: bool = False
    tags: Tags = []
    notes: Text = ""
    disqualified_reason: Line = ""
    external_id: ExternalId = ""
    customer_id: RecordId | None = None
    contact_id: RecordId | None = None
    opportunity_id: RecordId | None = None
    history: list[LeadEvent] = []
    #: a risk a rule raised (``flag_risk``), shown with the record until cleared
    flag: Line = ""
    rule_log: list[RuleRun] = Field(default_factory=list)  # a factory: a [] default is deep-copied per record



# --- opportunities ------------------------------------------------------------------


class QuoteLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    product: Name
    quantity: Decimal = Field(gt=0, max_digits=12, decimal_places=3)
    unit_price: Money
    discount_pct: Decimal = Field(default=Decimal(0), ge=0, le=100, max_digits=5, decimal_places=2)

    @property
    def total(self) -> Decimal:
        gross = self.quantity * self.unit_price
        return (gross * (100 - self.discount_pct) / 100).quantize(Decimal("0.01"))


class Quote(Entry):
    """One version of a quote; a revision adds a new version, keeping the old."""

    version: int = Field(ge=1)
    at: Timestamp = Field(default_factory=utc_now)
    by: RepId
    currency: Currency
    lines: list[QuoteLine] = Field(min_length=1, max_length=500)
    note: Line = ""

    @property
    def total(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal(0))


class StageChange(Entry):
    stage: str = Field(min_length=1, max_length=32)
    at: Timestamp = Field(default_factory=utc_now)
    by: RepId
    #: the id of the change this one took back (an undo): the history stays grow-only
    #: and truthful, and reports can leave both out of "moved back"
    undoes: RecordId | None = None


class FieldChange(Entry):
    """History of a tracked field (amount, expected close), for slip and change reports."""

    field: Literal["amount", "expected_close"]
    at: Timestamp = Field(default_factory=utc_now)
    by: RepId
    old: str | None
    new: str | None


DecisionKind = Literal["next_step", "close_date", "stage", "note"]


class Decision(Entry):
    """What the weekly review decided about a deal or a customer (``store.decisions``):
    the change itself is made as any edit is (a task, a close date, a stage move), and this
    entry says that the meeting made it, so that its report can list it."""

    noun: ClassVar[str] = "decision"
    kind: DecisionKind
    #: the ISO week of the review it was taken in ("2026-W47")
    week: str = Field(pattern=r"^\d{4}-W\d{2}$")
    at: Timestamp = Field(default_factory=utc_now)
    by: RepId
    text: Name
    task_id: RecordId | None = None


class Opportunity(Record):
    table: ClassVar[str] = "opportunities"
    noun: ClassVar[str] = "opportunity"
    grow_only: ClassVar[frozenset[str]] = frozenset({"stage_history", "quotes", "changes", "rule_log", "decisions"})
    #: fields whose every change is kept in ``changes``
    tracked: ClassVar[tuple[str, ...]] = ("amount", "expected_close")

    title: Name
    customer_id: RecordId
    contact_id: RecordId | None = None
    lead_id: RecordId | None = None
    amount: Money = Decimal(0)
    currency: Currency = "USD"
    stage: str = Field(min_length=1, max_length=32)
    expected_close: date | None = None
    next_step: Line = ""
    lost_reason: Line = ""
    forecast_category: ForecastCategory | None = None
    closed_at: Timestamp | None = None
    notes: Text = ""
    stage_history: list[StageChange] = []
    quotes: list[Quote] = []
    changes: list[FieldChange] = []
    flag: Line = ""
    rule_log: list[RuleRun] = Field(default_factory=list)  # a factory: a [] default is deep-copied per record
    decisions: list[Decision] = Field(default_factory=list)

    @field_validator("stage")
    @classmethod
    def _known_stage(cls, stage: str, info: ValidationInfo) -> str:
        config = (info.context or {}).get("config")
        if config is not None and stage not in config.stage_keys:
            raise ValueError(f"unknown stage {stage!r} (stages: {', '.join(config.stage_keys)})")
        return stage

    @model_validator(mode="after")
    def _lost_has_reason(self, info: ValidationInfo) -> Opportunity:
        config = (info.context or {}).get("config")
        if config is not None and self.stage == config.lost_stage.key and not self.lost_reason:
            raise ValueError("lost_reason: a lost opportunity needs a reason")
        return self

    def entered_stage_at(self) -> datetime:
        """When the opportunity entered its current stage."""
        for change in sorted(self.stage_history, key=lambda c: c.at, reverse=True):
            if change.stage == self.stage:
                return change.at
        return self.created_at

    def latest_quote(self) -> Quote | None:
        return max(self.quotes, key=lambda q: q.version, default=None)


# --- customers -----------------------------------------------------------------------


class Customer(Record):
    table: ClassVar[str] = "customers"
    noun: ClassVar[str] = "customer"
    grow_only: ClassVar[frozenset[str]] = frozenset({"rule_log", "decisions"})

    name: Name
    industry: Line = ""
    segment: Line = ""
    region: Line = ""
    phone: Phone = None
    email: Email = None
    website: Line = ""
    address: Line = ""
    tags: Tags = []
    lifecycle: Lifecycle = "prospect"
    notes: Text = ""
    external_id: ExternalId = ""
    lead_id: RecordId | None = None
    #: maintenance plan: revisit every N days (None: no plan)
    revisit_days: int | None = Field(default=None, ge=1, le=3650)
    next_revisit: date | None = None
    last_contact_at: Timestamp | None = None
    active_since: date | None = None
    churned_at: date | None = None
    flag: Line = ""
    rule_log: list[RuleRun] = Field(default_factory=list)  # a factory: a [] default is deep-copied per record
    decisions: list[Decision] = Field(default_factory=list)


class Contact(Record):
    table: ClassVar[str] = "contacts"
    noun: ClassVar[str] = "contact"
    grow_only: ClassVar[frozenset[str]] = frozenset({"rule_log"})

    customer_id: RecordId
    name: Name
    role: Line = ""
    phone: Phone = None
    email: Email = None
    birthday: date | None = None
    primary: bool = False
    notes: Text = ""
    external_id: ExternalId = ""
    rule_log: list[RuleRun] = Field(default_factory=list)  # a factory: a [] default is deep-copied per record


# --- activities, tasks, service --------------------------------------------------------


def _is_linked(values: Mapping[str, Any]) -> str | None:
    if values.get("lead_id") or values.get("opportunity_id") or values.get("customer_id"):
        return None
    return "an activity must be linked to a lead, opportunity or customer"


class Activity(Record):
    """Append-only: once logged, an activity is never edited."""

    table: ClassVar[str] = "activities"
    noun: ClassVar[str] = "activity"
    rules: ClassVar[tuple[Rule, ...]] = (_is_linked,)

    lead_id: RecordId | None = None
    opportunity_id: RecordId | None = None
    customer_id: RecordId | None = None
    contact_id: RecordId | None = None

    kind: ActivityKind
    at: Timestamp = Field(default_factory=utc_now)
    subject: Line = ""
    body: Text = ""
    external_id: ExternalId = ""


class Task(Record):
    table: ClassVar[str] = "tasks"
    noun: ClassVar[str] = "task"

    title: Name
    kind: TaskKind = "todo"
    due: date
    done: bool = False
    done_at: Timestamp | None = None
    lead_id: RecordId | None = None
    opportunity_id: RecordId | None = None
    customer_id: RecordId | None = None
    contact_id: RecordId | None = None
    ticket_id: RecordId | None = None
    notes: Text = ""


class Ticket(Record):
    table: ClassVar[str] = "tickets"
    noun: ClassVar[str] = "ticket"
    grow_only: ClassVar[frozenset[str]] = frozenset({"rule_log"})

    customer_id: RecordId
    contact_id: RecordId | None = None
    title: Name
    description: Text = ""
    severity: Severity = "normal"
    status: TicketStatus = "open"
    assignee: RepId | None = None
    resolved_at: Timestamp | None = None
    closed_at: Timestamp | None = None
    flag: Line = ""
    rule_log: list[RuleRun] = Field(default_factory=list)  # a factory: a [] default is deep-copied per record


def _score_in_range(values: Mapping[str, Any]) -> str | None:
    kind, score = values.get("kind"), values.get("score") or 0
    low, high = (1, 5) if kind == "csat" else (0, 10)
    if low <= score <= high:
        return None
    return f"score: a {str(kind).upper()} score is {low} to {high}"


class Survey(Record):
    """A satisfaction answer: CSAT 1-5 or NPS 0-10. Append-only."""

    table: ClassVar[str] = "surveys"
    noun: ClassVar[str] = "survey"
    rules: ClassVar[tuple[Rule, ...]] = (_score_in_range,)

    customer_id: RecordId
    contact_id: RecordId | None = None
    ticket_id: RecordId | None = None
    kind: SurveyKind
    score: int
    comment: Text = ""
    at: Timestamp = Field(default_factory=utc_now)


# --- the team's shared settings ---------------------------------------------------------

#: a team setting's value as JSON text: each top-level key of the team settings
SettingJson = Annotated[str, Field(min_length=1, max_length=20_000), BeforeValidator(clean_text)]


class SettingChange(Entry):
    """One value a team setting had from ``at``: the review of a past week reads the
    stages (probabilities) of that week from these."""

    at: Timestamp = Field(default_factory=utc_now)
    by: RepId
    value: SettingJson


class TeamSetting(Record):
    """One top-level key of the team settings (stages, reps, custom fields ...): synced
    and merged like any record, so concurrent edits of one key resolve last writer wins
    and edits of different keys both stay. Its id is derived from the key
    (``store.team_settings.setting_id``), so every replica's copy is the same record."""

    table: ClassVar[str] = "settings"
    noun: ClassVar[str] = "team setting"
    grow_only: ClassVar[frozenset[str]] = frozenset({"history"})

    key: Annotated[str, Field(pattern=r"^[a-z][a-z_]{0,39}$")]
    value: SettingJson
    history: list[SettingChange] = []

    def label(self) -> str:
        return self.key


RECORD_TYPES: tuple[type[Record], ...] = (
    Lead, Opportunity, Customer, Contact, Activity, Task, Ticket, Survey, TeamSetting,
)
BY_TABLE: dict[str, type[Record]] = {cls.table: cls for cls in RECORD_TYPES}
#: records that are never edited after they are written
APPEND_ONLY: frozenset[str] = frozenset({Activity.table, Survey.table})
