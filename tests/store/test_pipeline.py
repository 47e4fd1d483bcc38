"""The pipeline's pure functions (risk rules at their edges, sums, forecast, stage
stays) and the Store's stage operations (moves, undo, forecast category, quotes)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from store.config import Config, Rep, Stage
from store.database import Store
from store.errors import StoreError, ValidationFailed
from store.models import Customer, Opportunity, StageChange, Task
from store.pipeline import (
    DealRow,
    amount_dropped_risk,
    column_totals,
    deal_row,
    deal_rows,
    entered_stage,
    forecast,
    last_activity_dates,
    month_end,
    no_next_step_risk,
    quarter_end,
    slipped_risk,
    stage_spans,
    stale_risk,
    stuck_risk,
)

TODAY = date(2026, 11, 25)
QUOTE = Stage(key="quote", label="Quote", probability=50, stale_days=10, stuck_days=30)
CONFIG = Config(me="ann", reps=[Rep(id="ann", name="Ann", monthly_target=Decimal(10000)),
                                 Rep(id="bo", name="Bo", monthly_target=Decimal(5000))],
                rates={"EUR": Decimal("1.10")})


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def change(field: str, at: date, old: str | None, new: str | None) -> dict[str, Any]:
    return {"id": "c" * 32, "field": field, "at": f"{at.isoformat()}T10:00:00Z", "by": "ann",
            "old": old, "new": new}


def doc(stage: str = "quote", **fields: Any) -> dict[str, Any]:
    """A stored opportunity document, as the storage keeps it."""
    base: dict[str, Any] = {
        "id": fields.pop("id", "0" * 32), "owner": "ann", "created_at": "2026-10-01T09:00:00Z",
        "updated_at": "2026-10-01T09:00:00Z", "title": "Pumps", "customer_id": "1" * 32,
        "amount": "1000.00", "stage": stage, "next_step": "call back",
        "stage_history": [{"id": "2" * 32, "stage": stage, "at": "2026-11-20T09:00:00Z", "by": "ann"}]}
    base.update(fields)
    return base


def row(stage: str = "quote", **fields: Any) -> DealRow:
    return deal_row(doc(stage, **fields), CONFIG, customers={"1" * 32: "Acme"}, last_activity={},
                    today=TODAY)


# -- each risk rule at its edges -------------------------------------------------------


def test_stale_only_after_more_than_the_stage_limit() -> None:
    assert stale_risk(QUOTE, ago(10), TODAY) is None  # exactly at the limit: fine
    risk = stale_risk(QUOTE, ago(11), TODAY)
    assert risk is not None and risk.kind == "stale" and "11d" in risk.reason and "10d" in risk.reason


def test_stuck_only_after_more_than_the_stage_limit() -> None:
    assert stuck_risk(QUOTE, ago(30), TODAY) is None
    risk = stuck_risk(QUOTE, ago(31), TODAY)
    assert risk is not None and risk.reason == "31d in Quote (limit 30d)"


def test_slipped_when_the_close_date_has_passed_but_not_on_the_day() -> None:
    assert slipped_risk(TODAY, [], TODAY, 30) is None
    risk = slipped_risk(ago(1), [], TODAY, 30)
    assert risk is not None and "2026-11-24 has passed" in risk.reason


def test_slipped_when_the_close_date_moved_later_recently() -> None:
    later = [change("expected_close", ago(3), "2026-11-30", "2026-12-20")]
    risk = slipped_risk(date(2026, 12, 20), later, TODAY, 30)
    assert risk is not None and risk.reason == "close moved 2026-11-30 → 2026-12-20 (+20d)"
    earlier = [change("expected_close", ago(3), "2026-12-20", "2026-11-30")]
    assert slipped_risk(date(2026, 11, 30), earlier, TODAY, 30) is None  # pulled in: good news
    old = [change("expected_close", ago(31), "2026-11-30", "2026-12-20")]
    assert slipped_risk(date(2026, 12, 20), old, TODAY, 30) is None
    edge = [change("expected_close", ago(30), "2026-11-30", "2026-12-20")]
    assert slipped_risk(date(2026, 12, 20), edge, TODAY, 30) is not None


def test_no_next_step_ignores_blank_text() -> None:
    assert no_next_step_risk("Send the contract") is None
    risk = no_next_step_risk("   ")
    assert risk is not None and risk.kind == "no_next_step"


def test_amount_dropped_compares_with_the_amount_before_the_window() -> None:
    dropped = [change("amount", ago(20), "12000", "15000"), change("amount", ago(2), "15000", "9000")]
    risk = amount_dropped_risk(dropped, TODAY, 30)
    assert risk is not None and risk.reason == "amount down 12,000 → 9,000"
    recovered = [change("amount", ago(20), "12000", "9000"), change("amount", ago(2), "9000", "12000")]
    assert amount_dropped_risk(recovered, TODAY, 30) is None
    assert amount_dropped_risk([change("amount", ago(40), "12000", "9000")], TODAY, 30) is None
    assert amount_dropped_risk([], TODAY, 30) is None


def test_a_deal_with_no_activities_counts_idle_time_from_its_last_stage_move() -> None:
    fresh = row(stage_history=[{"id": "2" * 32, "stage": "quote", "at": f"{ago(10)}T09:00:00Z", "by": "a"}])
    assert fresh.last_touch == ago(10) and not fresh.risks
    idle = row(stage_history=[{"id": "2" * 32, "stage": "quote", "at": f"{ago(11)}T09:00:00Z", "by": "a"}])
    assert [r.kind for r in idle.risks] == ["stale"]


def test_an_activity_after_the_move_resets_idle_time() -> None:
    history = [{"id": "2" * 32, "stage": "quote", "at": f"{ago(25)}T09:00:00Z", "by": "a"}]
    touched = deal_row(doc(stage_history=history), CONFIG, customers={}, today=TODAY,
                       last_activity={"0" * 32: ago(2)})
    assert touched.last_touch == ago(2) and touched.risks == ()


def test_a_deal_moved_back_counts_its_days_from_the_return() -> None:
    history = [{"id": "a" * 32, "stage": "quote", "at": f"{ago(60)}T09:00:00Z", "by": "a"},
               {"id": "b" * 32, "stage": "negotiation", "at": f"{ago(40)}T09:00:00Z", "by": "a"},
               {"id": "c" * 32, "stage": "quote", "at": f"{ago(5)}T09:00:00Z", "by": "a"}]
    moved_back = row(stage_history=history)
    assert moved_back.entered == ago(5) and moved_back.days_in_stage(TODAY) == 5
    assert not any(r.kind == "stuck" for r in moved_back.risks)
    assert entered_stage(doc(stage_history=[])) == "2026-10-01T09:00:00Z"  # no history: created


def test_an_undone_move_does_not_restart_the_days_in_stage() -> None:
    history = [{"id": "a" * 32, "stage": "quote", "at": f"{ago(20)}T09:00:00Z", "by": "a"},
               {"id": "b" * 32, "stage": "negotiation", "at": f"{ago(1)}T09:00:00Z", "by": "a"},
               {"id": "c" * 32, "stage": "quote", "at": f"{ago(1)}T09:05:00Z", "by": "a", "undoes": "b" * 32}]
    assert row(stage_history=history).entered == ago(20)
    moved_back = [*history[:2], {**history[2], "undoes": None}]  # a real move back: a new stay
    assert row(stage_history=moved_back).entered == ago(1)


def test_every_rule_at_once_in_a_fixed_order_and_none_for_closed_deals() -> None:
    history = [{"id": "2" * 32, "stage": "quote", "at": f"{ago(45)}T09:00:00Z", "by": "a"}]
    changes = [change("amount", ago(5), "2000", "1000")]
    bad = row(stage_history=history, expected_close=str(ago(1)), next_step="", changes=changes)
    assert [r.kind for r in bad.risks] == ["stale", "stuck", "slipped", "no_next_step", "amount_dropped"]
    assert row("won", stage_history=history, next_step="").risks == ()
    assert row("lost", stage_history=history, lost_reason="Price").risks == ()


# -- rows, sums and the forecast -----------------------------------------------------------


def test_rows_carry_customer_names_values_in_team_currency_and_forecast_defaults() -> None:
    euro = row(currency="EUR", amount="1000")
    assert euro.customer == "Acme" and euro.value == Decimal("1100.00")
    assert row(currency="GBP").value is None  # no rate: counted, not summed
    assert row("negotiation").forecast == "commit" and row("quote").forecast == "best_case"
    assert row("quote", forecast_category="omitted").forecast == "omitted"
    assert "acme" in row().search and "call back" in row().search


def test_column_totals_weight_by_stage_probability_and_skip_unknown_money() -> None:
    rows = [row("quote", amount="1000"), row("quote", amount="3000.50"), row("quote", currency="GBP"),
            row("negotiation", amount="2000"), row("won", amount="500")]
    totals = column_totals(rows, CONFIG)
    assert totals["quote"].count == 3 and totals["quote"].amount == Decimal("4000.50")
    assert totals["quote"].weighted == Decimal("2000.25")
    assert totals["negotiation"].weighted == Decimal("1500.00")
    assert totals["won"].weighted == Decimal("500.00")
    assert totals["initial"].count == 0 and totals["initial"].weighted == 0


def test_period_ends() -> None:
    assert month_end(date(2026, 12, 5)) == date(2026, 12, 31)
    assert month_end(date(2027, 2, 1)) == date(2027, 2, 28)
    assert quarter_end(TODAY) == date(2026, 12, 31) and quarter_end(date(2027, 1, 1)) == date(2027, 3, 31)


def test_forecast_for_a_rep_and_for_the_team() -> None:
    rows = [
        row("negotiation", amount="4000", expected_close="2026-11-30"),       # commit, this month
        row("quote", amount="2000", expected_close="2026-12-15"),             # best case, this quarter
        row("needs", amount="1000", expected_close="2026-11-10"),             # late: still this month
        row("initial", amount="8000", expected_close="2027-02-01"),           # next quarter
        row("initial", amount="500"),                                         # no close date
        row("won", amount="3000", closed_at="2026-11-03T10:00:00Z"),          # won this month
        row("won", amount="1000", closed_at="2026-10-03T10:00:00Z"),          # this quarter
        row("won", amount="9999", closed_at="2026-09-30T10:00:00Z"),          # last quarter
        row("negotiation", amount="700", owner="bo", expected_close="2026-11-30"),
    ]
    ann = forecast(rows, CONFIG, today=TODAY, owner="ann")
    assert ann.pipeline == Decimal(15500)
    assert ann.weighted_month == Decimal("3250.00")  # 4000x75% + 1000x25%
    assert ann.weighted_quarter == Decimal("4250.00")  # + 2000x50%
    assert (ann.won_month, ann.won_quarter) == (Decimal(3000), Decimal(4000))
    assert ann.commit_quarter == Decimal(8000)  # won 4000 + commit 4000
    assert ann.best_case_quarter == Decimal(10000)  # + best case 2000
    assert (ann.target_month, ann.target_quarter) == (Decimal(10000), Decimal(30000))
    assert (ann.gap_month, ann.gap_quarter) == (Decimal(7000), Decimal(26000))
    assert ann.coverage == pytest.approx(7000 / 26000)  # open closing by quarter end / what is left
    team = forecast(rows, CONFIG, today=TODAY, owner=None)
    assert team.pipeline == Decimal(16200) and team.target_month == Decimal(15000)


def test_coverage_is_none_once_the_target_is_met() -> None:
    rows = [row("won", amount="50000", closed_at="2026-11-03T10:00:00Z")]
    result = forecast(rows, CONFIG, today=TODAY, owner="ann")
    assert result.coverage is None and result.gap_quarter == 0


def test_deals_without_a_rate_are_counted_apart_from_every_sum() -> None:
    rows = [row("quote", amount="120000", currency="CHF"), row("won", amount="5", currency="CHF",
                                                               closed_at="2026-11-03T10:00:00Z"),
            row("lost", amount="7", currency="CHF", lost_reason="Price", closed_at="2026-11-03T10:00:00Z"),
            row("quote", amount="1000"), row("quote", amount="9", currency="JPY", owner="bo")]
    ann = forecast(rows, CONFIG, today=TODAY, owner="ann")
    assert ann.pipeline == Decimal(1000) and ann.won_quarter == 0
    assert ann.without_rate == {"CHF": 2}  # the open and the won one; a lost deal is in no total anyway
    assert forecast(rows, CONFIG, today=TODAY, owner=None).without_rate == {"CHF": 2, "JPY": 1}


def test_last_activity_per_opportunity() -> None:
    activities = [{"opportunity_id": "x", "at": "2026-11-02T10:00:00Z"},
                  {"opportunity_id": "x", "at": "2026-11-20T10:00:00Z"},
                  {"opportunity_id": "y", "at": "2026-11-01T10:00:00Z"}, {"lead_id": "z", "at": "2026-11-24"}]
    assert last_activity_dates(activities) == {"x": date(2026, 11, 20), "y": date(2026, 11, 1)}


def test_stage_spans_give_days_per_stay() -> None:
    def at(day: int) -> datetime:
        return datetime(2026, 11, day, 9, tzinfo=UTC)

    history = [StageChange(stage="needs", at=at(5), by="ann"), StageChange(stage="initial", at=at(1), by="ann"),
               StageChange(stage="quote", at=at(20), by="bo", undoes="f" * 32)]
    spans = stage_spans(history)
    assert [(s.stage, s.days(date(2026, 11, 25))) for s in spans] == [("initial", 4), ("needs", 15), ("quote", 5)]
    assert spans[-1].left is None and spans[-1].undo and not spans[0].undo


def test_deal_rows_build_from_a_real_store(store: Store) -> None:
    customer = store.new(Customer, name="Acme")
    store.new(Opportunity, title="Valves", customer_id=customer.id, stage="needs", amount=250)
    rows = deal_rows(store.rows(Opportunity), store.config, customers={customer.id: "Acme"},
                     last_activity={}, today=datetime.now(UTC).date())
    assert [(r.title, r.customer, r.stage, r.amount) for r in rows] == [("Valves", "Acme", "needs", 250)]


# -- the Store's stage operations ------------------------------------------------------------


@pytest.fixture
def deal(store: Store) -> Opportunity:
    customer = store.new(Customer, name="Acme")
    return store.new(Opportunity, title="Valves", customer_id=customer.id, stage="initial", amount=1000)


def history_of(store: Store, opportunity_id: str) -> list[tuple[str, bool]]:
    opp = store.require(Opportunity, opportunity_id)
    return [(c.stage, c.undoes is not None) for c in sorted(opp.stage_history, key=lambda c: c.at)]


def test_a_new_deal_starts_its_history_in_its_stage(store: Store, deal: Opportunity) -> None:
    assert history_of(store, deal.id) == [("initial", False)]


def test_forward_and_back_are_recorded_and_undone_in_order(store: Store, deal: Opportunity) -> None:
    store.advance(deal.id)
    store.advance(deal.id)
    store.advance(deal.id, -1)
    assert store.require(Opportunity, deal.id).stage == "needs"
    undone = store.undo_move()
    assert undone is not None and (undone.before, undone.after) == ("quote", "needs")
    assert store.require(Opportunity, deal.id).stage == "quote"
    assert history_of(store, deal.id) == [("initial", False), ("needs", False), ("quote", False),
                                          ("needs", False), ("quote", True)]
    store.undo_move()
    store.undo_move()
    assert store.require(Opportunity, deal.id).stage == "initial"
    assert store.undo_move() is None


def test_undoing_a_win_reopens_the_deal_and_puts_the_customer_back(store: Store, deal: Opportunity) -> None:
    store.win(deal.id)
    assert store.require(Customer, deal.customer_id).lifecycle == "active"
    store.undo_move()
    opp, customer = store.require(Opportunity, deal.id), store.require(Customer, deal.customer_id)
    assert opp.stage == "initial" and opp.closed_at is None
    assert customer.lifecycle == "prospect" and customer.next_revisit is None and customer.active_since is None


def test_undoing_a_win_keeps_customer_changes_made_since(store: Store, deal: Opportunity) -> None:
    store.win(deal.id)
    store.update(Customer, deal.customer_id, revisit_days=90)
    store.undo_move()
    customer = store.require(Customer, deal.customer_id)
    assert customer.revisit_days == 90 and customer.lifecycle == "prospect"


def test_undoing_a_loss_clears_the_reason(store: Store, deal: Opportunity) -> None:
    store.advance(deal.id)
    store.lose(deal.id, "Price")
    store.undo_move()
    opp = store.require(Opportunity, deal.id)
    assert (opp.stage, opp.lost_reason, opp.closed_at) == ("needs", "", None)


def test_undo_refuses_a_deal_moved_elsewhere_since(folder: Any, store: Store, deal: Opportunity) -> None:
    store.advance(deal.id)
    with Store(folder, me="me") as other:
        other.move_stage(deal.id, "quote")
    store.refresh()
    with pytest.raises(StoreError, match="moved since"):
        store.undo_move()
    assert store.require(Opportunity, deal.id).stage == "quote"


def test_back_from_won_or_lost_reopens_and_forward_from_closed_is_refused(store: Store, deal: Opportunity) -> None:
    store.move_stage(deal.id, "negotiation")
    store.win(deal.id)
    with pytest.raises(StoreError, match="already won"):
        store.advance(deal.id)
    assert store.advance(deal.id, -1).stage == "negotiation"
    store.move_stage(deal.id, "quote")
    store.lose(deal.id, "Timing")
    with pytest.raises(StoreError, match="is lost"):
        store.advance(deal.id)
    reopened = store.advance(deal.id, -1)
    assert reopened.stage == "quote" and reopened.lost_reason == "" and reopened.closed_at is None


def test_a_stage_set_in_a_form_is_a_move(store: Store, deal: Opportunity) -> None:
    store.update(Opportunity, deal.id, stage="won", next_step="kick-off")
    opp = store.require(Opportunity, deal.id)
    assert opp.stage == "won" and opp.next_step == "kick-off" and opp.closed_at is not None
    assert history_of(store, deal.id)[-1] == ("won", False)
    assert store.require(Customer, deal.customer_id).lifecycle == "active"
    with pytest.raises(StoreError, match="needs a reason"):
        store.update(Opportunity, deal.id, stage="lost")


def test_only_the_owner_sets_the_forecast_category(store: Store, deal: Opportunity) -> None:
    assert store.set_forecast_category(deal.id, "commit").forecast_category == "commit"
    assert store.set_forecast_category(deal.id, None).forecast_category is None
    theirs = store.new(Opportunity, title="Theirs", customer_id=deal.customer_id, stage="quote", owner="bo")
    with pytest.raises(StoreError, match=r"only its owner \(bo\)"):
        store.set_forecast_category(theirs.id, "commit")


def test_follow_up_is_one_open_task_moved_when_set_again(store: Store, deal: Opportunity) -> None:
    store.follow_up_opportunity(deal.id, date(2026, 12, 1))
    store.follow_up_opportunity(deal.id, date(2026, 12, 8))
    tasks = store.find(Task, where={"opportunity_id": deal.id})
    assert [(t.kind, t.due, t.customer_id) for t in tasks] == [("follow_up", date(2026, 12, 8), deal.customer_id)]


def test_quote_revisions_keep_every_version_and_set_the_amount(store: Store, deal: Opportunity) -> None:
    store.revise_quote(deal.id, [{"product": "Valve", "quantity": 10, "unit_price": 120}])
    opp = store.revise_quote(deal.id, [{"product": "Valve", "quantity": 10, "unit_price": 120,
                                        "discount_pct": 10}, {"product": "Fitting", "quantity": 2,
                                                              "unit_price": "15.50"}], note="volume discount")
    assert [q.version for q in opp.quotes] == [1, 2]
    assert opp.quotes[0].total == Decimal("1200.00") and opp.latest_quote().total == Decimal("1111.00")
    assert opp.amount == Decimal("1111.00")
    assert [(c.old, c.new) for c in opp.changes] == [("1000", "1200.00"), ("1200.00", "1111.00")]
    with pytest.raises(ValidationFailed, match="quote"):
        store.revise_quote(deal.id, [{"product": "Valve", "quantity": 0, "unit_price": 1}])
    assert len(store.require(Opportunity, deal.id).quotes) == 2
