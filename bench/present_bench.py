"""Presentation benchmark: a key press to the next slide on the screen, for every slide of
the weekly review, at the projector's size (200x55) and at 80x24. Run by hand; see
bench/README.md.

    python bench/present_bench.py [--sizes 1000,50000]

On the demo folders app_bench.py makes (/tmp/dealdeck-bench-<size>, 10 reps, 12 weeks).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_bench import child_figures, sizes_or_child

#: how many times the whole deck is stepped through, forward then back
ROUNDS = 3


def measure(folder: str) -> dict[str, float]:
    """Runs in the child: the app headless, the review presented, each slide stepped to."""
    import asyncio

    from textual.screen import Screen

    from store.database import Store
    from tui.app import DealdeckApp
    from tui.screens.present import PresentScreen
    from tui.tabs.review import ReviewTab

    painted: list[float] = []
    refresh = Screen._compositor_refresh

    def spy(screen: Screen) -> None:  # type: ignore[type-arg]
        refresh(screen)
        if isinstance(screen, PresentScreen):
            painted.append(time.perf_counter())

    Screen._compositor_refresh = spy  # type: ignore[method-assign]
    result: dict[str, float] = {}
    by_slide: dict[str, list[float]] = {}

    async def step_through(size: tuple[int, int]) -> list[float]:
        store = Store(Path(folder))
        app = DealdeckApp(store)
        times: list[float] = []
        async with app.run_test(size=size) as pilot:
            await pilot.press("4")
            tab = app.query_one(ReviewTab)
            while tab.review is None or tab.shown_key != tab.wanted_key():
                await asyncio.sleep(0.05)
            app.clear_notifications()
            await pilot.press("p")
            await pilot.pause(0.3)
            screen = app.screen
            assert isinstance(screen, PresentScreen)
            for _ in range(ROUNDS):
                for key in ["space"] * (len(screen.slides) - 1) + ["left"] * (len(screen.slides) - 1):
                    painted.clear()
                    start = time.perf_counter()
                    await pilot.press(key)
                    while not painted:
                        await asyncio.sleep(0.001)
                    times.append(painted[0] - start)
                    by_slide.setdefault(screen.slides[screen.index][0], []).append(times[-1])
        store.close()
        return times

    for name, size in (("projector", (200, 55)), ("terminal", (80, 24))):
        times = sorted(asyncio.run(step_through(size)))
        result[f"{name}_median_ms"] = statistics.median(times) * 1000
        result[f"{name}_p90_ms"] = times[int(len(times) * 0.9)] * 1000
        result[f"{name}_max_ms"] = times[-1] * 1000
    if os.environ.get("BY_SLIDE"):  # which slide is slow (on stderr, before the figures)
        for title, spent in sorted(by_slide.items(), key=lambda item: -max(item[1])):
            print(f"{title}: median {statistics.median(spent) * 1000:.1f} ms, max {max(spent) * 1000:.1f} ms "
                  f"({', '.join(f'{t * 1000:.0f}' for t in spent)})", file=sys.stderr)
    return result


def main() -> None:
    sizes = sizes_or_child(measure)
    if sizes is None:
        return
    print("| leads | 200x55 median ms | p90 | max | 80x24 median ms | p90 | max |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for size, f in child_figures(__file__, sizes):
        print(f"| {size:,} | {f['projector_median_ms']:.1f} | {f['projector_p90_ms']:.1f} | "
              f"{f['projector_max_ms']:.1f} | {f['terminal_median_ms']:.1f} | {f['terminal_p90_ms']:.1f} | "
              f"{f['terminal_max_ms']:.1f} |")


if __name__ == "__main__":
    main()
