"""The report of bench/team_sync_bench.py: one Markdown text, figures as ratios."""

from __future__ import annotations

import argparse
import os
import platform
from datetime import datetime
from typing import Any

import orjson
from team_sync_common import PHASE_ORDER, mb, median, ms
from team_sync_git import git

from store.storage import TABLE_GROUPS, group_file_name


def listed(runs: list[dict[str, Any]], digits: int) -> str:
    return ", ".join(f"{run['s']:.{digits}f}" for run in runs)


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


def phase_row(label: str, runs: list[dict[str, Any]], total_key: str = "s") -> str:
    cells = [f"{ms(median([r['phases'][p] for r in runs]))}" for p in PHASE_ORDER]
    return f"| {label} | {ms(median([r[total_key] for r in runs]))} | " + " | ".join(cells) + " |"


PHASE_HEADER = ("| sync | total | " + " | ".join(PHASE_ORDER) + " |\n|---|" + "---:|" * (len(PHASE_ORDER) + 1))
PHASE_NOTE = ("Phases (ms, medians): read+check = `sync.exchange._gather` (manifests, segment files read, sha256, "
              "gunzip, body checks); merge = `overlays` + `_merge_source` (field merge, change description); "
              "report = `double_follow_ups` + `records_needing_a_look`; undo = `merge_changes` + "
              "`keep_for_undo` (+ confirm/forget); journal = `DurableStorage._append_to_journal` (write + fsync); "
              "fold = `DurableStorage.compact` (the journal folded into the table files); state = `_record` "
              "(sync-state.json); publish = `export_to`; other = the rest (`load_state`, lock, catch-up, "
              "`txn.put`s, the clock); gc = time in Python's cyclic collector (`gc.callbacks`), already counted "
              "in whichever phase it interrupted.")


def report_team(r: dict[str, Any]) -> list[str]:
    chosen_tables, chosen_journals = r["states"][0]
    chosen_state = chosen_tables + chosen_journals
    totals = [t + j for t, j in r["states"]]
    team = r["team"]
    ratio = team["total"] / chosen_tables  # the journals (the merge's, kept for undo) would flatter it
    out = [
        "## 1. Team folder size",
        "",
        f"{r['reps']} reps, each a `dealdeck demo --reps 3 --leads {r['leads']:,}` folder (seeds 100-"
        f"{99 + r['reps']}; {median(r['first_records']):,.0f} records each: leads, opportunities, customers, "
        "contacts, activities, tasks, tickets, surveys). Each publishes (`export_to`); then rep 0 merges the "
        "team folder (`merge_files`, the timed first full merge) and publishes, and every other rep syncs "
        "(`sync_folder`: merge, then publish, which writes what it merged into its manifest). "
        "One replica's state = its table files "
        f"(`{'`, `'.join(group_file_name(g) for g in TABLE_GROUPS)}`), measured on the chosen rep "
        "(rep 0) once everyone synced; its `journal*` files (the last merge's, kept for undo) are shown but "
        "not counted, as they would flatter the ratio.",
        "",
        "| reps | records in one replica | team folder MB (files) | segments / manifests / snapshots MB "
        "| one replica's tables MB (+ journals) | ratio | ratio to tables + journals | target |",
        "|---:|---:|---:|---:|---:|---:|---:|---|",
        f"| {r['reps']} | {r['records_in_replica']:,} | {mb(team['total'])} ({team['files']}) | "
        f"{mb(team['segments'])} / {mb(team['manifests'])} / {mb(team['snapshots'])} | "
        f"{mb(chosen_tables)} (+ {mb(chosen_journals)}) | **{ratio:.2f}x** | "
        f"{team['total'] / chosen_state:.2f}x | <= 1.5x: {verdict(ratio <= 1.5)} |",
        "",
        f"- All {r['reps']} replicas' states: {mb(min(totals))}-{mb(max(totals))} MB; a first segment is "
        f"{mb(min(r['first_segments']))}-{mb(max(r['first_segments']))} MB gzip "
        f"({median(r['first_publish_s']):.2f} s median to publish, store open).",
        f"- Syncs of the other reps (merging everyone's first segments, then publishing; in-process, store "
        f"open): median {median(r['others_full_s']):.1f} s (min {min(r['others_full_s'], default=0):.1f}, "
        f"max {max(r['others_full_s'], default=0):.1f}).",
    ]
    if r["problems"]:
        out.append(f"- Refused or waiting: {r['problems'][:5]}")
    return out


def report_round(r: dict[str, Any]) -> list[str]:
    full, small = r["full"], r["small"]
    full_s, small_s = median([x["s"] for x in full]), median([x["s"] for x in small])
    time_ratio = small_s / full_s
    bytes_ratio = r["read_gz"] / r["changed_whole"]
    raw_ratio = r["read_raw"] / r["changed_whole"]
    by_table = ", ".join(f"{n:,} {t}" for t, n in r["changed_by_table"].items())
    proc_full, proc_small = median(r["full_process_s"]), median(r["small_process_s"])
    out = [
        "## 2. A round in which 1% of the records changed",
        "",
        f"Each rep edits {r['fraction'] * 100:g}% of its own leads, opportunities and customers (those its replica "
        "created), one `Store.update` each (leads: notes, score; opportunities: next step, notes; customers: "
        "notes; every update also sets `updated_at`), and publishes. Then rep 0 merges: it reads the "
        f"{r['reps'] - 1} teammates' new segments.",
        "",
        "**Changed bytes**, as defined here: the JSON (`orjson`) of the changed records' whole stored "
        "documents after the edit, stamps included, summed over the records the merge brings in "
        f"({r['changed_records']:,}: {by_table}). For information, the JSON of only what each "
        "edit stamped (id, the changed fields, their stamps) is given too.",
        "",
        "| records changed | changed bytes: whole documents | only changed fields | segment files read "
        "| bytes read, gzip (on disk) | unpacked | read / changed, gzip | unpacked | target |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        f"| {r['changed_records']:,} ({r['segment_records']:,} in the segments) | {r['changed_whole']:,} | "
        f"{r['changed_delta']:,} | {r['read_files']} | {r['read_gz']:,} | {r['read_raw']:,} | "
        f"**{bytes_ratio:.2f}x** | {raw_ratio:.2f}x | <= 3x: {verdict(bytes_ratio <= 3)} "
        f"(unpacked: {verdict(raw_ratio <= 3).strip('*')}) |",
        "",
        f"Against only the changed fields: {r['read_gz'] / r['changed_delta']:.2f}x gzip, "
        f"{r['read_raw'] / r['changed_delta']:.2f}x unpacked (a segment carries the record's grow-only lists, "
        "e.g. a lead's whole history, with every edit).",
        "",
        "**Merge time**, in-process with the store already open (`Store(folder)`, lean as in the app; "
        "`merge_files(store, [team])` without freeze, as the app's `s`), each run in a fresh process on a "
        f"copy of the folder as it was before the merge; medians of {len(full)} (first full merge) and "
        f"{len(small)} (round 2) runs. The whole `dealdeck sync merge` process (imports, open with "
        "`lean=False`, merge with `freeze=True`, close), for information.",
        "",
        "| merge | in-process s (runs) | cpu s | records before -> after | whole `sync merge` process s |",
        "|---|---:|---:|---:|---:|",
        f"| first full merge: {r['reps'] - 1} teammates' first segments | {full_s:.2f} "
        f"({listed(full, 2)}) | {median([x['cpu'] for x in full]):.2f} | {full[0]['records_before']:,} -> "
        f"{full[0]['records_after']:,} | {proc_full:.2f} |",
        f"| round 2: {r['reps'] - 1} segments of ~1% | {small_s:.3f} "
        f"({listed(small, 3)}) | {median([x['cpu'] for x in small]):.3f} | {small[0]['records_before']:,} -> "
        f"{small[0]['records_after']:,} | {proc_small:.2f} |",
        f"| **ratio** | **{time_ratio:.1%}** (target <= 5%: {verdict(time_ratio <= 0.05)}) | "
        f"{median([x['cpu'] for x in small]) / median([x['cpu'] for x in full]):.1%} | | "
        f"{proc_small / proc_full:.1%} |",
        "",
        PHASE_HEADER,
        phase_row("first full merge", full),
        phase_row("round-2 merge", small),
        "",
        PHASE_NOTE,
    ]
    return out


def report_git(r: dict[str, Any]) -> list[str]:
    growth = r["final"]["size_pack"] - r["initial"]["size_pack"]
    rounds = r["rounds"]
    per_sync = [s["s"] for s in r["syncs"] if s["round"] > 0]
    initial_syncs = [s["s"] for s in r["syncs"] if s["round"] == 0]
    full_target = rounds >= 30
    out = [
        "## 3. git as transport",
        "",
        f"A bare remote whose first commit is the team folder targets 1-2 left, and {r['reps']} clones; the "
        f"reps' data folders as targets 1-2 left them (everyone merged). All {r['reps']} stores open in one "
        f"process (`Store(folder)`, lean as the app; opened in {r['open_s']:.0f} s). Initial pass: every rep runs "
        f"a git sync without edits (merging the 1% round). Then {rounds} round(s): each rep changes "
        f"{r['edits']} of its own records (random among its leads, opportunities and customers; one "
        "`Store.update` each) and runs a git sync: `sync.git.git_sync` with `merge_files` and `export_to`, as "
        "`dealdeck sync git` wires them. Size = `size-pack` of `git count-objects -v` in the bare remote after "
        "`git gc`.",
        "",
        "| reps | rounds | edits a rep a round | size-pack after the initial pass MB | after the last round MB "
        "| growth MB | target | commits | snapshots written | sync s (median, rounds) |",
        "|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|",
        f"| {r['reps']} | {rounds} | {r['edits']} | {mb(r['initial']['size_pack'])} | "
        f"{mb(r['final']['size_pack'])} | **{mb(growth)}** | <= 20 MB over 30 rounds: "
        f"{verdict(growth <= 20e6) if full_target else 'not judged (fewer than 30 rounds)'} | {r['commits']} | "
        f"{len(r['snapshots'])} | {median(per_sync):.2f} |",
        "",
        f"- Initial pass syncs: median {median(initial_syncs):.2f} s, max {max(initial_syncs, default=0):.2f} s.",
        f"- A clone's work tree at the end: {mb(r['worktree']['total'])} MB ({r['worktree']['files']} files: "
        f"segments {mb(r['worktree']['segments'])}, manifests {mb(r['worktree']['manifests'])}, snapshots "
        f"{mb(r['worktree']['snapshots'])} MB).",
    ]
    kinds = ("segments", "manifests", "snapshots", "trees", "commits")
    out += ["", "What the pack holds, by kind of object (MB in the pack after `git gc`; a delta counts its delta):",
            "", "| objects | " + " | ".join(kinds) + " |", "|---|" + "---:|" * len(kinds),
            "| up to the initial pass | " + " | ".join(f"{r['initial_kinds'].get(k, 0) / 1e6:.2f}" for k in kinds)
            + " |",
            f"| added in rounds 1-{rounds} | "
            + " | ".join(f"{r['growth_kinds'].get(k, 0) / 1e6:.2f}" for k in kinds) + " |",
            ""]
    for snap in r["snapshots"]:
        out.append(f"- Round {snap['round']}: rep {snap['rep']} wrote a snapshot of {mb(snap['bytes'])} MB.")
    out += ["", "| round | bare remote MB | after `git gc`? |", "|---:|---:|---|"]
    for row in r["per_round"]:
        size = row["size_pack"] if row["gc"] else row["raw"]
        out.append(f"| {row['round']} | {mb(size)} | {'yes (size-pack)' if row['gc'] else 'no (packs + loose)'} |")
    if r["problems"]:
        out.append(f"\nRefused or waiting: {r['problems'][:5]}")
    return out


def report_many(r: dict[str, Any]) -> list[str]:
    runs = r["runs"]
    total = median([x["s"] for x in runs])
    first = runs[0]
    merged = (r["reps"] - 1) * r["changes"]
    out = [
        "## 4. 200 reps",
        "",
        f"{r['reps']} small data folders, each a real `Store` with its own replica id and rep "
        f"(`rep000`...): each creates {r['leads']} leads (one commit) and publishes; then rep 0 syncs "
        "(`sync_folder`: it merges everyone's first segments and publishes what it merged), and each teammate's "
        "`sync-state.json` is written (`sync.state.save_state`) as that merge would leave it (applied: segment 1 "
        "of every replica; seen: its newest stamp), so that its next segment and manifest name every replica "
        "in `deps`, `applied` and `seen` as a real one would (their own 199 merges of the same 20k leads are "
        "not run: they would be most of the build); then each rep changes "
        f"{r['changes']} records ({r['changes'] // 2} edits of its own "
        f"leads, {r['changes'] - r['changes'] // 2} new leads, one commit each) and publishes. Rep 0 makes its "
        f"own {r['changes']} changes without publishing, then syncs (merge + publish): its database holds "
        f"{first['leads_before']:,} leads before ({r['reps']} reps x {r['leads']} + its own new ones) and "
        f"{first['leads_after']:,} after; the merge reads {len(first['read'])} segments "
        f"({merged:,} changed records: {merged // 2:,} partial documents, {merged - merged // 2:,} new leads) and "
        f"{r['reps']} manifests; the team folder holds {r['team_before']['files']:,} files, "
        f"{mb(r['team_before']['total'])} MB. Store opened first (lean, as in the app), then `sync_folder` timed "
        f"in-process; each run in a fresh process on restored copies; median of {len(runs)}. "
        f"Building it took {r['build_s']:.0f} s.",
        "",
        "| reps | changes merged | sync s (runs) | cpu s | target |",
        "|---:|---:|---:|---:|---|",
        f"| {r['reps']} | {merged:,} | **{total:.2f}** ({listed(runs, 2)}) | {median([x['cpu'] for x in runs]):.2f} | "
        f"< 2 s: {verdict(total < 2)} |",
        "",
        PHASE_HEADER,
        phase_row("rep 0's sync", runs),
        "",
        PHASE_NOTE,
    ]
    if r["problems"]:
        out.append(f"\nRefused or waiting: {r['problems'][:5]}")
    return out


def report(results: dict[str, Any], args: argparse.Namespace, elapsed: float) -> str:
    cpu = "?"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    out = [
        f"# Team sync benchmark, {datetime.now().strftime('%Y-%m-%d %H:%M')}",
        "",
        f"- machine: {os.cpu_count()} cores ({cpu}), {platform.platform()}; Python {platform.python_version()}, "
        f"orjson {orjson.__version__}, git {git('--version').split()[-1]}",
        f"- targets {args.targets}; reps {args.reps} x {args.leads:,} leads; repeat {args.repeat} (full merge), "
        f"{args.repeat_small} (small merges, syncs); git rounds {args.git_rounds}; whole run {elapsed / 60:.1f} min",
        "- warm page cache; every store operation in a forked child process; times with `time.perf_counter` "
        "(wall; cpu = `time.process_time` of the same span, less moved by other load on the machine)",
        "",
    ]
    if "team" in results:
        out += [*report_team(results["team"]), "", *report_round(results["team"]), ""]
    if "git" in results:
        out += [*report_git(results["git"]), ""]
    if "many" in results:
        out += [*report_many(results["many"]), ""]
    return "\n".join(out)


