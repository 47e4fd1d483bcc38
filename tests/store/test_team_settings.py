"""Team settings on one replica: saved as records, laid over config.yaml, checked, dated."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from store.config import Config, load_config
from store.database import Store
from store.errors import StoreError
from store.models import TeamSetting
from store.team_settings import as_yaml, effective_config, parse_team_yaml, setting_id, values_as_of

TEAM = "me: ann\nreps: [{id: ann, name: Ann}, {id: bo, name: Bo}]\n"


class Wall:
    """An injected wall clock (ms), moved by the test."""

    def __init__(self, when: datetime) -> None:
        self.ms = int(when.timestamp() * 1000)

    def __call__(self) -> int:
        self.ms += 1
        return self.ms

    def set(self, when: datetime) -> None:
        self.ms = int(when.timestamp() * 1000)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "config.yaml").write_text(TEAM)
    return tmp_path


def stages_with(config: Config, key: str, probability: int) -> list[dict[str, object]]:
    return [{**s.model_dump(mode="json"), "probability": probability} if s.key == key else s.model_dump(mode="json")
            for s in config.stages]


def test_a_saved_team_value_is_in_force_and_stored_as_one_record_a_key(folder: Path) -> None:
    with Store(folder) as store:
        assert store.save_team_settings({"lead_sources": ["expo", "web"]}) == ["lead_sources"]
        assert store.config.lead_sources == ["expo", "web"]
        assert load_config(folder).lead_sources != ["expo", "web"]  # config.yaml is untouched
        doc = store.storage.tables["settings"][setting_id("lead_sources")]
        assert doc["key"] == "lead_sources" and len(doc["history"]) == 1
        assert store.save_team_settings({"lead_sources": ["expo", "web"]}) == []  # nothing new: no write
    with Store(folder) as again:  # another process sees it
        assert again.config.lead_sources == ["expo", "web"]


def test_a_bad_value_is_refused_with_its_key_and_nothing_is_written(folder: Path) -> None:
    with Store(folder) as store:
        before = dict(store.storage.tables["settings"])
        with pytest.raises(StoreError, match=r"^stages\.2\.probability: Input should be less than or equal to 100"):
            store.save_team_settings({"stages": stages_with(store.config, "quote", 140)})
        with pytest.raises(StoreError, match=r"^theme: not a team setting"):
            store.save_team_settings({"theme": "x"})
        assert store.storage.tables["settings"] == before


def test_an_edit_can_be_undone_like_any_other(folder: Path) -> None:
    with Store(folder) as store:
        store.save_team_settings({"lead_sources": ["expo"]})
        store.save_team_settings({"lead_sources": ["web"]})
        store.undo_last()
        assert store.config.lead_sources == ["expo"]


def test_a_past_week_reads_the_probabilities_of_then(folder: Path) -> None:
    wall = Wall(datetime(2026, 11, 2, 9, tzinfo=UTC))
    with Store(folder, wall=wall) as store:
        store.save_team_settings({"stages": stages_with(store.config, "quote", 50)})
        wall.set(datetime(2026, 11, 20, 9, tzinfo=UTC))
        store.save_team_settings({"stages": stages_with(store.config, "quote", 60)})
        assert store.config.stage("quote").probability == 60
        assert store.config_as_of(datetime(2026, 11, 10, tzinfo=UTC)).stage("quote").probability == 50
        assert store.config_as_of(datetime(2026, 11, 21, tzinfo=UTC)).stage("quote").probability == 60
        # before the first known value: the earliest one
        assert store.config_as_of(datetime(2026, 1, 1, tzinfo=UTC)).stage("quote").probability == 50
        docs = list(store.rows(TeamSetting))
        assert values_as_of(docs, datetime(2026, 11, 10, tzinfo=UTC))["stages"][2]["probability"] == 50


def test_a_team_value_that_does_not_fit_is_left_out_with_one_line(folder: Path) -> None:
    local = load_config(folder)
    # reps without this computer's rep: the local reps stay in force, and the line says why
    effective = effective_config(local, {"reps": [{"id": "bo", "name": "Bo"}], "lead_sources": ["expo"]})
    assert effective.config.rep_ids() == ["ann", "bo"]
    assert effective.config.lead_sources == ["expo"]
    assert effective.problems == ("team setting reps: me: 'ann' is not one of the reps (bo) (config.yaml's is used)",)


def test_the_rep_is_told_when_the_team_settings_differ_from_config_yaml(folder: Path) -> None:
    with Store(folder) as store:
        assert store.settings_notice() is None
        store.save_team_settings({"lead_sources": ["expo"], "currency": "EUR"})
        notice = store.settings_notice()
        assert notice is not None and "currency, lead_sources" in notice


def test_the_yaml_round_trips_and_a_bad_edit_names_its_line(folder: Path) -> None:
    config = load_config(folder)
    text = as_yaml(config)
    assert parse_team_yaml(text, config)["stages"][2]["probability"] == 50
    bad = text.replace("probability: 50", "probability: 140")
    line = next(i for i, row in enumerate(bad.splitlines(), 1) if "probability: 140" in row)
    with pytest.raises(StoreError, match=rf"^line {line}: stages\.2\.probability: "):
        parse_team_yaml(bad, config)
    with pytest.raises(StoreError, match=r"^line \d+: 'theme' is not a team setting \(a personal setting"):
        parse_team_yaml(text + "theme: dark\n", config)
    with pytest.raises(StoreError, match=r"^line \d+: the key 'currency' is set twice"):
        parse_team_yaml(text + "currency: EUR\n", config)
    with pytest.raises(StoreError, match=r"^line \d+: "):
        parse_team_yaml("stages: [\n", config)


def test_a_retired_rep_keeps_their_records_which_can_be_given_to_another_in_bulk(folder: Path) -> None:
    from store.bulk import assign_leads
    from store.models import Lead

    with Store(folder) as store:
        ids = [store.add_lead(name=f"Lead {n}", owner="bo").id for n in range(3)]
        store.save_team_settings({"reps": [{"id": "ann", "name": "Ann"}]})  # bo left the team
        assert store.config.rep_ids() == ["ann"]
        assert {store.require(Lead, lead_id).owner for lead_id in ids} == {"bo"}  # still his
        with pytest.raises(StoreError, match="is not one of the team's reps"):
            store.assign_lead(ids[0], "bo")  # nothing new goes to a rep who left
        assert assign_leads(store, ids, "ann", "give bo's leads to Ann") == 3
        assert {store.require(Lead, lead_id).owner for lead_id in ids} == {"ann"}
