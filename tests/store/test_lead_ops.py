"""Assigning and claiming leads carry their work along; bulk actions are one commit and one
named undo step; the export of chosen leads."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from store import bulk
from store.database import Store
from store.errors import StoreError
from store.models import Customer, Lead, Task

TEAM = "me: ann\nreps: [{id: ann, name: Ann Lee}, {id: bo, name: Bo Chen}]\n"
TODAY = date(2026, 11, 25)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    folder = tmp_path / "ann"
    folder.mkdir()
    (folder / "config.yaml").write_text(TEAM)
    with Store(folder) as opened:
        yield opened


def test_assigning_a_lead_moves_its_open_tasks_in_the_same_commit(store: Store) -> None:
    lead = store.add_lead(name="Emma Clarke")
    other = store.add_lead(name="Tom Ford")
    open_task = store.new(Task, title="Send brochure", due=TODAY, lead_id=lead.id)
    done_task = store.new(Task, title="Intro call", due=TODAY, lead_id=lead.id, done=True)
    elsewhere = store.new(Task, title="Quote", due=TODAY, lead_id=other.id)
    store.assign_lead(lead.id, "bo")
    owners = {t.title: t.owner for t in store.all(Task)}
    assert owners == {open_task.title: "bo", done_task.title: "ann", elsewhere.title: "ann"}
    store.undo_last()  # one step takes back the lead and its task
    assert store.require(Lead, lead.id).owner == "ann"
    assert store.require(Task, open_task.id).owner == "ann"


def test_a_claimed_lead_gets_a_fresh_follow_up(store: Store) -> None:
    stale = store.add_lead(name="Pat", owner="bo", in_pool=True, next_follow_up=date(2026, 10, 1))
    never = store.add_lead(name="Sam", owner="bo", in_pool=True)
    planned = store.add_lead(name="Kim", owner="bo", in_pool=True, next_follow_up=date(2026, 12, 3))
    for lead in (stale, never, planned):
        store.claim_lead(lead.id, today=TODAY)
    assert store.require(Lead, stale.id).next_follow_up == TODAY
    assert store.require(Lead, never.id).next_follow_up == TODAY
    assert store.require(Lead, planned.id).next_follow_up == date(2026, 12, 3)  # still to come: kept
    claimed = store.require(Lead, stale.id)
    assert (claimed.owner, claimed.in_pool, claimed.history[-1].kind) == ("ann", False, "claimed")


def test_a_bulk_action_is_one_undo_step_named_for_what_it_did(store: Store) -> None:
    leads = [store.add_lead(name=f"Lead {i}") for i in range(3)]
    steps = len(store.undo_stack)
    bulk.assign_leads(store, [lead.id for lead in leads], "bo", label="assign 3 leads to Bo Chen")
    assert len(store.undo_stack) == steps + 1
    assert {store.require(Lead, lead.id).owner for lead in leads} == {"bo"}
    assert store.undo_last() == "assign 3 leads to Bo Chen"
    assert {store.require(Lead, lead.id).owner for lead in leads} == {"ann"}


def test_a_refused_bulk_action_writes_nothing(store: Store) -> None:
    good = store.add_lead(name="Good", grade="C")
    with pytest.raises(StoreError):
        bulk.grade_leads(store, [good.id, "0" * 32], -1, label="grade 2 leads up")
    assert store.require(Lead, good.id).grade == "C"


def test_bulk_grade_tag_follow_up_and_disqualify(store: Store) -> None:
    a = store.add_lead(name="A", grade="C", tags=["expo"])
    b = store.add_lead(name="B")
    ids = [a.id, b.id]
    bulk.grade_leads(store, ids, -1, label="grade 2 leads up")
    assert (store.require(Lead, a.id).grade, store.require(Lead, b.id).grade) == ("B", "C")
    bulk.tag_records(store, ids, Lead, "expo", label="tag 2 leads #expo")
    assert store.require(Lead, a.id).tags == ["expo"] and store.require(Lead, b.id).tags == ["expo"]
    bulk.follow_up_leads(store, ids, date(2026, 12, 1), label="follow up")
    assert store.require(Lead, b.id).next_follow_up == date(2026, 12, 1)
    bulk.disqualify_leads(store, ids, "No budget", label="disqualify 2 leads")
    assert {store.require(Lead, i).status for i in ids} == {"disqualified"}


def test_bulk_assign_customers_refuses_an_unknown_rep(store: Store) -> None:
    customer = store.new(Customer, name="Contoso")
    with pytest.raises(StoreError):
        bulk.assign_customers(store, [customer.id], "zed", label="assign")
    bulk.assign_customers(store, [customer.id], "bo", label="assign 1 customer to Bo Chen")
    assert store.require(Customer, customer.id).owner == "bo"


def test_export_only_the_chosen_leads(store: Store) -> None:
    chosen = store.add_lead(name="Chosen", phone="+49 30 1234567")
    store.add_lead(name="Left out")
    out = io.StringIO()
    assert bulk.export_leads(store, [chosen.id], out, excel=False) == 1
    header, row = out.getvalue().splitlines()
    assert "name" in header.split(",") and "Chosen" in row and "Left out" not in out.getvalue()
