"""App benchmark: time to the first interactive screen, filter keystroke latency and
peak memory, with 1k / 10k / 50k demo leads. Run by hand; see bench/README.md.

    python bench/app_bench.py [--sizes 1000,10000,50000] [--keep]

Each size runs in a fresh process (start-up is what a user sees). Demo folders are
made once under /tmp/dealdeck-bench-<size> and reused with --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TODAY = "2026-11-25"


def ensure_demo(size: int) -> Path:
    folder = Path(f"/tmp/dealdeck-bench-{size}")
    if not (folder / "leads.json").exists():
        subprocess.run([sys.executable, "-m", "tui.cli", "demo", "--data", str(folder), "--reps", "10",
                        "--leads", str(size)], check=True, cwd=ROOT, env={**os.environ, "DEALDECK_TODAY": TODAY},
                       stdout=subprocess.DEVNULL)
    return folder


def child_figures(script: str, sizes: str) -> list[tuple[int, dict[str, float]]]:
    """Run ``script --child FOLDER`` for each demo size in a fresh process; its last
    output line is a JSON object of figures."""
    rows = []
    for size in (int(s) for s in sizes.split(",")):
        folder = ensure_demo(size)
        out = subprocess.run([sys.executable, script, "--child", str(folder)], capture_output=True, text=True,
                             cwd=ROOT, check=True)
        rows.append((size, json.loads(out.stdout.strip().splitlines()[-1])))
    return rows


def sizes_or_child(measure: Callable[[str], dict[str, float]], default: str = "1000,50000") -> str | None:
    """The benchmark's ``--sizes``; or, in the measuring process (``--child FOLDER``, as
    ``child_figures`` starts it), print ``measure(FOLDER)`` as JSON and return None."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default=default)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return None
    return args.sizes


def measure(folder: str) -> dict[str, float]:
    """Runs in the child: open the store, start the app headless, type into the filter."""
    import asyncio

    import orjson

    t0 = time.perf_counter()
    from store.storage import TABLE_GROUPS, group_file_name

    for group in TABLE_GROUPS:
        # A table file is a header and lines of records: parsing its lines is the least
        # any reader does. One file's documents are held at a time, as the parse of a
        # whole file did (so this adds little to the peak measured below).
        path = Path(folder) / group_file_name(group)
        if path.exists():
            with path.open("rb") as lines:
                parsed = [orjson.loads(line) for line in lines]
            del parsed
    bare_s = time.perf_counter() - t0

    from store.database import Store
    from tui.app import DealdeckApp
    from tui.tabs.leads import LeadsTab
    from tui.widgets.table import VirtualTable

    result: dict[str, float] = {"bare_parse_s": bare_s}
    painted: list[float] = []
    paint_line = VirtualTable.render_line

    def spy(table: VirtualTable, y: int) -> object:
        """The first painted line of the lead list: the first screen is up."""
        if not painted and table.id == "lead-table" and table.rows:
            painted.append(time.perf_counter())
        return paint_line(table, y)

    VirtualTable.render_line = spy  # type: ignore[method-assign]

    async def run() -> None:
        start = time.perf_counter()
        store = Store(Path(folder))
        result["store_open_s"] = time.perf_counter() - start
        app = DealdeckApp(store)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            tab = app.query_one(LeadsTab)
            assert tab.all_rows, "no rows"
            result["first_screen_s"] = time.perf_counter() - start
            result["first_screen_after_load_s"] = time.perf_counter() - start - result["store_open_s"]
            result["first_paint_after_load_s"] = painted[0] - start - result["store_open_s"]
            await pilot.press("O")  # the whole team: the biggest list
            await pilot.press("slash")
            # Pilot's own cost of a key press, measured with a key the filter box ignores.
            idle = []
            for _ in range(7):
                t = time.perf_counter()
                await pilot.press("f24")
                idle.append(time.perf_counter() - t)
            result["pilot_press_overhead_ms"] = statistics.median(idle) * 1000
            keystrokes = []
            for ch in "wang li":
                key = "space" if ch == " " else ch
                t = time.perf_counter()
                await pilot.press(key)
                keystrokes.append(time.perf_counter() - t)
            result["filter_keystroke_median_ms"] = statistics.median(keystrokes) * 1000
            result["filter_keystroke_max_ms"] = max(keystrokes) * 1000
            apply = []
            for text in ("w", "wa", "wan", "wang", "", "l", "li", ""):
                t = time.perf_counter()
                tab.set_filter(text=text)  # what a keystroke in the filter box does
                apply.append(time.perf_counter() - t)
            result["filter_work_median_ms"] = statistics.median(apply) * 1000
            t = time.perf_counter()
            for _ in range(20):
                await pilot.press("pagedown")
            result["page_down_ms"] = (time.perf_counter() - t) / 20 * 1000
            result["rows"] = len(tab.all_rows)
            result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            # A rep's tour: a lead, a deal and a customer opened, the review, Today.
            for keys in (["escape", "escape", "enter"], ["escape", "2", "enter"], ["escape", "3", "enter"],
                         ["escape", "4"], ["1", "t"], ["escape"]):
                for key in keys:
                    await pilot.press(key)
                await pilot.pause()
                await asyncio.sleep(0.5)
            result["tour_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        store.close()

    asyncio.run(run())
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        folder = ensure_demo(size)
        # Through /bin/sh so that ru_maxrss is the child's own (Linux inherits the parent's peak).
        out = subprocess.run(["/bin/sh", "-c", f'exec "{sys.executable}" "{__file__}" --child "{folder}"'],
                             capture_output=True, text=True, cwd=ROOT, check=True)
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append((size, figures))
    print("| leads | store open s | bare parse s | first screen s | lead list painted after load s "
          "| idle after load s "
          "| keystroke to repaint, median / max ms | filter work ms | page down ms | peak RSS MB "
          "| peak RSS after a tour MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size, f in rows:
        overhead = f["pilot_press_overhead_ms"]
        print(f"| {size:,} | {f['store_open_s']:.2f} | {f['bare_parse_s']:.2f} | {f['first_screen_s']:.2f} "
              f"| {f['first_paint_after_load_s']:.2f} | {f['first_screen_after_load_s']:.2f} "
              f"| {f['filter_keystroke_median_ms'] - overhead:.0f} / "
              f"{f['filter_keystroke_max_ms'] - overhead:.0f} | {f['filter_work_median_ms']:.1f} "
              f"| {f['page_down_ms'] - overhead:.1f} | {f['peak_rss_mb']:.0f} | {f['tour_peak_rss_mb']:.0f} |")
    print("\nThe tour opens a lead, a deal and a customer, the review and Today after the rest.")
    print("Keystroke and page-down times have Pilot's own cost of a key press taken off "
          f"(median {statistics.median(f['pilot_press_overhead_ms'] for _, f in rows):.0f} ms).")


if __name__ == "__main__":
    main()
