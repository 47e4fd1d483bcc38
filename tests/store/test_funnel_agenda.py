"""Funnel and today list on small hand-made histories, answers worked out by hand."""

from __future__ import annotations

from datetime import date

import pytest

from store.agenda import after_sales_note, agenda, due_today_count, next_birthday
from store.config import Config
from store.funnel import funnel, period_start

TODAY = date(2026, 11, 25)  # a Wednesday
CONFIG = Config()


def lead(i: int, status: str, created: str = "2026-11-24", owner: str = "me", **extra: object) -> dict:
    return {"id": f"l{i}", "name": f"Lead {i}", "status": status, "owner": owner,
            "created_at": f"{created}T09:00:00Z", **extra}


def opp(lead_id: str, stage: str, *history: str) -> dict:
    return {"id": f"o-{lead_id}", "lead_id": lead_id, "stage": stage, "owner": "me",
            "created_at": "2026-11-24T10:00:00Z", "stage_history": [{"stage": s} for s in history]}


def test_funnel_counts_and_rates() -> None:
    leads = [lead(1, "new"), lead(2, "contacted"), lead(3, "qualified"), lead(4, "converted"),
             lead(5, "converted"), lead(6, "disqualified", last_contacted_at="2026-11-24T10:00:00Z"),
             lead(7, "disqualified"), lead(8, "converted", created="2026-10-01")]
    opps = [opp("l4", "quote", "initial", "needs", "quote"), opp("l5", "won", "initial", "won"),
            opp("l8", "won", "initial", "won")]  # l8 is outside this week
    steps = funnel(leads, opps, CONFIG, today=TODAY, period="week")
    assert [(s.label, s.count) for s in steps] == [
        ("Leads", 7), ("Contacted", 5), ("Qualified", 3), ("Converted", 2),
        ("Initial contact", 2), ("Needs confirmed", 2), ("Quote", 2), ("Negotiation", 1),
        ("Won / signed", 1)]
    assert steps[0].conversion is None
    assert steps[1].conversion == pytest.approx(5 / 7)
    assert steps[-1].conversion == pytest.approx(1.0)
    everything = funnel(leads, opps, CONFIG, today=TODAY, period="all")
    assert everything[0].count == 8 and everything[-1].count == 2


def test_funnel_by_owner_and_an_empty_step_has_zero_rate() -> None:
    leads = [lead(1, "new", owner="ann"), lead(2, "new", owner="bo")]
    steps = funnel(leads, [], CONFIG, today=TODAY, owner="ann")
    assert steps[0].count == 1 and steps[1].count == 0 and steps[2].conversion == 0.0


def test_period_starts() -> None:
    assert period_start("week", TODAY) == date(2026, 11, 23)
    assert period_start("month", TODAY) == date(2026, 11, 1)
    assert period_start("quarter", TODAY) == date(2026, 10, 1)
    assert period_start("quarter", date(2027, 3, 31)) == date(2027, 1, 1)
    assert period_start("all", TODAY) is None


def test_agenda_lists_what_is_due_for_a_rep_or_the_team() -> None:
    leads = [lead(1, "contacted", next_follow_up="2026-11-25"),
             lead(2, "new", next_follow_up="2026-11-20", owner="bo"),
             lead(3, "new", next_follow_up="2026-11-26"),           # tomorrow: not yet
             lead(4, "converted", next_follow_up="2026-11-01"),     # closed: not listed
             lead(5, "new", next_follow_up="2026-11-01", in_pool=True)]
    customers = [{"id": "c1", "name": "Acme", "owner": "me", "lifecycle": "active",
                  "next_revisit": "2026-11-24", "revisit_days": 30},
                 {"id": "c2", "name": "Gone", "owner": "me", "lifecycle": "churned",
                  "next_revisit": "2026-11-01"}]
    contacts = [{"id": "p1", "name": "Li Na", "owner": "me", "birthday": "1990-11-28"},
                {"id": "p2", "name": "Old", "owner": "me", "birthday": "1980-12-25"},
                {"id": "p3", "name": "Greeted", "owner": "me", "birthday": "1985-11-26"}]
    tasks = [{"id": "t1", "title": "Send contract", "owner": "me", "due": "2026-11-23", "done": False},
             {"id": "t2", "title": "Done already", "owner": "me", "due": "2026-11-23", "done": True},
             {"id": "t3", "title": "Card", "owner": "me", "due": "2026-11-26", "done": True,
              "kind": "birthday", "contact_id": "p3"}]
    mine = agenda(leads=leads, customers=customers, contacts=contacts, tasks=tasks, today=TODAY, owner="me")
    assert [(i.kind, i.record_id, i.due.isoformat()) for i in mine] == [
        ("task", "t1", "2026-11-23"), ("revisit", "c1", "2026-11-24"),
        ("follow_up", "l1", "2026-11-25"), ("birthday", "p1", "2026-11-28")]
    team = agenda(leads=leads, customers=customers, contacts=contacts, tasks=tasks, today=TODAY)
    assert {i.record_id for i in team} - {i.record_id for i in mine} == {"l2"}
    assert due_today_count(team, TODAY) == (1, 3)


def test_leap_day_birthdays() -> None:
    assert next_birthday(date(2000, 2, 29), date(2027, 2, 1)) == date(2027, 2, 28)
    assert next_birthday(date(2000, 2, 29), date(2028, 2, 1)) == date(2028, 2, 29)
    assert next_birthday(date(1990, 1, 5), date(2026, 12, 30)) == date(2027, 1, 5)


def test_the_after_sales_note_promises_only_what_today_shows() -> None:
    """Resolving a ticket schedules a call in two days and a survey in three: both are in
    Today (its lookahead is a week); a survey set further out is said to come later."""
    call = {"kind": "after_sales", "due": "2026-11-27", "title": "After-sales call: Valve drips"}
    survey = {"kind": "survey", "due": "2026-11-28", "title": "Satisfaction survey: Contoso"}
    both = [*agenda(leads=[], customers=[], contacts=[], tasks=[{**call, "id": "c", "owner": "me"},
                                                                  {**survey, "id": "s", "owner": "me"}],
                    today=TODAY)]
    assert [item.title for item in both] == [call["title"], survey["title"]]  # Today lists both
    assert after_sales_note([survey, call], TODAY) == ("After-sales call (due 2026-11-27) and survey request "
                                                       "(due 2026-11-28) are in Today.")
    far = {**survey, "due": "2026-12-15"}
    assert not agenda(leads=[], customers=[], contacts=[], tasks=[{**far, "id": "s", "owner": "me"}], today=TODAY)
    assert after_sales_note([call, far], TODAY) == ("After-sales call (due 2026-11-27) is in Today; survey request "
                                                    "(due 2026-12-15) shows there from 2026-12-08.")
    assert after_sales_note([far], TODAY) == "Survey request (due 2026-12-15) shows in Today from 2026-12-08."
    assert after_sales_note([{**call, "done": True}], TODAY) == ""
