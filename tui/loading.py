"""First screen first: the app opens the store with the tables its first screen shows and
reads the others between frames, each part of the app usable once its tables are in.

After a team's sync every rep holds the whole team's data; reading all of it before
the first frame kept the terminal blank for seconds. The lead list needs the leads: those
are read at the open (``FIRST_TABLES``); its funnel counts the deal steps when the deals
come, first of the rest. The others are read a batch of documents at a time in the app's
own event loop (``DurableStorage.load_steps``): keys and repaints go on between batches, and no thread
touches the store while it grows. A key that needs a table still being read says
"Loading …" on one line and acts when it is in (``when_loaded``); anything else that
reads such a table reads it at once (``storage.LazyTables``), so nothing ever sees a
table half read.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from textual import work

from store.storage import TABLE_GROUPS

if TYPE_CHECKING:
    from tui.app import DealdeckApp

#: what the lead tab's first frame shows: the leads (and the team's settings); the funnel
#: counts its deal steps a moment later
FIRST_TABLES = ("leads", "settings")
#: the order the rest is read in: the funnel's deals, the header's due counts, the cards,
#: the log's index
LOAD_ORDER = ("opportunities", "tasks", "customers", "tickets", "activities")
ALL_TABLES = tuple(table for names in TABLE_GROUPS.values() for table in names)
#: what each tab reads
TAB_TABLES: dict[str, tuple[str, ...]] = {
    "leads": ("leads",),  # its funnel counts the deal steps when the deals come
    "board": ("opportunities", "customers", "activities"),
    "customers": ("customers", "contacts", "opportunities", "activities", "tickets", "surveys", "tasks"),
    "review": ALL_TABLES,
}
#: what a record's details read besides the record: its timeline, tasks, customer
DETAIL_TABLES = ("activities", "tasks", "customers", "contacts", "opportunities", "tickets", "surveys")
#: what Today's agenda and the header's due counts read
AGENDA_TABLES = ("leads", "customers", "contacts", "tasks")
#: what a table is called in the "Loading …" line, where its name is not the word
TABLE_WORDS = {"opportunities": "deals"}


class BackgroundLoading:
    """The app's half of reading the tables after the first frame (a mixin of ``DealdeckApp``)."""

    def init_loading(self) -> None:
        #: (tables, action) waiting for their tables to be read
        self._waiting: list[tuple[tuple[str, ...], Callable[[], None]]] = []

    def missing(self: DealdeckApp, tables: Iterable[str]) -> list[str]:
        """The tables of ``tables`` not read yet."""
        storage = self.store.storage
        return [t for t in tables if t in storage.table_group and not storage.is_loaded(storage.table_group[t])]

    def loaded(self: DealdeckApp, tables: Iterable[str]) -> bool:
        return not self.missing(tables)

    def when_loaded(self: DealdeckApp, tables: Iterable[str], action: Callable[[], None], *,
                    say: bool = True) -> bool:
        """Run ``action`` now if its tables are read, else (``say``: saying what is being
        read) run it once they are; True if it ran now."""
        wanted = tuple(tables)
        missing = self.missing(wanted)
        if not missing:
            action()
            return True
        self._waiting.append((wanted, action))
        if not say:
            return False
        words = sorted({TABLE_WORDS.get(table, table) for table in missing})
        self.notify(f"Loading {', '.join(words)}…", timeout=2, markup=False)
        return False

    @work(exclusive=True, group="load-tables", description="reading the tables")
    async def load_the_rest(self: DealdeckApp) -> None:
        """Read the tables the first frame did not need, a batch at a time between frames."""
        store = self.store
        self.tables_arrived()  # the team's lead rows, left for after the first frame
        for group in dict.fromkeys(store.storage.table_group[t] for t in LOAD_ORDER + ALL_TABLES):
            for _ in store.storage.load_steps(group):
                await asyncio.sleep(0)
                if self.store is not store:
                    return  # the app went on with another store (demo data filled in)
            self.tables_arrived()
        await asyncio.sleep(0)
        store.warm_links()  # the first details opened are then as quick as the next
        # What the tabs built from the tables (rows, folds, caches) out of the collector's
        # sight, as the tables are: a full collection walking it all made one keystroke in
        # a few 40 ms slower at 200k leads.
        gc.freeze()

    def tables_arrived(self: DealdeckApp) -> None:
        """Some tables were read: what waited for them runs, and the tabs build."""
        waiting, self._waiting = self._waiting, []
        for tables, action in waiting:
            if self.missing(tables):
                self._waiting.append((tables, action))
            else:
                action()
        self.tables_ready()
