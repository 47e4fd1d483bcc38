"""CSV import at 10k / 100k / 1M rows: rows a second, and peak memory against opening
the database the import made (issue 15: at most 1.5x; at least 20,000 rows/s at 100k).

    python bench/import_bench.py [--rows 10000,100000,1000000] [--workers N] [--keep DIR]

Each import and each open runs as its own process (``dealdeck import csv`` and a
``Store`` open, as the command line does), timed by wall clock; peak memory is the
child's maximum resident set (``getrusage``). The file is a Zoho-style leads export
with foreign values, owners who are not reps and extra columns, generated with a
fixed seed. Run by hand; the figures go in bench/README.md.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADER = ["Record Id", "First Name", "Last Name", "Company", "Email", "Phone", "Lead Status", "Lead Source",
          "Rating", "Lead Owner", "Industry", "City", "Description"]
STATUSES = ["Not Contacted", "Attempted to Contact", "Contacted", "Junk Lead", "Pre Qualified", "Nurturing"]
SOURCES = ["Web", "Trade Show", "Cold Call", "Partner", "Employee Referral", "Seminar"]
CONFIG = "me: alice\nreps:\n  - {id: alice, name: Alice Smith, email: alice@example.com}\n  - {id: bob, name: Bob}\n"
OPEN = ("import sys; from store.database import Store; from store.models import Lead; "
        "s = Store(sys.argv[1], lean=False); assert s.count(Lead) == int(sys.argv[2])")


def write_file(path: Path, rows: int) -> None:
    rng = random.Random(15)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for i in range(rows):
            writer.writerow([f"zcrm_{i:09d}", f"First{i}", f"Last{i % 997}", f"Company {i % 5000} Ltd",
                             f"p{i}@example{i % 300}.com", f"+1 555 {i % 10_000_000:07d}", rng.choice(STATUSES),
                             rng.choice(SOURCES), rng.choice(["Hot", "Warm", "Cold", ""]),
                             rng.choice(["David Love", "Alice Smith", "bob"]),
                             rng.choice(["Education", "Retail", "Banking"]), f"City {i % 200}",
                             "Met at the fair; wants a demo"])


def run(command: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and this child's own peak RSS in MB (``wait4`` reports it per child)."""
    start = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"{' '.join(command)} failed: {child.stderr.read().decode()[-500:] if child.stderr else ''}")
    return elapsed, usage.ru_maxrss // 1024


def bench(rows: int, work: Path, env: dict[str, str]) -> str:
    source = work / f"leads-{rows}.csv"
    if not source.exists():
        write_file(source, rows)
    folder = work / f"db-{rows}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    (folder / "config.yaml").write_text(CONFIG, encoding="utf-8")
    seconds, import_mb = run([sys.executable, "-m", "tui.cli", "--data", str(folder), "import", "csv",
                              str(source), "--as", "leads"], env)
    open_seconds, open_mb = run([sys.executable, "-c", OPEN, str(folder), str(rows)], env)
    return (f"{rows:>9,} rows  {source.stat().st_size / 2**20:7.1f} MB  import {seconds:7.2f} s "
            f"({rows / seconds:8,.0f} rows/s)  peak {import_mb:6,} MB  open {open_seconds:6.2f} s "
            f"peak {open_mb:6,} MB  memory import/open {import_mb / open_mb:4.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="10000,100000,1000000")
    parser.add_argument("--workers", help="DEALDECK_IMPORT_WORKERS for the import (default: its own choice)")
    parser.add_argument("--keep", type=Path, help="keep files and databases here (default: a temporary folder)")
    args = parser.parse_args()
    env = dict(os.environ)
    if args.workers is not None:
        env["DEALDECK_IMPORT_WORKERS"] = args.workers
    work = args.keep or Path(tempfile.mkdtemp(prefix="dealdeck-import-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        for rows in sorted(int(n) for n in args.rows.split(",")):
            print(bench(rows, work, env), flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
