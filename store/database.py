"""``Store``: the one API over the record tables.

Every write runs in a storage transaction (locked, caught up with other
processes, committed durably as one journal line), is validated through the
pydantic models, and stamps each changed field with the replica's hybrid
logical clock. Reads go through TinyDB over the in-memory tables.
"""

from __future__ import annotations

import contextlib
import shlex
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError
from tinydb import Query, TinyDB
from tinydb.table import Table

from store import clockfix, records
from store.activity_index import LogIndex
from store.activity_log import ActivityDigest
from store.activity_store import ActivityLog
from store.after_sales import AfterSales
from store.changes import Changes
from store.config import Config, load_config
from store.errors import StoreError
from store.files import private_folder
from store.hlc import Clock, describe_ahead, wall_clock_ms
from store.lead_ops import Conversion, LeadOps
from store.models import (
    BY_TABLE,
    Activity,
    Contact,
    Customer,
    Opportunity,
    Quote,
    QuoteLine,
    Record,
    StageChange,
    Survey,
    Task,
    Ticket,
    utc_now,
)
from store.queries import (
    ACTIVITY_LINKS,
    AllOf,
    GroupLists,
    Groups,
    field_equals,
    text_matcher,
)
from store.replica import load_replica
from store.rule_engine import RuleEngine
from store.session_undo import SessionChange, SessionUndo, session_change
from store.storage import DurableStorage
from store.tablefile import PackedTable
from store.team_store import TeamSettingsOps
from store.transaction import Transaction
from store.writer import Writer

R = TypeVar("R", bound=Record)
F = TypeVar("F")
#: the note on a lead's history entry of an automatic assignment
#: activities that count as the revisit a maintenance plan asks for


#: tables kept as JSON text and decoded at each read
ENCODED_TABLES = (PackedTable, ActivityLog)

class RecordTable(Table):
    """TinyDB table keyed by our uuid hex ids instead of integers."""

    document_id_class = str  # type: ignore[assignment]


class _DealdeckDB(TinyDB):
    table_class = RecordTable


def load_replica_id(folder: Path) -> str:
    """The replica id of a data folder, made once and kept (see ``store.replica``)."""
    return load_replica(folder).id


@dataclass(frozen=True)
class StageMove:
    """A stage move made in this session, with what undoing it must put back."""

    opportunity_id: str
    title: str
    before: str
    after: str
    #: the stage-history entry the move added
    change_id: str
    closed_at: datetime | None
    lost_reason: str
    #: the customer fields a win changed: as they were, and as the win set them
    customer_before: dict[str, Any] | None = None
    customer_after: dict[str, Any] | None = None


class Store(LeadOps, AfterSales, SessionUndo, TeamSettingsOps, RuleEngine):
    """Records of one data folder, as seen by one rep."""

    def __init__(self, folder: Path | str, config: Config | None = None, me: str | None = None,
                 wall: Callable[[], int] = wall_clock_ms, **storage_options: Any) -> None:
        """``wall``: the wall clock in milliseconds the change stamps follow (tests pass their own)."""
        self.folder = private_folder(Path(folder))
        self._effective, self._settings_seen = None, None
        self.config = config or load_config(self.folder)  # the personal half: see ``TeamSettingsOps``
        self.me = me or self.local_config.me
        #: this folder's replica id, and whether the folder is a copy that must not sync
        self.replica = load_replica(self.folder)
        self.replica_id = self.replica.id
        self.db = _DealdeckDB(self.folder, storage=DurableStorage, **storage_options)
        self.storage: DurableStorage = self.db.storage  # type: ignore[assignment]
        self.clock = Clock(self.replica_id, wall=wall, max_drift_ms=self.local_config.sync.max_drift_ms)
        self.catch_up_clock()
        self.append_only = frozenset({Activity.table, "surveys"})
        self._models: dict[tuple[str, str], tuple[records.Doc, Record]] = {}
        self._writer: Writer | None = None
        #: bumped by every commit and every change picked up from another process,
        #: so that caches built from the tables know when to rebuild
        self.version = 0
        #: stage moves of this session, newest last, for undo
        self.moves: list[StageMove] = []
        #: this session's changes, for undo and redo (``store.session_undo``)
        self.undo_stack: list[SessionChange] = []
        self.redo_stack: list[SessionChange] = []
        #: (table, name) -> (the table's state, the folded value, documents folded): see ``fold``
        self._folds: dict[tuple[str, Hashable], tuple[tuple[int, int], Any, int]] = {}
        #: table -> ids of the damaged documents readers have left out so far (see ``rows``)
        self.damaged: dict[str, set[str]] = {}

    # -- lifecycle ----------------------------------------------------------------
    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def take_changes(self) -> Changes:
        """What was written since the last call (here, or by another process and picked up
        by a refresh): the records each view showing them must update."""
        return self.storage.changes.take()

    def refresh(self) -> bool:
        """Pick up what other processes wrote; True if anything changed."""
        changed = self.storage.refresh()
        self.catch_up_clock()
        if changed:
            self.version += 1
        return changed

    # -- the clock ------------------------------------------------------------------------
    def catch_up_clock(self) -> None:
        """Move the clock past the newest stamp any process of this replica committed. If
        this clock ran ahead and the committed one no longer has (a clock repair, here or
        in another process, set it back), start again from the committed one."""
        committed = self.storage.clock
        if not committed:
            return
        drift = self.clock.max_drift_ms
        if self.clock.ahead_ms() > drift and self.clock.ahead_ms(committed) <= drift:
            self.clock = Clock(self.replica_id, last=committed, wall=self.clock.wall_ms, max_drift_ms=drift)
        self.clock.witness(committed)

    def clock_warning(self) -> str | None:
        """One line if this replica's newest stamp is beyond the drift (no edit can be saved)."""
        ahead = self.clock.ahead_ms()
        if ahead <= self.clock.max_drift_ms:
            return None
        return (f"This replica's change stamps are {describe_ahead(ahead)} ahead of this computer's clock, so "
                f"edits cannot be saved: if the clock is right now, run `{clockfix.REPAIR_COMMAND}`.")

    def repair_clock(self) -> clockfix.Scan:
        """Re-stamp this replica's own stamps that are in the future at the current time,
        as one ordinary commit (journalled; the new stamps sync), keeping their order, and
        set the committed clock back with it; returns what was found (``own_future``: the
        stamps replaced; ``others``: the other replicas' stamps in the future, left as
        they are). See ``store.clockfix``."""
        drift = self.clock.max_drift_ms
        with self.writing(rules=False) as w:  # new stamps for the same values: no change fires a rule
            found = clockfix.scan(self.storage.tables, self.replica_id,
                                  clockfix.future_limit(self.clock.wall_ms(), drift))
            fresh = Clock(self.replica_id, wall=self.clock.wall_ms, max_drift_ms=drift)
            committed = self.storage.clock
            within = committed if committed and fresh.ahead_ms(committed) <= drift else ""
            for kept in (found.newest_kept, within):
                if kept:
                    fresh.witness(kept)  # the new stamps come after every stamp that stays
            self._restamp(w.txn, clockfix.new_stamps(found.own_future, fresh))
            self.clock = fresh
            w.txn.set_clock(fresh.last)
        return found

    def _restamp(self, txn: Transaction, mapping: Mapping[str, str]) -> None:
        for table, docs in self.storage.tables.items():
            for doc in list(docs.values()):
                fixed = clockfix.restamp(doc, mapping)
                if fixed is not None:
                    txn.put(table, fixed)

    # -- validation and model cache --------------------------------------------------
    def validate(self, cls: type[R], data: Mapping[str, Any]) -> R:
        try:
            return cls.model_validate(data, context={"config": self.config})
        except ValidationError as exc:
            raise records.validation_failed(cls.noun, exc) from None

    def model_of(self, cls: type[R], doc: records.Doc) -> R:
        """The model for a stored document, cached while the document is unchanged."""
        if isinstance(self.storage.tables[cls.table], ENCODED_TABLES):
            # Each read decodes a new document: a cache keyed on it would only grow.
            return records.lenient_model(cls, records.fields_of(doc))
        key = (cls.table, doc["id"])
        cached = self._models.get(key)
        if cached is not None and cached[0] is doc:
            return cached[1]  # type: ignore[return-value]
        # Stored data was validated when written; stage names may since have
        # left the config, so no config context here.
        model = records.lenient_model(cls, records.fields_of(doc))
        self._models[key] = (doc, model)
        return model

    # -- transactions ------------------------------------------------------------------
    @contextlib.contextmanager
    def writing(self, *, remember: bool = True, rules: bool = True) -> Iterator[Writer]:
        """All writes inside commit together, as one durable journal entry.

        Nested use (an operation called inside another's transaction) joins the
        outer transaction, so composite actions stay one commit. ``remember``: the commit
        can be undone later in this session (``undo_last``); an undo itself is not.
        ``rules``: the team's rules act on the changes, in the same commit (an undo, of
        a session's change or of a merge, puts back what was, and fires none).
        """
        if self._writer is not None:
            yield self._writer
            return
        with self.storage.transaction() as txn:
            self.catch_up_clock()
            self._writer = Writer(self, txn)
            if rules:
                txn.watch = frozenset(self.event_rules())
            try:
                yield self._writer
                if txn.watch:
                    self.run_rules(self._writer)
            finally:
                self._writer = None
                self.version += 1
        change = session_change(txn.before, txn.puts) if remember and txn.before is not None else None
        if change is not None:
            self.remember(change)

    # -- generic reads ---------------------------------------------------------------------
    def table(self, cls: type[Record]) -> RecordTable:
        return self.db.table(cls.table, cache_size=0)  # type: ignore[return-value]

    def rows(self, cls: type[Record]) -> Iterator[records.Doc]:
        """Live stored documents, without building models (fast; treat as read-only).
        A damaged document, one without a field its readers need (written by an old
        Dealdeck that let a teammate's file through), is left out: ``check`` reports it."""
        required = records.required_keys(cls)
        for doc in self.storage.tables[cls.table].values():
            # Most documents were never deleted: skip the stamp comparison for them.
            if records.DELETED not in doc or records.is_live(doc):
                if doc.keys() >= required:
                    yield doc
                else:
                    self._left_out(cls, doc)

    def _left_out(self, cls: type[Record], doc: records.Doc) -> None:
        self.damaged.setdefault(cls.table, set()).add(str(doc.get("id")))

    def damaged_warning(self) -> str | None:
        """One line for the damaged documents left out of what was read so far."""
        count = sum(len(ids) for ids in self.damaged.values())
        if not count:
            return None
        tables = ", ".join(sorted(self.damaged))
        return (f"{count} damaged record(s) in {tables} are left out (a field they need is missing); "
                f"`dealdeck check --data {shlex.quote(str(self.folder))}` names them")

    def fold(self, cls: type[Record], name: Hashable, make: Callable[[], F],
             add: Callable[[F, str, records.Doc], None]) -> F:
        """``make()`` with ``add(value, id, doc)`` applied for each live document of ``cls``,
        kept until the table changes. For a packed table (append-mostly, and costly to
        read: see ``storage.PackedTable``) only the documents added since are folded in;
        a replaced or removed one starts the fold again."""
        table = self.storage.tables[cls.table]
        packed = isinstance(table, ENCODED_TABLES)
        # A plain table's fold lasts until that table changes (a write elsewhere leaves it).
        versions = self.storage.changes.versions
        state = ((table.serial, table.replaced) if packed  # type: ignore[attr-defined]
                 else (id(table), versions.get(cls.table, 0)))
        cached = self._folds.get((cls.table, name))
        value, seen = (cached[1], cached[2]) if cached is not None and cached[0] == state else (make(), 0)
        if cached is None or seen < len(table) or cached[0] != state:
            docs = table.items_from(seen) if packed else table.items()  # type: ignore[attr-defined]
            required = records.required_keys(cls)  # damaged documents left out, as in ``rows``
            for key, doc in docs:
                if records.DELETED not in doc or records.is_live(doc):
                    if doc.keys() >= required:
                        add(value, key, doc)
                    else:
                        self._left_out(cls, doc)
            self._folds[(cls.table, name)] = (state, value, len(table))
        return value

    def links(self, cls: type[Record], *fields: str) -> dict[str, Mapping[str, list[records.Doc]]]:
        """For each field (a link to another record: ``customer_id`` ...), the live
        documents of ``cls`` by the id they link to, from one pass over the table, kept
        until the table changes: detail screens read a record's activities from it
        instead of scanning 137k of them each time (treat as read-only). A packed
        table's groups keep ids, and decode a group's documents when it is read."""
        table = self.storage.tables[cls.table]
        if cls is Activity and set(fields) <= set(ACTIVITY_LINKS) and isinstance(table, ActivityLog):
            self._activity_index()  # the log's index, kept on disk beside it
            return {field: table.link_groups(field) for field in fields}
        packed = isinstance(table, ENCODED_TABLES)
        groups = self.fold(cls, ("links", fields), lambda: Groups(fields, packed), Groups.add).groups
        return {field: GroupLists(groups[field], table if packed else None) for field in fields}

    def warm_links(self) -> None:
        """Fold the links the detail screens read (a customer's deals, contacts, tickets,
        surveys and tasks; a deal's and a lead's tasks), so that the first one opened is
        as quick as the next (the app does it once the tables are read)."""
        for cls, fields in ((Opportunity, ("customer_id",)), (Contact, ("customer_id",)),
                            (Ticket, ("customer_id",)), (Survey, ("customer_id",)),
                            (Task, ("customer_id",)), (Task, ("opportunity_id",)), (Task, ("lead_id",))):
            self.links(cls, *fields)
        self._activity_index()

    def activity_digest(self) -> ActivityDigest:
        """Last activity per deal and customer, activities per rep and day (read-only)."""
        return self._activity_index().digest

    def _activity_index(self) -> LogIndex:
        """The digest and the links of the activity log (``store.activity_store``)."""
        log: ActivityLog = self.storage.tables[Activity.table]  # type: ignore[assignment]
        index = log.index()
        for key in index.damaged:  # left out, as ``rows`` leaves them out
            self.damaged.setdefault(Activity.table, set()).add(key)
        return index

    def get(self, cls: type[R], record_id: str) -> R | None:
        doc = self.storage.tables[cls.table].get(record_id)
        if doc is None or not records.is_live(doc):
            return None
        return self.model_of(cls, doc)

    def label_of(self, cls: type[Record], record_id: str) -> str:
        """A live record's one-line name (``Record.label``), read from its document without
        building its model ("" for none): the agenda names thousands of records at a time."""
        doc = self.storage.tables[cls.table].get(record_id)
        if doc is None or not records.is_live(doc):
            return ""
        return str(doc.get("name") or doc.get("title") or doc["id"])

    def require(self, cls: type[R], record_id: str) -> R:
        record = self.get(cls, record_id)
        if record is None:
            raise StoreError(f"no {cls.noun} with id {record_id}")
        return record

    def all(self, cls: type[R]) -> list[R]:
        return [self.model_of(cls, doc) for doc in self.rows(cls)]

    def count(self, cls: type[Record]) -> int:
        return sum(1 for _ in self.rows(cls))

    def has_any(self, cls: type[Record]) -> bool:
        """Whether the table holds a live record (without counting 200k of them)."""
        return next(iter(self.rows(cls)), None) is not None

    def find(self, cls: type[R], *, owner: str | None = None, stage: str | None = None,
             status: str | None = None, grade: str | None = None, tag: str | None = None,
             text: str | None = None, where: Mapping[str, Any] | None = None) -> list[R]:
        """Records matching every given filter; ``text`` searches names, company,
        email, phone, tags and notes, case-insensitively."""
        q = Query()
        conditions: list[Callable[[Mapping[str, Any]], bool]] = []
        for name, value in (("owner", owner), ("stage", stage), ("status", status),
                            ("grade", grade), *(where or {}).items()):
            if value is not None:
                conditions.append(field_equals(cls, name, value))
        if tag is not None:
            wanted = tag.casefold()
            conditions.append(q.tags.test(lambda tags: wanted in tags))
        if text:
            conditions.append(text_matcher(text.casefold()))
        live = self.storage.tables[cls.table]
        hits = self.table(cls).search(AllOf(conditions))
        required = records.required_keys(cls)  # damaged documents left out, as in ``rows``
        return [self.model_of(cls, live[hit.doc_id]) for hit in hits  # type: ignore[index]
                if records.is_live(live[hit.doc_id]) and live[hit.doc_id].keys() >= required]  # type: ignore[index]

    # -- generic writes ---------------------------------------------------------------------
    def add(self, record: R) -> R:
        with self.writing() as w:
            return w.insert(record)

    def update(self, cls: type[R], record_id: str, **changes: Any) -> R:
        with self.writing() as w:
            if cls is Opportunity and "stage" in changes:
                # A stage set in a form is a stage move: recorded in the history, and a
                # win starts the customer's maintenance plan, as with the board's keys.
                stage, reason = changes.pop("stage"), changes.pop("lost_reason", "") or ""
                if changes:
                    w.update(cls, record_id, changes)
                self.move_stage(record_id, stage, lost_reason=reason)
                return w.current(cls, record_id)[0]
            return w.update(cls, record_id, changes)

    def delete(self, cls: type[Record], record_id: str) -> None:
        with self.writing() as w:
            w.delete(cls, record_id)

    def new(self, cls: type[R], **fields: Any) -> R:
        """Validate and add a record from plain values (owner defaults to me)."""
        fields.setdefault("owner", self.me)
        record = self.validate(cls, fields)
        if isinstance(record, Opportunity) and not record.stage_history:
            # Every deal's history starts with the stage it was created in.
            first = StageChange(stage=record.stage, at=record.created_at, by=self.me)
            record = record.model_copy(update={"stage_history": [first]})
        return self.add(record)

    # -- opportunities ---------------------------------------------------------------------
    def move_stage(self, opportunity_id: str, stage: str, *, lost_reason: str = "") -> Opportunity:
        """Put an opportunity in ``stage`` (any stage: skipping is allowed and recorded)."""
        config = self.config
        if stage not in config.stage_keys:
            raise StoreError(f"unknown stage {stage!r}")
        if stage == config.lost_stage.key and not lost_reason.strip():
            raise StoreError("losing an opportunity needs a reason")
        with self.writing() as w:
            current, _ = w.current(Opportunity, opportunity_id)
            if current.stage == stage:
                if stage == config.lost_stage.key and lost_reason != current.lost_reason:
                    return w.update(Opportunity, opportunity_id, {"lost_reason": lost_reason})
                return current
            closing = stage in (config.won_stage.key, config.lost_stage.key)
            change = StageChange(stage=stage, by=self.me)
            moved = w.update(Opportunity, opportunity_id, {
                "stage": stage, "stage_history": [change],
                "closed_at": utc_now() if closing else None,
                "lost_reason": lost_reason if stage == config.lost_stage.key else "",
            })
            customer_before = customer_after = None
            if stage == config.won_stage.key:
                customer_before, customer_after = self._start_customer(w, moved.customer_id)
        self.moves.append(StageMove(opportunity_id, current.title, current.stage, stage, change.id,
                                    current.closed_at, current.lost_reason, customer_before, customer_after))
        return moved

    def advance(self, opportunity_id: str, steps: int = 1) -> Opportunity:
        """One stage forward (``steps=1``) or back (``-1``) along the open stages and won.

        Forward from the last open stage wins. Back from won reopens the deal in the
        last open stage; back from lost reopens it where it was lost."""
        current = self.require(Opportunity, opportunity_id)
        config = self.config
        keys = [s.key for s in config.open_stages] + [config.won_stage.key]
        if current.stage == config.lost_stage.key:
            if steps > 0:
                raise StoreError(f"{current.title} is lost; press [ to reopen it first")
            before = [c.stage for c in sorted(current.stage_history, key=lambda c: c.at) if c.stage in keys[:-1]]
            return self.move_stage(opportunity_id, before[-1] if before else keys[0])
        if current.stage not in keys:
            raise StoreError(f"{current.title} is in {current.stage!r}, a stage no longer used; "
                             "move it to one of today's (m on the board)")
        if current.stage == config.won_stage.key and steps > 0:
            raise StoreError(f"{current.title} is already won")
        index = min(max(keys.index(current.stage) + steps, 0), len(keys) - 1)
        return self.move_stage(opportunity_id, keys[index])

    def win(self, opportunity_id: str) -> Opportunity:
        return self.move_stage(opportunity_id, self.config.won_stage.key)

    def lose(self, opportunity_id: str, reason: str) -> Opportunity:
        return self.move_stage(opportunity_id, self.config.lost_stage.key, lost_reason=reason)

    def undo_move(self) -> StageMove | None:
        """Take back the last stage move of this session (None: nothing to undo).

        The history keeps both moves (the undo names the one it takes back); a win's
        changes to the customer are put back where nobody has changed them since."""
        if not self.moves:
            return None
        move = self.moves.pop()
        with self.writing() as w:
            current, _ = w.current(Opportunity, move.opportunity_id)
            if current.stage != move.after:
                raise StoreError(f"{current.title} was moved since (now {current.stage}); nothing undone")
            w.update(Opportunity, move.opportunity_id, {
                "stage": move.before, "closed_at": move.closed_at, "lost_reason": move.lost_reason,
                "stage_history": [StageChange(stage=move.before, by=self.me, undoes=move.change_id)]})
            if move.customer_before is not None and move.customer_after is not None:
                customer, _ = w.current(Customer, current.customer_id)
                untouched = {name: value for name, value in move.customer_before.items()
                             if getattr(customer, name) == move.customer_after[name]}
                if untouched:
                    w.update(Customer, current.customer_id, untouched)
        return move

    def set_forecast_category(self, opportunity_id: str, category: str | None) -> Opportunity:
        """The owner's call on a deal (commit, best case, pipeline, omitted); None goes
        back to the stage's default. Only the owner makes it: it is their forecast."""
        with self.writing() as w:
            current, _ = w.current(Opportunity, opportunity_id)
            if current.owner != self.me:
                raise StoreError(f"only its owner ({current.owner}) sets the forecast category of {current.title}")
            return w.update(Opportunity, opportunity_id, {"forecast_category": category})

    def follow_up_opportunity(self, opportunity_id: str, due: date) -> Task:
        """Set the next follow-up on a deal: one open follow-up task, moved if it exists."""
        with self.writing() as w:
            opportunity, _ = w.current(Opportunity, opportunity_id)
            for doc in self.rows(Task):
                if (doc.get("opportunity_id") == opportunity_id and doc.get("kind") == "follow_up"
                        and not doc.get("done") and doc.get("owner") == self.me):
                    return w.update(Task, doc["id"], {"due": due})
            return w.insert(self.validate(Task, {
                "owner": self.me, "title": f"Follow up: {opportunity.title}", "kind": "follow_up",
                "due": due, "opportunity_id": opportunity_id, "customer_id": opportunity.customer_id}))

    def revise_quote(self, opportunity_id: str, lines: list[Mapping[str, Any]], note: str = "") -> Opportunity:
        """Add the next quote version (earlier versions are kept) and make its total
        the deal's amount, so the amount's history shows what the quote did."""
        with self.writing() as w:
            current, _ = w.current(Opportunity, opportunity_id)
            latest = current.latest_quote()
            try:
                quote = Quote(version=(latest.version + 1) if latest else 1, by=self.me,
                              currency=current.currency, lines=[QuoteLine(**line) for line in lines], note=note)
            except ValidationError as exc:
                raise records.validation_failed("quote", exc) from None
            return w.update(Opportunity, opportunity_id, {"quotes": [quote], "amount": quote.total})

    def _start_customer(self, w: Writer, customer_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """A won deal makes the customer active and starts its maintenance plan.
        Returns the changed fields as they were and as they are now."""
        customer, _ = w.current(Customer, customer_id)
        today = datetime.now(UTC).date()
        days = customer.revisit_days or self.config.maintenance.revisit_days
        changes: dict[str, Any] = {"lifecycle": "active", "revisit_days": days,
                                   "next_revisit": customer.next_revisit or today + timedelta(days=days),
                                   "churned_at": None}
        if customer.active_since is None or customer.lifecycle == "churned":
            changes["active_since"] = today
        before = {name: getattr(customer, name) for name in changes}
        w.update(Customer, customer_id, changes)
        return before, changes


__all__ = ["ACTIVITY_LINKS", "BY_TABLE", "Conversion", "Store"]
