"""The leads' histories read once for a review (``store.review_leads``) count what the
readers that read each history again count: whose each lead was at the week's end, the
team's and each rep's conversions over the rates' window, the week's conversions, new
leads by source and grade. A property over made-up leads, with handovers, a return to
the pool, damaged entries and events in and out of the week; the index made once serves
every week."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from store.config import Config
from store.review_figures import TREND_WEEKS, _lead_decisions
from store.review_leads import index_leads, read_lead_histories
from store.review_week import Week, _instant, lead_owner_at, lead_week

CONFIG = Config.model_validate({"me": "ann", "reps": [{"id": "ann", "name": "Ann"}, {"id": "bo", "name": "Bo"},
                                                      {"id": "cy", "name": "Cy"}]})
WEEK = Week(2026, 47)
REPS = ["ann", "bo", "cy", ""]
DAYS = st.integers(min_value=-120, max_value=20).map(lambda n: (WEEK.start + timedelta(days=n)).isoformat())
KINDS = ["created", "assigned", "claimed", "returned_to_pool", "converted", "disqualified", "graded", "note"]


@st.composite
def event(draw: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": draw(st.uuids()).hex, "kind": draw(st.sampled_from(KINDS)),
                             "at": draw(DAYS) + "T10:00:00Z", "by": "ann"}
    if entry["kind"] in ("created", "assigned", "claimed", "graded"):
        entry["to"] = draw(st.sampled_from(["ann", "bo", "cy", "A", "B", ""]))
    if draw(st.integers(0, 15)) == 0:
        del entry[draw(st.sampled_from(["kind", "at", "by"]))]  # a damaged entry: left out
    return entry


@st.composite
def lead(draw: Any) -> dict[str, Any]:
    return {"id": draw(st.uuids()).hex, "owner": draw(st.sampled_from(REPS)), "created_at": draw(DAYS) + "T09:00:00Z",
            "source": draw(st.sampled_from(["web", "expo", ""])), "grade": draw(st.sampled_from(["A", "C", None])),
            "history": draw(st.lists(event(), max_size=6)), "updated_at": "2026-11-20T00:00:00Z"}


@settings(max_examples=150, deadline=None)
@given(leads=st.lists(lead(), max_size=25), back=st.integers(0, 3))
def test_one_read_of_the_histories_counts_what_the_readers_counted(leads: list[dict[str, Any]], back: int) -> None:
    index = index_leads(leads)  # once, for every week
    week = WEEK.step(-back)
    read = read_lead_histories(week, CONFIG, leads, index)
    until = _instant(week.end + timedelta(days=1))
    window = _instant(week.start - timedelta(weeks=TREND_WEEKS - 1))
    assert read.owner_at_end == [lead_owner_at(lead, until) for lead in leads]
    assert read.lead_decisions(None) == _lead_decisions(leads, None, window, until)
    for rep in REPS:
        held = [lead for lead, owner in zip(leads, read.owner_at_end, strict=True) if owner == rep]
        assert read.lead_decisions(rep) == _lead_decisions(held, rep, window, until)
    for owner in [None, *REPS]:
        assert read.week(owner) == lead_week(week, CONFIG, leads, owner)


def test_the_index_keeps_only_what_the_lead_does_not_say() -> None:
    mine = {"id": "1", "owner": "ann", "created_at": "2026-11-01T09:00:00Z",
            "history": [{"id": "e1", "kind": "created", "at": "2026-11-01T09:00:00Z", "by": "ann", "to": "ann"}]}
    handed = {"id": "2", "owner": "bo", "created_at": "2026-11-01T09:00:00Z",
              "history": [{"id": "e2", "kind": "created", "at": "2026-11-01T09:00:00Z", "by": "ann", "to": "ann"},
                          {"id": "e3", "kind": "assigned", "at": "2026-11-18T09:00:00Z", "by": "ann", "to": "bo"},
                          {"id": "e4", "kind": "converted", "at": "2026-11-19T09:00:00Z", "by": "bo"}]}
    index = index_leads([mine, handed])
    assert index.handed == {1: (("2026-11-01T09:00:00Z", "ann"), ("2026-11-18T09:00:00Z", "bo"))}
    assert index.decided == {1: (("converted", "2026-11-19T09:00:00Z"),)}
    assert index.owner_at(1, handed, _instant(date(2026, 11, 10))) == "ann"  # before the handover
