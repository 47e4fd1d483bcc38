"""Weekly review benchmark: the review tab and ``dealdeck review --format html``.
Run by hand; see bench/README.md.

    python bench/review_bench.py [--sizes 1000,50000]

On the demo folders app_bench.py makes (/tmp/dealdeck-bench-<size>, 10 reps, 12 weeks).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_bench import ROOT, TODAY, child_figures, ensure_demo, sizes_or_child


def measure(folder: str) -> dict[str, float]:
    """Runs in the child: the app headless at 160x50."""
    import asyncio

    from textual.screen import Screen
    from textual.widgets import TabbedContent

    from store.database import Store
    from tui.app import DealdeckApp
    from tui.clock import today
    from tui.report import review_input, review_of
    from tui.tabs.review import ReviewTab

    result: dict[str, float] = {}
    painted: list[float] = []
    refresh = Screen._compositor_refresh

    def spy(screen: Screen) -> None:  # type: ignore[type-arg]
        """Note each frame drawn while the review tab is the one on show."""
        refresh(screen)
        try:
            if screen.app.query_one(TabbedContent).active == "review":
                painted.append(time.perf_counter())
        except Exception:
            pass

    Screen._compositor_refresh = spy  # type: ignore[method-assign]

    async def shown(pilot: object, tab: ReviewTab) -> float:
        start = time.perf_counter()
        while tab.review is None or tab.shown_key != tab.wanted_key():
            await asyncio.sleep(0.05)
        return time.perf_counter() - start

    async def run() -> None:
        store = Store(Path(folder))
        app = DealdeckApp(store)
        async with app.run_test(size=(160, 50)) as pilot:
            tab = app.query_one(ReviewTab)
            # Straight after start-up, before the review was prepared: press 4 and wait.
            t = time.perf_counter()
            await pilot.press("4")
            await shown(pilot, tab)
            result["first_switch_s"] = time.perf_counter() - t
            computes = []
            for _ in range(3):
                t = time.perf_counter()
                review_of(review_input(store, today(), deals=app.board_rows(), accounts=app.customer_rows()),
                          tab.week, None)
                computes.append(time.perf_counter() - t)
            result["compute_s"] = statistics.median(computes)
            # The usual case: the review was prepared after start-up; switch away and back.
            await pilot.press("1")
            painted.clear()
            t = time.perf_counter()
            await pilot.press("4")  # (Pilot's press also waits out the tab bar's animation)
            result["switch_prepared_s"] = painted[0] - t
            # Without the start-up toasts, whose animation frames compete with the thread.
            app.clear_notifications()
            await pilot.pause(0.5)
            t = time.perf_counter()
            await pilot.press("left_square_bracket")
            await shown(pilot, tab)
            result["week_step_s"] = time.perf_counter() - t
        store.close()

    asyncio.run(run())
    return result


def html_seconds(folder: Path) -> float:
    env = {**os.environ, "DEALDECK_TODAY": TODAY}
    runs = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "tui.cli", "review", "--data", str(folder), "--format", "html",
                        "-o", "/tmp/dealdeck-review-bench.html"], check=True, cwd=ROOT, env=env,
                       stderr=subprocess.DEVNULL)
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def main() -> None:
    sizes = sizes_or_child(measure)
    if sizes is None:
        return
    print("| leads | compute s | tab, prepared s | tab, first switch s | week step s | review --format html s |")
    print("|---:|---:|---:|---:|---:|---:|")
    for size, f in child_figures(__file__, sizes):
        html = html_seconds(ensure_demo(size))
        print(f"| {size:,} | {f['compute_s']:.2f} | {f['switch_prepared_s']:.2f} | {f['first_switch_s']:.2f} "
              f"| {f['week_step_s']:.2f} | {html:.2f} |")


if __name__ == "__main__":
    main()
