from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from store.config import CONFIG_NAME, Config, load_config, save_config_value, save_config_values
from store.database import Store
from store.errors import StoreError


def write_config(folder: Path, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CONFIG_NAME).write_text(text, encoding="utf-8")


def test_first_run_writes_commented_defaults_that_load_as_the_defaults(folder: Path) -> None:
    config = load_config(folder)
    text = (folder / CONFIG_NAME).read_text()
    assert text.startswith("# Dealdeck configuration")
    assert config == Config()
    assert [s.key for s in config.stages] == ["initial", "needs", "quote", "negotiation", "won", "lost"]
    assert [s.probability for s in config.stages] == [10, 25, 50, 75, 100, 0]


@pytest.mark.parametrize(("text", "expected"), [
    ("me: zoe\n", "me: 'zoe' is not one of the reps"),
    ("stages:\n  - {key: a, label: A, probability: 150}\n", "stages.0.probability"),
    ("currency: dollars\n", "currency"),
    ("lead_pool: {return_after_days: 0}\n", "lead_pool.return_after_days"),
    ("assignment: {rule: lottery}\n", "assignment.rule"),
    ("colour: blue\n", "colour: Extra inputs are not permitted"),
    ("me: [unclosed\n", "not valid YAML at line"),
    ("- just\n- a list\n", "expected a mapping"),
    ("theme: dealdeck-light\ncurrency: EUR\ntheme: dealdeck-dark\n", "the key 'theme' is set twice at line 3"),
])
def test_a_bad_config_stops_with_the_key_and_the_problem(folder: Path, text: str, expected: str) -> None:
    write_config(folder, text)
    with pytest.raises(StoreError) as refused:
        load_config(folder)
    message = str(refused.value)
    assert expected in message and CONFIG_NAME in message and "\n" not in message


def test_stages_need_exactly_one_won_and_one_lost(folder: Path) -> None:
    write_config(folder, "stages:\n  - {key: a, label: A, probability: 10}\n"
                         "  - {key: w, label: W, probability: 100, kind: won}\n")
    with pytest.raises(StoreError, match="exactly one stage must be kind 'won' and one kind 'lost'"):
        load_config(folder)


def test_config_drives_the_store(folder: Path) -> None:
    write_config(folder, """
me: li
reps: [{id: li, name: 李娜}, {id: tom, name: Tom}]
stages:
  - {key: talk, label: Talk, probability: 20}
  - {key: signed, label: Signed, probability: 100, kind: won}
  - {key: dropped, label: Dropped, probability: 0, kind: lost}
""")
    with Store(folder) as store:
        assert store.me == "li" and store.config.first_stage.key == "talk"


def test_saving_one_value_keeps_the_comments(folder: Path) -> None:
    load_config(folder)
    save_config_value(folder, "theme", "dealdeck-light")
    text = (folder / CONFIG_NAME).read_text()
    assert "# Dealdeck configuration" in text
    assert load_config(folder).theme == "dealdeck-light"
    assert yaml.safe_load(text)["theme"] == "dealdeck-light"


def test_saving_a_block_value_replaces_the_whole_block(folder: Path) -> None:
    load_config(folder)
    team = [{"id": "ann", "name": "Ann"}, {"id": "li.na", "name": "李娜"}]
    config = save_config_values(folder, {"reps": team, "me": "li.na"})
    assert config.me == "li.na" and [r.name for r in config.reps] == ["Ann", "李娜"]
    assert load_config(folder) == config
    assert "# Pipeline stages in order" in (folder / CONFIG_NAME).read_text()


def test_saving_a_value_the_config_refuses_changes_nothing(folder: Path) -> None:
    load_config(folder)
    before = (folder / CONFIG_NAME).read_bytes()
    with pytest.raises(StoreError, match="me: 'nobody' is not one of the reps"):
        save_config_value(folder, "me", "nobody")
    assert (folder / CONFIG_NAME).read_bytes() == before


@pytest.mark.parametrize("original", [
    "# mine\nreps: [{id: me, name: Me}]\nme: me  # who I am\ncurrency: EUR\n",
    "currency: EUR\n",
])
def test_saving_values_into_flow_style_or_missing_keys(folder: Path, original: str) -> None:
    write_config(folder, original)
    team = [{"id": "alice", "name": "Alice"}]
    config = save_config_values(folder, {"reps": team, "me": "alice"})
    assert (config.me, config.currency, [r.id for r in config.reps]) == ("alice", "EUR", ["alice"])
    assert load_config(folder) == config


@pytest.mark.parametrize(("text", "minutes"), [
    ("", 5),
    ("sync: {max_clock_drift_minutes: 2}\n", 2),
    ("sync: {max_future_skew_hours: 24}\n", 5),  # the old key and its old default: the new limit
    ("sync: {max_future_skew_hours: 0}\n", 1),  # an old value stricter than the default stays strict
    ("sync: {max_future_skew_hours: 24, max_clock_drift_minutes: 30}\n", 30),
])
def test_the_clock_drift_limit_and_the_old_skew_key(folder: Path, text: str, minutes: int) -> None:
    write_config(folder, text)
    config = load_config(folder)
    assert config.sync.max_clock_drift_minutes == minutes
    assert config.sync.max_drift_ms == minutes * 60_000


@pytest.mark.parametrize(("text", "expected"), [
    ("sync: {max_clock_drift_minutes: 0}\n", "sync.max_clock_drift_minutes"),
    ("sync: {max_future_skew_hours: soon}\n", "max_future_skew_hours: replaced by max_clock_drift_minutes"),
])
def test_a_bad_drift_limit_is_refused_with_its_key(folder: Path, text: str, expected: str) -> None:
    write_config(folder, text)
    with pytest.raises(StoreError, match=expected):
        load_config(folder)
