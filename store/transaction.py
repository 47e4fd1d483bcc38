"""A storage transaction: the changes made under the folder's lock, committed as one
journal line."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from store.errors import StoreError

if TYPE_CHECKING:
    from store.storage import DurableStorage

#: records of a transaction whose documents before it are kept (for a session's undo)
BEFORE_KEPT_MAX = 5000


class Transaction:
    """Changes made under the lock; committed as one journal line."""

    def __init__(self, storage: DurableStorage) -> None:
        self._storage = storage
        self.puts: list[tuple[str, dict[str, Any]]] = []
        #: each record's document before this transaction first put it (None: a new record),
        #: for a session's undo; None once the transaction is too big to keep it
        self.before: dict[tuple[str, str], dict[str, Any] | None] | None = {}
        #: the committed clock this transaction sets (``set_clock``), or None
        self.clock_reset: str | None = None
        #: tables whose changes the team's rules watch (``store.rule_engine``): each record's
        #: document before this transaction, and before the current round of rules
        self.watch: frozenset[str] = frozenset()
        self.previous: dict[tuple[str, str], dict[str, Any] | None] = {}
        self._round: dict[tuple[str, str], dict[str, Any] | None] | None = None

    def set_clock(self, stamp: str) -> None:
        """Set the committed clock to ``stamp`` when this commits, even if it is lower:
        for a clock repair, after the stamps that ran ahead were replaced."""
        self.clock_reset = stamp

    def get(self, table: str, record_id: str) -> dict[str, Any] | None:
        return self._storage.tables.get(table, {}).get(record_id)

    def put(self, table: str, doc: dict[str, Any]) -> None:
        if table not in self._storage.table_group:
            raise StoreError(f"unknown table {table!r}")
        key = (table, doc["id"])
        if self.before is not None and key not in self.before:
            if len(self.before) >= BEFORE_KEPT_MAX:
                self.before = None  # a bulk write: too big to keep for undo
            else:
                self.before[key] = self._storage.tables.get(table, {}).get(doc["id"])
        if table in self.watch:
            old = self._storage.tables.get(table, {}).get(doc["id"])
            self.previous.setdefault(key, old)
            if self._round is not None:
                self._round.setdefault(key, old)
        self._storage.tables.setdefault(table, {})[doc["id"]] = doc
        self._storage.changes.record(table, doc["id"])
        self.puts.append((table, doc))

    def watched(self, tables: Iterable[str]) -> dict[tuple[str, str], dict[str, Any] | None]:
        """The records of ``tables`` this transaction changed, each as it was before it."""
        wanted = set(tables)
        return {key: doc for key, doc in self.previous.items() if key[0] in wanted}

    def start_round(self, tables: Iterable[str]) -> None:
        """Rules act: note each record they change as it was before they did."""
        self.watch = self.watch | frozenset(tables)
        self._round = {}

    def end_round(self) -> dict[tuple[str, str], dict[str, Any] | None]:
        changed, self._round = self._round or {}, None
        return changed
