"""Custom fields declared in the team settings: checked values, stored as fields of their
own, kept when undeclared, hidden when deleted, purged on purpose."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from store.config import Config, describe_error
from store.custom_fields import CustomField, check_value
from store.database import Store
from store.errors import StoreError, ValidationFailed
from store.models import Customer, Lead

TEAM = "me: ann\nreps: [{id: ann, name: Ann}, {id: bo, name: Bo}]\n"
LEAD_FIELDS = [
    {"key": "industry", "label": "Industry", "type": "choice", "choices": ["Retail", "Manufacturing"],
     "column": True, "filter": True},
    {"key": "employees", "label": "Employees", "type": "number", "column": True},
    {"key": "budget", "label": "Budget", "type": "money", "currency": "EUR"},
    {"key": "met", "label": "Met on", "type": "date"},
    {"key": "vip", "label": "VIP", "type": "yes_no"},
    {"key": "interests", "label": "Interests", "type": "multi_choice", "choices": ["pumps", "valves", "seals"]},
    {"key": "site", "label": "Web site", "type": "url"},
    {"key": "assistant", "label": "Assistant's e-mail", "type": "email"},
    {"key": "desk", "label": "Desk phone", "type": "phone"},
    {"key": "story", "label": "Story", "type": "long_text"},
    {"key": "nickname", "label": "Nickname", "type": "text"},
]


@pytest.fixture
def store(tmp_path: Path) -> Any:
    (tmp_path / "config.yaml").write_text(TEAM)
    with Store(tmp_path) as opened:
        opened.save_team_settings({"custom_fields": {"leads": LEAD_FIELDS}})
        yield opened


def spec(key: str) -> CustomField:
    return CustomField.model_validate(next(f for f in LEAD_FIELDS if f["key"] == key))


@pytest.mark.parametrize(("key", "typed", "stored"), [
    ("industry", "retail", "Retail"), ("employees", "1,200", 1200), ("employees", "2.5", 2.5),
    ("budget", "12,500.5", "12500.50"), ("met", "2026-03-01", "2026-03-01"), ("vip", "yes", True),
    ("vip", "no", False), ("interests", "valves; pumps", ["valves", "pumps"]), ("site", "example.com", "example.com"),
    ("assistant", "Ada@Example.COM", "ada@example.com"), ("desk", "+49 30 1234567", "+49 30 1234567"),
    ("story", "  line one\nline two ", "line one\nline two"), ("nickname", "  Big   Al ", "Big Al"),
    ("nickname", "", None),
])
def test_each_type_reads_what_a_person_types(key: str, typed: str, stored: object) -> None:
    assert check_value(spec(key), typed) == stored


@pytest.mark.parametrize(("key", "typed", "problem"), [
    ("industry", "Food", "should be one of Retail, Manufacturing"), ("employees", "many", "should be a number"),
    ("budget", "-3", "should be an amount of 0 or more"), ("met", "soon", "should be a date"),
    ("vip", "maybe", "should be yes or no"), ("interests", "pumps, gears", "should be one of pumps, valves, seals"),
    ("site", "not a site", "not a web address"), ("assistant", "ada@", "not a valid email address"),
    ("desk", "12", "not a valid phone number"),
])
def test_a_value_that_does_not_fit_says_why(key: str, typed: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        check_value(spec(key), typed)


def test_values_are_stored_as_fields_of_their_own_and_refused_with_their_field(store: Store) -> None:
    lead = store.new(Lead, name="Emma", **{"cf.industry": "retail", "cf.employees": "40", "cf.vip": "no"})
    doc = store.storage.tables["leads"][lead.id]
    assert (doc["cf.industry"], doc["cf.employees"], doc["cf.vip"]) == ("Retail", 40, False)
    with pytest.raises(ValidationFailed) as failed:
        store.update(Lead, lead.id, **{"cf.employees": "lots"})
    assert failed.value.errors == {"cf.employees": "should be a number, such as 12 or 12.5"}
    store.update(Lead, lead.id, **{"cf.employees": None})  # emptied: the field goes
    assert "cf.employees" not in store.storage.tables["leads"][lead.id]
    with pytest.raises(ValidationFailed, match=r"cf\.nope"):
        store.new(Customer, name="Acme", **{"cf.nope": {"a": 1}})
    with pytest.raises(ValidationFailed, match="colour: not a field of a lead"):
        store.new(Lead, name="Typo", colour="red")


def test_a_value_of_a_field_not_declared_here_is_kept_and_shown_once_declared(store: Store) -> None:
    lead = store.new(Lead, name="Emma", **{"cf.region_code": "NW-7"})  # a teammate's newer field
    assert store.storage.tables["leads"][lead.id]["cf.region_code"] == "NW-7"
    assert all(s.name != "cf.region_code" for s in store.config.custom("leads"))
    store.save_team_settings({"custom_fields": {"leads": [*LEAD_FIELDS, {"key": "region_code", "label": "Code"}]}})
    assert store.require(Lead, lead.id).__pydantic_extra__ == {"cf.region_code": "NW-7"}
    assert any(s.name == "cf.region_code" for s in store.config.custom("leads"))


def test_renaming_keeps_the_data_and_deleting_hides_it_until_purged(store: Store) -> None:
    lead = store.new(Lead, name="Emma", **{"cf.industry": "Retail"})
    renamed = [{**f, "label": "Sector"} if f["key"] == "industry" else f for f in LEAD_FIELDS]
    store.save_team_settings({"custom_fields": {"leads": renamed}})
    assert store.require(Lead, lead.id).__pydantic_extra__ == {"cf.industry": "Retail"}
    deleted = [{**f, "deleted": True} if f["key"] == "industry" else f for f in renamed]
    store.save_team_settings({"custom_fields": {"leads": deleted}})
    assert all(s.key != "industry" for s in store.config.custom("leads"))
    assert store.storage.tables["leads"][lead.id]["cf.industry"] == "Retail"  # kept
    assert store.purge_custom_field("leads", "industry") == 1
    assert "cf.industry" not in store.storage.tables["leads"][lead.id]
    with pytest.raises(StoreError, match="only a deleted field"):
        store.purge_custom_field("leads", "employees")


@pytest.mark.parametrize(("fields", "problem"), [
    ([{"key": "tier", "label": "Tier", "type": "choice", "choices": ["Gold"], "default": "Silver"}],
     r"custom_fields\.leads\.0: tier: default should be one of Gold"),
    ([{"key": "tier", "label": "Tier", "type": "choice"}], "tier: a choice field needs choices"),
    ([{"key": "tier", "label": "Tier"}, {"key": "tier", "label": "Tier 2"}], "the field 'tier' is declared twice"),
    ([{"key": "Tier", "label": "Tier"}], r"custom_fields\.leads\.0\.key: String should match pattern"),
    ([{"key": "n", "label": "N", "type": "number", "default": "ten"}], "n: default should be a number"),
])
def test_a_bad_declaration_is_refused_naming_its_key(fields: list[dict[str, Any]], problem: str) -> None:
    with pytest.raises(ValidationError) as failed:
        Config.model_validate({"custom_fields": {"leads": fields}})
    assert re.search(problem, describe_error(failed.value)), describe_error(failed.value)


def test_a_bad_declaration_saved_as_team_settings_is_refused_and_nothing_is_written(store: Store) -> None:
    before = dict(store.storage.tables["settings"])
    bad = [{"key": "tier", "label": "Tier", "type": "choice", "choices": ["Gold"], "default": "Silver"}]
    with pytest.raises(StoreError) as refused:
        store.save_team_settings({"custom_fields": {"leads": bad}})
    assert str(refused.value) == "custom_fields.leads.0: tier: default should be one of Gold"
    assert store.storage.tables["settings"] == before
