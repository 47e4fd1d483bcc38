"""Storage benchmark: Dealdeck's DurableStorage vs TinyDB's stock JSONStorage.

Run by hand (it is not a test), from the project root:

    python bench/store_bench.py [--sizes 1000,10000,50000] [--repeat 5] [--writes 50] [--demo]

For each size N it builds a fresh data folder under /tmp holding N realistic
leads (about 13 filled fields, stored as the store writes them: one base change
stamp per record, plus one per field changed later) and measures, in one run:

1. open: ``Store(folder)`` with an empty journal, versus reading + ``orjson.loads``
   of the same table files alone (the floor), as a ratio; timed in fresh
   processes (as when Dealdeck starts) and repeated inside this process; also
   the open with a journal just under its limit;
2. one durable single-record write, ``store.update(Lead, id, notes=...)``
   (median, p95, max); the separate cost of a compaction (journal fold:
   whole-file rewrite) and how many writes fit in the default journal limit;
   ``close()`` with a short journal (it no longer compacts); and a write in a
   second process right after this one appended, compacted once (the second
   process follows the compaction from journal.prev.jsonl) or compacted twice
   (the second process falls back to reloading the table files);
3. a text query, ``store.find(Lead, text=...)`` (first call and median);
4. the same open / write / query on TinyDB's stock ``JSONStorage`` with the same
   documents under integer doc ids, and the ratios ours/stock;
5. peak RSS (``resource.getrusage``) of a fresh process that opens the store,
   parses the files bare, or opens the stock TinyDB file;
6. with ``--demo`` only (about 15 s more): ``dealdeck demo --reps 10 --leads 50000``
   into a fresh temp folder, in a subprocess: wall time, folder size, peak RSS.

Figures are taken with a warm page cache: the files were just written and
caches cannot be dropped without root. The markdown tables are printed and
written to bench/results/store-<date>.md (gitignored). About 100 s on 2 cores.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import tinydb
from tinydb import TinyDB

from store import storage as storage_module
from store.database import Store
from store.journal import JOURNAL_PART_PUTS
from store.models import Lead
from store.storage import TABLE_GROUPS, group_file_name
from store.tablefile import read_table_file

try:  # the store's own matcher, so that both sides do the same work per document
    from store.database import _text_matcher as text_matcher
except ImportError:  # pragma: no cover - fallback if the private helper moves
    _FIELDS = ("name", "company", "title", "email", "phone", "notes", "industry", "role")

    def text_matcher(needle: str) -> Callable[[Mapping[str, Any]], bool]:
        def matches(doc: Mapping[str, Any]) -> bool:
            for name in _FIELDS:
                value = doc.get(name)
                if isinstance(value, str) and needle in value.casefold():
                    return True
            return any(needle in tag for tag in doc.get("tags") or ())
        return matches

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
OPEN_RATIO_TARGET = 1.5     # open within 1.5x of the bare orjson parse, at 50k
WRITE_TARGET_MS = 100.0     # one durable single-record write, at 50k
TARGET_SIZE = 50_000
QUERY_TERM = "okafor"       # one of the surnames below: about 1 lead in 60
STOCK_WRITE_BUDGET_S = 15.0  # stock TinyDB writes rewrite the whole file: cap their time
MIN_SAMPLES = 5

# --- realistic leads -------------------------------------------------------------------

FIRST = ("Ana", "Ben", "Chen", "Dara", "Elif", "Femi", "Grace", "Hugo", "Ines", "Jonas", "Kai",
         "Lena", "Marta", "Nikhil", "Olga", "Pavel", "Qi", "Rosa", "Sami", "Tomas", "Uma",
         "Viktor", "Wen", "Ximena", "Yusuf", "Zoe", "Amir", "Bianca", "Carlos", "Deepa",
         "Erik", "Fatima", "Goran", "Hana", "Ivan", "Julia", "Kenji", "Laila", "Mateo", "Nora")
LAST = ("Smith", "Garcia", "Muller", "Rossi", "Nowak", "Kowalski", "Silva", "Santos", "Kim",
        "Park", "Nguyen", "Tran", "Wang", "Li", "Zhang", "Chen", "Singh", "Patel", "Sharma",
        "Khan", "Ali", "Hassan", "Ivanov", "Petrov", "Novak", "Horvat", "Jensen", "Hansen",
        "Larsen", "Berg", "Lind", "Virtanen", "Korhonen", "Murphy", "Kelly", "Walsh", "Dubois",
        "Martin", "Bernard", "Lefebvre", "Moreau", "Fischer", "Weber", "Wagner", "Becker",
        "Schulz", "Hoffmann", "Costa", "Ferreira", "Pereira", "Okafor", "Mensah", "Abebe",
        "Haddad", "Yilmaz", "Demir", "Sato", "Suzuki", "Tanaka", "Watanabe")
COMPANY_A = ("North", "Blue", "Summit", "Iron", "Bright", "Delta", "Cedar", "Harbor", "Vertex",
             "Silver", "Pioneer", "Atlas", "Nova", "Granite", "Evergreen", "Apex", "Lumen")
COMPANY_B = ("Logistics", "Foods", "Systems", "Dental", "Builders", "Textiles", "Motors",
             "Labs", "Pharma", "Retail", "Energy", "Print", "Farms", "Analytics", "Clinics")
SUFFIX = ("Ltd", "Inc", "GmbH", "LLC", "Co", "")
TITLES = ("Purchasing Manager", "CEO", "Owner", "Operations Director", "Head of IT",
          "Office Manager", "Procurement Lead", "CFO", "Plant Manager", "Buyer")
SOURCES = ("trade show", "website", "referral", "cold call", "partner", "social media", "other")
REGIONS = ("North", "South", "East", "West", "Central", "Coast")
TAGS = ("vip", "hot", "follow-up", "budget-2025", "expo", "newsletter", "reseller", "smb",
        "enterprise", "renewal")
NOTES = ("Met at the spring expo; interested in the premium plan.",
         "Asked for a quote for 20 seats, call back after their board meeting.",
         "Currently with a competitor, contract ends in Q3.",
         "Wants a demo for the operations team.",
         "Referred by an existing customer; budget approved.",
         "")
OWNERS = ("me", "ana", "li", "omar")


def make_leads(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """N lead field dicts (about 13 filled fields each), deterministic."""
    rng = random.Random(seed)
    now = datetime(2025, 6, 1, tzinfo=UTC)
    leads = []
    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        company = f"{rng.choice(COMPANY_A)} {rng.choice(COMPANY_B)} {rng.choice(SUFFIX)}".strip()
        created = now - timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
        status = rng.choices(("new", "contacted", "qualified", "disqualified"), (5, 4, 2, 1))[0]
        score = rng.randrange(101)
        lead: dict[str, Any] = {
            "owner": rng.choice(OWNERS),
            "name": f"{first} {last}",
            "company": company,
            "title": rng.choice(TITLES),
            "phone": f"+{rng.randrange(1, 99)} {rng.randrange(100, 999)} {rng.randrange(1000000, 9999999)}",
            "email": f"{first}.{last}{i}@{company.split()[0]}-{company.split()[1]}.example".lower(),
            "source": rng.choice(SOURCES),
            "region": rng.choice(REGIONS),
            "grade": "ABCD"[min(3, (100 - score) // 25)],
            "score": score,
            "status": status,
            "tags": rng.sample(TAGS, rng.randrange(0, 4)),
            "notes": rng.choice(NOTES),
            "created_at": created,
            "updated_at": created + timedelta(days=rng.randrange(30)),
        }
        if status != "new":
            lead["last_contacted_at"] = created + timedelta(days=rng.randrange(1, 60))
            lead["next_follow_up"] = (created + timedelta(days=rng.randrange(60, 120))).date()
        if status == "disqualified":
            lead["disqualified_reason"] = "No budget this year"
        leads.append(lead)
    return leads


# --- timing helpers ------------------------------------------------------------------------


def ms(seconds: float) -> float:
    return seconds * 1000.0


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def p95(xs: list[float]) -> float:
    ordered = sorted(xs)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def settle() -> None:
    """Free what the previous sample left (outside the timed region)."""
    gc.collect()


def dir_size(folder: Path, pattern: str) -> int:
    return sum(p.stat().st_size for p in folder.glob(pattern) if p.is_file())


# --- results -------------------------------------------------------------------------------


@dataclass
class Probe:
    """One fresh process: time of the operation and its memory."""

    ms: float
    baseline_mb: float
    peak_mb: float


@dataclass
class SizeResult:
    n: int
    populate_s: float = 0.0
    table_mb: float = 0.0
    doc_bytes: float = 0.0
    stamp_share: float = 0.0
    stamps_per_doc: float = 0.0
    # fresh processes (what a user sees when Dealdeck starts)
    fresh: dict[str, list[Probe]] = field(default_factory=dict)
    # repeated inside this process (allocator warm)
    open_ms: list[float] = field(default_factory=list)
    bare_ms: list[float] = field(default_factory=list)
    bare_nogc_ms: list[float] = field(default_factory=list)
    write_ms: list[float] = field(default_factory=list)
    journal_line_bytes: float = 0.0
    compact_ms: list[float] = field(default_factory=list)
    query_first_ms: float = 0.0
    query_ms: list[float] = field(default_factory=list)
    query_hits: int = 0
    other_after_append_ms: list[float] = field(default_factory=list)
    other_after_compact_ms: list[float] = field(default_factory=list)
    other_after_two_compactions_ms: list[float] = field(default_factory=list)
    close_ms: float = 0.0
    close_journal_kb: float = 0.0
    full_journal_mb: float = 0.0
    stock_file_mb: float = 0.0
    stock_write_ms: list[float] = field(default_factory=list)
    stock_query_ms: list[float] = field(default_factory=list)
    stock_query_hits: int = 0

    def fresh_ms(self, kind: str) -> float:
        return median([p.ms for p in self.fresh[kind]])

    def fresh_peak(self, kind: str) -> float:
        return median([p.peak_mb for p in self.fresh[kind]])


# --- fresh-process probes ---------------------------------------------------------------

PROBE = textwrap.dedent("""
    import gc, json, resource, sys, time
    from pathlib import Path
    import orjson
    from store.database import Store
    from tinydb import TinyDB
    kind, target = sys.argv[1], sys.argv[2]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    if kind in ("ours", "ours-journal"):
        opened = Store(target)          # not closed: close() folds a journal past half its limit
        n = len(opened.storage.tables["leads"])
    elif kind in ("bare", "bare-nogc"):
        if kind == "bare-nogc":
            gc.disable()                # as Store does while it parses
        n = 0
        for path in sorted(Path(target).glob("*.json")):
            if path.name not in ("replica.json",):
                with path.open("rb") as lines:  # a header, then lines of records
                    parsed = [orjson.loads(line) for line in lines]
                n += sum(len(batch[1]) for batch in parsed[1:] if batch[0] == "leads")
    else:
        db = TinyDB(target)
        n = len(db.table("leads"))       # TinyDB parses lazily: force it
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"ms": elapsed * 1000, "before_kb": before, "after_kb": after, "n": n}))
""")


def probe(kind: str, target: Path) -> Probe:
    """Run one operation in a fresh process.

    Linux carries the spawning process's RSS high-water mark into ru_maxrss
    across exec, and this benchmark process is large by now; starting the probe
    from a forked /bin/sh (small) makes ru_maxrss the probe's own.
    """
    command = ["/bin/sh", "-c", '"$@"; true', "sh", sys.executable, "-c", PROBE, kind, str(target)]
    out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=BENCH_DIR.parent)
    data = json.loads(out.stdout)
    return Probe(data["ms"], data["before_kb"] / 1024, data["after_kb"] / 1024)


def bench_fresh(targets: dict[str, Path], res: SizeResult, repeat: int) -> None:
    """Interleave the kinds so that machine noise hits them alike."""
    for _ in range(repeat):
        for kind, target in targets.items():
            res.fresh.setdefault(kind, []).append(probe(kind, target))


# --- our store -----------------------------------------------------------------------------


def populate_ours(folder: Path, leads: list[dict[str, Any]]) -> float:
    """All leads in one transaction (a bulk commit is written as a compaction)."""
    start = time.perf_counter()
    store = Store(folder)
    try:
        with store.writing() as w:
            for data in leads:
                w.insert(Lead.model_validate(data))
    finally:
        store.close()
    return time.perf_counter() - start


def bare_parse(folder: Path) -> None:
    for group in TABLE_GROUPS:
        path = folder / group_file_name(group)
        if path.exists():
            with path.open("rb") as lines:
                parsed = [orjson.loads(line) for line in lines]
            del parsed


def bench_open_in_process(folder: Path, res: SizeResult, repeat: int) -> None:
    """Open repeatedly in this process, interleaved with the bare parse (one warm-up)."""
    for i in range(repeat + 1):
        settle()
        dt, store = timed(lambda: Store(folder))
        store.close()
        del store
        settle()
        bt, _ = timed(lambda: bare_parse(folder))
        settle()
        gc.disable()
        try:
            nt, _ = timed(lambda: bare_parse(folder))
        finally:
            gc.enable()
        if i:
            res.open_ms.append(ms(dt))
            res.bare_ms.append(ms(bt))
            res.bare_nogc_ms.append(ms(nt))


def bench_writes_and_query(folder: Path, res: SizeResult, writes: int, repeat: int) -> None:
    rng = random.Random(11)
    store = Store(folder)
    try:
        ids = list(store.storage.tables["leads"])
        # one untimed write: creates the journal file (and fsyncs the folder) once
        store.update(Lead, ids[0], notes="warm-up")
        journal = store.storage.journal_path
        before = journal.stat().st_size
        for i, lead_id in enumerate(rng.sample(ids[1:], writes)):
            dt, _ = timed(lambda lead_id=lead_id, i=i: store.update(
                Lead, lead_id, notes=f"Called back, wants pricing for {i + 2} seats."))
            res.write_ms.append(ms(dt))
        res.journal_line_bytes = (journal.stat().st_size - before) / writes

        # the occasional compaction: fold the journal into the table files
        for i in range(3):
            store.update(Lead, rng.choice(ids), notes=f"Before compaction {i}.")
            settle()
            dt, _ = timed(store.storage.compact)
            res.compact_ms.append(ms(dt))

        # text query: the first call builds models for the hits, later calls reuse them
        settle()
        dt, hits = timed(lambda: store.find(Lead, text=QUERY_TERM))
        res.query_first_ms, res.query_hits = ms(dt), len(hits)
        for _ in range(repeat):
            dt, _ = timed(lambda: store.find(Lead, text=QUERY_TERM))
            res.query_ms.append(ms(dt))

        bench_other_process(store, res)
        # a clean exit with a short journal: close() leaves it for the next open
        res.close_journal_kb = store.storage.journal_path.stat().st_size / 1e3
        settle()
        dt, _ = timed(store.close)
        res.close_ms = ms(dt)
    finally:
        store.close()


OTHER_PROCESS = textwrap.dedent("""
    import sys, time
    from store.database import Store
    from store.models import Lead
    store = Store(sys.argv[1])
    ids = list(store.storage.tables["leads"])
    print("ready", flush=True)
    for i, line in enumerate(sys.stdin):
        start = time.perf_counter()
        store.update(Lead, ids[-1 - i], notes=f"Second session note {i}.")
        print((time.perf_counter() - start) * 1000, flush=True)
    store.close()
""")


def bench_other_process(store: Store, res: SizeResult, rounds: int = 3) -> None:
    """Two sessions on one folder: time a write in a second process right after
    this one appended to the journal (the second process replays the new line),
    right after this one compacted (it replays the rest of journal.prev.jsonl and
    the new journal), and right after this one compacted twice (it cannot follow
    two generations, so it reloads the table files under the lock)."""
    child = subprocess.Popen([sys.executable, "-c", OTHER_PROCESS, str(store.folder)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                             cwd=BENCH_DIR.parent)
    assert child.stdin is not None and child.stdout is not None
    try:
        if child.stdout.readline().strip() != "ready":
            raise RuntimeError("second process did not start")
        ids = list(store.storage.tables["leads"])
        cases = (res.other_after_append_ms, res.other_after_compact_ms,
                 res.other_after_two_compactions_ms)
        for i in range(len(cases) * rounds):
            compactions = i % len(cases)
            store.update(Lead, ids[i], notes=f"First session note {i}.")
            for k in range(compactions):
                if k:
                    store.update(Lead, ids[i], notes=f"First session note {i}, again.")
                store.storage.compact_if_due(0)  # the idle-time path: catch up, then compact
            settle()
            child.stdin.write("go\n")
            child.stdin.flush()
            cases[compactions].append(float(child.stdout.readline()))
    finally:
        child.stdin.close()
        child.wait(timeout=120)
    store.refresh()


def make_full_journal(folder: Path, copy: Path) -> float:
    """A copy of ``folder`` whose journal is nearly at its limit (MB returned).

    A clean close leaves a journal under half the limit in place, so an open
    replays up to ~2 MiB as a matter of course; a journal near the full limit
    (a crash, or another Dealdeck process still running) is the worst case.
    """
    store = Store(folder)
    try:
        ids = list(store.storage.tables["leads"])
        limit = store.storage.journal_limit
        per_txn = min(500, max(1, len(ids) // 4))
        journal = store.storage.journal_path
        k = 0
        while True:
            before = journal.stat().st_size if journal.exists() else 0
            with store.writing() as w:
                for lead_id in ids[k:k + per_txn]:
                    w.update(Lead, lead_id, {"notes": f"Bulk touched for the journal bench ({k})."})
            k = (k + per_txn) % max(1, len(ids) - per_txn)
            size = journal.stat().st_size
            line = size - before  # negative if this transaction compacted: go on
            if line > 0 and size + 1.05 * line > limit:  # one more would compact
                break
        # copy while the store is open: close() folds a journal past half its limit
        shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("backups", ".lock"))
    finally:
        store.close()
    return (copy / storage_module.JOURNAL_NAME).stat().st_size / 1e6


# --- stock TinyDB --------------------------------------------------------------------------


class TextQuery:
    """A test-based text match over the same fields as Store.find(text=...)."""

    def __init__(self, needle: str) -> None:
        self._match = text_matcher(needle.casefold())

    def __call__(self, doc: Mapping[str, Any]) -> bool:
        return self._match(doc)

    def is_cacheable(self) -> bool:
        return False


def populate_stock(path: Path, docs: list[dict[str, Any]]) -> None:
    db = TinyDB(path)  # stock JSONStorage
    try:
        db.table("leads").insert_multiple(docs)  # integer doc ids 1..N
    finally:
        db.close()


def bench_stock(path: Path, res: SizeResult, writes: int, repeat: int) -> None:
    rng = random.Random(11)
    db = TinyDB(path)
    try:
        table = db.table("leads", cache_size=0)
        n = len(table)
        start = time.perf_counter()
        for i in range(writes):
            k = rng.randrange(1, n + 1)
            dt, _ = timed(lambda k=k, i=i: table.update(
                {"notes": f"Called back, wants pricing for {i + 2} seats."}, doc_ids=[k]))
            res.stock_write_ms.append(ms(dt))
            if len(res.stock_write_ms) >= MIN_SAMPLES and time.perf_counter() - start > STOCK_WRITE_BUDGET_S:
                break
        query = TextQuery(QUERY_TERM)
        for _ in range(max(MIN_SAMPLES, min(repeat, 5))):
            settle()
            dt, hits = timed(lambda: table.search(query))
            res.stock_query_ms.append(ms(dt))
            res.stock_query_hits = len(hits)
    finally:
        db.close()


# --- dealdeck demo ---------------------------------------------------------------------------

DEMO_REPS, DEMO_LEADS = 10, 50_000


@dataclass
class DemoResult:
    wall_s: float
    files_mb: dict[str, float]
    total_mb: float
    peak_rss_mb: float | None
    summary: str


def unique_size(folder: Path) -> int:
    """Bytes in ``folder``, counting hard-linked files (backups) once."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for path in folder.rglob("*"):
        st = path.lstat()
        if path.is_file() and (st.st_dev, st.st_ino) not in seen:
            seen.add((st.st_dev, st.st_ino))
            total += st.st_size
    return total


def bench_demo(keep: bool) -> DemoResult:
    """``dealdeck demo --reps 10 --leads 50000`` into a fresh folder, in a subprocess.

    Started through a small /bin/sh (see ``probe``) and reaped with ``os.wait4``.
    The shell's own ru_maxrss may carry this process's high-water mark, so the
    peak is reported only when it is above it (run first, while this is small).
    """
    own_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    work = Path(tempfile.mkdtemp(prefix="ddbench-demo-", dir="/tmp"))
    data = work / "data"
    command = [sys.executable, "-m", "tui.cli", "demo", "--reps", str(DEMO_REPS),
               "--leads", str(DEMO_LEADS), "--data", str(data)]
    log(f"[demo] {' '.join(command[1:])}")
    try:
        with tempfile.TemporaryFile() as out:
            start = time.perf_counter()
            child = subprocess.Popen(["/bin/sh", "-c", '"$@"', "sh", *command],
                                     stdout=out, stderr=subprocess.STDOUT, cwd=BENCH_DIR.parent)
            _, status, usage = os.wait4(child.pid, 0)
            wall = time.perf_counter() - start
            child.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            text = out.read().decode(errors="replace").strip()
        if child.returncode != 0:
            raise RuntimeError(f"dealdeck demo failed ({child.returncode}): {text}")
        files = {p.name: p.stat().st_size / 1e6 for p in sorted(data.iterdir()) if p.is_file()}
        peak = usage.ru_maxrss / 1024
        summary = text.splitlines()[-1].split(f" into {data}")[0] if text else ""
        return DemoResult(wall, files, unique_size(data) / 1e6, peak if peak > own_peak_mb else None, summary)
    finally:
        if keep:
            log(f"[demo] kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


# --- one size ------------------------------------------------------------------------------


def run_size(n: int, repeat: int, writes: int, keep: bool) -> SizeResult:
    res = SizeResult(n)
    work = Path(tempfile.mkdtemp(prefix=f"ddbench-{n}-", dir="/tmp"))
    try:
        log(f"[{n:,}] generating and inserting leads")
        ours = work / "ours"
        leads = make_leads(n)
        res.populate_s = populate_ours(ours, leads)
        del leads
        settle()
        res.table_mb = dir_size(ours, "*.json") / 1e6
        leads_file = read_table_file(ours / "leads.json")["tables"]["leads"]
        res.doc_bytes = (ours / "leads.json").stat().st_size / n
        res.stamp_share = sum(len(orjson.dumps(d["_s"])) for d in leads_file.values()) / (res.doc_bytes * n)
        res.stamps_per_doc = sum(len(d["_s"]) for d in leads_file.values()) / n
        # the same documents (with their stamps), under integer doc ids
        stock = work / "stock" / "db.json"
        stock.parent.mkdir()
        populate_stock(stock, list(leads_file.values()))
        del leads_file
        settle()
        res.stock_file_mb = stock.stat().st_size / 1e6

        log(f"[{n:,}] journal near its limit")
        full = work / "full-journal"
        res.full_journal_mb = make_full_journal(ours, full)
        log(f"[{n:,}] open in fresh processes")
        bench_fresh({"ours": ours, "bare": ours, "bare-nogc": ours, "stock": stock, "ours-journal": full},
                    res, repeat)
        log(f"[{n:,}] open in this process")
        bench_open_in_process(ours, res, repeat)
        log(f"[{n:,}] writes, compaction, query, second process")
        bench_writes_and_query(ours, res, writes, repeat)
        log(f"[{n:,}] stock TinyDB writes, query")
        bench_stock(stock, res, writes, repeat)
    finally:
        if keep:
            log(f"[{n:,}] kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return res


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- report --------------------------------------------------------------------------------


def fmt(x: float, digits: int = 1) -> str:
    return f"{x:,.{digits}f}"


def writes_per_compaction(r: SizeResult) -> float:
    return storage_module.JOURNAL_LIMIT_BYTES / r.journal_line_bytes


def report(results: list[SizeResult], args: argparse.Namespace, elapsed: float,
           demo: DemoResult | None = None) -> str:
    cpu = "?"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    out = [
        f"# Store benchmark, {datetime.now().strftime('%Y-%m-%d %H:%M')}",
        "",
        f"- machine: {os.cpu_count()} cores ({cpu}), {platform.platform()}",
        f"- Python {platform.python_version()}, orjson {orjson.__version__}, tinydb {tinydb.__version__}",
        f"- temp folders under /tmp; warm page cache (OS caches not dropped); repeat={args.repeat}, "
        f"writes={args.writes}; whole run {elapsed:.0f} s",
        f"- journal limit {storage_module.JOURNAL_LIMIT_BYTES / 2**20:.0f} MiB (default), "
        f"{JOURNAL_PART_PUTS} documents a journal line; text query {QUERY_TERM!r}",
        "- all times in ms, medians unless marked",
        "",
        "## Open",
        "",
        "Fresh process = the operation timed in a new Python process (imports untimed), as when "
        "Dealdeck starts; bare = read the table files + `orjson.loads`, nothing else, with Python's "
        "cyclic GC on (as a plain script) and off (as `Store` parses: the true floor). In-process = "
        "repeated in the benchmark process (allocator warm). Full journal = a journal just under "
        "the limit, replayed on open (after a crash, or while another process runs).",
        "",
        "| leads | table files MB | B/lead (stamps %, stamps/lead) | open, fresh | bare, fresh "
        "| bare, fresh, GC off | open/bare fresh | open/bare-GC-off fresh "
        "| open, in-proc | bare, in-proc | bare, in-proc, GC off | open/bare in-proc "
        "| open/bare-GC-off in-proc | open, fresh, full journal (MB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        out.append(
            f"| {r.n:,} | {fmt(r.table_mb)} | {r.doc_bytes:,.0f} ({r.stamp_share:.0%}, "
            f"{r.stamps_per_doc:.1f}) "
            f"| {fmt(r.fresh_ms('ours'))} | {fmt(r.fresh_ms('bare'))} | {fmt(r.fresh_ms('bare-nogc'))} "
            f"| {r.fresh_ms('ours') / r.fresh_ms('bare'):.2f}x "
            f"| {r.fresh_ms('ours') / r.fresh_ms('bare-nogc'):.2f}x "
            f"| {fmt(median(r.open_ms))} | {fmt(median(r.bare_ms))} | {fmt(median(r.bare_nogc_ms))} "
            f"| {median(r.open_ms) / median(r.bare_ms):.2f}x "
            f"| {median(r.open_ms) / median(r.bare_nogc_ms):.2f}x "
            f"| {fmt(r.fresh_ms('ours-journal'))} ({r.full_journal_mb:.1f}) |")
    out += [
        "",
        "## Single durable write, compaction, text query",
        "",
        "Write = `store.update(Lead, id, notes=...)` on a random lead (lock, catch-up, validate, "
        "stamp, one fsync'd journal line). Compaction = `storage.compact()` (whole-file rewrite "
        "of the dirty table file, then the journal kept as journal.prev.jsonl and a new one begun "
        "with a generation header, each temp + fsync + replace); it runs on the write that takes "
        "the journal past its limit, and at close only when the journal is past half the limit. "
        "Close = `store.close()` with the short journal left at the end of the run (KB). Query = "
        "`store.find(Lead, text=...)`; first call builds the hits' models, later calls reuse them.",
        "",
        "| leads | write median | write p95 | write max | journal B/write | writes per compaction "
        "| compaction | amortised ms/write | close (journal KB) | query, first | query | hits "
        "| populate s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        out.append(
            f"| {r.n:,} | {fmt(median(r.write_ms), 2)} | {fmt(p95(r.write_ms), 2)} "
            f"| {fmt(max(r.write_ms), 2)} | {r.journal_line_bytes:,.0f} | {writes_per_compaction(r):,.0f} "
            f"| {fmt(median(r.compact_ms))} | {median(r.compact_ms) / writes_per_compaction(r):.3f} "
            f"| {fmt(r.close_ms, 2)} ({r.close_journal_kb:.0f}) | {fmt(r.query_first_ms)} "
            f"| {fmt(median(r.query_ms))} | {r.query_hits} "
            f"| {r.populate_s:.1f} |")
    out += [
        "",
        "Two sessions on one folder (a second Dealdeck process, as with two SSH sessions): "
        "time of one write in the second process right after the first one appended to the "
        "journal (it replays the new line); right after the first one compacted, which happens "
        "when the journal passes its limit or a session closes with a journal past half the "
        "limit (it replays the rest of journal.prev.jsonl and the new journal); and right after "
        "two compactions it did not see (it cannot follow two generations: it reloads the table "
        "files, the fallback).",
        "",
        "| leads | 2nd process write after a journal append | after a compaction "
        "| after two compactions (reload) |",
        "|---:|---:|---:|---:|",
    ]
    for r in results:
        out.append(f"| {r.n:,} | {fmt(median(r.other_after_append_ms), 2)} "
                   f"| {fmt(median(r.other_after_compact_ms), 2)} "
                   f"| {fmt(median(r.other_after_two_compactions_ms))} |")
    out += [
        "",
        "## Versus TinyDB's stock JSONStorage (same documents, integer doc ids)",
        "",
        "Stock open = `TinyDB(path)` + first table read, in a fresh process. Stock write = "
        "`table.update({...}, doc_ids=[k])`: json.load of the whole file, json.dumps, write, "
        "fsync, truncate (in place: no lock, no atomic replace, no stamps); its sample count is "
        f"capped by a {STOCK_WRITE_BUDGET_S:.0f} s budget. Stock query = `table.search()` with a "
        "test-based match over the same fields; it re-reads the file on every call.",
        "",
        "| leads | stock file MB | open ours | open stock | ours/stock | write ours | write stock (n) "
        "| ours/stock | query ours | query stock | ours/stock |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        out.append(
            f"| {r.n:,} | {fmt(r.stock_file_mb)} | {fmt(r.fresh_ms('ours'))} | {fmt(r.fresh_ms('stock'))} "
            f"| {r.fresh_ms('ours') / r.fresh_ms('stock'):.2f} | {fmt(median(r.write_ms), 2)} "
            f"| {fmt(median(r.stock_write_ms))} ({len(r.stock_write_ms)}) "
            f"| {median(r.write_ms) / median(r.stock_write_ms):.4f} "
            f"| {fmt(median(r.query_ms))} | {fmt(median(r.stock_query_ms))} "
            f"| {median(r.query_ms) / median(r.stock_query_ms):.3f} |")
    out += [
        "",
        "## Memory: peak RSS of a fresh process (resource.getrusage ru_maxrss, MB)",
        "",
        "| leads | after imports | after Store(folder) | after bare read + orjson.loads "
        "| after stock TinyDB open |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        base = median([p.baseline_mb for p in r.fresh["ours"]])
        out.append(f"| {r.n:,} | {fmt(base)} | {fmt(r.fresh_peak('ours'))} | {fmt(r.fresh_peak('bare'))} "
                   f"| {fmt(r.fresh_peak('stock'))} |")
    out += ["", "## Targets", ""]
    for r in [r for r in results if r.n == TARGET_SIZE] or results[-1:]:
        fresh = r.fresh_ms("ours") / r.fresh_ms("bare")
        inproc = median(r.open_ms) / median(r.bare_ms)
        ok = fresh <= OPEN_RATIO_TARGET and inproc <= OPEN_RATIO_TARGET
        out.append(f"- open at {r.n:,}: {fresh:.2f}x the bare orjson parse in a fresh process, "
                   f"{inproc:.2f}x in-process (target <= {OPEN_RATIO_TARGET}x): "
                   f"{'MET' if ok else 'MISSED'} ({r.fresh_ms('ours'):.0f} ms); against the parse "
                   f"with GC off: {r.fresh_ms('ours') / r.fresh_ms('bare-nogc'):.2f}x fresh, "
                   f"{median(r.open_ms) / median(r.bare_nogc_ms):.2f}x in-process")
        worst = p95(r.write_ms)
        out.append(f"- single durable write at {r.n:,}: median {median(r.write_ms):.2f} ms, p95 "
                   f"{worst:.2f} ms (target < {WRITE_TARGET_MS:.0f} ms): "
                   f"{'MET' if worst < WRITE_TARGET_MS else 'MISSED'}; the one write in "
                   f"~{writes_per_compaction(r):,.0f} that compacts costs ~"
                   f"{median(r.compact_ms) + median(r.write_ms):.0f} ms"
                   f" ({'over' if median(r.compact_ms) >= WRITE_TARGET_MS else 'under'} the target)")
        other = max(r.other_after_compact_ms)
        out.append(f"- write in a second session right after the first compacted, at {r.n:,}: "
                   f"median {median(r.other_after_compact_ms):.2f} ms, max {other:.2f} ms: "
                   f"{'MET' if other < WRITE_TARGET_MS else 'MISSED'}; after two compactions it "
                   f"missed (reload): {median(r.other_after_two_compactions_ms):.0f} ms")
    if demo is not None:
        files = ", ".join(f"{name} {mb:.1f}" for name, mb in demo.files_mb.items() if mb >= 0.05)
        peak = f"{demo.peak_rss_mb:,.0f} MB" if demo.peak_rss_mb is not None else "not measured"
        out += [
            "",
            f"## `dealdeck demo --reps {DEMO_REPS} --leads {DEMO_LEADS}` into a fresh folder",
            "",
            f"- wall time {demo.wall_s:.1f} s (subprocess, imports included); peak RSS {peak}",
            f"- folder {demo.total_mb:.1f} MB ({files} MB)",
            f"- {demo.summary}",
        ]
    return "\n".join(out) + "\n"


def results_path() -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stem = f"store-{date.today().isoformat()}"
    path = RESULTS_DIR / f"{stem}.md"
    k = 2
    while path.exists():
        path = RESULTS_DIR / f"{stem}-{k}.md"
        k += 1
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Dealdeck storage vs TinyDB stock JSONStorage.")
    parser.add_argument("--sizes", default="1000,10000,50000",
                        help="comma-separated lead counts (default 1000,10000,50000)")
    parser.add_argument("--repeat", type=int, default=5,
                        help="samples for open (fresh and in-process) and query (default 5)")
    parser.add_argument("--writes", type=int, default=50, help="single-record writes timed (default 50)")
    parser.add_argument("--keep", action="store_true", help="keep the temp folders under /tmp")
    parser.add_argument("--no-save", action="store_true", help="print only, do not write bench/results/")
    parser.add_argument("--demo", action="store_true",
                        help=f"also time `dealdeck demo --reps {DEMO_REPS} --leads {DEMO_LEADS}` "
                             "into a fresh temp folder (about 15 s more)")
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    args.repeat, args.writes = max(1, args.repeat), max(MIN_SAMPLES, args.writes)
    start = time.perf_counter()
    demo = bench_demo(args.keep) if args.demo else None  # first: this process is small yet
    results = [run_size(n, args.repeat, args.writes, args.keep) for n in sizes]
    text = report(results, args, time.perf_counter() - start, demo)
    print(text)
    if not args.no_save:
        path = results_path()
        path.write_text(text, encoding="utf-8")
        log(f"written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
