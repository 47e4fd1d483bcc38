"""Undo and redo of a session's changes on real data folders: each commit is one step, an
undo is a new change (it syncs), and what changed again since is kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from store.database import Store
from store.models import Contact, Customer, Lead, Opportunity

TEAM = "me: ann\nreps: [{id: ann, name: Ann}, {id: bo, name: Bo}]\n"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    folder = tmp_path / "ann"
    folder.mkdir()
    (folder / "config.yaml").write_text(TEAM)
    return Store(folder)


def test_an_edit_is_undone_and_redone(store: Store) -> None:
    lead = store.new(Lead, name="Emma Clarke", company="Northwind")
    store.update(Lead, lead.id, company="Northwind Traders", title="Buyer")
    assert store.undo_last() == "lead Emma Clarke"
    assert (store.require(Lead, lead.id).company, store.require(Lead, lead.id).title) == ("Northwind", "")
    assert store.redo_last() == "lead Emma Clarke"
    assert store.require(Lead, lead.id).company == "Northwind Traders"
    with Store(store.folder) as reopened:  # each an ordinary commit, on disk
        assert reopened.require(Lead, lead.id).title == "Buyer"


def test_undoing_a_new_record_deletes_it_and_redo_brings_it_back(store: Store) -> None:
    lead = store.new(Lead, name="Ada")
    store.undo_last()
    assert store.get(Lead, lead.id) is None
    store.redo_last()
    assert store.require(Lead, lead.id).name == "Ada"


def test_undoing_a_delete_brings_the_record_back_as_it_was(store: Store) -> None:
    lead = store.new(Lead, name="Ada", company="Acme", phone="555 0100")
    store.delete(Lead, lead.id)
    assert store.get(Lead, lead.id) is None
    store.undo_last()
    back = store.require(Lead, lead.id)
    assert (back.name, back.company, back.phone) == ("Ada", "Acme", "555 0100")


def test_a_conversion_is_one_step(store: Store) -> None:
    lead = store.add_lead(name="Emma Clarke", company="Northwind", status="qualified")
    done = store.convert_lead(lead.id, amount=5000)
    assert store.undo_last() is not None
    assert store.require(Lead, lead.id).status == "qualified"
    assert store.get(Opportunity, done.opportunity.id) is None
    assert store.get(Customer, done.customer.id) is None and store.count(Contact) == 0


def test_a_stage_move_and_a_win_are_undone_with_the_customer(store: Store) -> None:
    customer = store.new(Customer, name="Acme", lifecycle="prospect")
    deal = store.new(Opportunity, title="Pumps", customer_id=customer.id, stage="negotiation", amount=100)
    store.move_stage(deal.id, "won")
    assert store.require(Customer, customer.id).lifecycle == "active"
    store.undo_last()
    assert store.require(Opportunity, deal.id).stage == "negotiation"
    assert store.require(Customer, customer.id).lifecycle == "prospect"


def test_a_change_made_since_is_kept(store: Store) -> None:
    lead = store.new(Lead, name="Ada", company="Acme")
    store.update(Lead, lead.id, company="Acme Ltd", title="Buyer")
    with Store(store.folder) as other:  # another session changes the title again
        other.update(Lead, lead.id, title="Head of buying")
    store.refresh()
    store.undo_last()
    undone = store.require(Lead, lead.id)
    assert (undone.company, undone.title) == ("Acme", "Head of buying")


def test_a_new_change_after_an_undo_drops_the_redo(store: Store) -> None:
    lead = store.new(Lead, name="Ada")
    store.update(Lead, lead.id, title="Buyer")
    store.undo_last()
    store.update(Lead, lead.id, company="Acme")
    assert store.redo_last() is None
    assert store.require(Lead, lead.id).title == ""


def test_nothing_to_undo_says_so(store: Store) -> None:
    assert store.undo_last() is None and store.redo_last() is None


def test_an_undo_syncs_like_any_change(store: Store, tmp_path: Path) -> None:
    from sync.exchange import export_to, merge_files

    team = tmp_path / "team"
    team.mkdir()
    bo_folder = tmp_path / "bo"
    bo_folder.mkdir()
    (bo_folder / "config.yaml").write_text(TEAM.replace("me: ann", "me: bo"))
    lead = store.new(Lead, name="Ada", company="Acme")
    store.update(Lead, lead.id, company="Acme Ltd")
    export_to(store, team)
    with Store(bo_folder) as bo:
        merge_files(bo, [team])
        assert bo.require(Lead, lead.id).company == "Acme Ltd"
        store.undo_last()
        export_to(store, team)
        merge_files(bo, [team])
        assert bo.require(Lead, lead.id).company == "Acme"


def test_a_change_of_many_records_is_one_step(store: Store) -> None:
    with store.writing() as w:
        for n in range(30):
            w.insert(store.validate(Lead, {"name": f"Lead {n}", "owner": "ann"}))
    assert store.count(Lead) == 30
    assert store.undo_last() == "30 leads"
    assert store.count(Lead) == 0
