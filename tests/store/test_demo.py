"""Demo data: reproducible, complete, consistent, and never mixed into real data."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from store.config import load_config
from store.database import Store
from store.demo import DemoSummary, generate_demo
from store.errors import StoreError
from store.leads import due_for_pool
from store.models import (
    RECORD_TYPES,
    Activity,
    Contact,
    Customer,
    Lead,
    Opportunity,
    Survey,
    Task,
    Ticket,
)
from store.records import fields_of
from tui.cli import main

TODAY = date(2025, 3, 14)
HORIZON = datetime(2025, 3, 14, tzinfo=UTC)
CJK = re.compile(r"[\u4e00-\u9fff]")


def stored_fields(folder: Path) -> dict[str, list[dict[str, Any]]]:
    """Every record's own fields (no sync stamps), by table, in id order."""
    with Store(folder) as store:
        return {cls.table: sorted((fields_of(doc) for doc in store.rows(cls)), key=lambda d: d["id"])
                for cls in RECORD_TYPES}


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The default demo (400 leads, 5 reps), made once for the read-only checks."""
    folder = tmp_path_factory.mktemp("demo") / "data"
    generate_demo(folder, today=TODAY)
    with Store(folder) as store:
        yield store


# --- reproducibility -----------------------------------------------------------------------------


def test_the_same_seed_day_and_id_seed_give_identical_records(tmp_path: Path) -> None:
    first = generate_demo(tmp_path / "a", leads=60, reps=2, seed=3, today=TODAY, id_seed=1)
    second = generate_demo(tmp_path / "b", leads=60, reps=2, seed=3, today=TODAY, id_seed=1)
    assert (first.leads, first.opportunities, first.activities) == (second.leads, second.opportunities,
                                                                    second.activities)
    assert stored_fields(tmp_path / "a") == stored_fields(tmp_path / "b")
    assert (tmp_path / "a" / "config.yaml").read_text() == (tmp_path / "b" / "config.yaml").read_text()


def content(folder: Path) -> dict[str, list[tuple[Any, ...]]]:
    """What the demo holds, as a rep reads it (no ids)."""
    with Store(folder) as store:
        return {"leads": sorted((d.name, d.email, d.company, d.status, d.in_pool, d.created_at)
                                for d in store.all(Lead)),
                "deals": sorted((d.title, d.amount, d.stage, d.created_at) for d in store.all(Opportunity)),
                "activities": sorted((a.kind, a.at, a.subject) for a in store.all(Activity))}


def test_two_folders_of_the_default_seed_share_content_but_no_record_id(tmp_path: Path) -> None:
    """Two teammates who each try the demo and then sync must not have their unrelated
    records merged as one: the ids are drawn afresh for each folder."""
    generate_demo(tmp_path / "a", leads=60, reps=2, today=TODAY)
    generate_demo(tmp_path / "b", leads=60, reps=2, today=TODAY)
    assert content(tmp_path / "a") == content(tmp_path / "b")
    a, b = stored_fields(tmp_path / "a"), stored_fields(tmp_path / "b")
    for table in a:
        assert not {d["id"] for d in a[table]} & {d["id"] for d in b[table]}, table


def test_only_a_few_percent_of_the_leads_sit_in_the_pool(demo: Store) -> None:
    """Reps work their leads: the pool holds those let go quiet, not a third of them; and
    the first start sends no more there (the pool rule is applied as of today)."""
    leads = demo.all(Lead)
    pooled = sum(lead.in_pool for lead in leads)
    assert 0 < pooled <= len(leads) * 0.06, pooled
    docs = [lead.model_dump(mode="json") for lead in leads]
    assert due_for_pool(docs, TODAY, demo.config.lead_pool.return_after_days) == []


def test_another_seed_gives_other_records(tmp_path: Path) -> None:
    generate_demo(tmp_path / "a", leads=60, reps=2, seed=3, today=TODAY)
    generate_demo(tmp_path / "b", leads=60, reps=2, seed=4, today=TODAY)
    a, b = stored_fields(tmp_path / "a"), stored_fields(tmp_path / "b")
    assert not {d["id"] for d in a["leads"]} & {d["id"] for d in b["leads"]}
    assert [d["name"] for d in a["leads"]] != [d["name"] for d in b["leads"]]


# --- the team ------------------------------------------------------------------------------------------


def test_the_team_goes_into_the_config_with_me_as_the_first_rep(demo: Store) -> None:
    config = load_config(demo.folder)
    assert [r.id for r in config.reps] == ["alice", "wang.fang", "bob", "li.wei", "carol"]
    assert config.me == "alice"
    assert any(CJK.search(r.name) for r in config.reps)
    assert all(r.region and r.monthly_target > 0 for r in config.reps)
    assert "# Dealdeck configuration." in (demo.folder / "config.yaml").read_text(), "comments are kept"


def test_more_reps_than_names_get_plain_ids(tmp_path: Path) -> None:
    generate_demo(tmp_path / "data", reps=18, leads=40, today=TODAY)
    ids = load_config(tmp_path / "data").rep_ids()
    assert len(ids) == len(set(ids)) == 18
    assert ids[-2:] == ["rep17", "rep18"]


# --- what is in it -------------------------------------------------------------------------------------


def test_every_stage_and_lead_status_appears(demo: Store) -> None:
    config = demo.config
    assert {o.stage for o in demo.all(Opportunity)} == set(config.stage_keys)
    assert {lead.status for lead in demo.all(Lead)} == {"new", "contacted", "qualified", "converted",
                                                       "disqualified"}


def test_a_tiny_run_still_shows_every_stage_and_status(tmp_path: Path) -> None:
    generate_demo(tmp_path / "data", leads=60, reps=2, today=TODAY)
    with Store(tmp_path / "data") as store:
        assert {o.stage for o in store.all(Opportunity)} == set(store.config.stage_keys)
        assert len({lead.status for lead in store.all(Lead)}) == 5


def test_leads_look_like_a_real_funnel(demo: Store) -> None:
    leads = demo.all(Lead)
    config = demo.config
    assert len(leads) == 400
    assert all(lead.grade == config.grade_for(lead.score) for lead in leads)
    assert set(Counter(lead.grade for lead in leads)) == {"A", "B", "C", "D"}
    assert {"trade show", "website", "referral", "cold call"} <= {lead.source for lead in leads}
    assert {lead.source for lead in leads} <= set(config.lead_sources)
    assert all(lead.disqualified_reason for lead in leads if lead.status == "disqualified")
    follow_ups = [lead.next_follow_up for lead in leads if lead.next_follow_up]
    assert any(d < TODAY for d in follow_ups) and TODAY in follow_ups and any(d > TODAY for d in follow_ups)
    assert any(lead.tags for lead in leads) and any(lead.in_pool for lead in leads)
    assert all({"created", "assigned"} <= {e.kind for e in lead.history} for lead in leads)
    converted = [lead for lead in leads if lead.status == "converted"]
    assert 0.2 <= len(converted) / len(leads) <= 0.35


def test_names_are_english_and_chinese(demo: Store) -> None:
    leads = demo.all(Lead)
    assert any(CJK.search(lead.name) and lead.company.endswith("有限公司") for lead in leads)
    assert any(re.fullmatch(r"[A-Z][a-z]+ [A-Z][\w']+", lead.name) for lead in leads)
    assert any(CJK.search(c.name) for c in demo.all(Customer))


def test_some_leads_are_near_duplicates_of_another_reps_leads(demo: Store) -> None:
    owners: dict[str, set[str]] = {}
    for lead in demo.all(Lead):
        for key in (lead.email, lead.phone):
            if key:
                owners.setdefault(key, set()).add(lead.owner)
    shared = [key for key, reps in owners.items() if len(reps) > 1]
    assert 3 <= len(shared) <= 10
    twin = next(lead for lead in demo.all(Lead) if shared[0] in (lead.email, lead.phone))
    found = demo.duplicates_of(twin.model_dump(), exclude_id=twin.id)
    assert any(isinstance(other, Lead) and other.owner != twin.owner for other in found)


def test_opportunities_have_a_consistent_history(demo: Store) -> None:
    config = demo.config
    deals = demo.all(Opportunity)
    closing = {config.won_stage.key, config.lost_stage.key}
    for deal in deals:
        times = [change.at for change in deal.stage_history]
        assert times == sorted(times) and times[0] == deal.created_at
        assert deal.stage_history[-1].stage == deal.stage
        assert deal.currency == config.currency
        assert (deal.closed_at is not None) == (deal.stage in closing)
        if deal.stage == config.lost_stage.key:
            assert deal.lost_reason in config.lost_reasons
        amounts = [c for c in deal.changes if c.field == "amount"]
        if amounts:
            assert amounts[-1].new == str(deal.amount)
    open_deals = [d for d in deals if d.closed_at is None]
    assert any(d.expected_close and d.expected_close < TODAY for d in open_deals), "slipped deals"
    assert any(c.field == "expected_close" for d in deals for c in d.changes)
    assert any(not d.next_step for d in open_deals) and any(d.next_step for d in open_deals)
    assert any(len(d.stage_history) < config.stage_keys.index(d.stage) + 1 for d in open_deals), "skips"
    assert any(len({c.stage for c in d.stage_history}) < len(d.stage_history) for d in deals), "moved back"


def test_quotes_come_with_the_quote_stage(demo: Store) -> None:
    config = demo.config
    later = {key for key in config.stage_keys[config.stage_keys.index("quote"):]} - {config.lost_stage.key}
    for deal in demo.all(Opportunity):
        if deal.stage in later:
            assert deal.quotes, deal.title
            assert deal.amount == deal.latest_quote().total  # type: ignore[union-attr]
    assert any(q.version == 2 for d in demo.all(Opportunity) for q in d.quotes)


def test_customers_after_the_sale(demo: Store) -> None:
    won = demo.config.won_stage.key
    deals = demo.all(Opportunity)
    customers = demo.all(Customer)
    winners = {d.customer_id for d in deals if d.stage == won}
    assert all(c.lifecycle != "prospect" for c in customers if c.id in winners)
    assert {c.lifecycle for c in customers} >= {"prospect", "active", "at_risk"}
    active = [c for c in customers if c.lifecycle == "active"]
    assert all(c.revisit_days and c.next_revisit and c.active_since for c in active)
    assert any(c.next_revisit < TODAY for c in active), "an overdue revisit"  # type: ignore[operator]
    assert max(Counter(d.customer_id for d in deals if d.stage == won).values()) >= 2, "repeat business"


def test_contact_dates_follow_the_activities(demo: Store) -> None:
    activities = demo.all(Activity)
    for lead in demo.all(Lead):
        times = [a.at for a in activities if a.lead_id == lead.id]
        assert lead.last_contacted_at == (max(times) if times else None)
        assert (lead.status == "new") <= (not times)
    for customer in demo.all(Customer):
        times = [a.at for a in activities if a.customer_id == customer.id]
        assert customer.last_contact_at == (max(times) if times else None)
    assert {a.kind for a in activities} >= {"call", "visit", "meeting", "email", "note", "quote_sent"}


def test_some_open_deals_have_gone_quiet(demo: Store) -> None:
    last: dict[str, datetime] = {}
    for a in demo.all(Activity):
        if a.opportunity_id:
            last[a.opportunity_id] = max(last.get(a.opportunity_id, a.at), a.at)
    quiet = [d for d in demo.all(Opportunity)
             if d.closed_at is None and HORIZON - last[d.id] > timedelta(days=21)]
    assert quiet


def test_tasks_tickets_surveys_and_birthdays(demo: Store) -> None:
    tasks = demo.all(Task)
    assert {t.kind for t in tasks} >= {"follow_up", "todo"}
    assert any(t.done for t in tasks) and any(not t.done and t.due < TODAY for t in tasks)
    tickets = demo.all(Ticket)
    assert {t.status for t in tickets} == {"open", "in_progress", "resolved", "closed"}
    assert len({t.severity for t in tickets}) >= 3
    assert any(t.status == "open" and HORIZON - t.created_at > timedelta(days=14) for t in tickets)
    surveys = demo.all(Survey)
    assert {s.kind for s in surveys} == {"csat", "nps"}
    assert any(s.kind == "csat" and s.score <= 2 for s in surveys) and any(s.comment for s in surveys)
    soon = [c for c in demo.all(Contact) if c.birthday and (c.birthday.month, c.birthday.day) != (2, 29)
            and 0 <= (c.birthday.replace(year=TODAY.year) - TODAY).days < 7]
    assert soon


# --- consistency -------------------------------------------------------------------------------------------


def test_records_reference_existing_records(demo: Store) -> None:
    ids = {cls.table: {r.id for r in demo.all(cls)} for cls in RECORD_TYPES}
    reps = set(demo.config.rep_ids())
    links = {"lead_id": "leads", "opportunity_id": "opportunities", "customer_id": "customers",
             "contact_id": "contacts", "ticket_id": "tickets"}
    for cls in RECORD_TYPES:
        for record in demo.all(cls):
            assert record.owner in reps
            for name, table in links.items():
                value = getattr(record, name, None)
                assert value is None or value in ids[table], (cls.table, name)
    contacts = {c.id: c for c in demo.all(Contact)}
    for deal in demo.all(Opportunity):
        assert contacts[deal.contact_id].customer_id == deal.customer_id  # type: ignore[index]
    for lead in demo.all(Lead):
        if lead.status == "converted":
            assert demo.require(Opportunity, lead.opportunity_id).lead_id == lead.id  # type: ignore[arg-type]


def timestamps(value: Any) -> Iterator[datetime]:
    if isinstance(value, dict):
        for key, item in value.items():
            if (key == "at" or key.endswith("_at")) and isinstance(item, str) and "T" in item:
                yield datetime.fromisoformat(item)
            else:
                yield from timestamps(item)
    elif isinstance(value, list):
        for item in value:
            yield from timestamps(item)


def test_every_time_is_in_the_past_and_updates_follow_creation(demo: Store) -> None:
    docs = {cls.table: [fields_of(doc) for doc in demo.rows(cls)] for cls in RECORD_TYPES}
    times = list(timestamps(docs))
    assert len(times) > 5000
    assert all(t.tzinfo is not None and t < HORIZON for t in times)
    assert min(times) >= HORIZON - timedelta(weeks=12)
    for records in docs.values():
        assert all(doc["created_at"] <= doc["updated_at"] for doc in records)


# --- refusing, and other folders ----------------------------------------------------------------------------


def test_refuses_a_folder_that_holds_records_and_changes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    with Store(folder) as store:
        store.new(Lead, name="Ada Lovelace")  # stays in the journal: not folded yet
        before = folder_bytes(folder)
        with pytest.raises(StoreError, match="already holds records") as refused:
            generate_demo(folder, leads=20, today=TODAY)
        assert "\n" not in str(refused.value) and "1 leads" in str(refused.value)
        assert folder_bytes(folder) == before


def test_an_opened_but_empty_folder_is_fine_and_keeps_its_settings(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    Store(folder).close()
    config = (folder / "config.yaml").read_text().replace("currency: USD", "currency: EUR")
    (folder / "config.yaml").write_text(config)
    generate_demo(folder, leads=30, reps=2, today=TODAY)
    with Store(folder) as store:
        assert store.config.currency == "EUR"
        assert {d.currency for d in store.all(Opportunity)} == {"EUR"}


def test_custom_stages_are_used(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    stages = [{"key": "talk", "label": "Talk", "probability": 20},
              {"key": "offer", "label": "Offer", "probability": 60},
              {"key": "signed", "label": "Signed", "probability": 100, "kind": "won"},
              {"key": "gone", "label": "Gone", "probability": 0, "kind": "lost"}]
    (folder / "config.yaml").write_text(yaml.safe_dump({"stages": stages}))
    generate_demo(folder, leads=60, reps=2, today=TODAY)
    with Store(folder) as store:
        assert {d.stage for d in store.all(Opportunity)} == {"talk", "offer", "signed", "gone"}


def test_a_file_in_place_of_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("not a folder")
    with pytest.raises(StoreError, match="not a data folder"):
        generate_demo(tmp_path / "data", leads=10, today=TODAY)


def test_zero_leads_writes_only_the_team(tmp_path: Path) -> None:
    summary = generate_demo(tmp_path / "data", leads=0, reps=1, today=TODAY)
    assert (summary.leads, summary.opportunities, summary.activities) == (0, 0, 0)
    assert load_config(tmp_path / "data").me == "alice"


def test_a_small_run_says_what_it_wrote(tmp_path: Path) -> None:
    # How long a demo fill takes is measured by hand: bench/store_bench.py --demo.
    summary = generate_demo(tmp_path / "data", leads=60, reps=2)
    assert isinstance(summary, DemoSummary)
    assert str(summary).startswith("wrote 60 leads, ") and str(summary).endswith(
        f"for 2 reps into {tmp_path / 'data'}")


def test_the_command_line_fills_a_folder_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = str(tmp_path / "data")
    assert main(["demo", "--data", folder, "--leads", "40", "--reps", "2", "--weeks", "4"]) == 0
    assert capsys.readouterr().out.startswith("wrote 40 leads")
    assert main(["demo", "--data", folder]) == 1
    assert "already holds records" in capsys.readouterr().err
