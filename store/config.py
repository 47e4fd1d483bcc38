"""The team's configuration: ``config.yaml`` in the data folder.

Created with commented defaults on first run; validated with pydantic so that a
bad value stops Dealdeck with one line naming the key and the problem.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from store.custom_fields import CustomField, CustomTable
from store.errors import StoreError
from store.files import private_folder, write_atomic
from store.hlc import DEFAULT_DRIFT_MS
from store.mail_settings import MailSettings
from store.rules import RULE_TABLES, Rule, check_rules, default_rules

CONFIG_NAME = "config.yaml"
RepId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,31}$")]
StageKind = Literal["open", "won", "lost"]
ForecastCategory = Literal["commit", "best_case", "pipeline", "omitted"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rep(Strict):
    id: RepId
    name: str = Field(min_length=1, max_length=80)
    region: str = ""
    monthly_target: Decimal = Field(default=Decimal(0), ge=0)
    #: the rep's work address: an import's owner column may name them by it
    email: str = Field(default="", max_length=254)


class Stage(Strict):
    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
    label: str = Field(min_length=1, max_length=40)
    probability: int = Field(ge=0, le=100)
    kind: StageKind = "open"
    #: days without an activity before a deal in this stage is stale
    stale_days: int = Field(default=14, ge=1)
    #: days in this stage before a deal is stuck
    stuck_days: int = Field(default=30, ge=1)
    forecast: ForecastCategory = "pipeline"


class GradeRule(Strict):
    grade: Literal["A", "B", "C", "D"]
    min_score: int = Field(ge=0, le=100)


class Assignment(Strict):
    rule: Literal["round_robin", "by_source", "by_region"] = "round_robin"
    #: for by_source / by_region: source or region -> rep id
    map: dict[str, RepId] = {}


class LeadPool(Strict):
    #: a lead not followed up by its owner for this many days returns to the pool
    return_after_days: int = Field(default=14, ge=1)


class Maintenance(Strict):
    revisit_days: int = Field(default=30, ge=1)


class RiskRules(Strict):
    #: a close date pushed later, or an amount lowered, within this many days flags the deal
    recent_days: int = Field(default=30, ge=1)


class CustomerRules(Strict):
    """When a customer is at risk of churning, and the after-sales rhythm."""

    #: no activity with the customer for longer than this
    no_contact_days: int = Field(default=60, ge=1)
    #: a service ticket open longer than this
    ticket_open_days: int = Field(default=7, ge=1)
    #: a CSAT answer at or below this (1-5) is low
    low_csat: int = Field(default=2, ge=1, le=5)
    #: an NPS answer at or below this (0-10) is low (a detractor)
    low_nps: int = Field(default=6, ge=0, le=10)
    #: a fall of this many percent of the scale from one answer to the next is a drop
    drop_percent: int = Field(default=20, ge=1, le=100)
    #: days after a ticket is resolved: the after-sales call, the survey request
    follow_up_after_days: int = Field(default=2, ge=0)
    survey_after_days: int = Field(default=3, ge=0)
    #: expected reorder interval for a customer with a single purchase so far
    reorder_days: int = Field(default=365, ge=1)


Health = Literal["good", "watch", "risk", "churned"]


class SavedSegment(Strict):
    """A named customer filter, e.g. manufacturing, active, no contact in 60 days.
    Text fields match when they appear in the customer's field (any case)."""

    name: str = Field(min_length=1, max_length=60)
    industry: str = ""
    segment: str = ""
    tag: str = ""
    lifecycle: Literal["prospect", "active", "at_risk", "churned"] | None = None
    health: Health | None = None
    owner: str | None = None
    #: at least this many days since the last contact
    no_contact_days: int | None = Field(default=None, ge=1)
    #: RFM total (3-15) at least this
    min_rfm: int | None = Field(default=None, ge=3, le=15)
    text: str = ""
    #: the list's sort column (empty: as it was) and whether it runs the other way
    sort: str = ""
    reverse: bool = False


class SavedLeadView(Strict):
    """A named lead list (``V`` picks one, ``W`` saves the list as one): its filter and sort."""

    name: str = Field(min_length=1, max_length=60)
    #: a rep id; none: the whole team
    owner: str | None = None
    #: ``open``, a lead status, or none for any
    status: str | None = "open"
    grade: Literal["A", "B", "C", "D"] | None = None
    overdue: bool = False
    pool: bool = False
    text: str = ""
    sort: str = ""
    reverse: bool = False


class SavedDealView(Strict):
    """A named board (``V`` picks one, ``W`` saves the board on show as one): its filter and sort."""

    name: str = Field(min_length=1, max_length=60)
    #: a rep id; none: the whole team
    owner: str | None = None
    at_risk: bool = False
    show_lost: bool = False
    #: ``2026-12``: deals expected to close that month
    close_month: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}$")
    text: str = ""
    sort: str = ""
    reverse: bool = False


class Sync(Strict):
    folder: str = ""
    transport: Literal["folder", "git"] = "folder"
    max_file_mb: int = Field(default=200, ge=1)
    #: how far ahead of this computer's clock a change stamp may be, ours or a teammate's
    max_clock_drift_minutes: int = Field(default=DEFAULT_DRIFT_MS // 60_000, ge=1, le=24 * 60)
    #: a segment every active teammate has merged is folded away (into a snapshot) after these days
    fold_after_days: int = Field(default=14, ge=1, le=3650)
    #: a new snapshot once this many segments in the team folder are newer than the newest one
    snapshot_after_segments: int = Field(default=500, ge=10)
    #: reps (or replica ids) who left: they no longer hold back folding
    retired: list[str] = []

    @model_validator(mode="before")
    @classmethod
    def _old_skew_key(cls, data: object) -> object:
        """``max_future_skew_hours`` (before the drift limit) is still read: an old config
        keeps loading, and its value can only make the limit stricter (its default of
        24 h let a clock a day ahead win every edit), unless ``max_clock_drift_minutes`` is set."""
        if not isinstance(data, dict) or "max_future_skew_hours" not in data:
            return data
        data = dict(data)
        hours = data.pop("max_future_skew_hours")
        if type(hours) is not int or hours < 0:
            raise ValueError("max_future_skew_hours: replaced by max_clock_drift_minutes (a whole number of minutes)")
        data.setdefault("max_clock_drift_minutes", max(1, min(hours * 60, DEFAULT_DRIFT_MS // 60_000)))
        return data

    @property
    def max_drift_ms(self) -> int:
        return self.max_clock_drift_minutes * 60_000


class ImportMapping(Strict):
    """A saved CSV mapping (``import csv --save-mapping NAME``): the weekly export
    from the old system imports with ``--mapping NAME``."""

    table: Literal["leads", "customers", "contacts"] | None = None
    #: file column (header or number) -> field, or ``ignore``
    columns: dict[str, str] = {}
    #: column or field -> {the file's value: ours}
    values: dict[str, dict[str, str]] = {}
    #: the column holding the other system's record id
    key: str = ""
    owner: str = ""
    #: columns with no field go to the notes (false: dropped, ``--drop-unmapped``)
    keep_unmapped: bool = True


class Imports(Strict):
    #: a larger file is refused before anything is read
    max_file_mb: int = Field(default=1024, ge=1)
    mappings: dict[str, ImportMapping] = {}


DEFAULT_STAGES = (
    Stage(key="initial", label="Initial contact", probability=10, stale_days=14, stuck_days=21),
    Stage(key="needs", label="Needs confirmed", probability=25, stale_days=14, stuck_days=30),
    Stage(key="quote", label="Quote", probability=50, stale_days=10, stuck_days=30,
          forecast="best_case"),
    Stage(key="negotiation", label="Negotiation", probability=75, stale_days=7, stuck_days=21,
          forecast="commit"),
    Stage(key="won", label="Won / signed", probability=100, kind="won", forecast="commit"),
    Stage(key="lost", label="Lost", probability=0, kind="lost", forecast="omitted"),
)


class Config(Strict):
    me: RepId = "me"
    reps: list[Rep] = [Rep(id="me", name="Me")]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "USD"
    #: value of one unit of another currency in ``currency``, for pipeline totals
    rates: dict[Annotated[str, Field(pattern=r"^[A-Z]{3}$")], Annotated[Decimal, Field(gt=0)]] = {}
    stages: list[Stage] = list(DEFAULT_STAGES)
    lost_reasons: list[str] = ["Price", "Lost to competitor", "No budget", "No decision",
                               "Timing", "Requirements not met"]
    disqualify_reasons: list[str] = ["No budget", "No need", "Unreachable", "Duplicate",
                                     "Already a customer elsewhere", "Bad contact data"]
    lead_sources: list[str] = ["trade show", "website", "referral", "cold call", "partner",
                               "social media", "other"]
    grades: list[GradeRule] = [GradeRule(grade="A", min_score=75), GradeRule(grade="B", min_score=50),
                               GradeRule(grade="C", min_score=25), GradeRule(grade="D", min_score=0)]
    assignment: Assignment = Assignment()
    lead_pool: LeadPool = LeadPool()
    maintenance: Maintenance = Maintenance()
    risk: RiskRules = RiskRules()
    customers: CustomerRules = CustomerRules()
    segments: list[SavedSegment] = []
    lead_views: list[SavedLeadView] = []
    deal_views: list[SavedDealView] = []
    #: fields the team added, per record type (``store.custom_fields``)
    custom_fields: dict[CustomTable, list[CustomField]] = {}
    #: the team's rules (``store.rules``); unset: the two after-sales defaults
    rules: list[Rule] = []
    #: where ``dealdeck review --send`` mails the review from (``store.mail_settings``)
    mail: MailSettings = MailSettings()
    sync: Sync = Sync()
    imports: Imports = Imports()
    keys: dict[str, str] = {}
    theme: str = "dealdeck-dark"

    @field_validator("stages")
    @classmethod
    def _stages_make_a_pipeline(cls, stages: list[Stage]) -> list[Stage]:
        keys = [s.key for s in stages]
        if len(set(keys)) != len(keys):
            raise ValueError("stage keys must be unique")
        kinds = [s.kind for s in stages]
        if kinds.count("won") != 1 or kinds.count("lost") != 1:
            raise ValueError("exactly one stage must be kind 'won' and one kind 'lost'")
        if "open" not in kinds:
            raise ValueError("at least one stage must be kind 'open'")
        return stages

    @field_validator("custom_fields")
    @classmethod
    def _custom_keys_unique(cls, declared: dict[str, list[CustomField]]) -> dict[str, list[CustomField]]:
        for table, specs in declared.items():
            keys = [spec.key for spec in specs]
            twice = next((key for key in keys if keys.count(key) > 1), None)
            if twice:
                raise ValueError(f"{table}: the field {twice!r} is declared twice")
        return declared

    def custom(self, table: str, *, with_deleted: bool = False) -> list[CustomField]:
        """The custom fields of a record type (without those the team deleted)."""
        return [spec for spec in self.custom_fields.get(table, ())  # type: ignore[call-overload]
                if with_deleted or not spec.deleted]

    @model_validator(mode="before")
    @classmethod
    def _default_rules(cls, data: object) -> object:
        """No ``rules`` key: the after-sales call and survey request Dealdeck always made,
        due after the days ``customers`` sets."""
        if not isinstance(data, dict) or "rules" in data:
            return data
        customers = data.get("customers")
        days = customers if isinstance(customers, dict) else {}
        call, survey = days.get("follow_up_after_days", 2), days.get("survey_after_days", 3)
        if not (type(call) is int and type(survey) is int and call >= 0 and survey >= 0):
            return data  # the customers block is refused with its own message
        return {**data, "rules": [rule.model_dump(by_alias=True) for rule in default_rules(call, survey)]}

    @model_validator(mode="after")
    def _rules_name_what_is_there(self) -> Config:
        from store.models import BY_TABLE

        fields = {table: [*BY_TABLE[table].model_fields, *(s.name for s in self.custom(table))]
                  for table in RULE_TABLES}
        check_rules(self.rules, fields, self.stage_keys, self.rep_ids())
        return self

    @model_validator(mode="after")
    def _me_is_a_rep(self) -> Config:
        ids = [r.id for r in self.reps]
        if len(set(ids)) != len(ids):
            raise ValueError("reps: rep ids must be unique")
        if self.me not in ids:
            raise ValueError(f"me: {self.me!r} is not one of the reps ({', '.join(ids)})")
        return self

    # -- lookups used across the app (one place for each rule) ----------------
    @property
    def stage_keys(self) -> list[str]:
        return [s.key for s in self.stages]

    @property
    def open_stages(self) -> list[Stage]:
        return [s for s in self.stages if s.kind == "open"]

    @property
    def first_stage(self) -> Stage:
        return self.open_stages[0]

    @property
    def won_stage(self) -> Stage:
        return next(s for s in self.stages if s.kind == "won")

    @property
    def lost_stage(self) -> Stage:
        return next(s for s in self.stages if s.kind == "lost")

    def stage(self, key: str) -> Stage:
        for s in self.stages:
            if s.key == key:
                return s
        raise KeyError(key)

    def rep_ids(self) -> list[str]:
        return [r.id for r in self.reps]

    def grade_for(self, score: int) -> str:
        for rule in sorted(self.grades, key=lambda r: -r.min_score):
            if score >= rule.min_score:
                return rule.grade
        return "D"


DEFAULT_CONFIG_YAML = """\
# Dealdeck configuration. Edit and restart Dealdeck; a bad value is reported
# with the key that holds it. Delete this file to get the defaults back.

# Your rep id (one of the reps below). `dealdeck --as REP` overrides it.
me: me

# The team. id: short lowercase name used in files; monthly_target feeds the forecast;
# email: an imported file's owner column may name the rep by it.
reps:
  - id: me
    name: Me
    region: ""
    monthly_target: 0
    email: ""

currency: USD
# Deals in other currencies count in pipeline totals at these rates (one unit in
# the currency above), e.g. {EUR: 1.08, CNY: 0.14}; a currency without a rate is left out.
rates: {}

# Pipeline stages in order. probability: % used for the weighted pipeline.
# stale_days: no activity for longer flags a deal stale; stuck_days: too long in
# the stage. kind: open | won | lost (exactly one won and one lost stage).
# forecast: default forecast category (commit, best_case, pipeline, omitted).
stages:
  - {key: initial, label: Initial contact, probability: 10, stale_days: 14, stuck_days: 21}
  - {key: needs, label: Needs confirmed, probability: 25, stale_days: 14, stuck_days: 30}
  - {key: quote, label: Quote, probability: 50, stale_days: 10, stuck_days: 30, forecast: best_case}
  - {key: negotiation, label: Negotiation, probability: 75, stale_days: 7, stuck_days: 21, forecast: commit}
  - {key: won, label: Won / signed, probability: 100, kind: won, forecast: commit}
  - {key: lost, label: Lost, probability: 0, kind: lost, forecast: omitted}

lost_reasons: [Price, Lost to competitor, No budget, No decision, Timing, Requirements not met]

lead_sources: [trade show, website, referral, cold call, partner, social media, other]

disqualify_reasons: [No budget, No need, Unreachable, Duplicate, Already a customer elsewhere, Bad contact data]

# A lead's grade from its score (0-100): the highest min_score it reaches.
grades:
  - {grade: A, min_score: 75}
  - {grade: B, min_score: 50}
  - {grade: C, min_score: 25}
  - {grade: D, min_score: 0}

# Who gets new unowned leads: round_robin, by_source or by_region (map: value -> rep id).
assignment:
  rule: round_robin
  map: {}

# A lead its owner has not followed up for this many days returns to the shared pool.
lead_pool:
  return_after_days: 14

# Default maintenance plan for new active customers: revisit every N days.
maintenance:
  revisit_days: 30

# Risk warnings on the board: a close date pushed later, or an amount lowered,
# within this many days flags the deal (stale and stuck limits are per stage above).
risk:
  recent_days: 30

# Customers: when one is at risk of churning (each reason is shown on its card), and
# the after-sales rhythm. reorder_days: expected reorder interval after a first purchase
# (with two or more, the customer's own typical interval is used).
customers:
  no_contact_days: 60
  ticket_open_days: 7
  low_csat: 2
  low_nps: 6
  drop_percent: 20
  follow_up_after_days: 2
  survey_after_days: 3
  reorder_days: 365

# Saved customer segments (also saved from the customer tab), e.g.
#   - {name: Quiet manufacturers, industry: manufactur, lifecycle: active, no_contact_days: 60}
# Fields: industry, segment, tag, lifecycle, health (good/watch/risk/churned), owner,
# no_contact_days, min_rfm (3-15), text, sort (a column), reverse.
segments: []

# Saved lead views (also saved from the lead tab with W), e.g.
#   - {name: Expo leads, owner: ann, status: open, grade: A, text: expo, sort: follow_up}
# Fields: owner, status (open or a lead status), grade, overdue, pool, text, sort, reverse.
lead_views: []

# Saved board views (also saved from the board with W), e.g.
#   - {name: Closing in December, owner: ann, close_month: 2026-12, sort: amount, reverse: true}
# Fields: owner, at_risk, show_lost, close_month, text, sort (a list column), reverse.
deal_views: []

# Team sync: the shared folder (a synced folder or a git work tree).
sync:
  folder: ""
  transport: folder     # folder | git
  max_file_mb: 200
  max_clock_drift_minutes: 5   # refuse change stamps further ahead of this computer's clock

# Importing files: a CSV larger than max_file_mb is refused before it is read.
# mappings: saved with `dealdeck import csv ... --save-mapping NAME`, used with --mapping NAME.
imports:
  max_file_mb: 1024
  mappings: {}

# Key bindings by action id, e.g. {quit: ctrl+q, today: T}. See `?` in the app.
keys: {}

theme: dealdeck-dark
"""


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML that refuses a key written twice (PyYAML would keep the last one
    silently, so an edit further down the file would win without a word)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[object, object]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is set twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def describe_error(error: ValidationError) -> str:
    """The first validation problem as 'key.path: message'."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" if where else message  # a whole-settings check names its key itself


def load_config(folder: Path) -> Config:
    """Read ``config.yaml`` from the data folder, creating it with defaults first."""
    path = folder / CONFIG_NAME
    if not path.exists():
        private_folder(folder)
        path.write_text(DEFAULT_CONFIG_YAML, encoding="utf-8")
        path.chmod(0o600)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)  # a SafeLoader: no objects
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}" if mark else ""
        raise StoreError(f"{path}: {exc.problem}{where}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise StoreError(f"{path}: not valid YAML{where}") from None
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise StoreError(f"{path}: expected a mapping of settings")
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        raise StoreError(f"{path}: {describe_error(exc)}") from None


def save_config_value(folder: Path, key: str, value: object) -> None:
    """Change one top-level setting, keeping the rest of the file as written."""
    save_config_values(folder, {key: value})


def save_config_values(folder: Path, values: dict[str, object]) -> Config:
    """Change several top-level settings in one validated, atomic write.

    Each key's whole block (its line and the indented lines under it) is replaced
    in place, so comments and other settings stay. If the file is laid out so that
    this cannot work, the merged settings are written out plainly instead.
    """
    load_config(folder)  # creates the file with defaults; refuses a bad one
    path = folder / CONFIG_NAME
    original = path.read_text(encoding="utf-8")
    edited = original
    for key, value in values.items():
        edited = _with_top_level_key(edited, key, value)
    raw = _safe_load_or_none(edited)
    if not (isinstance(raw, dict) and all(raw.get(k) == v for k, v in values.items())):
        merged = {**(yaml.safe_load(original) or {}), **values}
        edited = "# Dealdeck configuration\n" + yaml.safe_dump(merged, allow_unicode=True, sort_keys=False)
        raw = merged
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise StoreError(f"{path}: {describe_error(exc)}") from None
    write_atomic(path, edited.encode())
    return config


def _safe_load_or_none(text: str) -> object:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def _with_top_level_key(text: str, key: str, value: object) -> str:
    """Replace the whole block of a top-level key: its line and the indented lines under it."""
    lines = text.splitlines()
    block = yaml.safe_dump({key: value}, allow_unicode=True, sort_keys=False, width=1000).splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(f"{key}:")), None)
    if start is None:
        return "\n".join([*lines, *block]) + "\n"
    end = start + 1
    while end < len(lines) and lines[end][:1] in (" ", "\t", "-"):
        end += 1
    return "\n".join([*lines[:start], *block, *lines[end:]]) + "\n"
