"""Decisions taken in the weekly review, about a stalled, slipped or at-risk deal or
customer: a next step with an owner and a date (a task), a new close date, a stage move,
or a note. Each is an ordinary change (it syncs like any edit) plus a ``Decision`` entry
on the record, in the same commit, that says which review took it; ``decisions_of``
(``store.review_decisions``) lists a week's decisions for its report."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from store.database import Store
from store.errors import StoreError
from store.models import Customer, Decision, DecisionKind, Opportunity, Task
from store.review_decisions import KIND_LABELS, DecisionLine, decisions_of  # noqa: F401  (re-exported)

#: the record types a decision can be about, by table
DECIDED: dict[str, type[Opportunity] | type[Customer]] = {"opportunities": Opportunity, "customers": Customer}
def _record_class(table: str) -> type[Opportunity] | type[Customer]:
    if table not in DECIDED:
        raise StoreError(f"a decision is about a deal or a customer, not {table}")
    return DECIDED[table]


def _decide(store: Store, table: str, record_id: str, week: str, kind: DecisionKind, text: str,
            changes: Mapping[str, Any] | None = None, task_id: str | None = None) -> Decision:
    """The decision's entry and ``changes`` to its record, in the caller's commit."""
    decision = store.validate(Decision, {"kind": kind, "week": week, "by": store.me, "text": text,
                                         "task_id": task_id})
    with store.writing() as w:
        w.update(_record_class(table), record_id, {**(changes or {}), "decisions": [decision]})
    return decision


def decide_next_step(store: Store, table: str, record_id: str, week: str, *, step: str, owner: str,
                     due: date) -> Decision:
    """A task for ``owner`` due on ``due``, linked to the record; a deal's next step is
    set to it too (the board shows it)."""
    step = step.strip()
    if owner not in store.config.rep_ids():
        raise StoreError(f"{owner!r} is not one of the team's reps")
    with store.writing():
        record = store.require(_record_class(table), record_id)
        links = ({"opportunity_id": record_id, "customer_id": record.customer_id} if isinstance(record, Opportunity)
                 else {"customer_id": record_id})
        task = store.new(Task, title=step, kind="follow_up", due=due, owner=owner, **links)
        name = next((rep.name for rep in store.config.reps if rep.id == owner), owner)
        text = f"{step} · {name} by {due.isoformat()}"
        changes = {"next_step": step} if table == "opportunities" else {}
        return _decide(store, table, record_id, week, "next_step", text, changes, task.id)


def decide_close_date(store: Store, deal_id: str, week: str, close: date) -> Decision:
    with store.writing():
        deal = store.require(Opportunity, deal_id)
        before = deal.expected_close.isoformat() if deal.expected_close else "none"
        return _decide(store, "opportunities", deal_id, week, "close_date", f"{before} → {close.isoformat()}",
                       {"expected_close": close})


def decide_stage(store: Store, deal_id: str, week: str, stage: str, lost_reason: str = "") -> Decision:
    """The stage move as the board makes it (its history, a win's maintenance plan)."""
    config = store.config
    with store.writing():
        before = store.require(Opportunity, deal_id).stage
        if stage == before:
            raise StoreError(f"the deal is already in {config.stage(stage).label}")
        store.move_stage(deal_id, stage, lost_reason=lost_reason)
        reason = f" ({lost_reason.strip()})" if stage == config.lost_stage.key else ""
        text = f"{config.stage(before).label} → {config.stage(stage).label}{reason}"
        return _decide(store, "opportunities", deal_id, week, "stage", text)


def decide_note(store: Store, table: str, record_id: str, week: str, note: str) -> Decision:
    return _decide(store, table, record_id, week, "note", note.strip())


def week_decisions(store: Store, week: str) -> list[DecisionLine]:
    return decisions_of(week, store.rows(Opportunity), store.rows(Customer))
