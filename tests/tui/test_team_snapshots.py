"""The team's own CRM as pictures (pytest-textual-snapshot): the settings and rules screens
at 80x24 and 200x55, and the lead list with a custom column at 80x24. Data and date fixed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from store.database import Store
from store.models import Lead
from tui.app import DealdeckApp

RULE = {"name": "Send the quote", "when": {"trigger": "stage_entered", "stage": "quote"},
        "do": [{"action": "create_task", "title": "Send the quote for {title}", "due_in_days": 2}]}
FIELDS = {"leads": [{"key": "industry", "label": "Industry", "type": "choice", "column": True, "filter": True,
                     "choices": ["Retail", "Manufacturing"]}]}


def customised(store: Store) -> None:
    store.save_team_settings({"custom_fields": FIELDS, "rules": [RULE]})
    for n, doc in enumerate(sorted(store.rows(Lead), key=lambda d: d["name"])):
        store.update(Lead, doc["id"], **{"cf.industry": ["Retail", "Manufacturing"][n % 2]})


def opening(action: str) -> Any:
    async def run_before(pilot: Any) -> None:
        getattr(pilot.app, action)()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (200, 55)], ids=["80x24", "200x55"])
@pytest.mark.parametrize("action", ["action_team_settings", "action_rules"])
def test_team_screens(snap_compare: Any, deals: Path, size: tuple[int, int], action: str) -> None:
    with Store(deals) as store:
        customised(store)
        assert snap_compare(DealdeckApp(store), terminal_size=size, run_before=opening(action))


def test_lead_list_with_a_custom_column_at_80x24(snap_compare: Any, deals: Path) -> None:
    with Store(deals) as store:
        customised(store)
        assert snap_compare(DealdeckApp(store), terminal_size=(80, 24), press=["O"])
