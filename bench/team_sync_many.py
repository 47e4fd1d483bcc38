"""Target 4 of bench/team_sync_bench.py: 200 reps, simulated by a script (real stores,
real publishes, so the merge reads them through the same validation path)."""

from __future__ import annotations

import argparse
import random
import shutil
import time
from pathlib import Path
from typing import Any

import orjson
from team_sync_common import edit, in_child, log, own_ids, restore, save_copy, task_sync, tree_bytes

from store.database import Store
from store.models import Lead

FIRST = ["Noah", "Emma", "Liam", "Olivia", "Mateo", "Ava", "Wei", "Mei", "Arjun", "Priya", "Lukas", "Sofia",
         "Kenji", "Yuki", "Omar", "Layla", "Jonas", "Elin", "Diego", "Lucia"]
LAST = ["Walker", "Green", "Okafor", "Schmidt", "Rossi", "Tanaka", "Chen", "Novak", "Silva", "Haddad",
        "Kowalski", "Nielsen", "Moreau", "Patel", "Larsen", "Ortega"]
COMPANY = ["Northwind", "Pioneer", "Blue Harbor", "Summit", "Crescent", "Atlas", "Evergreen", "Ironbridge"]
TRADE = ["Chemicals", "Logistics", "Electronics", "Foods", "Textiles", "Machinery", "Software", "Plastics"]
TITLES = ["CEO", "Plant Manager", "Head of Procurement", "IT Director", "Operations Lead", "Buyer"]
SOURCES = ["trade show", "website", "referral", "cold call", "partner", "social media", "other"]
REGIONS = ["Europe", "North America", "Asia Pacific", "Latin America", "Middle East"]
NOTES = ["Budget is decided next quarter.", "Asked for a demo with the plant team.",
         "Wants references from the same industry.", "Comparing us with two other vendors.", ""]


def lead_fields(rng: random.Random, owner: str) -> dict[str, Any]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    company = f"{rng.choice(COMPANY)} {rng.choice(TRADE)} Ltd"
    domain = company.lower().replace(" ", "").removesuffix("ltd") + ".com"
    return {"owner": owner, "name": f"{first} {last}", "company": company, "title": rng.choice(TITLES),
            "phone": f"+44 20 8{rng.randrange(100, 999)} {rng.randrange(1000, 9999)}",
            "email": f"{first.lower()}.{last.lower()}@{domain}", "source": rng.choice(SOURCES),
            "region": rng.choice(REGIONS), "score": rng.randrange(0, 101),
            "tags": rng.sample(["expo", "priority", "renewal", "pilot", "upsell"], rng.randrange(0, 3)),
            "notes": rng.choice(NOTES)}


def rep_id(i: int) -> str:
    return f"rep{i:03d}"


def many_create(folder: str, team: str, me: str, leads: int, seed: int) -> None:
    from sync.exchange import export_to

    rng = random.Random(seed)
    with Store(folder, me=me) as store:
        with store.writing():
            for _ in range(leads):
                store.new(Lead, **lead_fields(rng, me))
        export_to(store, Path(team))


def many_yesterday(folder: str, team: str, me: str) -> None:
    from sync.exchange import sync_folder

    with Store(folder, me=me) as store:
        sync_folder(store, Path(team))


def many_acknowledge(folder: Path, first: dict[str, str]) -> None:
    """A teammate's sync state as a merge of everyone's first segments leaves it
    (``applied``: segment 1 of each, ``seen``: its newest stamp), through ``sync.state``;
    its next publish names them in the segment's ``deps`` and ``seen`` and in its manifest."""
    from sync.state import load_state, save_state

    state = load_state(folder)
    own = orjson.loads((folder / "replica.json").read_bytes())["replica"]
    for replica, last in first.items():
        if replica != own:
            state.applied[replica] = 1
            state.seen[replica] = last
    save_state(folder, state, merged=True)


def many_day(folder: str, team: str, me: str, changes: int, seed: int, publish: bool) -> int:
    """``changes`` changed records: half of them edits of this rep's own leads, half new leads,
    each its own commit (``Store.update``, ``Store.new``), then a publish."""
    from sync.exchange import export_to

    rng = random.Random(seed)
    with Store(folder, me=me) as store:
        own = own_ids(store, "leads")
        for record_id in rng.sample(own, min(len(own), changes // 2)):
            edit(store, "leads", record_id, "today")
        for _ in range(changes - changes // 2):
            store.new(Lead, **lead_fields(rng, me))
        if publish:
            return export_to(store, Path(team)).records
    return 0


def many_build(folders: list[Path], team: str, args: argparse.Namespace, start: int, step: int) -> None:
    """Each ``step``-th rep from ``start``: its first leads and publish (run in a child)."""
    for i in range(start, len(folders), step):
        many_create(str(folders[i]), team, rep_id(i), args.many_leads, 5000 + i)


def many_sync_each(folders: list[Path], team: str) -> None:
    """Yesterday's sync: rep 0 merges everyone's first segments for real (then publishes
    what it merged); the teammates' merges of the same segments are taken as done."""
    from sync.team import scan

    many_yesterday(str(folders[0]), team, rep_id(0))
    first = {replica: manifest.segments[0].last for replica, manifest in scan(Path(team)).manifests().items()}
    for folder in folders[1:]:
        many_acknowledge(folder, first)


def many_days(folders: list[Path], team: str, args: argparse.Namespace, start: int, step: int) -> None:
    for i in range(start, len(folders), step):
        many_day(str(folders[i]), team, rep_id(i), args.many_changes, 7000 + i, publish=i != 0)


def bench_many(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    base = work / "many"
    team = base / "team"
    team.mkdir(parents=True)
    n = args.many_reps
    folders = [base / f"rep-{i:03d}" for i in range(n)]
    out: dict[str, Any] = {"reps": n, "leads": args.many_leads, "changes": args.many_changes}
    build_start = time.perf_counter()
    log(f"target 4: {n} stores make {args.many_leads} leads each and publish")
    in_child(many_build, folders, str(team), args, 0, 1)
    log("target 4: yesterday, rep 0 merges everyone's first segments; the teammates' sync state says they did")
    in_child(many_sync_each, folders, str(team))
    log(f"target 4: today, each rep changes {args.many_changes} records and publishes (rep 0 does not publish)")
    in_child(many_days, folders, str(team), args, 0, 1)
    out["build_s"] = time.perf_counter() - build_start
    receiver = folders[0]
    replica = orjson.loads((receiver / "replica.json").read_bytes())["replica"]
    saved, saved_own = base / "saved-receiver", base / "saved-receiver-team"
    save_copy(receiver, saved)
    save_copy(team / replica, saved_own)
    out["team_before"] = tree_bytes(team)
    runs = []
    for run in range(args.repeat_small):
        restore(saved, receiver)
        restore(saved_own, team / replica, data=False)
        runs.append(in_child(task_sync, str(receiver), str(team), rep_id(0)))
        log(f"  sync of rep 0, run {run + 1}: {runs[-1]['s'] * 1000:.0f} ms")
    out["runs"] = runs
    out["problems"] = [p for r in runs for p in (*r["refused"], *r["waiting"])]
    if not args.keep:
        shutil.rmtree(base)
    return out


