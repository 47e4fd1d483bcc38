"""The journal's format: committed transactions as JSON lines (see ``store.storage``).

A transaction is one line, or for a big one lines of ``JOURNAL_PART_PUTS`` documents:
every line but the last holds its documents under ``"part"``, the last one under
``"puts"``, and the last line commits them all. (A Dealdeck from before part lines
finds no ``puts`` in a part line and refuses the journal as damaged, rather than
apply half of a transaction: every process on a folder must be of this version.)
A torn last line, or part lines with no last line after them, were written by a
process killed mid-commit: they never committed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import orjson

from store.tablefile import SCHEMA_VERSION, json_default

#: documents per journal line of a big transaction (a few hundred kB a line)
JOURNAL_PART_PUTS = 1000


def journal_header(generation: int, clock: str = "") -> bytes:
    """A new journal's first line. It names the clock: a fold that wrote only the log
    (whose file has no header to hold it) must not lose the newest stamp."""
    header: dict[str, Any] = {"v": SCHEMA_VERSION, "generation": generation, "puts": []}
    if clock:
        header["clock"] = clock
    return orjson.dumps(header) + b"\n"


def parse_journal_line(line: bytes) -> dict[str, Any]:
    """A journal line as an entry with its ``puts``; a part line (its documents under
    ``part``, so that a Dealdeck from before part lines refuses the journal instead of
    applying half a transaction) comes back with ``part`` set to True."""
    entry = orjson.loads(line)
    if isinstance(entry, dict) and isinstance(entry.get("part"), list) and "puts" not in entry:
        entry["puts"], entry["part"] = entry["part"], True
    if not isinstance(entry, dict) or not isinstance(entry.get("puts"), list):
        raise ValueError("malformed journal entry")
    for put in entry["puts"]:
        if (not isinstance(put, list) or len(put) != 2 or not isinstance(put[0], str)
                or not isinstance(put[1], dict) or not isinstance(put[1].get("id"), str)):
            raise ValueError("malformed journal entry")
    return entry



def journal_lines(puts: Sequence[tuple[str, dict[str, Any]]], clock: str, *,
                  clock_reset: bool = False) -> Iterator[bytes]:
    """A transaction as journal lines: ``JOURNAL_PART_PUTS`` documents a line, every
    line but the last marked ``part`` (the last one commits the lot, and carries the
    clock). One line for a transaction that small, as journals always held.
    ``clock_reset``: the clock is set to ``clock`` rather than moved up to it (a clock
    repair sets back a clock that ran ahead)."""
    for start in range(0, max(len(puts), 1), JOURNAL_PART_PUTS):
        chunk = [[t, d] for t, d in puts[start:start + JOURNAL_PART_PUTS]]
        entry: dict[str, Any] = {"v": SCHEMA_VERSION}
        if start + JOURNAL_PART_PUTS < len(puts):
            entry["part"] = chunk
        else:
            entry["puts"] = chunk
            entry["clock"] = clock
            if clock_reset:
                entry["clock_reset"] = True
        yield orjson.dumps(entry, default=json_default) + b"\n"



class JournalDamaged(ValueError):
    """A complete journal line that is not a journal entry, at byte ``offset``."""

    def __init__(self, offset: int) -> None:
        super().__init__(f"damaged entry at byte {offset}")
        self.offset = offset



def committed_transactions(journal: Iterable[bytes], start: int = 0) -> Iterator[tuple[list[dict[str, Any]], int]]:
    """The committed transactions of a journal read from byte ``start``, each as its
    entries and the byte offset just past it. A torn last line, and the lines of a
    transaction whose last line never came (its writer was killed), are not
    committed and are not yielded; the last offset yielded is where they begin.
    Raise ``JournalDamaged`` at a complete line that cannot be read."""
    offset = start
    pending: list[dict[str, Any]] = []
    for raw in journal:
        if not raw.endswith(b"\n"):
            return  # torn: the writer died mid-append
        try:
            entry = parse_journal_line(raw)
        except ValueError:
            raise JournalDamaged(offset) from None
        offset += len(raw)
        pending.append(entry)
        if entry.get("part") is not True:
            yield pending, offset
            pending = []
