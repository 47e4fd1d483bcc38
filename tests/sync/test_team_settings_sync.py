"""Team settings travel with sync: seeded by the first replica, merged per key (last writer
wins), told in the merge report, and the same on every replica after a round."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.config import Config
from store.database import Store
from sync.exchange import sync_folder
from tests.sync.conftest import TeamClock

Replica = Callable[[str], Store]


def with_probability(config: Config, key: str, probability: int) -> list[dict[str, Any]]:
    return [{**s.model_dump(mode="json"), "probability": probability} if s.key == key else s.model_dump(mode="json")
            for s in config.stages]


def sync_all(stores: list[Store], shared: Path, rounds: int = 2) -> list[list[str]]:
    lines = []
    for _ in range(rounds):
        for store in stores:
            report, _ = sync_folder(store, shared)
            lines.append(report.lines())
    return lines


def test_the_first_replica_seeds_the_team_and_the_others_take_it(replica: Replica, shared: Path) -> None:
    ann, bo = replica("ann"), replica("bo")
    ann.config = ann.local_config.model_copy(update={"lead_sources": ["expo"]})  # as in her config.yaml
    sync_folder(ann, shared)
    assert ann.team_values()["lead_sources"] == ["expo"]
    report, _ = sync_folder(bo, shared)
    assert bo.config.lead_sources == ["expo"]
    assert any(line.startswith("team settings changed: reps, currency") for line in report.lines())
    assert bo.settings_notice() is not None and "lead_sources" in bo.settings_notice()  # type: ignore[operator]


def test_concurrent_edits_of_one_key_on_three_replicas_end_the_same_everywhere(replica: Replica,
                                                                             shared: Path) -> None:
    ann, bo, cy = stores = [replica("ann"), replica("bo"), replica("cy")]
    sync_all(stores, shared, rounds=1)
    bo.save_team_settings({"stages": with_probability(bo.config, "quote", 60)})
    cy.save_team_settings({"stages": with_probability(cy.config, "quote", 70)})  # the later write
    ann.save_team_settings({"lead_sources": ["fair", "web"]})  # another key: kept beside it
    lines = sync_all(stores, shared)
    for store in stores:
        assert store.config.stage("quote").probability == 70
        assert store.config.lead_sources == ["fair", "web"]
        assert store.settings_problems() == ()
    assert any("team settings changed: stages, lead_sources (they apply now)" in line
               or "team settings changed: stages" in line for report in lines for line in report)
    # every replica keeps every value each key had, for the review of past weeks
    assert {len(store.storage.tables["settings"][doc_id]["history"]) for store in stores
            for doc_id, doc in store.storage.tables["settings"].items() if doc["key"] == "stages"} == {3}


def test_a_rep_who_joins_adds_themselves_to_the_team(tmp_path: Path, replica: Replica, shared: Path) -> None:
    ann = replica("ann")
    sync_folder(ann, shared)
    folder = tmp_path / "dan"
    folder.mkdir()
    (folder / "config.yaml").write_text("me: dan\nreps: [{id: dan, name: Dan}]\n")
    with Store(folder, wall=TeamClock()) as dan:
        sync_folder(dan, shared)
        assert dan.config.rep_ids() == ["ann", "bo", "cy", "dan"]
    sync_folder(ann, shared)
    assert ann.config.rep_ids() == ["ann", "bo", "cy", "dan"]


EDITS = st.lists(st.tuples(st.sampled_from(["ann", "bo", "cy"]), st.sampled_from(["lead_sources", "currency"]),
                           st.integers(0, 3), st.booleans()), min_size=1, max_size=8)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(edits=EDITS)
def test_any_edits_and_syncs_converge_on_the_newest_write_of_each_key(tmp_path_factory: Any,
                                                                    edits: list[tuple[str, str, int, bool]]) -> None:
    """Each edit is made by one rep, who syncs right after it or not; after two full rounds
    every replica has the same settings, and each key holds its newest write."""
    base = tmp_path_factory.mktemp("team")
    shared = base / "shared"
    shared.mkdir()
    clock = TeamClock()
    stores: dict[str, Store] = {}
    for rep in ("ann", "bo", "cy"):
        (base / rep).mkdir()
        (base / rep / "config.yaml").write_text(
            f"me: {rep}\nreps: [{{id: ann, name: Ann}}, {{id: bo, name: Bo}}, {{id: cy, name: Cy}}]\n")
        stores[rep] = Store(base / rep, wall=clock)
    try:
        sync_all(list(stores.values()), shared, rounds=1)
        newest: dict[str, Any] = {}
        for rep, key, n, then_sync in edits:
            value: Any = ["web", f"fair {n}"] if key == "lead_sources" else ["USD", "EUR", "CNY", "GBP"][n]
            if stores[rep].save_team_settings({key: value}):
                newest[key] = value
            if then_sync:
                sync_folder(stores[rep], shared)
        sync_all(list(stores.values()), shared)
        views = [{key: store.team_values().get(key) for key in ("lead_sources", "currency")}
                 for store in stores.values()]
        assert views[0] == views[1] == views[2]
        for key, value in newest.items():
            assert views[0][key] == value
    finally:
        for store in stores.values():
            store.close()
