"""Commit-path benchmark: what a bulk write and a single write cost now that every
transaction goes through the journal. Run by hand; see bench/README.md.

    python bench/commit_bench.py [--tree PATH] [--repeat 5] [--what import,merge,write]

``--tree`` runs the command line of another checkout (say ``git worktree add /tmp/old
<commit>``) on the same inputs, to compare before and after pair by pair:

- import: ``dealdeck import csv`` of 5,000 rows into a copy of a 400-lead folder;
- merge: ``dealdeck sync merge`` of 20 teammates' exports of 5,000 leads each into an
  empty replica (the exports of ``bench/sync_bench.py``; make them with the same tree);
- write: one ``Store.new`` on a 50k-lead demo folder, median of 300 (in this process,
  with this tree's code).
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASE = Path("/tmp/dealdeck-commit-bench")
ENV = {**os.environ, "DEALDECK_TODAY": "2026-11-25"}


def dealdeck(tree: Path, *args: str) -> float:
    """Seconds one command-line run of ``tree`` takes, start to exit."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tui.cli", *args], cwd=tree, env={**ENV, "PYTHONPATH": str(tree)},
                   check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def import_inputs(tree: Path) -> tuple[Path, Path]:
    folder, rows = BASE / "leads-400", BASE / "rows-5000.csv"
    if not folder.exists():
        dealdeck(tree, "demo", "--data", str(folder), "--reps", "3", "--leads", "400", "--seed", "11")
    if not rows.exists():
        with rows.open("w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["Name", "Company", "Email", "Phone", "Lead Source"])
            writer.writerows([f"Person {i}", f"Company {i % 700}", f"p{i}@example.com", f"+1 555 {i:07d}",
                              "website"] for i in range(5000))
    return folder, rows


def bench_import(tree: Path, repeat: int) -> list[float]:
    folder, rows = import_inputs(tree)
    times = []
    for _ in range(repeat):
        work = BASE / "import-run"
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(folder, work)
        times.append(dealdeck(tree, "import", "csv", str(rows), "--as", "leads", "--data", str(work)))
    return times


def bench_merge(tree: Path, repeat: int, team: Path) -> list[float]:
    times = []
    for _ in range(repeat):
        work = BASE / "merge-run"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        (work / "config.yaml").write_text("me: rep-a\n")
        times.append(dealdeck(tree, "sync", "merge", str(team), "--data", str(work)))
    return times


def bench_write(repeat: int) -> list[float]:
    from store.database import Store
    from store.models import Lead

    folder = BASE / "demo-50k"
    if not folder.exists():
        dealdeck(ROOT, "demo", "--data", str(folder), "--leads", "50000")
    times = []
    with Store(folder) as store:
        for i in range(repeat):
            start = time.perf_counter()
            store.new(Lead, name=f"bench {i}")
            times.append(time.perf_counter() - start)
    return times


def summary(name: str, times: list[float], unit: float = 1.0, label: str = "s") -> str:
    values = sorted(t * unit for t in times)
    return (f"{name}: median {statistics.median(values):.3f} {label}, min {values[0]:.3f}, "
            f"max {values[-1]:.3f} ({len(values)} runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=ROOT)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--what", default="import,merge,write")
    parser.add_argument("--team", type=Path, default=Path("/tmp/dealdeck-sync-bench/team-20x5000"))
    args = parser.parse_args()
    BASE.mkdir(parents=True, exist_ok=True)
    what = args.what.split(",")
    if "import" in what:
        print(summary(f"import 5,000 rows ({args.tree})", bench_import(args.tree, args.repeat)))
    if "merge" in what:
        print(summary(f"merge {args.team.name} ({args.tree})", bench_merge(args.tree, args.repeat, args.team)))
    if "write" in what:
        print(summary("single write at 50k", bench_write(300), 1000, "ms"))


if __name__ == "__main__":
    main()
