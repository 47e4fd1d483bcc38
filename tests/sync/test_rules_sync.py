"""The team's rules and sync: a rule fires where the change is made and never again when
the change arrives elsewhere; a timed rule two replicas both fire leaves one task and one
history entry once they have synced."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from store.database import Store
from store.models import Customer, Opportunity, Task
from sync.exchange import sync_folder
from tests.sync.conftest import TEAM, TeamClock

Replica = Callable[[str], Store]
QUOTE_TASK = {"name": "Send the quote", "when": {"trigger": "stage_entered", "stage": "quote"},
              "do": [{"action": "create_task", "title": "Send the quote for {title}", "due_in_days": 2}]}
CLOSING = {"name": "Closing soon", "when": {"trigger": "date_reached", "table": "opportunities",
                                            "field": "expected_close", "days": -3},
           "do": [{"action": "create_task", "title": "Check {title} closes"}]}


def rule_tasks(store: Store, deal_id: str) -> list[str]:
    return sorted(doc["id"] for doc in store.rows(Task) if doc.get("opportunity_id") == deal_id)


def history(store: Store, deal_id: str) -> list[str]:
    return [entry["id"] for entry in store.storage.tables["opportunities"][deal_id].get("rule_log") or ()]


def test_a_rule_fires_where_the_change_is_made_and_not_again_where_it_arrives(replica: Replica,
                                                                             shared: Path) -> None:
    ann, bo = replica("ann"), replica("bo")
    sync_folder(ann, shared)
    ann.save_team_settings({"rules": [QUOTE_TASK]})
    customer = ann.new(Customer, name="Acme")
    deal = ann.new(Opportunity, title="Pumps", customer_id=customer.id, stage="initial", owner="bo")
    sync_folder(ann, shared)
    sync_folder(bo, shared)
    bo.move_stage(deal.id, "quote")  # bo's change: bo's replica fires the rule
    assert len(rule_tasks(bo, deal.id)) == 1
    for store in (bo, ann, bo):
        sync_folder(store, shared)
    assert rule_tasks(ann, deal.id) == rule_tasks(bo, deal.id) and len(rule_tasks(ann, deal.id)) == 1
    assert history(ann, deal.id) == history(bo, deal.id) and len(history(ann, deal.id)) == 1


def test_a_timed_rule_both_of_a_reps_replicas_fire_leaves_one_task(tmp_path: Path, replica: Replica,
                                                                  shared: Path) -> None:
    laptop = replica("ann")
    folder = tmp_path / "ann-desktop"
    folder.mkdir()
    (folder / "config.yaml").write_text(f"me: ann\n{TEAM}")
    with Store(folder, wall=TeamClock()) as desktop:
        sync_folder(laptop, shared)
        laptop.save_team_settings({"rules": [CLOSING]})
        customer = laptop.new(Customer, name="Acme")
        deal = laptop.new(Opportunity, title="Pumps", customer_id=customer.id, stage="quote",
                          expected_close=date(2026, 12, 9))
        sync_folder(laptop, shared)
        sync_folder(desktop, shared)
        today = date(2026, 12, 7)
        assert laptop.run_timed_rules(today) and desktop.run_timed_rules(today)  # both saw it, offline
        for store in (laptop, desktop, laptop, desktop):
            sync_folder(store, shared)
        for store in (laptop, desktop):
            assert len(rule_tasks(store, deal.id)) == 1
            assert len(history(store, deal.id)) == 1
            assert store.run_timed_rules(today) == []
        assert rule_tasks(laptop, deal.id) == rule_tasks(desktop, deal.id)
