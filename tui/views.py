"""Saved lists: a named filter and sort, kept in ``config.yaml`` (``lead_views`` for the lead
list, ``segments`` for the customers). The same keys on both tabs: ``V`` picks one, ``W``
saves the list on show as one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from store.config import SavedLeadView, save_config_values
from store.errors import StoreError
from store.team_settings import TEAM_KEYS
from tui.screens.dialogs import AskScreen, PickScreen
from tui.text import labelled


def view_name(text: str) -> str:
    name = " ".join(text.split())
    if not name:
        raise ValueError("a saved view needs a name")
    if len(name) > 60:
        raise ValueError("60 characters at most")
    return name


def pick_saved(app: Any, title: str, entries: list[Any], none_label: str, empty: str,
               chosen: Callable[[Any], None]) -> None:
    """A picker over saved views; ``chosen`` gets the view, or False for ``none_label``."""
    if not entries:
        app.notify(empty, severity="warning")
        return
    choices: list[tuple[str, Any]] = [(none_label, False), *[(e.name, e) for e in entries]]
    app.push_screen(PickScreen(title, choices), lambda answer: answer is not None and chosen(answer))


def ask_and_save(app: Any, store: Any, key: str, title: str, make: Callable[[str], BaseModel],
                 saved: Callable[[BaseModel], None]) -> None:
    """Ask for a name, then put ``make(name)`` in the config's ``key`` list (replacing a
    view of that name), one atomic write of ``config.yaml``."""
    def chosen(name: str | None) -> None:
        if not name:
            return
        entry = make(name)
        kept = [e.model_dump(mode="json", exclude_defaults=True) for e in getattr(store.config, key) if e.name != name]
        views = [*kept, entry.model_dump(mode="json", exclude_defaults=True)]
        team = key in TEAM_KEYS  # customer segments are the team's; lead and deal views the rep's own
        try:
            if team:
                store.save_team_settings({key: views})
            else:
                store.config = save_config_values(store.folder, {key: views})
        except StoreError as exc:
            app.notify(str(exc), severity="error", markup=False)
            return
        saved(entry)
        where = "the team settings (it goes to the team with the next sync)" if team else "config.yaml"
        app.notify(labelled("Saved “$name” in $where: V picks it", name=name, where=where))

    app.push_screen(AskScreen(title, placeholder="e.g. Expo follow-ups", parse=view_name), chosen)


def lead_view(name: str, *, owner: str | None, status: str | None, grade: str | None, overdue: bool,
              pool: bool, text: str, sort: str | None, reverse: bool) -> SavedLeadView:
    return SavedLeadView.model_validate({
        "name": name, "owner": owner, "status": status, "grade": grade, "overdue": overdue,
        "pool": pool, "text": text, "sort": sort or "", "reverse": reverse})


def lead_filter_values(view: SavedLeadView, me: str) -> dict[str, Any]:
    """The lead filter's fields a saved view sets (``owner`` as the filter names it)."""
    owner = "team" if view.owner is None else "me" if view.owner == me else view.owner
    return {"owner": owner, "status": view.status, "grade": view.grade, "overdue": view.overdue,
            "pool": view.pool, "text": view.text}
