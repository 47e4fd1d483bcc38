"""Decisions taken in the weekly review: each is an ordinary change plus an entry that says
which review took it, in one commit; bad input changes nothing; they sync to a teammate's
replica and are listed for the week they were taken in."""

from __future__ import annotations

from datetime import date

import pytest

from store.database import Store
from store.decisions import decide_close_date, decide_next_step, decide_note, decide_stage, decisions_of, week_decisions
from store.errors import StoreError
from store.models import Customer, Opportunity, Task

WEEK = "2026-W47"


def a_deal(store: Store) -> Opportunity:
    acme = store.new(Customer, name="Acme Pumps")
    return store.new(Opportunity, title="Plant expansion", customer_id=acme.id, stage="quote", amount=41000,
                     expected_close="2026-11-20")


def file_bytes(store: Store) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(store.folder.iterdir()) if p.is_file() and p.suffix == ".json"}


def test_a_next_step_is_a_task_for_its_owner_and_the_deals_next_step(store: Store) -> None:
    deal = a_deal(store)
    decision = decide_next_step(store, "opportunities", deal.id, WEEK, step="Site survey", owner="me",
                                due=date(2026, 12, 10))
    task = store.require(Task, decision.task_id or "")
    assert (task.title, task.due, task.owner, task.opportunity_id, task.customer_id) == (
        "Site survey", date(2026, 12, 10), "me", deal.id, deal.customer_id)
    deal = store.require(Opportunity, deal.id)
    assert deal.next_step == "Site survey"
    assert [(d.kind, d.week, d.text, d.by) for d in deal.decisions] == [
        ("next_step", WEEK, "Site survey · Me by 2026-12-10", "me")]


def test_close_date_stage_and_note_decisions(store: Store) -> None:
    deal = a_deal(store)
    decide_close_date(store, deal.id, WEEK, date(2027, 1, 15))
    decide_stage(store, deal.id, WEEK, "negotiation")
    customer = store.require(Customer, deal.customer_id)
    decide_note(store, "customers", customer.id, WEEK, "  Call the new buyer before renewal ")
    deal = store.require(Opportunity, deal.id)
    assert (deal.expected_close, deal.stage) == (date(2027, 1, 15), "negotiation")
    assert deal.stage_history[-1].stage == "negotiation"  # moved as the board moves it
    listed = week_decisions(store, WEEK)
    assert [(line.title, line.kind, line.text) for line in listed] == [
        ("Plant expansion", "close_date", "2026-11-20 → 2027-01-15"),
        ("Plant expansion", "stage", "Quote → Negotiation"),
        ("Acme Pumps", "note", "Call the new buyer before renewal")]
    assert week_decisions(store, "2026-W48") == []


def test_losing_a_deal_in_the_meeting_needs_its_reason(store: Store) -> None:
    deal = a_deal(store)
    before = file_bytes(store)
    with pytest.raises(StoreError, match="reason"):
        decide_stage(store, deal.id, WEEK, "lost")
    assert file_bytes(store) == before
    decide_stage(store, deal.id, WEEK, "lost", "Budget cut")
    assert week_decisions(store, WEEK)[0].text == "Quote → Lost (Budget cut)"


@pytest.mark.parametrize("bad", [
    {"owner": "nobody"},  # not a rep
    {"step": "   "},  # nothing decided
])
def test_a_bad_next_step_changes_nothing(store: Store, bad: dict[str, str]) -> None:
    deal = a_deal(store)
    before = file_bytes(store)
    with pytest.raises(StoreError):
        decide_next_step(store, "opportunities", deal.id, WEEK,
                         **{"step": "Call", "owner": "me", "due": date(2026, 12, 1), **bad})  # type: ignore[arg-type]
    assert file_bytes(store) == before and store.all(Task) == []
    assert store.require(Opportunity, deal.id).decisions == []


def test_an_empty_note_or_a_bad_week_is_refused(store: Store) -> None:
    deal = a_deal(store)
    with pytest.raises(StoreError, match="text"):
        decide_note(store, "opportunities", deal.id, WEEK, "  ")
    with pytest.raises(StoreError, match="week"):
        decide_note(store, "opportunities", deal.id, "last week", "Call")
    with pytest.raises(StoreError, match="deal or a customer"):
        decide_note(store, "tasks", deal.id, WEEK, "Call")


def test_decisions_are_listed_in_the_order_they_were_taken() -> None:
    deals = [{"id": "d1", "title": "B deal", "owner": "ann", "decisions": [
        {"kind": "note", "week": WEEK, "text": "second", "by": "bo", "at": "2026-11-23T10:05:00Z"},
        {"kind": "note", "week": "2026-W46", "text": "last week's", "by": "bo", "at": "2026-11-16T10:00:00Z"}]}]
    customers = [{"id": "c1", "name": "A customer", "owner": "bo", "decisions": [
        {"kind": "note", "week": WEEK, "text": "first", "by": "ann", "at": "2026-11-23T10:01:00Z"}]},
        {"id": "c2", "name": "Nothing decided", "owner": "bo"}]
    assert [(d.title, d.text) for d in decisions_of(WEEK, deals, customers)] == [
        ("A customer", "first"), ("B deal", "second")]
