"""Apps driven for real (App.run_test + Pilot) on small hand-made data folders."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from store.database import Store
from store.models import Contact, Customer, Lead, Opportunity, Survey, Ticket
from tui.app import DealdeckApp

TODAY = "2026-11-25"
CONFIG = """\
me: ann
reps:
  - {id: ann, name: Ann Lee}
  - {id: bo, name: Bo Chen}
theme: dealdeck-dark
"""


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T09:00:00").replace(tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_day(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DEALDECK_TODAY", TODAY)
    monkeypatch.setenv("HOME", str(tmp_path))  # the header shows ~/data, the same every run


@pytest.fixture
def team(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "config.yaml").write_text(CONFIG)
    with Store(folder) as store:
        store.add_lead(name="Emma Clarke", company="Northwind Traders", email="emma@northwind.example",
                       grade="A", source="trade show", status="qualified", next_follow_up="2026-11-20",
                       created_at=at("2026-11-10"), last_contacted_at=at("2026-11-19"))
        store.add_lead(name="李娜", company="上海华信科技有限公司", phone="+86 138 0013 8000", grade="B",
                       source="website", status="contacted", next_follow_up="2026-11-25",
                       created_at=at("2026-11-18"), last_contacted_at=at("2026-11-24"))
        store.add_lead(name="Tom Ford", company="Ford Metals", grade="C", source="cold call",
                       next_follow_up="2026-12-02", created_at=at("2026-11-24"))
        store.add_lead(name="Pooled Pat", company="Pool Co", owner="bo", in_pool=True, created_at=at("2026-10-01"))
        store.new(Customer, name="Contoso GmbH", phone="030 1234567", lifecycle="active",
                  created_at=at("2026-09-01"))
    return folder


@pytest.fixture
def store(team: Path) -> Iterator[Store]:
    with Store(team) as opened:
        yield opened


@pytest.fixture
def app(store: Store) -> DealdeckApp:
    return DealdeckApp(store)


def lead_named(store: Store, name: str) -> Lead:
    store.refresh()
    return next(lead for lead in store.all(Lead) if lead.name == name)


def entered(stage: str, day: str, by: str = "ann") -> dict[str, str]:
    return {"stage": stage, "at": at(day).isoformat(), "by": by}


@pytest.fixture
def deals(team: Path) -> Path:
    """The team folder plus a small pipeline: one deal per stage, some at risk."""
    with Store(team) as store:
        contoso = next(c for c in store.all(Customer) if c.name == "Contoso GmbH")
        acme = store.new(Customer, name="Acme Pumps", created_at=at("2026-08-01"))
        store.new(Contact, customer_id=acme.id, name="Jo Park", role="Buyer", email="jo@acme.example")

        def deal(title: str, customer: Customer, stage: str, since: str, **fields: object) -> None:
            store.new(Opportunity, title=title, customer_id=customer.id, stage=stage,
                      created_at=at("2026-09-01"), stage_history=[entered(stage, since)], **fields)

        deal("Pump retrofit", acme, "initial", "2026-11-20", amount=12000, expected_close="2026-12-15",
             next_step="Call the buyer")
        deal("Valve line", contoso, "needs", "2026-10-01", amount=30000, expected_close="2026-11-10",
             next_step="Site visit")
        deal("Sensors", acme, "quote", "2026-11-18", amount=8000, expected_close="2026-12-20",
             quotes=[{"version": 1, "by": "ann", "currency": "USD", "at": at("2026-11-18").isoformat(),
                      "lines": [{"product": "Sensor", "quantity": 40, "unit_price": 200}]}])
        deal("Turbine service", contoso, "negotiation", "2026-11-15", owner="bo", amount=50000,
             expected_close="2026-12-05", next_step="Send contract")
        deal("Cable order", acme, "won", "2026-11-10", amount=5000, closed_at=at("2026-11-10").isoformat())
        deal("Old tender", contoso, "lost", "2026-11-01", amount=7000, lost_reason="Price",
             closed_at=at("2026-11-01").isoformat())
    return team


def deal_named(store: Store, title: str) -> Opportunity:
    store.refresh()
    return next(o for o in store.all(Opportunity) if o.title == title)


@pytest.fixture
def accounts(deals: Path) -> Path:
    """The pipeline plus after-sales history: a repeat buyer due to reorder, a ticket, surveys."""
    with Store(deals) as store:
        contoso = next(c for c in store.all(Customer) if c.name == "Contoso GmbH")
        store.update(Customer, contoso.id, revisit_days=30, next_revisit="2026-11-20", tags=["key-account"],
                     industry="Manufacturing", segment="Enterprise")
        globex = store.new(Customer, name="Globex Corp", lifecycle="active", industry="Logistics",
                           segment="SMB", created_at=at("2025-03-01"), tags=["key-account"])
        for day, amount in (("2025-05-01", 20000), ("2025-11-01", 30000)):
            store.new(Opportunity, title=f"Globex order {day[:7]}", customer_id=globex.id, stage="won",
                      amount=amount, closed_at=at(day).isoformat(), created_at=at(day),
                      stage_history=[entered("won", day)])
        store.log_activity("visit", customer_id=globex.id, subject="Site tour", at=at("2026-11-02"))
        store.new(Ticket, customer_id=contoso.id, title="Valve drips", severity="high",
                  created_at=at("2026-11-12"))
        store.new(Ticket, customer_id=globex.id, title="Invoice copy", created_at=at("2026-11-20"))
        store.new(Survey, customer_id=globex.id, kind="csat", score=5, at=at("2026-09-01"))
        store.new(Survey, customer_id=globex.id, kind="csat", score=3, comment="slower lately",
                  at=at("2026-11-15"))
    return deals


@pytest.fixture
def big_week(accounts: Path) -> Path:
    """The pipeline with targets and a week of seven-figure deals: long summary lines."""
    (accounts / "config.yaml").write_text(CONFIG.replace("{id: ann, name: Ann Lee}",
                                                         "{id: ann, name: Ann Lee, monthly_target: 1500000}"))
    with Store(accounts) as store:
        acme = next(c for c in store.all(Customer) if c.name == "Acme Pumps")
        store.new(Opportunity, title="Plant expansion", customer_id=acme.id, stage="quote", amount=4110418,
                  expected_close="2026-12-18", next_step="Site survey", created_at=at("2026-11-17"),
                  stage_history=[entered("quote", "2026-11-17")])
        store.new(Opportunity, title="Line upgrade", customer_id=acme.id, stage="won", amount=1250000,
                  created_at=at("2026-10-01"), closed_at=at("2026-11-18").isoformat(),
                  stage_history=[entered("negotiation", "2026-10-01"), entered("won", "2026-11-18")])
    return accounts
