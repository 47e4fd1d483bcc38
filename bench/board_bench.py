"""Opportunity board benchmark: building the board, switching to its tab, and `]`
to a repainted board, on the demo data. Run by hand; see bench/README.md.

    python bench/board_bench.py [--sizes 1000,50000]

Each size runs in a fresh process; demo folders are shared with app_bench.py
(/tmp/dealdeck-bench-<size>, 10 reps).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_bench import child_figures, sizes_or_child


def measure(folder: str) -> dict[str, float]:
    """Runs in the child: start the app headless, open the board, move cards."""
    import asyncio

    from store.database import Store
    from store.models import Opportunity
    from tui.app import DealdeckApp
    from tui.tabs.board import BoardTab
    from tui.widgets.board import KanbanBoard

    result: dict[str, float] = {}
    painted: list[float] = []
    paint_line = KanbanBoard.render_line

    def spy(board: KanbanBoard, y: int) -> object:
        """Note when the board paints: a key's effect is on screen once it has."""
        painted.append(time.perf_counter())
        return paint_line(board, y)

    KanbanBoard.render_line = spy  # type: ignore[method-assign]

    async def press_until_painted(pilot: object, key: str) -> float:
        painted.clear()
        t = time.perf_counter()
        await pilot.press(key)  # type: ignore[attr-defined]
        await pilot.pause()  # type: ignore[attr-defined]
        assert painted, f"{key} did not repaint the board"
        return painted[-1] - t

    async def run() -> None:
        store = Store(Path(folder))
        me = store.me
        app = DealdeckApp(store)
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause()
            tab = app.query_one(BoardTab)
            builds = []
            for _ in range(3):
                t = time.perf_counter()
                tab.reload()
                builds.append(time.perf_counter() - t)
            result["board_build_ms"] = statistics.median(builds) * 1000
            idle = []
            for _ in range(7):
                t = time.perf_counter()
                await pilot.press("f24")
                idle.append(time.perf_counter() - t)
            overhead = statistics.median(idle)
            result["pilot_press_overhead_ms"] = overhead * 1000
            # Pilot's press waits for the tab bar's underline animation (~0.4 s) to end;
            # the board itself is on screen at its first painted line.
            painted.clear()
            t = time.perf_counter()
            await pilot.press("2")
            result["switch_to_tab_ms"] = (painted[0] - t) * 1000
            await pilot.press("O")  # the whole team: the biggest columns
            result["deals"] = len(tab.rows_by_id)
            result["deals_on_board"] = sum(len(c.rows) for c in tab.board.columns)
            result["largest_column"] = max(len(c.rows) for c in tab.board.columns)
            # Put the cursor on an open deal of my own in the first column.
            first = tab.board.columns[0]
            mine = next(r for r in first.rows if r.owner == me)
            tab.board.select(mine.id)
            await pilot.pause()
            moves, work = [], []
            for key in ["right_square_bracket", "left_square_bracket"] * 15:
                moves.append(await press_until_painted(pilot, key))  # until the last line is painted
            for step in (1, -1) * 5:
                t = time.perf_counter()
                tab.action_move(step)  # the write, the patched row, the re-laid board and strip
                work.append(time.perf_counter() - t)
            assert store.require(Opportunity, mine.id).stage == first.key
            result["move_to_repaint_median_ms"] = statistics.median(moves) * 1000
            result["move_to_repaint_p90_ms"] = sorted(moves)[int(len(moves) * 0.9)] * 1000
            result["move_to_repaint_max_ms"] = max(moves) * 1000
            result["move_work_median_ms"] = statistics.median(work) * 1000
            paints = []
            for _ in range(5):
                t = time.perf_counter()
                for y in range(tab.board.size.height):
                    paint_line(tab.board, y)
                paints.append(time.perf_counter() - t)
            result["paint_board_ms"] = statistics.median(paints) * 1000
            keys = []
            await pilot.press("slash")
            for ch in "pump":
                t = time.perf_counter()
                await pilot.press(ch)
                keys.append(time.perf_counter() - t - overhead)
            result["filter_keystroke_median_ms"] = statistics.median(keys) * 1000
            await pilot.press("escape", "v")
            t = time.perf_counter()
            await pilot.press("v")
            await pilot.pause()
            result["toggle_view_ms"] = (time.perf_counter() - t - overhead) * 1000
        store.close()

    asyncio.run(run())
    return result


def main() -> None:
    sizes = sizes_or_child(measure)
    if sizes is None:
        return
    print("| leads | deals (on board) | largest column | build board ms | switch to tab ms "
          "| `]` to repaint median / p90 / max ms | move work ms | paint board ms | filter key ms |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size, f in child_figures(__file__, sizes):
        print(f"| {size:,} | {f['deals']:,} ({f['deals_on_board']:,}) | {f['largest_column']:,} "
              f"| {f['board_build_ms']:.0f} | {f['switch_to_tab_ms']:.0f} "
              f"| {f['move_to_repaint_median_ms']:.0f} / {f['move_to_repaint_p90_ms']:.0f} / "
              f"{f['move_to_repaint_max_ms']:.0f} "
              f"| {f['move_work_median_ms']:.1f} | {f['paint_board_ms']:.1f} "
              f"| {f['filter_keystroke_median_ms']:.0f} |")
    print("\nPilot's own cost of a key press is taken off the key timings.")


if __name__ == "__main__":
    main()
