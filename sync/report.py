"""What a merge did, as a person reads it: per teammate what arrived, every concurrent
edit with both values and why one won, records that need a look, double follow-ups,
and the files that were refused or are still awaited. Pure: no I/O."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from store.hlc import REPLICA_PATTERN
from store.leads import customer_match_keys, match_keys
from store.models import BY_TABLE
from store.records import Doc, is_live
from store.tablefile import json_default
from store.team_settings import TEAM_KEYS, setting_id
from sync.format import TABLES
from sync.merge import Conflict, MergeChanges

ACTIVE_LEAD = frozenset({"new", "contacted", "qualified"})


@dataclass
class FileReport:
    """What one source brought: a teammate's new segments (``path``: their folder), a
    snapshot, or an export file of the first layout."""

    path: Path
    replica: str
    rep: str
    changes: MergeChanges
    #: what was read, for the report line ("2 segments", the file's name)
    what: str = ""


@dataclass
class DoubleFollowUp:
    """Two reps working the same person or company at once."""

    key: str
    records: list[tuple[str, str, str, str]]  # (table, id, name, owner)
    #: what they share, in words: "same e-mail ana@x.com", "same name and company"
    what: str = ""

    def described(self, names: Mapping[str, str] | None = None) -> str:
        """``same e-mail ana@x.com: lead Ana Ruiz (Ann Lee); lead A. Ruiz (Bo Chen)``."""
        who = "; ".join(f"{table[:-1]} {name} ({(names or {}).get(owner, owner)})"
                        for table, _, name, owner in self.records)
        return f"{self.what or self.key}: {who}"


#: a person's or company's label in a report line: (table, record id) -> its name
Label = Callable[[str, str], str]


@dataclass
class MergeReport:
    files: list[FileReport] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    #: files with this replica's id that are not its own: (file, why), not merged
    not_ours: list[tuple[Path, str]] = field(default_factory=list)
    #: entries of a team folder passed over, one line each
    notes: list[str] = field(default_factory=list)
    #: files refused, with why: nothing of them was merged
    refused: list[tuple[Path, str]] = field(default_factory=list)
    #: teammates whose new segments wait, and for what
    waiting: list[str] = field(default_factory=list)
    #: changes of records this replica does not have (their creation never arrived)
    orphans: int = 0
    double_follow_ups: list[DoubleFollowUp] = field(default_factory=list)
    needs_a_look: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return any(_counts(f.changes) != (0, 0, 0, 0) for f in self.files)

    def lines(self, names: Mapping[str, str] | None = None, label: Label | None = None,
              doubles: bool = True) -> list[str]:
        """The report as plain lines (the CLI prints them; the app shows them). With
        ``names`` (rep id -> name) and ``label`` it reads as a rep would say it: teammates
        and records by name, no replica ids; ``doubles=False`` leaves the double
        follow-ups to the caller (the app lists them to open)."""
        verb = "would merge" if self.dry_run else "merged"
        teammates = len({f.replica for f in self.files})
        head = f"{verb} {teammates} teammate(s)" if teammates else "nothing new from teammates"
        if names is not None and teammates:
            head = f"{verb} {teammates} teammate{'' if teammates == 1 else 's'}"
        out = [head + (" (dry run: nothing written)" if self.dry_run else "")]
        for report in self.files:
            added, updated, deleted, resurrected = _counts(report.changes)
            conflicts = len(report.changes.conflicts)
            counts = (f"{added} added, {updated} updated, {deleted} deleted, {resurrected} brought back, "
                      f"{_counted(conflicts, 'concurrent edit')}")
            if names is None:
                out.append(f"{report.rep} ({report.replica}, {report.what or report.path.name}): {counts}")
                out.extend(f"  {describe_conflict(c)}" for c in report.changes.conflicts)
                continue
            rep = names.get(report.rep, report.rep)
            what = re.sub(r"\b1 segment\(s\)", "1 segment", report.what or report.path.name).replace("(s)", "s")
            out.append(f"{rep} ({what}): {counts}")
            out.extend(f"  {told_conflict(c, rep, label)}" for c in report.changes.conflicts)
        settings = settings_changed(self.files)
        if settings:
            more = f" and {len(settings) - 4} more" if len(settings) > 5 else ""
            shown = ", ".join(settings[:4] if more else settings)
            out.append(f"team settings changed: {shown}{more} (they apply now)")
        for path in self.skipped:
            out.append(f"skipped {path.name}: this replica's own export")
        for path, why in self.not_ours:
            out.append(f"not merged {path.name}: {why}")
        for path, why in self.refused:
            out.append(f"refused {_shown(path)}: {why}")
        out.extend(self.waiting)
        if self.orphans:
            out.append(f"{self.orphans} change(s) of records this replica does not have were left out "
                       "(their creation has not arrived)")
        out.extend(self.notes)
        if self.needs_a_look:
            out.append(f"{len(self.needs_a_look)} merged records break a rule and need a look (edit them):")
            out.extend(f"  {problem}" for problem in self.needs_a_look)
        if self.double_follow_ups and doubles:
            out.append(f"double follow-up: {len(self.double_follow_ups)} people or companies worked by two reps")
            out.extend(f"  {double.described(names)}" for double in self.double_follow_ups)
        return out


_SETTING_KEYS = {setting_id(key): key for key in TEAM_KEYS}


def settings_changed(files: Iterable[FileReport]) -> list[str]:
    """The team settings a merge changed, in ``TEAM_KEYS`` order."""
    ids = {record_id for report in files
           for table, record_id in (*report.changes.added, *report.changes.updated, *report.changes.resurrected)
           if table == "settings"}
    return [key for key in TEAM_KEYS if setting_id(key) in ids]


def _shown(path: Path) -> str:
    """A file in a replica's folder by that folder and its name (segment names repeat
    across folders); another file by its name."""
    name = f"{path.parent.name}/{path.name}" if REPLICA_PATTERN.match(path.parent.name) else path.name
    return name if name.isprintable() else repr(name)


def _counts(changes: MergeChanges) -> tuple[int, int, int, int]:
    return (len(changes.added), len(changes.updated), len(changes.deleted), len(changes.resurrected))


def describe_conflict(conflict: Conflict) -> str:
    return (f"{conflict.table} {conflict.record_id} {conflict.field}: "
            f"local {_short(conflict.local_value)} vs {_short(conflict.remote_value)}; "
            f"kept {conflict.winner} ({conflict.reason})")


def _counted(count: int, noun: str) -> str:
    return f"{count:,} {noun if count == 1 else noun + 's'}"


#: a link field's table: ``contact_id`` -> ``contacts`` (its value is shown by the record's name)
LINK_TABLES = {f"{cls.noun}_id": table for table, cls in BY_TABLE.items()}


def told_conflict(conflict: Conflict, rep: str, label: Label | None = None) -> str:
    """A concurrent edit as a rep reads it: ``lead Emma Clarke, phone: yours '1' vs Bo
    Chen's '2'; kept Bo Chen's (newer edit)``; a link (``contact_id``) by the names of the
    records it points to: ``contact: yours 'Jo Park' vs Bo Chen's 'Li Na'``."""
    name = label(conflict.table, conflict.record_id) if label else conflict.record_id
    kept = "yours" if conflict.winner == "local" else f"{rep}'s"
    field, local, remote = conflict.field, conflict.local_value, conflict.remote_value
    linked = LINK_TABLES.get(field)
    if linked and label:
        field = field.removesuffix("_id")
        local, remote = (label(linked, value) if isinstance(value, str) and value else value
                         for value in (local, remote))
    return (f"{conflict.table[:-1]} {name}, {field.replace('_', ' ')}: "
            f"yours {_short(local)} vs {rep}'s {_short(remote)}; "
            f"kept {kept} ({conflict.reason})")


def _short(value: Any) -> str:
    text = orjson.dumps(value, default=json_default).decode() if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def combined(first: MergeChanges, then: MergeChanges) -> MergeChanges:
    """Two merges of one teammate's changes in a row, as one: a record added by the first
    and updated by the second was added."""
    added = set(first.added) | set(then.added)
    gone = set(first.deleted) | set(then.deleted)
    back = set(first.resurrected) | set(then.resurrected)
    updated = (set(first.updated) | set(then.updated)) - added - gone - back
    return MergeChanges(sorted(added), sorted(updated), sorted(gone - back), sorted(back - gone),
                        [*first.conflicts, *then.conflicts])


def records_needing_a_look(before: Mapping[str, Mapping[str, Doc | None]], after: Mapping[str, Mapping[str, Doc]],
                           limit: int = 100) -> list[str]:
    """Merged records that break a rule of their model as a whole (each side's fields
    were valid, but e.g. one rep disqualified a lead while another cleared the reason).
    Every field of a merged record comes from a version that passed its checks, so only
    the whole-record rules (``Record.rules``, plain functions over a stored document)
    can fail: they are run on the documents the merge changed."""
    problems = []
    for table in TABLES:
        rules = BY_TABLE[table].rules
        if not rules:
            continue
        for record_id, doc in after.get(table, {}).items():
            if before.get(table, {}).get(record_id) is doc or not is_live(doc):
                continue
            for rule in rules:
                problem = rule(doc)
                if problem:
                    problems.append(f"{table} record {record_id}: {problem}")
                    if len(problems) >= limit:
                        return problems
                    break
    return problems


_KEYS = {"leads": match_keys, "customers": customer_match_keys}


def double_follow_ups(changed: Mapping[str, Mapping[str, Doc]], everything: Mapping[str, Iterable[Doc]],
                      limit: int = 200) -> list[DoubleFollowUp]:
    """Leads and customers the merge changed that match another (email, phone, company +
    name) under a different owner: one pass over ``everything`` (the leads and customers
    after the merge), looking only for the keys of the changed ones."""
    wanted: set[str] = set()
    known: dict[str, set[str]] = {}  # the changed records' keys, not worked out twice
    for table, keys_of in _KEYS.items():
        for doc in changed.get(table, {}).values():
            if _working(table, doc):
                known[doc["id"]] = keys = keys_of(doc)
                wanted.update(keys)
    if not wanted:
        return []
    first: dict[str, tuple[str, Doc]] = {}  # the first record met under each key
    groups: dict[str, list[tuple[str, Doc]]] = {}  # keys met more than once: every record
    for table, keys_of in _KEYS.items():
        for doc in everything.get(table, ()):
            keys = known.get(doc["id"])  # a changed record's: working, and its keys known
            if keys is None:
                if not _working(table, doc):
                    continue
                keys = keys_of(doc)
            for key in keys & wanted:
                met = first.setdefault(key, (table, doc))
                if met[1] is not doc:  # most keys meet only the changed record itself
                    groups.setdefault(key, [met]).append((table, doc))
    doubles: list[DoubleFollowUp] = []
    pairs: set[frozenset[str]] = set()  # the same records matched by e-mail and by phone: once
    for key in sorted(groups):
        met = groups[key]
        if len({str(doc.get("owner", "")) for _, doc in met}) < 2:
            continue
        ids = frozenset(doc["id"] for _, doc in met)
        if ids in pairs:
            continue
        pairs.add(ids)
        unique = list(dict.fromkeys((table, doc["id"], str(doc.get("name", "")), str(doc.get("owner", "")))
                                    for table, doc in met))
        doubles.append(DoubleFollowUp(key, unique, in_words(key, *first[key])))
        if len(doubles) == limit:
            break
    return doubles


def in_words(key: str, table: str, doc: Doc) -> str:
    """What a match key says, with the value as one of the records has it:
    ``phone:894975291`` -> ``same phone +49 30 894975291``."""
    kind = key.partition(":")[0]
    if kind == "email":
        return f"same e-mail {doc.get('email') or key.partition(':')[2]}"
    if kind == "phone":
        return f"same phone {doc.get('phone') or key.partition(':')[2]}"
    if kind == "company":
        return f"same company {doc.get('name') if table == 'customers' else doc.get('company')}"
    return f"same name and company ({doc.get('name')}, {doc.get('company')})"


def _working(table: str, doc: Doc) -> bool:
    return is_live(doc) and (table != "leads" or doc.get("status", "new") in ACTIVE_LEAD)
