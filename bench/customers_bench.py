"""Customer tab benchmark: building the cards, switching to the tab, a filter keystroke,
and a customer's detail with its whole timeline. Run by hand; see bench/README.md.

    python bench/customers_bench.py [--sizes 1000,50000]

Each size runs in a fresh process on the demo folders app_bench.py makes
(/tmp/dealdeck-bench-<size>; 50k leads give ~6k customers).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_bench import child_figures, sizes_or_child


def measure(folder: str) -> dict[str, float]:
    """Runs in the child: start the app headless, open the customer tab, filter, open details."""
    import asyncio

    from store.database import Store
    from store.models import Customer
    from tui.app import DealdeckApp
    from tui.screens.customer import CustomerScreen
    from tui.tabs.customers import CustomersTab
    from tui.widgets.cards import CardGrid

    result: dict[str, float] = {}
    painted: list[float] = []
    paint_line = CardGrid.render_line

    def spy(grid: CardGrid, y: int) -> object:  # type: ignore[type-arg]
        painted.append(time.perf_counter())
        return paint_line(grid, y)

    CardGrid.render_line = spy  # type: ignore[method-assign]

    async def run() -> None:
        store = Store(Path(folder))
        app = DealdeckApp(store)
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause()
            tab = app.query_one(CustomersTab)
            builds = []
            for _ in range(3):
                t = time.perf_counter()
                tab.reload()
                builds.append(time.perf_counter() - t)
            result["build_ms"] = statistics.median(builds) * 1000
            idle = []
            for _ in range(7):
                t = time.perf_counter()
                await pilot.press("f24")
                idle.append(time.perf_counter() - t)
            overhead = statistics.median(idle)
            painted.clear()
            t = time.perf_counter()
            await pilot.press("3")
            result["switch_to_tab_ms"] = (painted[0] - t) * 1000
            await pilot.press("O")  # the whole team
            result["customers"] = len(tab.rows_by_id)
            await pilot.press("slash")
            keys, work = [], []
            for ch in "ma":
                t = time.perf_counter()
                await pilot.press(ch)
                keys.append(time.perf_counter() - t - overhead)
            for text in ("m", "ma", "man", "manu", "", "s", "si", ""):
                t = time.perf_counter()
                tab.set_filter(text=text)
                work.append(time.perf_counter() - t)
            result["filter_keystroke_ms"] = statistics.median(keys) * 1000
            result["filter_work_ms"] = statistics.median(work) * 1000
            await pilot.press("escape")
            # The customer with the longest history.
            busiest = max(tab.rows_by_id.values(), key=lambda r: len(r.purchases) * 10 + r.open_deals)
            shown: list[float] = []

            class Timed(CustomerScreen):
                def on_mount(self) -> None:
                    self.call_after_refresh(lambda: shown.append(time.perf_counter()))

            opens, data = [], []
            customer = store.get(Customer, busiest.id)
            for _ in range(9):  # single opens vary 60-450 ms with Textual's refresh timing
                t = time.perf_counter()
                screen = Timed(store, busiest.id, tab)
                list(screen.sections(customer, busiest))  # the data: facts, deals, tickets, timeline
                data.append(time.perf_counter() - t)
                shown.clear()
                t = time.perf_counter()
                await app.push_screen(screen)
                await pilot.pause()
                opens.append(shown[0] - t)
                await pilot.press("escape")
            result["detail_data_ms"] = statistics.median(data) * 1000
            result["detail_ms"] = statistics.median(opens) * 1000
        store.close()

    asyncio.run(run())
    return result


def main() -> None:
    sizes = sizes_or_child(measure)
    if sizes is None:
        return
    print("| leads | customers | build cards ms | switch to tab ms | filter key ms | filter work ms "
          "| detail data ms | detail on screen ms |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size, f in child_figures(__file__, sizes):
        print(f"| {size:,} | {f['customers']:,.0f} | {f['build_ms']:.0f} | {f['switch_to_tab_ms']:.0f} "
              f"| {f['filter_keystroke_ms']:.0f} | {f['filter_work_ms']:.1f} | {f['detail_data_ms']:.0f} "
              f"| {f['detail_ms']:.0f} |")
    print("\nPilot's own cost of a key press is taken off the key timings; 'detail on screen' is from "
          "pushing the screen to its first refresh (composed, laid out, painted).")


if __name__ == "__main__":
    main()
