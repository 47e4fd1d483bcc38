"""The weekly review's figures on a small hand-built history. Every expected number is
worked out by hand in the comments, not copied from the code's output.

The week under review is 2026-W47: Monday 16 to Sunday 22 November 2026.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from store.activity_log import ActivityDigest
from store.config import Config, Rep
from store.database import Store
from store.models import Activity, Customer, Lead, LeadEvent, Opportunity
from store.pipeline import deal_rows
from store.review import (
    Week,
    amount_at,
    build_review,
    customer_figures,
    figures,
    measured_probabilities,
    stage_at,
    week_changes,
)

W47 = Week(2026, 47)
CONFIG = Config(me="ann", reps=[Rep(id="ann", name="Ann", monthly_target=Decimal(20000)),
                                 Rep(id="bo", name="Bo", monthly_target=Decimal(10000))])


def at(day: str, hour: int = 10) -> str:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=UTC).isoformat()


def moves(*steps: tuple[str, str]) -> list[dict[str, str]]:
    return [{"stage": stage, "at": at(day), "by": "ann"} for stage, day in steps]


def change(name: str, day: str, old: str, new: str) -> dict[str, str]:
    return {"field": name, "at": at(day), "by": "ann", "old": old, "new": new}


@pytest.fixture
def history(store: Store) -> Store:
    c1 = store.new(Customer, name="One", lifecycle="active", active_since="2026-06-01")
    store.new(Customer, name="Two", lifecycle="churned", active_since="2026-08-01", churned_at="2026-10-20")
    c3 = store.new(Customer, name="Three", lifecycle="active", active_since="2026-11-19")
    store.new(Customer, name="Four")  # a prospect

    def deal(title: str, customer: Customer, stage: str, created: str, amount: int, steps: list[Any],
             **extra: Any) -> None:
        store.new(Opportunity, title=title, customer_id=customer.id, stage=stage, amount=amount,
                  created_at=at(created), stage_history=moves(*steps), **extra)

    # D1: open all week; moved initial -> needs, raised 10,000 -> 12,000, close pushed 14 days
    deal("D1", c1, "needs", "2026-11-01", 12000, [("initial", "2026-11-01"), ("needs", "2026-11-18")],
         expected_close="2026-12-14", changes=[change("amount", "2026-11-18", "10000", "12000"),
                                               change("expected_close", "2026-11-18", "2026-11-30", "2026-12-14")])
    # D2: open at the start, won in the week
    deal("D2", c1, "won", "2026-11-02", 5000, [("quote", "2026-11-02"), ("won", "2026-11-19")],
         closed_at=at("2026-11-19"))
    # D3: new in the week, moved back, still open at the end
    deal("D3", c3, "initial", "2026-11-17", 3000, [("needs", "2026-11-17"), ("initial", "2026-11-19")])
    # D4: lowered 8,000 -> 6,000, then lost for price
    deal("D4", c1, "lost", "2026-11-05", 6000, [("negotiation", "2026-11-05"), ("lost", "2026-11-21")],
         lost_reason="Price", closed_at=at("2026-11-21"), changes=[change("amount", "2026-11-20", "8000", "6000")])
    # D5: new and won in the week
    deal("D5", c3, "won", "2026-11-20", 1000, [("initial", "2026-11-20"), ("won", "2026-11-21")],
         closed_at=at("2026-11-21"))
    # D6: lost before the week; D7: made after it; D8: won in September
    deal("D6", c3, "lost", "2026-10-01", 4000, [("initial", "2026-10-01"), ("lost", "2026-10-15")],
         lost_reason="Timing", closed_at=at("2026-10-15"))
    deal("D7", c3, "initial", "2026-11-23", 2000, [("initial", "2026-11-23")])
    deal("D8", c1, "won", "2026-09-01", 2000, [("initial", "2026-09-01"), ("won", "2026-09-10")],
         closed_at=at("2026-09-10"))

    def lead(name: str, created: str, **extra: Any) -> Lead:
        return store.new(Lead, name=name, created_at=at(created), **extra)

    l1 = lead("L1", "2026-11-16", source="website", grade="A")
    l2 = lead("L2", "2026-11-18", source="website", grade="B", owner="bo")
    lead("L3", "2026-11-22", source="trade show", grade="A")
    lead("L4", "2026-11-10", status="converted", customer_id=c1.id,
         history=[{"kind": "converted", "at": at("2026-11-17"), "by": "ann"}])
    lead("L5", "2026-11-01", status="disqualified", disqualified_reason="No budget",
         history=[{"kind": "disqualified", "at": at("2026-11-20"), "by": "ann"}])
    lead("L6", "2026-11-23", source="website")
    d1 = next(o for o in store.all(Opportunity) if o.title == "D1")
    store.log_activity("call", lead_id=l1.id, at=datetime.fromisoformat(at("2026-11-17")))
    store.log_activity("email", lead_id=l1.id, at=datetime.fromisoformat(at("2026-11-18")))
    store.new(Activity, kind="call", lead_id=l2.id, owner="bo", at=at("2026-11-19"))
    store.log_activity("meeting", opportunity_id=d1.id, at=datetime.fromisoformat(at("2026-11-20")))
    store.log_activity("call", lead_id=l1.id, at=datetime.fromisoformat(at("2026-11-23")))  # after the week
    return store


def docs(store: Store, cls: type) -> list[dict[str, Any]]:
    return list(store.rows(cls))


# -- weeks -------------------------------------------------------------------------------------------


def test_weeks_parse_step_and_cross_the_year_boundary() -> None:
    assert Week.parse("2026-W47") == W47 and str(W47) == "2026-W47"
    assert (W47.start, W47.end) == (date(2026, 11, 16), date(2026, 11, 22))
    assert Week.last_full(date(2026, 11, 25)) == W47
    assert Week.parse("2026-w53").step(1) == Week(2027, 1)  # 2026 has 53 ISO weeks
    assert Week(2027, 1).step(-1) == Week(2026, 53)
    assert Week.of(date(2027, 1, 2)) == Week(2026, 53) and Week.of(date(2025, 12, 29)) == Week(2026, 1)
    for bad in ("2026-47", "2025-W53", "W47", "2026-W0"):
        with pytest.raises(ValueError, match="not a week"):
            Week.parse(bad)


def test_a_deal_won_on_new_years_weekend_counts_in_week_53(store: Store) -> None:
    customer = store.new(Customer, name="Y")
    store.new(Opportunity, title="NY", customer_id=customer.id, stage="won", amount=700,
              created_at=at("2026-12-20"), closed_at=at("2027-01-02"),
              stage_history=moves(("quote", "2026-12-20"), ("won", "2027-01-02")))
    w53 = week_changes(Week(2026, 53), store.config, leads=[], opportunities=docs(store, Opportunity))
    w01 = week_changes(Week(2027, 1), store.config, leads=[], opportunities=docs(store, Opportunity))
    assert [(m.title, m.amount) for m in w53.won] == [("NY", Decimal(700))] and w01.won == []
    assert w53.waterfall.start == 700 and w53.waterfall.won == 700 and w53.waterfall.end == 0


# -- one deal's history --------------------------------------------------------------------------------


def test_amount_and_stage_at_a_moment(history: Store) -> None:
    d1 = next(d for d in history.rows(Opportunity) if d["title"] == "D1")
    assert amount_at(d1, "2026-11-17T00:00:00Z") == 10000 and amount_at(d1, "2026-11-19T00:00:00Z") == 12000
    assert stage_at(d1, "2026-10-01T00:00:00Z") is None  # not made yet
    assert stage_at(d1, "2026-11-17T00:00:00Z") == "initial" and stage_at(d1, "2026-11-19T00:00:00Z") == "needs"


# -- the week's changes -----------------------------------------------------------------------------------


def test_leads_of_the_week(history: Store) -> None:
    changes = week_changes(W47, history.config, leads=docs(history, Lead), opportunities=[])
    assert changes.new_leads_by_source == {"website": 2, "trade show": 1}  # L1, L2, L3 (L6 is next week)
    assert changes.new_leads_by_grade == {"A": 2, "B": 1}
    assert (changes.converted, changes.disqualified) == (1, 1)  # L4, L5


def test_deals_of_the_week(history: Store) -> None:
    changes = week_changes(W47, history.config, leads=[], opportunities=docs(history, Opportunity))
    assert sorted(m.title for m in changes.created) == ["D3", "D5"]
    assert [m.title for m in changes.advanced] == ["D1"]
    assert [(m.title, m.detail) for m in changes.moved_back] == [("D3", "Needs confirmed → Initial contact")]
    assert sorted((m.title, m.amount) for m in changes.won) == [("D2", 5000), ("D5", 1000)]
    assert changes.won_amount == 6000
    assert [(m.title, m.amount) for m in changes.lost] == [("D4", 6000)] and changes.lost_reasons == {"Price": 1}
    assert [(m.title, m.detail) for m in changes.slipped] == [("D1", "close 2026-11-30 → 2026-12-14 (+14d)")]
    assert sorted((m.title, m.amount) for m in changes.amount_changes) == [("D1", 2000), ("D4", -2000)]


def test_the_waterfall_adds_up(history: Store) -> None:
    fall = week_changes(W47, history.config, leads=[], opportunities=docs(history, Opportunity)).waterfall
    # open at Monday 00:00: D1 10,000 + D2 5,000 + D4 8,000
    assert fall.start == 23000
    assert fall.new == 4000  # D3 3,000 + D5 1,000
    assert (fall.increased, fall.decreased) == (2000, 2000)  # D1 up, D4 down
    assert (fall.won, fall.lost) == (6000, 6000)  # D2 + D5; D4 at its lowered amount
    assert fall.end == 15000  # D1 12,000 + D3 3,000
    assert fall.balances()


def test_an_undone_move_is_neither_advanced_nor_moved_back(store: Store) -> None:
    customer = store.new(Customer, name="U")
    deal = store.new(Opportunity, title="U1", customer_id=customer.id, stage="initial", amount=100)
    store.advance(deal.id)
    store.undo_move()
    week = Week.of(datetime.now(UTC).date())
    changes = week_changes(week, store.config, leads=[], opportunities=docs(store, Opportunity))
    assert changes.advanced == [] and changes.moved_back == []


# -- figures -------------------------------------------------------------------------------------------------


def test_figures_for_the_team_and_a_rep(history: Store) -> None:
    opportunities, leads = docs(history, Opportunity), docs(history, Lead)
    activities = ActivityDigest(docs(history, Activity)).days()
    rows = deal_rows(opportunities, CONFIG, customers={}, last_activity={}, today=W47.end)
    team = figures(W47, CONFIG, who="team", owner=None, leads=leads, opportunities=opportunities,
                   activities=activities, deal_rows=rows)
    assert team.activities == 4 and team.leads_followed_up == 2  # L1 twice, L2, the D1 meeting
    assert team.lead_conversion == 0.5  # L4 converted, L5 disqualified
    assert team.win_rate == 0.6  # won D2, D5, D8; lost D4, D6
    assert team.cycle_days == 9.0  # (17 + 1 + 9) / 3
    assert team.average_deal == Decimal(2667)  # 8,000 / 3, rounded
    assert team.open_deals == 2  # D1, D3 (D7 was made after the week)
    # 2 open x 60% x 2,667 / 9 days x 30 days
    assert team.velocity_month == (Decimal(2) * Decimal("0.6") * Decimal(2667) / Decimal(9) * 30).quantize(Decimal(1))
    assert team.target_month == 30000 and team.target_quarter == 90000
    assert team.won_month == 6000  # D2 and D5 in November
    bo = figures(W47, CONFIG, who="Bo", owner="bo", leads=leads, opportunities=opportunities,
                 activities=activities, deal_rows=rows)
    assert (bo.activities, bo.leads_followed_up, bo.win_rate, bo.target_month) == (1, 1, None, 10000)


def test_the_trend_counts_each_week(history: Store) -> None:
    rows = deal_rows(docs(history, Opportunity), CONFIG, customers={}, last_activity={}, today=W47.end)
    team = figures(W47, CONFIG, who="team", owner=None, leads=docs(history, Lead),
                   opportunities=docs(history, Opportunity),
                   activities=ActivityDigest(docs(history, Activity)).days(), deal_rows=rows)
    assert len(team.trend["new leads"]) == 12
    assert team.trend["new leads"][-1] == 3  # W47: L1, L2, L3
    assert team.trend["new leads"][-2] == 1  # W46 (9-15 Nov): L4
    assert team.trend["won"][-1] == 6000 and team.trend["new deals"][-1] == 2
    assert team.trend["activities"][-1] == 4


def test_measured_stage_probabilities(history: Store) -> None:
    measured = measured_probabilities(history.config, docs(history, Opportunity), W47.end)
    # closed deals and the stages they reached: D2 quote (won); D4 negotiation (lost);
    # D5 initial (won); D6 initial (lost); D8 initial (won)
    assert measured == {"initial": pytest.approx(2 / 3), "needs": None, "quote": 1.0, "negotiation": 0.0}


def test_customer_figures(history: Store) -> None:
    result = customer_figures(W47, history.config, customers=docs(history, Customer),
                              opportunities=docs(history, Opportunity), owner=None)
    assert result.active == 2  # One, Three (Two churned in October)
    assert (result.active_at_start, result.churned) == (2, 1)  # at 1 October: One, Two
    assert result.churn_rate == 0.5
    assert result.repeat_rate == 0.5  # One bought D2 and D8; Three only D5
    assert result.new_deals_per_month == [("2026-06", 0), ("2026-07", 0), ("2026-08", 0), ("2026-09", 1),
                                          ("2026-10", 1), ("2026-11", 6)]


def test_the_whole_review_for_a_rep(history: Store) -> None:
    rows = deal_rows(docs(history, Opportunity), history.config, customers={}, last_activity={}, today=W47.end)
    review = build_review(W47, history.config, owner="me", leads=docs(history, Lead),
                          opportunities=docs(history, Opportunity),
                          activities=ActivityDigest(docs(history, Activity)).days(),
                          customers=docs(history, Customer), deal_rows=rows, customer_rows=[])
    assert review.who == "Me" and [r.who for r in review.reps] == ["Me"]
    assert review.changes.waterfall.balances() and review.changes.won_amount == 6000
    assert [i.title for i in review.outlook.closing_next_week] == []


def test_a_deal_won_at_its_final_quote_counts_the_final_amount_everywhere(store: Store) -> None:
    customer = store.new(Customer, name="Q")
    store.new(Opportunity, title="Q1", customer_id=customer.id, stage="won", amount=1200,
              created_at=at("2026-11-10"), closed_at=at("2026-11-18"),
              stage_history=moves(("quote", "2026-11-10"), ("won", "2026-11-18")),
              changes=[change("amount", "2026-11-18", "1000", "1200")])  # the same moment as the win
    changes = week_changes(W47, store.config, leads=[], opportunities=docs(store, Opportunity))
    assert [m.amount for m in changes.won] == [1200]
    fall = changes.waterfall
    assert (fall.start, fall.increased, fall.won, fall.end) == (1000, 200, 1200, 0) and fall.balances()


# -- as of the week's end -------------------------------------------------------------------------------------


def test_a_past_week_shows_its_figures_as_they_stood_at_its_end(history: Store) -> None:
    c1 = next(c for c in history.all(Customer) if c.name == "One")
    # D9: open in quote all through W47, won after it; D10: open through W47, lost after it
    history.new(Opportunity, title="D9", customer_id=c1.id, stage="won", amount=7000, created_at=at("2026-11-10"),
                stage_history=moves(("quote", "2026-11-10"), ("won", "2026-11-25")), closed_at=at("2026-11-25"))
    history.new(Opportunity, title="D10", customer_id=c1.id, stage="lost", amount=500, created_at=at("2026-11-10"),
                stage_history=moves(("initial", "2026-11-10"), ("lost", "2026-11-24")), closed_at=at("2026-11-24"),
                lost_reason="Timing")
    # D3 raised after the week: 3,000 at its end
    d3 = next(o for o in history.all(Opportunity) if o.title == "D3")
    history.update(Opportunity, d3.id, amount=9000)
    opportunities = docs(history, Opportunity)
    # the rows as the app builds them today: lost deals left out
    rows = deal_rows([d for d in opportunities if d["stage"] != "lost"], CONFIG, customers={}, last_activity={},
                     today=date(2026, 12, 2))
    review = build_review(W47, CONFIG, owner=None, leads=docs(history, Lead), opportunities=opportunities,
                          activities=[], customers=[], deal_rows=rows, customer_rows=[])
    fall = review.changes.waterfall
    # D1 12,000 + D3 3,000 + D9 7,000 + D10 500
    assert fall.end == 22500 and fall.balances()
    assert review.team.pipeline == fall.end
    assert review.team.open_deals == 4  # D7 was made after the week
    # won in Q4 by the week's end: D2 and D5 (D8 in Q3; D9 only after the week)
    assert review.team.won_quarter == 6000


def test_won_this_quarter_follows_the_chosen_week(history: Store) -> None:
    opportunities = docs(history, Opportunity)
    rows = deal_rows(opportunities, CONFIG, customers={}, last_activity={}, today=date(2026, 11, 25))
    september = build_review(Week(2026, 38), CONFIG, owner=None, leads=[], opportunities=opportunities,
                             activities=[], customers=[], deal_rows=rows, customer_rows=[])
    assert september.team.won_quarter == 2000  # D8, won 10 September, in Q3
    assert september.team.pipeline == 0  # D1 was made in November


def test_a_past_weeks_leads_stay_as_they_were_at_its_end(history: Store) -> None:
    """Grading a lead up and handing it over after W47 leaves W47's lead figures alone."""
    late = history.add_lead(name="L7", created_at=at("2026-11-19"), source="website", grade="C", score=30)
    before = week_changes(W47, history.config, leads=docs(history, Lead), opportunities=[])
    mine = week_changes(W47, history.config, leads=docs(history, Lead), opportunities=[], owner=history.me)
    assert before.new_leads_by_grade == {"A": 2, "B": 1, "C": 1}  # L1, L2, L3, L7
    # today (after the week): L7 graded up to A and given to bo
    history.update(Lead, late.id, grade="A")
    history.update(Lead, late.id, owner="bo", history=[LeadEvent(kind="assigned", by="ann", to="bo")])
    after = week_changes(W47, history.config, leads=docs(history, Lead), opportunities=[])
    assert after.new_leads_by_grade == before.new_leads_by_grade
    assert after.new_leads_by_source == before.new_leads_by_source
    assert week_changes(W47, history.config, leads=docs(history, Lead), opportunities=[],
                        owner=history.me).new_leads_by_grade == mine.new_leads_by_grade
