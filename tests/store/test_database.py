"""The Store's operations, checked against the stored documents."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from store.database import ACTIVITY_LINKS, Store
from store.errors import StoreError, ValidationFailed
from store.hlc import Stamp
from store.models import (
    Activity,
    Contact,
    Customer,
    Lead,
    Opportunity,
    Quote,
    QuoteLine,
    Survey,
    Task,
    Ticket,
)
from store.records import BASE, DELETED, STAMPS, is_live, stamp_of


def stored(store: Store, table: str, record_id: str) -> dict:
    return store.storage.tables[table][record_id]


def qualified_lead(store: Store, **extra: object) -> Lead:
    lead = store.new(Lead, name="Emma Clarke", company="Northwind Traders Ltd",
                     email="emma@northwind.example", phone="+44 20 7946 0958", title="Buyer",
                     tags=["expo"], **extra)
    return store.update(Lead, lead.id, status="qualified")


# --- create / update / delete and their stamps ---------------------------------------


def test_create_stamps_every_field_with_one_stamp_of_this_replica(store: Store) -> None:
    lead = store.new(Lead, name="Ada", company="Analytical Engines")
    doc = stored(store, "leads", lead.id)
    assert list(doc[STAMPS]) == [BASE]
    assert Stamp.parse(doc[STAMPS][BASE]).replica == store.replica_id
    assert {stamp_of(doc, f) for f in doc if f not in ("id", STAMPS)} == {doc[STAMPS][BASE]}


def test_update_restamps_only_the_changed_fields(store: Store) -> None:
    lead = store.new(Lead, name="Ada", company="Analytical Engines")
    before = dict(stored(store, "leads", lead.id))
    store.update(Lead, lead.id, company="Difference Engines")
    after = stored(store, "leads", lead.id)
    changed = {f for f in after if f != STAMPS and stamp_of(after, f) != stamp_of(before, f)}
    assert changed == {"company", "updated_at"}
    assert stamp_of(after, "company") > stamp_of(before, "company")


def test_the_replica_id_is_made_once_per_folder(folder: Path) -> None:
    with Store(folder) as first:
        replica = first.replica_id
    with Store(folder) as again:
        assert again.replica_id == replica
    with Store(folder.parent / "other") as other:
        assert other.replica_id != replica


def test_stamps_keep_increasing_across_restarts(folder: Path) -> None:
    with Store(folder) as store:
        lead = store.new(Lead, name="Ada")
        first = stamp_of(stored(store, "leads", lead.id), "name")
    with Store(folder) as store:
        store.update(Lead, lead.id, name="Ada L.")
        assert stamp_of(stored(store, "leads", lead.id), "name") > first


def test_delete_leaves_a_tombstone_newer_than_every_field(store: Store) -> None:
    lead = store.new(Lead, name="Ada")
    store.delete(Lead, lead.id)
    doc = stored(store, "leads", lead.id)
    assert not is_live(doc)
    assert all(doc[DELETED] > s for s in doc[STAMPS].values())
    assert store.get(Lead, lead.id) is None and store.count(Lead) == 0
    with pytest.raises(StoreError, match="no lead"):
        store.update(Lead, lead.id, name="x")


def test_a_field_stamped_after_the_delete_brings_the_record_back() -> None:
    doc = {"id": "x", STAMPS: {"name": "0000000000000002:0000:" + "a" * 16},
           DELETED: "0000000000000001:0000:" + "b" * 16}
    assert is_live(doc)


def test_invalid_changes_are_refused_with_field_messages_and_nothing_changes(store: Store) -> None:
    lead = store.new(Lead, name="Ada", email="ada@example.com")
    before = dict(stored(store, "leads", lead.id))
    with pytest.raises(ValidationFailed) as refused:
        store.update(Lead, lead.id, email="nope", score=300)
    assert set(refused.value.errors) == {"email", "score"}
    assert str(refused.value).startswith("lead email: not a valid email address")
    assert stored(store, "leads", lead.id) == before


def test_activities_and_surveys_are_append_only(store: Store) -> None:
    customer = store.new(Customer, name="Acme")
    activity = store.log_activity("call", customer_id=customer.id, subject="intro")
    with pytest.raises(StoreError, match="cannot be edited"):
        store.update(Activity, activity.id, subject="changed")
    survey = store.new(Survey, customer_id=customer.id, kind="csat", score=4)
    with pytest.raises(StoreError, match="cannot be edited"):
        store.update(Survey, survey.id, score=5)


def test_grow_only_lists_keep_old_entries(store: Store) -> None:
    customer = store.new(Customer, name="Acme")
    opp = store.new(Opportunity, title="Deal", customer_id=customer.id, stage="quote")
    line = QuoteLine(product="Licence", quantity=Decimal(1), unit_price=Decimal(100))
    v1 = Quote(version=1, by="me", currency="USD", lines=[line])
    store.update(Opportunity, opp.id, quotes=[v1])
    v2 = Quote(version=2, by="me", currency="USD", lines=[line, line])
    revised = store.update(Opportunity, opp.id, quotes=[v2])  # a revision adds, never replaces
    assert [q.version for q in revised.quotes] == [1, 2]
    assert revised.latest_quote() == v2


def test_each_record_type_round_trips_through_the_files(folder: Path) -> None:
    with Store(folder) as store:
        customer = store.new(Customer, name="上海华信科技有限公司", industry="Manufacturing")
        contact = store.new(Contact, customer_id=customer.id, name="李娜", birthday="1988-04-02")
        task = store.new(Task, title="Send brochure", due="2026-12-01", customer_id=customer.id)
        ticket = store.new(Ticket, customer_id=customer.id, title="Printer jams", severity="high")
        created = {(type(r), r.id): r for r in (customer, contact, task, ticket)}
    with Store(folder) as store:
        for (cls, record_id), record in created.items():
            assert store.require(cls, record_id) == record


# --- queries ------------------------------------------------------------------------------


def test_queries_by_owner_status_grade_tag_stage_and_text(folder: Path) -> None:
    with Store(folder) as store:
        a = store.new(Lead, name="Ada", company="Engines", grade="A", tags=["expo"], owner="me")
        store.new(Lead, name="Bob", company="Builders", grade="B", status="contacted")
        c = store.new(Lead, name="李娜", company="华信", email="li.na@huaxin.example", grade="A")
        customer = store.new(Customer, name="Acme")
        deal = store.new(Opportunity, title="Big deal", customer_id=customer.id, stage="quote")
        store.new(Opportunity, title="Small deal", customer_id=customer.id, stage="initial")
        store.delete(Lead, c.id)
        assert [x.name for x in store.find(Lead, grade="A")] == ["Ada"]  # the deleted one is gone
        assert [x.name for x in store.find(Lead, status="contacted")] == ["Bob"]
        assert [x.id for x in store.find(Lead, tag="EXPO")] == [a.id]
        assert [x.name for x in store.find(Lead, text="ENGIN")] == ["Ada"]
        assert {x.name for x in store.find(Lead, owner="me")} == {"Ada", "Bob"}
        assert [x.id for x in store.find(Opportunity, stage="quote")] == [deal.id]
        assert store.find(Lead, text="huaxin") == []


# --- leads ------------------------------------------------------------------------------------


def test_duplicates_match_email_phone_or_company_and_name(store: Store) -> None:
    lead = store.new(Lead, name="Emma Clarke", company="Northwind Traders Ltd",
                     email="emma@northwind.example", phone="+44 20 7946 0958")
    customer = store.new(Customer, name="Contoso GmbH", phone="030 1234567")
    assert store.duplicates_of({"name": "x", "email": "EMMA@northwind.example"}) == [lead]
    assert store.duplicates_of({"name": "x", "phone": "020 7946 0958"}) == [lead]
    assert store.duplicates_of({"name": "emma  clarke", "company": "NORTHWIND TRADERS"}) == [lead]
    assert store.duplicates_of({"name": "Hans", "company": "Contoso"}) == [customer]
    assert store.duplicates_of({"name": "Emma Clarke", "company": "Other"}) == []
    assert store.duplicates_of({"name": "Emma", "email": "emma@northwind.example"}, exclude_id=lead.id) == []


def test_assign_claim_and_disqualify_are_recorded(folder: Path) -> None:
    (folder).mkdir(parents=True)
    (folder / "config.yaml").write_text("me: ann\nreps: [{id: ann, name: Ann}, {id: bo, name: Bo}]\n")
    with Store(folder) as store:
        lead = store.new(Lead, name="Ada", owner="ann")
        lead = store.assign_lead(lead.id, "bo")
        assert lead.owner == "bo" and lead.history[-1].kind == "assigned"
        with pytest.raises(StoreError, match="not in the lead pool"):
            store.claim_lead(lead.id)
        store.update(Lead, lead.id, in_pool=True)
        lead = store.claim_lead(lead.id)
        assert lead.owner == "ann" and not lead.in_pool and lead.history[-1].kind == "claimed"
        with pytest.raises(StoreError, match="not one of the team's reps"):
            store.assign_lead(lead.id, "zed")
        with pytest.raises(StoreError, match="needs a reason"):
            store.disqualify_lead(lead.id, "  ")
        lead = store.disqualify_lead(lead.id, "No budget this year")
        assert lead.status == "disqualified" and lead.history[-1].note == "No budget this year"


# --- conversion, stage moves, win and lose --------------------------------------------------


def test_converting_a_qualified_lead_creates_customer_contact_and_opportunity_at_once(store: Store) -> None:
    lead = qualified_lead(store)
    store.log_activity("call", lead_id=lead.id, subject="first call")
    journal_before = store.storage.journal_path.stat().st_size
    result = store.convert_lead(lead.id, amount="5000", title="Northwind rollout")
    journal_lines = store.storage.journal_path.read_bytes()[journal_before:].count(b"\n")
    assert journal_lines == 1  # one transaction: all four records or none

    customer, contact, opp = result.customer, result.contact, result.opportunity
    assert customer.name == "Northwind Traders Ltd" and customer.lead_id == lead.id
    assert contact.customer_id == customer.id and contact.name == "Emma Clarke" and contact.primary
    assert opp.customer_id == customer.id and opp.stage == "initial" and opp.amount == Decimal(5000)
    assert [c.stage for c in opp.stage_history] == ["initial"]
    stored_lead = store.require(Lead, lead.id)
    assert stored_lead.status == "converted" and stored_lead.opportunity_id == opp.id
    assert [e.kind for e in stored_lead.history][-1] == "converted"
    # The lead's history is kept: its activity is still there, linked to the lead.
    assert len(store.find(Activity, where={"lead_id": lead.id})) == 1


def test_conversion_can_link_an_existing_customer(store: Store) -> None:
    existing = store.new(Customer, name="Northwind")
    lead = qualified_lead(store)
    result = store.convert_lead(lead.id, customer_id=existing.id)
    assert result.customer.id == existing.id and store.count(Customer) == 1


def test_only_qualified_leads_convert_and_a_refusal_writes_nothing(store: Store) -> None:
    lead = store.new(Lead, name="Ada")
    with pytest.raises(StoreError, match="only a qualified lead"):
        store.convert_lead(lead.id)
    lead = qualified_lead(store)
    with pytest.raises(ValidationFailed, match="amount"):
        store.convert_lead(lead.id, amount="-5")
    assert store.count(Customer) == 0 and store.count(Opportunity) == 0
    assert store.require(Lead, lead.id).status == "qualified"


def test_stage_moves_record_history_and_may_skip_stages(store: Store) -> None:
    result = store.convert_lead(qualified_lead(store).id, amount=100)
    opp = store.advance(result.opportunity.id)
    assert opp.stage == "needs"
    opp = store.move_stage(opp.id, "negotiation")  # skipping "quote" is allowed
    opp = store.advance(opp.id, -1)
    assert [c.stage for c in opp.stage_history] == ["initial", "needs", "negotiation", "quote"]
    assert all(c.by == "me" for c in opp.stage_history)
    assert opp.entered_stage_at() == opp.stage_history[-1].at
    with pytest.raises(StoreError, match="unknown stage"):
        store.move_stage(opp.id, "maybe")


def test_winning_activates_the_customer_and_starts_its_maintenance_plan(store: Store) -> None:
    result = store.convert_lead(qualified_lead(store).id, amount=100)
    won = store.win(result.opportunity.id)
    customer = store.require(Customer, result.customer.id)
    today = datetime.now(UTC).date()
    assert won.stage == "won" and won.closed_at is not None
    assert customer.lifecycle == "active" and customer.active_since == today
    assert customer.revisit_days == 30 and customer.next_revisit == today + timedelta(days=30)


def test_losing_needs_a_reason_and_keeps_it(store: Store) -> None:
    result = store.convert_lead(qualified_lead(store).id, amount=100)
    with pytest.raises(StoreError, match="needs a reason"):
        store.lose(result.opportunity.id, "")
    lost = store.lose(result.opportunity.id, "Lost to competitor")
    assert lost.stage == "lost" and lost.lost_reason == "Lost to competitor" and lost.closed_at
    assert store.require(Customer, result.customer.id).lifecycle == "prospect"
    with pytest.raises(StoreError, match="is lost"):
        store.advance(lost.id)


def test_amount_and_close_date_changes_are_tracked(store: Store) -> None:
    customer = store.new(Customer, name="Acme")
    opp = store.new(Opportunity, title="Deal", customer_id=customer.id, stage="quote", amount=1000,
                    expected_close="2026-12-01")
    opp = store.update(Opportunity, opp.id, amount=800, expected_close="2027-01-15")
    changes = {(c.field, c.old, c.new) for c in opp.changes}
    assert changes == {("amount", "1000", "800"), ("expected_close", "2026-12-01", "2027-01-15")}


def test_logging_an_activity_updates_contact_dates(store: Store) -> None:
    lead = store.new(Lead, name="Ada")
    customer = store.new(Customer, name="Acme", revisit_days=14)
    when = datetime(2026, 11, 20, 10, tzinfo=UTC)
    store.log_activity("call", lead_id=lead.id, at=when)
    store.log_activity("visit", customer_id=customer.id, at=when)
    lead = store.require(Lead, lead.id)
    customer = store.require(Customer, customer.id)
    assert lead.status == "contacted" and lead.last_contacted_at == when
    assert customer.last_contact_at == when and customer.next_revisit == when.date() + timedelta(days=14)


def test_a_failed_transaction_leaves_memory_and_disk_unchanged(store: Store) -> None:
    lead = store.new(Lead, name="Ada")
    before = store.storage.journal_path.read_bytes()
    with pytest.raises(RuntimeError), store.writing() as w:
        w.update(Lead, lead.id, {"name": "Changed"})
        raise RuntimeError("boom")
    assert store.require(Lead, lead.id).name == "Ada"
    assert store.storage.journal_path.read_bytes() == before


def test_another_process_sees_changes_after_refresh(folder: Path) -> None:
    with Store(folder) as mine, Store(folder) as theirs:
        lead = mine.new(Lead, name="Ada")
        assert theirs.get(Lead, lead.id) is None
        assert theirs.refresh() is True
        assert theirs.require(Lead, lead.id).name == "Ada"
        assert theirs.refresh() is False


def team_folder(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(
        "me: ann\nreps: [{id: ann, name: Ann}, {id: bo, name: Bo}, {id: cy, name: Cy}]\n"
        "lead_pool: {return_after_days: 10}\n")
    return folder


def test_auto_assignment_goes_round_the_team_and_is_recorded(folder: Path) -> None:
    with Store(team_folder(folder)) as store:
        owners = [store.add_lead(name=f"Lead {i}", owner="auto").owner for i in range(4)]
        assert owners == ["ann", "bo", "cy", "ann"]
        mine = store.add_lead(name="Mine")
        assert mine.owner == "ann" and mine.history[0].kind == "created"
    with Store(folder) as store:  # round robin continues across sessions
        assert store.add_lead(name="Next", owner="auto").owner == "bo"
        assert store.find(Lead, text="Next")[0].history[0].note == "auto-assigned"


def test_leads_not_followed_up_return_to_the_pool_and_can_be_claimed(folder: Path) -> None:
    with Store(team_folder(folder)) as store:
        stale = store.add_lead(name="Stale", owner="bo", created_at="2026-11-01T09:00:00Z")
        fresh = store.add_lead(name="Fresh", owner="bo", created_at="2026-11-01T09:00:00Z",
                               last_contacted_at="2026-11-20T09:00:00Z")
        store.add_lead(name="Edge", owner="bo", created_at="2026-11-15T09:00:00Z")
        assert {lead.history[0].at for lead in (stale, fresh)} == {stale.created_at}
        returned = store.sweep_pool(date(2026, 11, 25))
        assert [lead.name for lead in returned] == ["Stale"]  # Edge is exactly 10 days: not yet
        assert store.require(Lead, stale.id).history[-1].kind == "returned_to_pool"
        assert store.sweep_pool(date(2026, 11, 25)) == []
        claimed = store.claim_lead(stale.id)
        assert claimed.owner == "ann" and claimed.history[-1].kind == "claimed"
        assert store.sweep_pool(date(2026, 11, 25)) == []  # a claim restarts the clock


def test_a_backdated_visit_never_pulls_the_revisit_earlier(store: Store) -> None:
    customer = store.new(Customer, name="Acme", revisit_days=30)
    store.log_activity("visit", customer_id=customer.id, at=datetime(2026, 11, 20, tzinfo=UTC))
    store.log_activity("email", customer_id=customer.id, at=datetime(2026, 11, 24, tzinfo=UTC))
    store.log_activity("visit", customer_id=customer.id, at=datetime(2026, 11, 1, tzinfo=UTC))
    customer = store.require(Customer, customer.id)
    assert customer.next_revisit == date(2026, 12, 20)  # from the 20 Nov visit, not the email
    assert customer.last_contact_at == datetime(2026, 11, 24, tzinfo=UTC)


def test_operations_inside_one_writing_block_commit_once(store: Store) -> None:
    lead = store.new(Lead, name="Ada", next_follow_up="2026-11-25")
    before = store.storage.journal_path.stat().st_size
    with store.writing():
        store.log_activity("call", lead_id=lead.id, subject="Follow-up")
        store.update(Lead, lead.id, next_follow_up=None)
    added = store.storage.journal_path.read_bytes()[before:]
    assert added.count(b"\n") == 1
    assert store.require(Lead, lead.id).next_follow_up is None


def test_stored_documents_leave_out_falsy_defaults_but_keep_every_value(store: Store) -> None:
    lead = store.new(Lead, name="Ada", tags=[], in_pool=False, score=0)
    doc = stored(store, "leads", lead.id)
    assert {"tags", "in_pool", "score", "email", "notes"}.isdisjoint(doc)
    assert doc["status"] == "new" and doc["source"] == "other"  # truthy defaults are written
    store.update(Lead, lead.id, in_pool=True, notes="x")
    store.update(Lead, lead.id, in_pool=False, notes="")  # back to the default: left out again ...
    doc = stored(store, "leads", lead.id)
    assert "in_pool" not in doc and "notes" not in doc
    assert stamp_of(doc, "in_pool") > doc[STAMPS][BASE]  # ... but the change is stamped
    assert store.require(Lead, lead.id) == store.model_of(Lead, doc)
    assert store.require(Lead, lead.id).in_pool is False


def test_a_stored_record_breaking_a_whole_record_rule_still_reads(store: Store) -> None:
    """As after merging two reps' edits of linked fields: shown and fixable, not a crash."""
    lead = store.new(Lead, name="Ada", email="ada@example.com")
    with store.storage.transaction() as txn:  # a merge writes documents, not models
        txn.put("leads", {**stored(store, "leads", lead.id), "status": "disqualified"})
    broken = store.require(Lead, lead.id)
    assert (broken.status, broken.disqualified_reason, broken.email) == ("disqualified", "", "ada@example.com")
    with pytest.raises(ValidationFailed, match="needs a reason"):
        store.update(Lead, lead.id, notes="still broken")
    fixed = store.update(Lead, lead.id, disqualified_reason="No budget")
    assert fixed.disqualified_reason == "No budget"


def test_find_matches_a_falsy_value_that_the_document_leaves_out(store: Store) -> None:
    customer = store.new(Customer, name="Acme")
    open_task = store.new(Task, title="Call", due=date(2026, 12, 1), customer_id=customer.id)
    store.new(Task, title="Done", due=date(2026, 12, 1), customer_id=customer.id, done=True)
    assert "done" not in stored(store, "tasks", open_task.id)  # the falsy default is not stored
    assert [t.title for t in store.find(Task, where={"customer_id": customer.id, "done": False})] == ["Call"]
    assert [t.title for t in store.find(Task, where={"done": True})] == ["Done"]


def test_links_group_live_documents_by_the_record_they_link_to_and_follow_changes(store: Store) -> None:
    northwind, contoso = store.new(Customer, name="Northwind"), store.new(Customer, name="Contoso")
    call = store.log_activity("call", customer_id=northwind.id, body="first call")
    links = store.links(Activity, *ACTIVITY_LINKS)
    assert [doc["id"] for doc in links["customer_id"][northwind.id]] == [call.id]
    assert contoso.id not in links["customer_id"] and dict(links["lead_id"]) == {}
    visit = store.log_activity("visit", customer_id=northwind.id)
    assert [doc["id"] for doc in store.links(Activity, *ACTIVITY_LINKS)["customer_id"][northwind.id]] == [
        call.id, visit.id]
    ada = store.new(Contact, customer_id=contoso.id, name="Ada")
    assert [doc["name"] for doc in store.links(Contact, "customer_id")["customer_id"][contoso.id]] == ["Ada"]
    store.delete(Contact, ada.id)
    assert contoso.id not in store.links(Contact, "customer_id")["customer_id"]


def test_a_fold_over_the_packed_activity_log_reads_only_what_was_added_since(store: Store) -> None:
    customer = store.new(Customer, name="Northwind")
    first = [store.log_activity("call", customer_id=customer.id).id for _ in range(3)]
    folded: list[str] = []

    def fold() -> list[str]:
        return store.fold(Activity, "test", list, lambda ids, key, doc: (folded.append(key), ids.append(doc["id"])))

    assert fold() == first and len(folded) == 3
    store.new(Lead, name="Ada")  # another table: nothing to fold again
    assert fold() == first and len(folded) == 3
    later = store.log_activity("visit", customer_id=customer.id).id
    assert fold() == [*first, later] and folded[3:] == [later]  # only the new one
    store.delete(Activity, first[0])  # a replaced document: folded again from the start
    assert fold() == [*first[1:], later] and len(folded) == 4 + 3
    digest = store.activity_digest()
    assert digest.last_by_customer() == {customer.id: datetime.now(UTC).date()}
    assert sum(day.count for day in digest.days()) == 3


def test_the_activity_log_of_a_one_shot_store_folds_once_and_then_what_was_added(folder: Path) -> None:
    with Store(folder, lean=False) as store:  # the log is on disk in every store, lean or not
        customer = store.new(Customer, name="Northwind")
        store.log_activity("call", customer_id=customer.id)
        folded: list[str] = []

        def fold() -> list[str]:
            return store.fold(Activity, "test", list, lambda ids, key, doc: (folded.append(key), ids.append(key)))

        assert len(fold()) == 1 and len(fold()) == 1 and len(folded) == 1  # one pass until the next change
        store.log_activity("call", customer_id=customer.id)
        assert len(fold()) == 2 and len(folded) == 1 + 1  # only what was added
        assert len(store.links(Activity, *ACTIVITY_LINKS)["customer_id"][customer.id]) == 2


def test_a_label_read_from_the_document_is_the_models(store: Store) -> None:
    lead = store.new(Lead, name="Ada Lovelace")
    customer = store.new(Customer, name="Analytical Engines")
    deal = store.new(Opportunity, title="Difference engine", customer_id=customer.id, stage="initial")
    for cls, record in ((Lead, lead), (Customer, customer), (Opportunity, deal)):
        assert store.label_of(cls, record.id) == store.require(cls, record.id).label()
    store.delete(Lead, lead.id)
    assert store.label_of(Lead, lead.id) == "" and store.label_of(Lead, "no-such-id") == ""
