"""Target 3 of bench/team_sync_bench.py: git as transport.

A bare remote whose first commit is the team folder that targets 1-2 left (20 reps who
have all synced), one clone per rep. Then an initial pass (every rep runs a git sync
without edits: it merges what it had not merged yet) and ``--git-rounds`` rounds in
which every rep changes ``--git-edits`` of its own records and runs a git sync
(``sync.git.git_sync`` with ``merge_files`` and ``export_to``, as ``dealdeck sync git``
wires them). The size of the remote is ``size-pack`` of ``git count-objects -v`` after
``git gc``; the target is its growth over the rounds.

All 20 stores stay open in one child process (lean, as the app opens them), so a sync
costs what it merges and publishes, not the 10-15 s of opening a team-sized store.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import time
from collections import defaultdict
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from team_sync_common import EDITABLE, edit, in_child, log, mb, median, own_ids, tree_bytes

from store.database import Store


def git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


def pack_size(remote: Path, *, collect: bool) -> dict[str, int]:
    """``git count-objects -v`` of the bare remote (KiB figures made bytes), after ``git gc``."""
    if collect:
        git("-C", str(remote), "gc", "--quiet")
    counts = {}
    for line in git("-C", str(remote), "count-objects", "-v").splitlines():
        key, _, value = line.partition(":")
        counts[key.strip()] = int(value.strip())
    return {"size_pack": counts["size-pack"] * 1024, "loose": counts["size"] * 1024,
            "raw": (counts["size-pack"] + counts["size"]) * 1024}


def pack_by_kind(remote: Path, tip: str, since: str | None = None) -> dict[str, int]:
    """Bytes in the pack (``objectsize:disk``: a delta counts its delta) of the objects
    reachable from ``tip`` (and not from ``since``), by kind of team file."""
    listed = git("-C", str(remote), "rev-list", "--objects", tip, *([f"^{since}"] if since else []))
    lines = [line for line in listed.splitlines() if line]
    checked = subprocess.run(["git", "-C", str(remote), "cat-file", "--batch-check=%(objectsize:disk) %(objecttype)"],
                             input="\n".join(line.split(" ", 1)[0] for line in lines) + "\n", check=True,
                             capture_output=True, text=True).stdout.splitlines()
    sizes: dict[str, int] = defaultdict(int)
    for line, found in zip(lines, checked, strict=True):
        name = line.split(" ", 1)[1].rsplit("/", 1)[-1] if " " in line else ""
        size, kind = found.split()
        sizes[_kind(kind, name)] += int(size)
    return sizes


def _kind(object_type: str, name: str) -> str:
    if object_type in ("commit", "tree"):
        return object_type + "s"
    if name == "manifest.json":
        return "manifests"
    if name.startswith("snapshot-"):
        return "snapshots"
    return "segments" if name.endswith(".json.gz") else "other"


def seed_remote(base: Path, team: Path, reps: int) -> tuple[Path, list[Path]]:
    """A bare remote holding ``team`` as its first commit, and one clone of it per rep."""
    remote = base / "remote.git"
    git("init", "--bare", "--quiet", "--initial-branch=main", str(remote))
    seed = base / "seed"
    git("clone", "--quiet", str(remote), str(seed))
    shutil.copytree(team, seed, dirs_exist_ok=True)
    ident = ("-c", "user.name=bench", "-c", "user.email=bench@example.invalid")
    git("-C", str(seed), "add", "-A")
    git("-C", str(seed), *ident, "commit", "--quiet", "-m", "the team folder as targets 1-2 left it")
    git("-C", str(seed), "push", "--quiet", "origin", "main")
    shutil.rmtree(seed)
    clones = [base / f"clone-{i}" for i in range(reps)]
    for clone in clones:
        git("clone", "--quiet", str(remote), str(clone))
    return remote, clones


class Rep:
    """One rep: its open store, its clone, the records it may edit."""

    def __init__(self, store: Store, clone: Path) -> None:
        self.store, self.clone = store, clone
        self.pool = [(table, rid) for table in EDITABLE for rid in own_ids(store, table)]

    def sync(self, edits: int, seed: int, tag: str) -> dict[str, Any]:
        """``edits`` ``Store.update`` of its own records, then a git sync."""
        from sync.exchange import export_to, merge_files
        from sync.git import git_sync
        from sync.publish import own_paths

        for table, record_id in random.Random(seed).sample(self.pool, edits):
            edit(self.store, table, record_id, tag)
        published: list[Any] = []

        def publish() -> list[Path]:
            published.append(export_to(self.store, self.clone))
            return own_paths(self.clone, self.store.replica_id)

        start = time.perf_counter()
        result = git_sync(self.clone, publish=publish, merge=lambda: merge_files(self.store, [self.clone]),
                          replica=self.store.replica_id, rep=self.store.me)
        seconds = time.perf_counter() - start
        done = published[0] if published else None
        report = result.report
        return {"s": seconds, "committed": result.committed, "pushed": result.pushed,
                "problems": [str(r) for r in report.refused] + list(report.waiting) if report else [],
                "records": done.records if done else 0,
                "snapshot": done.snapshot.stat().st_size if done and done.snapshot else 0}


def rss_gb() -> float:
    """This process's resident memory now (``VmRSS``), in GB."""
    with open("/proc/self/status") as status:
        kb = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    return kb / 1e6


def run_rounds(folders: list[Path], clones: list[Path], remote: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The initial pass and the rounds, every store open the whole time (run in a child)."""
    out: dict[str, Any] = {"syncs": [], "per_round": [], "snapshots": [], "problems": []}
    with ExitStack() as stack:
        start = time.perf_counter()
        reps = [Rep(stack.enter_context(Store(folder)), clone) for folder, clone in zip(folders, clones, strict=True)]
        out["open_s"] = time.perf_counter() - start
        out["rss_gb"] = rss_gb()
        log(f"  {len(reps)} stores open in {out['open_s']:.0f} s, RSS {out['rss_gb']:.1f} GB")
        for round_no in range(args.git_rounds + 1):
            edits = args.git_edits if round_no else 0
            for i, rep in enumerate(reps):
                result = rep.sync(edits, round_no * 1000 + i, f"round {round_no}")
                out["syncs"].append({"round": round_no, "rep": i, **result})
                out["problems"] += result["problems"]
                if result["snapshot"]:
                    out["snapshots"].append({"round": round_no, "rep": i, "bytes": result["snapshot"]})
                    log(f"  round {round_no}: rep {i} wrote a snapshot of {mb(result['snapshot'])} MB")
            last = round_no == args.git_rounds
            collect = round_no == 0 or last or (args.git_gc_every and round_no % args.git_gc_every == 0)
            sizes = pack_size(remote, collect=bool(collect))
            out["per_round"].append({"round": round_no, **sizes, "gc": bool(collect)})
            if round_no == 0:
                out["initial"] = sizes
                out["initial_tip"] = git("-C", str(remote), "rev-parse", "main").strip()
            secs = [s["s"] for s in out["syncs"] if s["round"] == round_no]
            log(f"  round {round_no}: {'size-pack' if collect else 'packs + loose'} "
                f"{mb(sizes['size_pack'] if collect else sizes['raw'])} MB, sync median {median(secs):.2f} s")
    return out


def bench_git(args: argparse.Namespace, base: Path, folders: list[Path], team: Path) -> dict[str, Any]:
    """Target 3 on the reps' data folders and team folder that targets 1-2 left."""
    log(f"target 3: a bare remote seeded with the team folder, {len(folders)} clones")
    base.mkdir(parents=True)
    remote, clones = seed_remote(base, team, len(folders))
    log(f"target 3: initial pass, then {args.git_rounds} rounds of {len(folders)} git syncs "
        f"({args.git_edits} edits each)")
    out = in_child(run_rounds, folders, clones, remote, args)
    out.update(reps=len(folders), rounds=args.git_rounds, edits=args.git_edits)
    out["final"] = out["per_round"][-1]
    out["initial_kinds"] = pack_by_kind(remote, out["initial_tip"])
    out["growth_kinds"] = pack_by_kind(remote, "main", out["initial_tip"])
    out["worktree"] = tree_bytes(clones[0])
    out["commits"] = int(git("-C", str(remote), "rev-list", "--count", "main").strip())
    if not args.keep:
        shutil.rmtree(base)
    return out
