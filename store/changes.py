"""What changed in a data folder since someone last asked: per table, the ids of the
records written (by this process, or by another one and replayed here), or everything
(the tables were read again from their files). The app turns it into one message that
every view listens to, so a write anywhere updates every place that shows the record."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Changes:
    #: table -> ids of the records written
    tables: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: everything may have changed (a reload): views rebuild
    everything: bool = False

    def __bool__(self) -> bool:
        return self.everything or any(self.tables.values())

    def touches(self, *tables: str) -> bool:
        return self.everything or any(self.tables.get(table) for table in tables)

    def ids(self, table: str) -> frozenset[str]:
        return self.tables.get(table, frozenset())

    def merged(self, other: Changes) -> Changes:
        if self.everything or other.everything:
            return Changes(everything=True)
        names = self.tables.keys() | other.tables.keys()
        return Changes({t: self.ids(t) | other.ids(t) for t in names})


class ChangeLog:
    """Kept by the storage: per table a version bumped by every write to it, and what
    changed since the last ``take``."""

    def __init__(self, tables: Iterable[str]) -> None:
        self.versions: dict[str, int] = dict.fromkeys(tables, 0)
        self._ids: dict[str, set[str]] = {}
        self._everything = False
        #: told once a commit or a catch-up has left changes to take (the app's feed); it may
        #: be called from any thread that writes
        self.listener: Callable[[], None] | None = None

    def notify(self) -> None:
        """A commit or a catch-up is done: tell the listener, if anything waits to be taken."""
        if self.listener is not None and (self._everything or self._ids):
            self.listener()

    def record(self, table: str, record_id: str) -> None:
        self.versions[table] = self.versions.get(table, 0) + 1
        if not self._everything:
            self._ids.setdefault(table, set()).add(record_id)

    def bump(self, tables: Iterable[str]) -> None:
        """Tables just read (``DurableStorage.load_group``): the caches built from them
        rebuild; the views are told by the app, which waited for them."""
        for table in tables:
            self.versions[table] = self.versions.get(table, 0) + 1

    def everything(self) -> None:
        for table in self.versions:
            self.versions[table] += 1
        self._everything, self._ids = True, {}

    def take(self) -> Changes:
        changes = Changes(everything=True) if self._everything else \
            Changes({table: frozenset(ids) for table, ids in self._ids.items()})
        self._ids, self._everything = {}, False
        return changes
