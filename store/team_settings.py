"""The team's shared settings: pure rules, no I/O.

Settings are in two halves. Personal ones (``me``, the theme, keys, the sync folder, import
mappings, saved lead and deal views) stay in the rep's ``config.yaml``. Team ones (reps,
stages, sources, rules ...: ``TEAM_KEYS``) are records of the ``settings`` table, one per
top-level key, synced and merged like any record (last writer wins per key). The settings
in force are ``config.yaml`` with the team's values laid over it (``effective_config``);
a team value that does not fit (say a stage list a teammate's older Dealdeck wrote) is
left out with one line saying why, and the local value stays in force for that key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
import yaml
from pydantic import ValidationError

from store.config import Config, _StrictLoader, describe_error
from store.errors import StoreError
from store.records import Doc, is_live

#: the team's keys, in the order ``team show`` prints them and a fallback tries them
TEAM_KEYS: tuple[str, ...] = (
    "reps", "currency", "rates", "stages", "lost_reasons", "disqualify_reasons", "lead_sources", "grades",
    "assignment", "lead_pool", "maintenance", "risk", "customers", "segments", "custom_fields", "rules", "mail",
)
#: what ``dealdeck team edit`` opens with, above the settings
YAML_HEADER = """\
# Dealdeck team settings: shared by everyone who syncs with this team folder.
# Saved here, they travel with the next sync; a teammate's newer edit of the same
# key wins. Personal settings (me, theme, keys, sync, imports, views) stay in config.yaml.
"""


def setting_id(key: str) -> str:
    """The record id of a team setting: the same on every replica, so that two replicas
    that each seed or edit ``stages`` edit one record, not two."""
    return hashlib.sha256(f"dealdeck team setting {key}".encode()).hexdigest()[:32]


def to_json(value: object) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def team_values(docs: Iterable[Doc]) -> dict[str, Any]:
    """The team's value of each key it has set (live records of known keys)."""
    values: dict[str, Any] = {}
    for doc in docs:
        if doc.get("key") in TEAM_KEYS and is_live(doc):
            try:
                values[doc["key"]] = orjson.loads(doc["value"])
            except orjson.JSONDecodeError:
                continue  # checked when written and when synced: only a damaged file gets here
    return values


def values_as_of(docs: Iterable[Doc], moment: datetime) -> dict[str, Any]:
    """Each key's value as it stood at ``moment``: the newest history entry before it; for
    a moment before the key's first entry, the first (the earliest known)."""
    values: dict[str, Any] = {}
    for doc in docs:
        history = sorted(doc.get("history") or (), key=lambda e: (datetime.fromisoformat(str(e["at"])), e["id"]))
        if doc.get("key") not in TEAM_KEYS or not history:
            continue
        before = [entry for entry in history if datetime.fromisoformat(str(entry["at"])) < moment]
        try:
            values[doc["key"]] = orjson.loads((before or history)[-1 if before else 0]["value"])
        except orjson.JSONDecodeError:
            continue
    return values


def local_values(config: Config) -> dict[str, Any]:
    """The team keys as ``config`` holds them, as JSON values."""
    return config.model_dump(mode="json", include=set(TEAM_KEYS))


@dataclass(frozen=True)
class Effective:
    config: Config
    #: one line for each team value left out because it does not fit
    problems: tuple[str, ...] = ()


def effective_config(local: Config, team: Mapping[str, Any]) -> Effective:
    """``local`` with the team's values over it. A value that makes the settings invalid
    (on its own or beside the others) is left out, key by key in ``TEAM_KEYS`` order."""
    if not team:
        return Effective(local)
    base = local.model_dump(mode="json")
    try:
        return Effective(Config.model_validate({**base, **team}))
    except ValidationError:
        pass
    merged, problems = dict(base), []
    for key in TEAM_KEYS:
        if key not in team:
            continue
        trial = {**merged, key: team[key]}
        try:
            Config.model_validate(trial)
        except ValidationError as exc:
            problem = describe_error(exc)
            where = "" if problem.startswith(f"{key}") else f"{key}: "
            problems.append(f"team setting {where}{problem} (config.yaml's is used)")
        else:
            merged = trial
    return Effective(Config.model_validate(merged), tuple(problems))


def changed_keys(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Team keys whose value differs between two JSON views, in ``TEAM_KEYS`` order."""
    return [key for key in TEAM_KEYS if before.get(key) != after.get(key)]


class _Dumper(yaml.SafeDumper):
    """Numbers as numbers (money and rates are decimals), and each item of a list of
    mappings (a stage, a rep, a field) on one line, as ``config.yaml`` writes them."""

    def represent_sequence(self, tag: str, sequence: Any, flow_style: bool | None = None) -> yaml.Node:
        node = super().represent_sequence(tag, sequence, flow_style)
        if all(isinstance(item, yaml.ScalarNode) for item in node.value):
            node.flow_style = True  # [Price, No budget, ...]
        for item in node.value:
            if isinstance(item, yaml.MappingNode):
                item.flow_style = True
        return node


def _decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.Node:
    if value == value.to_integral_value():
        return dumper.represent_int(int(value))
    return dumper.represent_scalar("tag:yaml.org,2002:float", format(value.normalize(), "f"))


_Dumper.add_representer(Decimal, _decimal)


def as_yaml(config: Config) -> str:
    """The team settings in force, as ``team show`` prints them."""
    values = config.model_dump(mode="python", include=set(TEAM_KEYS))
    body = yaml.dump(values, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=120)
    return YAML_HEADER + "\n" + body


def parse_team_yaml(text: str, local: Config) -> dict[str, Any]:
    """The team values an edited YAML text sets, checked as the settings they make with
    ``local``'s personal ones; a problem raises ``StoreError`` with its line."""
    try:
        node = yaml.compose(text, Loader=_StrictLoader)  # a SafeLoader: no objects
        raw = yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}: " if mark else ""
        if isinstance(exc, yaml.constructor.ConstructorError) and exc.problem:
            raise StoreError(f"{where}{exc.problem}") from None  # ours: "the key 'x' is set twice"
        # The parser's own words ("expected <block end>") say little to a person.
        raise StoreError(f"{where}not YAML as the rest: check the indentation, and that the line is "
                         "`key: value` or `- item` with its brackets and quotes closed") from None
    if raw is None:
        raise StoreError("the team settings are empty: nothing saved")
    if not isinstance(raw, dict):
        raise StoreError("line 1: expected a mapping of settings (key: value)")
    for key in raw:
        if key not in TEAM_KEYS:
            personal = " (a personal setting: it stays in config.yaml)" if key in Config.model_fields else ""
            raise StoreError(f"line {_line_of(node, [key])}: {key!r} is not a team setting{personal}")
    try:
        Config.model_validate({**local.model_dump(mode="json"), **raw})
    except ValidationError as exc:
        location = [part for part in exc.errors()[0]["loc"]]
        if location and location[0] not in raw:
            location = [next(iter(raw))] if raw else []
        raise StoreError(f"line {_line_of(node, location)}: {describe_error(exc)}") from None
    return dict(raw)


def _line_of(node: yaml.Node | None, path: list[Any]) -> int:
    """The line (from 1) of the deepest node along ``path`` (mapping keys, list indexes)."""
    line = node.start_mark.line + 1 if node is not None else 1
    for part in path:
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if k.value == part), None)
            if found is None:
                break
            line, node = found[0].start_mark.line + 1, found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line
