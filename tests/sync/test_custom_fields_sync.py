"""Custom fields sync like any field: stamped and merged one by one, kept by a replica
whose settings do not declare them yet, shown once the declaration arrives; a teammate's
file with a field that is neither the model's nor a custom one is refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from store.database import Store
from store.models import Lead
from sync.exchange import sync_folder
from tests.sync import tamper
from tests.sync.test_hostile_segments import published, refusal
from tui.custom import custom_pairs

Replica = Callable[[str], Store]
INDUSTRY = {"key": "industry", "label": "Industry", "type": "choice", "choices": ["Retail", "Energy"]}
EMPLOYEES = {"key": "employees", "label": "Employees", "type": "number"}


def test_a_replica_keeps_a_value_it_has_no_declaration_for_and_shows_it_once_it_arrives(
        replica: Replica, shared: Path) -> None:
    ann, bo = replica("ann"), replica("bo")
    sync_folder(bo, shared)  # bo seeds the team settings: no custom fields
    sync_folder(ann, shared)
    # a value of a field the team's settings do not declare (a newer Dealdeck's, a script's)
    lead = ann.new(Lead, name="Emma", **{"cf.industry": "Retail"})
    sync_folder(ann, shared)
    sync_folder(bo, shared)
    doc = bo.storage.tables["leads"][lead.id]
    assert doc["cf.industry"] == "Retail"  # kept, though bo's settings do not know the field
    assert custom_pairs(bo.config, "leads", doc) == []  # and not shown
    bo.update(Lead, lead.id, title="Buyer")  # an edit of another field keeps it too
    assert bo.storage.tables["leads"][lead.id]["cf.industry"] == "Retail"
    ann.save_team_settings({"custom_fields": {"leads": [INDUSTRY]}})
    sync_folder(ann, shared)
    sync_folder(bo, shared)
    assert custom_pairs(bo.config, "leads", bo.storage.tables["leads"][lead.id]) == [("Industry", "Retail")]


def test_two_reps_edit_two_custom_fields_of_one_lead_and_both_edits_stay(replica: Replica, shared: Path) -> None:
    ann, bo = replica("ann"), replica("bo")
    ann.save_team_settings({"custom_fields": {"leads": [INDUSTRY, EMPLOYEES]}})
    lead = ann.new(Lead, name="Emma")
    sync_folder(ann, shared)
    sync_folder(bo, shared)
    ann.update(Lead, lead.id, **{"cf.industry": "Energy"})
    bo.update(Lead, lead.id, **{"cf.employees": "250"})
    for store in (ann, bo, ann, bo):
        sync_folder(store, shared)
    for store in (ann, bo):
        doc = store.storage.tables["leads"][lead.id]
        assert (doc["cf.industry"], doc["cf.employees"]) == ("Energy", 250)


def test_a_field_that_is_neither_the_models_nor_a_custom_one_is_refused(replica: Replica, shared: Path) -> None:
    ann, bo = replica("ann"), replica("bo")
    (segment,) = published(ann, shared, "Ada")

    def with_a_stray_field(body: dict) -> None:
        for doc in body["tables"]["leads"].values():
            doc["colour"] = "red"

    tamper.rewrite(segment, body=with_a_stray_field)
    why, _ = refusal(bo, shared)
    assert why.endswith(": colour: not a field of a lead"), why


def test_a_custom_value_of_a_shape_no_field_holds_is_refused(replica: Replica, shared: Path) -> None:
    ann, bo = replica("ann"), replica("bo")
    (segment,) = published(ann, shared, "Ada")

    def with_an_object(body: dict) -> None:
        for doc in body["tables"]["leads"].values():
            doc["cf.industry"] = {"nested": True}
            doc["_s"]["cf.industry"] = doc["_s"]["*"]

    tamper.rewrite(segment, body=with_an_object)
    why, _ = refusal(bo, shared)
    assert "cf.industry" in why, why
