"""The activity log's index (``store.activity_store``), small enough for a team's log.

Where each id's newest line starts is kept as two arrays sorted by a 64-bit key of the
id (``id_key``: Dealdeck's ids are 32 hex digits; the first 16 are the key), searched
by bisection, the line read to be sure it is that id's: 16 bytes an activity instead
of a string and a dict entry (~170 bytes). The ids linked to each lead, deal and
customer are kept as the offsets of their lines, in arrays. At 200k leads (426k
activities) this is ~40 MB instead of ~190 MB. Pure: no I/O here.
"""

from __future__ import annotations

import binascii
import hashlib
from array import array
from base64 import b64decode, b64encode
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from store import records
from store.activity_log import ActivityDigest

INDEX_FORMAT = "dealdeck-log-index"
#: offsets: what ``ActivityLog`` calls a reference to a line; a document not in the log
#: yet (pending) is referred to by a negative number of its own
Ref = int


def stable_key(text: str) -> int:
    """A 63-bit hash of ``text`` that is the same in every process (``hash`` of a str is
    not), for the digest's sets of leads, which the index keeps on disk."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") >> 1


def id_key(key: str) -> int:
    """A 64-bit key for an id: its first 16 hex digits (ids are uuid4 hex), else a hash."""
    head = key[:16]
    if len(head) == 16 and all(c in "0123456789abcdef" for c in head):
        return int(head, 16)
    return stable_key(key)


class IdOffsets:
    """Each committed id's newest line: a sorted part (kept on disk with the index) and
    the ids written since (``recent``), merged into it when they grow."""

    def __init__(self, keys: array[int] | None = None, offsets: array[int] | None = None,
                 recent: dict[str, int] | None = None) -> None:
        self.keys = keys if keys is not None else array("Q")
        self.offsets = offsets if offsets is not None else array("q")
        self.recent: dict[str, int] = recent or {}

    def __len__(self) -> int:
        return len(self.keys) + len(self.recent)

    def find(self, key: str, is_line_of: Callable[[int, str], bool]) -> int | None:
        """The offset of ``key``'s line, or None; ``is_line_of(offset, key)`` tells a line
        of another id whose key is the same (a 1 in 2^64 chance) from its own."""
        found = self.recent.get(key)
        if found is not None:
            return found
        wanted = id_key(key)
        at = bisect_left(self.keys, wanted)
        while at < len(self.keys) and self.keys[at] == wanted:
            if is_line_of(self.offsets[at], key):
                return self.offsets[at]
            at += 1
        return None

    def moved(self, key: str, offset: int, is_line_of: Callable[[int, str], bool]) -> None:
        """``key``'s newest line is now at ``offset``."""
        wanted = id_key(key)
        at = bisect_left(self.keys, wanted)
        while at < len(self.keys) and self.keys[at] == wanted:
            if is_line_of(self.offsets[at], key):
                self.offsets[at] = offset
                return
            at += 1
        self.recent[key] = offset

    def merged(self) -> IdOffsets:
        """The recent ids sorted into the arrays (done when the index is written)."""
        if not self.recent:
            return self
        pairs = sorted([*zip(self.keys, self.offsets, strict=True),
                        *((id_key(key), offset) for key, offset in self.recent.items())])
        return IdOffsets(array("Q", (k for k, _ in pairs)), array("q", (o for _, o in pairs)))

    @classmethod
    def of(cls, latest: Mapping[str, int]) -> IdOffsets:
        return cls(recent=dict(latest)).merged()


class LogIndex:
    """What is folded from the live documents of the log: their lines by linked record,
    and the digest."""

    def __init__(self, links: tuple[str, ...], required: frozenset[str]) -> None:
        self.links: dict[str, dict[str, array[int]]] = {name: {} for name in links}
        self.digest = ActivityDigest(key=stable_key)
        self.required = required
        #: ids of documents left out for lacking a field their readers need
        self.damaged: set[str] = set()

    def add(self, ref: Ref, doc: Mapping[str, Any]) -> None:
        if records.DELETED in doc and not records.is_live(doc):
            return
        if not doc.keys() >= self.required:
            self.damaged.add(str(doc.get("id")))
            return
        for name, by_value in self.links.items():
            value = doc.get(name)
            if value:
                group = by_value.get(value)
                if group is None:
                    group = by_value[value] = array("q")
                group.append(ref)
        self.digest.add(doc)

    def moved(self, old: Ref, new: Ref, doc: Mapping[str, Any]) -> None:
        """A pending document's line was written at ``new``."""
        for name, by_value in self.links.items():
            group = by_value.get(doc.get(name) or "")
            if group is not None and old in group:
                group[group.index(old)] = new

    def to_json(self) -> dict[str, Any]:
        """Arrays as base64 of their bytes: a JSON list of numbers is parsed into an object
        a number (60 MB more at the peak of an open, at 200k leads)."""
        return {"links": {name: _groups_json(by_value) for name, by_value in self.links.items()},
                "digest": self.digest.to_json(), "damaged": sorted(self.damaged)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], links: tuple[str, ...], required: frozenset[str]) -> LogIndex:
        index = cls(links, required)
        for name in links:
            index.links[name] = _groups_of(data["links"][name])
        index.digest = ActivityDigest.from_json(data["digest"], key=stable_key)
        index.damaged = set(data["damaged"])
        return index


def _groups_json(groups: Mapping[str, array[int]]) -> dict[str, Any]:
    """Link groups as their values, how many each, and all their references in one array."""
    refs = array("q")
    for group in groups.values():
        refs.extend(group)
    return {"values": list(groups), "counts": _b64(array("I", map(len, groups.values()))), "refs": _b64(refs)}


def _groups_of(data: Mapping[str, Any]) -> dict[str, array[int]]:
    counts, refs = array("I", b64decode(data["counts"])), array("q", b64decode(data["refs"]))
    groups, at = {}, 0
    for value, count in zip(data["values"], counts, strict=True):
        groups[value] = refs[at:at + count]
        at += count
    return groups


def _b64(numbers: array[int]) -> str:
    return b64encode(numbers.tobytes()).decode()


def index_body(ids: IdOffsets, index: LogIndex, *, inode: int, size: int, superseded: bool) -> dict[str, Any]:
    """The index file's content (``ids`` merged first)."""
    return {"format": INDEX_FORMAT, "log": {"inode": inode, "size": size}, "superseded": superseded,
            "keys": _b64(ids.keys), "offsets": _b64(ids.offsets), **index.to_json()}


def index_of(data: Any, *, inode: int, size: int, links: tuple[str, ...],
             required: frozenset[str]) -> tuple[IdOffsets, LogIndex, int, bool] | None:
    """The ids, the index, the bytes of log covered and whether an id has more than one
    line, from a parsed index file of this log; None when it is not (stale, damaged)."""
    try:
        if data.get("format") != INDEX_FORMAT or data["log"]["inode"] != inode or not 0 < data["log"]["size"] <= size:
            return None
        ids = IdOffsets(array("Q", b64decode(data["keys"])), array("q", b64decode(data["offsets"])))
        if len(ids.keys) != len(ids.offsets):
            return None
        return ids, LogIndex.from_json(data, links, required), data["log"]["size"], bool(data["superseded"])
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, binascii.Error):
        return None


def newest_offsets(lines: Iterable[tuple[int, str]]) -> tuple[dict[str, int], bool]:
    """Each id's last offset in ``lines`` (offset, id), and whether any id came twice."""
    latest: dict[str, int] = {}
    count = 0
    for offset, key in lines:
        latest[key] = offset
        count += 1
    return latest, count > len(latest)
