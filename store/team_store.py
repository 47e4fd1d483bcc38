"""The store's side of the team settings (``store.team_settings`` holds the rules):
the settings in force, saving the team's values, seeding them, a past week's."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from store import team_settings
from store.config import Config, describe_error
from store.custom_fields import PREFIX
from store.errors import StoreError
from store.models import BY_TABLE, SettingChange, TeamSetting

if TYPE_CHECKING:
    from store.database import Store


class TeamSettingsOps:
    """Mixed into ``Store``: ``config`` is ``config.yaml`` with the team's values over it,
    worked out again whenever the ``settings`` table changes (a save, a sync, another
    process's commit)."""

    _local_config: Config
    _effective: team_settings.Effective | None
    _settings_seen: int | None

    @property
    def config(self: Store) -> Config:
        signature = self._settings_signature()
        if self._effective is None or signature != self._settings_seen:
            team = team_settings.team_values(self.storage.tables["settings"].values())
            self._effective = team_settings.effective_config(self._local_config, team)
            self._settings_seen = signature
        return self._effective.config

    @config.setter
    def config(self: Store, value: Config) -> None:
        """The personal settings (``config.yaml`` as read, or a test's)."""
        self._local_config = value
        self._effective = None

    @property
    def local_config(self: Store) -> Config:
        return self._local_config

    def _settings_signature(self: Store) -> int:
        # Bumped by every write to the table, a catch-up with another process's and a
        # rollback (a reload): read at every ``config``, so it must cost nothing.
        return self.storage.changes.versions["settings"]

    def settings_problems(self: Store) -> tuple[str, ...]:
        """A line for each team value left out of the settings in force."""
        self.config  # noqa: B018 - works the settings out if they changed
        return self._effective.problems if self._effective else ()

    def team_values(self: Store) -> dict[str, Any]:
        return team_settings.team_values(self.storage.tables["settings"].values())

    def has_team_settings(self: Store) -> bool:
        return bool(self.team_values())

    def save_team_settings(self: Store, values: Mapping[str, Any]) -> list[str]:
        """Set team keys (JSON values), checked as the settings they make, in one commit
        that can be undone; returns the keys that changed."""
        unknown = sorted(set(values) - set(team_settings.TEAM_KEYS))
        if unknown:
            raise StoreError(f"{unknown[0]}: not a team setting")
        before = team_settings.local_values(self.config)
        try:
            after = Config.model_validate({**self.config.model_dump(mode="json"), **values})
        except ValidationError as exc:
            raise StoreError(describe_error(exc)) from None
        wanted = team_settings.local_values(after)
        held = self.team_values()
        changed = [key for key in values if wanted[key] != before.get(key) or key not in held]
        if not changed:
            return []
        at = datetime.fromtimestamp(self.clock.wall_ms() / 1000, UTC)
        with self.writing() as w:
            for key in changed:
                value = team_settings.to_json(wanted[key])
                entry = SettingChange(at=at, by=self.me, value=value)
                record_id = team_settings.setting_id(key)
                if w.txn.get(TeamSetting.table, record_id) is None:
                    w.insert(TeamSetting(id=record_id, owner=self.me, key=key, value=value, history=[entry]))
                else:
                    w.update(TeamSetting, record_id, {"value": value, "history": [entry]})
        return changed

    def seed_team_settings(self: Store) -> list[str]:
        """The first replica in a team folder: every team key from this computer's
        settings. A later one that is not among the team's reps adds itself."""
        team = self.team_values()
        if not team:
            return self.save_team_settings(team_settings.local_values(self._local_config))
        reps = team.get("reps")
        if isinstance(reps, list) and self.me not in {rep.get("id") for rep in reps if isinstance(rep, dict)}:
            mine = [rep.model_dump(mode="json") for rep in self._local_config.reps if rep.id == self.me]
            if mine:
                return self.save_team_settings({"reps": [*reps, *mine]})
        return []

    def purge_custom_field(self: Store, table: str, key: str) -> int:
        """Clear a custom field the team deleted from every record of ``table``, in one
        commit (it syncs, and can be undone); how many records held a value."""
        declared = {spec.key: spec for spec in self.config.custom(table, with_deleted=True)}
        if key in declared and not declared[key].deleted:
            raise StoreError(f"{table}.{key}: only a deleted field is purged (set `deleted: true` first)")
        cls = BY_TABLE[table]
        name = PREFIX + key
        held = [doc["id"] for doc in self.rows(cls) if name in doc]
        with self.writing() as w:
            for record_id in held:
                w.update(cls, record_id, {name: None})
        return len(held)

    def config_as_of(self: Store, moment: datetime) -> Config:
        """The settings in force at ``moment``: the team's values of then (a past week's
        review weighs its deals with that week's probabilities)."""
        docs = self.storage.tables["settings"].values()
        then = team_settings.values_as_of(docs, moment)
        return team_settings.effective_config(self._local_config, then).config

    def settings_notice(self: Store) -> str | None:
        """One line when the team's settings differ from this computer's ``config.yaml``."""
        team = self.team_values()
        if not team:
            return None
        differ = [key for key in team_settings.changed_keys(team_settings.local_values(self._local_config),
                                                              team_settings.local_values(self.config))
                  if key in team]
        if not differ:
            return None
        shown = ", ".join(differ[:6]) + (f" and {len(differ) - 6} more" if len(differ) > 6 else "")
        return (f"The team's settings differ from your config.yaml in {shown}: the team's apply "
                "(`dealdeck team show` prints them).")
