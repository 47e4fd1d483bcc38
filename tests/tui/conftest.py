"""Apps driven for real (App.run_test + Pilot) on small hand-made data folders."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from store.database import Store
from store.models import Customer, Lead
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
