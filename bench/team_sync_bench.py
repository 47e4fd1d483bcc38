"""Team sync benchmark: the team folder of per-replica segments (``sync.publish``,
``sync.team``), measured against the four targets of issue 16, as ratios, in one run.
Run by hand; see bench/README.md ("team_sync_bench.py").

    python bench/team_sync_bench.py                 # all four targets (~35 min on 2 cores)
    python bench/team_sync_bench.py --targets 4     # one target (1 and 2 run together)
    python bench/team_sync_bench.py --git-rounds 5  # a quicker look at git

1. **Team folder size**: 20 reps x 5,000 demo leads (with the demo's opportunities,
   customers, activities ...) each publish, then each merges the team folder, then each
   syncs again (merge + publish). Team folder bytes against one replica's full state.
   Target <= 1.5x.
2. **A 1% round**: each rep edits ~1% of its own leads, opportunities and customers and
   publishes; rep 0 merges. Bytes of the segment files its merge read against the JSON
   of the changed records (target <= 3x); the time of its merge against its first full
   merge (target <= 5%).
3. **git as transport** (``team_sync_git.py``): a bare remote seeded with that team
   folder, one clone per rep, all 20 stores open in one process; ``--git-rounds``
   rounds in which each rep changes ``--git-edits`` of its own records and runs a git
   sync. Growth of ``size-pack`` after ``git gc``; target <= 20 MB over 30 rounds.
4. **200 reps** (``team_sync_many.py``): 200 small real stores publish; rep 0 syncs
   after each of them made 200 changes. Target under 2 s.

Store work of targets 1, 2 and 4 runs in forked child processes (a fresh heap each);
what is timed is timed inside them with ``time.perf_counter``. Demo folders are made once
under /tmp/dealdeck-sync-bench/ (shared with sync_bench.py, same seeds) and copied; the
work folder (``--work``, ~15 GB at its largest) is deleted at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from team_sync_common import (
    EDITABLE,
    RESULTS_DIR,
    START,
    demo_source,
    fresh_copy,
    in_child,
    log,
    restore,
    save_copy,
    state_bytes,
    task_edit_and_publish,
    task_merge,
    task_process_merge,
    task_publish,
    task_sync,
    tree_bytes,
)
from team_sync_git import bench_git
from team_sync_many import bench_many
from team_sync_report import report

# --- targets 1 and 2: a shared team folder ---------------------------------------------------


def bench_team_folder(args: argparse.Namespace, base: Path) -> dict[str, Any]:
    """Targets 1 and 2; leaves the reps' folders (``base/rep-N``) and ``base/team`` for git."""
    reps, chosen = args.reps, 0
    team = base / "team"
    folders = rep_folders(base, reps)
    team.mkdir(parents=True)
    sources = [demo_source(i, args.leads) for i in range(reps)]
    for source, folder in zip(sources, folders, strict=True):
        fresh_copy(source, folder)
    out: dict[str, Any] = {"reps": reps, "leads": args.leads}

    log(f"target 1: {reps} reps publish their first segment")
    first = [in_child(task_publish, str(f), str(team)) for f in folders]
    out["first_segments"] = [r["segment"] for r in first]
    out["first_records"] = [r["records"] for r in first]
    out["first_publish_s"] = [r["s"] for r in first]

    log("target 1: each rep merges the team folder (the chosen rep first, repeated)")
    saved_full = base / "saved-before-full-merge"
    save_copy(folders[chosen], saved_full)
    restore(saved_full, folders[chosen])
    out["full_process_s"] = [in_child(task_process_merge, str(folders[chosen]), str(team))
                             for _ in range(args.process_repeat)]
    full = []
    for run in range(args.repeat):
        restore(saved_full, folders[chosen])
        full.append(in_child(task_merge, str(folders[chosen]), str(team)))
        log(f"  first full merge, run {run + 1}: {full[-1]['s']:.2f} s")
    out["full"] = full
    log("target 1: rep 0 publishes what it merged; each other rep syncs (merge + publish)")
    in_child(task_publish, str(folders[chosen]), str(team))
    others = []
    for i, folder in enumerate(folders):
        if i != chosen:
            others.append(in_child(task_sync, str(folder), str(team)))
            log(f"  rep {i} merged {others[-1]['teammates']} teammates and published in {others[-1]['s']:.1f} s")
    out["others_full_s"] = [r["s"] for r in others]
    out["problems"] = [p for r in [*full, *others] for p in (*r["refused"], *r["waiting"])]
    out["team"] = tree_bytes(team)
    out["states"] = [state_bytes(f) for f in folders]
    out["records_in_replica"] = full[-1]["records_after"]

    log("target 2: each rep edits ~1% of its own leads, opportunities, customers and publishes")
    rounds = [in_child(task_edit_and_publish, str(f), str(team), args.fraction, 1000 + i)
              for i, f in enumerate(folders)]
    out["round2"] = rounds
    saved_small = base / "saved-before-round-2-merge"
    save_copy(folders[chosen], saved_small)
    small = []
    for run in range(args.repeat_small):
        restore(saved_small, folders[chosen])
        small.append(in_child(task_merge, str(folders[chosen]), str(team)))
        log(f"  round-2 merge, run {run + 1}: {small[-1]['s'] * 1000:.0f} ms")
    out["small"] = small
    out["problems"] += [p for r in small for p in (*r["refused"], *r["waiting"])]
    out["small_process_s"] = []
    for _ in range(args.process_repeat):
        restore(saved_small, folders[chosen])
        out["small_process_s"].append(in_child(task_process_merge, str(folders[chosen]), str(team)))
    read = [Path(p) for p in small[0]["read"]]
    out["read_files"] = len(read)
    out["read_gz"] = sum(p.stat().st_size for p in read)
    out["read_raw"] = sum(len(gzip.decompress(p.read_bytes())) for p in read)
    merged_rounds = [r for i, r in enumerate(rounds) if i != chosen]
    out["changed_whole"] = sum(r["whole"] for r in merged_rounds)
    out["changed_delta"] = sum(r["delta"] for r in merged_rounds)
    out["changed_records"] = sum(sum(r["edited"].values()) for r in merged_rounds)
    out["changed_by_table"] = {t: sum(r["edited"][t] for r in merged_rounds) for t in EDITABLE}
    out["segment_records"] = sum(r["records"] for r in merged_rounds)
    for saved in (saved_full, saved_small):
        shutil.rmtree(saved)
    return out


def rep_folders(base: Path, reps: int) -> list[Path]:
    return [base / f"rep-{i}" for i in range(reps)]



def results_path() -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stem = f"team-sync-{date.today().isoformat()}"
    path = RESULTS_DIR / f"{stem}.md"
    k = 2
    while path.exists():
        path = RESULTS_DIR / f"{stem}-{k}.md"
        k += 1
    return path


@contextmanager
def work_folder(path: Path, keep: bool) -> Iterator[Path]:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    try:
        yield path
    finally:
        if not keep:
            shutil.rmtree(path, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Team sync (segments, team folder, git) against the issue's targets.")
    parser.add_argument("--targets", default="1,2,3,4", help="which targets (1 and 2 run together; default all)")
    parser.add_argument("--reps", type=int, default=20, help="reps for targets 1-3 (default 20)")
    parser.add_argument("--leads", type=int, default=5000, help="demo leads a rep (default 5000)")
    parser.add_argument("--fraction", type=float, default=0.01, help="share of own records edited (default 0.01)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of the first full merge (default 2)")
    parser.add_argument("--repeat-small", type=int, default=5, help="runs of the small merge and the 200-rep sync")
    parser.add_argument("--process-repeat", type=int, default=1, help="runs of the whole `sync merge` process")
    parser.add_argument("--git-rounds", type=int, default=30, help="git rounds after the initial pass (default 30)")
    parser.add_argument("--git-edits", type=int, default=100, help="records a rep changes a git round (default 100)")
    parser.add_argument("--git-gc-every", type=int, default=10, help="`git gc` every N rounds too (0: at the end)")
    parser.add_argument("--many-reps", type=int, default=200)
    parser.add_argument("--many-leads", type=int, default=100, help="leads each of the many reps starts with")
    parser.add_argument("--many-changes", type=int, default=200, help="records each of the many reps changes")
    parser.add_argument("--work", type=Path, default=Path("/tmp/dealdeck-team-sync-bench"))
    parser.add_argument("--keep", action="store_true", help="keep the work folders")
    parser.add_argument("--no-save", action="store_true", help="print only, do not write bench/results/")
    args = parser.parse_args(argv)
    targets = {t.strip() for t in args.targets.split(",")}
    results: dict[str, Any] = {}
    failed: list[str] = []

    def attempt(key: str, run: Any, *run_args: Any) -> None:
        try:
            results[key] = {**run(args, *run_args), "fraction": args.fraction}
        except Exception as error:  # the other targets' figures are still reported
            log(f"{key}: failed: {error!r}")
            failed.append(f"{key}: {error!r}")
            return
        log("so far:\n" + report(results, args, time.perf_counter() - START))

    with work_folder(args.work, args.keep) as work:
        if "4" in targets:
            attempt("many", bench_many, work)
        if targets & {"1", "2", "3"}:
            base = work / "folder"
            base.mkdir()
            attempt("team", bench_team_folder, base)  # target 3 starts from what it leaves
            if "3" in targets and "team" in results:
                attempt("git", bench_git, work / "git", rep_folders(base, args.reps), base / "team")
            if not args.keep:
                shutil.rmtree(base)
    text = report(results, args, time.perf_counter() - START) + "".join(f"\nFAILED {f}\n" for f in failed)
    print(text)
    if not args.no_save:
        path = results_path()
        path.write_text(text, encoding="utf-8")
        log(f"written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
