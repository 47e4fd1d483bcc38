"""The team's rules on real stores: every trigger and action kind, each action in the
record's history under the rule's name, nothing twice, bad rules refused with their key."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from store.config import Config, describe_error
from store.database import Store
from store.errors import StoreError
from store.models import Customer, Lead, Opportunity, Task, Ticket

TODAY = date(2026, 12, 7)
TEAM = ("me: ann\nreps: [{id: ann, name: Ann}, {id: bo, name: Bo}]\n"
        "assignment: {rule: by_source, map: {trade show: bo}}\n")


class Wall:
    """The injected wall clock: a fixed day, a millisecond on at each reading."""

    def __init__(self, day: date = TODAY) -> None:
        self.ms = int(datetime(day.year, day.month, day.day, 9, tzinfo=UTC).timestamp() * 1000)

    def __call__(self) -> int:
        self.ms += 1
        return self.ms


def rule(name: str, when: dict[str, Any], *actions: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "when": when, "do": list(actions)}


@pytest.fixture
def store(tmp_path: Path) -> Any:
    (tmp_path / "config.yaml").write_text(TEAM)
    with Store(tmp_path, wall=Wall()) as opened:
        yield opened


def with_rules(store: Store, *rules: dict[str, Any]) -> None:
    store.save_team_settings({"rules": list(rules)})


def log_of(store: Store, table: str, record_id: str) -> list[tuple[str, str]]:
    doc = store.storage.tables[table][record_id]
    return [(entry["rule"], entry["did"]) for entry in doc.get("rule_log") or ()]


def tasks_of(store: Store, **links: str) -> list[dict[str, Any]]:
    return [doc for doc in store.rows(Task) if all(doc.get(k) == v for k, v in links.items())]


def deal(store: Store, stage: str = "initial", **fields: Any) -> Opportunity:
    customer = store.new(Customer, name=f"Acme {len(store.all(Customer))}")
    return store.new(Opportunity, title="Pumps", customer_id=customer.id, stage=stage, amount=5000, **fields)


def test_a_deal_entering_quote_gets_its_task_in_the_same_commit_and_its_history_says_so(store: Store) -> None:
    with_rules(store, rule("Send the quote", {"trigger": "stage_entered", "stage": "quote"},
                           {"action": "create_task", "title": "Send the quote for {title}", "due_in_days": 2}))
    pumps = deal(store)
    store.move_stage(pumps.id, "quote")
    [task] = tasks_of(store, opportunity_id=pumps.id)
    assert (task["title"], task["due"], task["owner"]) == ("Send the quote for Pumps", "2026-12-09", "ann")
    assert log_of(store, "opportunities", pumps.id) == [
        ("Send the quote", "task “Send the quote for Pumps” for ann, due 2026-12-09")]
    store.undo_last()  # the move and what the rule did are one change
    assert tasks_of(store, opportunity_id=pumps.id) == []
    assert store.require(Opportunity, pumps.id).stage == "initial"


def test_leaving_a_stage_winning_and_losing(store: Store) -> None:
    with_rules(store,
               rule("Left quote", {"trigger": "stage_left", "stage": "quote"},
                    {"action": "flag_risk", "text": "re-quote"}),
               rule("Won", {"trigger": "won"}, {"action": "create_task", "title": "Thank {customer}"}),
               rule("Lost", {"trigger": "lost"}, {"action": "set_field", "field": "next_step", "value": "Debrief"}))
    first, second = deal(store, "quote"), deal(store, "quote")
    store.move_stage(first.id, "negotiation")
    assert store.require(Opportunity, first.id).flag == "re-quote"
    store.win(first.id)
    assert [t["title"] for t in tasks_of(store, opportunity_id=first.id)] == ["Thank Acme 0"]
    store.lose(second.id, "Price")
    assert store.require(Opportunity, second.id).next_step == "Debrief"


def test_created_with_conditions_assigns_and_tags(store: Store) -> None:
    with_rules(store, rule("Expo leads", {"trigger": "created", "table": "leads",
                                          "conditions": {"source": "trade show"}},
                           {"action": "assign"}, {"action": "add_tag", "tag": "expo"}))
    expo = store.add_lead(name="Emma", source="trade show")
    web = store.add_lead(name="Tom", source="website")
    assert (store.require(Lead, expo.id).tags, store.require(Lead, expo.id).owner) == (["expo"], "bo")
    assert store.require(Lead, web.id).tags == []
    assert [rule for rule, _ in log_of(store, "leads", expo.id)] == ["Expo leads", "Expo leads"]


def test_a_field_changed_to_a_value_sets_and_clears_fields(store: Store) -> None:
    store.save_team_settings({"custom_fields": {"leads": [{"key": "tier", "label": "Tier", "type": "choice",
                                                           "choices": ["Gold", "Silver"]}]}})
    with_rules(store,
               rule("Gold", {"trigger": "field_changed", "table": "leads", "field": "cf.tier", "to": "Gold"},
                    {"action": "set_field", "field": "region", "value": "Key accounts"}),
               rule("Lost interest", {"trigger": "field_changed", "table": "leads", "field": "status",
                                      "to": "contacted"}, {"action": "clear_field", "field": "cf.tier"}))
    lead = store.add_lead(name="Emma")
    store.update(Lead, lead.id, **{"cf.tier": "Silver"})
    assert store.require(Lead, lead.id).region == ""
    store.update(Lead, lead.id, **{"cf.tier": "Gold"})
    assert store.require(Lead, lead.id).region == "Key accounts"
    store.update(Lead, lead.id, status="contacted")
    assert "cf.tier" not in store.storage.tables["leads"][lead.id]


def test_a_resolved_ticket_starts_the_after_sales_call_and_survey_by_the_default_rules(store: Store) -> None:
    assert [r.name for r in store.config.rules] == ["After-sales call", "Survey request"]
    customer = store.new(Customer, name="Contoso")
    ticket = store.new(Ticket, customer_id=customer.id, title="Leak")
    store.set_ticket_status(ticket.id, "resolved", today=TODAY)
    kinds = sorted((t["kind"], t["due"]) for t in tasks_of(store, ticket_id=ticket.id))
    assert kinds == [("after_sales", "2026-12-09"), ("survey", "2026-12-10")]
    store.set_ticket_status(ticket.id, "open", today=TODAY)
    store.set_ticket_status(ticket.id, "resolved", today=TODAY)  # resolved again: no second call
    assert len(tasks_of(store, ticket_id=ticket.id)) == 2


def test_timed_rules_fire_once_on_the_owners_replica(store: Store) -> None:
    with_rules(store,
               rule("Closing soon", {"trigger": "date_reached", "table": "opportunities", "field": "expected_close",
                                     "days": -3}, {"action": "create_task", "title": "Check {title} closes"}),
               rule("Gone quiet", {"trigger": "no_activity", "table": "leads", "days": 10},
                    {"action": "flag_risk", "text": "quiet 10 days"}))
    soon = deal(store, expected_close=date(2026, 12, 9))
    later = deal(store, expected_close=date(2026, 12, 30))
    bos = deal(store, owner="bo", expected_close=date(2026, 12, 9))
    quiet = store.add_lead(name="Quiet Q", created_at=datetime(2026, 11, 1, tzinfo=UTC))
    fresh = store.add_lead(name="Fresh F")
    lines = store.run_timed_rules(TODAY)
    assert len(lines) == 2
    assert [t["title"] for t in tasks_of(store, opportunity_id=soon.id)] == ["Check Pumps closes"]
    assert tasks_of(store, opportunity_id=later.id) == [] and tasks_of(store, opportunity_id=bos.id) == []
    assert (store.require(Lead, quiet.id).flag, store.require(Lead, fresh.id).flag) == ("quiet 10 days", "")
    assert store.run_timed_rules(TODAY) == []  # the same occurrence: nothing twice


def test_an_action_that_cannot_be_done_is_said_in_the_history_and_the_change_stands(store: Store) -> None:
    with_rules(store, rule("Bad value", {"trigger": "created", "table": "leads"},
                           {"action": "set_field", "field": "score", "value": 400}))
    lead = store.add_lead(name="Emma")
    assert store.require(Lead, lead.id).name == "Emma"
    [(name, did)] = log_of(store, "leads", lead.id)
    assert name == "Bad value" and did.startswith("could not set score to 400:")


def test_the_dry_run_says_what_would_happen_and_changes_nothing(store: Store) -> None:
    with_rules(store, rule("Closing soon", {"trigger": "date_reached", "table": "opportunities",
                                            "field": "expected_close"}, {"action": "create_task", "title": "Call"}))
    deal(store, expected_close=TODAY)
    before = {name: dict(table) for name, table in store.storage.tables.items()}
    lines = store.rules_dry_run(TODAY)
    assert lines[0] == "Closing soon: when a deal's expected_close: task “Call” for the owner, due the same day"
    assert lines[1] == "  would act now on 1 record: Pumps"
    assert {name: dict(table) for name, table in store.storage.tables.items()} == before


@pytest.mark.parametrize(("rules", "problem"), [
    ([rule("Typo", {"trigger": "field_changed", "table": "leads", "field": "budgett"},
           {"action": "add_tag", "tag": "x"})], "rules.0 (Typo).when: 'budgett' is not a field of leads"),
    ([rule("A", {"trigger": "field_changed", "table": "leads", "field": "title"},
           {"action": "set_field", "field": "region", "value": "x"}),
      rule("B", {"trigger": "field_changed", "table": "leads", "field": "region"},
           {"action": "set_field", "field": "title", "value": "y"})],
     "rules: A -> B -> A set each other's fields round in a loop"),
    ([rule("Stage", {"trigger": "stage_entered", "stage": "offer"}, {"action": "flag_risk", "text": "x"})],
     "rules.0 (Stage).when.stage: 'offer' is not a stage"),
    ([rule("Who", {"trigger": "won"}, {"action": "create_task", "title": "x", "for": "zed"})],
     "rules.0 (Who).do.0.for: 'zed' is not one of the reps"),
    ([rule("Tags", {"trigger": "won"}, {"action": "add_tag", "tag": "x"})],
     "rules.0 (Tags).do.0: opportunities have no tags"),
])
def test_a_bad_rule_is_refused_naming_its_key_and_nothing_is_written(store: Store, rules: list[dict[str, Any]],
                                                                    problem: str) -> None:
    with pytest.raises(StoreError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        store.save_team_settings({"rules": rules})
    assert "rules" not in store.team_values()


def test_the_declaration_itself_is_checked_too() -> None:
    with pytest.raises(ValueError) as failed:
        Config.model_validate({"rules": [rule("x", {"trigger": "created"}, {"action": "add_tag", "tag": "t"})]})
    assert "a created trigger names its record type" in describe_error(failed.value)  # type: ignore[arg-type]


def test_back_in_the_stage_with_the_rules_task_still_open_makes_no_second_one(store: Store) -> None:
    with_rules(store, rule("Send the quote", {"trigger": "stage_entered", "stage": "quote"},
                           {"action": "create_task", "title": "Send the quote"}))
    pumps = deal(store)
    for stage in ("quote", "needs", "quote"):
        store.move_stage(pumps.id, stage)
    [task] = tasks_of(store, opportunity_id=pumps.id)
    store.update(Task, task["id"], done=True)
    store.move_stage(pumps.id, "needs")
    store.move_stage(pumps.id, "quote")  # the first one done: a new one
    assert sorted(t.get("done", False) for t in tasks_of(store, opportunity_id=pumps.id)) == [False, True]
