"""The calendar export against real data folders, parsed back with icalendar and vobject,
and compared with an all-day calendar that Outlook wrote (tests/data/ics/SOURCES.md)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import vobject
from icalendar import Calendar

from store.calendar_export import (
    CalendarEntry,
    build_calendar,
    calendar_entries,
    export_calendar,
    sequence_of,
    sources_of,
)
from store.database import Store
from store.demo import generate_demo
from store.models import Contact, Customer, Lead, Opportunity, Task

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
OLD = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
OUTLOOK = Path(__file__).resolve().parents[1] / "data" / "ics" / "outlook-germany-holidays.ics"


def team_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(
        "me: alice\nreps:\n  - {id: alice, name: Alice Smith}\n  - {id: bob, name: Bob Jones}\n", encoding="utf-8")
    return folder


@pytest.fixture
def team(folder: Path) -> Iterator[Store]:
    with Store(team_folder(folder)) as opened:
        yield opened


def fill(store: Store) -> dict[str, Any]:
    """One record of every kind that is on a calendar, and some that are not."""
    acme = store.new(Customer, name="Acme", lifecycle="active", next_revisit=date(2026, 12, 3),
                     revisit_days=90, address="1 Main St, Springfield", updated_at=OLD)
    ana = store.new(Contact, customer_id=acme.id, name="Ana Li", role="Buyer", birthday=date(1980, 6, 15),
                    primary=True, updated_at=OLD)
    leap = store.new(Contact, customer_id=acme.id, name="Leo Leap", birthday=date(1988, 2, 29), updated_at=OLD)
    lead = store.new(Lead, name="Ana Li", company="Acme", phone="+1 555 0100 200",
                     next_follow_up=date(2026, 11, 27), updated_at=OLD)
    task = store.new(Task, title="Send brochure", due=date(2026, 11, 30), customer_id=acme.id,
                     notes="Line one\nline two", updated_at=OLD)
    deal = store.new(Opportunity, title="Rollout", customer_id=acme.id, contact_id=ana.id, stage="quote",
                     amount="12000", expected_close=date(2026, 12, 20), next_step="Send the quote", updated_at=OLD)
    absent = [
        store.new(Lead, name="Converted", status="converted", customer_id=acme.id, next_follow_up=date(2026, 12, 1)),
        store.new(Lead, name="Dropped", status="disqualified", disqualified_reason="No budget",
                  next_follow_up=date(2026, 12, 1)),
        store.new(Lead, name="Pooled", in_pool=True, next_follow_up=date(2026, 12, 1)),
        store.new(Task, title="Already done", due=date(2026, 11, 28), done=True),
        store.new(Task, title="Birthday greeting: Ana Li", kind="birthday", due=date(2026, 6, 15),
                  contact_id=ana.id, done=True),
        store.new(Opportunity, title="Signed", customer_id=acme.id, stage="won", expected_close=date(2026, 12, 2)),
        store.new(Opportunity, title="Gone", customer_id=acme.id, stage="lost", lost_reason="Price",
                  expected_close=date(2026, 12, 2)),
        store.new(Customer, name="Prospect Co", lifecycle="prospect", next_revisit=date(2026, 12, 4)),
    ]
    bobs = store.new(Lead, name="Bo Bob", company="Bobco", owner="bob", next_follow_up=date(2026, 11, 28))
    return {"acme": acme, "ana": ana, "leap": leap, "lead": lead, "task": task, "deal": deal,
            "absent": absent, "bobs": bobs}


def events(ics: bytes) -> dict[str, Any]:
    calendar = Calendar.from_ical(ics)
    return {str(event["uid"]): event for event in calendar.walk("VEVENT")}


def export(store: Store, owner: str | None = "alice", now: datetime = NOW) -> bytes:
    return export_calendar(store, owner=owner, now=now).ics


def test_every_kind_is_an_all_day_event_with_a_stable_uid(team: Store) -> None:
    made = fill(team)
    found = events(export(team))
    assert set(found) == {f"follow-up-{made['lead'].id}@dealdeck", f"revisit-{made['acme'].id}@dealdeck",
                          f"task-{made['task'].id}@dealdeck", f"birthday-{made['ana'].id}@dealdeck",
                          f"birthday-{made['leap'].id}@dealdeck", f"close-{made['deal'].id}@dealdeck"}
    for event in found.values():
        start, end = event["dtstart"].dt, event["dtend"].dt
        assert type(start) is date and type(end) is date and end == start + timedelta(days=1)
        assert event["dtstart"].params.get("VALUE") == "DATE"
        assert event["dtstamp"].dt == event["last-modified"].dt == OLD
        assert event["sequence"] == sequence_of(OLD)
        assert "Dealdeck" in event["categories"].cats and event["description"]
        assert event["transp"] == "TRANSPARENT"


def test_summaries_say_what_it_is_and_for_whom(team: Store) -> None:
    made = fill(team)
    found = {uid.split("-")[0]: e for uid, e in events(export(team)).items() if not uid.startswith("birthday")}
    assert found["follow"]["summary"] == "Follow up: Ana Li (Acme)"
    assert found["revisit"]["summary"] == "Revisit: Acme"
    assert found["task"]["summary"] == "Task: Send brochure (Acme)"
    assert found["close"]["summary"] == "Expected close: Rollout (Acme)"
    assert found["revisit"]["location"] == "1 Main St, Springfield"
    assert "Plan: revisit every 90 days\nLifecycle: active\nContact: Ana Li" in found["revisit"]["description"]
    assert "Stage: Quote (50%)" in found["close"]["description"]
    assert "Next step: Send the quote" in found["close"]["description"]
    assert found["task"]["description"].endswith("Line one\nline two")
    birthday = events(export(team))[f"birthday-{made['ana'].id}@dealdeck"]
    assert birthday["summary"] == "Birthday: Ana Li (Acme)"
    assert birthday["categories"].cats == ["Dealdeck", "Birthday"]


def test_done_tasks_closed_deals_and_converted_leads_are_left_out(team: Store) -> None:
    made = fill(team)
    ics = export(team, owner=None)
    for record in made["absent"]:
        assert record.id.encode() not in ics, record.label()
    summaries = [str(e["summary"]) for e in events(ics).values()]
    assert not [s for s in summaries if any(w in s for w in ("Converted", "Dropped", "Pooled", "Signed", "Gone"))]


def test_the_calendar_is_valid_rfc_5545(team: Store) -> None:
    fill(team)
    ics = export(team)
    assert ics.startswith(b"BEGIN:VCALENDAR\r\n") and ics.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in ics.replace(b"\r\n", b""), "every line ends in CRLF"
    calendar = Calendar.from_ical(ics)
    assert calendar["version"] == "2.0" and "Dealdeck" in calendar["prodid"]
    assert calendar["x-wr-calname"] == "Dealdeck: Alice Smith"
    assert not calendar.walk("VTIMEZONE"), "all-day events need no time zone"
    for line in ics.split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")  # folded between characters, never inside one
    for event in calendar.walk("VEVENT"):
        assert {"UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"} <= set(event)


def test_a_second_export_is_the_same_file(team: Store) -> None:
    fill(team)
    first = export(team)
    assert export(team) == first
    assert export(team, now=NOW + timedelta(days=30)) == first, "the clock does not change the events"


def test_an_edit_keeps_the_uid_and_bumps_sequence_and_last_modified(team: Store) -> None:
    made = fill(team)
    uid = f"follow-up-{made['lead'].id}@dealdeck"
    later = datetime.now(UTC) + timedelta(minutes=1)
    before = events(export(team, now=later))
    team.update(Lead, made["lead"].id, next_follow_up=date(2026, 12, 9))
    after = events(export(team, now=later))
    assert set(after) == set(before)
    assert after[uid]["dtstart"].dt == date(2026, 12, 9)
    assert after[uid]["sequence"] > before[uid]["sequence"]
    assert after[uid]["last-modified"].dt > before[uid]["last-modified"].dt
    assert after[uid]["dtstamp"].dt == after[uid]["last-modified"].dt
    unchanged = f"task-{made['task'].id}@dealdeck"
    assert after[unchanged].to_ical() == before[unchanged].to_ical()


def test_renaming_the_customer_updates_the_events_that_name_it(team: Store) -> None:
    made = fill(team)
    later = datetime.now(UTC) + timedelta(minutes=1)
    before = events(export(team, now=later))
    team.update(Customer, made["acme"].id, name="Acme Group")
    after = events(export(team, now=later))
    uid = f"birthday-{made['ana'].id}@dealdeck"
    assert after[uid]["summary"] == "Birthday: Ana Li (Acme Group)"
    assert after[uid]["sequence"] > before[uid]["sequence"]


def test_commas_semicolons_and_newlines_are_escaped(team: Store) -> None:
    made = fill(team)
    name = "Smith, Jones; Partners"
    team.update(Customer, made["acme"].id, name=name)
    team.update(Lead, made["lead"].id, notes="Call after 3pm;\nask for Jo, not Joe\\Jim")
    ics = export(team)
    unfolded = ics.replace(b"\r\n ", b"")
    assert b"SUMMARY:Revisit: Smith\\, Jones\\; Partners\r\n" in unfolded
    assert b"Call after 3pm\\;\\nask for Jo\\, not Joe\\\\Jim" in unfolded
    found = events(ics)
    assert found[f"revisit-{made['acme'].id}@dealdeck"]["summary"] == f"Revisit: {name}"
    assert found[f"follow-up-{made['lead'].id}@dealdeck"]["description"].endswith(
        "Call after 3pm;\nask for Jo, not Joe\\Jim")


def test_non_ascii_names_survive_and_long_lines_fold_at_75_octets(team: Store) -> None:
    company = "北京鼎盛健康科技发展有限公司" * 3
    lead = team.new(Lead, name="Zoë Ångström-王芳", company=company, next_follow_up=date(2026, 12, 1))
    ics = export(team)
    lines = ics.split(b"\r\n")
    summary = [i for i, line in enumerate(lines) if line.startswith(b"SUMMARY:")]
    assert len(lines[summary[0]]) > 60 and lines[summary[0] + 1].startswith(b" "), "the summary is folded"
    assert all(len(line) <= 75 for line in lines)
    assert all(line.decode("utf-8") for line in lines if line)
    found = events(ics)[f"follow-up-{lead.id}@dealdeck"]
    assert found["summary"] == f"Follow up: Zoë Ångström-王芳 ({company})"


def test_birthdays_recur_every_year_and_29_february_falls_on_the_28th(team: Store) -> None:
    made = fill(team)
    ics = export(team)
    found = events(ics)
    ana = found[f"birthday-{made['ana'].id}@dealdeck"]
    assert ana["rrule"].to_ical() == b"FREQ=YEARLY"
    assert ana["dtstart"].dt == date(1980, 6, 15)
    leap = found[f"birthday-{made['leap'].id}@dealdeck"]
    assert leap["rrule"]["BYMONTH"] == [2] and leap["rrule"]["BYMONTHDAY"] == [-1]
    event = next(e for e in vobject.readOne(ics.decode("utf-8")).vevent_list
                 if e.uid.value == f"birthday-{made['leap'].id}@dealdeck")
    days = [d.date() for d in event.getrruleset().between(datetime(2026, 1, 1), datetime(2029, 1, 1))]
    assert days == [date(2026, 2, 28), date(2027, 2, 28), date(2028, 2, 29)]


def test_a_rep_sees_their_own_and_the_team_sees_everyones(team: Store) -> None:
    made = fill(team)
    bobs = f"follow-up-{made['bobs'].id}@dealdeck"
    assert bobs not in events(export(team, owner="alice"))
    assert set(events(export(team, owner="bob"))) == {bobs}
    everyone = events(export(team, owner=None))
    assert everyone[bobs]["summary"] == "Follow up: Bo Bob (Bobco) · Bob Jones"
    assert str(Calendar.from_ical(export(team, owner=None))["x-wr-calname"]) == "Dealdeck: team"


def test_a_contacts_birthday_is_on_the_calendar_of_the_customers_owner(team: Store) -> None:
    made = fill(team)
    team.update(Contact, made["ana"].id, owner="bob")
    assert f"birthday-{made['ana'].id}@dealdeck" in events(export(team, owner="alice"))


def test_now_is_used_only_where_a_record_says_nothing_later(team: Store) -> None:
    future = CalendarEntry("task", "a" * 32, date(2026, 12, 1), "Task: x", "alice", updated=NOW + timedelta(days=2))
    unknown = CalendarEntry("task", "b" * 32, date(2026, 12, 1), "Task: y", "alice")
    found = events(build_calendar([future, unknown], name="x", now=NOW))
    for event in found.values():
        assert event["dtstamp"].dt == NOW and event["sequence"] == sequence_of(NOW)


def test_demo_data_every_reps_calendar_parses_and_together_they_are_the_teams(folder: Path) -> None:
    generate_demo(folder, reps=3, leads=60, seed=3, today=date(2026, 11, 25))
    with Store(folder) as store:
        team_uids = set(events(export(store, owner=None)))
        entries = calendar_entries(sources_of(store), store.config, owner=None)
        seen: set[str] = set()
        for rep in store.config.rep_ids():
            ics = export(store, owner=rep)
            mine = events(ics)
            assert not seen & mine.keys()
            seen |= mine.keys()
            for event in vobject.readOne(ics.decode("utf-8")).vevent_list:
                assert type(event.dtstart.value) is date and event.dtend.value == event.dtstart.value + timedelta(1)
    assert seen == team_uids and len(team_uids) == len(entries)
    assert {e.kind for e in entries} == {"follow-up", "revisit", "task", "birthday", "close"}


# --- interoperability with a calendar another program wrote -------------------------------

ALL_DAY_EVENT = {"UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "DESCRIPTION", "LOCATION", "SEQUENCE", "TRANSP"}
CALENDAR = {"VERSION", "PRODID", "CALSCALE", "X-WR-CALNAME"}


def all_day_shape(ics: bytes) -> list[tuple[type, type, timedelta]]:
    """(start type, end type, length) of each event, as icalendar and as vobject read it."""
    by_icalendar = [(type(e["dtstart"].dt), type(e["dtend"].dt), e["dtend"].dt - e["dtstart"].dt)
                    for e in Calendar.from_ical(ics).walk("VEVENT")]
    by_vobject = [(type(e.dtstart.value), type(e.dtend.value), e.dtend.value - e.dtstart.value)
                  for e in vobject.readOne(ics.decode("utf-8")).vevent_list]
    assert by_icalendar == by_vobject
    return by_icalendar


def test_outlooks_all_day_calendar_and_ours_have_the_same_shape(team: Store) -> None:
    fill(team)
    theirs, ours = OUTLOOK.read_bytes(), export(team)
    assert set(all_day_shape(theirs)) == set(all_day_shape(ours)) == {(date, date, timedelta(days=1))}
    for ics in (theirs, ours):
        calendar = Calendar.from_ical(ics)
        assert CALENDAR.issubset(calendar)
        lines = ics.replace(b"\r\n ", b"").split(b"\r\n")
        starts = [line for line in lines if line.startswith(b"DTSTART")]
        assert starts and all(line.startswith(b"DTSTART;VALUE=DATE:") for line in starts)
    revisit = next(e for e in Calendar.from_ical(ours).walk("VEVENT") if str(e["uid"]).startswith("revisit-"))
    reference = Calendar.from_ical(theirs).walk("VEVENT")[0]
    assert ALL_DAY_EVENT.issubset(reference) and ALL_DAY_EVENT.issubset(revisit)


def test_the_outlook_file_reads_the_same_through_both_parsers() -> None:
    ics = OUTLOOK.read_bytes()
    by_icalendar = [(str(e["uid"]), e["dtstart"].dt, str(e["summary"]).strip())
                    for e in Calendar.from_ical(ics).walk("VEVENT")]
    by_vobject = [(e.uid.value, e.dtstart.value, e.summary.value.strip())
                  for e in vobject.readOne(ics.decode("utf-8")).vevent_list]
    assert by_icalendar == by_vobject == [("7", date(2008, 1, 1), "Germany: New Years Day"),
                                          ("32", date(2008, 1, 6), "Germany: Epiphany"),
                                          ("82", date(2008, 3, 21), "Germany: Good Friday")]


def test_our_events_read_the_same_through_both_parsers(team: Store) -> None:
    fill(team)
    ics = export(team)
    by_icalendar = sorted((str(e["uid"]), str(e["summary"]), str(e["description"]), int(e["sequence"]),
                           e["dtstamp"].dt) for e in Calendar.from_ical(ics).walk("VEVENT"))
    by_vobject = sorted((e.uid.value, e.summary.value, e.description.value, int(e.sequence.value),
                         e.dtstamp.value) for e in vobject.readOne(ics.decode("utf-8")).vevent_list)
    assert by_icalendar == by_vobject and len(by_icalendar) == 6
