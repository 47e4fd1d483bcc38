"""Decisions taken in the weekly review are ordinary changes: they reach a teammate's
replica with the rest of the meeting's edits, his own edits of the deal stay, and the
report he writes lists them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from store.database import Store
from store.decisions import decide_close_date, decide_next_step, decide_note, week_decisions
from store.models import Opportunity, Task
from store.review import Week
from sync.exchange import sync_folder
from tests.store.test_decisions import WEEK, a_deal
from tui.report import collect_review, to_markdown

Replica = Callable[[str], Store]


def test_decisions_sync_to_a_teammates_replica(replica: Replica, shared: Path) -> None:
    ann, bo = replica("ann"), replica("bo")
    deal = a_deal(ann)
    sync_folder(ann, shared)
    sync_folder(bo, shared)
    # in the meeting, on ann's machine; bo edits the same deal on his at the same time
    decided = decide_next_step(ann, "opportunities", deal.id, WEEK, step="Site survey", owner="bo",
                               due=date(2026, 12, 10))
    decide_close_date(ann, deal.id, WEEK, date(2027, 1, 15))
    bo.update(Opportunity, deal.id, amount=45000)
    decide_note(bo, "opportunities", deal.id, WEEK, "Bo calls their CFO")
    for store in (ann, bo, ann):
        sync_folder(store, shared)
    for store in (ann, bo):
        merged = store.require(Opportunity, deal.id)
        assert (merged.expected_close, merged.amount, merged.next_step) == (date(2027, 1, 15), 45000, "Site survey")
        assert sorted(line.text for line in week_decisions(store, WEEK)) == [
            "2026-11-20 → 2027-01-15", "Bo calls their CFO", "Site survey · Bo by 2026-12-10"]
    task = bo.require(Task, decided.task_id or "")
    assert (task.owner, task.title) == ("bo", "Site survey")  # in bo's own task list
    report = to_markdown(collect_review(bo, Week(2026, 47), None, date(2026, 11, 25)))  # the review bo mails
    decisions = report.split("## Decisions in the meeting")[1].split("## ")[0]
    assert "Site survey · Bo by 2026-12-10" in decisions and "Bo calls their CFO" in decisions
