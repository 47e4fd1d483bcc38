"""Key to screen in a real terminal: the real app in tmux, a filter keystroke and a board
move timed from `tmux send-keys` to the changed screen, on a data folder and on an empty
app. Run by hand; see bench/README.md.

    python bench/tmux_keys_bench.py                      # the 50k demo folder (made once)
    python bench/tmux_keys_bench.py --leads 1000         # quick check
    python bench/tmux_keys_bench.py --data ~/crm --no-save

Needs tmux. Each app runs as `python -m tui.cli` in a detached tmux session of its own
(200x55, a private tmux server: `tmux -L dealdeck-bench-<pid>`), on a COPY of its folder
in a temp folder, so the board's moves and the start of day's writes never touch the
source and each run starts from the same data. The session and the copies are removed at
the end (`--keep` keeps the copies).

- The data app: `--data FOLDER`, or `--leads N` for app_bench.py's demo folder
  /tmp/dealdeck-bench-<N> (10 reps; made once).
- The empty app, the baseline: `dealdeck demo --leads 0` (config.yaml with `me` set, no
  records) plus one customer and one deal, so that the board has a card to move. A folder
  with no lead and no customer opens on a first-run or "empty database" dialog; with the
  customer it opens on the plain, empty lead list.

Once the lead list is painted and the app idle (its CPU time, read from /proc, stops
growing): the whole team's list (`O`), the filter (`/`), then words typed and backspaced a
key at a time; then the board (`2`), the whole team (`O`), and `]` / `[` on the deal under
the cursor. For each key: t0, `tmux send-keys`, then `tmux capture-pane -p` every 2 ms
until the screen shows the key's effect, t1 when that capture returned. The filter has two
figures: the first change left of the toasts (the box echoing the key, a frame before the
list), and the list filtered (its summary line quotes the typed text). A board move: the
first change left of the toasts (toasts come and go on their own, so that strip is never
compared). The next key waits until the app is idle again.

The cost of sending the key and of polling with capture-pane (a subprocess: a few ms
each) is part of both apps' figures, as is the terminal's own work; the data app's p90
minus the empty app's p90 takes it away and leaves what the data costs. Target: that
difference at most 50 ms at 50k leads, for both keys. Results go to
bench/results/tmux-keys-<date>.md (gitignored); the load average at start and end is noted,
since the VM is shared.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_bench import ROOT, ensure_demo

RESULTS_DIR = ROOT / "bench" / "results"
WIDTH, HEIGHT = 200, 55
TOAST_CELLS = 70  # toasts (60 cells and margins) are drawn over the right edge: not compared
POLL_S = 0.002
KEY_TIMEOUT_S = 10.0
TARGET_MS = 50.0
NAMED_KEYS = {"BSpace", "Enter", "Escape"}
LEADS_LINE = re.compile(r"\b[\d,]+ of ([\d,]+) leads\b")
BOARD_LINE = re.compile(r"\b([\d,]+) deals? · ")
QUOTED = re.compile(r"“([^”]*)”")
ECHO = "filter key: first change (the box)"
FILTERED = "filter key: list filtered"
MOVE = "board move `]` / `[`"

Check = Callable[[str], bool]


# --- tmux -------------------------------------------------------------------------------------
@dataclass
class Pane:
    """A detached tmux session on a private server, running one app."""

    socket: str
    name: str
    pid: int = 0
    socket_path: str = ""

    def tmux(self, *args: str) -> str:
        out = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True)
        return out.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.name)

    def send(self, key: str) -> None:
        literal = [] if key in NAMED_KEYS else ["-l"]
        self.tmux("send-keys", "-t", self.name, *literal, key)

    def dead(self) -> bool:
        return self.tmux("display-message", "-p", "-t", self.name, "#{pane_dead}").strip() == "1"


@contextmanager
def running_app(folder: Path, name: str) -> Iterator[Pane]:
    """The app on ``folder`` in a fresh tmux server; killed, with the server, at the end."""
    pane = Pane(socket=f"dealdeck-bench-{os.getpid()}", name=name)
    app = ["env", f"DEALDECK_DATA={folder}", sys.executable, "-m", "tui.cli"]
    subprocess.run(["tmux", "-L", pane.socket, "-f", "/dev/null", "start-server", ";",
                    "set-option", "-g", "remain-on-exit", "on", ";",  # a crash stays readable
                    "new-session", "-d", "-s", name, "-x", str(WIDTH), "-y", str(HEIGHT), "-c", str(ROOT), *app],
                   check=True)
    try:
        where = pane.tmux("display-message", "-p", "-t", name, "#{pane_pid} #{socket_path}")
        pid, pane.socket_path = where.strip().split(" ", 1)
        pane.pid = int(pid)
        yield pane
    finally:
        stop(pane)


def stop(pane: Pane) -> None:
    """Kill the session and the bench's own tmux server; make sure the app is gone."""
    for command in (["kill-session", "-t", pane.name], ["kill-server"]):
        subprocess.run(["tmux", "-L", pane.socket, *command], capture_output=True, check=False)
    deadline = time.monotonic() + 5
    while pane.pid and Path(f"/proc/{pane.pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    if pane.pid and Path(f"/proc/{pane.pid}").exists():
        os.kill(pane.pid, signal.SIGKILL)
    if pane.socket_path:  # tmux leaves its socket file behind
        Path(pane.socket_path).unlink(missing_ok=True)


# --- waiting ----------------------------------------------------------------------------------
def wait_for(pane: Pane, ready: Check, timeout: float) -> float:
    """Poll the screen until ``ready``; the time the matching capture returned."""
    deadline = time.perf_counter() + timeout
    while True:
        screen = pane.screen()
        now = time.perf_counter()
        if ready(screen):
            return now
        if now > deadline:
            state = "the app exited" if pane.dead() else "the app is running"
            raise TimeoutError(f"{pane.name}: nothing awaited on screen after {timeout:.0f} s ({state}):\n{screen}")
        time.sleep(POLL_S)


def cpu_ticks(pid: int) -> int:
    """User + system CPU time of the process, all threads, in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def wait_idle(pid: int, window: float = 0.1, quiet: int = 2, timeout: float = 30.0) -> bool:
    """Until the app used at most one tick of CPU in each of ``quiet`` windows in a row."""
    deadline = time.monotonic() + timeout
    calm, last = 0, cpu_ticks(pid)
    while calm < quiet:
        if time.monotonic() > deadline:
            print(f"note: the app was still busy after {timeout:.0f} s", file=sys.stderr)
            return False
        time.sleep(window)
        now = cpu_ticks(pid)
        calm, last = (calm + 1 if now - last <= 1 else 0), now
    return True


def setup(pane: Pane, key: str, ready: Check, timeout: float) -> None:
    """A key that is not timed: sent, its effect awaited, then the app left to go idle."""
    pane.send(key)
    wait_for(pane, ready, timeout)
    wait_idle(pane.pid, timeout=timeout)


def time_key(pane: Pane, key: str, effect: Callable[[str], Check]) -> tuple[float, float]:
    """Milliseconds from sending ``key`` to the first capture left of the toasts that
    changed, and to the first that shows its ``effect`` (made from the screen before the
    key, once the app is idle)."""
    wait_idle(pane.pid)
    before = pane.screen()
    ready, changed = effect(before), screen_changed(before)
    first: list[float] = []

    def check(screen: str) -> bool:
        if not first and changed(screen):
            first.append(time.perf_counter())
        return ready(screen)

    t0 = time.perf_counter()
    pane.send(key)
    t1 = wait_for(pane, check, KEY_TIMEOUT_S)
    return ((first[0] if first else t1) - t0) * 1000, (t1 - t0) * 1000


# --- reading the screen -----------------------------------------------------------------------
def line_matching(screen: str, pattern: re.Pattern[str]) -> str:
    return next((line for line in screen.splitlines() if pattern.search(line)), "")


def shown_filter(screen: str) -> str | None:
    """The typed filter the lead list's summary line quotes ("" for none)."""
    line = line_matching(screen, LEADS_LINE)
    if not line:
        return None
    quoted = QUOTED.search(line)
    return quoted.group(1) if quoted else ""


def cell_prefix(line: str, cells: int) -> str:
    """The part of a captured line in its first ``cells`` terminal cells (CJK: 2 each)."""
    used = 0
    for i, ch in enumerate(line):
        used += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used > cells:
            return line[:i]
    return line


def left_part(screen: str) -> list[str]:
    """The screen without the strip on the right where toasts come and go."""
    return [cell_prefix(line, WIDTH - TOAST_CELLS) for line in screen.splitlines()]


def count_in(screen: str, pattern: re.Pattern[str]) -> int:
    found = pattern.search(line_matching(screen, pattern))
    return int(found.group(1).replace(",", "")) if found else 0


# --- the two scenarios ------------------------------------------------------------------------
def filter_keys(words: list[str]) -> list[tuple[str, str]]:
    """(key, filter text on screen after it): each word typed, then backspaced. The list
    quotes the filter casefolded."""
    keys: list[tuple[str, str]] = []
    for word in words:
        keys += [(ch, word[:i + 1].casefold()) for i, ch in enumerate(word)]
        keys += [("BSpace", word[:i].casefold()) for i in reversed(range(len(word)))]
    return keys


def time_filter(pane: Pane, words: list[str], timeout: float) -> tuple[list[float], list[float]]:
    """Per key: ms to the first change (the box's echo), ms to the filtered list."""
    setup(pane, "O", lambda s: "owner team" in line_matching(s, LEADS_LINE), timeout)  # the whole team
    setup(pane, "/", lambda s: "filter: " in s, timeout)
    times = [time_key(pane, key, lambda _before, t=text: lambda s: shown_filter(s) == t)
             for key, text in filter_keys(words)]
    return [echo for echo, _ in times], [shown for _, shown in times]


def time_board(pane: Pane, moves: int, timeout: float) -> list[float]:
    """Per move: ms to the changed board."""
    setup(pane, "Enter", lambda s: True, timeout)  # from the (empty again) filter box to the list
    setup(pane, "2", lambda s: bool(line_matching(s, BOARD_LINE)), timeout)
    setup(pane, "O", lambda s: "owner team" in line_matching(s, BOARD_LINE), timeout)
    return [time_key(pane, key, screen_changed)[1] for key in ["]", "["] * (moves // 2)]


def screen_changed(before: str) -> Check:
    """Anything left of the toasts differs from ``before``."""
    left = left_part(before)
    return lambda screen: screen != before and left_part(screen) != left


@dataclass
class AppRun:
    label: str
    leads: int
    deals: int
    start_s: float
    capture_ms: float
    times: dict[str, list[float]]


def run_app(folder: Path, label: str, args: argparse.Namespace) -> AppRun:
    start = time.perf_counter()
    with running_app(folder, f"keys-{label}") as pane:
        start_s = wait_for(pane, lambda s: bool(line_matching(s, LEADS_LINE)), args.timeout) - start
        wait_idle(pane.pid, window=0.5, timeout=args.timeout)  # the board, the review: built after
        capture_ms = capture_cost(pane)
        echo_ms, filter_ms = time_filter(pane, args.words.split(","), args.timeout)
        leads = count_in(pane.screen(), LEADS_LINE)
        board_ms = time_board(pane, args.moves, args.timeout)
        deals = count_in(pane.screen(), BOARD_LINE)
    times = {ECHO: echo_ms, FILTERED: filter_ms, MOVE: board_ms}
    return AppRun(label, leads, deals, start_s, capture_ms, times)


def capture_cost(pane: Pane) -> float:
    samples = []
    for _ in range(21):
        t = time.perf_counter()
        pane.screen()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1000


# --- folders ----------------------------------------------------------------------------------
def make_empty(folder: Path) -> None:
    """No leads; one customer and one deal of mine (a card to move), so no first-run dialog."""
    subprocess.run([sys.executable, "-m", "tui.cli", "demo", "--data", str(folder), "--reps", "10", "--leads", "0"],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    from store.database import Store
    from store.models import Customer, Opportunity

    store = Store(folder)
    try:
        customer = store.new(Customer, name="Bench Baseline Ltd")
        store.new(Opportunity, title="Baseline deal", customer_id=customer.id,
                  stage=store.config.open_stages[0].key)
    finally:
        store.close()


def source_folder(args: argparse.Namespace) -> Path:
    folder = Path(args.data).expanduser() if args.data else ensure_demo(args.leads)
    if not (folder / "leads.json").exists():
        raise SystemExit(f"{folder} is not a Dealdeck data folder (no leads.json)")
    return folder


# --- report -----------------------------------------------------------------------------------
def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def scenario_rows(run: AppRun) -> list[str]:
    rows = []
    for name, ms in run.times.items():
        rows.append(f"| {run.label} | {run.leads:,} | {run.deals:,} | {run.start_s:.1f} | {run.capture_ms:.1f} "
                    f"| {name} | {len(ms)} | {pct(ms, 0.5):.1f} | {pct(ms, 0.9):.1f} | {max(ms):.1f} |")
    return rows


def difference_rows(data: AppRun, empty: AppRun) -> list[str]:
    rows = []
    for name, got in data.times.items():
        base = empty.times[name]
        diff = pct(got, 0.9) - pct(base, 0.9)
        verdict = "met" if diff <= TARGET_MS else "**missed**"
        rows.append(f"| {name} | {pct(got, 0.9):.1f} | {pct(base, 0.9):.1f} | **{diff:+.1f}** "
                    f"| {pct(got, 0.5) - pct(base, 0.5):+.1f} | ≤ {TARGET_MS:.0f}: {verdict} |")
    return rows


def report(data: AppRun, empty: AppRun, source: Path, loads: tuple[tuple[float, ...], ...]) -> str:
    load = ["{:.2f} / {:.2f} / {:.2f}".format(*one) for one in loads]
    lines = [f"# tmux key-to-screen bench, {date.today().isoformat()}", "",
             f"Data folder: {source} (a copy of it). Terminal {WIDTH}x{HEIGHT}, {os.cpu_count()} cores. "
             f"Load average (1 / 5 / 15 min) at start {load[0]}, at end {load[1]}.", "",
             "| app | leads | deals (team) | lead list on screen s | capture-pane ms | scenario | keys "
             "| p50 ms | p90 ms | max ms |",
             "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|",
             *scenario_rows(empty), *scenario_rows(data), "",
             "| scenario | data p90 ms | empty p90 ms | data − empty p90 ms | data − empty p50 ms | target ms |",
             "|---|---:|---:|---:|---:|---|",
             *difference_rows(data, empty), "",
             "Times run from `tmux send-keys` to the capture-pane that first shows the key's effect, so "
             "both apps' figures hold the send and the polling (capture-pane: the median above); the "
             "difference leaves what the data costs."]
    return "\n".join(lines) + "\n"


def results_path() -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stem = f"tmux-keys-{date.today().isoformat()}"
    path, k = RESULTS_DIR / f"{stem}.md", 2
    while path.exists():
        path, k = RESULTS_DIR / f"{stem}-{k}.md", k + 1
    return path


# --- main -------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Key to screen of the real app in tmux: data folder vs empty app.")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--data", help="a data folder (copied first; never written)")
    source.add_argument("--leads", type=int, default=50000,
                        help="app_bench's demo folder /tmp/dealdeck-bench-<N>, made once (default 50000)")
    parser.add_argument("--words", default="wang,smith,pacific",
                        help="words typed then backspaced into the lead filter, comma-separated (default: 32 keys)")
    parser.add_argument("--moves", type=int, default=24, help="board moves, `]` and `[` in turn (default 24)")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds to wait for the app to start, or to go idle (default 120)")
    parser.add_argument("--keep", action="store_true", help="keep the temp copies")
    parser.add_argument("--no-save", action="store_true", help="print only, do not write bench/results/")
    args = parser.parse_args(argv)
    if any(not word or any(ch.isspace() for ch in word) for word in args.words.split(",")):
        parser.error("--words: words without spaces (the filter strips them, so a space shows nothing)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is not installed")
    source = source_folder(args)
    load_start = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="dealdeck-tmux-keys-"))
    try:
        make_empty(work / "empty")
        empty = run_app(work / "empty", "empty", args)
        shutil.copytree(source, work / "data", symlinks=True)
        data = run_app(work / "data", "data", args)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    text = report(data, empty, source, (load_start, os.getloadavg()))
    print(text)
    if not args.no_save:
        path = results_path()
        path.write_text(text, encoding="utf-8")
        print(f"written to {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
