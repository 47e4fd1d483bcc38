"""Shared parts of bench/team_sync_bench.py: demo folders, forked children, sizes, the
timers of a sync's phases, the edits the reps make, and the child tasks of targets 1-2."""

from __future__ import annotations

import functools
import gc
import multiprocessing
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402

from store.database import Store  # noqa: E402
from store.models import Customer, Lead, Opportunity  # noqa: E402
from store.records import STAMPS  # noqa: E402
from store.replica import renew_replica  # noqa: E402
from store.storage import TABLE_GROUPS, DurableStorage, group_file_name  # noqa: E402
from store.tablefile import json_default  # noqa: E402

SOURCE = Path("/tmp/dealdeck-sync-bench")  # demo folders, shared with sync_bench.py
RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEMO_TODAY = "2026-11-25"
START = time.perf_counter()

EDITABLE = {"leads": Lead, "opportunities": Opportunity, "customers": Customer}


def log(message: str) -> None:
    print(f"[{time.perf_counter() - START:7.1f} s] {message}", file=sys.stderr, flush=True)


# --- processes, folders, sizes ----------------------------------------------------------------


def in_child(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in a forked child: every Store gets a fresh heap, and what it leaves
    (garbage, a ``gc.freeze``) goes with the child."""
    with multiprocessing.get_context("fork").Pool(1) as pool:
        return pool.apply(fn, args)


def demo_source(index: int, leads: int) -> Path:
    """``dealdeck demo --reps 3 --leads N --seed 100+index``, as sync_bench.py makes them."""
    folder = SOURCE / f"rep-{index}-{leads}"
    if not (folder / "leads.json").exists():
        log(f"making {folder}")
        subprocess.run([sys.executable, "-m", "tui.cli", "demo", "--data", str(folder), "--reps", "3",
                        "--leads", str(leads), "--seed", str(100 + index)], check=True, cwd=ROOT,
                       env={**os.environ, "DEALDECK_TODAY": DEMO_TODAY}, stdout=subprocess.DEVNULL)
    return folder


def fresh_copy(source: Path, folder: Path) -> None:
    """A work copy of a demo folder (its files, not its backups or sync state), declared
    moved (``dealdeck sync new-replica --moved``) so that it syncs as that replica."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for entry in source.iterdir():
        if entry.is_file() and entry.name not in (".lock", "sync-state.json"):
            shutil.copy2(entry, folder / entry.name)
    renew_replica(folder, moved=True)


def save_copy(folder: Path, saved: Path) -> None:
    if saved.exists():
        shutil.rmtree(saved)
    shutil.copytree(folder, saved)


def restore(saved: Path, folder: Path, *, data: bool = True) -> None:
    """``folder`` as ``saved`` holds it, then written out (``sync``), so that the copy's
    writeback does not land in the timed fsyncs."""
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(saved, folder)
    if data:
        renew_replica(folder, moved=True)
    os.sync()


def state_bytes(folder: Path) -> tuple[int, int]:
    """A replica's full state: its table files, and its journals."""
    tables = sum((folder / group_file_name(group)).stat().st_size for group in TABLE_GROUPS
                 if (folder / group_file_name(group)).exists())
    journals = sum(path.stat().st_size for path in folder.glob("journal*"))
    return tables, journals


def tree_bytes(path: Path) -> dict[str, int]:
    """Bytes of the files under ``path`` (no ``.git``), by kind of team file."""
    sizes: dict[str, int] = defaultdict(int)
    for base, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            size = os.stat(os.path.join(base, name)).st_size
            kind = ("manifests" if name == "manifest.json" else "snapshots" if name.startswith("snapshot-")
                    else "segments" if name.endswith(".json.gz") else "other")
            sizes[kind] += size
            sizes["files"] += 1
    sizes["total"] = sum(v for k, v in sizes.items() if k != "files")
    return sizes


def mb(n: float) -> str:
    return f"{n / 1e6:,.1f}"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# --- timing the parts of a sync (monkeypatched in the child only) -----------------------------

#: sync.exchange's globals, timed: the phase each belongs to
EXCHANGE_PHASES = {
    "export_to": "publish",
    "_gather": "read+check",
    "overlays": "merge", "_merge_source": "merge",
    "double_follow_ups": "report", "records_needing_a_look": "report",
    "merge_changes": "undo", "keep_for_undo": "undo", "confirm_undo": "undo", "forget_undo": "undo",
    "_record": "state",
}
STORAGE_PHASES = {"_append_to_journal": "journal", "compact": "fold"}
PHASE_ORDER = ["read+check", "merge", "report", "undo", "journal", "fold", "state", "other", "publish", "gc"]


class Timers:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.read: list[str] = []
        #: time in Python's cyclic garbage collector (``gc.callbacks``), whatever phase it interrupts
        self.gc_seconds = 0.0
        self._gc_start = 0.0

    def _collecting(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            self.gc_seconds += time.perf_counter() - self._gc_start

    def wrap(self, owner: Any, name: str, phase: str) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[phase] += time.perf_counter() - start

        setattr(owner, name, timed)

    def install(self) -> Timers:
        import sync.exchange
        import sync.team

        for name, phase in EXCHANGE_PHASES.items():
            self.wrap(sync.exchange, name, phase)
        for name, phase in STORAGE_PHASES.items():
            self.wrap(DurableStorage, name, phase)
        for name in ("read_segment", "read_snapshot"):
            original = getattr(sync.team, name)

            def noted(path: Path, *args: Any, _original: Any = original) -> Any:
                self.read.append(str(path))
                return _original(path, *args)

            setattr(sync.team, name, noted)
        gc.callbacks.append(self._collecting)
        return self

    def phases(self, total: float, gc_seconds: float) -> dict[str, float]:
        """Seconds by phase of a sync that took ``total``; "other" is what no phase holds;
        "gc" the collector's share of all of them."""
        out = {p: self.seconds.get(p, 0.0) for p in PHASE_ORDER if p not in ("other", "gc")}
        out["other"] = max(0.0, total - sum(out.values()))
        out["gc"] = gc_seconds
        return out


# --- child tasks (run through in_child) -------------------------------------------------------


def task_publish(folder: str, team: str) -> dict[str, Any]:
    from sync.exchange import export_to

    with Store(folder) as store:
        start = time.perf_counter()
        published = export_to(store, Path(team))
        seconds = time.perf_counter() - start
    return {"s": seconds, "records": published.records,
            "segment": published.segment.stat().st_size if published.segment else 0}


def task_merge(folder: str, team: str) -> dict[str, Any]:
    """Open the store (lean, as the app), then time ``merge_files`` (no freeze, as the app)."""
    from sync.exchange import merge_files

    timers = Timers().install()
    with Store(folder) as store:
        records_before = sum(len(store.storage.tables[t]) for t in store.storage.tables)
        gc.collect()
        start, cpu, collected = time.perf_counter(), time.process_time(), timers.gc_seconds
        report = merge_files(store, [Path(team)])
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        collected = timers.gc_seconds - collected
        records_after = sum(len(store.storage.tables[t]) for t in store.storage.tables)
    return {"s": seconds, "cpu": cpu, "phases": timers.phases(seconds, collected), "read": timers.read,
            "refused": [str(r) for r in report.refused],
            "waiting": report.waiting, "records_before": records_before, "records_after": records_after,
            "teammates": len({f.replica for f in report.files})}


def task_sync(folder: str, team: str, me: str | None = None) -> dict[str, Any]:
    """Open the store, then time ``sync_folder`` (merge, then publish)."""
    from sync.exchange import sync_folder

    timers = Timers().install()
    with Store(folder, me=me) as store:
        leads_before = len(store.storage.tables["leads"])
        gc.collect()
        start, cpu, collected = time.perf_counter(), time.process_time(), timers.gc_seconds
        report, published = sync_folder(store, Path(team))
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        collected = timers.gc_seconds - collected
        leads_after = len(store.storage.tables["leads"])
    return {"s": seconds, "cpu": cpu, "phases": timers.phases(seconds, collected), "read": timers.read,
            "refused": [str(r) for r in report.refused], "waiting": report.waiting,
            "published": published.records, "snapshot": bool(published.snapshot),
            "leads_before": leads_before, "leads_after": leads_after,
            "teammates": len({f.replica for f in report.files})}


def own_ids(store: Store, table: str) -> list[str]:
    """Records this replica created (its ``"*"`` stamp)."""
    rid = store.replica_id
    return sorted(k for k, doc in store.storage.tables[table].items() if doc[STAMPS].get("*", "").endswith(rid))


def edit(store: Store, table: str, record_id: str, tag: str) -> tuple[int, int]:
    """One ``Store.update`` of a few fields; the changed record's stored document in JSON
    (bytes), and the JSON of only what changed (the fields stamped by this edit, their stamps)."""
    before = store.storage.tables[table][record_id]
    if table == "leads":
        store.update(Lead, record_id, notes=f"Called back ({tag}): wants a revised offer.",
                     score=(int(before.get("score", 0)) + 7) % 101)
    elif table == "opportunities":
        store.update(Opportunity, record_id, next_step=f"Send the revised quote ({tag})",
                     notes=f"Procurement asked for net 60 ({tag}).")
    else:
        store.update(Customer, record_id, notes=f"Quarterly check-in done ({tag}).")
    after = store.storage.tables[table][record_id]
    whole = len(orjson.dumps(after, default=json_default))
    stamped = {k: v for k, v in after[STAMPS].items() if before[STAMPS].get(k) != v}
    delta = {"id": record_id, **{k: after[k] for k in stamped if k in after}, STAMPS: stamped}
    return whole, len(orjson.dumps(delta, default=json_default))


def task_edit_and_publish(folder: str, team: str, fraction: float, seed: int) -> dict[str, Any]:
    """Edit ``fraction`` of this replica's own leads, opportunities and customers, then publish."""
    from sync.exchange import export_to

    rng = random.Random(seed)
    out: dict[str, Any] = {"edited": {}, "whole": 0, "delta": 0}
    with Store(folder) as store:
        for table in EDITABLE:
            own = own_ids(store, table)
            chosen = rng.sample(own, max(1, round(len(own) * fraction)))
            for record_id in chosen:
                whole, delta = edit(store, table, record_id, "round 2")
                out["whole"] += whole
                out["delta"] += delta
            out["edited"][table] = len(chosen)
        published = export_to(store, Path(team))
    out["segment"] = published.segment.stat().st_size if published.segment else 0
    out["segment_path"] = str(published.segment)
    out["records"] = published.records
    return out


def task_process_merge(folder: str, team: str) -> float:
    """The whole ``dealdeck sync merge`` process (imports, open, merge, close)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tui.cli", "sync", "merge", team, "--data", folder], check=True,
                   cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


