"""First screen first (issue 19): how soon the lead list is painted, how soon every table
is in, peak memory, a customer's timeline and a filter keystroke, as ratios to the bare
parse of the same files in the same process. Run by hand; see bench/README.md.

    python bench/first_screen_bench.py [--sizes 1000,10000,50000,200000] [--repeat 3]

Each size runs in fresh processes (start-up is what a user sees), ``--repeat`` times; the
medians are printed. Demo folders are made once under /tmp/dealdeck-bench-<size> and
reused; a folder from before the activity log is moved to it by a first open, before
anything is timed. The machine's load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TODAY = "2026-11-25"
TABLE_FILES = ("leads.json", "pipeline.json", "customers.json", "tasks.json", "service.json", "team.json",
               "activities.jsonl", "activities.json")


def ensure_demo(size: int) -> Path:
    folder = Path(f"/tmp/dealdeck-bench-{size}")
    if not (folder / "leads.json").exists():
        subprocess.run([sys.executable, "-m", "tui.cli", "demo", "--data", str(folder), "--reps", "10",
                        "--leads", str(size)], check=True, cwd=ROOT, env={**os.environ, "DEALDECK_TODAY": TODAY},
                       stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-c", "import sys; from store.database import Store; Store(sys.argv[1]).close()",
                    str(folder)], check=True, cwd=ROOT)  # an old folder moves to the log here, untimed
    return folder


def bare_parse(folder: Path, names: tuple[str, ...]) -> float:
    """Read and ``orjson.loads`` each line of the files, the collector off: the least any
    reader does."""
    import gc

    import orjson

    gc.disable()
    start = time.perf_counter()
    for name in names:
        path = folder / name
        if path.exists():
            with path.open("rb") as lines:
                parsed = [orjson.loads(line) for line in lines]
            del parsed
    took = time.perf_counter() - start
    gc.enable()
    return took


def measure_bare(folder: Path) -> dict[str, float]:
    """In a child of its own: the bare parses (in the app's process, their peak of
    memory would be the app's)."""
    return {"bare_leads_s": bare_parse(folder, ("leads.json",)), "bare_all_s": bare_parse(folder, TABLE_FILES)}


def measure(folder: Path) -> dict[str, float]:
    """In the child: the app started as ``dealdeck`` starts it."""
    import asyncio
    import resource

    result: dict[str, float] = {}

    from store.database import Store
    from store.models import Customer
    from store.storage import DurableStorage
    from tui.app import DealdeckApp
    from tui.loading import ALL_TABLES, FIRST_TABLES
    from tui.screens.customer import CustomerScreen
    from tui.tabs.customers import CustomersTab
    from tui.tabs.leads import LeadsTab
    from tui.tabs.review import ReviewTab
    from tui.widgets.table import VirtualTable

    painted: list[float] = []
    paint_line = VirtualTable.render_line
    loading = [0.0]  # time spent reading tables after the open (the steps between frames, pooling too)

    def timed(steps: Any) -> Any:
        """A storage's step generator whose every step's time is added to ``loading``."""
        def run_timed(*args: Any) -> Any:
            stepping = steps(*args)
            while True:
                began = time.perf_counter()
                try:
                    next(stepping)
                except StopIteration:
                    return
                finally:
                    loading[0] += time.perf_counter() - began
                yield
        return run_timed

    DurableStorage.load_steps = timed(DurableStorage.load_steps)  # type: ignore[method-assign]

    def spy(table: VirtualTable, y: int) -> object:
        if not painted and table.id == "lead-table" and table.rows:
            painted.append(time.perf_counter())
        return paint_line(table, y)

    VirtualTable.render_line = spy  # type: ignore[method-assign]

    async def run() -> None:
        start = time.perf_counter()
        store = Store(folder, fold_at_close=True, load=FIRST_TABLES)
        result["open_s"] = time.perf_counter() - start
        app = DealdeckApp(store)
        async with app.run_test(size=(120, 40)) as pilot:
            while not painted:
                await asyncio.sleep(0.001)
            result["painted_s"] = painted[0] - start
            while app.missing(ALL_TABLES):
                await asyncio.sleep(0.001)
            result["all_loaded_s"] = time.perf_counter() - start
            result["load_work_s"] = result["open_s"] + loading[0]
            result["rss_loaded_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            await pilot.pause()
            await asyncio.sleep(0.5)  # the caches the loader warms last
            review = app.query_one(ReviewTab)
            while review.review is None:  # prepared in a thread after start-up: it would share the CPU
                await asyncio.sleep(0.01)
            await timeline(app, pilot, store, Customer, CustomerScreen)
            await keystrokes(app, pilot, app.query_one(LeadsTab))
            result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        store.close()

    async def timeline(app: Any, pilot: Any, store: Any, customer: Any, screen: Any) -> None:
        """A customer's details with their timeline: three customers, the slowest."""
        ids = [doc["id"] for doc in store.rows(customer)][:: max(1, store.count(customer) // 3)][:3]
        times = []
        for record_id in ids:
            began = time.perf_counter()
            app.open_record(customer.table, record_id)
            while not isinstance(app.screen, screen):
                await asyncio.sleep(0.001)
            await pilot.pause()
            times.append(time.perf_counter() - began)
            await pilot.press("escape")
            await pilot.pause()
        result["timeline_ms"] = max(times) * 1000
        tab = app.query_one(CustomersTab)
        work = []
        for record_id in ids:  # the data a customer's screen shows: its timeline and what links to it
            began = time.perf_counter()
            tab.related(store.require(customer, record_id))
            work.append(time.perf_counter() - began)
        result["timeline_work_ms"] = max(work) * 1000

    async def keystrokes(app: Any, pilot: Any, tab: Any) -> None:
        await pilot.press("O", "slash")  # the whole team's leads, the filter box
        idle = []
        for _ in range(7):
            began = time.perf_counter()
            await pilot.press("f24")  # a key the box ignores: Pilot's own cost of a press
            idle.append(time.perf_counter() - began)
        pressed = []
        for ch in "wang li":
            began = time.perf_counter()
            await pilot.press("space" if ch == " " else ch)
            pressed.append(time.perf_counter() - began)
        result["keystroke_ms"] = (statistics.median(pressed) - statistics.median(idle)) * 1000
        work = []
        for text in ("w", "wa", "wan", "wang", "", "l", "li", ""):
            began = time.perf_counter()
            tab.set_filter(text=text)
            work.append(time.perf_counter() - began)
        result["filter_work_ms"] = statistics.median(work) * 1000

    asyncio.run(run())
    return result


def run_child(folder: Path, part: str) -> dict[str, float]:
    # Through /bin/sh so that ru_maxrss is the child's own (Linux inherits the parent's peak).
    out = subprocess.run(["/bin/sh", "-c", f'exec "{sys.executable}" "{__file__}" --{part} "{folder}"'],
                         capture_output=True, text=True, cwd=ROOT, check=True,
                         env={**os.environ, "DEALDECK_TODAY": TODAY})
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,50000,200000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--bare", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(Path(args.child))))
        return
    if args.bare:
        print(json.dumps(measure_bare(Path(args.bare))))
        return
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    columns = ["leads", "bare parse, leads s", "lead list painted s", "painted / (bare leads + 0.5 s)",
               "bare parse, all s", "all tables in s", "reading them s", "reading / bare all",
               "timeline screen / data ms", "filter keystroke ms", "filter work ms", "peak RSS MB"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---:|" * len(columns))
    for size in (int(s) for s in args.sizes.split(",")):
        folder = ensure_demo(size)
        runs = [{**run_child(folder, "bare"), **run_child(folder, "child")} for _ in range(args.repeat)]
        f = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        cells = [f"{size:,}", f"{f['bare_leads_s']:.2f}", f"{f['painted_s']:.2f}",
                 f"{f['painted_s'] / (f['bare_leads_s'] + 0.5):.2f}", f"{f['bare_all_s']:.2f}",
                 f"{f['all_loaded_s']:.2f}", f"{f['load_work_s']:.2f}", f"{f['load_work_s'] / f['bare_all_s']:.2f}",
                 f"{f['timeline_ms']:.0f} / {f['timeline_work_ms']:.1f}", f"{f['keystroke_ms']:.0f}",
                 f"{f['filter_work_ms']:.1f}", f"{f['peak_rss_mb']:.0f}"]
        print("| " + " | ".join(cells) + " |", flush=True)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
