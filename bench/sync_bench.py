"""Sync benchmark: merge N teammates' exports of 5,000 leads each (with their
opportunities, customers, contacts, activities ...) into an empty replica, against
parsing the same files with orjson alone. Run by hand; see bench/README.md.

    python bench/sync_bench.py [--teammates 20] [--leads 5000] [--repeat 3]

Teammates' folders are made once under /tmp/dealdeck-sync-bench/ and reused.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
BASE = Path("/tmp/dealdeck-sync-bench")


def teammate_exports(count: int, leads: int) -> Path:
    shared = BASE / f"team-{count}x{leads}"
    if len(list(shared.glob("*.dealdeck.json"))) == count:
        return shared
    shared.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DEALDECK_TODAY": "2026-11-25"}
    for index in range(count):
        folder = BASE / f"rep-{index}-{leads}"
        if not (folder / "leads.json").exists():
            subprocess.run([sys.executable, "-m", "tui.cli", "demo", "--data", str(folder), "--reps", "3",
                            "--leads", str(leads), "--seed", str(100 + index)], check=True, cwd=ROOT, env=env,
                           stdout=subprocess.DEVNULL)
        subprocess.run([sys.executable, "-m", "tui.cli", "sync", "export", str(shared), "--data", str(folder)],
                       check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return shared


def bare_parse(files: list[Path]) -> float:
    gc.collect()
    start = time.perf_counter()
    for path in files:
        header, body = path.read_bytes().split(b"\n", 1)
        orjson.loads(header)
        orjson.loads(body)
    return time.perf_counter() - start


def merge_into_fresh_replica(shared: Path) -> tuple[float, float, int]:
    from store.database import Store
    from sync.exchange import read_all
    from sync.merge import merge_into
    from sync.validate import Limits

    folder = BASE / f"receiver-{time.time_ns()}"
    with Store(folder) as store:
        start = time.perf_counter()
        exports, _, _ = read_all(store, [shared], Limits(), freeze=True)  # as `dealdeck sync merge`
        validated = time.perf_counter() - start
        merged: dict = {}
        for export in exports:
            merge_into(merged, export.records)
        total = time.perf_counter() - start
        records = sum(len(docs) for docs in merged.values())
    return validated, total, records


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--teammates", type=int, default=20)
    parser.add_argument("--leads", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; medians are reported")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    shared = teammate_exports(args.teammates, args.leads)
    files = sorted(shared.glob("*.dealdeck.json"))
    size_mb = sum(p.stat().st_size for p in files) / 2**20
    parses, runs = [], []
    for _ in range(args.repeat):  # interleaved, so both see the machine in the same mood
        parses.append(bare_parse(files))
        runs.append(merge_into_fresh_replica(shared))
    pairs = ", ".join(f"{parse:.2f} / {run[1]:.2f}" for parse, run in zip(parses, runs, strict=True))
    print(f"runs, bare parse / validate + merge s: {pairs}\n")
    parse_s = statistics.median(parses)
    validated_s = statistics.median(run[0] for run in runs)
    total_s = statistics.median(run[1] for run in runs)
    records = runs[0][2]
    print("| teammates | leads each | files MB | records | bare parse s | validate s | validate + merge s | ratio |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {len(files)} | {args.leads:,} | {size_mb:.0f} | {records:,} | {parse_s:.2f} | {validated_s:.2f} "
          f"| {total_s:.2f} | {total_s / parse_s:.1f}x |")
    print("\nTarget (issue 7): within 3x of the bare parse.")


if __name__ == "__main__":
    main()
