"""Customer logic: churn reasons at their edges, health, RFM, reorder prompts, segments,
the timeline, and the reminders that ticket and survey operations generate."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from store.agenda import agenda
from store.config import Config, CustomerRules, SavedSegment
from store.customers import (
    Answer,
    CustomerRow,
    churn_reasons,
    contact_reason,
    customer_rows,
    health_of,
    in_segment,
    quintile,
    reorder_due,
    reorder_prompts,
    revisit_reason,
    rfm_scores,
    satisfaction_reasons,
    ticket_reason,
    timeline,
    typical_order,
)
from store.database import Store
from store.models import Activity, Contact, Customer, Opportunity, Survey, Task, Ticket

TODAY = date(2026, 11, 25)
RULES = CustomerRules()


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def row(**fields: object) -> CustomerRow:
    base: dict[str, object] = {"id": "c1", "name": "Acme", "industry": "Manufacturing", "segment": "SMB",
                               "tags": ("vip",), "owner": "ann", "lifecycle": "active", "created": ago(400),
                               "search": "acme"}
    base.update(fields)
    return CustomerRow(**base)  # type: ignore[arg-type]


# -- churn reasons, one at a time -------------------------------------------------------------


def test_revisit_overdue_only_after_the_planned_day() -> None:
    assert revisit_reason(TODAY, 30, TODAY) is None
    assert revisit_reason(None, None, TODAY) is None
    reason = revisit_reason(ago(5), 30, TODAY)
    assert reason is not None and reason.text == "revisit overdue by 5d (plan: every 30d)"


def test_low_satisfaction_at_the_threshold_for_csat_and_nps() -> None:
    assert [r.kind for r in satisfaction_reasons([Answer(ago(1), "csat", 2)], RULES)] == ["low_satisfaction"]
    assert satisfaction_reasons([Answer(ago(1), "csat", 3)], RULES) == []
    assert [r.kind for r in satisfaction_reasons([Answer(ago(1), "nps", 6)], RULES)] == ["low_satisfaction"]
    assert satisfaction_reasons([Answer(ago(1), "nps", 7)], RULES) == []
    assert satisfaction_reasons([], RULES) == []


def test_a_drop_is_measured_across_scales() -> None:
    dropped = satisfaction_reasons([Answer(ago(30), "csat", 5), Answer(ago(1), "csat", 4)], RULES)
    assert [r.text for r in dropped] == ["satisfaction down from CSAT 5/5 to CSAT 4/5"]  # 25% of the scale
    assert satisfaction_reasons([Answer(ago(30), "nps", 9), Answer(ago(1), "nps", 8)], RULES) == []  # 10%
    edge = satisfaction_reasons([Answer(ago(30), "nps", 9), Answer(ago(1), "nps", 7)], RULES)  # exactly 20%
    assert [r.kind for r in edge] == ["satisfaction_dropped"]
    assert satisfaction_reasons([Answer(ago(30), "csat", 3), Answer(ago(1), "csat", 5)], RULES) == []


def test_a_ticket_open_past_the_limit_names_the_oldest() -> None:
    assert ticket_reason([(ago(7), "Pump leaks")], 7, TODAY) is None
    reason = ticket_reason([(ago(12), "Pump leaks"), (ago(2), "Invoice")], 7, TODAY)
    assert reason is not None and reason.text == "ticket “Pump leaks” open 12d (limit 7d) (+1 more open)"
    assert ticket_reason([], 7, TODAY) is None


def test_no_contact_counts_from_becoming_a_customer_when_never_contacted() -> None:
    assert contact_reason(ago(60), ago(400), 60, TODAY) is None
    reason = contact_reason(ago(61), ago(400), 60, TODAY)
    assert reason is not None and reason.text == "no contact for 61d (limit 60d)"
    assert contact_reason(None, ago(10), 60, TODAY) is None
    never = contact_reason(None, ago(90), 60, TODAY)
    assert never is not None and never.text.startswith("never contacted (90d")


def test_only_active_and_at_risk_customers_get_reasons() -> None:
    quiet = {"last_contact": ago(100), "next_revisit": ago(3), "revisit_days": 30}
    assert [r.kind for r in churn_reasons(row(**quiet), RULES, TODAY)] == ["revisit_overdue", "no_contact"]
    assert churn_reasons(row(lifecycle="prospect", **quiet), RULES, TODAY) == ()
    assert churn_reasons(row(lifecycle="churned", **quiet), RULES, TODAY) == ()


def test_health_from_reasons_and_lifecycle() -> None:
    one = churn_reasons(row(last_contact=ago(100)), RULES, TODAY)
    two = churn_reasons(row(last_contact=ago(100), next_revisit=ago(1)), RULES, TODAY)
    assert health_of("active", ()) == "good"
    assert health_of("active", one) == "watch"
    assert health_of("active", two) == "risk"
    assert health_of("at_risk", ()) == "watch" and health_of("at_risk", one) == "risk"
    assert health_of("churned", two) == "churned"


# -- RFM, reorders, segments ----------------------------------------------------------------------


def test_quintiles_put_ties_together() -> None:
    assert quintile(5, [1, 2, 3, 4, 5]) == 5 and quintile(1, [1, 2, 3, 4, 5]) == 1
    assert quintile(3, [3, 3, 3, 3]) == 3  # all tied: the middle
    assert quintile(7, []) == 1


def test_rfm_ranks_buyers_and_scores_non_buyers_lowest() -> None:
    def buyer(cid: str, days_ago: int, orders: int, each: int) -> CustomerRow:
        return row(id=cid, purchases=[(ago(days_ago + i * 90), Decimal(each)) for i in reversed(range(orders))])

    rows = [buyer("best", 5, 5, 50000), buyer("mid", 100, 2, 10000), buyer("old", 700, 1, 1000),
            row(id="none")]
    scores = rfm_scores(rows, TODAY)
    assert scores["best"] == (5, 5, 5)
    assert scores["old"] == (1, 1, 1) and scores["none"] == (1, 1, 1)
    assert scores["best"] > scores["mid"] > scores["old"]


def test_reorder_due_uses_the_median_gap_or_the_default() -> None:
    assert reorder_due([], 365) is None
    assert reorder_due([(date(2026, 1, 10), Decimal(1))], 365) == date(2027, 1, 10)
    orders = [(date(2026, 1, 1), Decimal(1)), (date(2026, 3, 2), Decimal(1)), (date(2026, 4, 1), Decimal(1)),
              (date(2026, 7, 10), Decimal(1))]  # gaps 60, 30, 100: median 60
    assert reorder_due(orders, 365) == date(2026, 9, 8)
    same_day = [(date(2026, 1, 1), Decimal(1)), (date(2026, 1, 1), Decimal(1))]
    assert reorder_due(same_day, 365) == date(2027, 1, 1)


def test_reorder_prompts_skip_customers_with_an_open_deal_or_churned() -> None:
    due = row(id="due", purchases=[(ago(400), Decimal(1000)), (ago(300), Decimal(3000))],
              reorder_due=ago(200))
    busy = row(id="busy", reorder_due=ago(10), open_deals=1, purchases=[(ago(375), Decimal(5))])
    gone = row(id="gone", reorder_due=ago(10), lifecycle="churned", purchases=[(ago(375), Decimal(5))])
    later = row(id="later", reorder_due=TODAY + timedelta(days=1), purchases=[(ago(364), Decimal(5))])
    on_the_day = row(id="today", reorder_due=TODAY, purchases=[(ago(365), Decimal(5))])
    assert [r.id for r in reorder_prompts([busy, gone, later, on_the_day, due], TODAY)] == ["due", "today"]
    assert typical_order(due) == Decimal(2000)


def test_segments_match_every_given_field() -> None:
    quiet = row(last_contact=ago(70), rfm=(3, 3, 3))
    segment = SavedSegment(name="Quiet manufacturers", industry="manufactur", lifecycle="active",
                           no_contact_days=60)
    assert in_segment(quiet, segment, TODAY)
    assert not in_segment(row(last_contact=ago(10)), segment, TODAY)
    assert not in_segment(row(last_contact=ago(70), industry="Retail"), segment, TODAY)
    assert in_segment(quiet, SavedSegment(name="VIP", tag="VIP", min_rfm=9), TODAY)
    assert not in_segment(quiet, SavedSegment(name="VIP", tag="VIP", min_rfm=10), TODAY)


# -- built from a real store -------------------------------------------------------------------------


def at(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC).replace(hour=10)


@pytest.fixture
def acme(store: Store) -> Customer:
    acme = store.new(Customer, name="Acme", lifecycle="active", created_at=at(ago(300)), revisit_days=30,
                     next_revisit=ago(4))
    for days, amount in ((200, 1000), (100, 3000)):
        store.new(Opportunity, title=f"Order {days}", customer_id=acme.id, stage="won", amount=amount,
                  closed_at=at(ago(days)), created_at=at(ago(days + 20)))
    store.new(Opportunity, title="Open one", customer_id=acme.id, stage="quote", amount=500)
    store.new(Opportunity, title="Lost one", customer_id=acme.id, stage="lost", lost_reason="Price", amount=9)
    store.log_activity("visit", customer_id=acme.id, subject="Quarterly visit", at=at(ago(70)))
    store.new(Ticket, customer_id=acme.id, title="Pump leaks", created_at=at(ago(10)))
    store.new(Survey, customer_id=acme.id, kind="csat", score=5, at=at(ago(60)))
    store.new(Survey, customer_id=acme.id, kind="csat", score=2, comment="slow service", at=at(ago(5)))
    return acme


def rows_of(store: Store) -> list[CustomerRow]:
    return customer_rows(store.config, customers=store.rows(Customer), opportunities=store.rows(Opportunity),
                         last_activity=store.activity_digest().last_by_customer(), tickets=store.rows(Ticket),
                         surveys=store.rows(Survey),
                         today=TODAY, tasks=store.rows(Task), contacts=store.rows(Contact))


def test_customer_rows_from_the_store(store: Store, acme: Customer) -> None:
    [built] = rows_of(store)
    assert built.value == Decimal(4000) and [d for d, _ in built.purchases] == [ago(200), ago(100)]
    assert (built.open_deals, built.open_value) == (1, Decimal(500))
    assert built.last_contact == ago(70) and built.trend() == "down"
    assert built.latest_answer is not None and built.latest_answer.score == 2
    assert [r.kind for r in built.reasons] == ["revisit_overdue", "low_satisfaction", "satisfaction_dropped",
                                               "ticket_open", "no_contact"]
    assert built.health == "risk" and built.reorder_due == ago(0)


def test_reminders_count_tasks_due_this_week_and_birthdays_coming(store: Store, acme: Customer) -> None:
    store.new(Task, title="Call back", due=TODAY + timedelta(days=7), customer_id=acme.id)
    store.new(Task, title="Later", due=TODAY + timedelta(days=8), customer_id=acme.id)
    store.new(Task, title="Done", due=TODAY, customer_id=acme.id, done=True)
    store.new(Contact, customer_id=acme.id, name="Bea", birthday=date(1980, 12, 2))  # in 7 days
    store.new(Contact, customer_id=acme.id, name="Cy", birthday=date(1980, 12, 3))  # in 8 days
    [built] = rows_of(store)
    assert built.reminders == 2


def test_timeline_merges_everything_newest_first(store: Store, acme: Customer) -> None:
    events = timeline(acme.id, store.config, activities=store.rows(Activity), opportunities=store.rows(Opportunity),
                      tickets=store.rows(Ticket), surveys=store.rows(Survey))
    kinds = [e.kind for e in events]
    assert events == sorted(events, key=lambda e: e.at, reverse=True)
    assert {"visit", "won", "ticket", "survey", "stage"} <= set(kinds)
    assert any(e.text == "CSAT 2/5: slow service" for e in events)
    assert any(e.text.startswith("won Order 100: 3,000") for e in events)


def test_resolving_a_ticket_schedules_the_call_and_a_survey_once(store: Store, acme: Customer) -> None:
    ticket = store.new(Ticket, customer_id=acme.id, title="Pump leaks again", created_at=at(ago(2)))
    store.set_ticket_status(ticket.id, "in_progress", today=TODAY)
    assert store.find(Task, where={"customer_id": acme.id}) == []
    resolved = store.set_ticket_status(ticket.id, "resolved", today=TODAY)
    assert resolved.resolved_at is not None
    tasks = sorted(store.find(Task, where={"customer_id": acme.id}), key=lambda t: t.kind)
    assert [(t.kind, t.due) for t in tasks] == [("after_sales", TODAY + timedelta(days=2)),
                                                ("survey", TODAY + timedelta(days=3))]
    store.set_ticket_status(ticket.id, "in_progress", today=TODAY)  # reopened, then resolved again
    store.set_ticket_status(ticket.id, "resolved", today=TODAY)
    kinds = [t.kind for t in store.find(Task, where={"customer_id": acme.id})]
    assert kinds.count("survey") == 1 and kinds.count("after_sales") == 1  # its call is still open
    call = next(t for t in store.find(Task, where={"customer_id": acme.id}) if t.kind == "after_sales")
    store.update(Task, call.id, done=True)
    store.set_ticket_status(ticket.id, "in_progress", today=TODAY)  # called, then it broke again
    store.set_ticket_status(ticket.id, "resolved", today=TODAY)
    kinds = [t.kind for t in store.find(Task, where={"customer_id": acme.id})]
    assert kinds.count("survey") == 1 and kinds.count("after_sales") == 2
    due = agenda(leads=[], customers=[], contacts=[], tasks=store.rows(Task), today=TODAY + timedelta(days=3))
    assert {item.title for item in due} >= {"After-sales call: Pump leaks again", "Satisfaction survey: Acme"}


def test_no_survey_request_when_the_customer_answered_since_the_ticket(store: Store, acme: Customer) -> None:
    ticket = store.new(Ticket, customer_id=acme.id, title="Manual missing", created_at=at(ago(8)))
    store.set_ticket_status(ticket.id, "resolved", today=TODAY)  # the CSAT 2 came 5 days ago, after it opened
    assert [t.kind for t in store.find(Task, where={"customer_id": acme.id})] == ["after_sales"]


def test_a_survey_answer_closes_the_open_request(store: Store, acme: Customer) -> None:
    ticket = store.find(Ticket, where={"customer_id": acme.id})[0]
    store.set_ticket_status(ticket.id, "closed", today=TODAY)
    assert store.require(Ticket, ticket.id).closed_at is not None
    store.new(Task, title="Satisfaction survey: Acme", kind="survey", due=TODAY, customer_id=acme.id)
    store.record_survey(acme.id, "nps", 9, "fixed fast", ticket_id=ticket.id)
    assert all(t.done for t in store.find(Task, where={"customer_id": acme.id}) if t.kind == "survey")
    with pytest.raises(Exception, match="NPS score is 0 to 10"):
        store.record_survey(acme.id, "nps", 11)


def test_a_repeat_deal_from_a_prompt(store: Store, acme: Customer) -> None:
    deal = store.open_repeat_deal(acme.id, Decimal(2000), today=TODAY)
    assert (deal.title, deal.stage, deal.amount, deal.expected_close) == (
        "Acme: repeat order", "initial", Decimal(2000), TODAY + timedelta(days=30))
    assert [c.stage for c in deal.stage_history] == ["initial"]


def test_rules_come_from_the_config() -> None:
    strict = Config(customers=CustomerRules(no_contact_days=10))
    assert [r.kind for r in churn_reasons(row(last_contact=ago(11)), strict.customers, TODAY)] == ["no_contact"]
