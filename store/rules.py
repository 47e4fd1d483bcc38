"""The team's rules ("flows") without code: a trigger and the actions it takes. Pure: the
declarations, their checks against the record types, and which triggers a change fires.
``store.rule_engine`` applies them inside the transaction of the change.

A rule's effects are named by the rule, the record and the occurrence (the stamp of the
change, or the date a timed trigger was reached): a task it creates, its history entry,
get ids made from those, so two replicas that both fire it for the same occurrence write
the same records, which a sync merges into one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Trigger = Literal["created", "field_changed", "stage_entered", "stage_left", "won", "lost", "ticket_resolved",
                  "date_reached", "no_activity"]
ActionKind = Literal["create_task", "set_field", "clear_field", "assign", "add_tag", "flag_risk"]
RuleTable = Literal["leads", "opportunities", "customers", "contacts", "tickets"]
TaskKind = Literal["todo", "follow_up", "revisit", "birthday", "after_sales", "survey"]
RULE_TABLES: tuple[str, ...] = ("leads", "opportunities", "customers", "contacts", "tickets")
#: the triggers that name their record type themselves
IMPLIED_TABLE = {"stage_entered": "opportunities", "stage_left": "opportunities", "won": "opportunities",
                 "lost": "opportunities", "ticket_resolved": "tickets"}
#: triggers a sweep finds (a date reached, time gone by), not a change
TIMED: frozenset[str] = frozenset({"date_reached", "no_activity"})
#: record types that have tags, and a risk flag
TAGGED = frozenset({"leads", "customers"})
FLAGGED = frozenset({"leads", "opportunities", "customers", "tickets"})
#: fields no rule sets (they are the store's own bookkeeping)
UNSETTABLE = frozenset({"id", "owner", "created_at", "updated_at", "history", "stage_history", "changes", "quotes",
                        "rule_log", "stage", "status", "customer_id", "lead_id", "opportunity_id", "contact_id"})
#: a record type in a rule's words
NOUNS = {"leads": "lead", "opportunities": "deal", "customers": "customer", "contacts": "contact", "tickets": "ticket"}
#: how many rounds of rules set off by rules' own changes one change may run
CASCADE_LIMIT = 5
Value = str | int | float | bool | list[str] | None


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class When(Strict):
    trigger: Trigger
    #: the record type (the stage, won, lost and ticket triggers imply theirs)
    table: RuleTable | None = None
    #: field_changed: the field; date_reached: the date field
    field: str = ""
    #: field_changed: only a change to this value (unset: any change)
    to: Value = None
    #: stage_entered / stage_left: the stage key
    stage: str = ""
    #: no_activity: after this many days; date_reached: this many days after the date (-3: before)
    days: int = Field(default=0, ge=-3650, le=3650)
    #: the record's fields must hold these values (all of them)
    conditions: dict[str, Value] = {}

    @property
    def record_table(self) -> str:
        return IMPLIED_TABLE.get(self.trigger) or self.table or ""

    @model_validator(mode="after")
    def _complete(self) -> When:
        trigger = self.trigger
        if trigger not in IMPLIED_TABLE and self.table is None:
            raise ValueError(f"table: a {trigger} trigger names its record type (leads, opportunities ...)")
        if trigger in ("field_changed", "date_reached") and not self.field:
            raise ValueError(f"field: a {trigger} trigger names its field")
        if trigger in ("stage_entered", "stage_left") and not self.stage:
            raise ValueError(f"stage: a {trigger} trigger names its stage")
        if trigger == "no_activity" and self.days < 1:
            raise ValueError("days: no_activity needs a number of days, 1 or more")
        if trigger == "no_activity" and self.table not in ("leads", "opportunities", "customers"):
            raise ValueError("table: no_activity is for leads, opportunities or customers")
        return self


class Action(Strict):
    action: ActionKind
    #: create_task: its title ({title}, {name}, {customer} are filled in), kind and due date
    title: str = Field(default="", max_length=200)
    kind: TaskKind = "todo"
    due_in_days: int = Field(default=0, ge=0, le=3650)
    #: create_task: for the record's owner, or a rep id
    for_: str = Field(default="owner", alias="for")
    #: create_task: not when the record has an open task of this kind already
    skip_if_open: bool = True
    #: create_task of a survey: not when the customer answered one since the record was made
    skip_if_answered: bool = False
    #: set_field / clear_field
    field: str = ""
    value: Value = None
    #: add_tag
    tag: str = Field(default="", max_length=40)
    #: flag_risk: what the flag says on the card
    text: str = Field(default="", max_length=200)

    @model_validator(mode="after")
    def _complete(self) -> Action:
        needs = {"create_task": ("title", self.title), "set_field": ("field", self.field),
                 "clear_field": ("field", self.field), "add_tag": ("tag", self.tag), "flag_risk": ("text", self.text)}
        if self.action in needs and not needs[self.action][1]:
            raise ValueError(f"{needs[self.action][0]}: {self.action} needs it")
        if self.action == "set_field" and self.value is None:
            raise ValueError("value: set_field needs a value (clear_field empties a field)")
        return self

    def words(self) -> str:
        """What the action does, for the history and the rules screen."""
        match self.action:
            case "create_task":
                due = f", due in {self.due_in_days}d" if self.due_in_days else ", due the same day"
                return f"task “{self.title}” for {'the owner' if self.for_ == 'owner' else self.for_}{due}"
            case "set_field":
                return f"set {self.field} to {self.value}"
            case "clear_field":
                return f"clear {self.field}"
            case "assign":
                return "assign by the assignment rule"
            case "add_tag":
                return f"tag #{self.tag}"
        return f"flag “{self.text}”"


class Rule(Strict):
    name: str = Field(min_length=1, max_length=80)
    when: When
    do: Annotated[list[Action], Field(min_length=1, max_length=10)]
    enabled: bool = True

    @property
    def table(self) -> str:
        return self.when.record_table

    def trigger_words(self) -> str:
        when = self.when
        table = NOUNS[when.record_table]
        match when.trigger:
            case "created":
                what = f"a {table} is created"
            case "field_changed":
                what = f"a {table}'s {when.field} changes" + (f" to {when.to}" if when.to is not None else "")
            case "stage_entered" | "stage_left":
                what = f"a deal {'enters' if when.trigger == 'stage_entered' else 'leaves'} {when.stage}"
            case "won" | "lost":
                what = f"a deal is {when.trigger}"
            case "ticket_resolved":
                what = "a ticket is resolved"
            case "date_reached":
                shift = f"{abs(when.days)}d {'after' if when.days > 0 else 'before'} " if when.days else ""
                what = f"{shift}a {table}'s {when.field}"
            case _:
                what = f"a {table} has no activity for {when.days}d"
        if when.conditions:
            what += " (" + ", ".join(f"{k} = {v}" for k, v in when.conditions.items()) + ")"
        return what


def default_rules(call_after_days: int = 2, survey_after_days: int = 3) -> list[Rule]:
    """What Dealdeck did by itself before rules: a resolved ticket schedules the after-sales
    call and, unless the customer answered a survey since, a survey request."""
    return [
        Rule(name="After-sales call", when=When(trigger="ticket_resolved"), do=[Action(
            action="create_task", title="After-sales call: {title}", kind="after_sales",
            due_in_days=call_after_days)]),
        Rule(name="Survey request", when=When(trigger="ticket_resolved"), do=[Action(
            action="create_task", title="Satisfaction survey: {customer}", kind="survey",
            due_in_days=survey_after_days, skip_if_answered=True)]),
    ]


# -- checks against the record types -----------------------------------------------------------------


def check_rules(rules: list[Rule], fields: Mapping[str, Iterable[str]], stages: Iterable[str],
                reps: Iterable[str]) -> None:
    """What a declaration alone cannot say: the fields, stages and reps named exist, and
    no rules set each other's fields round in a loop. ``fields``: table -> its field names
    (the model's and the declared custom ones). ``ValueError`` naming the rule's place."""
    stage_keys, rep_ids = set(stages), set(reps)
    names = [rule.name for rule in rules]
    twice = next((name for name in names if names.count(name) > 1), None)
    if twice:
        raise ValueError(f"rules: the rule name {twice!r} is used twice (a rule's history names it)")
    for index, rule in enumerate(rules):
        where, table, when = f"rules.{index} ({rule.name})", rule.table, rule.when
        known = set(fields[table])
        for name in [when.field, *when.conditions]:
            if name and name not in known:
                raise ValueError(f"{where}.when: {name!r} is not a field of {table}")
        if when.stage and when.stage not in stage_keys:
            raise ValueError(f"{where}.when.stage: {when.stage!r} is not a stage ({', '.join(sorted(stage_keys))})")
        for number, action in enumerate(rule.do):
            _check_action(f"{where}.do.{number}", action, table, known, rep_ids)
    loop = find_loop(rules)
    if loop:
        raise ValueError(f"rules: {' -> '.join(loop)} set each other's fields round in a loop")


def _check_action(where: str, action: Action, table: str, known: set[str], reps: set[str]) -> None:
    if action.action in ("set_field", "clear_field"):
        if action.field not in known or action.field in UNSETTABLE:
            raise ValueError(f"{where}.field: {action.field!r} is not a field a rule can set on {table}")
    elif action.action == "assign" and table != "leads":
        raise ValueError(f"{where}: assign is for leads (the assignment rule gives leads to reps)")
    elif action.action == "add_tag" and table not in TAGGED:
        raise ValueError(f"{where}: {table} have no tags")
    elif action.action == "flag_risk" and table not in FLAGGED:
        raise ValueError(f"{where}: {table} have no risk flag")
    if action.action == "create_task" and action.for_ != "owner" and action.for_ not in reps:
        raise ValueError(f"{where}.for: {action.for_!r} is not one of the reps")


def find_loop(rules: list[Rule]) -> list[str]:
    """Rule names round a loop (``A -> B -> A``) of rules whose set fields trigger each
    other; empty when there is none."""
    sets = {rule.name: {(rule.table, a.field) for a in rule.do if a.action in ("set_field", "clear_field")}
            for rule in rules if rule.enabled}
    triggered = {rule.name: (rule.table, rule.when.field) for rule in rules
                 if rule.enabled and rule.when.trigger == "field_changed"}
    edges = {name: [other for other, fired_by in triggered.items() if fired_by in sets[name]] for name in sets}
    for start in edges:
        path, stack = [start], [iter(edges[start])]
        while stack:
            following = next(stack[-1], None)
            if following is None:
                stack.pop()
                path.pop()
            elif following == start:
                return [*path, start]
            elif following not in path:
                path.append(following)
                stack.append(iter(edges.get(following, ())))
    return []


# -- which changes fire which rules --------------------------------------------------------------


def holds(doc: Mapping[str, Any], conditions: Mapping[str, Any]) -> bool:
    """A record's fields hold a rule's conditions (a stored document leaves out a false value)."""
    return all(doc.get(name) == value or (value is False and not doc.get(name)) for name, value in conditions.items())


def fires(rule: Rule, before: Mapping[str, Any] | None, after: Mapping[str, Any], *, won: str, lost: str) -> bool:
    """Whether a change of one record (``before`` None: it was created) fires ``rule``."""
    when = rule.when
    if not rule.enabled or when.trigger in TIMED or not holds(after, when.conditions):
        return False
    old = before or {}
    match when.trigger:
        case "created":
            return before is None
        case "field_changed":
            changed = before is not None and old.get(when.field) != after.get(when.field)
            return changed and (when.to is None or after.get(when.field) == when.to)
        case "stage_entered":
            return after.get("stage") == when.stage and old.get("stage") != when.stage
        case "stage_left":
            return before is not None and old.get("stage") == when.stage and after.get("stage") != when.stage
        case "won" | "lost":
            key = won if when.trigger == "won" else lost
            return after.get("stage") == key and old.get("stage") != key
    return after.get("status") == "resolved" and old.get("status") != "resolved"  # ticket_resolved


def effect_id(rule: Rule, record_id: str, occurrence: str, action: int) -> str:
    """The id of what an action of ``rule`` makes for one occurrence: the same on every replica."""
    text = f"dealdeck rule\x00{rule.name}\x00{record_id}\x00{occurrence}\x00{action}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def task_title(template: str, doc: Mapping[str, Any], customer: str) -> str:
    """A task title from its template: ``{title}``, ``{name}``, ``{customer}``."""
    label = str(doc.get("title") or doc.get("name") or "")
    values = {"title": label, "name": str(doc.get("name") or label), "customer": customer or label}
    text = template
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text[:200].strip() or template[:200]
