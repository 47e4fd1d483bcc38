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
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

#: below this a file is read here: starting workers costs more than it saves
PARALLEL_FROM_BYTES = 4 << 20
BATCH_ROWS = 1000
#: batches handed out and not yet taken back, per worker
IN_FLIGHT = 3
WORKERS_VARIABLE = "DEALDECK_IMPORT_WORKERS"
T = TypeVar("T")


def worker_count(size: int) -> int:
    """Worker processes for a file of ``size`` bytes: one per core for a big file
    (``$DEALDECK_IMPORT_WORKERS`` overrides; 0 or 1 reads it here)."""
    wanted = os.environ.get(WORKERS_VARIABLE, "")
    if wanted.isdigit():
        return int(wanted)
    if size < PARALLEL_FROM_BYTES:
        return 0
    return min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 4)


def prepare_in_parallel(preparer: Any, rows: Iterable[tuple[int, list[str]]], workers: int,
                        work: Callable[[list[tuple[int, list[str]]]], list[T]],
                        start: Callable[[Any], None]) -> Iterator[T]:
    """``work(batch)`` for every batch of ``rows``, in ``workers`` processes that
    ``start(preparer)`` set up; results in the order of ``rows``."""
    # spawn: the app calls this from a thread, and forking a threaded process is unsafe
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=start, initargs=(preparer,)) as pool:
        pending: deque[Any] = deque()
        for batch in _batches(rows):
            pending.append(pool.apply_async(work, (batch,)))
            if len(pending) >= workers * IN_FLIGHT:
                yield from pending.popleft().get()
        while pending:
            yield from pending.popleft().get()


def _batches(rows: Iterable[tuple[int, list[str]]]) -> Iterator[list[tuple[int, list[str]]]]:
    batch: list[tuple[int, list[str]]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch
