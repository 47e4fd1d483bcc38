"""Change stamps in the future: finding them, and re-stamping this replica's own.

Pure functions, no I/O (``Store.repair_clock`` and ``dealdeck check`` do the
reading and writing). Stamps live in two places of a stored document (see
``store.records``): the field stamps under ``"_s"`` and the tombstone
``"_del"``. Grow-only list entries (histories, stage changes, quotes ...) carry
no stamp: they merge as sets by id, so a wrong clock cannot make them win.

A stamp is *in the future* when its wall time is beyond the wall clock plus the
allowed drift. Only this replica's own such stamps are re-stamped: another
replica's are not ours to rewrite (they are reported; they stop winning edits
once the real time gets there, and a drift of minutes keeps new ones out).

The repair keeps the order of everything: the replaced stamps, taken in their
own order, get consecutive new stamps from a clock that has moved past every
stamp that stays (any replica's, within the drift). So a field edited after a
delete stays live, and the repaired edits still win over what they won before,
except over other replicas' stamps that are themselves in the future.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from store.hlc import REPAIR_COMMAND, Clock, describe_ahead, is_stamp
from store.records import BASE, DELETED, STAMPS, Doc

KINDS = {STAMPS: "change stamp", DELETED: "delete stamp"}


def future_limit(now_ms: int, drift_ms: int) -> str:
    """Stamps greater than this string are in the future (they compare as text:
    ``"~"`` sorts after the ``":"`` that ends a stamp's wall time)."""
    return f"{min(now_ms + drift_ms, 10**16 - 1):016d}~"


def wall_of(stamp: str) -> int:
    return int(stamp[:16])


def doc_stamps(doc: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """``(kind, stamp)`` for every stamp of a stored document (``kind``: ``"_s"`` or ``"_del"``)."""
    stamps = doc.get(STAMPS)
    if isinstance(stamps, dict):
        for stamp in stamps.values():
            if is_stamp(stamp):
                yield STAMPS, stamp
    deleted = doc.get(DELETED)
    if is_stamp(deleted):
        yield DELETED, deleted


@dataclass
class Ahead:
    """Stamps of one kind and one replica that are in the future."""

    kind: str
    replica: str
    count: int = 0
    newest: str = ""


@dataclass
class Scan:
    """What ``scan`` found: the stamps in the future, and the newest stamp that is not."""

    replica: str
    ahead: dict[tuple[str, str], Ahead] = field(default_factory=dict)
    #: this replica's stamps in the future, each once
    own_future: set[str] = field(default_factory=set)
    #: the newest stamp (any replica's) that is not in the future
    newest_kept: str = ""

    @property
    def own(self) -> list[Ahead]:
        return [a for a in self.ahead.values() if a.replica == self.replica]

    @property
    def others(self) -> list[Ahead]:
        return [a for a in self.ahead.values() if a.replica != self.replica]


def scan(tables: Mapping[str, Mapping[str, Doc]], replica: str, limit: str) -> Scan:
    """Every stamp of every document of ``tables`` against ``limit`` (``future_limit``)."""
    found = Scan(replica)
    for docs in tables.values():
        for doc in docs.values():
            for kind, stamp in doc_stamps(doc):
                if stamp <= limit:
                    found.newest_kept = max(found.newest_kept, stamp)
                    continue
                stamp_replica = stamp[-16:]
                ahead = found.ahead.setdefault((kind, stamp_replica), Ahead(kind, stamp_replica))
                ahead.count += 1
                ahead.newest = max(ahead.newest, stamp)
                if stamp_replica == replica:
                    found.own_future.add(stamp)
    return found


def report_lines(found: Scan, now_ms: int, drift_ms: int) -> list[str]:
    """One line per kind of stamp in the future: this replica's (to repair), then others'."""
    drift = describe_ahead(drift_ms)
    lines = [f"{a.count} {KINDS[a.kind]}(s) of this replica are in the future, up to "
             f"{describe_ahead(wall_of(a.newest) - now_ms)} ahead of this computer's clock (over the {drift} "
             f"allowed): if the clock is right now, run `{REPAIR_COMMAND}`" for a in found.own]
    lines += [f"{a.count} {KINDS[a.kind]}(s) of replica {a.replica} are in the future, up to "
              f"{describe_ahead(wall_of(a.newest) - now_ms)} ahead: another replica's, not this one's to "
              "re-stamp; they win edits until the real time gets there" for a in found.others]
    return lines


def new_stamps(old: Iterable[str], clock: Clock) -> dict[str, str]:
    """A new stamp from ``clock`` for each old one, in the old stamps' order."""
    return {stamp: clock.now() for stamp in sorted(set(old))}


def restamp(doc: Doc, mapping: Mapping[str, str]) -> Doc | None:
    """``doc`` with the stamps in ``mapping`` replaced, or None if it holds none of them.
    A field stamp that ends up equal to the base stamp is dropped (as a merge would)."""
    stamps: dict[str, str] = doc.get(STAMPS) or {}
    deleted = doc.get(DELETED)
    if not any(s in mapping for s in stamps.values()) and deleted not in mapping:
        return None
    new = {name: mapping.get(stamp, stamp) for name, stamp in stamps.items()}
    base = new.get(BASE)
    new = {name: stamp for name, stamp in new.items() if name == BASE or stamp != base}
    fixed = {**doc, STAMPS: new}
    if deleted in mapping:
        fixed[DELETED] = mapping[deleted]
    return fixed
