"""Reading and validating a big file's rows in worker processes.

Most of an import's time goes into reading each row and validating it through
the models, which depends on the row alone, so other processes can do it. The
main process cuts the file into blocks of whole records (``CsvFile.batches``) and
hands them to the workers undecoded; they read, validate and send back each row
ready to store, and the main process takes the results in the file's order to write
them (matching records, assignment and duplicate checks stay in one place, in order,
so the result is the same as without workers). At most a few batches are out at
once: memory stays that of a few batches.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

#: below this a file is read here: starting workers costs more than it saves
PARALLEL_FROM_BYTES = 4 << 20
#: rows a batch holds when this process reads them (a worker reads a block of bytes)
BATCH_ROWS = 1000
#: batches handed out and not yet taken back, per worker
IN_FLIGHT = 3
WORKERS_VARIABLE = "DEALDECK_IMPORT_WORKERS"
B = TypeVar("B")
R = TypeVar("R")


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


def prepare_in_parallel(preparer: Any, batches: Iterable[B], workers: int, work: Callable[[B], R],
                        start: Callable[[Any], None]) -> Iterator[tuple[B, R]]:
    """``work(batch)`` for every batch, in ``workers`` processes that ``start(preparer)``
    set up: each batch with its result, in the order of ``batches``. Workers that cannot
    start (a script run without a ``__main__`` guard) are not retried: the batches are
    prepared here instead. Closing the iterator early stops the workers."""
    method = _start_method()
    context = multiprocessing.get_context(method)
    if method != "fork":
        _start_resource_tracker()
    pending: deque[tuple[Future[R], B]] = deque()
    batches = iter(batches)
    try:
        with ProcessPoolExecutor(workers, mp_context=context, initializer=start, initargs=(preparer,)) as pool:
            try:
                for batch in batches:
                    pending.append((pool.submit(work, batch), batch))
                    if len(pending) >= workers * IN_FLIGHT:
                        yield _oldest(pending)
                while pending:
                    yield _oldest(pending)
            except GeneratorExit:
                for future, _ in pending:
                    future.cancel()
                raise
    except (BrokenProcessPool, RuntimeError, OSError, ValueError):
        start(preparer)
        for _, batch in pending:  # taken back from the workers in order, then the rest
            yield batch, work(batch)
        for batch in batches:
            yield batch, work(batch)


def _start_method() -> str:
    """fork where this process has no other thread (the command line): a worker is then
    ready at once, where a spawned one first imports the models (0.4 s of a core). The app
    imports from a thread, and forking a threaded process is unsafe: it spawns."""
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return "fork"
    return "spawn"


def _start_resource_tracker() -> None:
    """Spawned workers need multiprocessing's resource tracker, whose start hands its
    process this one's ``sys.stderr`` descriptor. In the app, ``sys.stderr`` is Textual's
    capture, which has none (-1), and the start fails: start it on the null device."""
    from multiprocessing import resource_tracker

    with contextlib.suppress(AttributeError, OSError, ValueError):
        if sys.stderr.fileno() >= 0:
            return
    captured = sys.stderr
    with open(os.devnull, "w") as null:
        sys.stderr = null
        try:
            resource_tracker.ensure_running()
        finally:
            sys.stderr = captured


def _oldest(pending: deque[tuple[Future[R], B]]) -> tuple[B, R]:
    """The oldest batch and its result; it leaves ``pending`` only once that is in hand."""
    future, batch = pending[0]
    result = future.result()
    pending.popleft()
    return batch, result
