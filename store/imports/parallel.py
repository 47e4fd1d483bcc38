"""Reading and validating a big file's rows in worker processes.

Most of an import's time goes into reading each row and validating it through
the models, which depends on the row alone, so other processes can do it: the
main process parses the CSV (quoted cells may span lines, so it alone knows where
a row ends), hands batches of rows to the workers, and takes their results back
in the file's order to write them (matching records, assignment and duplicate
checks stay in one place, in order, so the result is the same as without workers).
At most a few batches are out at once: memory stays that of a few batches.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

#: below this a file is read here: starting workers costs more than it saves
PARALLEL_FROM_BYTES = 4 << 20
BATCH_ROWS = 1000
#: batches handed out and not yet taken back, per worker
IN_FLIGHT = 3
WORKERS_VARIABLE = "DEALDECK_IMPORT_WORKERS"
T = TypeVar("T")


#: set by the program's entry point (``tui.cli.main``): a spawned worker imports the main
#: module again, which runs a script that has no ``if __name__ == "__main__"`` guard
_main_is_guarded = False


def allow_workers() -> None:
    """The running program's main module is safe to import again in a worker process."""
    global _main_is_guarded
    _main_is_guarded = True


def worker_count(size: int) -> int:
    """Worker processes for a file of ``size`` bytes: one per core for a big file, when the
    program allows them (``$DEALDECK_IMPORT_WORKERS`` overrides; 0 or 1 reads it here)."""
    wanted = os.environ.get(WORKERS_VARIABLE, "")
    if wanted.isdigit():
        return int(wanted)
    if size < PARALLEL_FROM_BYTES or not _main_is_guarded:
        return 0
    return min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 4)


def prepare_in_parallel(preparer: Any, rows: Iterable[tuple[int, list[str]]], workers: int,
                        work: Callable[[list[tuple[int, list[str]]]], list[T]],
                        start: Callable[[Any], None]) -> Iterator[tuple[T, tuple[int, list[str]]]]:
    """``work(batch)`` for every batch of ``rows``, in ``workers`` processes that
    ``start(preparer)`` set up: each result with its row, in the order of ``rows``.
    Workers that cannot start (a script run without a ``__main__`` guard) are not
    retried: the rows are prepared here instead."""
    context = multiprocessing.get_context(_start_method())
    pending: deque[tuple[Future[list[T]], list[tuple[int, list[str]]]]] = deque()
    batches = _batches(rows)
    try:
        with ProcessPoolExecutor(workers, mp_context=context, initializer=start, initargs=(preparer,)) as pool:
            for batch in batches:
                pending.append((pool.submit(work, batch), batch))
                if len(pending) >= workers * IN_FLIGHT:
                    yield from _oldest(pending)
            while pending:
                yield from _oldest(pending)
    except (BrokenProcessPool, RuntimeError):
        for _, batch in pending:  # taken back from the workers in order, then the rest
            yield from _here(preparer, batch, start, work)
        for batch in batches:
            yield from _here(preparer, batch, start, work)


def _start_method() -> str:
    """fork where this process has no other thread (the command line): a worker is then
    ready at once, where a spawned one first imports the models (0.4 s of a core). The app
    imports from a thread, and forking a threaded process is unsafe: it spawns."""
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return "fork"
    return "spawn"


def _oldest(pending: deque[tuple[Future[list[T]], list[tuple[int, list[str]]]]],
            ) -> Iterator[tuple[T, tuple[int, list[str]]]]:
    """The oldest batch's results; it leaves ``pending`` only once they are in hand."""
    future, batch = pending[0]
    results = future.result()
    pending.popleft()
    yield from zip(results, batch, strict=True)


def _here(preparer: Any, batch: list[tuple[int, list[str]]], start: Callable[[Any], None],
          work: Callable[[list[tuple[int, list[str]]]], list[T]]) -> Iterator[tuple[T, tuple[int, list[str]]]]:
    start(preparer)
    yield from zip(work(batch), batch, strict=True)


def _batches(rows: Iterable[tuple[int, list[str]]]) -> Iterator[list[tuple[int, list[str]]]]:
    batch: list[tuple[int, list[str]]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch
