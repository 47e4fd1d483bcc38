"""What undoing a merge changes: pure functions, no I/O.

A merge is kept for undo as the records it changed (``RecordChange``): each as it was
before and as the merge left it, register fields with their stamps, grow-only lists
as their entry ids (a record the merge added: its stamps only). Undoing the merge is
a new change, stamped now like any edit (``plan_undo``), made only where a record
still holds what the merge put there:

- a field the merge changed gets its value from before the merge back, under the new
  stamp, if it still holds the merge's write (same stamp, same value); a field
  changed since keeps that later change, and the undo lists it;
- a record the merge added is deleted (a tombstone) unless something changed it since;
- a record the merge deleted comes back; one the merge brought back is deleted again;
- entries the merge added to grow-only lists (histories, quotes) stay: those lists only
  grow in every replica, so an entry taken out here would come back at the next sync.

Because the undo is stamped now, it wins over the merged writes everywhere: re-merging
the same files leaves it undone, and teammates' merges take it like any newer edit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from store.models import BY_TABLE
from store.records import BASE, DELETED, STAMPS, Doc, is_live, stamp_of, tombstone
from sync.format import RecordSet
from sync.merge import BOOKKEEPING, grow_only_fields, register_fields, same_value

#: (table, record id) -> the record as it is now (None: not in the database)
Current = Mapping[tuple[str, str], Doc | None]
#: how many changes the undo names in its one line; the rest are counted
NAMED = 3


@dataclass(frozen=True)
class RecordChange:
    """One record a merge changed that was in the database before it."""

    table: str
    record_id: str
    before: Doc
    after: Doc


@dataclass
class MergeUndo:
    """What undoing a merge needs."""

    #: table -> id -> stamps, of each record the merge added (live when it arrived): an
    #: edit since changes them (every edit stamps ``updated_at`` at least)
    added: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    changed: list[RecordChange] = field(default_factory=list)

    def records(self) -> Iterator[tuple[str, str]]:
        for table, ids in self.added.items():
            for record_id in ids:
                yield table, record_id
        for change in self.changed:
            yield change.table, change.record_id


def kept_form(grow_only: frozenset[str], doc: Doc) -> Doc:
    """``doc`` as the undo keeps a record the merge changed: grow-only lists as their entry ids."""
    return {name: [entry["id"] for entry in value] if name in grow_only else value for name, value in doc.items()}


def merge_changes(before: RecordSet, after: RecordSet, touched: Mapping[str, Iterable[str]]) -> MergeUndo:
    """What undoing a merge needs: ``touched`` names, per table, the records the merge
    replaced; ``before`` and ``after`` are the record sets before and after it."""
    undo = MergeUndo()
    for table, ids in touched.items():
        olds, news, grow_only = before.get(table, {}), after[table], grow_only_fields(table)
        added = {record_id: news[record_id][STAMPS] for record_id in ids if record_id not in olds
                 and (DELETED not in news[record_id] or is_live(news[record_id]))}  # a comprehension: 519k at 20 x 5k
        if added:
            undo.added[table] = added
        for record_id in [record_id for record_id in ids if record_id in olds]:
            old, new = olds[record_id], news[record_id]
            if old != new:
                kept = RecordChange(table, record_id, kept_form(grow_only, old), kept_form(grow_only, new))
                undo.changed.append(kept)
    return undo


def undo_to_json(undo: MergeUndo) -> Doc:
    return {"added": undo.added, "changed": [[c.table, c.record_id, c.before, c.after] for c in undo.changed]}


def undo_from_json(data: object) -> MergeUndo:
    """``undo_to_json``'s form read back; ValueError if it is not that."""
    if not (isinstance(data, dict) and isinstance(data.get("added"), dict) and isinstance(data.get("changed"), list)):
        raise ValueError("not what undo keeps")
    added = data["added"]
    if not all(table in BY_TABLE and isinstance(ids, dict)
               and all(isinstance(stamps, dict) and BASE in stamps for stamps in ids.values())
               for table, ids in added.items()):
        raise ValueError("a malformed record the merge added")
    changed = []
    for item in data["changed"]:
        if not (isinstance(item, list) and len(item) == 4 and item[0] in BY_TABLE and isinstance(item[1], str)
                and _is_doc(item[2]) and _is_doc(item[3])):
            raise ValueError("a malformed change")
        changed.append(RecordChange(*item))
    return MergeUndo(added, changed)


def _is_doc(value: object) -> bool:
    return isinstance(value, dict) and isinstance(value.get(STAMPS), dict) and BASE in value[STAMPS]


# --- is the merge in the database? --------------------------------------------------------------


def changed_fields(change: RecordChange) -> list[str]:
    """The register fields whose stamp or value the merge changed."""
    before, after = change.before, change.after
    return [name for name in register_fields(change.table, before, after)
            if stamp_of(before, name) != stamp_of(after, name) or not same_value(before, after, name)]


def holds(doc: Doc, after: Doc, name: str) -> bool:
    """Whether ``doc``'s field still holds the merge's write: same stamp, same value."""
    return stamp_of(doc, name) == stamp_of(after, name) and same_value(doc, after, name)


def is_applied(change: RecordChange, doc: Doc | None) -> bool:
    """Whether the merge's write of the record is in ``doc``, or was overwritten by a
    newer one. Stamps of a field only ever grow, so an older stamp means the merge
    never committed."""
    if doc is None:
        return False
    for name in changed_fields(change):
        ours, merged = stamp_of(doc, name), stamp_of(change.after, name)
        if ours < merged or (ours == merged and not same_value(doc, change.after, name)):
            return False
    return str(doc.get(DELETED, "")) >= str(change.after.get(DELETED, ""))


def merge_applied(undo: MergeUndo, current: Current) -> bool:
    """Whether the merge is in the database (a record it added is there; no field holds
    an older write than it made)."""
    return (all(current.get(key) is not None for key in undo.records())
            and all(is_applied(change, current.get((change.table, change.record_id))) for change in undo.changed))


def written_with(stamp: str, docs: Iterable[Doc | None]) -> bool:
    """Whether any of ``docs`` holds a write stamped ``stamp`` (an undo's writes all are)."""
    return any(doc is not None and (stamp in doc[STAMPS].values() or doc.get(DELETED) == stamp) for doc in docs)


# --- the undo ---------------------------------------------------------------------------------


@dataclass
class UndoPlan:
    """The documents an undo writes, and what it did and did not do, in counts."""

    puts: list[tuple[str, Doc]] = field(default_factory=list)
    removed: Counter[str] = field(default_factory=Counter)
    revived: Counter[str] = field(default_factory=Counter)
    deleted_again: Counter[str] = field(default_factory=Counter)
    put_back: int = 0
    #: entries the merge added to grow-only lists, left in place
    entries: int = 0
    kept_fields: int = 0
    kept_records: int = 0
    #: each later change kept, named: "lead 'Ann Lee' status"
    kept: list[str] = field(default_factory=list)


#: link field -> the table of the record it names
LINKS = {"customer_id": "customers", "lead_id": "leads", "opportunity_id": "opportunities",
         "contact_id": "contacts"}


def in_use(undo: MergeUndo, tables: Mapping[str, Mapping[str, Doc]]) -> dict[tuple[str, str], str]:
    """The records the merge added that a live record it did not add links to (a deal
    opened since under a customer the merge brought): (table, id) -> who links to it."""
    added = {(table, record_id) for table, ids in undo.added.items() for record_id in ids}
    found: dict[tuple[str, str], str] = {}
    for table, docs in tables.items():
        for record_id, doc in docs.items():
            if (table, record_id) in added or not is_live(doc):
                continue
            for link, target in LINKS.items():
                key = (target, doc.get(link))
                if key in added and key not in found:
                    found[key] = label(table, doc)  # type: ignore[index]
    return found


def plan_undo(undo: MergeUndo, current: Current, stamp: str,
              linked: Mapping[tuple[str, str], str] | None = None) -> UndoPlan:
    """What undoing the merge writes, stamped ``stamp`` (newer than every stamp of
    ``current``); later changes are kept, and so are added records that later work
    links to (``linked``, from ``in_use``). See the module docstring."""
    plan = UndoPlan()
    for table, added in undo.added.items():
        for record_id, stamps in added.items():
            user = (linked or {}).get((table, record_id))
            _undo_added(plan, table, current.get((table, record_id)), stamps, stamp, user)
    for change in undo.changed:
        doc = current.get((change.table, change.record_id))
        if doc is not None:
            _undo_changed(plan, change, change.before, doc, stamp)
    return plan


def _undo_added(plan: UndoPlan, table: str, doc: Doc | None, stamps: dict[str, str], stamp: str,
                user: str | None) -> None:
    if doc is None or not is_live(doc):
        return  # deleted since: gone already
    if doc[STAMPS] != stamps or user is not None:
        plan.kept_records += 1
        plan.kept.append(f"{label(table, doc)} ({'changed since' if user is None else f'in use by {user}'})")
    else:
        plan.puts.append((table, tombstone(doc, stamp)))
        plan.removed[table] += 1


def _undo_changed(plan: UndoPlan, change: RecordChange, before: Doc, doc: Doc, stamp: str) -> None:
    table, after = change.table, change.after
    if not is_live(doc) and str(doc.get(DELETED, "")) > str(after.get(DELETED, "")):
        plan.kept_records += 1
        plan.kept.append(f"{label(table, doc)} (deleted since)")
        return
    new, stamps, kept, put_back = dict(doc), dict(doc[STAMPS]), [], 0
    for name in changed_fields(change):
        if same_value(before, after, name):
            continue  # the merge changed only the stamp
        if holds(doc, after, name):
            if name in before:
                new[name] = before[name]
            else:
                new.pop(name, None)
            stamps[name] = stamp
            put_back += name not in BOOKKEEPING
        elif name not in BOOKKEEPING:
            kept.append(name)
    new[STAMPS] = stamps
    _put_back_liveness(new, before, doc, stamp, changed_since=bool(kept))
    plan.entries += sum(len(set(after.get(name, [])) - set(before.get(name, []))) for name in grow_only_fields(table))
    if kept:
        plan.kept_fields += len(kept)
        plan.kept.append(f"{label(table, doc)} {', '.join(kept)}")
    if new[STAMPS] != doc[STAMPS] or new.get(DELETED) != doc.get(DELETED):
        plan.puts.append((table, new))
        plan.put_back += put_back
        if is_live(new) and not is_live(doc):
            plan.revived[table] += 1
        elif is_live(doc) and not is_live(new):
            plan.deleted_again[table] += 1


def _put_back_liveness(new: Doc, before: Doc, doc: Doc, stamp: str, *, changed_since: bool) -> None:
    """Deleted or not as before the merge; a record changed since stays as it is now."""
    want_live = is_live(doc) if changed_since else is_live(before)
    if is_live(new) and not want_live:
        new[DELETED] = stamp  # not older than any of its stamps: deleted
    elif want_live and not is_live(new):
        new[STAMPS]["updated_at"] = stamp  # a write newer than the delete brings it back


def label(table: str, doc: Doc) -> str:
    """A record as a person knows it: ``lead 'Ann Lee'``."""
    name = (doc.get("name") or doc.get("title") or doc.get("subject") or doc.get("key")
            or str(doc.get("id", ""))[:8])
    return f"{BY_TABLE[table].noun} '{name}'"


# --- what the undo says -------------------------------------------------------------------------


def counted(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


def _records(counts: Counter[str], what: str) -> list[str]:
    return [f"{counted(n, BY_TABLE[table].noun, table)} {what}" for table, n in sorted(counts.items())]


def undo_lines(plan: UndoPlan, merged_at: str, *, dry_run: bool = False) -> list[str]:
    """The undo in a few lines: what it did in counts, the later changes it kept, and
    what the next sync will do with it."""
    done = [*_records(plan.removed, "removed"), *_records(plan.revived, "brought back"),
            *_records(plan.deleted_again, "deleted again")]
    if plan.put_back:
        done.append(f"{counted(plan.put_back, 'field', 'fields')} put back")
    verb = "would undo" if dry_run else "undid"
    line = f"{verb} the merge of {merge_time(merged_at)}: {', '.join(done) or 'nothing left to undo'}"
    if plan.kept:
        what = [counted(n, one, many) for n, one, many in ((plan.kept_fields, "field", "fields"),
                                                              (plan.kept_records, "record", "records")) if n]
        more = f" and {len(plan.kept) - NAMED:,} more" if len(plan.kept) > NAMED else ""
        line += f"; kept {' and '.join(what)} changed since: {'; '.join(plan.kept[:NAMED])}{more}"
    lines = [line]
    if plan.entries:
        lines.append(f"{counted(plan.entries, 'entry', 'entries')} the merge added to histories, quotes or "
                     "change logs stay: those lists only grow, on every replica")
    if plan.puts:
        removed = sum(plan.removed.values())
        gone = (f"; the {counted(removed, 'record', 'records')} removed will be deleted for everyone who has them"
                if removed else "")
        will = "would be" if dry_run else "is"
        lines.append(f"the undo {will} a change like any other: your next sync sends it to the team{gone}")
    return lines


def merge_time(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return iso
