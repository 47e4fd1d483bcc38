"""A data folder's replica id (``replica.json``), and whether this folder is the one
that id was made for.

Two folders that share a replica id sync as one replica: each skips the other's
export as its own, both stamp changes with the same id, and with git their
exports collide for good. A copied data folder (``cp -r``, a restore from a backup,
a move to another disk) is such a twin, so ``replica.json`` also records the
folder's identity: its path, device and inode. The inode tells a copy: ``mv``
within one filesystem keeps it (the new path is then recorded, nothing asked), a
copy or a restore never does. A changed device with the same inode is a remount
and is recorded too. A folder whose inode differs is reported as a copy; sync is
refused there until ``dealdeck sync new-replica`` gives it an id of its own, or
``dealdeck sync new-replica --moved`` says it was moved, not copied (the original
is gone), and keeps the id. Local work goes on meanwhile.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from store.errors import StoreError
from store.files import write_atomic
from store.hlc import REPLICA_PATTERN, new_replica_id
from store.models import utc_now

REPLICA_FILE = "replica.json"


@dataclass(frozen=True)
class Replica:
    """A folder's replica id; ``copied_from`` is the path of the folder the id was made
    for, when this folder is a copy of it (then it must not sync)."""

    id: str
    copied_from: str | None = None

    def sync_refusal(self, folder: Path) -> str | None:
        """One line saying why this folder must not sync, and the command that fixes it."""
        if self.copied_from is None:
            return None
        here = str(folder.resolve())
        fix = f"dealdeck sync new-replica --data {shlex.quote(here)}"
        what = (f"is a copy of {self.copied_from}" if self.copied_from != here
                else "was replaced by another folder (restored from a backup?)")
        return (f"this data folder {what} and has the replica id {self.id} made for that one, so it does "
                f"not sync: run `{fix}` to give it an id of its own (add --moved if the folder was moved "
                "or restored and the original is gone)")


def folder_identity(folder: Path) -> dict[str, Any]:
    info = folder.stat()
    return {"path": str(folder.resolve()), "dev": info.st_dev, "ino": info.st_ino}


def load_replica(folder: Path) -> Replica:
    """The replica id of a data folder, made once and kept; see the module docstring."""
    path = folder / REPLICA_FILE
    if not path.exists():
        return Replica(_write(folder, new_replica_id()))
    saved = _read(path)
    recorded, here = saved.get("folder"), folder_identity(folder)
    if isinstance(recorded, dict) and recorded.get("ino") != here["ino"]:
        return Replica(saved["replica"], copied_from=str(recorded.get("path", "another folder")))
    if recorded != here:  # first opened by this version, moved within its filesystem, or remounted
        _write(folder, saved["replica"], saved.get("created_at"))
    return Replica(saved["replica"])


def renew_replica(folder: Path, *, moved: bool = False) -> tuple[str, str]:
    """Give ``folder`` a new replica id (``moved``: keep its id and record that this is now
    its folder); returns the old id and the new one."""
    path = folder / REPLICA_FILE
    if not path.exists():
        raise StoreError(f"no replica id in {folder}: is it a Dealdeck data folder?")
    saved = _read(path)
    old = saved["replica"]
    if moved:
        _write(folder, old, saved.get("created_at"))
        return old, old
    return old, _write(folder, new_replica_id())


def _read(path: Path) -> dict[str, Any]:
    try:
        saved = orjson.loads(path.read_bytes())
        replica = saved["replica"]
    except (orjson.JSONDecodeError, KeyError, TypeError, OSError):
        raise StoreError(f"{path} is damaged; it holds this folder's replica id") from None
    if not isinstance(replica, str) or not REPLICA_PATTERN.match(replica):
        raise StoreError(f"{path} holds no valid replica id")
    return saved


def _write(folder: Path, replica: str, created_at: object = None) -> str:
    record = {"replica": replica, "created_at": created_at or utc_now().isoformat(),
              "folder": folder_identity(folder)}
    write_atomic(folder / REPLICA_FILE, orjson.dumps(record))
    return replica
