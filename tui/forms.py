"""A form for every record type: the fields a person fills in, in order.

The lead tab has its own richer lead form; these serve "New ..." in the command
palette and ``e`` on any record's detail screen until each tab brings its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from store.custom_fields import check_value
from store.database import Store
from store.models import (
    Contact,
    Customer,
    Opportunity,
    Record,
    Survey,
    Task,
    Ticket,
)
from tui.screens.form import Field, Kind


def _customers(store: Store) -> dict[str, str]:
    return {str(doc["name"]): doc["id"] for doc in store.rows(Customer)}


def _choices(values: tuple[str, ...] | list[str]) -> list[tuple[str, str]]:
    return [(value.replace("_", " "), value) for value in values]


def of(model: type[Record], fields: list[Field]) -> list[Field]:
    """``fields`` checked as ``model``'s fields of the same name: the form shows what the
    model refuses with the other fields' errors, in one round, before saving."""
    return [replace(spec, model=model) if spec.name in model.model_fields else spec for spec in fields]


#: how each custom field type is typed in a form
_CUSTOM_KIND: dict[str, Kind] = {"long_text": "notes", "date": "date", "choice": "choice", "yes_no": "choice",
                                 "multi_choice": "tags"}
_CUSTOM_HINT = {"multi_choice": "comma separated: {}", "number": "a number, such as 12 or 12.5",
                "money": "an amount, such as 12500 or 12,500.50", "url": "example.com or https://...",
                "email": "name@example.com"}


def custom_fields(store: Store, table: str) -> list[Field]:
    """The team's custom fields of a record type, in the order declared, checked as their
    declaration says (``store.custom_fields.check_value``)."""
    fields = []
    for spec in store.config.custom(table):
        kind = _CUSTOM_KIND.get(spec.type, "text")
        choices: list[tuple[str, object]] = [(c, c) for c in spec.choices]
        if spec.type == "yes_no":
            choices = [("yes", True), ("no", False)]
        money = f" ({spec.currency or store.config.currency})" if spec.type == "money" else ""
        hint = _CUSTOM_HINT.get(spec.type, "").format(", ".join(spec.choices))
        fields.append(Field(spec.name, spec.label + money, kind, choices, placeholder=hint,
                            required=spec.required, check=partial(check_value, spec)))
    return fields


def custom_defaults(store: Store, table: str) -> dict[str, Any]:
    """A new record's custom fields at their declared defaults."""
    return {spec.name: spec.default for spec in store.config.custom(table) if spec.default is not None}


def customer_fields(store: Store) -> list[Field]:
    return of(Customer, [
        Field("name", "Company name", required=True), Field("industry", "Industry"),
        Field("segment", "Segment"), Field("region", "Region"), Field("phone", "Phone"),
        Field("email", "Email"), Field("website", "Website"), Field("address", "Address"),
        Field("tags", "Tags", "tags", placeholder="comma separated"),
        Field("revisit_days", "Revisit every N days", "number"), Field("notes", "Notes", "notes"),
        *custom_fields(store, Customer.table)])


def contact_fields(store: Store) -> list[Field]:
    return of(Contact, [
        Field("customer_id", "Customer", "lookup", lookup=_customers(store), required=True),
        Field("name", "Name", required=True), Field("role", "Role"), Field("phone", "Phone"),
        Field("email", "Email"), Field("birthday", "Birthday", "date", placeholder="1988-04-02"),
        Field("notes", "Notes", "notes"), *custom_fields(store, Contact.table)])


def opportunity_fields(store: Store) -> list[Field]:
    stages = [(s.label, s.key) for s in store.config.stages]
    categories = [("commit", "commit"), ("best case", "best_case"), ("pipeline", "pipeline"),
                  ("omitted", "omitted")]
    return of(Opportunity, [
        Field("title", "Title", required=True),
        Field("customer_id", "Customer", "lookup", lookup=_customers(store), required=True),
        Field("amount", "Amount", "number"), Field("currency", "Currency", required=True, placeholder="EUR, USD ..."),
        Field("stage", "Stage", "choice", stages, required=True),
        Field("lost_reason", "Lost reason (when lost)"),
        Field("expected_close", "Expected close", "date"), Field("next_step", "Next step"),
        Field("forecast_category", "Forecast category (empty: the stage's default)", "choice", categories),
        Field("notes", "Notes", "notes"), *custom_fields(store, Opportunity.table)])


def task_fields(store: Store) -> list[Field]:
    return of(Task, [Field("title", "Task", required=True), Field("due", "Due", "date", required=True),
                     Field("notes", "Notes", "notes")])


def ticket_fields(store: Store) -> list[Field]:
    return of(Ticket, [
        Field("customer_id", "Customer", "lookup", lookup=_customers(store), required=True),
        Field("title", "Title", required=True), Field("description", "Description", "notes"),
        Field("severity", "Severity", "choice", _choices(("low", "normal", "high", "urgent")), required=True),
        Field("status", "Status", "choice", _choices(("open", "in_progress", "resolved", "closed")),
              required=True),
        Field("assignee", "Assignee", "choice", [(f"{r.name} ({r.id})", r.id) for r in store.config.reps]),
        *custom_fields(store, Ticket.table)])


def survey_fields(store: Store) -> list[Field]:
    return of(Survey, [
        Field("customer_id", "Customer", "lookup", lookup=_customers(store), required=True),
        Field("kind", "Kind", "choice", [("CSAT (1-5)", "csat"), ("NPS (0-10)", "nps")], required=True),
        Field("score", "Score", "number", required=True), Field("comment", "Comment", "notes")])


FORMS: dict[type[Record], Callable[[Store], list[Field]]] = {
    Customer: customer_fields, Contact: contact_fields, Opportunity: opportunity_fields,
    Task: task_fields, Ticket: ticket_fields, Survey: survey_fields,
}


def with_flag(fields: list[Field], values: dict[str, Any]) -> list[Field]:
    """An edit form of a record one of the team's rules flagged: the flag, to clear once dealt with."""
    if not values.get("flag"):
        return fields
    return [*fields, Field("flag", "Risk flag (a rule raised it: empty it once dealt with)")]


def new_values(cls: type[Record], store: Store) -> dict[str, Any]:
    """Sensible starting values for a new record of ``cls``."""
    starts: dict[type[Record], dict[str, Any]] = {
        Opportunity: {"currency": store.config.currency, "stage": store.config.first_stage.key},
        Ticket: {"severity": "normal", "status": "open"}, Survey: {"kind": "csat"},
    }
    return {**starts.get(cls, {}), **custom_defaults(store, cls.table)}


def without_blanks(values: dict[str, Any]) -> dict[str, Any]:
    """Leave out fields left empty, so the model's defaults apply (new records)."""
    return {k: v for k, v in values.items() if v not in (None, "")}
