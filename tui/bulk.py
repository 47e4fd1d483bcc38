"""Marking rows for a bulk action, shared by the lead and customer lists.

``space`` marks or unmarks the row under the cursor, ``*`` marks every shown row (and
unmarks them when all are marked already), ``esc`` clears the marks before the filter.
Marks are kept while the filter changes, but an action only ever acts on the marked rows
the list shows: the filter line says how many marked rows the filter hides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

from textual.binding import Binding

from store.errors import StoreError


def mark_bindings(tab: str) -> list[Binding]:
    """The marking keys, with ids under the tab's name (``leads.mark``)."""
    return [Binding("space", "mark", "Mark", show=False, id=f"{tab}.mark"),
            Binding("asterisk", "mark_all", "Mark all shown", show=False, id=f"{tab}.mark_all")]


class HasId(Protocol):
    id: str


R = TypeVar("R", bound=HasId)


class Marks:
    """The ids of the marked rows."""

    def __init__(self) -> None:
        self.ids: set[str] = set()

    def __bool__(self) -> bool:
        return bool(self.ids)

    def __contains__(self, record_id: object) -> bool:
        return record_id in self.ids

    def toggle(self, record_id: str) -> None:
        self.ids ^= {record_id}

    def toggle_all(self, shown: Iterable[str]) -> None:
        """Mark every shown row; unmark them if they all were marked."""
        ids = set(shown)
        if ids and ids <= self.ids:
            self.ids -= ids
        else:
            self.ids |= ids

    def clear(self) -> bool:
        """Unmark every row; False if none was marked."""
        had = bool(self.ids)
        self.ids.clear()
        return had

    def keep(self, live: Callable[[str], bool]) -> None:
        """Forget rows that are gone (deleted, or merged away)."""
        self.ids = {i for i in self.ids if live(i)}

    def shown(self, rows: Sequence[R]) -> list[R]:
        """The marked rows among ``rows`` (the ones the list shows), in their order."""
        return [row for row in rows if row.id in self.ids] if self.ids else []

    def summary(self, shown: int) -> str:
        """``3 marked`` or ``12 marked, 3 hidden by the filter`` (those are not acted on)."""
        if not self.ids:
            return ""
        hidden = len(self.ids) - shown
        text = f"{len(self.ids):,} marked"
        return f"{text}, {hidden:,} hidden by the filter (not acted on)" if hidden else text


def run_write(app: Any, write: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Do a store write; a refusal is one line, never a traceback. None when refused."""
    try:
        return write(*args, **kwargs)
    except StoreError as exc:
        app.notify(str(exc), severity="error", markup=False)
        return None


def csv_path(text: str) -> str:
    """A file to write a CSV export to: the folder must exist."""
    path = Path(text.strip()).expanduser()
    if not text.strip():
        raise ValueError("where should the file go?")
    if path.is_dir():
        raise ValueError("that is a folder; name a file in it")
    if not path.parent.is_dir():
        raise ValueError(f"no folder {path.parent}")
    return str(path)


def tag_name(text: str) -> str:
    tag = text.strip().lstrip("#").strip()
    if not tag:
        raise ValueError("a tag needs a name")
    if len(tag) > 40:
        raise ValueError("40 characters at most")
    return tag


def rep_name(store: Any, rep: str) -> str:
    return next((r.name for r in store.config.reps if r.id == rep), rep)
