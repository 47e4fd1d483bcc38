"""What this replica knows of its team's sync: ``sync-state.json`` in its data folder.

- ``applied``: per replica (this one too), the newest of its segments merged here, and
  every one before it: the next merge reads only the segments after it;
- ``seen``: per replica, the newest stamp merged here (to tell concurrent edits apart);
- ``legacy``: per replica still writing export files, the SHA-256 of the last one
  merged (merged again only when it changes);
- when the last merge was, and whose changes it brought.

Written after the merge it describes has committed, under the folder's lock, as the
newest of what is on disk and what this process learned: a merge that dies before
writing it is read again next time, and merging is idempotent. A missing or damaged
file reads as empty: everything in it can be rebuilt by reading the team folder again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from store.files import write_atomic
from store.hlc import REPLICA_PATTERN, is_stamp

STATE_FILE = "sync-state.json"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class SyncState:
    applied: dict[str, int] = field(default_factory=dict)
    seen: dict[str, str] = field(default_factory=dict)
    legacy: dict[str, str] = field(default_factory=dict)
    last_merge_at: str | None = None
    merged_from: list[str] = field(default_factory=list)

    def learn(self, other: SyncState) -> None:
        """Take the newer of each entry (another process may have merged meanwhile)."""
        for replica, seq in other.applied.items():
            self.applied[replica] = max(seq, self.applied.get(replica, 0))
        for replica, stamp in other.seen.items():
            if stamp > self.seen.get(replica, ""):
                self.seen[replica] = stamp
        self.legacy = {**other.legacy, **self.legacy}

    def to_json(self) -> dict[str, Any]:
        return {"last_merge_at": self.last_merge_at, "from": sorted(set(self.merged_from)), "seen": self.seen,
                "applied": self.applied, "legacy": self.legacy}


def load_state(folder: Path) -> SyncState:
    try:
        raw = orjson.loads((folder / STATE_FILE).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return SyncState()
    if not isinstance(raw, dict):
        return SyncState()
    return SyncState(
        applied=_entries(raw.get("applied"), lambda v: type(v) is int and v >= 0),
        seen=_entries(raw.get("seen"), is_stamp),
        legacy=_entries(raw.get("legacy"), lambda v: isinstance(v, str) and bool(_SHA256.match(v))),
        last_merge_at=raw["last_merge_at"] if isinstance(raw.get("last_merge_at"), str) else None,
        merged_from=[str(rep) for rep in raw.get("from") or () if isinstance(rep, str)],
    )


def _entries(value: object, good: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and REPLICA_PATTERN.match(k) and good(v)}


def save_state(folder: Path, state: SyncState, *, merged: bool) -> None:
    """Write ``state``, keeping what another process wrote meanwhile if newer; ``merged``:
    a merge just ran (its time and reps are recorded)."""
    on_disk = load_state(folder)
    state.learn(on_disk)
    if merged:
        state.last_merge_at = datetime.now(UTC).isoformat()
    else:
        state.last_merge_at, state.merged_from = on_disk.last_merge_at, on_disk.merged_from
    write_atomic(folder / STATE_FILE, orjson.dumps(state.to_json()))
